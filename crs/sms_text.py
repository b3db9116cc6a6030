"""Text messages (SMS): segment counting, and replies cut to fit (issue 5). No Rasa import.

A reply is built from what the assistant said in a turn (texts, buttons, the payload of
design.md) and cut into at most three SMS segments, at whole sentences, with "Reply MORE for the
rest" when something is left. GSM-7 text fits 160 characters in one segment and 153 a segment
when split; a message with any other character is sent as UCS-2: 70 and 67. Typographic
punctuation (curly quotes, dashes, bullets) is written in its plain GSM-7 form so that a reply is
not pushed into UCS-2 by punctuation alone; the words of quotes are unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Sequence, Tuple

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")
PLAIN = {"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "•": "-", "…": "...", "\u00a0": " "}
MAX_SEGMENTS = 3
MORE_HINT = "Reply MORE for the rest."
MORE_NEXT = "Reply MORE for more."
MORE_PAYLOAD = "/ask_more"  # the widget's "Tell me more" button (crs/answers.py)
SENTENCE = re.compile(r"(?<=[.!?”\"])\s+(?=[A-Z\"“‘(•-])")


def plain(text: str) -> str:
    return "".join(PLAIN.get(char, char) for char in text)


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENDED for char in text)


def segments(text: str) -> int:
    """How many SMS segments a message takes (0 for an empty one)."""
    if not text:
        return 0
    if is_gsm7(text):
        units = sum(2 if char in GSM7_EXTENDED else 1 for char in text)
        return 1 if units <= 160 else math.ceil(units / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def conversation_id(phone_number: str, secret: str) -> str:
    """A keyed hash of the phone number: the number itself is never stored."""
    digits = re.sub(r"[^\d+]", "", phone_number or "")
    return "sms-" + hmac.new(secret.encode(), digits.encode(), hashlib.sha256).hexdigest()[:32]


def locale_for(phone_number: str, default: str) -> str:
    number = re.sub(r"[^\d+]", "", phone_number or "")
    if number.startswith("+44"):
        return "uk"
    if number.startswith("+1"):
        return "us"
    return default


def _short_date(iso: str) -> str:
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    try:
        year, month, _ = iso.split("-")
        return f"{months[int(month) - 1]} {year}"
    except (ValueError, IndexError):
        return iso


def _attribution(quote: Dict[str, Any]) -> str:
    name = quote.get("short_title") or quote.get("title", "")
    text = f"({name}, reviewed {_short_date(quote.get('last_reviewed', ''))}"
    return text + (", due for review)" if quote.get("review_overdue") else ")")


@dataclass
class Turn:
    """What the assistant said in one turn, as the REST-style collector gives it."""

    texts: List[str] = field(default_factory=list)
    buttons: List[Dict[str, str]] = field(default_factory=list)
    payloads: List[Dict[str, Any]] = field(default_factory=list)

    @property
    def more(self) -> bool:
        """The answer has more passages: "Tell me more" is MORE by SMS."""
        return any(button["payload"] == MORE_PAYLOAD for button in self.buttons)

    @property
    def choices(self) -> List[Dict[str, str]]:
        """The numbered choices (the "Tell me more" button is MORE instead)."""
        return [button for button in self.buttons if button["payload"] != MORE_PAYLOAD]

    @classmethod
    def from_messages(cls, messages: Sequence[Dict[str, Any]]) -> Turn:
        turn = cls()
        pending: List[str] = []
        for message in messages:
            if message.get("text"):
                pending.append(str(message["text"]))
            if message.get("buttons"):
                turn.buttons = [
                    {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))} for b in message["buttons"]
                ]
            custom = message.get("custom")
            if isinstance(custom, dict):
                turn.payloads.append(custom)
                if custom.get("display"):
                    pending = [_render_display(custom)]  # the payload says how to show it
                turn.texts += pending
                pending = []
        turn.texts += pending
        return turn


def _render_display(payload: Dict[str, Any]) -> str:
    quotes = payload.get("quotes") or []
    parts = []
    for part in payload.get("display") or []:
        if part.get("type") == "quote" and part.get("index", -1) < len(quotes):
            quote = quotes[part["index"]]
            parts.append(f"“{quote['text']}” {_attribution(quote)}")
        elif part.get("type") == "text":
            parts.append(str(part.get("text", "")))
    return "\n".join(parts)


def atoms(turn: Turn) -> List[str]:
    """The reply as sentences in order, each of which can end a message. A sentence that starts
    a new paragraph begins with a newline."""
    text = "\n".join(turn.texts)
    if turn.choices:
        choices = ", ".join(f"{i} for {b['title']}" for i, b in enumerate(turn.choices, start=1))
        text += f"\nReply {choices}."
    if turn.more:
        text += f"\n{MORE_NEXT}"
    pieces: List[str] = []
    for paragraph in plain(text).split("\n"):
        sentences = [s.strip() for s in SENTENCE.split(paragraph) if s.strip()]
        for index, sentence in enumerate(sentences):
            pieces.append(("\n" if index == 0 else " ") + sentence)
    return pieces


def fit(pieces: Sequence[str], max_segments: int = MAX_SEGMENTS) -> Tuple[str, List[str]]:
    """The longest run of whole sentences that fits, and what is left for MORE.

    A single sentence too long for a message on its own is cut at a word boundary.
    """
    message = ""
    rest = list(pieces)
    while rest:
        candidate = (message + rest[0]).strip()
        hint = "\n" + MORE_HINT if len(rest) > 1 else ""
        if segments(candidate + hint) <= max_segments:
            message = candidate
            rest.pop(0)
            continue
        if not message:  # one sentence longer than the whole budget: cut it at a word
            words = rest[0].split(" ")
            head: List[str] = []
            while words and segments(" ".join(head + [words[0]]).strip() + " ...\n" + MORE_HINT) <= max_segments:
                head.append(words.pop(0))
            if not head:
                head.append(words.pop(0)[:60])
            message = " ".join(head).strip() + " ..."
            rest[0] = "\n... " + " ".join(words)
        break
    if rest:
        message += "\n" + MORE_HINT
    return message, rest


def compose(turn: Turn, max_segments: int = MAX_SEGMENTS) -> Tuple[str, List[str]]:
    """First message of a reply and the sentences left for MORE."""
    pieces = atoms(turn)
    if not pieces:
        pieces = ["Sorry, I have no answer to that. Reply HELP for help. In an emergency call 999."]
    return fit(pieces, max_segments)


def choice_payload(body: str, choices: Sequence[Dict[str, str]] | None) -> str | None:
    """'1' (or '1.' or ' 2 ') picks a numbered choice of the last reply."""
    match = re.fullmatch(r"\s*(\d{1,2})\s*[.)]?\s*", body or "")
    if not match or not choices:
        return None
    index = int(match.group(1)) - 1
    return choices[index]["payload"] if 0 <= index < len(choices) else None


class SmsState:
    """What the SMS channel remembers, keyed by the hashed conversation id (never the number):
    opt-outs (STOP until START), the rest of a long reply (MORE), the last numbered choices,
    the MessageSids already answered (a replay is answered once), and the escalations of red flags
    from numbers that opted out (for the helpline). The file is readable by its owner only."""

    def __init__(self, path: str) -> None:
        import sqlite3

        from crs.redaction import owner_only

        owner_only(path)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS opt_out (id TEXT PRIMARY KEY, since TEXT)")
        self._db.execute("CREATE TABLE IF NOT EXISTS pending (id TEXT PRIMARY KEY, rest TEXT, choices TEXT)")
        self._db.execute("CREATE TABLE IF NOT EXISTS seen (sid TEXT PRIMARY KEY, at TEXT)")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS escalation (n INTEGER PRIMARY KEY, id TEXT, level TEXT, findings TEXT, at TEXT)"
        )
        self._db.commit()

    def opted_out(self, conversation: str) -> bool:
        return self._db.execute("SELECT 1 FROM opt_out WHERE id = ?", (conversation,)).fetchone() is not None

    def opt_out(self, conversation: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO opt_out VALUES (?, datetime('now'))", (conversation,))
        self._db.commit()

    def opt_in(self, conversation: str) -> None:
        self._db.execute("DELETE FROM opt_out WHERE id = ?", (conversation,))
        self._db.commit()

    def first_time(self, message_sid: str) -> bool:
        """Record a MessageSid; False when it was seen before (a replayed request)."""
        cursor = self._db.execute("INSERT OR IGNORE INTO seen VALUES (?, datetime('now'))", (message_sid,))
        self._db.commit()
        return cursor.rowcount == 1

    def escalate(self, conversation: str, level: str, finding_ids: Sequence[str]) -> None:
        """A red flag from a number Twilio will not let us answer: for the helpline to see."""
        self._db.execute(
            "INSERT INTO escalation (id, level, findings, at) VALUES (?, ?, ?, datetime('now'))",
            (conversation, level, ",".join(finding_ids)),
        )
        self._db.commit()

    def escalations(self) -> List[Tuple[str, str, str]]:
        return self._db.execute("SELECT id, level, findings FROM escalation ORDER BY n").fetchall()

    def forget(self, conversation: str) -> None:
        """ "Forget me": what is kept for the conversation, except an opt-out (STOP must hold)."""
        self._db.execute("DELETE FROM pending WHERE id = ?", (conversation,))
        self._db.commit()

    def purge(self, days: float) -> None:
        """Drop what is older than the retention limit (pending replies have no date: all go)."""
        self._db.execute("DELETE FROM seen WHERE at < datetime('now', ?)", (f"-{days} days",))
        self._db.execute("DELETE FROM escalation WHERE at < datetime('now', ?)", (f"-{days} days",))
        self._db.execute("DELETE FROM pending")
        self._db.commit()

    def remember(self, conversation: str, rest: Sequence[str], choices: Sequence[Dict[str, str]]) -> None:
        import json

        self._db.execute(
            "INSERT OR REPLACE INTO pending VALUES (?, ?, ?)",
            (conversation, json.dumps(list(rest)), json.dumps(list(choices))),
        )
        self._db.commit()

    def recall(self, conversation: str) -> Tuple[List[str], List[Dict[str, str]]]:
        import json

        row = self._db.execute("SELECT rest, choices FROM pending WHERE id = ?", (conversation,)).fetchone()
        return (json.loads(row[0]), json.loads(row[1])) if row else ([], [])
