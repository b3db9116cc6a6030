"""Opening hours of the nurse helpline and what the assistant says about them (data/helpline.yml).

The file is read again when it changes, so closures and hours change without a restart.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Dict, List, Tuple
from zoneinfo import ZoneInfo

import yaml

from crs.settings import ROOT

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CONFIG_ENV = "CRS_HELPLINE_CONFIG"


def config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or ROOT / "data" / "helpline.yml")


def _clock(value: str) -> time:
    hours, minutes = (int(part) for part in str(value).split(":"))
    return time.max if hours == 24 else time(hours, minutes)


@dataclass(frozen=True)
class Hours:
    zone: ZoneInfo
    open: Dict[int, Tuple[time, time]]  # weekday (0 = Monday) -> opens, closes
    closed_dates: frozenset
    notices: Dict[str, str]
    recommendations: Dict[str, str]

    @classmethod
    def from_data(cls, data: Dict[str, Any]) -> Hours:
        opening = {}
        for name, span in (data.get("open") or {}).items():
            if name not in DAYS or not isinstance(span, list) or len(span) != 2:
                raise ValueError(f"helpline hours: {name!r} must be a weekday with [opens, closes]")
            opening[DAYS.index(name)] = (_clock(span[0]), _clock(span[1]))
        closed = frozenset(date.fromisoformat(str(day)) for day in data.get("closed_dates") or [])
        notices = {key: " ".join(str(value).split()) for key, value in (data.get("notices") or {}).items()}
        missing = {"in_hours", "out_of_hours", "held", "resumed"} - set(notices)
        if missing:
            raise ValueError(f"helpline notices missing: {sorted(missing)}")
        recommendations = {key: str(value) for key, value in (data.get("recommendations") or {}).items()}
        return cls(ZoneInfo(data.get("timezone") or "Europe/London"), opening, closed, notices, recommendations)

    def local(self, now: float) -> datetime:
        return datetime.fromtimestamp(now, self.zone)

    def is_open(self, now: float) -> bool:
        moment = self.local(now)
        span = self.open.get(moment.weekday())
        if span is None or moment.date() in self.closed_dates:
            return False
        return span[0] <= moment.time() < span[1] or (span[1] == time.max and moment.time() >= span[0])

    def next_opening(self, now: float) -> datetime | None:
        """When the helpline next opens (None: no opening hours in the next four weeks)."""
        moment = self.local(now)
        for offset in range(0, 29):
            day = (moment + timedelta(days=offset)).date()
            span = self.open.get(day.weekday())
            if span is None or day in self.closed_dates:
                continue
            opens = datetime.combine(day, span[0], self.zone)
            if opens > moment:
                return opens
        return None

    def opens_phrase(self, now: float) -> str:
        opens = self.next_opening(now)
        if opens is None:
            return "again soon"
        today = self.local(now).date()
        clock = opens.strftime("%I:%M%p").lstrip("0").replace(":00", "").lower()
        if opens.date() == today:
            return f"today at {clock}"
        if opens.date() == today + timedelta(days=1):
            return f"tomorrow at {clock}"
        return f"on {opens.strftime('%A')} {opens.day} {opens.strftime('%B')} at {clock}"

    def request_notice(self, now: float, emergency_number: str, advice_line: str) -> Tuple[str, bool]:
        """What a person who asks for a nurse is told, and whether the helpline is open."""
        is_open = self.is_open(now)
        template = self.notices["in_hours" if is_open else "out_of_hours"]
        return (
            template.format(emergency_number=emergency_number, advice_line=advice_line, opens=self.opens_phrase(now)),
            is_open,
        )

    def notice(self, key: str, emergency_number: str, advice_line: str) -> str:
        return self.notices[key].format(emergency_number=emergency_number, advice_line=advice_line, opens="")


_cache: List[Any] = [None, None]  # (path, mtime), Hours


def current_hours() -> Hours:
    """The hours as the file says now (read again when it changed)."""
    path = config_path()
    stamp = (str(path), path.stat().st_mtime_ns)
    if _cache[0] != stamp:
        _cache[1] = Hours.from_data(yaml.safe_load(path.read_text()) or {})
        _cache[0] = stamp
    return _cache[1]
