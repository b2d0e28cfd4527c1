"""Statistics: report 06 (Circular 01/2020/TT-VPCP) from the counters, and a desk's tracking book (form 06 of
Circular 01/2018/TT-VPCP) from its dossiers; each as JSON, CSV or XLSX (api/files.py)."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from chalice import Blueprint

from ..bootstrap import deps
from ..domain.access import check_may_list
from ..domain.errors import FieldProblem, InvalidInput
from ..domain.report_periods import official_period
from ..services import reports, tracking_book
from ..services.deps import Deps
from .catalogue_routes import UNIT_ID
from .files import CSV, PDF, XLSX, requested_format
from .params import period
from .routing import Call, FileBody, route

bp = Blueprint(__name__)


@route(bp, "GET", "/v1/stats/report06",
       summary="Report 06: received, resolved (early, on time, late), in progress and overdue, per unit, field or "
               "procedure of a unit's subtree, for a period; as JSON, CSV or XLSX (format, or Accept)",
       tag="statistics", query="stats-report06-query", auth=True, response="Report06", errors=(400, 401, 403, 406),
       files=(CSV, XLSX))
def report06(call: Call) -> dict[str, Any] | FileBody:
    fmt = requested_format(call)
    d, unit, from_day, to_day = subtree_period(call)
    q = call.query()
    report = reports.report06(d, unit, from_day, to_day, q.get("group_by", "unit"), q.get("reading", "on_time"),
                              q.get("period"))
    if fmt == "json":
        return report
    from ..services import report06_files as files

    names = files.row_names(d, report["group_by"])
    name = f"bao-cao-06_{unit}_{report['from']}_{report['to']}.{fmt}"
    if fmt == "csv":
        return FileBody(files.to_csv(report, names), f"{CSV}; charset=utf-8", name)
    return FileBody(files.to_xlsx(report, names, d.catalogue.unit(unit).name), XLSX, name)


@route(bp, "GET", "/v1/units/{id}/tracking-book",
       summary="The tracking book (sổ theo dõi hồ sơ) of a unit's desk for a period: every dossier it took in, "
               "with its dates and outcome; as JSON, CSV, XLSX or PDF (form 06) (format, or Accept)",
       tag="statistics", query="tracking-book-query", auth=True, response="UnitTrackingBook",
       errors=(400, 401, 403, 404, 406), path_params={"id": UNIT_ID}, files=(CSV, XLSX, PDF))
def get_tracking_book(call: Call, id: str) -> dict[str, Any] | FileBody:
    actor = call.actor()
    q = call.query()
    fmt = requested_format(call, ("json", "csv", "xlsx", "pdf"))
    if len(id) > 35 or not _UNIT_ID.match(id):
        raise InvalidInput("invalid unit id", [FieldProblem("id", "expected a unit id like 000.00.11.H56")])
    book = tracking_book.tracking_book(deps(), actor, id, *period(q))
    if fmt == "json":
        return _fits(book, len(json.dumps(book, ensure_ascii=False).encode("utf-8")))
    from ..services import tracking_book_files as files

    name = f"so-theo-doi-ho-so_{id}_{book['from']}_{book['to']}.{fmt}"
    if fmt == "csv":
        text = files.to_csv(book)
        return _fits(FileBody(text, f"{CSV}; charset=utf-8", name), len(text.encode("utf-8")))
    if fmt == "pdf":
        from ..services.printing import tracking_book_pdf

        content = tracking_book_pdf(book)
        return _fits(FileBody(content, PDF, name), (len(content) + 2) // 3 * 4)
    content = files.to_xlsx(book)
    return _fits(FileBody(content, XLSX, name), (len(content) + 2) // 3 * 4)  # sent base64-encoded


# Lambda answers at most 6 MB (API Gateway would turn more into a bare 502): a book of long names and addresses
# near the row cap could pass it as JSON. Refused with a 400 that says what to ask instead.
MAX_ANSWER_BYTES = 5_500_000


def _fits(answer: Any, size: int) -> Any:
    if size > MAX_ANSWER_BYTES:
        raise InvalidInput("the book is too large to send", [FieldProblem(
            "to", f"{size} bytes is more than {MAX_ANSWER_BYTES}: ask for a shorter period (or format=xlsx)")])
    return answer


_UNIT_ID = re.compile(r"^[0-9A-Z]+(\.[0-9A-Z]+)*$")


def subtree_period(call: Call) -> tuple[Deps, str, date, date]:
    """What a statistics route of a unit's subtree asks (`unit`, the caller's own by default; `from`, `to`), once
    the caller may see that subtree (a leader theirs, an admin any)."""
    actor = call.actor()
    q = call.query()
    unit = q.get("unit", actor.unit)
    if q.get("period"):  # an official period (Decree 09/2019 Art 12) instead of from/to
        preset = official_period(q["period"])
        from_day, to_day = preset.from_day, preset.to_day
    else:
        from_day, to_day = period(q)
    d = deps()
    d.catalogue.unit(unit, "unit")
    check_may_list(actor, unit, d.catalogue.tree())
    return d, unit, from_day, to_day
