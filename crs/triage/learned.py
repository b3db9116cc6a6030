"""The learned red-flag detector: a classifier trained on the project's corpus of messages.

It sits beside the rules so that either one can escalate (issue 9). The rules know the words
they were given; the classifier generalises over the way people describe signs (scenes, events,
idioms, broken grammar, typos). It reads each sentence of a message and says which red flags and
symptoms it describes; the assertion rules then decide whether the description is a report of
something present now (negation, hypothesis, history, someone else), on the stretch of words the
classifier relied on ("evidence": the words whose removal lowers its confidence most).

Model: TF-IDF over word 1-2-grams and character 2-5-grams of the folded, spelling-corrected
tokens, one logistic regression per label (scikit-learn, which Rasa installs), plus one for "any
red flag". Trained from ``data/triage/corpus/*.yml`` by ``make detector`` (or on first use), saved
to ``models/red_flag_detector.joblib`` with the corpus digest, so a changed corpus retrains.
No Rasa import; no download.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

import yaml

from crs.settings import ROOT
from crs.tfidf import FastTfidf

logger = logging.getLogger(__name__)

CORPUS_DIR = ROOT / "data" / "triage" / "corpus"
RULES_FILE = ROOT / "data" / "triage" / "red_flags.yml"
FOLDING_FILE = Path(__file__).with_name("folding.py")  # how messages are read before featurizing
# The assistant's own training questions and small talk are examples of messages with no sign
# (the symptom reports of data/nlu are not used).
NEGATIVE_NLU_FILES = tuple(
    ROOT / "data" / "nlu" / name for name in ("conversation.yml", "topics.yml", "treatments.yml")
)
_ENTITY = re.compile(r"\[([^\]]+)\]\([^)]+\)|\[([^\]]+)\]\{[^}]+\}")
MODEL_PATH = ROOT / "models" / "red_flag_detector.joblib"
ANY_RED_FLAG = "any_red_flag"
MIN_EXAMPLES = 15  # a label with fewer positive examples gets no classifier of its own
VERSION = 1
# When the "any red flag" classifier fires, its most likely sign is reported if it is at least
# this far towards its own threshold (when in doubt, escalate; below it, the yes/no check asks).
LEAST_SHARE = 0.12


@dataclass(frozen=True)
class Detection:
    """A label the classifier found in one stretch of tokens, with its evidence."""

    label: str
    probability: float
    start: int  # token range of the evidence in the message's doc
    end: int
    segment: Tuple[int, int]  # token range of the sentence it was found in
    against: Tuple[int, ...] = ()  # tokens in the evidence whose removal raises the confidence
    weak: bool = False  # found by "any red flag" only, below the label's own threshold


def corpus_files(corpus_dir: Path = CORPUS_DIR) -> List[Path]:
    return sorted(corpus_dir.glob("*.yml")) + [path for path in NEGATIVE_NLU_FILES if path.is_file()]


def load_corpus(corpus_dir: Path = CORPUS_DIR) -> List[Tuple[str, Tuple[str, ...]]]:
    examples = []
    for path in corpus_files(corpus_dir):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if isinstance(data, dict):  # Rasa NLU data: every example is a message with no sign
            for block in data.get("nlu") or []:
                for line in str(block.get("examples") or "").splitlines():
                    line = line.strip()
                    if line.startswith("- "):
                        examples.append((_ENTITY.sub(lambda m: m.group(1) or m.group(2), line[2:]), ()))
            continue
        for item in data:
            examples.append((str(item["text"]), tuple(item.get("labels") or ())))
    return examples


def corpus_digest(corpus_dir: Path = CORPUS_DIR) -> str:
    """What the saved detector was trained from: the corpus, the rules file and the folding code
    (the messages are read with its spellings and folding)."""
    digest = hashlib.sha256(f"v{VERSION}".encode())
    for path in corpus_files(corpus_dir) + [RULES_FILE, FOLDING_FILE]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class LearnedDetector:
    """Per-label classifiers over one shared TF-IDF featurizer, with decision thresholds."""

    def __init__(self, vectorizer, classifiers: Dict[str, object], thresholds: Dict[str, float], digest: str) -> None:
        self.vectorizer = vectorizer
        self.classifiers = classifiers
        self.thresholds = thresholds
        self.digest = digest
        self.labels = [label for label in classifiers if label != ANY_RED_FLAG]
        # all classifiers as one matrix: one sparse product per call instead of one per label
        import numpy as np

        self._names = list(classifiers)
        self._index = {label: i for i, label in enumerate(self._names)}
        self._weights = np.ascontiguousarray(np.vstack([classifiers[label].coef_[0] for label in self._names]).T)
        # the featurizer's parts, called directly (the pipeline's parallel machinery costs more
        # than the work for a few sentences)
        self._parts = [part for _, part in getattr(vectorizer, "transformer_list", [("all", vectorizer)])]
        self._analyzers: Dict[int, Callable] = {}
        self._fast: FastTfidf | None = None
        self._bias = np.array([classifiers[label].intercept_[0] for label in self._names])

    # -- training ----------------------------------------------------------------------------

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        labels: Sequence[Sequence[str]],
        red_flags: Sequence[str],
        digest: str = "",
        recall_target: float = float(os.environ.get("CRS_DETECTOR_RECALL", "0.97")),
    ) -> LearnedDetector:
        """Fit the featurizer and the classifiers; thresholds from 5-fold cross-validation.

        The "any red flag" threshold is set so that cross-validated recall of red-flag messages
        reaches `recall_target` (when in doubt, escalate); the per-label ones for 90% precision.
        """
        import numpy as np
        from sklearn.model_selection import cross_val_predict

        vectorizer = _vectorizer()
        features = vectorizer.fit_transform(texts)
        targets: Dict[str, np.ndarray] = {}
        for label in sorted({label for row in labels for label in row}):
            targets[label] = np.array([label in row for row in labels], dtype=int)
        targets[ANY_RED_FLAG] = np.array([any(label in red_flags for label in row) for row in labels], dtype=int)
        classifiers: Dict[str, object] = {}
        thresholds: Dict[str, float] = {}
        for label, y in targets.items():
            if y.sum() < MIN_EXAMPLES:
                continue
            model = _classifier()
            scores = cross_val_predict(model, features, y, cv=5, method="predict_proba")[:, 1]
            thresholds[label] = (
                _threshold_for_recall(scores, y, recall_target) if label == ANY_RED_FLAG else _precise(scores, y)
            )
            classifiers[label] = model.fit(features, y)
        return cls(vectorizer, classifiers, thresholds, digest)

    def save(self, path: Path = MODEL_PATH) -> None:
        import joblib

        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(
            {
                "version": VERSION,
                "digest": self.digest,
                "vectorizer": self.vectorizer,
                "classifiers": self.classifiers,
                "thresholds": self.thresholds,
            },
            path,
        )

    @classmethod
    def load(cls, path: Path = MODEL_PATH, digest: str | None = None) -> LearnedDetector | None:
        """The saved detector, or None when there is none or it was trained on another corpus."""
        import joblib

        if not path.is_file():
            return None
        try:
            data = joblib.load(path)
        except Exception:  # a damaged or incompatible file: train again
            logger.warning("learned detector at %s could not be read; it will be trained again", path)
            return None
        if data.get("version") != VERSION or (digest is not None and data.get("digest") != digest):
            return None
        return cls(data["vectorizer"], data["classifiers"], data["thresholds"], data["digest"])

    # -- use ---------------------------------------------------------------------------------

    def _features(self, texts: Sequence[str]):
        """The TF-IDF features of `texts` as the fitted featurizer computes them, built directly
        (``crs.tfidf``). Equality with `vectorizer.transform` is a unit test."""
        if self._fast is None:
            self._fast = FastTfidf(self.vectorizer)
        if not self._fast.supported:
            return self.vectorizer.transform(texts)
        return self._fast.matrix(texts)

    def logits(self, texts: Sequence[str]):
        """Log-odds of every label for each text (rows) in one sparse product."""
        return self._features(texts) @ self._weights + self._bias

    def known_words(self, text: str) -> int:
        """How many words of `text` the corpus had."""
        vocabulary = self._parts[0].vocabulary_ if self._parts and self._parts[0].analyzer == "word" else {}
        return sum(1 for word in text.split() if word in vocabulary)

    def probabilities(self, texts: Sequence[str]) -> List[Dict[str, float]]:
        if not texts:
            return []
        import numpy as np

        values = 1.0 / (1.0 + np.exp(-self.logits(texts)))
        return [dict(zip(self._names, row.tolist(), strict=True)) for row in values]

    def detect(
        self,
        words: Sequence[str],
        segments: Sequence[Tuple[int, int]],
        is_red_flag: Callable[[str], bool],
        probabilities: Sequence[Dict[str, float]] | None = None,
        wanted: Callable[[str, Tuple[int, int]], bool] | None = None,
    ) -> List[Detection]:
        """Labels found in each segment (a token range of `words`), with their evidence (only
        for the labels `wanted(label, segment)` accepts: evidence costs a featurization)."""
        if probabilities is None:
            probabilities = self.probabilities([" ".join(words[s:e]) for s, e in segments])
        fired: List[Tuple[Tuple[int, int], Dict[str, float], List[str]]] = []
        for segment, probs in zip(segments, probabilities, strict=True):
            labels = [label for label in self._fired(probs, is_red_flag) if wanted is None or wanted(label, segment)]
            if labels:
                fired.append((segment, probs, labels))
        if not fired:
            return []
        # evidence: what each word adds to the log-odds, from one featurization per segment
        words = list(words)
        features = self._features([" ".join(words[start:end]) for (start, end), _, _ in fired])
        detections: List[Detection] = []
        for row, ((start, end), probs, labels) in enumerate(fired):
            owned = self._owned_features(words[start:end])
            values = dict(zip(features[row].indices.tolist(), features[row].data.tolist(), strict=True))
            for label in labels:
                column = self._weights[:, self._index[label]]
                adds = [sum(values.get(f, 0.0) * share * column[f] for f, share in own) for own in owned]
                e_start, e_end, against = _evidence(adds, start, end)
                weak = probs[label] < self.thresholds[label]
                detections.append(Detection(label, probs[label], e_start, e_end, (start, end), against, weak))
        return detections

    def _owned_features(self, words: Sequence[str]) -> List[List[Tuple[int, float]]]:
        """For each word, the features it makes (its own word, half of each word pair it is in,
        its character n-grams), each with the share of it the word owns."""
        owned: List[List[int]] = [[] for _ in words]
        offset = 0
        for part in self._parts:
            vocabulary = part.vocabulary_
            if part.analyzer == "word":
                for i, word in enumerate(words):
                    if word in vocabulary:
                        owned[i].append(offset + vocabulary[word])
                    if i + 1 < len(words) and f"{word} {words[i + 1]}" in vocabulary:
                        owned[i].append(offset + vocabulary[f"{word} {words[i + 1]}"])
                        owned[i + 1].append(offset + vocabulary[f"{word} {words[i + 1]}"])
            else:
                analyze = self._analyzers.setdefault(id(part), part.build_analyzer())
                for i, word in enumerate(words):
                    owned[i].extend(offset + vocabulary[g] for g in analyze(word) if g in vocabulary)
            offset += len(vocabulary)
        counts: Dict[int, int] = {}
        for features in owned:
            for feature in features:
                counts[feature] = counts.get(feature, 0) + 1
        return [[(feature, 1.0 / counts[feature]) for feature in features] for features in owned]

    def _fired(self, probs: Dict[str, float], is_red_flag: Callable[[str], bool]) -> List[str]:
        """The labels of one segment: red flags first."""
        fired = [label for label in self.labels if probs[label] >= self.thresholds[label]]
        red = [label for label in fired if is_red_flag(label)]
        if not red and probs.get(ANY_RED_FLAG, 0.0) >= self.thresholds.get(ANY_RED_FLAG, 1.0):
            # "some red flag" without one above its own threshold: the most likely one
            candidates = [label for label in self.labels if is_red_flag(label)]
            best = max(candidates, key=lambda label: probs[label] / self.thresholds[label], default=None)
            if best is not None and probs[best] >= LEAST_SHARE * self.thresholds[best]:
                red = [best]
        return red + [label for label in fired if not is_red_flag(label)]


def _evidence(adds: Sequence[float], start: int, end: int) -> Tuple[int, int, Tuple[int, ...]]:
    """The stretch of tokens a classifier relied on, from what each word adds to its log-odds
    (the share of the features it makes, weighted): the words that add most (and those close
    to it), from the first to the last; and the tokens in it that speak against the label ("isnt"
    in "my heart isnt racing")."""
    if end - start <= 1:
        return start, end, ()
    best = max(adds)
    if best <= 0:
        return start, end, ()
    chosen = [start + i for i, add in enumerate(adds) if add >= 0.3 * best]
    first, last = min(chosen), max(chosen) + 1
    against = tuple(start + i for i, add in enumerate(adds) if add < -0.05 and first - 1 <= start + i <= last)
    return first, last, against


def _vectorizer():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion(
        [
            ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"\S+", sublinear_tf=True)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
        ]
    )


def _classifier():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=8.0, class_weight="balanced", max_iter=2000, solver="liblinear")


def _threshold_for_recall(scores, y, target: float) -> float:
    positives = sorted(scores[y == 1])
    if not positives:
        return 0.5
    index = int((1.0 - target) * len(positives))
    return float(min(0.5, positives[index]))


def _precise(scores, y, precision: float = 0.9) -> float:
    """The lowest threshold whose cross-validated precision reaches `precision` (recall is the
    job of the "any red flag" classifier; a label of its own should name the right sign)."""
    for threshold in [i / 100 for i in range(30, 96, 2)]:
        predicted = scores >= threshold
        tp = float((predicted & (y == 1)).sum())
        fp = float((predicted & (y == 0)).sum())
        if tp and tp / (tp + fp) >= precision:
            return threshold
    return 0.95
