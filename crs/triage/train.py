"""``python -m crs.triage.train``: train the learned red-flag detector on the corpus and save it.

Prints the corpus size and cross-validated figures; ``make detector`` runs it when the corpus
changed. The engine also trains on first use when no saved detector matches the corpus.
"""

from __future__ import annotations

import sys
import time

from crs.triage.engine import TriageEngine
from crs.triage.learned import ANY_RED_FLAG, MODEL_PATH, corpus_digest, load_corpus


def main() -> int:
    started = time.perf_counter()
    engine = TriageEngine.load(learned=False)
    detector = engine.train_detector(corpus_digest())
    detector.save(MODEL_PATH)
    examples = load_corpus()
    red = sum(1 for _, labels in examples if any(engine.is_red_flag(label) for label in labels))
    print(
        f"learned detector: {len(examples)} messages ({red} with a red flag), {len(detector.labels)} labels, "
        f"'any red flag' threshold {detector.thresholds[ANY_RED_FLAG]:.2f}; "
        f"trained in {time.perf_counter() - started:.1f} s -> {MODEL_PATH}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
