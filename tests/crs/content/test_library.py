"""Topics, quotes, locales, review status and treatments: the Rasa-free content core."""

from dataclasses import replace
from datetime import date

import pytest

from crs.content import TOPIC_IDS, Library
from crs.replies import topic_reply, treatment_reply, unknown_treatment_reply
from crs.settings import load_settings
from tests.quote_checks import assert_quote_is_verbatim_and_intact

TODAY = date(2026, 11, 22)


@pytest.fixture(scope="module")
def library() -> Library:
    return Library.load(replace(load_settings(), today_override=TODAY, overdue_sources="caveat"))


@pytest.fixture(scope="module")
def excluding() -> Library:
    return Library.load(replace(load_settings(), today_override=TODAY, overdue_sources="exclude"))


@pytest.mark.parametrize("topic", TOPIC_IDS)
@pytest.mark.parametrize("locale", ["uk", "us"])
def test_every_topic_is_answered_with_verbatim_intact_quotes(library, topic, locale):
    reply = topic_reply(library, topic, library.locale(locale))
    assert reply.payload["topic"] == topic
    assert reply.payload["quotes"], f"{topic} has nothing to quote"
    for quote in reply.payload["quotes"]:
        assert_quote_is_verbatim_and_intact(library, quote)
        assert f"“{quote['text']}”" in reply.text


@pytest.mark.parametrize("topic", TOPIC_IDS)
def test_topics_quote_both_sources_where_both_address_them(library, topic):
    sources = {q["source_id"] for q in topic_reply(library, topic, library.locale("uk")).payload["quotes"]}
    assert sources == {"000_024f6867875466ce", "001_974c226bab6cec1b"}


def test_each_quote_names_its_source_and_review_date_in_the_text(library):
    reply = topic_reply(library, "grading", library.locale("uk"))
    assert "— Cytokine release syndrome (CRS) (last reviewed 26 Jun 2026)" in reply.text
    assert "Cytokine Release Syndrome: Stages, Treatment, and Outlook" in reply.text


def test_overdue_source_is_quoted_with_a_visible_caveat(library):
    reply = topic_reply(library, "grading", library.locale("uk"))
    us_quotes = [q for q in reply.payload["quotes"] if q["source_id"] == "001_974c226bab6cec1b"]
    assert us_quotes and all(q["review_overdue"] for q in us_quotes)
    assert "last reviewed on 28 Feb 2023" in reply.text
    uk_quotes = [q for q in reply.payload["quotes"] if q["source_id"] == "000_024f6867875466ce"]
    assert uk_quotes and not any(q["review_overdue"] for q in uk_quotes)


def test_overdue_source_can_be_excluded(excluding):
    for topic in TOPIC_IDS:
        reply = topic_reply(excluding, topic, excluding.locale("uk"))
        assert all(q["source_id"] == "000_024f6867875466ce" for q in reply.payload["quotes"])
    # a topic only the overdue page covers says so honestly instead of quoting it
    assert "28 Feb 2023" not in topic_reply(excluding, "outlook", excluding.locale("uk")).text


def test_a_uk_reader_is_never_told_to_call_911(library):
    for topic in TOPIC_IDS:
        reply = topic_reply(library, topic, library.locale("uk"))
        assert "911" not in reply.text
    help_reply = topic_reply(library, "when_to_get_help", library.locale("uk"))
    assert "Call 999 or go to A&E for any of these:" in help_reply.text
    assert "• difficulty breathing or rapid breathing" in help_reply.text


def test_a_us_reader_gets_the_source_wording(library):
    reply = topic_reply(library, "when_to_get_help", library.locale("us"))
    assert "Call 911 or seek emergency care for any of the following symptoms:" in reply.text
    assert "999" not in reply.text


def test_a_list_that_lost_items_says_so(library):
    reply = topic_reply(library, "prevention", library.locale("uk"))
    assert "could not be shown" in reply.text
    assert "• paracetamol" in reply.text and "a , such as" not in reply.text


