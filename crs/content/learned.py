"""Which passage answers a question, learned from a corpus of people's questions (issue 11).

BM25 knows the words of the passages; people ask in other words ("will it hurt", "how quick does
it come on", "wat is crs"). This classifier is trained on a corpus of questions written by people
who never saw the ranker, each labelled with the passages that answer it, or with none (questions
the sources do not answer). It gives, for a question:

- ``covered``: the probability that some passage answers it (the calibrated "not covered");
- ``passages``: for each passage id, the probability that it answers it (a ranking signal).

It is combined with the lexical ranker, never used alone: the ranker adds its scores, and "not
covered" needs both the classifier and the words to agree (``crs.answers``). It selects passages;
it never writes text.

Model: TF-IDF over word 1-2-grams and character 2-5-grams of the lower-cased question, one
logistic regression per passage plus one for "covered" (scikit-learn, which Rasa installs). The
passages' own text counts as a question each passage answers. Trained from
``data/content/questions/*.yml`` by ``make answer-model`` (or on first use), saved to
``models/answer_model.joblib`` with a digest of the corpus and the passages, so a changed corpus
or source retrains.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

import yaml

from crs.settings import ROOT
from crs.tfidf import FastTfidf

logger = logging.getLogger(__name__)

CORPUS_DIR = ROOT / "data" / "content" / "questions"
MODEL_PATH = ROOT / "models" / "answer_model.joblib"
VERSION = 1
COVERED = "_covered"
MIN_EXAMPLES = 3  # a passage with fewer questions gets no classifier of its own


def normalise(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").replace("‘", "'").split())


def corpus_files(corpus_dir: Path = CORPUS_DIR) -> List[Path]:
    return sorted(corpus_dir.glob("*.yml"))


def load_corpus(
    corpus_dir: Path = CORPUS_DIR, context_words: Callable[[str], List[str]] | None = None
) -> List[Tuple[str, Tuple[str, ...]]]:
    """(question, passage ids that answer it); no ids: the sources do not answer it.

    A file may also hold short conversations (``{turns: [{text, passages}]}``): their first turn is
    a question; a later turn is read as the answers read a follow-up, after the words kept from the
    turns before it (``context_words``: the words the answer context keeps of a question)."""
    examples = []
    for path in corpus_files(corpus_dir):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if "turns" not in item:
                examples.append((str(item["text"]), tuple(str(pid) for pid in item.get("passages") or ())))
                continue
            kept: List[str] = []
            for turn in item["turns"]:
                text = str(turn["text"])
                ids = tuple(str(pid) for pid in turn.get("passages") or ())
                examples.append(((" ".join(kept) + " " + text).strip() if kept else text, ids))
                if context_words is not None:
                    kept = context_words(text) or kept
    return examples


def digest(passages: Sequence[Tuple[str, str]], corpus_dir: Path = CORPUS_DIR) -> str:
    """What a saved model was trained from: the corpus files and the passages (id and text)."""
    sha = hashlib.sha256(f"v{VERSION}".encode())
    for path in corpus_files(corpus_dir):
        sha.update(path.name.encode() + b"\0" + path.read_bytes())
    for pid, text in passages:
        sha.update(f"{pid}\0{text}\0".encode())
    return sha.hexdigest()


class PassageClassifier:
    def __init__(self, vectorizer, classifiers: Dict[str, object], digest: str) -> None:
        import numpy as np

        self.vectorizer = vectorizer
        self.classifiers = classifiers
        self.digest = digest
        self._names = list(classifiers)
        self._weights = np.ascontiguousarray(np.vstack([classifiers[n].coef_[0] for n in self._names]).T)
        self._bias = np.array([classifiers[n].intercept_[0] for n in self._names])
        self._fast: FastTfidf | None = None  # the featurizer taken apart (crs.tfidf), on first use

    @classmethod
    def train(
        cls, examples: Sequence[Tuple[str, Sequence[str]]], passages: Sequence[Tuple[str, str]], digest: str = ""
    ) -> PassageClassifier:
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion

        known = {pid for pid, _ in passages}
        unknown = sorted({pid for _, ids in examples for pid in ids} - known)
        if unknown:
            raise ValueError(f"answer corpus names passages that do not exist: {unknown[:10]}")
        rows = [(normalise(text), tuple(ids)) for text, ids in examples]
        rows += [(normalise(text), (pid,)) for pid, text in passages]  # a passage answers itself
        texts = [text for text, _ in rows]
        vectorizer = FeatureUnion(
            [
                (
                    "words",
                    TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"[a-z0-9]+", sublinear_tf=True),
                ),
                ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
            ]
        )
        features = vectorizer.fit_transform(texts)
        classifiers: Dict[str, object] = {}
        targets = {COVERED: np.array([bool(ids) for _, ids in rows], dtype=int)}
        for pid in sorted(known):
            targets[pid] = np.array([pid in ids for _, ids in rows], dtype=int)
        for name, y in targets.items():
            if y.sum() < MIN_EXAMPLES or y.sum() == len(y):
                continue
            model = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000, solver="liblinear")
            classifiers[name] = model.fit(features, y)
        return cls(vectorizer, classifiers, digest)

    def predict(self, text: str) -> Tuple[float, Dict[str, float]]:
        """(probability that a passage answers it, {passage id: probability it answers it})."""
        import numpy as np

        if self._fast is None:
            self._fast = FastTfidf(self.vectorizer)
        texts = [normalise(text)]
        features = self._fast.matrix(texts) if self._fast.supported else self.vectorizer.transform(texts)
        logits = features @ self._weights + self._bias
        values = 1.0 / (1.0 + np.exp(-np.asarray(logits).ravel()))
        scores = dict(zip(self._names, values.tolist(), strict=True))
        return scores.pop(COVERED, 1.0), scores

    def save(self, path: Path = MODEL_PATH) -> None:
        import joblib

        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(
            {"version": VERSION, "digest": self.digest, "vectorizer": self.vectorizer, "classifiers": self.classifiers},
            path,
        )

    @classmethod
    def load(cls, path: Path = MODEL_PATH, digest: str | None = None) -> PassageClassifier | None:
        import joblib

        if not path.is_file():
            return None
        try:
            data = joblib.load(path)
        except Exception:  # damaged or incompatible: train again
            logger.warning("answer model at %s could not be read; it will be trained again", path)
            return None
        if data.get("version") != VERSION or (digest is not None and data.get("digest") != digest):
            return None
        return cls(data["vectorizer"], data["classifiers"], data["digest"])


def load_or_train(
    passages: Sequence[Tuple[str, str]],
    context_words: Callable[[str], List[str]] | None = None,
    path: Path = MODEL_PATH,
) -> PassageClassifier | None:
    """The saved model if it matches the corpus and passages; else trained now (and saved).
    None when there is no corpus (the ranker then works on words alone)."""
    if not corpus_files():
        return None
    wanted = digest(passages)
    model = PassageClassifier.load(path, wanted)
    if model is None:
        logger.info("training the answer model (its corpus or the passages changed)")
        model = PassageClassifier.train(load_corpus(context_words=context_words), passages, wanted)
        try:
            model.save(path)
        except OSError:
            logger.warning("the answer model could not be saved; it will be trained again")
    return model


def main() -> int:
    """`make answer-model`: train the answer model now if its corpus or the passages changed."""
    from crs.content import default_library

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ranker = default_library().ranker()  # loads the saved model, or trains and saves it
    examples = load_corpus()
    print(
        f"answer model: {len(examples)} questions ({sum(1 for _, ids in examples if not ids)} not covered), "
        f"{len(ranker.passages)} passages -> {MODEL_PATH.relative_to(ROOT)}"
    )
    return 0 if ranker.learned is not None else 1


if __name__ == "__main__":
    raise SystemExit(main())
