"""Property-based tests of the triage engine (issue 10, item 7), with hypothesis.

For any text: no exception, and the same text always gives the same triage. A red flag that is
present is never lost when unrelated text is added before or after it (up to the longest message
a channel gives the dialogue), nor when its letter case or spacing changes.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crs.intake import CHANNEL_LIMITS, assess
from crs.triage import default_engine

ENGINE = default_engine()
LONGEST = max(CHANNEL_LIMITS.values())

# present red flags, each on its own (the engine's suites cover their wording)
RED_FLAGS = [
    "my husband can't breathe",
    "she is having a seizure",
    "my dad collapsed and won't wake up",
    "he is confused and not making sense",
    "her lips have gone blue",
    "he fainted",
    "she is seeing things that aren't there",
    "my temperature is 40.2 and my heart is racing",
]
# unrelated sentences: no symptom, no negation, no hypothesis, no history
UNRELATED = [
    "I was reading the leaflet from the clinic.",
    "The parking at the hospital is expensive.",
    "We live about an hour away from the centre.",
    "My daughter is staying with us this week.",
    "Thank you for the information so far.",
    "The nurse gave us a folder with the papers.",
    "Our appointment was moved to Thursday.",
    "I am typing this on my phone.",
]
LEVELS = ("none", "urgent", "emergency")
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def unrelated_text(max_chars: int):
    return st.lists(st.sampled_from(UNRELATED), max_size=max_chars // 40).map(lambda s: " ".join(s)[:max_chars])


def level(text: str) -> str:
    """The triage every channel runs (crs.intake.assess: the engine, any spacing)."""
    return assess(ENGINE, text)["level"]


@SETTINGS
@given(st.text(max_size=3000))
def test_any_text_is_triaged_without_an_exception_and_always_the_same(text):
    first = ENGINE.assess(text)
    assert first.level in ("none", "urgent", "emergency")
    assert ENGINE.assess(text) == first
    assert assess(ENGINE, text) == assess(ENGINE, text)
    assert LEVELS.index(assess(ENGINE, text)["level"]) >= LEVELS.index(first.level)  # it only adds


@SETTINGS
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400), st.sampled_from(RED_FLAGS))
def test_any_text_then_a_red_flag_on_its_own_line(noise, red_flag):
    # after a sentence break, whatever came before cannot govern the red flag
    assert level(noise + "\n\n" + red_flag + ".") == "emergency"


@SETTINGS
@given(
    st.sampled_from(RED_FLAGS),
    st.integers(0, LONGEST // 2),
    st.integers(0, LONGEST // 2),
)
def test_a_red_flag_is_never_lost_in_unrelated_text_up_to_the_channel_limit(red_flag, before, after):
    filler = " ".join(UNRELATED) + " "
    head = (filler * (before // len(filler) + 1))[:before].rsplit(".", 1)[0] + "." if before > 40 else ""
    tail = (filler * (after // len(filler) + 1))[:after].rsplit(".", 1)[0] + "." if after > 40 else ""
    text = f"{head} {red_flag}. {tail}".strip()
    assert len(text) <= LONGEST + 100
    assert level(text) == "emergency", text[-300:]


@SETTINGS
@given(unrelated_text(600), st.sampled_from(RED_FLAGS), unrelated_text(600))
def test_a_red_flag_between_any_unrelated_sentences(before, red_flag, after):
    assert level(f"{before} {red_flag}. {after}") == "emergency"


@SETTINGS
@given(st.sampled_from(RED_FLAGS), st.data())
def test_letter_case_and_spacing_do_not_matter(red_flag, data):
    cased = "".join(c.upper() if data.draw(st.booleans()) else c.lower() for c in red_flag)
    spaced = "".join(data.draw(st.sampled_from([" ", "  ", "\t", " \t ", "   "])) if c == " " else c for c in cased)
    padding = data.draw(st.sampled_from(["", " ", "\n", "  \t"]))
    assert level(padding + spaced + padding) == "emergency", repr(spaced)


def test_the_engine_alone_reads_a_double_space_inside_a_phrase():
    """Found by these property tests; fixed in crs.triage.folding (a run of spaces is one)."""
    assert ENGINE.assess("my husband can't  breathe").level == "emergency"


def test_findings_of_the_single_spaced_copy_point_into_the_text_as_written():
    text = "hello\t\tmy husband can't \n breathe"
    result = assess(ENGINE, text)
    assert result["level"] == "emergency"
    for finding in result["findings"]:
        assert text[finding["start"] : finding["end"]] == finding["text"]
