"""Triage figures on held-out folds of the learned detector's own corpus: other data to build against.

    .venv/bin/python scripts/triage_cv.py [--folds 5] [--cache DIR]

Each fold's detector is trained on the rest of `data/triage/corpus/` (the rules unchanged) and the
whole engine triages the held-out messages; a message's level comes from its labels (a red flag:
emergency; another sign: urgent; none: none). Prints emergency recall and over-triage over all
folds. The fold detectors are kept in --cache (keyed by the corpus digest), so a change to the
rules is measured again in seconds. Not a fresh set: the corpus was written for training, and its
"none" messages are near misses on purpose, so its over-triage runs higher than on blind sets.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crs.triage import LEVELS  # noqa: E402
from crs.triage.engine import TriageEngine  # noqa: E402
from crs.triage.folding import fold  # noqa: E402
from crs.triage.learned import LearnedDetector, corpus_digest, load_corpus  # noqa: E402


def fold_detectors(engine: TriageEngine, examples, folds: int, cache: Path):
    import joblib

    order = list(range(len(examples)))
    random.Random(7).shuffle(order)
    cache.mkdir(parents=True, exist_ok=True)
    digest = corpus_digest()[:12]
    for k in range(folds):
        held_out = sorted(order[k::folds])
        path = cache / f"fold{k}of{folds}-{digest}.joblib"
        if not path.exists():
            skip = set(held_out)
            train = [examples[i] for i in range(len(examples)) if i not in skip]
            texts = [" ".join(engine._words(engine._doc(fold(text)[0]))) for text, _ in train]
            red = [fid for fid in engine.findings if engine.is_red_flag(fid)]
            detector = LearnedDetector.train(texts, [labels for _, labels in train], red, digest)
            joblib.dump(detector, path)
            print(f"fold {k + 1}/{folds} trained", flush=True)
        yield joblib.load(path), held_out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=Path(".cache/triage-cv"))
    args = parser.parse_args()
    engine = TriageEngine.load(learned=False)
    examples = load_corpus()
    rank = LEVELS.index
    emergencies = caught = under = over = total = 0
    for detector, held_out in fold_detectors(engine, examples, args.folds, args.cache):
        engine.learned = detector
        for i in held_out:
            text, labels = examples[i]
            if any(engine.is_red_flag(label) for label in labels):
                level = "emergency"
            else:
                level = "urgent" if labels else "none"
            got = engine.assess(text).level
            total += 1
            emergencies += level == "emergency"
            caught += level == "emergency" and got == "emergency"
            under += rank(got) < rank(level)
            over += rank(got) > rank(level)
    print(
        f"held-out corpus ({args.folds} folds, {total} messages, {emergencies} emergencies): "
        f"emergency recall {caught / max(emergencies, 1):.1%} ({caught}/{emergencies}); "
        f"under-triage {under}; over-triage {over}/{total} ({over / max(total, 1):.1%})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
