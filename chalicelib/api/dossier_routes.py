"""Dossiers for officers: intake, reading, the control sheet, actions and lists."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from chalice import Blueprint

from ..bootstrap import deps
from ..domain.errors import FieldProblem, InvalidInput
from ..domain.status import Status
from ..services import actions, intake, queries
from ..services.ports import DossierQuery
from .params import DOSSIER_CODE, dossier_code, local_date
from .routing import Call, route

bp = Blueprint(__name__)

@route(bp, "POST", "/v1/dossiers", summary="Receive a dossier (tiếp nhận hồ sơ); honours Idempotency-Key",
       tag="dossiers", body="dossier-intake", auth=True, success=201, response="Dossier",
       errors=(400, 401, 403, 409, 413, 415, 422))
def receive(call: Call) -> tuple[int, dict[str, Any]]:
    actor = call.actor()
    body = call.body()
    key = call.header("idempotency-key")
    if key is None:
        return 201, intake.receive_dossier(deps(), actor, body)
    if not 1 <= len(key.strip()) <= 200:
        raise InvalidInput("invalid Idempotency-Key", [FieldProblem("Idempotency-Key", "1 to 200 characters")])
    from ..adapters.idempotency import run_once

    def work(claim: Any) -> dict[str, Any]:
        # The dossier is written with the key's claim, in one transaction: one key, at most one dossier.
        return intake.receive_dossier(deps(), actor, body, claim=(claim.id, claim.payload_hash))

    result = run_once(f"{actor.unit}|{actor.subject}|{key}", body, work,
                      lambda code: intake.answer_again(deps(), code), call.lambda_context)
    return 201, result


@route(bp, "GET", "/v1/dossiers", summary="Dossiers of a unit, filtered, newest first, paginated",
       tag="dossiers", query="dossier-list-query", auth=True, response="DossierPage", errors=(400, 401, 403))
def list_dossiers(call: Call) -> dict[str, Any]:
    actor = call.actor()
    q = call.query()
    filed_from = _local_midnight(q.get("received_from"), "received_from", 0)
    filed_to = _local_midnight(q.get("received_to"), "received_to", 1)
    if filed_from and filed_to and filed_from >= filed_to:
        raise InvalidInput("empty date range", [FieldProblem("received_to", "must not be before received_from")])
    step_overdue = {"true": True, "false": False}.get(q.get("step_overdue", ""))
    if "officer" in q and step_overdue is not True:
        raise InvalidInput("officer filters overdue steps", [FieldProblem("officer", "only with step_overdue=true")])
    if step_overdue is True:
        # Late steps are listed from their own records (by unit, by officer): no other filter applies to them.
        others = [name for name in ("view", "status", "procedure", "received_from", "received_to", "overdue")
                  if name in q]
        if others:
            raise InvalidInput("step_overdue=true lists late steps by unit and officer only",
                               [FieldProblem(name, "not with step_overdue=true") for name in others])
    return queries.list_dossiers(deps(), actor, DossierQuery(
        unit=q.get("unit", actor.unit),
        view=q.get("view", "handling"),
        status=Status(q["status"]) if "status" in q else None,
        procedure=q.get("procedure"),
        filed_from=filed_from,
        filed_to=filed_to,
        overdue={"true": True, "false": False}.get(q.get("overdue", "")),
        limit=int(q.get("limit", 50)),
        cursor=q.get("cursor"),
    ), step_overdue=step_overdue, officer=q.get("officer"))


@route(bp, "GET", "/v1/dossiers/{code}", summary="One dossier with its clock and steps", tag="dossiers",
       auth=True, response="Dossier", errors=(400, 401, 403, 404), path_params={"code": DOSSIER_CODE})
def get_dossier(call: Call, code: str) -> dict[str, Any]:
    return queries.get_dossier(deps(), call.actor(), dossier_code(code))


@route(bp, "GET", "/v1/dossiers/{code}/history", summary="Process control sheet (form 05)", tag="dossiers",
       auth=True, response="History", errors=(400, 401, 403, 404), path_params={"code": DOSSIER_CODE})
def get_history(call: Call, code: str) -> dict[str, Any]:
    return queries.get_history(deps(), call.actor(), dossier_code(code))


@route(bp, "GET", "/v1/dossiers/{code}/apology", summary="The apology letter with the new appointment (form 04)",
       tag="dossiers", auth=True, response="ApologyLetter", errors=(400, 401, 403, 404),
       path_params={"code": DOSSIER_CODE})
def get_apology(call: Call, code: str) -> dict[str, Any]:
    return queries.get_apology(deps(), call.actor(), dossier_code(code))


@route(bp, "GET", "/v1/dossiers/{code}/notifications",
       summary="Notifications sent about a dossier (locally: what would have been sent)", tag="dossiers",
       auth=True, response="NotificationList", errors=(400, 401, 403, 404), path_params={"code": DOSSIER_CODE})
def list_notifications(call: Call, code: str) -> dict[str, Any]:
    return queries.list_notifications(deps(), call.actor(), dossier_code(code))


@route(bp, "POST", "/v1/dossiers/{code}/actions", summary="Act on a dossier at a known version", tag="dossiers",
       body="dossier-action", auth=True, response="Dossier", errors=(400, 401, 403, 404, 409, 413, 415, 422),
       path_params={"code": DOSSIER_CODE})
def act(call: Call, code: str) -> dict[str, Any]:
    actor = call.actor()
    return actions.perform_action(deps(), actor, dossier_code(code), call.body())


def _local_midnight(value: str | None, field: str, plus_days: int) -> datetime | None:
    if value is None:
        return None
    day = local_date(value, field)
    calendar = deps().catalogue.national_calendar()
    return datetime.combine(day + timedelta(days=plus_days), time(0), calendar.zone)
