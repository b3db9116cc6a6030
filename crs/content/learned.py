"""Which passage answers a question, learned from a corpus of people's questions (issue 11).

BM25 knows the words of the passages; people ask in other words ("will it hurt", "how quick does
it come on", "wat is crs"). This classifier is trained on a corpus of questions written by people
who never saw the ranker, each labelled with the passages that answer it, or with none (questions
the sources do not answer). It gives, for a question:

- ``covered``: the probability that some passage answers it (the calibrated "not covered");
- ``passages``: for each passage id, the probability that it answers it (a ranking signal).

A second model reads follow-ups (``FollowUpClassifier``): the follow-up's own words, the words
kept from the question before, and which passages answered it, as three separate inputs. After
"what signs?", "then what?" or "which ones?" the passage that answers depends on the passage just
given, which one bag of words over both turns cannot tell. It ranks passages only (its mean with
the first model's reading); "covered" stays the first model's.

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
from typing import Callable, Dict, Iterator, List, Sequence, Tuple

import yaml

from crs.settings import ROOT
from crs.tfidf import FastTfidf

logger = logging.getLogger(__name__)

CORPUS_DIR = ROOT / "data" / "content" / "questions"
MODEL_PATH = ROOT / "models" / "answer_model.joblib"
VERSION = 3  # 2: with the follow-up model; 3: the follow-up model saved as its parts
COVERED = "_covered"
MIN_EXAMPLES = 3  # a passage with fewer questions gets no classifier of its own


def normalise(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").replace("‘", "'").split())


def corpus_files(corpus_dir: Path = CORPUS_DIR) -> List[Path]:
    return sorted(corpus_dir.glob("*.yml"))


def _corpus_items(corpus_dir: Path) -> Iterator[dict]:
    """Every row of every corpus file: a question, or a conversation (``turns``)."""
    for path in corpus_files(corpus_dir):
        yield from yaml.safe_load(path.read_text(encoding="utf-8")) or []


def _ids(row: dict) -> Tuple[str, ...]:
    return tuple(str(pid) for pid in row.get("passages") or ())


def load_corpus(
    corpus_dir: Path = CORPUS_DIR, context_words: Callable[[str], List[str]] | None = None
) -> List[Tuple[str, Tuple[str, ...]]]:
    """(question, passage ids that answer it); no ids: the sources do not answer it.

    A file may also hold short conversations (``{turns: [{text, passages}]}``): their first turn is
    a question; a later turn is read as the answers read a follow-up, after the words kept from the
    turns before it (``context_words``: the words the answer context keeps of a question)."""
    examples = []
    for item in _corpus_items(corpus_dir):
        if "turns" not in item:
            examples.append((str(item["text"]), _ids(item)))
            continue
        kept: List[str] = []
        for turn in item["turns"]:
            text = str(turn["text"])
            examples.append(((" ".join(kept) + " " + text).strip() if kept else text, _ids(turn)))
            if context_words is not None:
                kept = context_words(text) or kept
    return examples


def load_follow_ups(
    context_words: Callable[[str], List[str]], corpus_dir: Path = CORPUS_DIR
) -> List[Tuple[str, str, Tuple[str, ...], Tuple[str, ...]]]:
    """The later turns of the corpus's conversations: (turn, words kept from the turns before,
    passages that answered the last answered turn, passages that answer this turn)."""
    rows = []
    for item in _corpus_items(corpus_dir):
        kept: List[str] = []
        last: Tuple[str, ...] = ()
        for turn in item.get("turns") or []:
            text, ids = str(turn["text"]), _ids(turn)
            if last:
                rows.append((text, " ".join(kept), last, ids))
            kept = context_words(text) or kept
            last = ids or last
    return rows


def digest(passages: Sequence[Tuple[str, str]], corpus_dir: Path = CORPUS_DIR) -> str:
    """What a saved model was trained from: the corpus files and the passages (id and text)."""
    sha = hashlib.sha256(f"v{VERSION}".encode())
    for path in corpus_files(corpus_dir):
        sha.update(path.name.encode() + b"\0" + path.read_bytes())
    for pid, text in passages:
        sha.update(f"{pid}\0{text}\0".encode())
    return sha.hexdigest()


def _question_vectorizer():
    """TF-IDF over word 1-2-grams and character 2-5-grams of a lower-cased question."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"[a-z0-9]+", sublinear_tf=True),
            ),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
        ]
    )


class _Stack:
    """One logistic regression per name, their weights side by side: one product scores them all."""

    def __init__(self, classifiers: Dict[str, object]) -> None:
        import numpy as np

        self.names = list(classifiers)
        self.weights = np.array([classifiers[n].coef_[0] for n in self.names]).T.copy(order="C")
        self.bias = np.array([classifiers[n].intercept_[0] for n in self.names])

    def scores(self, features) -> Dict[str, float]:
        """{name: probability} for one row of features (none before training)."""
        import numpy as np

        if not self.names:
            return {}
        logits = features @ self.weights + self.bias
        values = 1.0 / (1.0 + np.exp(-np.asarray(logits).ravel()))
        return dict(zip(self.names, values.tolist(), strict=True))


