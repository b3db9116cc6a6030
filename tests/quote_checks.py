"""How every test checks a quote: verbatim in its source file and free of extraction gaps."""

from __future__ import annotations

import re
from typing import Dict

from crs.content import Library
from crs.content.sources import (
    _DANGLING_END,
    _EMPTY_SUCH_AS,
    _LEADING_PUNCT,
    _ORPHAN_DETERMINER,
    normalise_for_comparison,
)


def assert_quote_is_verbatim_and_intact(library: Library, quote: Dict) -> None:
    source = library.sources_by_id()[quote["source_id"]]
    text = normalise_for_comparison(quote["text"])
    assert text, quote
    assert text in normalise_for_comparison(source.text), f"not verbatim in {source.path.name}: {quote['text']!r}"
    for unit_id in quote.get("passage_ids", [quote["passage_id"]]):
        unit = source.unit(unit_id)
        # an excerpt may be a sentence that only follows a gap, with our line of context
        assert unit.quotable or (quote.get("excerpt") and unit.excerptable), f"{unit_id} has a gap: {unit.text!r}"
    for pattern in (_ORPHAN_DETERMINER, _EMPTY_SUCH_AS):
        assert not pattern.search(quote["text"]), quote["text"]
    for line in quote["text"].split("\n"):
        line = line.lstrip("• ").strip()
        assert not _LEADING_PUNCT.match(line) and not _DANGLING_END.search(line), line
    for gap in source.gaps:
        if gap.rule == "known_gap":
            assert gap.text not in quote["text"]
    assert quote["title"] == source.title
    assert quote["last_reviewed"] == source.last_reviewed.isoformat()
    assert quote["next_review"] == source.next_review.isoformat()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", quote["last_reviewed"])
