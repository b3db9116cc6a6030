"""Is a message a request to talk to a person ("can I talk to a nurse")?

Read by rules (no training): a verb of talking or being put through, and a person of the helpline
(nurse, human, a real person, someone). A request never replaces triage: the channel still
triages the whole message, and a red flag gets the emergency instruction first.
"""

from __future__ import annotations

import re

PERSON = (
    r"(?:(?:a|the|an|your|one\s+of\s+the|one\s+of\s+your|real|actual|live|proper|human)\s+){0,3}"
    r"(?:nurse|nurses|human|humans|person|people|someone|somebody|staff|agent|operator|helpline|doctor)"
)
HELPER = r"(?:(?:a|the|an|your|real|actual|live|proper|human)\s+){0,3}(?:nurse|human|person|agent|operator|helpline)"
TALK = r"(?:talk|speak|chat)\s+(?:to|with)"
_REQUEST = re.compile(
    r"(?:"
    rf"\b(?:can|could|may|cant|can't)\s+(?:i|we)\s+(?:please\s+)?(?:just\s+)?{TALK}\s+{PERSON}\b"
    rf"|\b(?:want|wanna|need|like|love|have|wish)\s+to\s+(?:please\s+)?{TALK}\s+{PERSON}\b"
    rf"|^\W*(?:please\s+)?{TALK}\s+{PERSON}\b"
    rf"|\b(?:let\s+me|get\s+me|put\s+me\s+through\s+to|transfer\s+me\s+to|connect\s+me\s+(?:to|with))\s+{HELPER}\b"
    rf"|\b(?:any\s+chance\s+of|possible\s+to|is\s+it\s+possible\s+to)\s+(?:talking|speaking|chatting|talk|speak|chat)\s+(?:to|with)\s+{PERSON}\b"
    rf"|\b(?:can|could|will|would)\s+{PERSON}\s+(?:please\s+)?(?:call|ring|phone|contact|text|message)\s+me\b"
    r"|\b(?:call|ring|phone)\s+me\s+back\b"
    rf"|\b(?:i|we)\s+(?:want|need|would\s+like|'d\s+like|d\s+like)\s+(?:to\s+see\s+)?{HELPER}\b"
    rf"|^\W*{HELPER}\s*(?:please|pls|plz)?\W*$"
    r")",
    re.IGNORECASE,
)
# "am I talking to a real person?", "are you human?": a question about the assistant (answered
# by the assistant's own reply), not a request
_CHALLENGE = re.compile(r"^\W*(?:am\s+i|are\s+you|is\s+(?:this|it|that|there)|was\s+that)\b", re.I)
_NOT = re.compile(r"\b(?:don'?t|do\s+not|dont|no\s+need\s+to|not)\s+(?:\w+\s+){0,2}(?:want|need|talk|speak)\b", re.I)


def asks_for_human(text: str) -> bool:
    """True for a request to talk to a nurse or another person."""
    if not text or len(text) > 2000:
        return bool(text) and asks_for_human(text[:2000])
    folded = " ".join(text.replace("’", "'").split())
    return bool(_REQUEST.search(folded)) and not _NOT.search(folded) and not _CHALLENGE.search(folded)