class FollowUpClassifier:
    """Which passage answers a follow-up, from its words, the words kept from the question before
    and the passages that answered it (``load_follow_ups``)."""

    def __init__(self, text_vectorizer, kept_vectorizer, passage_ids: Sequence[str], classifiers: Dict[str, object]):
        self.text_vectorizer = text_vectorizer
        self.kept_vectorizer = kept_vectorizer
        self.passage_ids = list(passage_ids)
        self.classifiers = classifiers
        self._index = {pid: i for i, pid in enumerate(self.passage_ids)}
        self._stack = _Stack(classifiers)

    def parts(self) -> Dict[str, object]:
        """What is saved (PassageClassifier.save): the arguments that make it again."""
        return {
            "text_vectorizer": self.text_vectorizer,
            "kept_vectorizer": self.kept_vectorizer,
            "passage_ids": self.passage_ids,
            "classifiers": self.classifiers,
        }

    def _after(self, rows: Sequence[Sequence[str]]):
        """The passages that answered the turn before, one column each (the first counts most)."""
        from scipy.sparse import lil_matrix

        matrix = lil_matrix((len(rows), len(self.passage_ids)))
        for row, ids in enumerate(rows):
            for place, pid in enumerate(ids):
                if pid in self._index:
                    matrix[row, self._index[pid]] = 1.0 / (1.0 + 0.5 * place)
        return matrix.tocsr()

    def _features(self, texts: Sequence[str], kept: Sequence[str], after: Sequence[Sequence[str]], fit: bool = False):
        from scipy.sparse import hstack

        texts = [normalise(text) for text in texts]
        if fit:
            parts = [self.text_vectorizer.fit_transform(texts), self.kept_vectorizer.fit_transform(kept)]
        else:
            parts = [self.text_vectorizer.transform(texts), self.kept_vectorizer.transform(kept)]
        return hstack([*parts, self._after(after)]).tocsr()

    @classmethod
    def train(
        cls, rows: Sequence[Tuple[str, str, Sequence[str], Sequence[str]]], passage_ids: Sequence[str]
    ) -> FollowUpClassifier | None:
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        if not rows:
            return None
        kept_vectorizer = TfidfVectorizer(analyzer="word", token_pattern=r"[a-z0-9]+", sublinear_tf=True)
        featurizer = cls(_question_vectorizer(), kept_vectorizer, passage_ids, {})
        features = featurizer._features(
            [text for text, _, _, _ in rows],
            [kept for _, kept, _, _ in rows],
            [after for _, _, after, _ in rows],
            fit=True,
        )
        classifiers: Dict[str, object] = {}
        for pid in passage_ids:
            y = np.array([pid in ids for _, _, _, ids in rows], dtype=int)
            if y.sum() < 2 or y.sum() == len(y):
                continue
            classifier = LogisticRegression(C=3.0, class_weight="balanced", max_iter=2000, solver="liblinear")
            classifiers[pid] = classifier.fit(features, y)
        return cls(featurizer.text_vectorizer, kept_vectorizer, passage_ids, classifiers)

    def predict(self, text: str, kept: str, after: Sequence[str]) -> Dict[str, float]:
        """{passage id: probability it answers this follow-up}."""
        return self._stack.scores(self._features([text], [kept], [tuple(after)]))


class PassageClassifier:
    def __init__(self, vectorizer, classifiers: Dict[str, object], digest: str) -> None:
        self.vectorizer = vectorizer
        self.classifiers = classifiers
        self.digest = digest
        self._stack = _Stack(classifiers)
        self._fast: FastTfidf | None = None  # the featurizer taken apart (crs.tfidf), on first use
        self.follow_up: FollowUpClassifier | None = None

    @classmethod
    def train(
        cls, examples: Sequence[Tuple[str, Sequence[str]]], passages: Sequence[Tuple[str, str]], digest: str = ""
    ) -> PassageClassifier:
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        known = {pid for pid, _ in passages}
        unknown = sorted({pid for _, ids in examples for pid in ids} - known)
        if unknown:
            raise ValueError(f"answer corpus names passages that do not exist: {unknown[:10]}")
        rows = [(normalise(text), tuple(ids)) for text, ids in examples]
        rows += [(normalise(text), (pid,)) for pid, text in passages]  # a passage answers itself
        texts = [text for text, _ in rows]
        vectorizer = _question_vectorizer()
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
        if self._fast is None:
            self._fast = FastTfidf(self.vectorizer)
        texts = [normalise(text)]
        features = self._fast.matrix(texts) if self._fast.supported else self.vectorizer.transform(texts)
        scores = self._stack.scores(features)
        return scores.pop(COVERED, 1.0), scores

    def predict_follow_up(self, text: str, kept: str, after: Sequence[str]) -> Dict[str, float] | None:
        """The follow-up model's reading (None without one, or without passages before)."""
        if self.follow_up is None or not after:
            return None
        return self.follow_up.predict(text, kept, after)

    def save(self, path: Path = MODEL_PATH) -> None:
        import joblib

        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(
            {
                "version": VERSION,
                "digest": self.digest,
                "vectorizer": self.vectorizer,
                "classifiers": self.classifiers,
                "follow_up": self.follow_up.parts() if self.follow_up is not None else None,
            },
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
        model = cls(data["vectorizer"], data["classifiers"], data["digest"])
        parts = data.get("follow_up")
        model.follow_up = FollowUpClassifier(**parts) if parts else None
        return model


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
        if context_words is not None:
            model.follow_up = FollowUpClassifier.train(load_follow_ups(context_words), [pid for pid, _ in passages])
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
    follow_ups = load_follow_ups(ranker.context_words)
    print(
        f"answer model: {len(examples)} questions ({sum(1 for _, ids in examples if not ids)} not covered), "
        f"{len(follow_ups)} follow-ups for the follow-up model, "
        f"{len(ranker.passages)} passages -> {MODEL_PATH.relative_to(ROOT)}"
    )
    return 0 if ranker.learned is not None else 1


if __name__ == "__main__":
    raise SystemExit(main())
