"""make bench: speed of the Rasa-free core on this machine (no timing assertions in tests).

Reports the red-flag engine's median and 95th-percentile time per message (rules and learned
detector) over the triage suite (tests/crs/triage/sets/cases.yml) plus long messages, and how long the content takes to load.
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
    timings, cpu = [], []
    for _ in range(5):
        for text in messages:
            t0, c0 = time.perf_counter(), time.process_time()
            engine.assess(text)
            timings.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
    timings.sort()
    cpu.sort()
    median = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95)]
    detector, engine.learned = engine.learned, None
    rules_only = []
    for text in messages:
        c0 = time.process_time()
        engine.assess(text)
        rules_only.append((time.process_time() - c0) * 1000)
    rules_only.sort()
    engine.learned = detector
    learned = "with the learned detector" if engine.learned is not None else "RULES ONLY (no learned detector)"
    print(f"red-flag engine ({learned}): {len(messages)} messages x 5 runs")
    print(f"  median {median:.3f} ms per message   p95 {p95:.3f} ms (target < 10 ms)   max {timings[-1]:.3f} ms")
    print(
        f"  CPU time: median {statistics.median(cpu):.3f} ms   p95 {cpu[int(len(cpu) * 0.95)]:.3f} ms "
        "(what an idle machine would show; wall time above includes waiting for a busy CPU)"
    )
    print(
        f"  the rules alone, CPU time: median {statistics.median(rules_only):.3f} ms   "
        f"p95 {rules_only[int(len(rules_only) * 0.95)]:.3f} ms (the learned detector adds the difference)"
    )
    print(
        f"  rules and detector load {load_engine * 1000:.0f} ms; content load and validation {load_content * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
