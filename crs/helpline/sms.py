"""Nurse replies by SMS: Twilio's REST API behind an interface (tests give it a local fake server).

TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_NUMBER as for the SMS channel; TWILIO_API_URL
(default https://api.twilio.com) is where the REST API is.
"""

from __future__ import annotations

import os
from typing import Protocol

import requests

DEFAULT_API = "https://api.twilio.com"


class SmsSender(Protocol):
    def send(self, to: str, body: str) -> str:
        """Send one message; the provider's message id. Raises on failure."""


class SmsSendError(RuntimeError):
    pass


class TwilioRestSender:
    def __init__(self, account_sid: str, auth_token: str, from_number: str, api_url: str = DEFAULT_API) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.from_number = from_number
        self.api_url = api_url.rstrip("/")

    @classmethod
    def from_environment(cls) -> TwilioRestSender | None:
        sid, token, number = (os.environ.get(k) for k in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_NUMBER"))
        if not (sid and token and number):
            return None
        return cls(sid, token, number, os.environ.get("TWILIO_API_URL") or DEFAULT_API)

    def send(self, to: str, body: str) -> str:
        url = f"{self.api_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        try:
            response = requests.post(
                url,
                data={"To": to, "From": self.from_number, "Body": body},
                auth=(self.account_sid, self.auth_token),
                timeout=15,
            )
        except requests.RequestException as error:
            raise SmsSendError(f"Twilio could not be reached ({type(error).__name__})") from error
        if response.status_code >= 300:
            raise SmsSendError(f"Twilio refused the message (HTTP {response.status_code})")
        try:
            return str(response.json().get("sid") or "")
        except ValueError:
            return ""
