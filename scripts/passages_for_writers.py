"""Every quotable passage with its id and section, for a helper who writes answer-model corpus rows
(docs/follow-up-corpus-brief.md). The helper sees only this listing, never the project.

    .venv/bin/python scripts/passages_for_writers.py OUT.md
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crs.content import default_library  # noqa: E402


def main(argv: list) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    passages = default_library().ranker().passages
    blocks = [f"## {passage.id}\nsource section: {passage.heading}\n\n{passage.text}\n" for passage in passages]
    Path(argv[0]).write_text("\n".join(blocks), encoding="utf-8")
    print(f"{len(passages)} passages -> {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
