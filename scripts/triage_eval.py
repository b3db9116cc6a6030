"""Figures of the red-flag engine on an evaluation set, without printing its messages.

    .venv/bin/python scripts/triage_eval.py path/to/set.yml [--show]

A set is a YAML list of {text, level, ...}. Prints emergency recall, under-triage and
over-triage, overall and per voice. `--show` lists the messages that were under- or
over-triaged: use it only on sets that have already been run once (a fresh set is run once,
blind, before anyone looks at it).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crs.triage import LEVELS, default_engine  # noqa: E402


def figures(cases, assess) -> dict:
    rank = LEVELS.index
    got = [assess(case["text"]).level for case in cases]
    emergencies = [i for i, case in enumerate(cases) if case["level"] == "emergency"]
    caught = [i for i in emergencies if got[i] == "emergency"]
    under = [i for i, case in enumerate(cases) if rank(got[i]) < rank(case["level"])]
    over = [i for i, case in enumerate(cases) if rank(got[i]) > rank(case["level"])]
    return {
        "n": len(cases),
        "emergencies": len(emergencies),
        "recall": len(caught) / max(len(emergencies), 1),
        "caught": len(caught),
        "under": under,
        "over": over,
        "got": got,
    }


def summary(name: str, result: dict) -> str:
    return (
        f"{name}: {result['n']} messages; emergency recall {result['recall']:.1%} "
        f"({result['caught']}/{result['emergencies']}); under-triage {len(result['under'])}; "
        f"over-triage {len(result['over'])}/{result['n']} ({len(result['over']) / result['n']:.1%})"
    )


def main(argv) -> int:
    show = "--show" in argv
    paths = [a for a in argv if not a.startswith("--")]
    engine = default_engine()
    for path in paths:
        cases = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        result = figures(cases, engine.assess)
        print(summary(Path(path).name, result))
        voices = Counter(case.get("voice", "-") for case in cases)
        missed = Counter(cases[i].get("voice", "-") for i in result["under"])
        print("  under-triage by voice: " + ", ".join(f"{v} {missed[v]}/{n}" for v, n in sorted(voices.items())))
        kinds = Counter(f"{cases[i]['level']}->{result['got'][i]}" for i in result["under"] + result["over"])
        print("  errors by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
        if show:
            for i in result["under"] + result["over"]:
                print(f"  {cases[i]['level']:>9} -> {result['got'][i]:<9} {cases[i]['text']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
