"""Blind sets (issue 9): written by people who never saw the rules, the corpus or the tests,
each run once before it joined here (first-run figures in README). Now regression guards: no
emergency may be under-triaged; figures are printed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from crs.triage import LEVELS, default_engine

SETS = sorted((Path(__file__).parent / "sets").glob("fresh*.yml"))


@pytest.mark.parametrize("path", SETS, ids=[p.stem for p in SETS])
def test_blind_set_has_no_under_triage(path):
    engine = default_engine()
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    rank = LEVELS.index
    got = [engine.assess(case["text"]).level for case in cases]
    emergencies = [i for i, case in enumerate(cases) if case["level"] == "emergency"]
    caught = sum(1 for i in emergencies if got[i] == "emergency")
    under = [
        (cases[i]["text"], cases[i]["level"], got[i])
        for i in range(len(cases))
        if rank(got[i]) < rank(cases[i]["level"])
    ]
    over = [i for i in range(len(cases)) if rank(got[i]) > rank(cases[i]["level"])]
    print(
        f"\n{path.name}: {len(cases)} messages; emergency recall {caught / len(emergencies):.1%} "
        f"({caught}/{len(emergencies)}); under-triage {len(under)}; over-triage {len(over)}/{len(cases)} "
        f"({len(over) / len(cases):.1%})"
    )
    assert len(SETS) >= 2 and len(cases) >= 200 and len(emergencies) >= 80
    assert not under, under
