"""What triage finds: findings with their assertion, and the level of a message (design.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Tuple

LEVELS = ("none", "urgent", "emergency")  # in order of severity
ASSERTIONS = ("present", "negated", "hypothetical", "historical")


@dataclass(frozen=True)
class Finding:
    id: str
    level: str
    label: str
    text: str  # the words of the message that expressed it, as written
    assertion: str
    start: int
    end: int
    passage_id: str
    value: float | None = None  # a reading with a unit, where one was given
    detector: str = "rules"  # "rules" (phrases and readings) or "learned" (the classifier)
    score: float | None = None  # the classifier's probability, for a learned finding

    def as_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        for optional in ("value", "score"):
            if data[optional] is None:
                data.pop(optional)
        return data


@dataclass(frozen=True)
class Triage:
    level: str
    findings: Tuple[Finding, ...]
    # a description of someone's current state that names no sign ("he's not himself", "she's
    # gone downhill"): the yes/no check asks about the red flags, severest first (issue 9)
    concern: str | None = None

    @property
    def present(self) -> List[Finding]:
        return [finding for finding in self.findings if finding.assertion == "present"]

    @property
    def red_flags(self) -> List[Finding]:
        """The red flags present now."""
        return [finding for finding in self.present if finding.level == "emergency"]

    def as_dict(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {"level": self.level, "findings": [finding.as_dict() for finding in self.findings]}
        if self.concern:
            data["concern"] = self.concern
        return data


def with_assertion(finding: Finding, assertion: str) -> Finding:
    return Finding(**{**asdict(finding), "assertion": assertion})


def resolve(findings: List[Finding]) -> List[Finding]:
    """One finding per id and assertion; where readings of one span overlap, the most specific wins.

    For the same finding, of two overlapping matches the one that ends later is the fuller
    description ("not [breathing fast]" beats "[not breathing]"), unless either reading is
    present in a way the other is not negating.
    """
    findings.sort(key=lambda f: (f.id, f.start, -(f.end - f.start)))
    kept: List[Finding] = []
    for finding in findings:
        rival = next(
            (k for k in kept if k.id == finding.id and finding.start < k.end and k.start < finding.end),
            None,
        )
        if rival is None:
            kept.append(finding)
            continue
        # when in doubt, escalate: a present reading beats any other reading of the same words
        if (finding.assertion == "present") != (rival.assertion == "present"):
            better = finding if finding.assertion == "present" else rival
        else:
            better = (
                finding if (finding.end, finding.end - finding.start) > (rival.end, rival.end - rival.start) else rival
            )
        if better is not rival:
            kept[kept.index(rival)] = finding
    # the same finding mentioned twice: keep one of each assertion, the first as written
    unique: Dict[Tuple[str, str], Finding] = {}
    for finding in sorted(kept, key=lambda f: f.start):
        unique.setdefault((finding.id, finding.assertion), finding)
    return sorted(unique.values(), key=lambda f: (f.start, f.id))
