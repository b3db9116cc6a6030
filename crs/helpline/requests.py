"""Is a message a request to talk to a person ("can I talk to a nurse")?

Read by rules (no training): a verb of talking or being put through, and a person of the helpline
(nurse, human, a real person, someone). A request never replaces triage: the channel still
triages the whole message, and a red flag gets the emergency instruction first.
"""

from __future__ import annotations

import re

PERSON = r"(?:(?:a|the|an|your|real|actual|live|proper|human)\s+){0,3}(?:nurse|nurses|human|humans|person|people|someone|somebody|staff|agent|operator|helpline|doctor)"
_REQUEST = re.compile(
    r"(?:"
    rf"\b(?:talk|speak|chat|speaking|talking)\s+(?:to|with)\s+{PERSON}\b"
    rf"|\b(?:put|transfer|connect|pass)\s+me\s+(?:through\s+)?(?:to|with|on\s+to|onto)\s+{PERSON}\b"
    rf"|\b(?:want|need|get|see|like|have)\s+(?:me\s+)?{PERSON}\b"
    rf"|\b(?:can|could|will|would)\s+{PERSON}\s+(?:call|ring|phone|contact|text|message|reply|help)\b"
    r"|\b(?:call|ring|phone)\s+me\s+back\b"
    rf"|\b(?:is\s+there|are\s+there|are\s+you)\s+(?:a\s+)?(?:real|actual|human|live)\b"
    rf"|^\s*{PERSON}\s*(?:please|pls|plz)?\s*[.!?]*\s*$"
    r")",
    re.IGNORECASE,
)
_NOT = re.compile(r"\b(?:don'?t|do\s+not|dont|no\s+need\s+to|not)\s+(?:\w+\s+){0,2}(?:want|need|talk|speak)\b", re.I)


def asks_for_human(text: str) -> bool:
    """True for a request to talk to a nurse or another person."""
    if not text or len(text) > 2000:
        return bool(text) and asks_for_human(text[:2000])
    folded = " ".join(text.replace("’", "'").split())
    return bool(_REQUEST.search(folded)) and not _NOT.search(folded)
