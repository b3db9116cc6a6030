"""make bench: speed and memory on this machine (a benchmark, not a test: nothing here fails a build).

1. The red-flag engine (issue 9): median and 95th-percentile time per message (rules and learned
   detector) over the triage suite (tests/crs/triage/sets/cases.yml) plus long messages, and how
   long the rules and the content take to load.
2. The assistant under load (issue 13), side by side with the plain `rasa init` assistant in the
   same run: both are started with their own action servers on free ports, left to settle (no
   CPU used by their processes) and warmed up, then given the same mix of conversations
   (scripts/loadgen.py: questions, red-flag reports, yes/no answers) by 1, 20 and 50 concurrent
   users over the REST channel, one assistant after the other at each level, in two rounds with
   the order reversed (so that other work on the machine weighs on both alike). Our replies are checked for the triage
   payload and the red-flag levels. Reported: latency p50/p95/p99, throughput, errors, peak
   memory (resident) of each process, start-up to ready (model load) and training time, and the
   ratios. `rasa init` is created and trained once in `.cache/rasa-init-<rasa version>/`.
3. Quality, on the same running server: topic accuracy on the held-out phrasings
   (tests/e2e/nlu), emergency recall and under-triage on every triage set, answer quality on
   every set in tests/e2e/answers (scripts/answer_eval.py).

Writes docs/bench.md (the latest table, also copied into README between the bench markers) and
results/bench.json. Options: --quick (fewer conversations), --rounds 2, --skip-init, --users 1,20,50,
--url URL (measure a running deployment, such as the cluster's nginx, instead of starting ours).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from crs.content import Library  # noqa: E402
from crs.triage import TriageEngine  # noqa: E402

VENV_BIN = Path(sys.executable).parent
TRAIN_SECONDS = ROOT / "models" / "crs.train-seconds"
README_START = "<!-- bench:start (make bench rewrites this block) -->"
README_END = "<!-- bench:end -->"


# ---------------------------------------------------------------------------------------------
# 1. the red-flag engine


def engine_bench() -> Dict[str, Any]:
    started = time.perf_counter()
    engine = TriageEngine.load()
    load_engine = time.perf_counter() - started
    started = time.perf_counter()
    Library.load()
    load_content = time.perf_counter() - started

    messages = [
        case["text"] for case in yaml.safe_load((ROOT / "tests" / "crs" / "triage" / "sets" / "cases.yml").read_text())
    ]
    messages += [" ".join(messages[:20])] * 5  # a few long carer messages
    for text in messages:  # warm the caches as a running server would be
        engine.assess(text)
    timings, cpu = [], []
    for _ in range(5):
        for text in messages:
            t0, c0 = time.perf_counter(), time.process_time()
            engine.assess(text)
            timings.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
    timings.sort()
    cpu.sort()
    median = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95)]
    detector, engine.learned = engine.learned, None
    rules_only = []
    for text in messages:
        c0 = time.process_time()
        engine.assess(text)
        rules_only.append((time.process_time() - c0) * 1000)
    rules_only.sort()
    engine.learned = detector
    learned = "with the learned detector" if engine.learned is not None else "RULES ONLY (no learned detector)"
    print(f"red-flag engine ({learned}): {len(messages)} messages x 5 runs")
    print(f"  median {median:.3f} ms per message   p95 {p95:.3f} ms (target < 10 ms)   max {timings[-1]:.3f} ms")
    print(
        f"  CPU time: median {statistics.median(cpu):.3f} ms   p95 {cpu[int(len(cpu) * 0.95)]:.3f} ms "
        "(what an idle machine would show; wall time above includes waiting for a busy CPU)"
    )
    print(
        f"  the rules alone, CPU time: median {statistics.median(rules_only):.3f} ms   "
        f"p95 {rules_only[int(len(rules_only) * 0.95)]:.3f} ms (the learned detector adds the difference)"
    )
    print(
        f"  rules and detector load {load_engine * 1000:.0f} ms; content load and validation {load_content * 1000:.0f} ms"
    )
    return {
        "messages": len(messages),
        "median_ms": round(median, 3),
        "p95_ms": round(p95, 3),
        "cpu_median_ms": round(statistics.median(cpu), 3),
        "cpu_p95_ms": round(cpu[int(len(cpu) * 0.95)], 3),
        "rules_cpu_median_ms": round(statistics.median(rules_only), 3),
        "load_engine_ms": round(load_engine * 1000),
        "load_content_ms": round(load_content * 1000),
    }


# ---------------------------------------------------------------------------------------------
# processes and their memory


def children(pid: int) -> List[int]:
    found: List[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                found.append(int(child))
                found.extend(children(int(child)))
    except OSError:
        pass
    return found


def memory_kb(pid: int) -> Dict[str, int]:
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values


class MemoryWatch:
    """Samples the resident memory of processes (and their children) twice a second; the peak
    of each is the larger of the sampled RSS and the kernel's high-water mark (VmHWM)."""

    def __init__(self, processes: Dict[str, int]) -> None:
        self.processes = processes
        self.peak_kb: Dict[str, int] = {name: 0 for name in processes}
        self.peak_children_kb: Dict[str, int] = {name: 0 for name in processes}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        for name, pid in self.processes.items():
            own = memory_kb(pid)
            self.peak_kb[name] = max(self.peak_kb[name], own.get("VmRSS", 0), own.get("VmHWM", 0))
            kids = sum(memory_kb(child).get("VmRSS", 0) for child in children(pid))
            self.peak_children_kb[name] = max(self.peak_children_kb[name], kids)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.sample()

    def __enter__(self) -> MemoryWatch:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, log: Path, seconds: float = 300) -> float:
    import requests

    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            if requests.get(url, timeout=2).ok:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} not ready after {seconds} s:\n{log.read_text()[-2000:]}")


