"""Write the learned red-flag detector's "questions told with context" negatives (issue 11).

The detector learned signs from reports, and on questions that open with the asker's situation it
heard signs in the situation: "I had ATG before my kidney transplant years ago and I'm now having
CAR-T" (a seizure), "I work in a warehouse" (confusion), "I keep hearing the word on the ward"
(hallucinations). Each got the emergency instruction instead of its answer. The answer corpora
(data/content/questions/, written by helpers who saw only the sources) hold thousands of such
questions; the sentences of them that tell the asker's situation (not the questions: a question's
shape is no sign that nothing is wrong), in which the rules find no sign at all (not even one
asked about), are examples with no sign, and this script writes them to
data/triage/corpus/question_negatives.yml.

A sentence or question that names a sign in words the rules do not know ("crs breathing probs?",
"My husband sometimes muddles his words.") is not a negative: the classifier must still hear the
sign, and the assertion rules decide whether it is present. The ones the detector flagged when
this was written were read one by one; those naming a sign are listed in NAMES_A_SIGN. Rerun
after the answer corpora change and read what it prints as flagged before committing.

The sentence split is its own (not crs.answers.asked_part's): it keeps "38.5" whole and leaves out
greetings and thanks; changing it changes the detector's corpus.

    .venv/bin/python scripts/question_negatives.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crs.triage.engine import TriageEngine  # noqa: E402
from crs.triage.learned import CORPUS_DIR, load_corpus  # noqa: E402

QUESTIONS_DIR = ROOT / "data" / "content" / "questions"
OUT = CORPUS_DIR / "question_negatives.yml"

# read one by one: these name a sign the rules do not know, so they are not negatives
NAMES_A_SIGN = {
    "Can these treatments make someone struggle to find words or talk properly?",
    "crs breathing probs?",
    "and needing a machine to breathe",
    "so grade 4 is the breathing machine one",
    "skin colour change too?",
    "CRS can make you not able to think clear or concentrate?",
    "Can CRS affect how a child talks or concentrates?",
    "Problem to concentrate and to speak, it is side effect of CRS?",
    "My husband sometimes muddles his words.",
    "I understand blood pressure can fall.",
    "Might I need medicine to raise my blood pressure if I develop CRS? My pressure is usually low. Thank you.",
}


def question_texts() -> list:
    texts = []
    for path in sorted(QUESTIONS_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if isinstance(data, dict):
            data = (data.get("questions") or []) + (data.get("conversations") or [])
        for item in data:
            if not isinstance(item, dict):
                continue
            if "text" in item:
                texts.append(str(item["text"]))
            for turn in item.get("turns") or []:
                texts.append(str(turn["text"] if isinstance(turn, dict) else turn))
    return texts


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_ASKS = re.compile(
    r"^(?:what|whats|how|why|when|where|who|which|can|could|is|are|does|do|did|will|would|should|shall|may|might|"
    r"must|has|have|am|any|anything|please|pls|thank|thanks|sorry)\b",
    re.IGNORECASE,
)


def told_sentences(text: str) -> list:
    """The sentences of a message that tell the asker's situation, not the question: the
    detector reads a message sentence by sentence, and a question's shape is no sign that nothing
    is wrong ("Is it normal for my fingernails to look kind of bluish?" is a report)."""
    sentences = [" ".join(part.split()) for part in _SENTENCE_END.split(text.strip())]
    return [s for s in sentences if len(s.split()) >= 3 and not s.endswith("?") and not _ASKS.match(s)]


def main() -> int:
    rules = TriageEngine.load(learned=False)
    learned = TriageEngine.load()
    written = yaml.safe_load(OUT.read_text(encoding="utf-8")) if OUT.exists() else []
    known = {text for text, _ in load_corpus() if text} - {item["text"] for item in written or []}
    seen, negatives, flagged = set(), [], []
    for text in question_texts():
        if " ".join(text.split()) in NAMES_A_SIGN:
            continue
        for key in told_sentences(text):
            if not key or key in seen or key in known or key in NAMES_A_SIGN:
                continue
            seen.add(key)
            if rules.assess(key).findings:
                continue  # a sign the rules know, present or asked about: not a negative
            negatives.append(key)
            if learned.assess(key).level != "none":
                flagged.append(key)
    header = (
        "# Sentences telling an asker's situation around a question, with no sign in them: negatives for the\n"
        "# learned red-flag detector.\n"
        "# Written by scripts/question_negatives.py from data/content/questions/ (do not edit by hand).\n"
    )
    body = yaml.safe_dump([{"text": text, "labels": []} for text in negatives], allow_unicode=True, width=200)
    OUT.write_text(header + body, encoding="utf-8")
    print(f"{len(negatives)} negatives -> {OUT.relative_to(ROOT)}; the detector flagged {len(flagged)} of them:")
    for text in flagged:
        print("   ", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
