"""What every channel does with a message before and after the dialogue (issue 10).

``Intake.handle`` is the one way a channel hands a person's message to Rasa:

1. at most ``READ_LIMIT`` characters are read, and all of them are triaged (in a worker thread
   when the message is longer than the channel's limit, so the server keeps answering others);
2. a sender over the rate limit gets a polite reply, with the emergency or urgent instruction
   when the triage found one, and no turn of the dialogue;
3. "forget me" asks for a confirmation, and YES deletes the conversation;
4. the dialogue gets the first ``CHANNEL_LIMITS[channel]`` characters, Rasa's "/intent" syntax
   only as a bare intent name, and metadata built here (the locale, and the triage of the whole
   text, which the RedFlagDetector merges: the caller's own metadata never passes);
5. an over-long message, or one in another language, gets a short notice after the turn;
6. any exception ends in the apology that names the emergency number (design.md rule 9).

Logs carry the channel, the sanitised conversation id and the triage level, never the text; every
turn ends with one structured line (``components.observability``: outcome, latency, level, rule ids).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import sys
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, Awaitable, Callable, Dict, Iterator, List

from rasa.core.channels.channel import OutputChannel, UserMessage

from components import helpline
from components.observability import TurnRecord
from components.shared_state import forget_requests
from crs import intake
from crs.content import default_library
from crs.intake import FULL_TRIAGE, merge_triage, triage_text
from crs.languages import default_languages
from crs.redaction import install_log_redaction, safe_id
from crs.replies import payload, triage_reply
from crs.triage import default_engine

logger = logging.getLogger(__name__)
install_log_redaction()

__all__ = ["FULL_TRIAGE", "Intake", "merge_triage", "send", "texts_of", "triage_text"]

# Long messages are triaged one at a time in a process of their own (it loads only the Rasa-free
# core): the server's event loop, which answers everyone else, neither waits for them nor shares
# the interpreter lock with them. A flood of long messages queues there, while short messages
# (every emergency typed in a chat) go on being answered. A thread is the fallback.
_pool: Executor | None = None


def long_triage_pool() -> Executor:
    global _pool
    if _pool is None:
        try:
            _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            with _lean_main():
                _pool.submit(triage_text, "warm up")  # load the rules now, not on the first long message
        except (OSError, RuntimeError, ValueError) as error:
            logger.warning("long-message triage in a thread (no worker process: %s)", type(error).__name__)
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="long-triage")
    return _pool


@contextlib.contextmanager
def _lean_main() -> Iterator[None]:
    """A spawned worker runs the parent's main script first: for `rasa run` that imports all of
    Rasa and TensorFlow (584 MB resident for a process that needs only crs/, issue 13). While the
    worker starts, the main module shows no file, so the worker imports only what it unpickles."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None or getattr(getattr(main, "__spec__", None), "name", None):
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


async def send(output: OutputChannel, recipient: str, text: str | None = None, custom: Dict | None = None) -> None:
    if text:
        await output.send_text_message(recipient, text)
    if custom is not None:
        await output.send_custom_json(recipient, custom)


class _Counting(OutputChannel):
    """The channel's output, counting what the turn sent (a silent turn gets the apology)."""

    def __init__(self, inner: OutputChannel, record: TurnRecord | None = None) -> None:
        self.inner = inner
        self.sent = 0
        self.record = record

    def name(self) -> str:  # type: ignore[override]
        return self.inner.name()

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        self.sent += 1
        if self.record is not None:
            self.record.saw(message.get("custom"))
        await self.inner.send_response(recipient_id, message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        self.sent += 1
        if self.record is not None:
            self.record.saw(None)
        await self.inner.send_text_message(recipient_id, text, **kwargs)

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        self.sent += 1
        if self.record is not None:
            self.record.saw(json_message)
        await self.inner.send_custom_json(recipient_id, json_message, **kwargs)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.inner, attribute)


