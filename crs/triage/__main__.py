"""``python -m crs.triage "message"``: the triage of one message as JSON."""

from __future__ import annotations

import json
import sys
from typing import Sequence

from crs.triage.engine import assess


def main(argv: Sequence[str]) -> int:
    if not argv:
        print('usage: python -m crs.triage "message text"', file=sys.stderr)
        return 2
    print(json.dumps(assess(" ".join(argv)).as_dict(), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
