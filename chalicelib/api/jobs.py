"""Scheduled jobs. `chalice local` never fires schedules; scripts/run_local.py calls these same handlers itself.

- `overdue_sweep`, every 5 minutes: the safety net behind the Step Functions timers; wakes every dossier whose
  next watched instant has passed (due soon, overdue, a step overdue, the intake and supplement deadlines).
- `webhook_sweep`, every minute: webhook deliveries whose next attempt is due (services/webhook_delivery.py).
- `portal_sync_push`, every minute: pushes the dossiers whose changes the national portal has not acknowledged
  (services/portal_sync.py), when MOTCUA_PORTAL_URL is set.
- `deadline_digest`, daily at 07:00 Asia/Ho_Chi_Minh (00:00 UTC): each unit's leader is told its overdue and
  due-soon dossiers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice import Blueprint

if TYPE_CHECKING:
    from ..services.deps import Deps

bp = Blueprint(__name__)


@bp.schedule("rate(5 minutes)", name="overdue_sweep")
def overdue_sweep(event: Any) -> dict[str, Any]:
    from ..services.deadlines import sweep

    return _run("overdue_sweep", "overdue sweep", sweep, event)


@bp.schedule("rate(1 minute)", name="webhook_sweep")
def webhook_sweep(event: Any) -> dict[str, Any]:
    from ..services.webhook_delivery import sweep

    return _run("webhook_sweep", "webhook sweep", sweep, event)


# Vietnam has no daylight saving time: 07:00 Asia/Ho_Chi_Minh is always 00:00 UTC.
@bp.schedule("cron(0 0 * * ? *)", name="deadline_digest")
def deadline_digest(event: Any) -> dict[str, Any]:
    from ..services.deadlines import digest

    return _run("deadline_digest", "deadline digest", digest, event)


@bp.schedule("rate(1 minute)", name="portal_sync_push")
def portal_sync_push(event: Any) -> dict[str, Any]:
    from ..config import settings
    from ..services.portal_sync import push

    if not settings().portal.base_url:  # not configured: changes stay recorded, pending, visible
        return {"due": 0, "configured": 0}
    return _run("portal_sync_push", "portal sync", push, event, quiet_when=lambda report: not report.get("due"))


def _run(job: str, label: str, work: Callable[[Deps], dict[str, Any]], event: Any,
         quiet_when: Callable[[dict[str, Any]], bool] = lambda report: False) -> dict[str, Any]:
    from ..bootstrap import deps
    from ..observability import bind_request, logger

    bind_request(None, getattr(event, "context", None))  # the scheduled invocation's own Lambda context
    try:
        report = work(deps())
    except Exception:
        # Logged with the request id; the schedule runs it again next time (and Lambda retries the event).
        logger().exception(f"{label} failed", extra={"job": job})
        raise
    # One structured line per run: a metric filter or dashboard reads its counts.
    if not quiet_when(report):
        logger().info(label, extra={"job": job, **report})
    return report
