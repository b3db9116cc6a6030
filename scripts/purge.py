"""Delete conversations idle for longer than the retention limit (`make purge DAYS=...`).

The tracker store is the one of endpoints.yml (or CRS_TRACKER_DB, a SQLite file), the SMS state
SMS_STATE_DB (default .rasa/sms.db). DAYS defaults to CRS_RETENTION_DAYS (30). Prints how many
conversations were deleted, never their ids.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    from crs.settings import retention_days

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=float, default=None, help="retention limit in days (default: settings)")
    args = parser.parse_args()
    days = retention_days() if args.days is None else args.days
    if days < 0:
        parser.error("--days must be 0 or more")

    from components.tracker_store import RedactingSQLTrackerStore
    from crs.sms_text import SmsState

    config = dict((yaml.safe_load((ROOT / "endpoints.yml").read_text()) or {}).get("tracker_store") or {})
    config.pop("type", None)
    if os.environ.get("CRS_TRACKER_DB"):
        config.update({"dialect": "sqlite", "db": os.environ["CRS_TRACKER_DB"]})
    store = RedactingSQLTrackerStore(**config)
    deleted = store.purge(days)
    sms = Path(os.environ.get("SMS_STATE_DB") or ROOT / ".rasa" / "sms.db")
    if sms.exists():
        SmsState(str(sms)).purge(days)
    print(f"purge: {len(deleted)} conversation(s) idle for more than {days:g} days deleted")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
