"""Short answers to a question of the yes/no check: YES / N / nope / not sure / STOP."""

from __future__ import annotations

import re
from typing import Any, Dict

from crs.triage.folding import fold

_YES = {"yes", "y", "yeah", "yep", "yup", "yea", "aye"}
_NO = {"no", "n", "nope", "nah"}


def fold_answer(text: str) -> str:
    folded, _ = fold(text)
    return " ".join(re.sub(r"[^\w\s]", " ", folded).split())


class AnswerReader:
    """Matches the whole folded message against the ``answers`` lists of the rules file."""

    def __init__(self, answers: Dict[str, Any]) -> None:
        self._answers = {
            kind: {fold_answer(text) for text in texts}
            for kind, texts in answers.items()
            if kind not in ("fillers", "stop")
        }
        self._stop_words = {fold_answer(text) for text in answers.get("stop", [])}
        self._fillers = sorted((fold_answer(text) for text in answers.get("fillers", [])), key=len, reverse=True)

    def answer(self, text: str) -> str | None:
        """Read a short reply to a yes/no question: "present", "absent", "unsure" or None."""
        folded = fold_answer(text or "")
        for filler in self._fillers:
            if folded.startswith(filler + " ") and folded != filler:
                folded = folded[len(filler) + 1 :]
        for kind in ("unsure", "absent", "present"):
            if folded in self._answers.get(kind, ()):
                return kind
        first = folded.split(" ", 1)[0] if folded else ""
        # "yes he is struggling", "no not at all really": the first word decides
        if first in _YES:
            return "present"
        if first in _NO:
            return "absent"
        return None

    def is_stop(self, text: str) -> bool:
        """A request to stop the yes/no check ("STOP", "cancel")."""
        return fold_answer(text or "") in self._stop_words
