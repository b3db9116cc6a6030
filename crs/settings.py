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
