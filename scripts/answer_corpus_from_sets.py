"""Turn question sets (scripts/answer_eval.py format) into answer-model corpus rows.

    .venv/bin/python scripts/answer_corpus_from_sets.py OUT.yml SET.yml [SET.yml ...]

Each question's acceptable sentences are mapped to the passages that hold them; "not covered"
questions get no passage; an answered question whose sentences no quotable passage holds is left
out (its label would say "not covered"). Conversations become corpus conversations the same way; a
conversation ends before a turn that cannot be labelled, since the turns after it lean on it.

Used for data/content/questions/dev_questions.yml (the developer's sets) and, from round 11, for
data/content/questions/answer_sets.yml (the fresh sets after their one first run: written in the
voices the fresh sets are written in, they are the closest data to what people ask). Never run it
on a fresh set before that set's first run is recorded.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Dict, List, Sequence

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from answer_eval import norm  # noqa: E402  (a sentence is matched as the evaluation matches it)

from crs.content import default_library  # noqa: E402


def passage_ids(answer: object, texts: Dict[str, str]) -> List[str] | None:
    """The passages holding any acceptable sentence, [] for "not covered", None when none does.
    ``texts``: each passage's normalised text by id."""
    if answer == "not_covered":
        return []
    ids: List[str] = []
    for sentence in answer or []:
        wanted = norm(sentence)
        ids += [pid for pid, text in texts.items() if wanted in text and pid not in ids]
    return ids or None


def rows_of(data: dict, passages: Sequence) -> List[dict]:
    texts = {passage.id: norm(passage.text) for passage in passages}
    rows: List[dict] = []
    for question in data.get("questions") or []:
        ids = passage_ids(question["answer"], texts)
        if ids is not None:
            rows.append({"text": question["text"], "passages": ids})
    for conversation in data.get("conversations") or []:
        turns = []
        for turn in conversation["turns"]:
            ids = passage_ids(turn.get("answer"), texts)
            if ids is None:
                break
            turns.append({"text": turn["text"], "passages": ids})
        if len(turns) >= 2:
            rows.append({"turns": turns})
        elif turns:
            rows.append(turns[0])
    return rows


def main(argv: Sequence[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    passages = default_library().ranker().passages
    rows: List[dict] = []
    for path in argv[1:]:
        rows += rows_of(yaml.safe_load(Path(path).read_text(encoding="utf-8")), passages)
    names = ", ".join(Path(path).stem for path in argv[1:])
    header = (
        f"# Question sets mapped to the passages that hold their sentences (scripts/answer_corpus_from_sets.py):\n"
        f"# {names}.\n# Questions and turns whose sentences no quotable passage holds are left out.\n"
    )
    with open(argv[0], "w", encoding="utf-8") as out:
        out.write(header)
        yaml.safe_dump(rows, out, allow_unicode=True, sort_keys=False, width=200)
    questions = [row for row in rows if "turns" not in row]
    turns = sum(len(row["turns"]) for row in rows if "turns" in row)
    uncovered = sum(1 for row in questions if not row["passages"])
    print(
        f"{len(questions)} questions ({uncovered} not covered), {len(rows) - len(questions)} conversations ({turns} turns) -> {argv[0]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
