"""Report 06 (Circular 01/2020/TT-VPCP, form 06: the one-stop shop's results of receiving and resolving
dossiers) from the daily counters of services/statistics.py: never a dossier.

A unit's report covers its subtree (services/catalogue.py's unit tree), each unit's own counters read by
services/period_sums.py (its yearly roll-ups, the monthly ones of the years the period covers in part and the
daily items of the months it covers in part): what a report reads grows with units x years of history, not with
the period's length, the days since the unit began, nor dossiers. The flow columns sum the days of [from, to];
the point-in-time ones (carried over, in progress, overdue) sum the deltas of every day counted up to a day, so
they are right for any past period.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from ..domain.errors import FieldProblem, InvalidInput
from ..domain.report_periods import ReportPeriod
from .period_sums import Sums, unit_sums

if TYPE_CHECKING:
    from .deps import Deps

GROUPS = ("unit", "field", "procedure")
# Any period since go-live: provinces quote cumulative figures over years (no cap). The yearly roll-ups keep what
# a long period reads to about what a one-year period reads.
FIRST_DAY = date(2000, 1, 1)
# The counters a row adds up over the period (flows) and over all days up to a day (deltas).
FLOWS = ("received", "received_online", "received_direct", "received_postal", "resolved", "early", "on_time",
         "late", "refused", "withdrawn", "stopped", "not_accepted", "guided", "supplement_requests",
         "supplement_violations", "apologies", "rescheduled", "received_for_resolution",
         "received_for_resolution_online", "received_for_resolution_direct", "received_for_resolution_postal",
         "refused_early", "refused_on_time", "refused_late", "ended_early", "ended_on_time", "ended_late",
         "digitised", "digitised_at_receipt", "reused", "e_result")
# Where the official form puts dossiers withdrawn or stopped after receipt (it has no column of their own): the
# province's reading, printed on the report. "on_time": column 9, as a real provincial system does (Thanh Hóa's
# form notes "kể cả hồ sơ ... rút"); "by_deadline": early / on time / late by the legal due time at their end.
READINGS = {
    "on_time": "Hồ sơ công dân rút hoặc dừng giải quyết sau khi tiếp nhận được tính vào cột 9 (đúng hạn)",
    "by_deadline": "Hồ sơ công dân rút hoặc dừng giải quyết sau khi tiếp nhận được tính trước hạn, đúng hạn hoặc "
                   "quá hạn theo thời hạn giải quyết tại thời điểm rút, dừng",
}


def report06(deps: Deps, unit: str, from_day: date, to_day: date, group_by: str,
             reading: str = "on_time", preset: str | None = None) -> dict[str, Any]:
    """Report 06 of `unit` and its subtree for the local days [from_day, to_day], one row per unit, field or
    procedure (`group_by`), and the total. Who may ask is the caller's business (api: check_may_list).
    `reading`: where withdrawn and stopped dossiers sit in the official columns (READINGS); `preset`: the official
    period the days are (domain/report_periods.py), printed."""
    check_period(from_day, to_day)
    if reading not in READINGS:
        raise InvalidInput("invalid reading", [FieldProblem("reading", f"one of {', '.join(READINGS)}")])
    if group_by not in GROUPS:
        raise InvalidInput("invalid group_by", [FieldProblem("group_by", f"one of {', '.join(GROUPS)}")])
    tree = deps.catalogue.tree()
    deps.catalogue.unit(unit, "unit")
    sums: dict[str, dict[str, int]] = {}
    for uid in sorted(tree.subtree(unit)):
        for group, own in unit_sums(deps, uid, from_day, to_day).items():
            key = _group_key(uid, group, group_by)
            if key is not None:
                _accumulate(sums.setdefault(key, {}), own)
    names = {u: tree.units[u].name for u in tree.units} if group_by == "unit" else {}
    rows = [{"key": key, "name": names.get(key), **_columns(sums[key]), "official": official(sums[key], reading)}
            for key in sorted(sums)]
    total: dict[str, int] = {}
    for counted in sums.values():
        for column, n in counted.items():
            total[column] = total.get(column, 0) + n
    level = tree.units[unit].level
    return {"unit": unit, "from": from_day.isoformat(), "to": to_day.isoformat(), "group_by": group_by,
            # Biểu 06a: the unit that resolves; 06b: the province's summary (Circular 01/2020/TT-VPCP).
            "form": "06b" if level == "province" else "06a",
            "period": ReportPeriod(from_day, to_day, preset).as_dict(),
            "reading_applied": {"withdrawn_or_stopped": reading, "note": READINGS[reading]},
            "rows": rows, "total": {**_columns(total), "official": official(total, reading)}}


def official(c: dict[str, int], reading: str) -> dict[str, Any]:
    """The official form's columns 3 to 13 (biểu 06a/06b, Circular 01/2020/TT-VPCP), booked at the resolving
    (competent) unit. The identities hold on every row: 3 = 4 + 5 + 6, 7 = 8 + 9 + 10, 11 = 12 + 13, 3 = 7 + 11
    (each dossier the unit had to resolve is either resolved in the period or still in progress at its end).

    Received (3-6): the clock started in the period at this unit as the resolving one, online (4) or direct or
    postal (5); carried over (6) from before the period and still in progress at its start. Resolved (7-10): a
    result in the period: approved, or refused after appraisal (a result: the portal's code 9), each early /
    on time / late against the legal due time (an apology never moves it); withdrawn and stopped after receipt
    as `reading` says. In progress (11-13): open at the end of the period, within its deadline or overdue."""
    n = c.get
    ended = {t: n(f"ended_{t}", 0) for t in ("early", "on_time", "late")}
    if reading == "on_time":
        ended = {"early": 0, "on_time": sum(ended.values()), "late": 0}
    # Refusals counted before their timeliness was recorded: results all the same, in column 9.
    unsplit = n("refused", 0) - sum(n(f"refused_{t}", 0) for t in ("early", "on_time", "late"))
    early = n("early", 0) + n("refused_early", 0) + ended["early"]
    on_time = n("on_time", 0) + n("refused_on_time", 0) + max(unsplit, 0) + ended["on_time"]
    late = n("late", 0) + n("refused_late", 0) + ended["late"]
    online = n("received_for_resolution_online", 0)
    direct = n("received_for_resolution_direct", 0) + n("received_for_resolution_postal", 0)
    carried = n("carried_over", 0)
    in_progress, overdue = n("open", 0), n("overdue", 0)
    resolved = early + on_time + late
    return {
        "received": {"total": carried + online + direct, "online": online, "direct_or_postal": direct,
                     "carried_over": carried},
        "resolved": {"total": resolved, "early": early, "on_time": on_time, "late": late},
        "in_progress": {"total": in_progress, "within_deadline": in_progress - overdue, "overdue": overdue},
        "on_time_rate": round((early + on_time) / resolved, 4) if resolved else None,
    }


def check_period(from_day: date, to_day: date) -> None:
    if to_day < from_day:
        raise InvalidInput("empty period", [FieldProblem("to", "must not be before from")])
    if from_day < FIRST_DAY:
        raise InvalidInput("period before go-live", [FieldProblem("from", f"on or after {FIRST_DAY.isoformat()}")])


def _group_key(unit: str, group: str, group_by: str) -> str | None:
    """Which row an item adds to: the unit's own total (`all`), or its field's or procedure's item. Each
    dossier is in exactly one item of each kind, so no dossier counts twice in a row or in the total."""
    if group_by == "unit":
        return unit if group == "all" else None
    kind, _, code = group.partition("#")
    return code if kind == group_by else None


def _accumulate(into: dict[str, int], counted: Sums) -> None:
    for column in FLOWS:
        if counted.flow(column):
            into[column] = into.get(column, 0) + counted.flow(column)
    for column in ("open", "overdue"):  # at the end of the period
        into[column] = into.get(column, 0) + counted.at_end(column)
    # Received before `from` and still in progress at its start.
    into["carried_over"] = into.get("carried_over", 0) + counted.at_start("open")


def _columns(c: dict[str, int]) -> dict[str, Any]:
    """Form 06's columns. Each predicate, on the events services/statistics.py counts (DOMAIN.md, Statistics):"""
    n = c.get
    resolved = n("resolved", 0)
    on_time = n("early", 0) + n("on_time", 0)
    in_progress, overdue = n("open", 0), n("overdue", 0)
    return {
        "received": {
            # dossier.received (the clock started: a complete, valid dossier) on a day of the period, at the
            # receiving unit; online = channel online (accepted by the desk), direct_or_postal = direct + postal.
            "total": n("received", 0), "online": n("received_online", 0),
            "direct_or_postal": n("received_direct", 0) + n("received_postal", 0),
            # Received before `from` and still in progress at its start, at the competent unit: the sum of the
            # `open` deltas of the days before the period (+1 on receipt, -1 on resolution or closing).
            "carried_over": n("carried_over", 0),
            # dossier.received on a day of the period at the competent unit (the one that resolves it), whatever
            # desk took it in: with carried_over, what the unit had to resolve in the period (form 06's "Số hồ sơ
            # nhận giải quyết"), so that on a unit's row for_resolution + carried_over = resolved + refused +
            # withdrawn or stopped after receipt + in progress.
            "for_resolution": n("received_for_resolution", 0),
        },
        "resolved": {
            # dossier.resolved with outcome early / on time / late (status 9, refusals after appraisal apart) on a
            # day of the period, judged against the due time in force (after any rescheduling; the old one when
            # the apology came after it), at the competent unit.
            "total": resolved, "early": n("early", 0), "on_time": n("on_time", 0), "late": n("late", 0),
        },
        "in_progress": {
            # Still open at the end of `to`: the sum of the `open` deltas up to it; overdue: due time passed by then
            # (the `overdue` deltas: +1 on the due date, -1 on the day it ended); within deadline: the rest.
            "total": in_progress, "within_deadline": in_progress - overdue, "overdue": overdue,
        },
        # Closed with an outcome of their own on a day of the period (DOMAIN.md: never early, on time or late):
        # refused after appraisal, withdrawn, stopped at the competent unit; not accepted (form 03) and guided
        # (form 02) at the receiving desk.
        "refused": n("refused", 0), "withdrawn": n("withdrawn", 0), "stopped": n("stopped", 0),
        "not_accepted": n("not_accepted", 0), "guided": n("guided", 0),
        # request_supplement actions in the period; outside the law (Decree 61/2018 Art 15, 19(4)): a second
        # request or one after the 3-working-day window.
        "supplement_requests": n("supplement_requests", 0), "supplement_violations": n("supplement_violations", 0),
        # Apologies (form 04) issued in the period; rescheduled: those that gave a new appointment.
        "apologies": n("apologies", 0), "rescheduled": n("rescheduled", 0),
        # Files (docs/documents.md), each dossier once, on the day of its file: digitised (a component scanned) and
        # digitised_at_receipt (every listed component digitised on the day of receipt) and reused at the receiving
        # desk; e_result (the result issued as a file) at the competent unit. Zero where no bucket is configured.
        "digitisation": {"digitised": n("digitised", 0), "digitised_at_receipt": n("digitised_at_receipt", 0),
                         "reused": n("reused", 0), "e_result": n("e_result", 0)},
        # (early + on time) / resolved (DOMAIN.md), null when nothing was resolved.
        "on_time_rate": round(on_time / resolved, 4) if resolved else None,
    }