class Assistant:
    """An action server and a Rasa server on free ports, started from a project folder."""

    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self.workdir = workdir
        self.rasa_port = free_port()
        self.action_port = free_port()
        self.url = f"http://127.0.0.1:{self.rasa_port}"
        self.token = "bench-" + os.urandom(8).hex()
        self.processes: Dict[str, subprocess.Popen] = {}
        self.ready_s: Dict[str, float] = {}

    def spawn(self, name: str, args: List[str], cwd: Path, env: Dict[str, str]) -> subprocess.Popen:
        log = self.workdir / f"{self.name}-{name}.log"
        with open(log, "a") as handle:
            process = subprocess.Popen(
                args, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.processes[name] = process
        return process

    def wait(self, name: str, url: str) -> None:
        self.ready_s[name] = wait_ready(url, self.processes[name], self.workdir / f"{self.name}-{name}.log")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def pids(self) -> Dict[str, int]:
        return {name: process.pid for name, process in self.processes.items()}


BASE_ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONUNBUFFERED": "1"}


def start_ours(workdir: Path) -> Assistant:
    """Ours as `make run` starts it (scripts/run.sh), with a tracker store of its own."""
    ours = Assistant("ours", workdir)
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        (ROOT / "endpoints.yml")
        .read_text()
        .replace("http://localhost:5055/webhook", f"http://127.0.0.1:{ours.action_port}/webhook")
        .replace("db: trackers.db", f"db: {workdir / 'trackers.db'}")
    )
    ours.spawn(
        "action server",
        [str(VENV_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(ours.action_port)],
        ROOT,
        {**BASE_ENV, "SANIC_HOST": "127.0.0.1"},
    )
    ours.spawn(
        "Rasa server",
        [
            str(VENV_BIN / "rasa"),
            "run",
            "--enable-api",
            "--auth-token",
            ours.token,
            "-m",
            str(ROOT / "models" / "crs.tar.gz"),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(ROOT / "credentials.yml"),
            "-i",
            "127.0.0.1",
            "--port",
            str(ours.rasa_port),
        ],
        ROOT,
        {**BASE_ENV, "SMS_STATE_DB": str(workdir / "sms.db")},
    )
    ours.wait("action server", f"http://127.0.0.1:{ours.action_port}/health")
    ours.wait("Rasa server", f"{ours.url}/status?token={ours.token}")
    return ours


def rasa_version() -> str:
    import rasa

    return rasa.__version__


def init_project() -> Dict[str, Any]:
    """The plain `rasa init` assistant, created and trained once (cached per Rasa version)."""
    cache = Path(os.environ.get("RASA_INIT_CACHE") or ROOT / ".cache" / f"rasa-init-{rasa_version()}")
    project = cache / "project"
    seconds = cache / "train_seconds.txt"
    if not (seconds.is_file() and list((project / "models").glob("*.tar.gz"))):
        print(f"creating and training the plain `rasa init` assistant in {project} (once)...", flush=True)
        shutil.rmtree(cache, ignore_errors=True)
        project.mkdir(parents=True)
        started = time.monotonic()
        with open(cache / "init.log", "w") as log:
            subprocess.run(
                [str(VENV_BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(project)],
                cwd=cache,
                env=BASE_ENV,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
            )
        seconds.write_text(f"{time.monotonic() - started:.1f}\n")
    model = sorted((project / "models").glob("*.tar.gz"))[-1]
    return {"project": project, "model": model, "train_s": float(seconds.read_text().split()[0])}


def start_init(workdir: Path, init: Dict[str, Any]) -> Assistant:
    """`rasa init`'s assistant as scaffolded: `rasa run actions` and `rasa run` in its folder (its
    endpoints.yml leaves the action endpoint commented out: its replies are all responses)."""
    plain = Assistant("rasa-init", workdir)
    project = init["project"]
    plain.spawn(
        "action server",
        [str(VENV_BIN / "rasa"), "run", "actions", "--port", str(plain.action_port)],
        project,
        {**BASE_ENV, "SANIC_HOST": "127.0.0.1"},
    )
    plain.spawn(
        "Rasa server",
        [
            str(VENV_BIN / "rasa"),
            "run",
            "--enable-api",
            "--auth-token",
            plain.token,
            "-m",
            str(init["model"]),
            "-i",
            "127.0.0.1",
            "--port",
            str(plain.rasa_port),
        ],
        project,
        BASE_ENV,
    )
    plain.wait("action server", f"http://127.0.0.1:{plain.action_port}/health")
    plain.wait("Rasa server", f"{plain.url}/status?token={plain.token}")
    return plain


# ---------------------------------------------------------------------------------------------
# 2. load


def cpu_ticks(pid: int) -> int:
    total = 0
    for one in [pid, *children(pid)]:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, IndexError, ValueError):
            pass
    return total


def settle(assistants: List[Assistant], seconds: float = 90) -> float:
    """Wait until the servers (and their workers) have finished starting: less than 5% of a core
    over a second, at most ``seconds``. A worker still loading would otherwise be measured."""
    started = time.monotonic()
    pids = [pid for assistant in assistants for pid in assistant.pids().values()]
    hertz = os.sysconf("SC_CLK_TCK")
    before = sum(cpu_ticks(pid) for pid in pids)
    while time.monotonic() - started < seconds:
        time.sleep(1)
        now = sum(cpu_ticks(pid) for pid in pids)
        if (now - before) / hertz < 0.05:
            break
        before = now
    return time.monotonic() - started


def conversations_for(count: int, quick: bool) -> int:
    if count == 1:
        return 6 if quick else 12
    return max(12, count * (2 if quick else 3))


def interleaved(targets: Dict[str, Any], users: List[int], quick: bool, rounds: int) -> Dict[str, Dict[str, Any]]:
    """Each level on each assistant in turn, ``rounds`` times with the order reversed every
    round (A B, B A, ...): contention from other work on the machine falls on both alike.
    ``targets``: name -> (url, check). Latencies are pooled over the rounds; throughput is all
    turns over all wall time."""
    from loadgen import Result, format_summary, run_load

    for url, _ in targets.values():  # lazy loading and first calls happen here
        asyncio.run(run_load(url, 4, 8, check=False, prefix="warm"))
        asyncio.run(run_load(url, 1, 2, check=False, prefix="warm1"))
    results: Dict[str, Dict[str, Any]] = {name: {} for name in targets}
    for count in users:
        pooled = {name: Result(users=count) for name in targets}
        for number in range(rounds):
            order = list(targets) if number % 2 == 0 else list(reversed(list(targets)))
            for name in order:
                url, check = targets[name]
                got = asyncio.run(
                    run_load(url, count, conversations_for(count, quick), check=check, prefix=f"u{count}")
                )
                total = pooled[name]
                total.latencies_ms += got.latencies_ms
                total.errors.update(got.errors)
                total.turns += got.turns
                total.wall_s += got.wall_s
                total.conversations += got.conversations
        for name in targets:
            summary = pooled[name].summary()
            print("  " + format_summary(f"{name}, {count} users", summary), flush=True)
            results[name][str(count)] = summary
    return results


def memory_of(assistant: Assistant, watch: MemoryWatch, prefix: str) -> Dict[str, Any]:
    return {
        "peak_rss_mb": {name: round(watch.peak_kb[f"{prefix}{name}"] / 1024) for name in assistant.pids()},
        "peak_children_rss_mb": {
            name: round(watch.peak_children_kb[f"{prefix}{name}"] / 1024) for name in assistant.pids()
        },
        "ready_s": {name: round(s, 1) for name, s in assistant.ready_s.items()},
    }


# ---------------------------------------------------------------------------------------------
# 3. quality


def quality(url: str, token: str | None) -> Dict[str, Any]:
    import requests
    from answer_eval import Client, evaluate
    from triage_eval import figures

    from tests.e2e.test_nlu_eval import HELD_OUT

    figures_out: Dict[str, Any] = {}
    if token:
        right = 0
        for intent, text in HELD_OUT:
            parsed = requests.post(
                f"{url}/model/parse", params={"token": token}, json={"text": text}, timeout=60
            ).json()
            right += (parsed.get("original_intent") or parsed["intent"]["name"]) == intent
        figures_out["topic_accuracy"] = round(right / len(HELD_OUT), 4)
        figures_out["topic_phrasings"] = len(HELD_OUT)
    from crs.triage import default_engine

    engine = default_engine()
    triage = {}
    for path in sorted((ROOT / "tests" / "crs" / "triage" / "sets").glob("*.yml")):
        cases = yaml.safe_load(path.read_text(encoding="utf-8"))
        result = figures(cases, engine.assess)
        triage[path.stem] = {
            "recall": round(result["recall"], 4),
            "emergencies": result["emergencies"],
            "under": len(result["under"]),
            "over": round(len(result["over"]) / result["n"], 4),
        }
    figures_out["triage"] = triage
    answers = {}
    client = Client(url, "uk")
    for path in sorted((ROOT / "tests" / "e2e" / "answers").glob("*.yml")):
        got = evaluate(client, yaml.safe_load(path.read_text(encoding="utf-8")), False)

        def share(values: List[bool]) -> float | None:
            return round(sum(values) / len(values), 4) if values else None

        answers[path.stem] = {
            "right_in_first_two": share(got["covered"]),
            "honest_not_covered": share(got["uncovered"]),
            "follow_ups": share(got["follow_ups"]),
            "median_words": statistics.median(got["words"] or [0]),
        }
    figures_out["answers"] = answers
    return figures_out


# ---------------------------------------------------------------------------------------------
# report


def ratio(ours: float, theirs: float) -> str:
    if not theirs or ours != ours or theirs != theirs:
        return "n/a"
    return f"{ours / theirs:.2f}x"


def table(result: Dict[str, Any]) -> str:
    ours, plain = result["ours"], result.get("rasa_init")
    lines = [
        f"Run of {result['date']} on {result['machine']} (load average {result['load_before']} before, "
        f"{result['load_after']} after): `{result['command']}`.",
        "",
        "| figure | ours | plain `rasa init` | ours / rasa init | target |",
        "|---|---|---|---|---|",
    ]

    def row(name: str, a: Any, b: Any, r: str = "", target: str = "") -> None:
        lines.append(f"| {name} | {a} | {b if plain else '-'} | {r if plain else '-'} | {target} |")

    for users, load in ours["load"].items():
        other = plain["load"].get(users) if plain else None
        get = (lambda key, other=other: other[key]) if other else (lambda key: float("nan"))
        if users == "1":
            row(
                "1 user: median latency (ms)",
                load["p50_ms"],
                get("p50_ms"),
                ratio(load["p50_ms"], get("p50_ms")),
                "<= 0.33x",
            )
            row("1 user: p95 latency (ms)", load["p95_ms"], get("p95_ms"), ratio(load["p95_ms"], get("p95_ms")))
        else:
            is20 = users == "20"
            row(
                f"{users} users: throughput (turns/s)",
                load["throughput"],
                get("throughput"),
                ratio(load["throughput"], get("throughput")),
                ">= 3x" if is20 else "",
            )
            row(
                f"{users} users: p50 / p95 / p99 latency (ms)",
                f"{load['p50_ms']} / {load['p95_ms']} / {load['p99_ms']}",
                f"{get('p50_ms')} / {get('p95_ms')} / {get('p99_ms')}",
                f"p95 {ratio(load['p95_ms'], get('p95_ms'))}",
                "p95 <= 0.33x" if is20 else "",
            )
        row(
            f"{users} user{'s' if users != '1' else ''}: turns, errors",
            f"{load['turns']}, {load['errors']}",
            f"{get('turns')}, {get('errors')}" if other else "-",
        )
    if "peak_rss_mb" in ours:
        for name, target in (("Rasa server", "< 1024 MB"), ("action server", "< 300 MB")):
            a = ours["peak_rss_mb"].get(name)
            b = plain["peak_rss_mb"].get(name) if plain else None
            row(f"{name}: peak resident memory (MB)", a, b, ratio(a, b) if b else "", target)
        kids = ours["peak_children_rss_mb"].get("Rasa server")
        if kids:
            row(
                "Rasa server's worker processes (long-message triage), peak (MB)",
                kids,
                plain and plain["peak_children_rss_mb"].get("Rasa server"),
            )
        row(
            "start-up to ready: Rasa server, model loaded (s)",
            ours["ready_s"].get("Rasa server"),
            plain and plain["ready_s"].get("Rasa server"),
        )
        row(
            "start-up to ready: action server (s)",
            ours["ready_s"].get("action server"),
            plain and plain["ready_s"].get("action server"),
        )
    row("training time (s)", ours.get("train_s", "n/a"), plain and plain.get("train_s"))
    q = result.get("quality") or {}
    if q:
        lines += ["", "Quality, measured on the same server:", ""]
        if "topic_accuracy" in q:
            lines.append(
                f"- topic accuracy on {q['topic_phrasings']} held-out phrasings: {q['topic_accuracy']:.1%} (at least 90%)"
            )
        lines.append(
            "- triage, emergency recall (under-triage) per set: "
            + ", ".join(f"{name} {t['recall']:.1%} ({t['under']})" for name, t in q["triage"].items())
        )
        lines.append(
            "- answers, right passage in the first two quotes / honest not covered / follow-ups: "
            + "; ".join(
                f"{name} {_pct(a['right_in_first_two'])} / {_pct(a['honest_not_covered'])} / {_pct(a['follow_ups'])}"
                for name, a in q["answers"].items()
            )
        )
    engine = result.get("engine")
    if engine:
        lines += [
            "",
            f"Red-flag engine alone: median {engine['median_ms']} ms, p95 {engine['p95_ms']} ms per message "
            f"(CPU: median {engine['cpu_median_ms']} ms, p95 {engine['cpu_p95_ms']} ms; target p95 < 10 ms).",
        ]
    return "\n".join(lines) + "\n"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def update_readme(markdown: str) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        return
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    readme.write_text(f"{head}{README_START}\n{markdown}{README_END}{tail}")


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer conversations per level")
    parser.add_argument("--skip-init", action="store_true", help="do not run the plain rasa init assistant")
    parser.add_argument("--skip-quality", action="store_true", help="no accuracy, recall and answer figures")
    parser.add_argument("--engine-only", action="store_true", help="only the red-flag engine figures")
    parser.add_argument("--users", default="1,20,50", help="concurrent conversations per level")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per level, the order reversed each round")
    parser.add_argument("--url", help="measure a running deployment at this URL (e.g. the cluster's nginx)")
    parser.add_argument("--token", help="Rasa API token of that deployment (for the topic accuracy)")
    args = parser.parse_args(argv)

    engine = engine_bench()
    if args.engine_only:
        return 0
    users = [int(u) for u in args.users.split(",") if u.strip()]
    result: Dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} CPUs",
        "command": "make bench" + (f" ({' '.join(argv or sys.argv[1:])})" if (argv or sys.argv[1:]) else ""),
        "load_before": round(os.getloadavg()[0], 2),
        "engine": engine,
    }
    with tempfile.TemporaryDirectory(prefix="crs-bench-") as tmp:
        workdir = Path(tmp)
        running: List[Assistant] = []
        try:
            targets: Dict[str, Any] = {}
            plain = ours = None
            if not args.url:
                built = subprocess.run(["make", "--no-print-directory", "train"], cwd=ROOT, env=BASE_ENV)
                if built.returncode != 0:
                    return built.returncode
                print("\nstarting this assistant...", flush=True)
                ours = start_ours(workdir)
                running.append(ours)
            if not args.skip_init:
                init = init_project()
                print(f"starting plain `rasa init` ({init['model'].name})...", flush=True)
                plain = start_init(workdir, init)
                running.append(plain)
            print(f"settled after {settle(running):.0f} s; load, {args.rounds} rounds per level:", flush=True)
            targets["ours"] = (args.url or ours.url, True)
            if plain is not None:
                targets["rasa init"] = (plain.url, False)
            pids = {f"ours {n}": p for n, p in (ours.pids().items() if ours else [])}
            pids.update({f"init {n}": p for n, p in (plain.pids().items() if plain else [])})
            with MemoryWatch(pids) as watch:
                load = interleaved(targets, users, args.quick, args.rounds)
            result["ours"] = {"load": load["ours"], **(memory_of(ours, watch, "ours ") if ours else {})}
            if plain is not None:
                result["rasa_init"] = {
                    "load": load["rasa init"],
                    **memory_of(plain, watch, "init "),
                    "train_s": round(init["train_s"], 1),
                }
                plain.stop()
            if not args.skip_quality:
                print("quality figures (topic accuracy, triage recall, answers)...", flush=True)
                result["quality"] = quality(args.url or ours.url, args.token if args.url else ours.token)
        finally:
            for assistant in running:
                assistant.stop()
        if TRAIN_SECONDS.is_file() and not args.url:
            result["ours"]["train_s"] = float(TRAIN_SECONDS.read_text().split()[0])
    result["load_after"] = round(os.getloadavg()[0], 2)
    markdown = table(result)
    print("\n" + markdown)
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "bench.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    (ROOT / "docs" / "bench.md").write_text(
        "# make bench: the latest run\n\nWritten by `make bench` (scripts/bench.py); raw figures in "
        "results/bench.json. See docs/performance.md for the profile and what was changed.\n\n" + markdown
    )
    if not args.url:
        update_readme(markdown)
    print("written: docs/bench.md, results/bench.json" + ("" if args.url else ", README.md (bench block)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
