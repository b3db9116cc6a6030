"""Observability of the Rasa server (issue 13): one structured log line per turn, and a health
endpoint.

Turn log: logger ``crs.turns``, level INFO, one JSON object per line, never the message text:

    {"event": "turn", "channel": "rest", "conversation": "rest:abc", "outcome": "ok",
     "latency_ms": 12.3, "level": "emergency", "rules": ["breathing"], "topic": null,
     "coverage": null, "messages": 2}

``rules`` are the ids of the red-flag findings (data/triage/red_flags.yml) of the turn's payload;
``outcome`` is ``ok``, ``rate_limited``, ``forget``, ``apology`` (an exception or a silent turn)
or ``too_large``; ``latency_ms`` is the time the server spent on the turn (triage, NLU, policies,
actions, tracker store). Aggregate them with any JSON log tool (``jq``): p95 per channel, the
share of emergency turns, errors.

Health: ``GET /webhooks/rest/health`` (components/rest_channel.py) answers 200 with
``{"status": "ok", ...}`` once the model is loaded and 503 before (a load balancer sends no
traffic there until then). The action server has rasa_sdk's own ``GET /health``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any, Dict, Iterable

from crs.redaction import safe_id

TURN_LOG = logging.getLogger("crs.turns")
STARTED = time.time()


class TurnRecord:
    """What a turn sent, collected from its payloads (never its text)."""

    def __init__(self, channel: str, conversation: str) -> None:
        self.channel = channel
        self.conversation = conversation
        self.started = time.perf_counter()
        self.level: str | None = None
        self.rules: list = []
        self.topic: str | None = None
        self.coverage: str | None = None
        self.messages = 0

    def saw(self, custom: Any) -> None:
        self.messages += 1
        if not isinstance(custom, dict):
            return
        triage = custom.get("triage")
        if isinstance(triage, dict):
            self.level = triage.get("level", self.level)
            for finding in triage.get("findings") or []:
                rule = finding.get("id") if isinstance(finding, dict) else None
                if rule and rule not in self.rules:
                    self.rules.append(rule)
        self.topic = custom.get("topic") or self.topic
        self.coverage = custom.get("coverage") or self.coverage

    def log(self, outcome: str) -> None:
        if not TURN_LOG.isEnabledFor(logging.INFO):
            return
        record: Dict[str, Any] = {
            "event": "turn",
            "channel": self.channel,
            "conversation": safe_id(self.conversation),
            "outcome": outcome,
            "latency_ms": round((time.perf_counter() - self.started) * 1000, 1),
            "level": self.level or "none",
            "rules": self.rules,
            "topic": self.topic,
            "coverage": self.coverage,
            "messages": self.messages,
        }
        TURN_LOG.info(json.dumps(record, separators=(",", ":")))


def _memory_mb() -> Dict[str, int]:
    values = {}
    try:
        with open(f"/proc/{os.getpid()}/status") as status:
            for line in status:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    values["rss_mb" if key == "VmRSS" else "peak_rss_mb"] = int(rest.split()[0]) // 1024
    except OSError:
        pass
    return values


def health(agent: Any, workers: Iterable[Any] = ()) -> tuple:
    """(status code, body) of the Rasa server's health: 200 once the model is loaded."""
    ready = bool(agent is not None and agent.is_ready())
    body: Dict[str, Any] = {
        "status": "ok" if ready else "loading",
        "process": "rasa",
        "pid": os.getpid(),
        "uptime_s": round(time.time() - STARTED, 1),
        "model_id": getattr(agent, "model_id", None) if ready else None,
        **_memory_mb(),
    }
    alive = [process.is_alive() for process in workers if hasattr(process, "is_alive")]
    if alive:
        body["long_triage_workers_alive"] = sum(alive)
    return (200 if ready else 503), body
