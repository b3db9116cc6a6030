"""The lock store of the cluster: Rasa's RedisLockStore with its known weaknesses guarded (issue 13).

Rasa serialises the turns of one conversation with a ticket lock kept in Redis
(``rasa.core.lock_store.RedisLockStore``): each message takes a ticket, waits until its ticket is
the first one, runs the turn and gives the ticket back. With several Rasa replicas this breaks in
three ways, each of which lets two replicas run turns of the same conversation at once (two
replies computed from the same tracker, events written twice or lost):

1. **Taking a ticket is not atomic.** ``issue_ticket`` reads the lock, appends a ticket and
   writes the whole lock back (GET, then SET). Two replicas doing this at the same moment both
   read ``[]``, both write ``[0]``: both hold ticket 0, both run. Giving a ticket back
   (``finish_serving``) and dropping expired ones (``update_lock``) are read-modify-writes too, so
   one replica can erase a ticket another has just taken; ``cleanup`` deletes the lock when it
   looks empty, which can delete a ticket taken a moment later (that message then fails with
   ``LockError``). Rasa's reviewers said so when the lock was written ("this is far from atomic",
   RasaHQ/rasa#3933); the fix (``ConcurrentRedisLockStore``, RasaHQ/rasa#11256) is in Rasa Pro
   only.
2. **A ticket expires a fixed time after it was taken** (``TICKET_LOCK_LIFETIME``, 60 s), whether
   or not its turn is still running or still waiting: a turn slower than that (an action server
   that hangs, a long queue behind a burst of messages) loses the lock while it runs, and the next
   message of the conversation starts beside it.
3. **A replica that dies holding a ticket blocks the conversation for the whole lifetime.**

This store keeps Rasa's data layout (one ``TicketLock`` JSON value per conversation, so Rasa's
own tools read it) and changes how it is written:

- every change of a lock is one Redis transaction (WATCH/MULTI/EXEC, retried on conflict), and
  the lock is deleted in the same transaction only when it is really empty;
- ticket numbers come from one Redis counter (INCR), so a number is never handed out twice, even
  after a lock was deleted and made again;
- a ticket is a lease: its holder renews it every ``lifetime / 3`` while it waits and while its
  turn runs, so ``lifetime`` (``lock_lifetime`` in endpoints.yml, 15 s by default) bounds only how
  long a dead replica blocks a conversation, never how long a turn may take;
- a waiter whose ticket was dropped (its replica stalled longer than the lifetime) takes a new one
  at the back instead of waiting for ever; a holder that finds its ticket gone logs an error.

The Rasa API is unchanged: ``lock_store: type: components.lock_store.CrsRedisLockStore`` with the
keys of Rasa's ``redis`` lock store (``url``, ``port``, ``password``, ``db``, ``key_prefix`` ...).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Callable, Tuple, TypeVar

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LockError, RedisLockStore

from crs.redaction import safe_id

logger = logging.getLogger(__name__)

DEFAULT_LIFETIME = 15.0  # seconds a dead replica can block a conversation
DEFAULT_WAIT = 0.05  # seconds between two looks at a busy lock
T = TypeVar("T")


class CrsRedisLockStore(RedisLockStore):
    """RedisLockStore with atomic ticket changes and renewed (leased) tickets."""

    def __init__(self, endpoint_config: Any = None, **kwargs: Any) -> None:
        settings = dict(getattr(endpoint_config, "kwargs", None) or {})
        settings.update(kwargs)
        host = settings.pop("host", None) or getattr(endpoint_config, "url", None) or "localhost"
        self.lifetime = float(settings.pop("lock_lifetime", None) or DEFAULT_LIFETIME)
        self.wait = float(settings.pop("wait_time", None) or DEFAULT_WAIT)
        for key in ("port", "db", "socket_timeout"):
            if settings.get(key) in ("", None):
                settings.pop(key, None)
        if not settings.get("password"):
            settings.pop("password", None)
        settings.pop("type", None)
        super().__init__(host=host, **settings)
        self.counter_key = self.key_prefix + "#ticket-counter"

    # -- one transaction per change -----------------------------------------------------------

    def _change(self, conversation_id: str, change: Callable[[TicketLock], T]) -> T:
        """Apply ``change`` to the lock of ``conversation_id`` in one Redis transaction."""
        import redis

        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else TicketLock(conversation_id)
                    lock.conversation_id = conversation_id
                    result = change(lock)
                    lock.remove_expired_tickets()
                    pipe.multi()
                    if lock.tickets:
                        pipe.set(key, lock.dumps())
                    else:
                        pipe.delete(key)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue

    def issue_ticket(self, conversation_id: str, lock_lifetime: float | None = None) -> int:
        """A new ticket at the back of the queue (its number never handed out before)."""
        lifetime = self.lifetime if lock_lifetime is None else lock_lifetime
        try:
            number = int(self.red.incr(self.counter_key))
            self._change(conversation_id, lambda lock: lock.tickets.append(Ticket(number, time.time() + lifetime)))
            return number
        except Exception as error:  # noqa: BLE001 - Rasa's contract: a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def _renew(self, conversation_id: str, number: int, lifetime: float) -> Tuple[bool, bool]:
        """Extend ticket ``number``: (whether it was still there, whether it is first now)."""

        def renew(lock: TicketLock) -> Tuple[bool, bool]:
            lock.remove_expired_tickets()
            for ticket in lock.tickets:
                if ticket.number == number:
                    ticket.expires = time.time() + lifetime
                    return True, lock.tickets[0].number == number
            return False, False

        return self._change(conversation_id, renew)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        def remove(lock: TicketLock) -> None:
            for ticket in list(lock.tickets):
                if ticket.number == ticket_number:
                    lock.tickets.remove(ticket)

        self._change(conversation_id, remove)

    def update_lock(self, conversation_id: str) -> None:
        self._change(conversation_id, lambda lock: lock.remove_expired_tickets())

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        # the lock is deleted inside the same transaction, and only when no ticket is left
        self.finish_serving(conversation_id, ticket_number)

    # -- the lock as Rasa uses it -------------------------------------------------------------

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float | None = None,
        wait_time_in_seconds: float | None = None,
    ) -> AsyncGenerator[TicketLock, None]:
        # Rasa passes its own defaults (60 s, 1 s) only when a caller names them; ours apply
        lifetime = self.lifetime if lock_lifetime in (None, 60, 60.0) else float(lock_lifetime)
        wait = self.wait if wait_time_in_seconds in (None, 1, 1.0) else float(wait_time_in_seconds)
        ticket = self.issue_ticket(conversation_id, lifetime)
        keeper: asyncio.Task | None = None
        try:
            ticket = await self._wait_for_turn(conversation_id, ticket, lifetime, wait)
            keeper = asyncio.create_task(self._keep(conversation_id, ticket, lifetime))
            yield TicketLock(conversation_id)
        finally:
            if keeper is not None:
                keeper.cancel()
            self.cleanup(conversation_id, ticket)

    async def _wait_for_turn(self, conversation_id: str, ticket: int, lifetime: float, wait: float) -> int:
        started = time.monotonic()
        while True:
            present, first = self._renew(conversation_id, ticket, lifetime)
            if first:
                waited = time.monotonic() - started
                if waited > 1:
                    logger.info("lock acquired conversation=%s waited_s=%.1f", safe_id(conversation_id), waited)
                return ticket
            if not present:  # dropped while we waited (this process stalled): queue again
                logger.warning("lock ticket expired while waiting conversation=%s", safe_id(conversation_id))
                ticket = self.issue_ticket(conversation_id, lifetime)
            await asyncio.sleep(wait)

    async def _keep(self, conversation_id: str, ticket: int, lifetime: float) -> None:
        """Renew the held ticket until the turn ends (cancelled by ``lock``)."""
        while True:
            await asyncio.sleep(lifetime / 3)
            try:
                present, _ = self._renew(conversation_id, ticket, lifetime)
            except Exception as error:  # noqa: BLE001 - Redis away for a moment: try again
                logger.error("lock renewal failed conversation=%s error=%s", safe_id(conversation_id), error)
                continue
            if not present:
                logger.error(
                    "lock lost while the turn ran (the process stalled for over %.0f s) conversation=%s",
                    lifetime,
                    safe_id(conversation_id),
                )
                return

    def ping(self) -> bool:
        """Whether Redis answers (the health endpoint)."""
        return bool(self.red.ping())
