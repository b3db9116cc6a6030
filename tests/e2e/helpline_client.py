"""A nurse's browser session against the console, over real HTTP (shared by the helpline tests)."""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from typing import Any, Dict, List

import requests

from tests.conftest import ENV, ROOT

PASSWORD = "correct horse battery staple"


def add_nurse(servers, name: str, password: str = PASSWORD) -> subprocess.CompletedProcess:
    """`make nurse-add` as an administrator runs it, on the test server's database."""
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            "nurse-add",
            f"NURSE={name}",
            f"ENDPOINTS={servers.workdir / 'endpoints.yml'}",
        ],
        cwd=ROOT,
        env={**ENV, "NURSE_PASSWORD": password},
        capture_output=True,
        text=True,
        timeout=300,
    )


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Console:
    def __init__(self, servers) -> None:
        self.base = f"{servers.rasa_url}/webhooks/helpline"
        self.http = requests.Session()
        self.csrf = ""

    def login_form(self) -> str:
        page = self.http.get(f"{self.base}/login", timeout=30)
        assert page.status_code == 200, page.text
        return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)

    def login(self, name: str, password: str = PASSWORD) -> requests.Response:
        token = self.login_form()
        response = self.http.post(
            f"{self.base}/login",
            data={"name": name, "password": password, "csrf": token},
            allow_redirects=False,
            timeout=60,
        )
        if response.status_code == 303:
            self.csrf = self.get("me").json()["csrf"]
        return response

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(f"{self.base}/api/{path}", timeout=60, **kwargs)

    def post(
        self, path: str, body: Dict[str, Any] | None = None, csrf: str | None = None, **kwargs
    ) -> requests.Response:
        headers = {"X-CSRF-Token": self.csrf if csrf is None else csrf, **kwargs.pop("headers", {})}
        return self.http.post(f"{self.base}/api/{path}", json=body or {}, headers=headers, timeout=60, **kwargs)

    def queue(self) -> List[Dict[str, Any]]:
        response = self.get("queue")
        assert response.status_code == 200, response.text
        return response.json()["cases"]

    def wait_for_case(self, conversation_id: str, seconds: float = 20, **expected) -> Dict[str, Any]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = self.get(f"cases/{conversation_id}")
            if found.status_code == 200 and all(found.json().get(k) == v for k, v in expected.items()):
                return found.json()
            time.sleep(0.3)
        raise AssertionError(f"case {conversation_id} {expected} not seen: {found.status_code} {found.text[:500]}")
