"""Shared fixtures. Tests marked `rasa` use the trained model and real servers, started once per
session on free ports (a running `make run` is left alone)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Iterator, List
from urllib.parse import parse_qs

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "crs.tar.gz"
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONUNBUFFERED": "1"}
# SMS channel settings for the test servers (fake credentials: requests are signed with them)
SMS_ENV = {
    "TWILIO_AUTH_TOKEN": "test-auth-token-0123456789",
    "SMS_ID_SECRET": "test-id-secret",
    "TWILIO_ACCOUNT_SID": "ACtest",
    "TWILIO_NUMBER": "+15005550006",
}
# Rasa's HTTP API is off in `make run` unless RASA_API_TOKEN is set; the test servers turn it on
# with this token, as the helpline console would, so tests can read the tracker store through it
API_TOKEN = "test-api-token-" + os.urandom(8).hex()
WIDGET_ENV = {"WIDGET_SESSION_SECRET": "test-widget-secret-0123456789"}
# helpline console (issue 12): open every hour in the test servers (tests that need it closed
# rewrite this file, which the server reads again when it changes)
ALWAYS_OPEN = {day: ["00:00", "24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


class FakeTwilio:
    """Twilio's REST API for sending messages, on localhost: it records what it is sent."""

    def __init__(self) -> None:
        self.messages: List[Dict[str, str]] = []
        self.fail = False
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                owner.messages.append({"path": self.path, "auth": self.headers.get("Authorization", ""), **form})
                status, body = (
                    (500, {"message": "down"}) if owner.fail else (201, {"sid": f"SM{len(owner.messages):032d}"})
                )
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_model() -> Path:
    """Train only when make says the model is out of date (data, domain or config changed)."""
    subprocess.run(["make", "--no-print-directory", "train"], cwd=ROOT, check=True, env=ENV)
    assert MODEL.is_file(), "training did not produce models/crs.tar.gz"
    return MODEL


def wait_until(predicate, seconds: float, what: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if predicate():
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise RuntimeError(f"{what} not ready after {seconds} s:\n{log.read_text()[-3000:]}")


def spawn(args: List[str], env: Dict[str, str], log_path: Path) -> subprocess.Popen:
    """Start `rasa ARGS` in its own process group, its output appended to log_path."""
    with open(log_path, "a") as log:
        return subprocess.Popen(
            [str(VENV_BIN / "rasa"), *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


class Servers:
    """The action server and the Rasa server, as `make run` starts them."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.rasa_port = free_port()
        self.action_port = free_port()
        self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        self.webhook = f"{self.rasa_url}/webhooks/rest/webhook"
        self.action: subprocess.Popen | None = None
        self.rasa: subprocess.Popen | None = None
        self.rasa_log = workdir / "rasa.log"
        self.action_log = workdir / "actions.log"
        self.extra_env: Dict[str, str] = {}

    def start_actions(self) -> None:
        # as scripts/run.sh starts it: rasa_sdk alone, without importing Rasa (issue 13)
        with open(self.action_log, "a") as log:
            self.action = subprocess.Popen(
                [str(VENV_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(self.action_port)],
                cwd=ROOT,
                env={**ENV, "SANIC_HOST": "127.0.0.1"},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until(
            lambda: requests.get(f"http://127.0.0.1:{self.action_port}/health", timeout=2).ok,
            90,
            "action server",
            self.action,
            self.action_log,
        )

    def stop_actions(self) -> None:
        if self.action and self.action.poll() is None:
            os.killpg(self.action.pid, signal.SIGTERM)
            self.action.wait(30)

    def start_rasa(self) -> None:
        endpoints = self.workdir / "endpoints.yml"
        endpoints.write_text(
            (ROOT / "endpoints.yml")
            .read_text()
            .replace("http://localhost:5055/webhook", f"http://127.0.0.1:{self.action_port}/webhook")
            .replace("db: trackers.db", f"db: {self.workdir / 'trackers.db'}")
        )
        env = {**ENV, **SMS_ENV, **WIDGET_ENV, "SMS_STATE_DB": str(self.workdir / "sms.db"), **self.extra_env}
        args = [
            "run",
            "--enable-api",
            "--auth-token",
            API_TOKEN,
            "-m",
            str(MODEL),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(ROOT / "credentials.yml"),
            "-i",
            "127.0.0.1",
            "--port",
            str(self.rasa_port),
        ]
        self.rasa = spawn(args, env, self.rasa_log)
        wait_until(
            lambda: requests.get(f"{self.rasa_url}/status", params={"token": API_TOKEN}, timeout=2).ok,
            240,
            "Rasa server",
            self.rasa,
            self.rasa_log,
        )

    def stop(self) -> None:
        self.stop_actions()
        if self.rasa and self.rasa.poll() is None:
            os.killpg(self.rasa.pid, signal.SIGTERM)
            self.rasa.wait(60)

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        """Rasa's HTTP API, with the token."""
        params = {**kwargs.pop("params", {}), "token": API_TOKEN}
        return requests.request(method, f"{self.rasa_url}{path}", params=params, timeout=60, **kwargs)

    def tracker(self, conversation_id: str) -> Dict:
        """A conversation as the tracker store holds it (REST ids are `rest:<sender>`)."""
        response = self.api("GET", f"/conversations/{conversation_id}/tracker")
        response.raise_for_status()
        return response.json()

    def say(self, sender: str, text: str, **metadata) -> List[Dict]:
        body = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        response = requests.post(self.webhook, json=body, timeout=120)
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="session")
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    yield fake
    fake.close()


def helpline_env(workdir: Path, twilio: FakeTwilio) -> Dict[str, str]:
    import yaml

    config = yaml.safe_load((ROOT / "data" / "helpline.yml").read_text())
    config["open"] = ALWAYS_OPEN
    path = workdir / "helpline.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return {"CRS_HELPLINE_CONFIG": str(path), "TWILIO_API_URL": twilio.url}


@pytest.fixture(scope="session")
def servers(tmp_path_factory, fake_twilio) -> Iterator[Servers]:
    ensure_model()
    running = Servers(tmp_path_factory.mktemp("servers"))
    running.extra_env.update(helpline_env(running.workdir, fake_twilio))
    running.twilio = fake_twilio
    try:
        running.start_actions()
        running.start_rasa()
        yield running
    finally:
        running.stop()


def payloads(messages: List[Dict]) -> List[Dict]:
    return [m["custom"] for m in messages if isinstance(m.get("custom"), dict)]


def texts(messages: List[Dict]) -> str:
    return "\n".join(m["text"] for m in messages if m.get("text"))
