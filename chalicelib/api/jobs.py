"""Scheduled jobs. `chalice local` never fires schedules; scripts/run_local.py calls these itself."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

bp = Blueprint(__name__)


@bp.schedule("rate(5 minutes)", name="overdue_sweep")
def overdue_sweep(event: Any) -> dict[str, Any]:
    from ..observability import bind_request, logger
    from ..services.bootstrap import deps
    from ..services.sweeps import overdue_report

    bind_request(None, getattr(event, "context", None))  # the scheduled invocation's own Lambda context
    try:
        report = overdue_report(deps())
    except Exception:
        # Logged with the request id; the schedule runs it again next time (and Lambda retries the event).
        logger().exception("overdue sweep failed", extra={"job": "overdue_sweep"})
        raise
    # One structured line per run: a metric filter or dashboard reads overdue_total from it.
    logger().info("overdue sweep", extra={"job": "overdue_sweep", **report})
    return report
