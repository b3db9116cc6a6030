"""Every setting of the assistant, read in one place (environment first, then data files)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OVERDUE_MODES = ("caveat", "exclude")


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    today_override: date | None  # fixed date for tests; None: the real date, read each time
    overdue_sources: str | None  # None: use data/content/review.yml
    default_locale: str | None  # None: use data/content/locales.yml

    def today(self) -> date:
        return self.today_override or date.today()


def load_settings() -> Settings:
    """Settings from the environment.

    CRS_DATA_DIR      where data/ lives (default: the repository's data/)
    CRS_TODAY         ISO date used for review status (default: the real date; for tests)
    CRS_OVERDUE_SOURCES  caveat | exclude (default: data/content/review.yml)
    CRS_DEFAULT_LOCALE   uk | us (default: data/content/locales.yml)
    """
    today = os.environ.get("CRS_TODAY")
    overdue = os.environ.get("CRS_OVERDUE_SOURCES") or None
    if overdue is not None and overdue not in OVERDUE_MODES:
        raise ValueError(f"CRS_OVERDUE_SOURCES must be one of {OVERDUE_MODES}, not {overdue!r}")
    return Settings(
        data_dir=Path(os.environ.get("CRS_DATA_DIR") or ROOT / "data"),
        today_override=date.fromisoformat(today) if today else None,
        overdue_sources=overdue,
        default_locale=os.environ.get("CRS_DEFAULT_LOCALE") or None,
    )


def allowed_origins() -> tuple[str, ...]:
    """CRS_ALLOWED_ORIGINS: web origins allowed to use the widget's socket.io and REST from a
    browser ("https://www.example.org,https://example.org"; "*" for any). The server's own origin
    and requests without an Origin header (curl, Twilio) are always allowed."""
    raw = os.environ.get("CRS_ALLOWED_ORIGINS") or ""
    return tuple(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())


def origin_allowed(origin: str | None, host: str | None, allowed: tuple[str, ...]) -> bool:
    """Is a request with this Origin header, to this Host, allowed?"""
    if not origin:
        return True
    origin = origin.rstrip("/")
    if "*" in allowed or origin in allowed:
        return True
    return bool(host) and origin.split("://", 1)[-1] == host


def retention_days() -> float:
    """CRS_RETENTION_DAYS: conversations idle for longer are deleted by `make purge` (default 30)."""
    return float(os.environ.get("CRS_RETENTION_DAYS") or 30)
