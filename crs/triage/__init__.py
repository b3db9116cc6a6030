"""Red-flag triage (design.md: safety rules 4 to 9, triage levels).

- ``engine``: ``TriageEngine.assess(text)``, the one way a message is triaged
- ``findings``: ``Finding``, ``Triage``, the levels, and how overlapping readings are resolved
- ``folding``: lower case, apostrophes, repeated letters, misspellings
- ``phrases``: the phrase syntax of the rules file, compiled to spaCy Matcher patterns
- ``assertion``: present, negated, hypothetical or historical
- ``readings``: numbers with units (temperature, blood pressure, pulse, oxygen, breathing rate)
- ``answers``: YES / NO / NOT SURE / STOP to the questions of the yes/no check

Command line: ``python -m crs.triage "message"``.
"""

from crs.triage.engine import RULES_PATH, TriageEngine, assess, default_engine
from crs.triage.findings import ASSERTIONS, LEVELS, Finding, Triage
from crs.triage.folding import fold

__all__ = [
    "ASSERTIONS",
    "LEVELS",
    "RULES_PATH",
    "Finding",
    "Triage",
    "TriageEngine",
    "assess",
    "default_engine",
    "fold",
]
