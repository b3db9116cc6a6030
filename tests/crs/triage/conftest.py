"""The engine the triage tests share: the process's own (rules and learned detector loaded once)."""

from __future__ import annotations

import pytest

from crs.triage import TriageEngine, default_engine


@pytest.fixture(scope="module")
def engine() -> TriageEngine:
    return default_engine()
