"""``python -m crs.triage "message"``: the triage of one message as JSON, with which detector
fired and why (``why``: one line per finding)."""

from __future__ import annotations

import json
import sys
from typing import List, Sequence

from crs.triage.engine import TriageEngine, default_engine
from crs.triage.findings import Triage


def explain(triage: Triage, engine: TriageEngine) -> List[str]:
    lines = []
    for finding in triage.findings:
        what = f"{finding.id} ({finding.level}) {finding.assertion}"
        if finding.detector == "learned":
            threshold = engine.learned.thresholds.get(finding.id) if engine.learned else None
            how = f"learned detector: probability {finding.score} (own threshold {threshold}) on {finding.text!r}"
        elif finding.value is not None:
            how = f"rules, reading: {finding.value:g} in {finding.text!r}"
        else:
            how = f"rules, phrase: {finding.text!r}"
        lines.append(f"{what} <- {how}; source passage {finding.passage_id}")
    if triage.concern:
        lines.append(f"no sign named, but a change in someone's state: {triage.concern!r} -> the yes/no check")
    if not lines:
        lines.append("nothing found by the rules or the learned detector")
    return lines


def main(argv: Sequence[str]) -> int:
    if not argv:
        print('usage: python -m crs.triage "message text"', file=sys.stderr)
        return 2
    engine = default_engine()
    triage = engine.assess(" ".join(argv))
    print(json.dumps({**triage.as_dict(), "why": explain(triage, engine)}, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
