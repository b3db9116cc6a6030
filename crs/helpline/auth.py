"""Nurse accounts and sessions: Argon2id password hashes, session and CSRF tokens, and the
slowing down of repeated failed logins."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2-cffi's RFC 9106 low-memory profile, type Argon2id
HASHER = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4, hash_len=32, salt_len=16, type=Type.ID)
# verified against when the name is unknown, so an unknown name takes as long as a wrong password
_DUMMY = HASHER.hash(secrets.token_hex(16))

MIN_PASSWORD = 12
SESSION_IDLE_SECONDS = 30 * 60
SESSION_MAX_SECONDS = 12 * 3600
# failed logins for one name (or from one address) within WINDOW: after FREE of them, each attempt
# waits 2 ** (failures - FREE) seconds after the last failure, at most MAX_DELAY. An address gets
# more (nurses in one office share it: one nurse's typos must not lock out the others).
FAILURE_WINDOW = 15 * 60
FREE_FAILURES = 5
FREE_FAILURES_PER_ADDRESS = 20
MAX_DELAY = 15 * 60


NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def valid_name(name: object) -> bool:
    return isinstance(name, str) and 0 < len(name) <= 64 and set(name) <= NAME_CHARS


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_problem(name: str, password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"the password must have at least {MIN_PASSWORD} characters"
    if name.lower() in password.lower():
        return "the password must not contain the name"
    return None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def login_delay(failures: int, last_failure: float | None, now: float, free: int = FREE_FAILURES) -> float:
    """Seconds still to wait before the next attempt is even checked (0: go ahead)."""
    if failures < free or last_failure is None:
        return 0.0
    wait = min(2.0 ** (failures - free), MAX_DELAY)
    return max(0.0, last_failure + wait - now)
