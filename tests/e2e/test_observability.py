"""Observability over the real servers (issue 13): a health endpoint per process, and a
structured line per turn in the Rasa server's log with the conversation id, the red-flag rule ids
and the latency, never the message text."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests

pytestmark = pytest.mark.rasa


def test_each_process_has_a_health_endpoint(servers):
    rasa = requests.get(f"{servers.rasa_url}/webhooks/rest/health", timeout=10)
    assert rasa.status_code == 200
    body = rasa.json()
    assert body["status"] == "ok" and body["process"] == "rasa" and body["model_id"]
    assert body["long_triage_workers_alive"] >= 1
    action = requests.get(f"http://127.0.0.1:{servers.action_port}/health", timeout=10)
    assert action.status_code == 200 and action.json()["status"] == "ok"


def test_each_turn_is_logged_as_json_without_its_text(servers):
    sender = f"obs-{uuid.uuid4().hex[:10]}x"  # never an all-digit id, which REST refuses as personal data
    words = "quixotic pelican"
    servers.say(sender, f"{words}: my husband cant breathe properly")
    servers.say(sender, f"{words}, what is CRS?")
    deadline = time.monotonic() + 10
    lines = []
    while time.monotonic() < deadline and len(lines) < 2:
        time.sleep(0.2)
        log = servers.rasa_log.read_text()
        lines = [
            json.loads(line[line.index('{"event":"turn"') :])
            for line in log.splitlines()
            if '{"event":"turn"' in line and f"rest:{sender}" in line
        ]
    assert len(lines) == 2, lines
    emergency, question = lines
    assert emergency["level"] == "emergency" and emergency["rules"] and emergency["outcome"] == "ok"
    assert question["topic"] == "about_crs" and question["latency_ms"] > 0
    assert words not in servers.rasa_log.read_text() and "cant breathe" not in servers.rasa_log.read_text()