class _Outcome(Exception):
    """How a turn ended other than with a dialogue turn (for the turn log)."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


class Intake:
    """The checks around a turn, for one channel (see the module docstring)."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.limit = intake.CHANNEL_LIMITS[channel]
        self.library = default_library()
        self.rate = intake.RateLimiter()
        self.forget = forget_requests()  # in Redis in the cluster (REDIS_HOST), else here
        default_engine()
        default_languages()
        long_triage_pool()

    async def triage(self, text: str) -> Dict[str, Any]:
        if len(text) <= self.limit:
            return triage_text(text)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(long_triage_pool(), triage_text, text)
        except Exception as error:  # noqa: BLE001 - a broken worker must not stop triage
            logger.error("long-message triage worker failed (%s); triaging here", type(error).__name__)
            return triage_text(text)

    async def handle(
        self,
        conversation: str,
        text: str,
        locale_id: str | None,
        output: OutputChannel,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        on_forget: Callable[[str], Any] | None = None,
        metadata: Dict[str, Any] | None = None,
        payload_text: str | None = None,
    ) -> None:
        """One message of a person. ``payload_text``: what the channel itself made of it (the
        payload of a numbered choice in SMS), given to the dialogue instead of the words."""
        record = TurnRecord(self.channel, conversation)
        output = _Counting(output, record)  # what the turn sends, for the turn log (never the text)
        outcome = "ok"
        try:
            await self._handle(conversation, text, locale_id, output, on_new_message, on_forget, metadata, payload_text)
        except _Outcome as ended:
            outcome = ended.outcome
        finally:
            record.log(outcome)

    async def _handle(
        self,
        conversation: str,
        text: str,
        locale_id: str | None,
        output: OutputChannel,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        on_forget: Callable[[str], Any] | None,
        metadata: Dict[str, Any] | None,
        payload_text: str | None,
    ) -> None:
        locale = self.library.locale(locale_id)
        read = text[: intake.READ_LIMIT]
        long = len(text) > self.limit
        full: Dict[str, Any] | None = None
        try:
            if long:
                full = await self.triage(read)
            if not self.rate.allow(conversation):
                full = full or await self.triage(read)
                logger.warning(
                    "rate limited channel=%s conversation=%s level=%s",
                    self.channel,
                    safe_id(conversation),
                    full["level"],
                )
                await self.triage_only(output, conversation, locale, full, intake.rate_notice(locale.emergency_number))
                raise _Outcome("rate_limited")
            if self.forget.pending(conversation) and intake.is_confirmation(read):
                deleted = self._forget(conversation, on_forget)
                await send(output, conversation, intake.forget_done(locale.emergency_number) if deleted else None)
                if not deleted:
                    await send(
                        output,
                        conversation,
                        intake.apology(locale.emergency_number, locale.advice_line, locale.helpline),
                    )
                raise _Outcome("forget")
            if intake.is_forget_request(read):
                self.forget.ask(conversation)
                await send(
                    output,
                    conversation,
                    intake.FORGET_QUESTION,
                    payload(None, {"level": "none", "findings": []}, [], forget="confirm"),
                )
                raise _Outcome("forget")
            words = payload_text or intake.user_text(read[: self.limit])
            message_metadata: Dict[str, Any] = {"locale": locale.id, **(metadata or {})}
            if full is not None:
                message_metadata[FULL_TRIAGE] = full
            # the helpline (issue 12): a request for a nurse is marked for the queue and answered
            # after the turn; while a nurse holds the conversation, a turn may be silent
            requested = helpline.asks_for_human(read)
            if requested:
                message_metadata[helpline.REQUEST_KEY] = True
            held = helpline.holder_of(conversation) is not None
            counting = _Counting(output)
            await on_new_message(
                UserMessage(words, counting, conversation, input_channel=self.channel, metadata=message_metadata)
            )
            if requested and not held:
                await helpline.after_request(
                    conversation, locale, counting, full or triage_text(read), counting.sent > 0
                )
            if not counting.sent and not (held or helpline.holder_of(conversation)):
                raise RuntimeError("the turn sent nothing")
        except _Outcome:
            raise
        except Exception as error:  # noqa: BLE001 - never silent (design.md rule 9)
            logger.error(
                "turn failed channel=%s conversation=%s error=%s",
                self.channel,
                safe_id(conversation),
                type(error).__name__,
            )
            try:
                full = full or await self.triage(read)
            except Exception:  # noqa: BLE001
                full = {"level": "none", "findings": []}
            await self.triage_only(
                output,
                conversation,
                locale,
                full,
                intake.apology(locale.emergency_number, locale.advice_line, locale.helpline),
            )
            raise _Outcome("apology") from None
        if long:
            await send(
                output,
                conversation,
                intake.long_notice(locale.emergency_number, self.limit, len(text) <= intake.READ_LIMIT),
            )
        if default_languages().language(read[: self.limit]):
            await send(output, conversation, intake.language_notice(locale.emergency_number))

    async def triage_only(
        self, output: OutputChannel, conversation: str, locale: Any, triage: Dict[str, Any], notice: str
    ) -> None:
        """A reply without the dialogue: the triage instruction (if any) first, then the notice."""
        level = triage.get("level", "none")
        if level in ("emergency", "urgent"):
            reply = triage_reply(self.library, f"utter_{level}", locale, triage)
            await send(output, conversation, reply.text)
            await send(output, conversation, notice, {**reply.payload, "notice": True})
        else:
            await send(output, conversation, notice, payload(None, triage, [], notice=True))

    def _forget(self, conversation: str, on_forget: Callable[[str], Any] | None) -> bool:
        from components.tracker_store import active_store

        store = active_store()
        if store is None:
            logger.error("forget me: no tracker store of ours to delete from conversation=%s", safe_id(conversation))
            return False
        store.delete(conversation)
        if on_forget is not None:
            on_forget(conversation)
        return True


def texts_of(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(str(m.get("text")) for m in messages if m.get("text"))
