"""Receiving a dossier at a desk, by post, or from the online portal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..domain.codes import dossier_code, sequence_name
from ..domain.dossier import Actor, Dossier, HistoryEntry
from ..domain.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from ..observability import logger
from .actions import unit_calendars
from .deps import Deps
from .forms import validate_form
from .ports import MessageRecord
from .queries import unit_names
from .views import dossier_view, intake_forms


def receive_dossier(
    deps: Deps, actor: Actor, request: dict[str, Any], claim: tuple[str, str] | None = None,
    message: Callable[[Dossier], MessageRecord] | None = None,
) -> dict[str, Any]:
    """Check the form against the procedure's schema, draw a code, store dossier and first history line
    (with `message`, the outcome of the inbound message that submitted it, in the same transaction)."""
    if "desk" not in actor.roles:
        raise Forbidden("receiving a dossier needs the desk role")
    catalogue = deps.catalogue
    receiving = catalogue.active_unit(actor.unit, "receiving_unit", deps.now())
    try:
        procedure = catalogue.procedure(request["procedure_code"])
    except NotFound as exc:
        raise InvalidInput("unknown procedure", [FieldProblem("procedure_code", exc.message)]) from exc
    competent = request.get("competent_unit") or _default_competent(procedure.competent_units, receiving.id)
    catalogue.active_unit(competent, "competent_unit", deps.now())
    if request.get("intake", {}).get("decision", "receive") == "receive":  # refused or guided: may be incomplete
        validate_form(procedure.form_schema, request.get("form", {}))

    now = deps.now()
    calendar = catalogue.calendar_for(receiving.id)
    local_day = calendar.local(now).date()

    def build(sequence: int) -> tuple[Dossier, HistoryEntry]:
        return Dossier.receive(
            code=dossier_code(receiving.id, local_day, sequence), procedure=procedure,
            receiving_unit=receiving.id, competent_unit=competent, channel=request["channel"],
            applicant=request["applicant"], form=request.get("form", {}), documents=request.get("documents", []),
            actor=actor, at=now, calendar=unit_calendars(deps, procedure), note=request.get("note", ""),
            authorised_person=request.get("authorised_person"), result_delivery=request.get("result_delivery"),
            decision=request.get("intake"), watch=deps.watch,
        )

    # 413 before a number is drawn: the item as it would be stored, with the widest code a day can have.
    deps.dossiers.check_fits(*build(999_999_999))
    dossier, entry = build(deps.dossiers.next_sequence(sequence_name(receiving.id, local_day)))
    if message is None:
        deps.dossiers.add(dossier, entry, claim=claim)
    else:  # an inbound message's outcome, written with the dossier (services/inbound.py)
        deps.dossiers.add(dossier, entry, claim=claim, message=message(dossier))
    logger().info("dossier received", extra={
        "code": dossier.code, "procedure": procedure.code, "channel": dossier.channel, "unit": receiving.id,
        "status": dossier.status, "due_at": dossier.due_at.isoformat() if dossier.due_at else None})
    return {**dossier_view(dossier, calendar, now), **intake_forms(dossier, unit_names(deps))}


def _default_competent(competent_units: tuple[str, ...], receiving: str) -> str:
    if receiving in competent_units:
        return receiving
    if len(competent_units) == 1:
        return competent_units[0]
    raise InvalidInput("competent_unit is required", [FieldProblem(
        "competent_unit", f"the procedure is handled by several units: {', '.join(competent_units)}")])


def answer_again(deps: Deps, code: str) -> dict[str, Any]:
    """The answer to an intake retried with the same Idempotency-Key: the dossier it created, as it is now
    (the idempotency record keeps only the code, so it stays small whatever the dossier holds)."""
    dossier = deps.dossiers.get(code, consistent=True)
    if dossier is None:
        raise NotFound(f"no dossier {code}")
    calendar = deps.catalogue.calendar_for(dossier.receiving_unit)
    return {**dossier_view(dossier, calendar, deps.now()), **intake_forms(dossier, unit_names(deps))}
