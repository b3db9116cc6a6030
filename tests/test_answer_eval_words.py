"""scripts/answer_eval.py counts reply words with the triage replies set aside, as its docstring
says: also the urgent reply's reasons when they share a payload with the answer after them."""

from __future__ import annotations

import sys

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from answer_eval import Turn  # noqa: E402

REASON = "If you experience any CRS symptoms after receiving immunotherapy, contact your doctor immediately."
ANSWER = "Most people have a high temperature (fever)."


def test_the_urgent_reasons_are_not_counted_as_answer_words_when_an_answer_shares_their_payload():
    messages = [
        {"text": "Contact your treatment team's 24-hour advice line now. If you cannot reach them, call 111."},
        {"text": "You mentioned: “high temperature”. Here is why it matters:"},
        {"text": f"“{REASON}” — Some page. Check anything important with your treatment team."},
        {"text": f"Here is what the reviewed information says about the symptoms of CRS: “{ANSWER}”"},
        {
            "custom": {
                "topic": "symptoms",
                "triage_reply": "urgent",
                "quotes": [{"text": REASON, "role": "triage"}, {"text": ANSWER, "role": "answer"}],
            }
        },
    ]
    turn = Turn(messages)
    assert turn.answer_texts == [messages[3]["text"]]
    assert turn.words == len(messages[3]["text"].split())
    assert [quote["text"] for quote in turn.quotes] == [ANSWER]
