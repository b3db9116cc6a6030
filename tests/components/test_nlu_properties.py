"""Property-based tests of the NLU component (issue 10, item 7), with hypothesis: the
RedFlagDetector as the Rasa server runs it, on Rasa's own Message objects.

For any text and any metadata: no exception, and the same message always gives the same
triage. A present red flag is never lost when unrelated text is added before or after it (up to
the channel limit), when letter case or spacing changes, or when the message starts with "/".
"""

from __future__ import annotations

from typing import Any, Dict

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.nlu import RedFlagDetector
from crs.intake import CHANNEL_LIMITS
from tests.crs.test_triage_properties import RED_FLAGS, UNRELATED

DETECTOR = RedFlagDetector({})
LIMIT = max(CHANNEL_LIMITS.values())
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def parse(text: str, metadata: Any = None) -> Dict[str, Any]:
    message = Message(data={TEXT: text, "metadata": metadata, INTENT: {"name": "ask_about_crs", "confidence": 0.9}})
    DETECTOR.process([message])
    return {"triage": message.get("triage"), "intent": message.get(INTENT)}


@SETTINGS
@given(st.text(max_size=2500), JSON)
def test_any_text_and_metadata_no_exception_and_always_the_same(text, metadata):
    first = parse(text, metadata)
    assert first["triage"]["level"] in ("none", "urgent", "emergency")
    assert parse(text, metadata) == first


@SETTINGS
@given(
    st.sampled_from(RED_FLAGS),
    st.lists(st.sampled_from(UNRELATED), max_size=LIMIT // 80),
    st.lists(st.sampled_from(UNRELATED), max_size=LIMIT // 80),
)
def test_a_red_flag_is_never_lost_in_unrelated_text(red_flag, before, after):
    text = f"{' '.join(before)} {red_flag}. {' '.join(after)}".strip()[:LIMIT]
    parsed = parse(text)
    assert parsed["triage"]["level"] == "emergency"
    assert parsed["intent"]["name"] == "triage_emergency"


@SETTINGS
@given(st.sampled_from(RED_FLAGS), st.data())
def test_case_spacing_and_a_leading_slash_do_not_matter(red_flag, data):
    cased = "".join(c.upper() if data.draw(st.booleans()) else c.lower() for c in red_flag)
    spaced = "".join(data.draw(st.sampled_from([" ", "  ", "\t", "\n", " \t "])) if c == " " else c for c in cased)
    prefix = data.draw(st.sampled_from(["", "/", "/ask_about_crs ", "//", "/affirm "]))
    assert parse(prefix + spaced)["triage"]["level"] == "emergency", repr(prefix + spaced)


@SETTINGS
@given(st.text(max_size=300), st.sampled_from(RED_FLAGS))
# a superscript digit is a digit to str.isdigit but not to int(): it crashed the background check
@example("¹®0", "my husband can't breathe")
def test_the_triage_of_the_whole_text_from_the_channel_is_never_dropped(text, red_flag):
    from crs.intake import FULL_TRIAGE, triage_text

    full = triage_text(text + " " * 3 + "\n\n" + red_flag + ".")
    parsed = parse(text[:100], {FULL_TRIAGE: full, "locale": "uk"})
    assert parsed["triage"]["level"] == "emergency"
