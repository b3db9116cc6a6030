"""`make content-report`: what the assistant can quote from each source, and what it cannot.

For each source: review status, passages (quotable or not), the passages each topic uses, and
every extraction gap found with its position (line:column in the source file).
"""

from __future__ import annotations

import sys
from typing import List

from crs.content import Library, Quote, format_date


def report(library: Library) -> str:
    today = library.today()
    lines: List[str] = [f"Content report ({today.isoformat()}; overdue sources: {library.overdue_mode})", ""]
    for source in library.sources.values():
        overdue = source.is_overdue(today)
        stated = "stated on the page" if source.next_review_stated else "default review period"
        lines += [
            f"== {source.short_name}: {source.title} ({source.id}, {source.locale})",
            f"   reviewer: {source.reviewer or 'not named'}",
            f"   last reviewed {format_date(source.last_reviewed)}; next review {format_date(source.next_review)} ({stated})",
            f"   review status: {'OVERDUE' if overdue else 'current'}"
            + (" -> excluded from answers" if overdue and library.overdue_mode == "exclude" else ""),
        ]
        units = [u for u in source.units if u.kind != "heading"]
        quotable = [u for u in units if u.quotable]
        lines.append(
            f"   passages: {len(units)} ({len(quotable)} quotable, {len(units) - len(quotable)} with a gap or navigation)"
        )
        lines.append("   passages used by topic:")
        for topic in library.topics.values():
            ids = [u.id for src, units_ in topic.ranges if src is source for u in units_ if u.quotable]
            if ids:
                lines.append(f"     {topic.id:17s} {', '.join(ids)}")
        lines.append(f"   gaps ({len(source.gaps)}):")
        for gap in source.gaps:
            lines.append(f"     {gap.line}:{gap.column}  {gap.unit_id:12s} {gap.rule:24s} {gap.text!r}")
        lines.append("")
    lines.append("Passages quoted per topic and locale (uk / us):")
    for topic_id in library.topics:
        counts = []
        for locale_id in ("uk", "us"):
            segments = library.topic_segments(topic_id, library.locale(locale_id))
            counts.append(str(sum(len(s.units) for s in segments if isinstance(s, Quote))))
        lines.append(f"   {topic_id:17s} {' / '.join(counts)}")
    return "\n".join(lines)


def main() -> int:
    print(report(Library.load()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
