"""Deadlines that act: waking one dossier, the sweep that catches every dossier due, the daily digest.

`wake` is what a dossier's Step Functions timer (services/timers.py) and the sweep both call: it re-reads the
dossier, records every watched instant it has reached (due soon, overdue, a step overdue, the intake and
supplement deadlines; `Dossier.wake`), and saves with the version check, so two wakers racing record each flag
once. The sweep (EventBridge, every 5 minutes; `make run` on a short interval) is the safety net: it reads only
the sparse wake-by-time index, so its cost grows with what is due, not with the number of open dossiers.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..domain.clock import iso, parse_iso
from ..domain.errors import StaleVersion
from ..observability import logger
from .ports import DossierQuery

if TYPE_CHECKING:
    from .deps import Deps

WAKE_ATTEMPTS = 3  # an officer acting at the same moment wins; the wake re-reads and tries again
SWEEP_ROUNDS = 10  # one run drains a backlog of up to SWEEP_ROUNDS x limit dossiers
_DIGEST_PAGE = 100
# Units whose digest is built at once: each waits on DynamoDB, not on the CPU; 8 keeps a province of ~300
# units within seconds and within DynamoDB on-demand's burst.
DIGEST_WORKERS = 8
# A unit not started within this many seconds is left (counted `deferred`, logged) rather than overrun the
# Lambda's timeout (300 s, .chalice/config.json); running the digest again the same day carries on: the units
# already told are recognised by their digest's id and not told twice.
DIGEST_BUDGET_SECONDS = 240.0


def wake(deps: Deps, code: str) -> datetime | None:
    """Record what `code` has reached by now; answer its next wake (None: missing, closed, nothing left)."""
    return _wake(deps, code)[1]


def _wake(deps: Deps, code: str) -> tuple[bool, datetime | None]:
    for attempt in range(1, WAKE_ATTEMPTS + 1):
        dossier = deps.dossiers.get(code, consistent=True)
        if dossier is None or dossier.status.is_closed:
            return False, None
        expected = dossier.version
        if not dossier.wake(deps.now()):
            return False, dossier.next_wake
        try:
            deps.dossiers.save(dossier, None, expected)
        except StaleVersion:
            if attempt == WAKE_ATTEMPTS:
                raise
            continue
        return True, dossier.next_wake
    raise AssertionError("unreachable")  # the loop returns or raises


def sweep(deps: Deps, limit: int = 200) -> dict[str, Any]:
    """Wake every dossier whose next wake is at or before now; answer counts (found, woken: a flag was
    recorded, unchanged: a sibling waker was first, failed: left for the next run)."""
    now = deps.now()
    counts = {"found": 0, "woken": 0, "unchanged": 0, "failed": 0}
    for _ in range(SWEEP_ROUNDS):
        codes = deps.dossiers.due_for_wake(now, limit)
        progress = 0
        for code in codes:
            counts["found"] += 1
            try:
                changed, _next = _wake(deps, code)
            except Exception:
                logger().exception("could not wake a dossier; the next sweep tries again", extra={"code": code})
                counts["failed"] += 1
                continue
            counts["woken" if changed else "unchanged"] += 1
            progress += changed
        if len(codes) < limit or not progress:
            break
    return {"at": iso(now), **counts}


def digest(deps: Deps, workers: int = DIGEST_WORKERS, budget_seconds: float = DIGEST_BUDGET_SECONDS) -> dict[str, Any]:
    """Each unit's overdue and due-soon dossiers, one notification to its leader (daily, 07:00 Asia/Ho_Chi_Minh).

    Overdue: a running clock past its due time; due soon: a running clock due within the due-soon warning
    (MOTCUA_DUE_SOON_HOURS of working time on the unit's calendar). Both read the sparse open-by-due index of
    each unit, oldest due first, and stop at the first dossier beyond the warning. A unit past its `valid_to`
    (abolished by a reorganisation, Resolution 202/2025/QH15) gets no digest: the dossiers it left open are in
    the digest of the successor that took them over (the first one still in operation). Units are read
    `workers` at a time (their queries are independent and I/O-bound), so a province of a few hundred units
    finishes in seconds. A unit with nothing to report is not written to; a second run the same day does not
    notify twice; a unit whose digest failed is counted and left for the next run, the others are not held."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from .notifications import deliver, digest_notification
    from .queries import unit_names

    now = deps.now()
    stop_at = time.monotonic() + budget_seconds
    names = unit_names(deps)
    tree = deps.catalogue.tree()
    heirs: dict[str, list[str]] = {}  # an active unit -> itself and the abolished units it took over
    abolished = 0
    for unit_id in sorted(tree.units):
        heir = _heir(deps, unit_id, now)
        if heir is None:
            abolished += 1  # abolished with no successor in operation: nobody to tell
        else:
            heirs.setdefault(heir, []).append(unit_id)
            abolished += heir != unit_id

    def one(unit_id: str) -> dict[str, int]:
        if time.monotonic() > stop_at:
            return {"deferred": 1}
        calendar = deps.catalogue.calendar_for(unit_id)
        horizon = calendar.add_working(calendar.next_working_instant(now), deps.watch.due_soon)
        overdue: list[dict[str, Any]] = []
        due_soon: list[dict[str, Any]] = []
        for source in heirs[unit_id]:
            overdue.extend(_open_by_due(deps, source, True, now, None))
            due_soon.extend(_open_by_due(deps, source, False, now, horizon))
        if not overdue and not due_soon:
            return {}
        overdue.sort(key=lambda i: i.get("due_at") or "")
        due_soon.sort(key=lambda i: i.get("due_at") or "")
        n = digest_notification(unit_id, names(unit_id), calendar.local(now), overdue, due_soon)
        known = [k for k in deps.notifications.for_unit(unit_id, 50) if k.get("id") == n["id"]]
        deliver(deps, [n], known)
        return {"units": 1, "overdue": len(overdue), "due_soon": len(due_soon)}

    report: dict[str, Any] = {"at": iso(now), "units": 0, "overdue": 0, "due_soon": 0, "failed": 0,
                              "deferred": 0, "abolished": abolished}
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="digest") as pool:
        futures = {unit_id: pool.submit(one, unit_id) for unit_id in sorted(heirs)}
        for unit_id, future in futures.items():
            try:
                counts = future.result()
            except Exception:
                logger().exception("digest not delivered; the next run tries again", extra={"unit": unit_id})
                report["failed"] += 1
                continue
            for name, value in counts.items():
                report[name] += value
    if report["deferred"]:
        logger().error("digest out of time; run it again to carry on", extra={"deferred": report["deferred"]})
    return report


def _heir(deps: Deps, unit_id: str, now: datetime) -> str | None:
    """The unit whose digest lists `unit_id`'s open dossiers: itself while in operation (on the local day of
    `now` or earlier: a unit not yet opened has no dossiers), else its nearest successor in operation."""
    tree = deps.catalogue.tree()
    for candidate in (unit_id, *tree.successors(unit_id)):
        unit = tree.get(candidate)
        if unit is None:
            continue
        day = deps.catalogue.calendar_for(candidate).local(now).date()
        if unit.valid_to is None or day <= unit.valid_to:
            return candidate
    return None


def _open_by_due(deps: Deps, unit: str, overdue: bool, now: datetime,
                 horizon: datetime | None) -> list[dict[str, Any]]:
    """A unit's running dossiers past due (`overdue`) or due from now up to `horizon`, earliest due first."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        items, cursor = deps.dossiers.search(
            DossierQuery(unit=unit, overdue=overdue, limit=_DIGEST_PAGE, cursor=cursor), now)
        for item in items:
            due = item.get("due_at")
            if horizon is not None and (due is None or parse_iso(due) > horizon):
                return found
            found.append({"code": item["code"], "procedure_name": item.get("procedure_name"), "due_at": due})
        if cursor is None:
            return found
