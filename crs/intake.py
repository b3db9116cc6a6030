"""What happens to a message before the dialogue sees it (issue 10): limits, fair share, Rasa's
"/intent" syntax, "forget me", and the short notices of our own words that go with them.

Every channel reads at most ``READ_LIMIT`` characters of a message, and triages all of them; the
dialogue gets at most the channel's limit (``CHANNEL_LIMITS``), and a longer message is answered
with a notice after its triage. A sender who writes faster than ``RATE`` gets a polite reply
(and the triage of what they wrote) instead of a turn of the dialogue.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

# characters of one message given to the dialogue, per channel (README: channel limits); a question
# needs far fewer, and the intent classifier's time grows with the length
CHANNEL_LIMITS = {"rest": 2000, "widget": 2000, "twilio": 1600}
# metadata key of the triage of the whole text, set by the intake only (never from a caller)
FULL_TRIAGE = "crs_full_triage"
# characters of one message read and triaged at all; beyond this a message is cut, and the notice
# names the emergency number (a red flag further on cannot be read)
READ_LIMIT = 20000
# messages per sender: a burst of RATE_BURST, then one every RATE_SECONDS
RATE_BURST = 8
RATE_SECONDS = 4.0

# The engine reads runs of spaces and tabs as one space itself (crs.triage.folding); a line break
# it keeps, as the end of a sentence, so only a text with one inside needs the second reading.
_LINE_BREAK = re.compile(r"\n")
_BARE_INTENT = re.compile(r"/[a-z][a-z0-9_]{0,63}")
_FORGET = re.compile(
    r"^\W*(?:please\s+)?(?:forget\s+(?:me|about\s+me|my\s+(?:data|details|conversation|chat|messages))"
    r"|(?:delete|erase|remove)\s+(?:me|my\s+(?:data|details|conversation|chat|messages)|this\s+(?:conversation|chat))"
    r"|right\s+to\s+be\s+forgotten)\W*(?:please)?\W*$",
    re.IGNORECASE,
)
_CONFIRM = re.compile(r"^\W*(?:yes|y|yes please|yes delete(?: it)?|delete(?: it)?|confirm)\W*$", re.IGNORECASE)
FORGET_SECONDS = 300.0


def assess(engine: Any, text: str) -> Dict[str, Any]:
    """The triage of a message as every channel runs it: the engine on the text as written and,
    where a line break stands inside it, on a copy with each run of whitespace made one space as
    well (the engine ends a sentence at a line break, which splits a phrase wrapped over two
    lines: "can't\nbreathe"). The findings of both, offsets pointing into the text as written,
    the higher level: adding a reading can only add a finding (when in doubt, escalate)."""
    result = engine.assess(text).as_dict()
    if not _LINE_BREAK.search(text.strip()):
        return result
    pieces: List[str] = []
    origin: List[int] = []
    position = 0
    for match in re.finditer(r"\s+", text):
        pieces.append(text[position : match.start()])
        origin.extend(range(position, match.start()))
        pieces.append(" ")
        origin.append(match.start())
        position = match.end()
    pieces.append(text[position:])
    origin.extend(range(position, len(text)))
    spaced = engine.assess("".join(pieces)).as_dict()
    findings = list(result["findings"])
    seen = {(f["id"], f["assertion"]) for f in findings}
    for finding in spaced["findings"]:
        if (finding["id"], finding["assertion"]) in seen:
            continue
        start, end = origin[finding["start"]], origin[max(finding["end"] - 1, finding["start"])] + 1
        findings.append({**finding, "start": start, "end": end, "text": text[start:end]})
        seen.add((finding["id"], finding["assertion"]))
    order = ["none", "urgent", "emergency"]
    merged = {**spaced, **{k: v for k, v in result.items() if v is not None}}
    merged.update(level=max(result["level"], spaced["level"], key=order.index), findings=findings)
    return merged


def triage_text(text: str) -> Dict[str, Any]:
    """The triage of a text (``crs.intake.assess``: any spacing), with the red-flag words of other
    languages merged in."""
    from crs.triage import default_engine

    return merge_language_findings(assess(default_engine(), text), text)


def merge_language_findings(triage: Dict[str, Any], text: str) -> Dict[str, Any]:
    """Add the red flags named in other languages (data/languages.yml) to a triage result."""
    from crs.languages import default_languages
    from crs.triage import default_engine

    matches = default_languages().red_flags(text)
    if not matches:
        return triage
    specs = default_engine().findings
    findings = list(triage.get("findings") or [])
    seen = {(f["id"], f["assertion"]) for f in findings}
    for match in matches:
        spec = specs.get(match.finding_id)
        if spec is None or (match.finding_id, "present") in seen:
            continue
        seen.add((match.finding_id, "present"))
        findings.append(
            {
                "id": match.finding_id,
                "level": spec["level"],
                "label": spec.get("label", match.finding_id),
                "text": match.text,
                "assertion": "present",
                "start": match.start,
                "end": match.end,
                "passage_id": spec["passage"],
            }
        )
    levels = (specs[m.finding_id]["level"] for m in matches if m.finding_id in specs)
    return {**triage, "level": highest(triage.get("level", "none"), *levels), "findings": findings}


def _finding_keys() -> Tuple[set, set]:
    """The keys a finding must have, and may have (from the Finding dataclass, so they follow it)."""
    from dataclasses import MISSING, fields

    from crs.triage import Finding

    every = {f.name for f in fields(Finding)}
    required = {f.name for f in fields(Finding) if f.default is MISSING and f.default_factory is MISSING}
    return required, every


def merge_triage(own: Dict[str, Any], other: Dict[str, Any] | None) -> Dict[str, Any]:
    """Two triage results of the same message: every finding of both, the higher level, and any
    other field of either (own first)."""
    if not other:
        return own
    required, every = _finding_keys()
    findings = list(own.get("findings") or [])
    seen = {(f["id"], f["assertion"]) for f in findings}
    for finding in other.get("findings") or []:
        well_formed = isinstance(finding, dict) and required <= set(finding) <= every
        if well_formed and (finding.get("id"), finding.get("assertion")) not in seen:
            findings.append(finding)
            seen.add((finding.get("id"), finding.get("assertion")))
    merged = dict(own)
    for key, value in other.items():
        if merged.get(key) is None:
            merged[key] = value
    merged.update(level=highest(own.get("level", "none"), other.get("level", "none")), findings=findings)
    return merged


def highest(*levels: str) -> str:
    order = ["none", "urgent", "emergency"]
    return max((level if level in order else "none" for level in levels), key=order.index)


def is_forget_request(text: str) -> bool:
    return bool(_FORGET.match(text or ""))


def is_confirmation(text: str) -> bool:
    return bool(_CONFIRM.match(text or ""))


def user_text(text: str) -> str:
    """Rasa's "/intent" syntax is accepted from users only as a bare intent name (a button's
    payload, no words and no entities); anything else loses its leading slashes and is read as
    words. Triage runs on the words either way."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return text
    if _BARE_INTENT.fullmatch(stripped):
        return stripped
    return stripped.lstrip("/").strip() or "?"


