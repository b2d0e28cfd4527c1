"""Scheduled jobs. `chalice local` never fires schedules; scripts/run_local.py calls these itself."""

from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint

bp = Blueprint(__name__)


@bp.schedule("rate(5 minutes)", name="overdue_sweep")
def overdue_sweep(event: Any) -> dict[str, Any]:
    from ..services.bootstrap import deps
    from ..services.sweeps import overdue_report

    report = overdue_report(deps())
    # One structured line per run: the metric filter / dashboard reads overdue_total.
    print(json.dumps({"job": "overdue_sweep", **report}, ensure_ascii=False))
    return report
