"""Loading the reviewed sources: verbatim copies, metadata, units, gaps, review status."""

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from crs.content import Library
from crs.content.sources import ContentError, load_source, normalise_for_comparison
from crs.settings import ROOT, load_settings

SHARED = ROOT.parent / "shared" / "sources"


@pytest.fixture(scope="module")
def library() -> Library:
    return Library.load(replace(load_settings(), today_override=date(2026, 11, 22)))


def test_sources_are_kept_verbatim(library):
    for source in library.sources.values():
        shared = SHARED / source.path.name
        if shared.is_file():  # beside a checkout the reviewed originals are there to compare with
            assert source.path.read_bytes() == shared.read_bytes()
        assert source.text == source.path.read_text(encoding="utf-8")


def test_metadata(library):
    uk, us = library.sources["uk"], library.sources["us"]
    assert (uk.locale, us.locale) == ("en-GB", "en-US")
    assert uk.last_reviewed == date(2026, 6, 26) and uk.next_review == date(2029, 6, 26)
    assert uk.next_review_stated and uk.reviewer is None
    assert us.reviewer == "Megan Soliman, MD" and us.last_reviewed == date(2023, 2, 28)
    # no next review on the American page: the three-year default applies
    assert not us.next_review_stated and us.next_review == date(2026, 2, 28)


def test_review_status_today(library):
    today = date(2026, 11, 22)
    assert not library.sources["uk"].is_overdue(today)
    assert library.sources["us"].is_overdue(today)
    assert not library.sources["us"].is_overdue(date(2025, 1, 1))


@pytest.mark.parametrize(
    "snippet",
    [
        "particularly types of treatment",
        "stimulates the to release",
        "help the body with its .",
        ", such as feeling or being sick",
        ", such as or tumour infiltrating",
        "=, including",
        "remove your before CAR T-cell",
        "You might have other treatments as an .",
        "a , such as dexamethasone",
        "go to the or .",
        "causes of the whole body",
        "network of that transports",
        "You might have if it’s not clear",
        "Mild symptoms may include:",
        "This usually happens in response to:",
        "This may include symptoms such as:",
        "More severe cases require several treatments, such as:",
        "These complications may cause serious symptoms, including:",
    ],
)
def test_every_extraction_gap_is_found(library, snippet):
    if snippet.startswith("="):  # the whole unit
        units = [u for s in library.sources.values() for u in s.units if u.text == snippet[1:]]
    else:
        units = [u for s in library.sources.values() for u in s.units if snippet in u.text]
    assert units, f"{snippet!r} is not in any unit"
    assert all(u.gaps and not u.quotable for u in units), [(u.id, u.text) for u in units]


def test_gap_positions_point_into_the_file(library):
    for source in library.sources.values():
        lines = source.text.split("\n")
        for gap in source.gaps:
            assert source.text[gap.offset : gap.offset + len(gap.text)] == gap.text
            assert lines[gap.line - 1][gap.column - 1 :].startswith(gap.text.split("\n")[0])


@pytest.mark.parametrize(
    "sentence",
    [
        "Doctors also call this a cytokine storm.",
        "More general symptoms can include:",
        "Symptoms of CRS can mimic several other medical conditions, such as:",
        "The CRS grading system describes the severity",
        "Tocilizumab is a type of monoclonal antibody.",
    ],
)
def test_intact_sentences_are_not_flagged(library, sentence):
    units = [u for s in library.sources.values() for u in s.units if u.text.startswith(sentence)]
    assert units and all(u.quotable for u in units)


def test_unit_ids_are_stable_and_unique(library):
    ids = [u.id for s in library.sources.values() for u in s.units]
    assert len(ids) == len(set(ids))
    again = Library.load(library.settings)
    assert ids == [u.id for s in again.sources.values() for u in s.units]
    assert library.sources["uk"].unit("uk.p072.s1").text == "a medicine called tocilizumab"


def test_page_furniture_is_never_quotable(library):
    furniture = [
        "Was this helpful?",
        "Design by Mekhi Baldwin",
        "Find out more about these treatment types",
        "Nurse helpline",
        "THIS TOOL DOES NOT PROVIDE MEDICAL ADVICE",
        "Read more about immunotherapy",
    ]
    quotable = " ".join(u.text for s in library.sources.values() for u in s.units if u.quotable)
    for text in furniture:
        assert text not in quotable


def test_the_nurse_helplines_footer_line_is_quotable_in_the_uk_only(library):
    # the page's footer is furniture, except its nurse helpline line (meta: content.also), which
    # people ask for; the email link's sentence without the address is left out
    uk = library.sources["uk"]
    units = [u for u in uk.units if u.quotable and u.block > uk.unit("uk.p080.s2").block]
    assert [u.text for u in units] == [
        "Questions about cancer?",
        "Call freephone 0808 800 40 40 from 9 to 5 - Monday to Friday.",
    ]
    assert all(u.locales == frozenset({"uk"}) for u in units)
    assert "Alternatively, you can email us." not in " ".join(u.text for u in uk.units)
    assert uk.unit("uk.p080.s2").text.startswith("Your team will talk to you")  # body ids unchanged


def test_an_also_region_whose_anchors_are_missing_is_refused(tmp_path):
    text = "Body.\n\nFooter line.\n"
    (tmp_path / "x.txt").write_text(text, encoding="utf-8")
    meta = {"id": "x", "short_name": "x", "title": "X", "last_reviewed": "2026-01-01", "locale": "en-GB"}
    meta["content"] = {"ends_before": "Footer", "also": [{"starts_at": "Not there", "ends_before": "line"}]}
    import yaml

    (tmp_path / "x.meta.yml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    with pytest.raises(ContentError):
        load_source(tmp_path / "x.meta.yml", 3, {})


def test_units_are_exact_stretches_of_their_file(library):
    for source in library.sources.values():
        for unit in source.units:
            assert source.text[unit.offset : unit.offset + len(unit.text)] == unit.text


def test_passages_naming_an_emergency_service_are_locale_bound(library):
    call_911 = [u for u in library.sources["us"].units if "911" in u.text and u.quotable]
    assert call_911 and all(u.locales == frozenset({"us"}) for u in call_911)


def test_missing_source_text_is_refused(tmp_path):
    meta = tmp_path / "x.meta.yml"
    meta.write_text("id: x\nshort_name: x\ntitle: t\nlast_reviewed: 2024-01-01\nlocale: en-GB\n")
    with pytest.raises(ContentError):
        load_source(meta, 3, {})


def test_a_known_gap_that_is_not_in_the_text_is_refused(tmp_path):
    (tmp_path / "x.txt").write_text("Body starts here. It is fine.\n")
    meta = tmp_path / "x.meta.yml"
    meta.write_text(
        "id: x\nshort_name: x\ntitle: t\nlast_reviewed: 2024-01-01\nlocale: en-GB\n"
        "known_gaps:\n  - text: 'not in the file'\n"
    )
    with pytest.raises(ContentError):
        load_source(meta, 3, {})


def test_comparison_form_collapses_whitespace_and_bullets():
    assert normalise_for_comparison("a:\n\n  • b\n• c") == "a: b c"


def test_data_dir_copy_matches_shared_sources():
    ours = sorted(p.name for p in (ROOT / "data" / "sources").glob("*.txt"))
    assert ours == ["000_024f6867875466ce.txt", "001_974c226bab6cec1b.txt"]
    if SHARED.is_dir():
        assert ours == sorted(p.name for p in Path(SHARED).glob("*.txt"))
