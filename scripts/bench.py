"""make bench: speed of the Rasa-free core on this machine (no timing assertions in tests).

Reports the red-flag engine's median and 95th-percentile time per message over the triage
suite (tests/crs/triage/sets/cases.yml) plus long messages, and how long the content takes to load.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crs.content import Library  # noqa: E402
from crs.triage import TriageEngine  # noqa: E402


def main() -> int:
    started = time.perf_counter()
    engine = TriageEngine.load()
    load_engine = time.perf_counter() - started
    started = time.perf_counter()
    Library.load()
    load_content = time.perf_counter() - started

    messages = [
        case["text"] for case in yaml.safe_load((ROOT / "tests" / "crs" / "triage" / "sets" / "cases.yml").read_text())
    ]
    messages += [" ".join(messages[:20])] * 5  # a few long carer messages
    for text in messages:  # warm the caches as a running server would be
        engine.assess(text)
    timings = []
    for _ in range(5):
        for text in messages:
            t0 = time.perf_counter()
            engine.assess(text)
            timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    median = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95)]
    print(f"red-flag engine: {len(messages)} messages x 5 runs")
    print(f"  median {median:.3f} ms per message (target < 5 ms)   p95 {p95:.3f} ms   max {timings[-1]:.3f} ms")
    print(f"  rules load {load_engine * 1000:.0f} ms; content load and validation {load_content * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
