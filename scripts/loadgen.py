"""A bounded async load generator for the REST channel (issue 13; `make bench` uses it).

    .venv/bin/python scripts/loadgen.py --url http://127.0.0.1:5005 --users 20 --conversations 60

N users (concurrent conversations) each hold one conversation at a time, turn after turn (a
closed loop: a user sends the next message when the reply came), until the given number of
conversations has been held. Every conversation is one of the scripts of ``MIX`` (questions,
red-flag reports, yes/no answers to the check), at most ``TURNS`` turns long, so a conversation
never meets the per-conversation rate limit (a burst of 8). The run is bounded in count (users x
conversations x turns) and in time (``--deadline`` seconds; a request times out after
``--timeout``); it sends only to the base URL given, which must be on this machine.

With ``--check`` every reply must carry exactly one custom payload with a ``triage`` object (the
contract of design.md), and the red-flag messages of the mix must get their level (``emergency`` or
``urgent``): a reply that fails is counted as an error. Plain ``rasa init`` has no such payload, so
the bench checks only ours.

Prints (or with ``--json`` writes) turns, errors by kind, throughput (turns per second of wall
time), latency p50/p95/p99/max in milliseconds. ``make bench CLUSTER=1`` points it at nginx.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import statistics
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Sequence, Tuple
from urllib.parse import urlparse

# (message, level the reply must carry or None) per turn; the same mix goes to every assistant.
MIX: List[List[Tuple[str, str | None]]] = [
    [
        ("hi", None),
        ("what is CRS?", None),
        ("what are the symptoms of CRS?", None),
        ("how is it treated?", None),
        ("tell me more", None),
        ("thanks", None),
    ],
    [
        ("what is cytokine release syndrome?", None),
        ("my dad has a temperature of 39.6 and he is confused", "emergency"),
        ("ok", None),
        ("is it serious?", None),
        ("thank you", None),
    ],
    [
        ("hello", None),
        ("I have a headache and I feel sick", "urgent"),
        ("what causes CRS?", None),
        ("can it come back?", None),
        ("bye", None),
    ],
    [
        ("is this an emergency?", None),
        ("no", None),
        ("no", None),
        ("yes", None),
        ("what happens next?", None),
    ],
    [
        ("who is more likely to get CRS?", None),
        ("she can't breathe properly", "emergency"),
        ("how is CRS graded?", None),
        ("can it be prevented?", None),
        ("thanks", None),
    ],
    [
        ("he's just not right today", None),
        ("no", None),
        ("not sure", None),
        ("how is CRS diagnosed?", None),
        ("what is the outlook?", None),
    ],
]
TURNS = max(len(script) for script in MIX)


@dataclass
class Result:
    latencies_ms: List[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    turns: int = 0
    wall_s: float = 0.0
    users: int = 0
    conversations: int = 0

    def summary(self) -> Dict[str, Any]:
        lat = sorted(self.latencies_ms)

        def pct(p: float) -> float:
            if not lat:
                return float("nan")
            return lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))]

        return {
            "users": self.users,
            "conversations": self.conversations,
            "turns": self.turns,
            "errors": sum(self.errors.values()),
            "errors_by_kind": dict(self.errors),
            "wall_s": round(self.wall_s, 2),
            "throughput": round(self.turns / self.wall_s, 2) if self.wall_s else 0.0,
            "p50_ms": round(pct(50), 1),
            "p95_ms": round(pct(95), 1),
            "p99_ms": round(pct(99), 1),
            "max_ms": round(lat[-1], 1) if lat else float("nan"),
            "mean_ms": round(statistics.fmean(lat), 1) if lat else float("nan"),
        }


def check_reply(messages: Any, expected_level: str | None) -> str | None:
    """What is wrong with a reply of ours, or None: exactly one payload with a triage object, the
    level of a red-flag message, and an emergency instruction that names the emergency number."""
    if not isinstance(messages, list) or not messages:
        return "empty reply"
    payloads = [m.get("custom") for m in messages if isinstance(m, dict) and isinstance(m.get("custom"), dict)]
    if len(payloads) != 1:
        return f"{len(payloads)} payloads"
    triage = payloads[0].get("triage")
    if not isinstance(triage, dict) or "level" not in triage:
        return "no triage in the payload"
    if expected_level and triage["level"] != expected_level:
        return f"level {triage['level']} for {expected_level}"
    if triage["level"] == "emergency":
        text = " ".join(str(m.get("text") or "") for m in messages if isinstance(m, dict))
        if "999" not in text and "911" not in text:
            return "emergency without the emergency number"
    return None


def local_only(url: str) -> None:
    """The generator sends only to this machine (loopback), never elsewhere."""
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise SystemExit(f"refusing to send load to {host!r}: only localhost / 127.0.0.0/8 / ::1")


async def run_load(
    url: str,
    users: int,
    conversations: int,
    check: bool = False,
    timeout: float = 60.0,
    deadline: float = 600.0,
    locale: str = "uk",
    prefix: str = "bench",
) -> Result:
    """``users`` concurrent conversations, ``conversations`` in all, each a script of ``MIX``."""
    import aiohttp

    local_only(url)
    webhook = url.rstrip("/") + "/webhooks/rest/webhook"
    result = Result(users=users, conversations=conversations)
    queue: asyncio.Queue = asyncio.Queue()
    for index in range(conversations):
        queue.put_nowait(MIX[index % len(MIX)])
    run_id = "r" + uuid.uuid4().hex[:8]
    stop_at = time.monotonic() + deadline
    connector = aiohttp.TCPConnector(limit=users + 4, force_close=False)
    client_timeout = aiohttp.ClientTimeout(total=timeout)

    async def user(number: int, session: aiohttp.ClientSession) -> None:
        held = 0
        while time.monotonic() < stop_at:
            try:
                script = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            # letters between the numbers: a run of 9 digits would be refused as a phone number
            sender = f"{prefix}-{run_id}-u{number}c{held}"
            held += 1
            for text, level in script:
                if time.monotonic() >= stop_at:
                    result.errors["deadline"] += 1
                    return
                body = {"sender": sender, "message": text, "metadata": {"locale": locale}}
                started = time.perf_counter()
                try:
                    async with session.post(webhook, json=body) as response:
                        raw = await response.read()
                        status = response.status
                except asyncio.TimeoutError:
                    result.errors["timeout"] += 1
                    result.turns += 1
                    continue
                except aiohttp.ClientError as error:
                    result.errors[f"connection: {type(error).__name__}"] += 1
                    result.turns += 1
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                result.turns += 1
                result.latencies_ms.append(elapsed)
                if status != 200:
                    result.errors[f"HTTP {status}"] += 1
                    continue
                try:
                    messages = json.loads(raw)
                except ValueError:
                    result.errors["not JSON"] += 1
                    continue
                if check:
                    problem = check_reply(messages, level)
                    if problem:
                        result.errors[problem] += 1
                elif not isinstance(messages, list):
                    result.errors["not a list of messages"] += 1

    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(user(number, session) for number in range(users)))
        result.wall_s = time.perf_counter() - started
    return result


def format_summary(name: str, summary: Dict[str, Any]) -> str:
    errors = ", ".join(f"{k}: {v}" for k, v in summary["errors_by_kind"].items()) or "none"
    return (
        f"{name}: {summary['users']} users, {summary['turns']} turns in {summary['wall_s']} s: "
        f"{summary['throughput']} turns/s; p50 {summary['p50_ms']} ms, p95 {summary['p95_ms']} ms, "
        f"p99 {summary['p99_ms']} ms, max {summary['max_ms']} ms; errors {summary['errors']} ({errors})"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="base URL of a Rasa server or load balancer on this machine")
    parser.add_argument("--users", type=int, default=20, help="concurrent conversations")
    parser.add_argument("--conversations", type=int, default=60, help="conversations in all")
    parser.add_argument("--check", action="store_true", help="check every reply for our triage payload")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds for the whole run")
    parser.add_argument("--locale", default="uk")
    parser.add_argument("--json", help="write the summary to this file")
    args = parser.parse_args(argv)
    result = asyncio.run(
        run_load(args.url, args.users, args.conversations, args.check, args.timeout, args.deadline, args.locale)
    )
    summary = result.summary()
    print(format_summary(args.url, summary))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(summary, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
