"""Recompute report 06's counters of a period from the dossiers and print every difference (the audit path).

    python scripts/reconcile_stats.py FROM TO          (local dates, e.g. 2026-03-01 2026-03-31)
    python scripts/reconcile_stats.py --repair FROM TO (the backfill: write the differences, then check again)

With --repair the counters of [FROM, TO] (daily items, and the monthly and yearly roll-ups of the months and years
it touches) are made what the dossiers say, by ADDing each difference (services/reconcile.py `repair`): counters
written before a column or a roll-up existed are rebuilt. Run it while no event is being counted; it is safe to
run again (a second run finds nothing to write).

Reads every dossier (a Scan of the dossiers table, keys only) and its control sheet, applies
chalicelib/services/reconcile.py, and compares with the counters of every unit on the days [FROM, TO]. Against the
local stack of `make run` (DynamoDB Local on MOTCUA_DYNAMODB_PORT, default 8001) unless AWS_ENDPOINT_URL_DYNAMODB
or MOTCUA_TABLE_PREFIX says otherwise. Exits 1 when a counter differs.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    fix = argv[:1] == ["--repair"]
    argv = argv[1:] if fix else argv
    if len(argv) != 2:
        raise SystemExit("usage: reconcile_stats.py [--repair] FROM TO (local dates, e.g. 2026-03-01 2026-03-31)")
    try:
        from_day, to_day = date.fromisoformat(argv[0]), date.fromisoformat(argv[1])
    except ValueError as exc:
        raise SystemExit(f"FROM and TO are dates like 2026-03-01: {exc}") from exc
    if to_day < from_day:
        raise SystemExit("TO is before FROM")
    if "AWS_ENDPOINT_URL_DYNAMODB" not in os.environ and "MOTCUA_TABLE_PREFIX" not in os.environ:
        from scripts import dynamodb_local

        os.environ.update(dynamodb_local.local_environment(int(os.environ.get("MOTCUA_DYNAMODB_PORT", "8001")),
                                                           "motcua-local"))
    from chalicelib.adapters.dynamodb.models import DossierModel
    from chalicelib.bootstrap import deps
    from chalicelib.services.reconcile import compare, recount_all, repair

    codes = (item.code for item in DossierModel.scan(attributes_to_get=["code"]))
    counted = recount_all(deps(), codes)
    if fix:
        done = repair(deps(), counted, from_day, to_day)
        print(f"{done['from']} .. {done['to']}: {done['items_fixed']} counter item(s) written")
    report = compare(deps(), counted, from_day, to_day)
    for line in report["differences"]:
        print(line)
    print(f"{report['from']} .. {report['to']}: {report['items']} counter items, "
          f"{len(report['differences'])} difference(s)")
    return 1 if report["differences"] else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main(sys.argv[1:]))
