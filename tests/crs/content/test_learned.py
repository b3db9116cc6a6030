"""The answer model (issue 11): learned from a corpus of people's questions labelled with the
passages that answer them (or none), combined with the lexical ranker."""

from __future__ import annotations

from collections import Counter

import pytest

from crs.answers import SURE_PASSAGE
from crs.content import default_library
from crs.content.learned import MODEL_PATH, FollowUpClassifier, PassageClassifier, digest, load_corpus, load_follow_ups

LIBRARY = default_library()
RANKER = LIBRARY.ranker()
PASSAGES = [(passage.id, passage.text) for passage in RANKER.passages]


def test_the_corpus_is_large_varied_and_names_only_real_passages():
    examples = load_corpus()
    assert len(examples) >= 2000
    ids = {pid for pid, _ in PASSAGES}
    labels = Counter(pid for _, row in examples for pid in row)
    assert set(labels) <= ids
    assert len(labels) >= 0.9 * len(ids)  # nearly every passage has questions of its own
    assert sum(1 for _, row in examples if not row) >= 300  # questions the sources do not answer


def test_the_library_uses_the_saved_model_and_a_stale_one_is_not_used(tmp_path):
    assert RANKER.learned is not None
    assert PassageClassifier.load(MODEL_PATH, digest(PASSAGES)) is not None
    assert PassageClassifier.load(MODEL_PATH, "another corpus") is None
    assert PassageClassifier.load(tmp_path / "missing.joblib") is None
    broken = tmp_path / "broken.joblib"
    broken.write_bytes(b"not a model")
    assert PassageClassifier.load(broken) is None


def test_training_refuses_a_passage_that_does_not_exist():
    with pytest.raises(ValueError, match="do not exist"):
        PassageClassifier.train([("what is crs", ("no.such.passage",))], PASSAGES)


@pytest.mark.parametrize(
    "question, passage_words",
    [
        ("wat is crs", "Cytokine release syndrome (CRS)"),
        ("will it hurt", "headache"),
        ("how quick does it come on after the drip", "onset"),
        ("what do they give you if toci doesnt work", "anakinra"),
    ],
)
def test_questions_in_other_words_find_their_passage(question, passage_words):
    covered, scores = RANKER.learned.predict(question)
    # among the model's first two, as the answers are judged ("how quick does it come on": the
    # fresh sets' writers give "This happens very fast" as often as the onset)
    first_two = sorted(scores, key=scores.get, reverse=True)[:2]
    texts = {pid: text for pid, text in PASSAGES}
    assert any(passage_words.lower() in texts[pid].lower() for pid in first_two), [texts[pid] for pid in first_two]
    best = first_two[0]
    # covered as crs.answers reads it: the model's "covered", or a passage it is all but certain of
    # (a bare "does it hurt?" after a drug is rightly not covered in the corpus, so the bare words'
    # own "covered" can be low while the passage is certain)
    assert covered > 0.5 or scores[best] >= SURE_PASSAGE, (covered, scores[best])


@pytest.mark.parametrize(
    "question", ["can i drive after car t", "is it ok to drink wine on glofitamab", "how much does car t cost"]
)
def test_questions_no_passage_answers_are_not_covered(question):
    covered, _ = RANKER.learned.predict(question)
    assert covered < RANKER.config.not_covered["covered_below"]


def test_follow_ups_in_the_corpus_are_read_after_the_last_questions_words(tmp_path):
    corpus = tmp_path / "talk.yml"
    corpus.write_text(
        "- turns:\n"
        "  - {text: what is tocilizumab, passages: [a]}\n"
        '  - {text: "and if it does not work?", passages: [b]}\n'
        "- {text: can i drive, passages: []}\n",
        encoding="utf-8",
    )
    examples = load_corpus(tmp_path, context_words=lambda text: [w for w in text.split() if len(w) > 4])
    assert examples == [
        ("what is tocilizumab", ("a",)),
        ("tocilizumab and if it does not work?", ("b",)),
        ("can i drive", ()),
    ]


def test_the_answer_model_reads_questions_as_its_fitted_featurizer_does():
    # the model featurises through crs.tfidf (speed); the figures must be scikit-learn's
    from crs.content.learned import normalise

    model = RANKER.learned
    texts = [normalise(text) for text, _ in load_corpus()[::11]] + ["", "zzz", "é 🙂"]
    expected = model.vectorizer.transform(texts)
    model.predict("warm up")  # builds the fast featurizer
    assert model._fast.supported
    assert abs(expected - model._fast.matrix(texts)).max() < 1e-12


def test_follow_up_rows_pair_each_later_turn_with_the_passages_that_answered_before(tmp_path):
    corpus = tmp_path / "talk.yml"
    corpus.write_text(
        "- turns:\n"
        "  - {text: what is tocilizumab, passages: [a, c]}\n"
        '  - {text: "how long for?", passages: []}\n'
        '  - {text: "and if it does not work?", passages: [b]}\n'
        "- {text: can i drive, passages: []}\n",
        encoding="utf-8",
    )
    rows = load_follow_ups(lambda text: [w for w in text.split() if len(w) > 4], tmp_path)
    # an unanswered turn leaves the passages before it as the last answer
    assert rows == [
        ("how long for?", "tocilizumab", ("a", "c"), ()),
        ("and if it does not work?", "tocilizumab", ("a", "c"), ("b",)),
    ]


def test_the_follow_up_model_reads_which_passage_came_before():
    # the same words after different passages ask for different ones: "then what?" after a step
    # asks for the step after it
    rows = []
    for text in ("then what?", "and then what happens", "what next", "after that?", "then what"):
        rows += [(text, "crs", ("step1",), ("step2",)), (text, "crs", ("icu",), ("ward",))]
    rows += [("why?", "crs", ("step1",), ()), ("why", "crs", ("icu",), ())]
    model = FollowUpClassifier.train(rows, ["step1", "step2", "icu", "ward"])
    after_step = model.predict("so then what", "crs", ["step1"])
    after_icu = model.predict("so then what", "crs", ["icu"])
    assert after_step["step2"] > after_step["ward"]
    assert after_icu["ward"] > after_icu["step2"]


def test_the_saved_answer_model_keeps_its_follow_up_model():
    assert RANKER.learned.follow_up is not None
    loaded = PassageClassifier.load(MODEL_PATH, digest(PASSAGES))
    assert loaded.follow_up is not None
    assert loaded.predict_follow_up("then what?", "", []) is None  # nothing was given before
    scores = loaded.predict_follow_up("then what?", "grade", ["us.p023.s1"])
    assert set(scores) <= {pid for pid, _ in PASSAGES} and len(scores) >= 0.8 * len(PASSAGES)
