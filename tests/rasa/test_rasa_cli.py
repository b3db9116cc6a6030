"""Rasa's own checks: data validation and the conversation tests (tests/rasa/test_*.yml)."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import ENV, ROOT, VENV_BIN, ensure_model

pytestmark = pytest.mark.rasa


def rasa(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "rasa"), *args], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=timeout
    )


def test_training_data_validates_without_warnings():
    result = rasa("data", "validate", "--fail-on-warnings", "--domain", "domain", "--data", "data/nlu", "data/rules")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_conversation_tests_pass(tmp_path):
    model = ensure_model()
    stories = sorted(str(p) for p in (ROOT / "tests" / "rasa").glob("test_*.yml"))
    assert stories
    result = rasa(
        "test",
        "core",
        "--model",
        str(model),
        "--stories",
        *stories,
        "--fail-on-prediction-errors",
        "--out",
        str(tmp_path / "results"),
    )
    output = result.stdout[-6000:] + result.stderr[-6000:]
    assert result.returncode == 0, output
    report = tmp_path / "results" / "story_report.json"
    assert report.is_file(), output
    failed = tmp_path / "results" / "failed_test_stories.yml"
    assert not failed.is_file() or "None of the test stories failed" in failed.read_text(), failed.read_text()
