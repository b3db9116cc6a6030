"""Personal data out of everything that is stored or logged (issue 10, item 4; design.md).

``redact(text)`` replaces phone numbers, e-mail addresses, NHS numbers, UK postcodes, US ZIP codes,
dates of birth and card-like numbers by a label (``[phone]``, ``[email]`` ...). It is applied to
a copy: triage and answers always use the original text in memory. ``safe_id`` makes a sender id
fit to log (no control characters, bounded length). ``install_log_redaction`` makes every log
record of the process pass through ``redact`` and lose its line breaks, so a sender id with a
newline cannot forge a log line and an identifier that slips into a message is not written.

When in doubt this module redacts: a long run of digits is more likely an identifier than a
medical reading (readings are short: 38.6, 120/80, 130).
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any, Callable, Dict

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DAY = r"(?:[0-3]?\d)(?:st|nd|rd|th)?"

# (label, pattern): applied in this order, so an e-mail address is not read as a postcode first
_PATTERNS = [
    ("email", r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    # dates: numeric (12/03/1985, 12-03-85, 1985-03-12) and written with a year (3rd March 1985,
    # March 3, 1985); written dates are kept in bot text (review dates of the sources)
    ("date", r"(?<!\d)(?:[0-3]?\d[/.-][01]?\d[/.-](?:19|20)?\d\d|(?:19|20)\d\d[/.-][01]?\d[/.-][0-3]?\d)(?!\d)"),
    (
        "date_words",
        rf"\b(?:{_DAY}\s+(?:of\s+)?{_MONTHS}\.?,?\s+(?:19|20)\d\d|{_MONTHS}\.?\s+{_DAY},?\s+(?:19|20)\d\d)\b",
    ),
    (
        "date_born",
        rf"\b(?:born|dob|d\.o\.b\.?|date of birth|birthday)\W{{0,3}}(?:on\s+|is\s+)?(?:{_DAY}\s+(?:of\s+)?{_MONTHS}|{_MONTHS}\s+{_DAY})\b",
    ),
    # a long run of digits, with the separators people type (+44 7700 900123, 943 476 5919,
    # 4111-1111-1111-1111): labelled by its number of digits below
    ("digits", r"(?<![\w+])\+?\(?\d(?:[\s().-]{0,2}\d){8,}(?!\w)"),
    ("postcode", r"\b(?:[a-pr-uwyz][a-hk-y]?\d[a-hjkps-uw\d]?)\s*\d[abd-hjlnp-uw-z]{2}\b"),
    # five digits standing alone (not the start of a longer token such as a conversation id,
    # "sms-12345ab...", nor part of a number such as 12,345 or 12345.6)
    ("zip", r"(?<![\w.,/])\d{5}(?:-\d{4})?(?!\w)(?![.,/]\d)"),
]
_COMPILED = [(label, re.compile(pattern, re.IGNORECASE)) for label, pattern in _PATTERNS]
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
MAX_ID = 64


def _nhs_checksum(digits: str) -> bool:
    if len(digits) != 10:
        return False
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def _digits_label(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if re.fullmatch(r"\d{5}-\d{4}", match.group(0)):
        return "[zip]"
    if _nhs_checksum(digits) and not match.group(0).startswith(("+", "0")):
        return "[NHS number]"
    if 13 <= len(digits) <= 19:
        return "[card number]"
    return "[phone]"


# every pattern above needs a digit, or the @ of an e-mail address: text without either is left
# as it is without running them (most strings of an event: intent names, words; issue 13)
_MAY_MATCH = re.compile(r"[\d@]")


def redact(text: str, written_dates: bool = True) -> str:
    """The text with identifiers replaced by labels. ``written_dates=False`` keeps dates such as
    "28 Feb 2023" (bot text quotes review dates); numeric dates and "born on ..." always go."""
    if not text or not _MAY_MATCH.search(text):
        return text
    for label, pattern in _COMPILED:
        if label == "date_words" and not written_dates:
            continue
        if label == "digits":
            text = pattern.sub(_digits_label, text)
        else:
            name = {"date": "date", "date_words": "date", "date_born": "date of birth"}.get(label, label)
            text = pattern.sub(f"[{name}]", text)
    return text


def redact_value(value: Any) -> Any:
    """Every string inside a JSON-like value, redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    return value


def redact_event(data: Dict[str, Any]) -> Dict[str, Any]:
    """A Rasa event (as a dict) fit to store: user events entirely, bot text and the findings it
    repeats, slot values. Our own content (quotes, review dates) is left as it is."""
    kind = data.get("event")
    if kind == "user":
        return redact_value(data)
    data = dict(data)
    if kind == "bot":
        data["text"] = redact(data.get("text") or "", written_dates=False) if data.get("text") else data.get("text")
        custom = ((data.get("data") or {}).get("custom") or {}) if isinstance(data.get("data"), dict) else {}
        triage = custom.get("triage") if isinstance(custom, dict) else None
        if isinstance(triage, dict) and triage.get("findings"):
            data["data"] = {**data["data"], "custom": {**custom, "triage": redact_value(triage)}}
    elif kind == "slot":
        data["value"] = redact_value(data.get("value"))
    return data


def safe_id(sender: Any) -> str:
    """A sender id fit to log: printable, bounded."""
    text = _CONTROL.sub("?", str(sender))
    return text[:MAX_ID] + ("..." if len(text) > MAX_ID else "")


_installed = False


def install_log_redaction() -> None:
    """Every log record of this process: identifiers redacted, one line (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the template only
            message = str(record.msg)
        record.msg = redact(message.replace("\r", "\\r").replace("\n", "\\n"), written_dates=False)
        record.args = ()
        return record

    logging.setLogRecordFactory(factory)


def owner_only(path: str | Path) -> None:
    """Create a database file if needed, readable and writable by its owner only (0600)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