@pytest.mark.parametrize(
    "message, expected",
    [
        ("Does rituximab cause CRS?", "rituximab"),
        ("is it a side effect of Revlimid?", "lenalidomide"),
        ("can CAR-T cause this?", "car_t"),
        ("my mum is on blincyto", "blinatumomab"),
        ("what about Kymriah", "tisagenlecleucel"),
        ("Opdivo and crs", "nivolumab"),
        ("campath", "alemtuzumab"),
        ("lemtrada", "alemtuzumab"),
        ("gazyva", "obinutuzumab"),
        ("adcetris", "brentuximab"),
        ("eloxatin", "oxaliplatin"),
        ("Rituxan", "rituximab"),
        ("glofitamab first dose", "glofitamab"),
        ("SGN-40", "dacetuzumab"),
        ("TGN1412", "tgn1412"),
        ("ATG", "atg"),
        ("anti-thymocyte globulin", "atg"),
        ("tocilizumab", "tocilizumab"),
        ("anakinra", "anakinra"),
        ("dexamethasone", "dexamethasone"),
        ("ritiximab", "rituximab"),
        ("revlamid", "lenalidomide"),
        ("tumour infiltrating lymphocytes", "tils"),
        ("interleukin", "interleukin"),
    ],
)
def test_treatments_named_in_the_sources_are_recognised(library, message, expected):
    assert expected in [t.id for t, _ in library.find_treatments(message)]


@pytest.mark.parametrize("message", ["keytruda", "what about ibuprofen", "teclistamab", "i'm sitting down", "a cart"])
def test_other_words_are_not_taken_for_a_source_treatment(library, message):
    found = [t.id for t, _ in library.find_treatments(message)]
    assert found in ([], ["car_t"]) and (found == [] or "cart" in message)


def test_every_source_treatment_is_answerable(library):
    for treatment in library.treatments:
        reply = treatment_reply(library, [treatment], library.locale("uk"))
        for quote in reply.payload["quotes"]:
            assert_quote_is_verbatim_and_intact(library, quote)
        naming = [q for q in reply.payload["quotes"] if treatment in [t for t, _ in library.find_treatments(q["text"])]]
        assert naming or treatment.id in ("tils", "dexamethasone"), treatment.id  # those two: only in broken lines
        assert reply.paragraphs


def test_a_treatment_answer_quotes_the_line_that_names_it(library):
    lenalidomide = next(t for t in library.treatments if t.id == "lenalidomide")
    reply = treatment_reply(library, [lenalidomide], library.locale("uk"))
    quoted = " ".join(q["text"] for q in reply.payload["quotes"])
    assert "lenalidomide (Revlimid)" in quoted and "oxaliplatin and lenalidomide" in quoted


def test_a_treatment_named_only_in_a_broken_line_is_admitted_honestly(library):
    tils = next(t for t in library.treatments if t.id == "tils")
    reply = treatment_reply(library, [tils], library.locale("uk"))
    assert reply.payload["quotes"] == []
    assert "cannot show" in reply.text


def test_a_drug_the_sources_do_not_name_never_gets_a_no(library):
    reply = unknown_treatment_reply(library, "keytruda", library.locale("uk"))
    assert "does not mention “keytruda”" in reply.text
    assert "treatment team" in reply.text
    lowered = reply.text.lower()
    for wrong in ("does not cause", "doesn't cause", "is safe", "no, "):
        assert wrong not in lowered
    for quote in reply.payload["quotes"]:
        assert_quote_is_verbatim_and_intact(library, quote)


def test_payload_shape(library):
    reply = topic_reply(library, "symptoms", library.locale("uk"), {"level": "none", "findings": []})
    assert set(reply.payload) >= {"topic", "triage", "quotes"}
    quote = reply.payload["quotes"][0]
    assert set(quote) >= {"source_id", "passage_id", "text", "title", "last_reviewed", "next_review", "review_overdue"}
