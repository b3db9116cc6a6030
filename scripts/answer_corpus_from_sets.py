"""Turn question sets (scripts/answer_eval.py format) into answer-model corpus rows.

    .venv/bin/python scripts/answer_corpus_from_sets.py OUT.yml SET.yml [SET.yml ...]

Each question's acceptable sentences are mapped to the passages that hold them; "not covered"
questions get no passage; an answered question whose sentences no quotable passage holds is left
out (its label would say "not covered"). Used for data/content/questions/dev_questions.yml from the
developer's sets. Never run it on a blind set before that set's first run.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Sequence

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crs.content import default_library  # noqa: E402

HEADER = (
    "# The developer's question sets (tests/e2e/answers/dev_questions*.yml), their sentences mapped to\n"
    "# the passages that hold them; questions whose sentences no quotable passage holds are left out\n"
    "# (scripts/answer_corpus_from_sets.py).\n"
)


def norm(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("‘", "'").lower().split())


def main(argv: Sequence[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    passages = default_library().ranker().passages
    rows: List[dict] = []
    for path in argv[1:]:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        for question in data.get("questions") or []:
            if question["answer"] == "not_covered":
                rows.append({"text": question["text"], "passages": []})
                continue
            ids: List[str] = []
            for sentence in question["answer"]:
                ids += [p.id for p in passages if norm(sentence) in norm(p.text) and p.id not in ids]
            if ids:
                rows.append({"text": question["text"], "passages": ids})
    with open(argv[0], "w", encoding="utf-8") as out:
        out.write(HEADER)
        yaml.safe_dump(rows, out, allow_unicode=True, sort_keys=False, width=200)
    print(f"{len(rows)} questions, {sum(1 for row in rows if not row['passages'])} not covered -> {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