@dataclass
class RateLimiter:
    """A token bucket per key: ``burst`` messages at once, then one every ``seconds``."""

    burst: int = RATE_BURST
    seconds: float = RATE_SECONDS
    max_keys: int = 100_000
    _buckets: Dict[str, Tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) / self.seconds)
            allowed = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
            if len(self._buckets) > self.max_keys:  # forget the idle ones (memory stays bounded)
                full = [k for k, (t, seen) in self._buckets.items() if t + (now - seen) / self.seconds >= self.burst]
                for k in full:
                    del self._buckets[k]
            return allowed


@dataclass
class ForgetRequests:
    """Conversations whose person asked to be forgotten and has not confirmed yet."""

    seconds: float = FORGET_SECONDS
    _asked: Dict[str, float] = field(default_factory=dict)

    def ask(self, conversation: str, now: float | None = None) -> None:
        self._asked[conversation] = time.monotonic() if now is None else now

    def pending(self, conversation: str, now: float | None = None) -> bool:
        """Was a confirmation asked for (and not too long ago)? Asking is answered once."""
        asked = self._asked.pop(conversation, None)
        now = time.monotonic() if now is None else now
        return asked is not None and now - asked <= self.seconds


# -- notices: our own words (design.md rule 1), each naming the emergency number ---------------------


def long_notice(emergency_number: str, limit: int, read_all: bool) -> str:
    if read_all:
        return (
            f"Your message was long: I checked all of it for danger signs, but answered only its first "
            f"{limit:,} characters. Please send shorter messages. In an emergency call {emergency_number}."
        )
    return (
        f"Your message was too long for me to read all of it (I read the first {READ_LIMIT:,} characters). "
        f"If someone is very unwell, call {emergency_number} now. Please send shorter messages."
    )


def rate_notice(emergency_number: str) -> str:
    return (
        "You are sending messages faster than I can answer them. Please wait a few seconds and send "
        f"your question again. If this is an emergency, call {emergency_number} now."
    )


def language_notice(emergency_number: str) -> str:
    return (
        "Sorry, I can only understand and answer in English. "
        f"In an emergency call {emergency_number} now (you can ask for an interpreter)."
    )


def apology(emergency_number: str, advice_line: str, helpline: str) -> str:
    return (
        "Sorry, something went wrong and I can't answer that right now. "
        f"If this is an emergency, call {emergency_number} now. Otherwise contact {advice_line}, or {helpline}."
    )


FORGET_QUESTION = (
    "Do you want me to delete this conversation and everything you have told me in it? "
    "Reply YES to delete it. Anything else keeps it."
)


def forget_done(emergency_number: str) -> str:
    return (
        "Done: this conversation has been deleted. If you write again, it starts afresh. "
        f"In an emergency call {emergency_number}."
    )
