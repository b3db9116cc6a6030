"""Create a nurse's account for the helpline console, or set a new password (make nurse-add).

    make nurse-add NURSE=<name>        asks for the password twice
    NURSE_PASSWORD=... make nurse-add NURSE=<name>   for scripts

The account is stored in the tracker store's database (endpoints.yml, or --endpoints), after
the console's migrations have run. A new password ends the nurse's open sessions.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def engine_from_endpoints(path: Path):
    """The tracker store's database, read from endpoints.yml as Rasa reads it (${VAR} from the
    environment), without importing Rasa (which takes seconds)."""
    import sqlalchemy as sa
    import yaml

    from crs.helpline.store import db_url

    config = yaml.safe_load(os.path.expandvars(path.read_text())).get("tracker_store") or {}
    if config.get("type") not in ("sql", "components.tracker_store.RedactingSQLTrackerStore"):
        raise SystemExit("The helpline console needs the SQL tracker store (tracker_store in endpoints.yml).")
    kwargs = {key: value for key, value in config.items() if key != "type"}
    if kwargs.get("dialect", "sqlite") == "sqlite":
        db = Path(kwargs.get("db") or "rasa.db")
        kwargs["db"] = str(db if db.is_absolute() else ROOT / db)
    return sa.create_engine(db_url(**kwargs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--endpoints", default=str(ROOT / "endpoints.yml"))
    args = parser.parse_args()
    from crs.helpline import auth
    from crs.helpline.schema import migrate
    from crs.helpline.store import HelplineStore

    if not auth.valid_name(args.name):
        print("A name is 1 to 64 letters, digits, '.', '_' or '-'.", file=sys.stderr)
        return 2
    password = os.environ.get("NURSE_PASSWORD")
    if password is None:
        password = getpass.getpass(f"Password for {args.name}: ")
        if getpass.getpass("The same password again: ") != password:
            print("The passwords differ; nothing was changed.", file=sys.stderr)
            return 2
    problem = auth.password_problem(args.name, password)
    if problem:
        print(f"Not accepted: {problem}.", file=sys.stderr)
        return 2
    engine = engine_from_endpoints(Path(args.endpoints))
    migrate(engine)
    new = HelplineStore(engine).add_nurse(args.name, password)
    HelplineStore(engine).audit("admin", "nurse_added" if new else "nurse_password_set", None, account=args.name)
    print(f"{'Created' if new else 'Updated'} the account of {args.name}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
