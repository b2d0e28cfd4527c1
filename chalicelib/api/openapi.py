"""The OpenAPI 3.1 document, built from the declared routes, the schema files they validate with, and the
response schemas below, which describe every field the views (services/views.py) return.

tests/e2e/test_contract.py holds the two sides together: every answer of a full dossier life validates against
these schemas with no undocumented field, and a typed client generated from the document has a return type for
every operation. Schemathesis checks the running server against them (tests/e2e/test_local_server.py).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from . import schemas, webhook_openapi
from .routing import OPERATIONS, Operation

JSON = dict[str, Any]


def _ref(name: str) -> JSON:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: JSON, required: tuple[str, ...] | list[str] = (), description: str = "",
         open_ended: bool = False) -> JSON:
    """An object schema. Every listed field is typed; `open_ended` only where the content is data defined
    elsewhere (a procedure's form schema, a province's calendar overrides, an action's details)."""
    out: JSON = {"type": "object", "properties": properties}
    if required:
        out["required"] = list(required)
    if description:
        out["description"] = description
    if open_ended:
        out["additionalProperties"] = True
    return out


def _array(items: JSON, description: str = "") -> JSON:
    return {"type": "array", "items": items, **({"description": description} if description else {})}


def _nullable(schema: JSON) -> JSON:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    kind = schema["type"]
    out = {**schema, "type": [*(kind if isinstance(kind, list) else [kind]), "null"]}
    if "enum" in schema:
        out["enum"] = [*schema["enum"], None]
    return out


STRING: JSON = {"type": "string"}
INTEGER: JSON = {"type": "integer"}
BOOLEAN: JSON = {"type": "boolean"}
INSTANT: JSON = {"type": "string", "format": "date-time",
                 "description": "Asia/Ho_Chi_Minh time with its offset, e.g. 2026-03-16T10:00:00+07:00"}
DAY: JSON = {"type": "string", "format": "date"}
MAYBE_STRING = _nullable(STRING)
MAYBE_INSTANT = _nullable(INSTANT)
MAYBE_INTEGER = _nullable(INTEGER)
MAYBE_BOOLEAN = _nullable(BOOLEAN)
CONFIRMED: JSON = {"type": "boolean", "description": "false: a day counted lies in a year whose civil-service "
                                                    "decision is not shipped (public holidays alone)"}
DUE_CONFIRMED = _nullable({**CONFIRMED, "description": "whether the due time's years are confirmed; null before "
                                                       "the clock starts"})

STATUSES = ["submitted", "received", "not_accepted", "guided", "in_progress", "supplement_requested",
            "payment_requested", "withdrawn", "stopped", "resolved", "refused", "returned"]
OUTCOMES = ["early", "on_time", "late", "withdrawn", "stopped", "refused", "not_accepted", "guided"]
STATUS_FIELDS: JSON = {
    "status": {"type": "string", "enum": STATUSES, "description": "motcua's own status"},
    "national_code": {"type": "integer", "minimum": 1, "maximum": 10,
                      "description": "the national (DVCQG) status code"},
    "label": {"type": "string", "description": "the national status label, in Vietnamese"},
}
OUTCOME: JSON = _nullable({"type": "string", "enum": OUTCOMES, "description": "null while open; early / on_time / "
                           "late once resolved; else the closing status's own"})
STEP_OUTCOME: JSON = _nullable({"type": "string", "enum": ["early", "on_time", "late"]})


def _report06_figures() -> JSON:
    count = {"type": "integer", "minimum": 0}
    return _obj({
        "received": _obj({"total": count, "online": count, "direct_or_postal": count, "carried_over": count,
                          "for_resolution": count},
                         ("total", "online", "direct_or_postal", "carried_over", "for_resolution"),
                         "received in the period (the legal clock started: a complete, valid dossier) at the "
                         "receiving desk, online (accepted by the desk) or in person / by post; for_resolution: "
                         "those whose competent unit this is, counted there whatever desk took them in; "
                         "carried_over: received before the period and still in progress at its start at the "
                         "competent unit (part of neither). On a unit's row, for_resolution + carried_over = "
                         "resolved + refused + withdrawn or stopped after receipt + in progress"),
        "resolved": _obj({"total": count, "early": count, "on_time": count, "late": count},
                         ("total", "early", "on_time", "late"),
                         "resolved in the period (a result, status 9), judged against the due time in force after "
                         "any rescheduling; refusals after appraisal are counted apart"),
        "in_progress": _obj({"total": count, "within_deadline": count, "overdue": count},
                            ("total", "within_deadline", "overdue"),
                            "still open at the end of the last day; overdue: its due time passed by then"),
        "refused": count, "withdrawn": count, "stopped": count, "not_accepted": count, "guided": count,
        "supplement_requests": count,
        "supplement_violations": {**count, "description": "supplement requests outside Decree 61/2018 Art 15, "
                                                          "19(4): a second one, or one after the 3-day window"},
        "apologies": {**count, "description": "apologies (form 04) issued in the period"},
        "rescheduled": {**count, "description": "apologies that gave a new appointment"},
        "digitisation": _obj({"digitised": count, "digitised_at_receipt": count, "reused": count, "e_result": count},
                             ("digitised", "digitised_at_receipt", "reused", "e_result"),
                             "dossiers with a component scanned, with every component digitised on the day of "
                             "receipt, with a reused component (at the receiving desk); with the result issued as "
                             "a file (at the competent unit): each dossier once (docs/documents.md)"),
        "on_time_rate": {"type": ["number", "null"], "minimum": 0, "maximum": 1,
                         "description": "(early + on_time) / resolved; null when nothing was resolved"}},
        ("received", "resolved", "in_progress", "refused", "withdrawn", "stopped", "not_accepted", "guided",
         "supplement_requests", "supplement_violations", "apologies", "rescheduled", "digitisation", "on_time_rate"))


def _report06_row() -> JSON:
    figures = _report06_figures()
    return _obj({"key": {"type": "string", "description": "the unit id, field code or procedure code"},
                 "name": {**MAYBE_STRING, "description": "the unit's name (group_by=unit), else null"},
                 **figures["properties"], "official": _ref("Report06Official")},
                ("key", "name", *figures["required"], "official"), "One row of report 06")


def _report06_official() -> JSON:
    count = {"type": "integer", "minimum": 0}
    return _obj({
        "received": _obj({"total": count, "online": count, "direct_or_postal": count, "carried_over": count},
                         ("total", "online", "direct_or_postal", "carried_over"), "columns 3 (= 4 + 5 + 6) to 6"),
        "resolved": _obj({"total": count, "early": count, "on_time": count, "late": count},
                         ("total", "early", "on_time", "late"), "columns 7 (= 8 + 9 + 10) to 10"),
        "in_progress": _obj({"total": count, "within_deadline": count, "overdue": count},
                            ("total", "within_deadline", "overdue"), "columns 11 (= 12 + 13) to 13"),
        "on_time_rate": {"type": ["number", "null"], "minimum": 0, "maximum": 1}},
        ("received", "resolved", "in_progress", "on_time_rate"),
        "The official form's columns (biểu 06a/06b, Circular 01/2020/TT-VPCP) at the resolving unit: column 3 = "
        "column 7 + column 11 on every row (docs/statistics.md)")


def _quality_components() -> JSON:
    """Decision 766 indicators, the ranking and the inactive units (services/quality.py, docs/statistics.md)."""
    count = {"type": "integer", "minimum": 0}
    share = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
    score = {"type": ["number", "null"], "minimum": 0, "maximum": 100,
             "description": "points earned out of 100, never rescaled to what was measured (Decision 766's "
                            "groups without data are not measured: `index`); null when nothing was measured"}
    figures = ("received", "received_online", "resolved", "finished_in_time", "resolved_supplement_late",
               "in_progress", "overdue", "open_supplement_late", "overdue_supplement_late", "open_in_time",
               "processed", "resolved_late_766", "ended_766", "ended_late_766", "synced")
    indicators = _obj({
        "on_time": {**share, "description": "(finished within the original limit by the agency's working time "
                                            "+ open within deadline, less those asked for supplements more than "
                                            "once) / (finished + open at the end); null when none"},
        "online": {**share, "description": "3.3: online / received for resolution over the procedures offered "
                                           "online, x the sync share; null when none was received"},
        "sync": {**share, "description": "1.4: dossiers synced to the national portal / dossiers known"},
        "online_procedures": {**share, "description": "3.1: procedures offered online / the unit's procedures"},
        "online_used": {**share, "description": "3.2: procedures offered online with an online dossier / "
                                                "procedures offered online"},
        "payment_procedures": {**share, "description": "3.5: procedures offered online with a fee and an online "
                                                       "payment in the period / those with a fee; null: no payment"},
        "paid_online": {**share, "description": "3.6: payments confirmed online / payments confirmed; null: none"},
        "satisfaction": {**share, "description": "5.4: 1 - (late rate + dissatisfied ratings / ratings); null: "
                                                 "nobody rated"},
        # Digitisation (docs/statistics.md, docs/documents.md): null where the deployment keeps no files.
        "e_result": {**share, "description": "4.1: dossiers with an electronic result / dossiers resolved"},
        "digitised": {**share, "description": "4.2: dossiers with every component digitised at receipt / "
                                              "dossiers received"},
        "reuse": {**share, "description": "4.3: dossiers reusing a digitised component / dossiers received"}},
        ("on_time", "online", "sync", "online_procedures", "online_used", "payment_procedures", "paid_online",
         "satisfaction", "e_result", "digitised", "reuse"),
        "Decision 766 indicators the system computes (docs/statistics.md)")
    index_row = _obj({"indicator": STRING, "code": STRING, "label": STRING, "formula": STRING, "value": share,
                      "points": {"type": "number"}, "earned": {"type": ["number", "null"]},
                      "full_at": {"type": ["number", "null"]},
                      "status": {"enum": ["measured", "not_measured"]}},
                     ("indicator", "code", "label", "formula", "value", "points", "earned", "full_at", "status"))
    index = _obj({
        "index": STRING, "score": score, "measured_points": {"type": "number"}, "max_points": {"type": "number"},
        "complete": BOOLEAN, "measured_groups": _array(STRING), "not_measured_groups": _array(STRING),
        "groups": _array(_obj({
            "group": STRING, "label": STRING, "points": {"type": "number"},
            "measured_points": {"type": "number"}, "earned": {"type": ["number", "null"]},
            "status": {"enum": ["measured", "partial", "not_measured"]}, "indicators": _array(index_row)},
            ("group", "label", "points", "measured_points", "earned", "status", "indicators")))},
        ("index", "score", "measured_points", "max_points", "complete", "measured_groups", "not_measured_groups",
         "groups"), "Decision 766's six groups: what is measured, with its points and what it earns")
    unit_row = {"unit": STRING, "name": STRING,
                "dossiers": {**count, "description": "processed: finished in the period + open at its end"},
                "received": count, "score": score, "indicators": _ref("QualityIndicators"),
                "in_progress": {**count, "description": "open at the end of the period"},
                "overdue": {**count, "description": "of those, past their due time (đang xử lý trễ)"},
                "measured_points": {"type": "number", "description": "the points the measured indicators carry"}}
    return {
        "QualityIndicators": indicators,
        "QualityAssessment": _obj({
            "unit": STRING, "name": STRING, "from": DAY, "to": DAY, "indicators": _ref("QualityIndicators"),
            "score": score, "band": MAYBE_STRING, "band_label": MAYBE_STRING,
            "dossiers": count, "index": index,
            "average_working_hours": {"type": ["number", "null"], "description": "Decision 766 2.2: the agency's "
                                      "average working hours per result in the period (applicant's pauses out)"},
            "figures": _obj({name: count for name in figures}, figures, "the counts the indicators are made of")},
            ("unit", "name", "from", "to", "indicators", "score", "band", "band_label", "dossiers", "figures",
             "index", "average_working_hours"),
            "Decision 766 indicators of a unit's subtree for a period, from the daily counters"),
        "RankedUnit": _obj({"rank": {"type": "integer", "minimum": 1}, **unit_row,
                            "band": MAYBE_STRING, "band_label": MAYBE_STRING},
                           ("rank", *unit_row, "band", "band_label")),
        "UnrankedUnit": _obj({**unit_row, "reason": STRING}, (*unit_row, "reason"),
                             "A unit listed apart: too few dossiers to be ranked on"),
        "Ranking": _obj({
            "level": STRING, "within": MAYBE_STRING, "from": DAY, "to": DAY, "min_dossiers": count,
            "points": _obj({name: {"type": "number"} for name in ("on_time", "online", "sync", "online_procedures",
                                                                  "online_used", "payment_procedures", "paid_online",
                                                                  "satisfaction", "e_result", "digitised",
                                                                  "reuse")}, (),
                           "each indicator's points (MOTCUA_QUALITY_POINTS)"),
            "index": STRING, "measured_groups": _array(STRING, "Decision 766 groups the ranking measures"),
            "not_measured_groups": _array(STRING, "groups it cannot measure: their points are earned by nobody"),
            "bands": _array(_obj({"band": STRING, "floor": {"type": "number", "minimum": 0, "maximum": 100},
                                  "label": STRING}, ("band", "floor", "label")),
                            "the bands, highest floor first (MOTCUA_RANKING_BANDS: any number of them)"),
            "bands_source": _obj({"source": STRING, "status": STRING}, ("source", "status"),
                                 "where the bands come from; the default is not confirmed as official"),
            "tie_rule": STRING, "ranked_total": {**count, "description": "units ranked, whoever asks"},
            "ranked": _array(_ref("RankedUnit"), "best first"),
            "apart": _array(_ref("UnrankedUnit"), "fewer than min_dossiers dossiers: not ranked"),
            "inactive": _array(_obj({"unit": STRING, "name": STRING}, ("unit", "name")),
                               "units of the level with no dossier event of their own counted in the period")},
            ("level", "within", "from", "to", "min_dossiers", "points", "bands", "bands_source", "tie_rule",
             "ranked_total",
             "ranked", "apart", "inactive", "index", "measured_groups", "not_measured_groups"),
            "The units of a level ranked by score (the ranking map's colours are the bands)"),
        "LateWithoutApology": _obj({
            "unit": STRING, "from": DAY, "to": DAY, "count": count,
            "units": _array(_obj({
                "unit": STRING, "name": STRING, "count": count,
                "items": _array(_obj({"code": STRING, "procedure_code": STRING, "status": STRING,
                                      "received_at": MAYBE_STRING, "due_at": MAYBE_STRING,
                                      "resolved_at": MAYBE_STRING, "outcome": STRING},
                                     ("code", "procedure_code", "status", "received_at", "due_at", "resolved_at",
                                      "outcome")))},
                ("unit", "name", "count", "items")))},
            ("unit", "from", "to", "count", "units"),
            "Dossiers late by law (resolved after the legal due time, or open past it) with no form 04, by unit"),
        "OfficerFigures": _obj({
            "unit": STRING, "from": DAY, "to": DAY,
            "officers": _array(_obj({"officer": STRING, "dossiers": count, "steps_completed": count,
                                     "steps_on_time": count, "steps_late": count, "steps_open_overdue": count},
                                    ("officer", "dossiers", "steps_completed", "steps_on_time", "steps_late",
                                     "steps_open_overdue")))},
            ("unit", "from", "to", "officers"), "Per-officer figures of a unit: responsibility traced to the person"),
        "InactiveUnits": _obj({
            "unit": STRING, "from": DAY, "to": DAY,
            "items": _array(_obj({"unit": STRING, "name": STRING, "level": STRING, "parent": MAYBE_STRING},
                                 ("unit", "name", "level", "parent")))},
            ("unit", "from", "to", "items"),
            "Units in operation during the period for which no dossier was counted"),
    }
def _tracking_book_row() -> JSON:
    named = _obj({"code": STRING, "name": STRING}, ("code", "name"))
    return _obj({
        "number": {"type": "integer", "minimum": 1, "description": "STT: the line's number in the book"},
        "code": STRING, "procedure": named,
        "applicant": _obj({"name": MAYBE_STRING, "address": MAYBE_STRING, "phone": MAYBE_STRING},
                          ("name", "address", "phone")),
        "competent_unit": _obj({"id": STRING, "name": STRING}, ("id", "name"), "cơ quan chủ trì giải quyết"),
        "channel": {"type": "string", "enum": ["direct", "postal", "online"]},
        "taken_in_at": {**INSTANT, "description": "when the desk took it in: received, refused or guided at "
                                                  "intake, or submitted online and not yet accepted"},
        "received_at": MAYBE_INSTANT, "appointment_at": MAYBE_INSTANT,
        "transferred_at": {**MAYBE_INSTANT, "description": "sent on to the agency that resolves it: the start "
                                                          "of its first step at another unit"},
        "resolved_at": MAYBE_INSTANT, "returned_at": MAYBE_INSTANT, **STATUS_FIELDS, "outcome": OUTCOME,
        "overdue": BOOLEAN, "rescheduled": BOOLEAN,
        "note": {"type": "string", "description": "the remark printed in the book (ghi chú), in Vietnamese"}},
        ("number", "code", "procedure", "applicant", "competent_unit", "channel", "taken_in_at", "received_at",
         "appointment_at", "transferred_at", "resolved_at", "returned_at", "status", "national_code", "label",
         "outcome", "overdue", "rescheduled", "note"), "One line of the tracking book")


def _intake_part(name: str) -> JSON:
    """What the dossier stores as it was received: described by the intake request schema itself."""
    part = dict(schemas.load("dossier-intake")["properties"][name])
    part.pop("allOf", None)  # request-only rules (postal needs an address); a stored value already passed them
    return part


def _components() -> JSON:
    status = _obj(STATUS_FIELDS, ("status", "national_code", "label"))
    limit = _obj({"amount": {"type": "number", "minimum": 0},
                  "unit": {"type": "string", "enum": ["working_days", "working_hours", "calendar_days", "same_day",
                                                       "months", "clock_hours"]},
                  "label": STRING}, ("amount", "unit", "label"), "A time limit as the law publishes it")
    ledger_entry = _obj({
        "event": {"type": "string", "enum": ["start", "pause", "resume", "restart", "reschedule", "wait", "wait_end",
                                                     "stop"]},
        "at": INSTANT, "effective_at": INSTANT, "consumed_seconds": INTEGER, "due_at": MAYBE_INSTANT,
        "reason": STRING}, ("event", "at", "effective_at", "consumed_seconds", "due_at"))
    clock = _obj({
        "state": {"type": "string", "enum": ["running", "paused", "stopped"]},
        "counting": {"type": "string", "enum": ["working", "calendar"]},
        "budget_seconds": INTEGER, "consumed_seconds": INTEGER, "started_at": MAYBE_INSTANT,
        "due_at": MAYBE_INSTANT, "overdue": BOOLEAN, "calendar_version": STRING, "confirmed": CONFIRMED,
        "ledger": _array(_ref("ClockLedgerEntry"))},
        ("state", "counting", "budget_seconds", "consumed_seconds", "due_at", "overdue", "calendar_version",
         "ledger"), "A clock: its ledger of start, pauses, resumes, restarts and stop")
    public_step_fields: JSON = {
        "index": INTEGER, "name": STRING, "unit": STRING, "budget": _ref("TimeLimit"),
        "started_at": MAYBE_INSTANT, "due_at": MAYBE_INSTANT, "completed_at": MAYBE_INSTANT,
        "outcome": STEP_OUTCOME,
        "due_capped": {"type": "boolean", "description": "the step's budget ran past the dossier's due time"}}
    public_step = _obj(public_step_fields, ("index", "name", "unit", "budget", "due_at", "completed_at", "outcome"))
    step = _obj({**public_step_fields, "role": STRING, "assignee": MAYBE_STRING,
                 "clock": _nullable(_ref("Clock"))},
                ("index", "name", "unit", "budget", "due_at", "completed_at", "outcome", "role", "assignee", "clock"))
    unit_ref = _obj({"id": STRING, "name": STRING}, ("id", "name"))
    officer = _obj({"officer": MAYBE_STRING, "name": MAYBE_STRING}, ("officer", "name"))
    contact = _obj({"name": STRING, "kind": STRING, "id_number": STRING, "phone": STRING, "email": STRING,
                    "address": STRING, "authorisation": STRING})
    tracking = _obj({"entry_number": INTEGER, "day": MAYBE_INSTANT}, ("entry_number", "day"),
                    "The entry in the receiving unit's tracking book (form 06)")
    appointment = _obj({"appointment_at": MAYBE_INSTANT, "given_at": MAYBE_INSTANT, "reason": STRING},
                       ("appointment_at", "given_at"), "An appointment given to the applicant")
    intake = _obj({
        "decision": {"type": "string", "enum": ["receive", "refuse", "guide"]},
        "reasons": _array(STRING), "missing_items": _array(STRING),
        "by": STRING, "by_name": STRING, "by_unit": STRING, "at": MAYBE_INSTANT},
        ("decision", "by", "at"), "The desk's decision on the dossier (Decree 61/2018 Art 15(2))")
    fee = _obj({"amount": {"type": "integer", "minimum": 0, "description": "VND"}, "description": STRING})
    result = _obj({"summary": STRING, "document_number": STRING, "signed_by": STRING, "kind": STRING,
                   "reasons": _array(STRING)}, description="The result handed back to the applicant")
    history = _obj({
        "seq": INTEGER, "action": STRING, "label": STRING,
        "from_status": _nullable(_ref("StatusRef")), "to_status": _ref("StatusRef"),
        "at": INSTANT, "officer": STRING, "officer_unit": STRING,
        "officer_name": {**STRING, "description": "the officer's display name (the token's name claim)"},
        "step_index": MAYBE_INTEGER, "step_name": MAYBE_STRING, "step_unit": MAYBE_STRING,
        "step_due_at": MAYBE_INSTANT, "step_met": MAYBE_BOOLEAN, "step_outcome": STEP_OUTCOME,
        "note": STRING,
        "details": _obj({}, description="What the action recorded (missing items, amounts, new due times...)",
                        open_ended=True),
        "from_unit": MAYBE_STRING, "to_unit": MAYBE_STRING,
        "from_unit_name": MAYBE_STRING, "to_unit_name": MAYBE_STRING,
        "to_officer": {**MAYBE_STRING, "description": "the officer now holding the dossier (form 05: người nhận)"}},
        ("seq", "action", "label", "from_status", "to_status", "at", "officer", "officer_unit", "step_index",
         "step_name", "step_unit", "step_due_at", "step_met", "note", "details"),
        "One line of the process control sheet (form 05)")
    form_header = {"form": STRING, "title": STRING, "code": STRING, "receiving_unit": _ref("UnitRef"),
                   "applicant": _nullable(_ref("Contact")), "procedure": STRING, "tracking_book": _ref("TrackingBook")}
    receipt = _obj({
        **form_header, "reissued": BOOLEAN, "received_by": _ref("Officer"), "applicant_name": MAYBE_STRING,
        "authorised_person": _nullable(_ref("Contact")),
        "documents": _array(_obj({"name": MAYBE_STRING, "kind": MAYBE_STRING, "kind_label": MAYBE_STRING,
                                  "copies": INTEGER}, ("name", "kind", "kind_label", "copies"))),
        "received_at": MAYBE_INSTANT, "appointment_at": MAYBE_INSTANT, "limit": STRING, "fee": _ref("Fee"),
        "result_delivery": _obj({"method": STRING, "address": STRING, "label": STRING}, ("method", "label"))},
        ("form", "title", "code", "receiving_unit", "received_by", "applicant", "procedure", "documents",
         "received_at", "appointment_at", "limit", "fee", "result_delivery", "tracking_book"),
        "Form 01: Giấy tiếp nhận hồ sơ và hẹn trả kết quả")
    refusal = _obj({**form_header, "refused_by": _ref("Officer"), "refused_at": MAYBE_INSTANT,
                    "reasons": _array(STRING)},
                   ("form", "title", "code", "receiving_unit", "refused_by", "refused_at", "reasons"),
                   "Form 03: Phiếu từ chối tiếp nhận giải quyết hồ sơ")
    guidance = _obj({**form_header, "guided_by": _ref("Officer"), "guided_at": MAYBE_INSTANT,
                     "missing_items": _array(STRING)},
                    ("form", "title", "code", "receiving_unit", "guided_by", "guided_at", "missing_items"),
                    "Form 02: Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ")
    notice = _obj({"title": STRING, "code": STRING, "previous_appointment_at": MAYBE_INSTANT,
                   "appointment_at": MAYBE_INSTANT, "reason": STRING, "given_at": MAYBE_INSTANT},
                  ("title", "code", "previous_appointment_at", "appointment_at", "given_at"),
                  "A new appointment after the due time moved (payment, supplement)")
    dossier_fields: JSON = {
        "code": STRING, "version": INTEGER, **STATUS_FIELDS,
        "allowed_actions": _array(STRING, "what may be done next, by someone"),
        "procedure": _obj({"code": STRING, "version": INTEGER, "name": STRING, "field": STRING,
                           "limit": _ref("TimeLimit")}, ("code", "version", "name", "field", "limit")),
        "channel": {"type": "string", "enum": ["direct", "postal", "online"]},
        "receiving_unit": STRING, "competent_unit": STRING, "handling_unit": STRING,
        "submitted_at": INSTANT, "received_at": MAYBE_INSTANT, "appointment_at": MAYBE_INSTANT,
        "due_at": MAYBE_INSTANT, "due_confirmed": DUE_CONFIRMED, "overdue": BOOLEAN, "outcome": OUTCOME,
        "current_step": INTEGER,
        "steps": _array(_ref("Step")), "clock": _nullable(_ref("Clock")),
        "supplement_requests": INTEGER, "supplement_violations": INTEGER,
        "appointments": _array(_ref("Appointment")), "intake": _nullable(_ref("Intake")),
        "tracking_number": INTEGER,
        "applicant": _intake_part("applicant"), "authorised_person": _nullable(_intake_part("authorised_person")),
        "result_delivery": _nullable(_intake_part("result_delivery")),
        "form": _obj({}, description="As filled in, valid against the procedure's form schema", open_ended=True),
        "documents": _intake_part("documents"), "fee": _ref("Fee"), "result": _nullable(_ref("Result")),
        "resolved_at": MAYBE_INSTANT, "returned_at": MAYBE_INSTANT,
        "rating": _nullable(_ref("Rating")),
        "withdrawal_request": _nullable(_obj({"reason": STRING, "reference": STRING, "by": STRING, "at": INSTANT},
                                             ("reason", "reference", "by", "at"),
                                             "an online applicant's request to withdraw, for the desk to confirm")),
        "payments": _array(_obj({
            "channel": {"enum": ["dvcqg", "gateway", "bank_transfer", "cash", None]}, "online": BOOLEAN,
            "amount": _nullable(INTEGER), "fees": _nullable(INTEGER), "charges": _nullable(INTEGER),
            "receipt_number": MAYBE_STRING, "paid_at": INSTANT, "recorded_at": INSTANT, "recorded_by": STRING},
            ("channel", "online", "amount", "paid_at")), "fees and charges paid (VND), with the channel, oldest first"),
        # Only in the answer to an intake or an action: what the applicant is handed, and the new history line.
        "receipt": _ref("Receipt"), "refusal": _ref("Refusal"), "guidance": _ref("Guidance"),
        "appointment_notice": _ref("AppointmentNotice"), "history_entry": _ref("HistoryEntry"),
        "apology_letter": _ref("ApologyLetter"),
        # What the deadlines did (issue 6).
        "flags": _obj({}, description="deadline flag (due_soon, overdue, step_overdue:<index>, intake_overdue, "
                                      "supplement_overdue) -> when it was recorded", open_ended=True),
        "due_soon": BOOLEAN, "overdue_flagged": BOOLEAN,
        "overdue_steps": _array(INTEGER, "indexes of the steps flagged overdue"),
        "watch": _obj({}, description="deadline flag -> the instant it fires", open_ended=True),
        "next_wake": MAYBE_INSTANT, "watch_generation": INTEGER, "rescheduled": BOOLEAN,
        "flag_history": _array(_obj({"flag": STRING, "watched_at": MAYBE_INSTANT, "recorded_at": MAYBE_INSTANT,
                                     "retired_generation": INTEGER}, ("flag", "watched_at", "recorded_at")),
                               "warnings retired because their instant moved"),
        "apology": _nullable(_ref("ApologyRecord")),
        "imported": _obj({"source": STRING, "original_code": STRING, "original_receiving_unit": MAYBE_STRING,
                          "original_competent_unit": MAYBE_STRING, "imported_at": INSTANT,
                          "fingerprint": {**STRING, "description": "a hash of the imported row: the same row "
                                                                   "again is a duplicate, another is refused"}},
                         ("source", "original_code", "original_receiving_unit", "original_competent_unit",
                          "imported_at"),
                         "only on a dossier brought over from an old one-stop system (docs/import.md): the system, "
                         "and the unit codes it had before an abolished unit was mapped to its successor"),
    }
    dossier = _obj(dossier_fields, (
        "code", "version", "status", "national_code", "label", "allowed_actions", "procedure", "channel",
        "receiving_unit", "competent_unit", "handling_unit", "submitted_at", "received_at", "appointment_at",
        "due_at", "overdue", "outcome", "current_step", "steps", "clock", "applicant", "form", "documents", "fee"),
        "A dossier as officers see it. An intake answer adds the form handed to the applicant (receipt, refusal or "
        "guidance); an action answer adds history_entry, and a receipt, refusal or appointment_notice when one "
        "is issued.")
    public = _obj({
        "code": STRING, **STATUS_FIELDS,
        "procedure": _obj({"code": STRING, "name": STRING}, ("code", "name")),
        "receiving_unit": STRING, "submitted_at": INSTANT, "received_at": MAYBE_INSTANT,
        "appointment_at": MAYBE_INSTANT, "due_at": MAYBE_INSTANT, "due_confirmed": DUE_CONFIRMED,
        "overdue": BOOLEAN, "outcome": OUTCOME,
        "appointments": _array(_ref("Appointment")), "resolved_at": MAYBE_INSTANT, "returned_at": MAYBE_INSTANT,
        "rescheduled": BOOLEAN, "apology": _nullable(_ref("ApologyRecord")),
        "steps": _array(_ref("PublicStep"))},
        ("code", "status", "national_code", "label", "procedure", "receiving_unit", "submitted_at", "received_at",
         "appointment_at", "due_at", "overdue", "outcome", "steps"),
        "What an applicant sees by code: no personal data, no officers")
    summary = _obj({
        "code": STRING, "version": INTEGER, **STATUS_FIELDS, "procedure_code": STRING, "procedure_name": STRING,
        "channel": STRING, "receiving_unit": STRING, "handling_unit": STRING,
        "current_step": _nullable({"type": "string", "description": "the current step's name"}),
        "submitted_at": MAYBE_INSTANT, "received_at": MAYBE_INSTANT, "appointment_at": MAYBE_INSTANT,
        "due_at": MAYBE_INSTANT, "clock_state": _nullable({"type": "string", "enum": ["running", "paused", "stopped"]}),
        "overdue": BOOLEAN, "outcome": OUTCOME,
        "late_steps": _array(_obj({"index": INTEGER, "name": STRING, "unit": STRING, "officer": MAYBE_STRING,
                                   "due_at": MAYBE_INSTANT, "flagged_at": MAYBE_INSTANT},
                                  ("index", "name", "unit", "officer", "due_at", "flagged_at")),
                             "only with step_overdue: the steps flagged overdue, with the officer holding each")},
        ("code", "version", "status", "national_code", "label", "procedure_code", "receiving_unit", "due_at",
         "overdue", "outcome"), "A dossier in a list")
    apology_record = _obj({
        "form": {"type": "string", "enum": ["04"]}, "issued_at": MAYBE_INSTANT,
        "previous_appointment_at": MAYBE_INSTANT, "new_appointment_at": MAYBE_INSTANT,
        "reason": STRING, "timely": BOOLEAN, "issued_by": MAYBE_STRING, "issued_by_name": MAYBE_STRING,
        "issued_by_unit": MAYBE_STRING, "previous_due_at": MAYBE_INSTANT,
        "flags_before": _obj({}, description="the warnings about the old date, kept", open_ended=True)},
        ("form", "issued_at", "previous_appointment_at", "new_appointment_at"),
        "The apology (form 04) as recorded; the public lookup shows only its dates")
    apology_letter = _obj({
        "form": {"type": "string", "enum": ["04"]}, "title": STRING, "national_header": _array(STRING),
        "code": STRING, "issuing_unit": _obj({"id": STRING, "name": STRING}, ("id", "name")),
        "addressee": STRING, "procedure": _obj({"code": STRING, "name": STRING}, ("code", "name")),
        "received_at": MAYBE_INSTANT, "previous_appointment_at": MAYBE_INSTANT, "new_appointment_at": INSTANT,
        "reason": STRING, "issued_at": INSTANT,
        "issued_by": _obj({"officer": MAYBE_STRING, "name": MAYBE_STRING, "unit": MAYBE_STRING},
                          ("officer", "name", "unit")),
        "timely": {"type": "boolean", "description": "issued at least one working day before the old due time "
                                                     "(Decree 61/2018 Art 19)"},
        "place_and_date": STRING, "salutation": STRING, "paragraphs": _array(STRING), "signature": STRING,
        "text": {"type": "string", "description": "the whole letter, in Vietnamese"}},
        ("form", "title", "national_header", "code", "issuing_unit", "addressee", "procedure", "received_at",
         "previous_appointment_at", "new_appointment_at", "reason", "issued_at", "issued_by", "timely",
         "place_and_date", "salutation", "paragraphs", "signature", "text"),
        "Form 04: Phiếu xin lỗi và hẹn lại ngày trả kết quả (Circular 01/2018/TT-VPCP)")
    notification = _obj({
        "id": {"type": "string", "description": "<event id>#<channel>#<recipient>: one record per event, channel "
                                                "and recipient, however often the event is delivered"},
        "at": MAYBE_INSTANT, "event_id": MAYBE_STRING, "event_type": MAYBE_STRING,
        "template": {"type": "string", "enum": ["due_soon", "overdue", "step_overdue", "intake_overdue",
                                                "supplement_overdue", "apology_issued", "appointment_changed",
                                                "digest", "supplement_request", "online_guidance", "refusal",
                                                "result_ready", "stop"]},
        "channel": {"type": "string", "enum": ["internal", "email", "sms"],
                    "description": "internal: shown to officers in the app; email (SES), sms (SNS): the applicant"},
        "recipient": {"type": "string", "description": "leader@<unit>, desk@<unit>, an officer's id, or the "
                                                       "applicant's email or phone"},
        "recipient_kind": {"type": "string", "enum": ["leader", "officer", "desk", "applicant"]},
        "unit": MAYBE_STRING, "subject": STRING, "body": {"type": "string", "description": "in Vietnamese"},
        "status": {"type": "string", "enum": ["pending", "sent", "recorded", "failed", "undeliverable"],
                   "description": "sent: left for the recipient; recorded: only recorded (locally, the app's "
                                  "internal messages, SMS off); failed: retried with the event; undeliverable: "
                                  "refused for good (a landline for SMS, an address SES rejects), not retried"},
        "attempts": INTEGER, "sent_at": MAYBE_INSTANT, "error": MAYBE_STRING,
        "form": {**MAYBE_STRING, "description": "the written notice's form number (02), when it has one"}},
        ("id", "at", "template", "channel", "recipient", "recipient_kind", "subject", "body", "status",
         "attempts"), "A notification, as sent or (locally) as it would have been")
    control_sheet = _obj({
        "code": STRING, "form": STRING, "title": STRING,
        "header": _obj({"procedure": _obj({"code": STRING, "name": STRING}, ("code", "name")),
                        "applicant": MAYBE_STRING, "received_at": MAYBE_INSTANT, "appointment_at": MAYBE_INSTANT,
                        "appointments": _array(_ref("Appointment")), "receiving_unit": _ref("UnitRef"),
                        "lead_unit": _ref("UnitRef"), "coordinating_units": _array(_ref("UnitRef"))},
                       ("procedure", "applicant", "received_at", "appointment_at", "receiving_unit", "lead_unit",
                        "coordinating_units")),
        "entries": _array(_ref("HistoryEntry"))},
        ("code", "form", "title", "header", "entries"), "Form 05: Phiếu kiểm soát quá trình giải quyết hồ sơ")
    unit = _obj({
        "id": STRING, "name": STRING, "level": STRING, "parent": MAYBE_STRING,
        "valid_from": _nullable(DAY), "valid_to": _nullable(DAY),
        "successor": {"type": "string", "description": "the unit that took over an abolished one"},
        "calendar": _obj({}, description="this subtree's calendar overrides", open_ended=True)},
        ("id", "name", "level", "parent"), "A unit (đơn vị), identified as in Decision 20/2020")
    procedure_fields: JSON = {
        "code": STRING, "version": INTEGER, "name": STRING,
        "field": _obj({"code": STRING, "name": STRING}, ("code", "name"), "lĩnh vực"),
        "competent_units": _array(STRING), "limit": _ref("TimeLimit"),
        "steps": _array(_obj({"name": STRING, "unit": STRING, "role": STRING, "budget": _ref("TimeLimit")},
                             ("name", "unit", "role", "budget"))),
        "fee": _ref("Fee"),
        "documents": _array(_obj({"name": STRING, "copies": INTEGER, "kind": STRING, "original": BOOLEAN,
                                  "note": STRING,
                                  "reusable": {**BOOLEAN, "description": "a digitised copy from the applicant's "
                                               "earlier dossier may be attached (docs/documents.md)"}}, ("name",))),
        "intake_cutoff_online": _nullable({"type": "boolean",
                                           "description": "null: the province's calendar decides"}),
        "supplement_period": {**_ref("TimeLimit"), "description": "only when the procedure sets its own window "
                                                                  "for requesting a supplement"},
        "supplement_window_working_days": {**INTEGER, "description": "working days after the day of receipt within "
                                           "which a supplement may be requested (default 3: Decree 61/2018 Art 19(4))"},
        "supplement_notices_allowed": {**INTEGER, "description": "supplement notices the law allows (default 1; "
                                       "sector law may allow more, e.g. building permits)"},
        "online_service": {"enum": ["partial", "full", None], "description": "offered online: một phần (partial) "
                           "or toàn trình (full); null: not offered online (Decision 766 indicators 3.1-3.3)"},
    }
    procedure = _obj({**procedure_fields,
                      "form_schema": _obj({}, description="the form's JSON Schema (draft 2020-12)", open_ended=True)},
                     ("code", "version", "name", "field", "competent_units", "limit", "steps", "fee", "documents",
                      "form_schema"), "A procedure (TTHC), current version")
    procedure_summary = _obj(procedure_fields, ("code", "version", "name", "field", "competent_units", "limit",
                                                "steps", "fee", "documents"))
    return {
        "StatusRef": status, "TimeLimit": limit, "ClockLedgerEntry": ledger_entry, "Clock": clock,
        "PublicStep": public_step, "Step": step, "UnitRef": unit_ref, "Officer": officer, "Contact": contact,
        "TrackingBook": tracking, "Appointment": appointment, "Intake": intake, "Fee": fee, "Result": result,
        "HistoryEntry": history, "Receipt": receipt, "Refusal": refusal, "Guidance": guidance,
        "AppointmentNotice": notice, "ApologyRecord": apology_record, "ApologyLetter": apology_letter,
        "Notification": notification,
        "NotificationList": _obj({"code": STRING, "items": _array(_ref("Notification"))}, ("code", "items"),
                                 "A dossier's notifications, oldest first"),
        "UnitNotificationPage": _obj({"unit": STRING, "items": _array(_ref("Notification")),
                                      "next_cursor": MAYBE_STRING}, ("unit", "items", "next_cursor"),
                                     "A unit's notifications (leader, officers, desk, daily digest), newest first"),
        "Dossier": dossier, "PublicDossier": public, "DossierSummary": summary,
        "Rating": _obj({
            "level": {"enum": ["very_satisfied", "satisfied", "dissatisfied"]}, "label": STRING, "low": BOOLEAN,
            "comment": MAYBE_STRING, "via": {"enum": ["applicant", "portal"]}, "by": STRING, "at": INSTANT},
            ("level", "label", "low", "comment", "via", "by", "at"),
            "The applicant's rating of how the dossier was handled, once, after the result (docs/statistics.md)"),
        "RatingAnswer": _obj({"code": STRING, "version": INTEGER, "rating": _ref("Rating")},
                             ("code", "version", "rating")),
        "LowRatingPage": _obj({"unit": STRING, "items": _array(_obj(
            {**summary["properties"], "rating": _ref("Rating")}, ("code", "rating"))), "next_cursor": MAYBE_STRING},
            ("unit", "items", "next_cursor"), "The unit's dossiers rated dissatisfied, latest rated first"),
        "DossierPage": _obj({"items": _array(_ref("DossierSummary")), "next_cursor": MAYBE_STRING},
                            ("items", "next_cursor")),
        "History": control_sheet, "Unit": unit, "UnitList": _obj({"items": _array(_ref("Unit"))}, ("items",)),
        "ProcedureSummary": procedure_summary, "Procedure": procedure,
        "ProcedureList": _obj({"items": _array(_ref("ProcedureSummary"))}, ("items",)),
        "Report06Row": _report06_row(),
        "Report06": _obj({
            "unit": STRING, "from": DAY, "to": DAY, "group_by": {"enum": ["unit", "field", "procedure"]},
            "rows": _array(_ref("Report06Row"), "one per unit of the subtree, field or procedure with any counter, "
                                                "by key"),
            "total": _ref("Report06Total"),
            "form": {"enum": ["06a", "06b"], "description": "06a: the resolving unit; 06b: the province"},
            "period": _obj({"from": DAY, "to": DAY, "preset": MAYBE_STRING, "label": STRING,
                            "cut_off": MAYBE_STRING}, ("from", "to", "preset", "label", "cut_off"),
                           "the period printed on the form (Decree 09/2019 Art 12 for the official presets)"),
            "reading_applied": _obj({"withdrawn_or_stopped": STRING, "note": STRING},
                                    ("withdrawn_or_stopped", "note"),
                                    "where withdrawn and stopped dossiers sit (the `reading` asked: on_time or "
                                    "by_deadline)")},
            ("unit", "from", "to", "group_by", "rows", "total", "form", "period", "reading_applied"),
            "Report 06 (Circular 01/2020/TT-VPCP) of a unit and its subtree for a period of local days, from the "
            "daily counters the statistics consumer keeps from the domain events (never a scan of dossiers). "
            "Received and not accepted / guided count at the receiving unit; everything else at the competent "
            "unit. Each column's predicate is in chalicelib/services/reports.py"),
        "Report06Figures": _report06_figures(),
        "Report06Official": _report06_official(),
        "Report06Total": _obj({**_report06_figures()["properties"], "official": _ref("Report06Official")},
                              (*_report06_figures()["required"], "official"),
                              "The totals row: the figures and the official form's columns"),
        **_quality_components(),
        **_sync_components(),
        **_file_components(),
        "ImportResult": _obj({
            "read": INTEGER, "imported": INTEGER, "duplicates": INTEGER, "rejected": INTEGER,
            "balanced": {"type": "boolean", "description": "read = imported + duplicates + rejected"},
            "source": STRING,
            "rows": _array(_obj({
                "index": INTEGER, "code": MAYBE_STRING,
                "outcome": {"enum": ["imported", "duplicate", "rejected"]},
                "problems": _array(_obj({"field": STRING, "reason": STRING}, ("field", "reason")),
                                   "why a rejected row was refused, each naming rows[<index>].<field>")},
                ("index", "code", "outcome", "problems")), "one per row, in the order sent")},
            ("read", "imported", "duplicates", "rejected", "balanced", "source", "rows"),
            "What a batch import did (docs/import.md)"),
        "UnitTrackingBookRow": _tracking_book_row(),
        "UnitTrackingBook": _obj({
            "unit": STRING, "unit_name": STRING, "from": DAY, "to": DAY,
            "count": {"type": "integer", "minimum": 0, "description": "lines in the book (at most 5000)"},
            "rows": _array(_ref("UnitTrackingBookRow"), "oldest first, by when the desk took the dossier in")},
            ("unit", "unit_name", "from", "to", "count", "rows"),
            "The tracking book (sổ theo dõi hồ sơ, form 06 of Circular 01/2018/TT-VPCP) of a unit's desk for a "
            "period: every dossier it received, refused (form 03) or guided (form 02)"),
        **webhook_openapi.components(),
        "DuePreview": _obj({
            "received_at": INSTANT, "clock_start": INSTANT, "due_at": INSTANT, "limit": _ref("TimeLimit"),
            "calendar_id": STRING, "calendar_version": STRING, "confirmed": CONFIRMED},
            ("received_at", "clock_start", "due_at", "limit", "calendar_id", "calendar_version", "confirmed")),
        "CalendarYear": _obj({
            "year": INTEGER, "calendar_id": STRING, "timezone": STRING,
            "working_hours": _array({"type": "array", "items": STRING, "minItems": 2, "maxItems": 2},
                                    "working periods, e.g. [\"07:00\", \"11:30\"]"),
            "hours_per_working_day": {"type": "number"}, "intake_cutoff": MAYBE_STRING,
            "non_working_days": _array(_obj({"date": DAY, "reason": STRING}, ("date", "reason"))),
            "make_up_working_days": _array(DAY), "first_day": DAY,
            "confirmed": {"type": "boolean", "description": "false: no civil-service decision shipped for the "
                                                            "year; counted on public holidays alone"},
            "calendar_version": STRING},
            ("year", "calendar_id", "timezone", "working_hours", "hours_per_working_day", "non_working_days",
             "make_up_working_days", "confirmed")),
        "Health": _obj({"status": {"type": "string", "enum": ["ok"]}, "service": STRING, "time": INSTANT},
                       ("status", "service", "time")),
        **_inbound_components(),
        "OpenApiDocument": _obj({"openapi": STRING, "info": _obj({"title": STRING, "version": STRING},
                                                                  ("title", "version"), open_ended=True),
                                 "paths": _obj({}, open_ended=True), "components": _obj({}, open_ended=True)},
                                ("openapi", "info", "paths", "components"), "This document", open_ended=True),
    }


def _inbound_components() -> JSON:
    """Inbound messages (docs/inbound.md): what each type's `data` holds, the answer, the rejected list."""
    import json

    from ..config import schemas_dir

    def data(name: str) -> JSON:
        return _strip(json.loads((schemas_dir() / "inbound" / f"{name}.json").read_text(encoding="utf-8")))

    error = _obj({"code": STRING, "message": STRING,
                  "details": _array(_obj({"field": STRING, "reason": STRING}, ("field", "reason"))),
                  "allowed_actions": _array(STRING)}, ("code", "message", "details"))
    return {
        "InboundDossierSubmitted": data("dossier.submitted"), "InboundPaymentConfirmed": data("payment.confirmed"),
        "InboundRatingSubmitted": data("rating.submitted"),
        "InboundWithdrawalRequested": data("dossier.withdrawal_requested"),
        "InboundDossierSupplemented": data("dossier.supplemented"),
        "InboundAnswer": _obj({
            "source": STRING, "message_id": STRING, "type": {"enum": [
                "dossier.submitted", "payment.confirmed", "rating.submitted", "dossier.withdrawal_requested",
                "dossier.supplemented"]},
            "reference": {**STRING, "description": "the portal's reference or the gateway's transaction reference"},
            "dossier_code": STRING, "status": {"enum": STATUSES},
            "national_status": {**INTEGER, "minimum": 1, "maximum": 10}, "due_at": MAYBE_INSTANT,
            "files": {**_array(STRING), "description": "the ids of the files a message's references became"}},
            ("source", "message_id", "type", "reference", "dossier_code", "status", "national_status", "due_at"),
            "The dossier the message created or changed, as it stood then; a resent message (same webhook-id and "
            "body) gets this same answer again"),
        "RejectedInbound": _obj({
            "id": STRING, "at": INSTANT, "source": STRING, "message_id": MAYBE_STRING, "type": MAYBE_STRING,
            "signed": {**BOOLEAN, "description": "false: refused before or at the signature check"},
            "error": error, "body": {**STRING, "description": "the first 4096 bytes of the body as received"},
            "body_bytes": INTEGER, "body_truncated": BOOLEAN},
            ("id", "at", "source", "message_id", "type", "signed", "error", "body", "body_bytes", "body_truncated"),
            "A message refused with a 4xx, kept 90 days for an admin"),
        "RejectedInboundPage": _obj({"source": STRING, "items": _array(_ref("RejectedInbound")),
                                     "next_cursor": MAYBE_STRING}, ("source", "items", "next_cursor"),
                                    "A source's rejected messages, newest first"),
    }


def _file_components() -> JSON:
    """A dossier's files (services/documents.py, docs/documents.md)."""
    file = _obj({
        "id": STRING, "kind": {"enum": ["component", "result"]}, "component": MAYBE_STRING, "filename": STRING,
        "media_type": STRING, "size": INTEGER, "sha256": STRING, "pages": MAYBE_INTEGER,
        "state": {"enum": ["pending", "verified"], "description": "pending until its bytes were verified"},
        "by": {**STRING, "description": "the officer who uploaded it"}, "at": INSTANT, "verified_at": MAYBE_INSTANT,
        "reused_from": _nullable(_obj({"dossier": STRING, "file": STRING}, ("dossier", "file"),
                                      "the earlier dossier's file this one was reused from"))},
        ("id", "kind", "component", "filename", "media_type", "size", "sha256", "pages", "state", "by", "at",
         "verified_at", "reused_from"), "A file of a dossier: a scanned component or the result")
    download = _obj({"file": STRING, "url": {**STRING, "description": "presigned GET; works until expires_at"},
                     "expires_at": INSTANT}, ("file", "url", "expires_at"))
    audit = _obj({"id": STRING, "file": STRING, "at": INSTANT, "who": STRING, "unit": MAYBE_STRING,
                  "as": {"enum": ["officer", "applicant"]}}, ("id", "file", "at", "who", "unit", "as"))
    component = _obj({"component": STRING, "form": {"enum": ["scanned", "reused", "paper"]},
                      "files": _array(STRING)},
                     ("component", "form", "files"), "how a component of the document list was received")
    return {
        "DossierFile": file, "FileDownload": download,
        "FileUploadStarted": _obj({"file": _ref("DossierFile"), "upload": _obj({
            "method": {"enum": ["PUT"]}, "url": STRING,
            "headers": _obj({}, description="send exactly these headers with the bytes", open_ended=True),
            "expires_at": INSTANT}, ("method", "url", "headers", "expires_at"))}, ("file", "upload")),
        "DossierFiles": _obj({"code": STRING, "items": _array(_ref("DossierFile")),
                              "digitisation": _array(component), "downloads": _array(audit)},
                             ("code", "items", "digitisation", "downloads")),
        "PublicFiles": _obj({"code": STRING, "items": _array(_ref("DossierFile"))}, ("code", "items")),
        "ReceiptSecretIssued": _obj({"code": STRING, "secret": {**STRING, "description": "printed for the "
                                     "applicant; only its hash is kept"}}, ("code", "secret")),
    }


def _sync_components() -> JSON:
    """The national portal sync (services/portal_sync.py, docs/portal-sync.md)."""
    oldest = _nullable(_ref("SyncOldest"))
    figures = {"synced": INTEGER, "pending": INTEGER, "failing": INTEGER, "oldest_pending": oldest}
    return {
        "SyncOldest": _obj({"code": STRING, "since": INSTANT}, ("code", "since"),
                           "the dossier whose oldest change not yet acknowledged was recorded first, and when"),
        "SyncUnit": _obj({"unit": STRING, "name": STRING, **figures},
                         ("unit", "name", "synced", "pending", "failing", "oldest_pending")),
        "SyncStatus": _obj({"unit": STRING, **figures, "units": _array(_ref("SyncUnit"), "units of the subtree "
                                                                         "with dossiers in the sync, by id")},
                           ("unit", "synced", "pending", "failing", "oldest_pending", "units"),
                           "The national portal sync of a unit's subtree, from each unit's counter and the sparse "
                           "index of dossiers not yet synced. Pending: changes waiting to be pushed or retried; "
                           "failing: retried `failing_after` times or more without acknowledgement, or held by a "
                           "missing change; synced: every change acknowledged. A dossier counts at its receiving "
                           "unit."),
        "DossierSyncItem": _obj({
            "seq": INTEGER, "pushed": {**BOOLEAN, "description": "false: the event is nothing to the portal"},
            "service": _nullable({"type": "string", "enum": ["DongBoHoSoMC", "CapNhatTienDoHoSoMC"]}),
            "national_code": MAYBE_INTEGER, "note": MAYBE_STRING, "recorded_at": MAYBE_INSTANT,
            "acked_at": {**MAYBE_INSTANT, "description": "when the portal acknowledged it; null until then, and "
                                                          "for an event that is nothing to the portal"}},
            ("seq", "pushed", "service", "national_code", "note", "recorded_at", "acked_at")),
        "DossierSync": _obj({
            "code": STRING, "status": {"enum": ["synced", "pending", "failing", "unknown"]},
            "announced": {**BOOLEAN, "description": "the portal acknowledged the dossier sync (DongBoHoSoMC)"},
            "pushed": INTEGER, "recorded": INTEGER, "next_seq": INTEGER, "attempts": INTEGER,
            "last_error": MAYBE_STRING, "pending_since": MAYBE_INSTANT, "next_attempt_at": MAYBE_INSTANT,
            "synced_at": MAYBE_INSTANT, "items": _array(_ref("DossierSyncItem"), "the latest, newest first")},
            ("code", "status", "announced", "pushed", "recorded", "next_seq", "attempts", "last_error",
             "pending_since", "next_attempt_at", "synced_at", "items"),
            "A dossier's national portal sync: one item per domain event, pushed strictly in seq order"),
    }


# Query values arrive as strings and are validated as strings (the *-query.json files); the document gives
# clients their real types. tests/e2e/test_contract.py checks that each typed value's text passes the file.
QUERY_TYPES: dict[tuple[str, str], JSON] = {
    ("dossier-list-query", "limit"): {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
    ("dossier-list-query", "overdue"): {"type": "boolean"},
    ("dossier-list-query", "step_overdue"): {"type": "boolean"},
    ("unit-notifications-query", "limit"): {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
    ("inbound-rejected-query", "limit"): {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
    ("webhook-list-query", "limit"): {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
    ("webhook-deliveries-query", "limit"): {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
    ("calendar-due-query", "days"): {"type": "number", "exclusiveMinimum": 0, "maximum": 999,
                                     "description": "working days, up to two decimals; give days or hours"},
    ("calendar-due-query", "hours"): {"type": "number", "exclusiveMinimum": 0, "maximum": 9999,
                                      "description": "working hours, up to two decimals; give days or hours"},
}

_ERROR_TEXT = {400: "Invalid input", 401: "Missing or invalid token", 403: "Outside the caller's scope",
               404: "Not found", 409: "Version conflict or request in progress", 413: "Body too large",
               406: "A file format asked for without the Accept header it needs", 415: "Body is not JSON",
               422: "Action not allowed in this state",
               503: "A dependency did not answer in time: retry after Retry-After seconds"}
_REQUEST_ID = {"X-Request-Id": {"description": "The request id, also in error bodies: quote it when reporting",
                                "required": True, "schema": {"type": "string"}}}
_ATTACHMENT = {"Content-Disposition": {
    "description": "files only: attachment; filename=\"<ASCII name>\"; filename*=UTF-8''<the exact name>",
    "required": False, "schema": {"type": "string"}}}
_RESPONSE_OF = {"openapi": "OpenApiDocument"}  # the document's own route declares no schema name
_OPTIONAL_AUTH = {"ranking"}  # public for some levels, a token for the others (api/quality_routes.py)


@lru_cache(maxsize=1)
def document() -> JSON:
    components: JSON = {"Error": _strip(schemas.load("error")), **_components()}
    paths: JSON = {}
    for op in OPERATIONS:
        if op.body:
            components[schemas.component_name(op.body)] = _strip(schemas.load(op.body))
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "motcua API", "version": "1.0.0",
                 "description": "One-stop shop (một cửa điện tử) backend: catalogue, calendar, dossiers."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                # Integrators' routes (api_key=True): API Gateway wants a key of the integrators' usage plan
                # (docs/deploy.md); the name Chalice gives it in the deployed API's definition.
                "api_key": {"type": "apiKey", "in": "header", "name": "x-api-key",
                            "description": "an integrator's API key (AWS deployments; `chalice local` checks none)"},
            },
        },
    }


def _operation(op: Operation) -> JSON:
    out: JSON = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag]}
    params: list[JSON] = [
        {"name": name, "in": "path", "required": True, "schema": schema} for name, schema in op.path_params.items()
    ]
    if op.query:
        query_schema = schemas.load(op.query)
        required = set(query_schema.get("required", []))
        for name, schema in query_schema["properties"].items():
            typed = QUERY_TYPES.get((op.query, name), schema)
            description = typed.get("description") or schema.get("description")
            params.append({"name": name, "in": "query", "required": name in required, "schema": typed,
                           **({"description": description} if description else {})})
    if op.operation_id == "receive":
        params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                       "schema": {"type": "string", "minLength": 1, "maxLength": 200}})
    if op.operation_id == "receive_message":  # Standard Webhooks: the signature is the authentication
        params += [{"name": name, "in": "header", "required": True, "schema": {"type": "string"},
                    "description": text} for name, text in (
            ("webhook-id", "the sender's unique message id: 1 to 128 of A-Z a-z 0-9 . _ : -"),
            ("webhook-timestamp", "seconds since the epoch; within 5 minutes of the server's time"),
            ("webhook-signature", "v1,<base64 HMAC-SHA256 of id.timestamp.body>, space-separated"))]
    if params:
        out["parameters"] = params
    if op.body:
        out["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": _ref(schemas.component_name(op.body))}}}
    # A route that answers only with a file (a printed form: routing.FileBody) declares no JSON schema.
    response = op.response or (None if op.files else _RESPONSE_OF[op.operation_id])
    responses: JSON = {str(op.success): {"description": "OK", "headers": _REQUEST_ID, "content": {
        "application/json": {"schema": _ref(response)}} if response else {}}}
    if response == "Dossier":
        # A dossier's code leads to everything that takes one (clients and stateful API tests follow these).
        declared = {o.operation_id for o in OPERATIONS}
        links: JSON = {target: {"operationId": target, "parameters": {"code": "$response.body#/code"}}
                       for target in ("get_dossier", "get_history", "act", "lookup", "list_notifications")
                       if target in declared}
        # Acting needs the version just read: the link carries it (withdraw is open to the receiving desk in
        # every open status, so a stateful test can always take this step).
        links["act"]["requestBody"] = {"action": "withdraw", "reason": "Công dân rút hồ sơ",
                                       "version": "$response.body#/version"}
        responses[str(op.success)]["links"] = links
    for media_type in op.files:  # the same answer as a file (routing.FileBody): format=, or the Accept header
        text = media_type.startswith("text/")
        responses[str(op.success)]["content"][media_type] = {
            "schema": {"type": "string"} if text else {"type": "string", "format": "binary"}}
        responses[str(op.success)]["headers"] = {**_REQUEST_ID, **_ATTACHMENT}
    codes = set(op.errors) | ({401, 403} if op.auth else set()) | ({400} if op.query or op.body or op.path_params
                                                             else set())
    if op.api_key:
        codes.add(403)  # the gateway's INVALID_API_KEY, in the API's envelope
    if op.operation_id not in ("health", "openapi"):
        codes.add(503)  # every other route reads DynamoDB
    for code in sorted(codes):
        headers = {**_REQUEST_ID, **({"Retry-After": {"required": True, "schema": {"type": "integer"}}}
                                     if code == 503 else {})}
        responses[str(code)] = {"description": _ERROR_TEXT[code], "headers": headers,
                                "content": {"application/json": {"schema": _ref("Error")}}}
    out["responses"] = responses
    if op.auth:
        out["security"] = [{"bearer": []}]
    elif op.operation_id in _OPTIONAL_AUTH:
        out["security"] = [{}, {"bearer": []}]
    if op.api_key:  # both: the key at the gateway, and the token (if any) in the function
        out["security"] = [{**requirement, "api_key": []} for requirement in out.get("security", [{}])]
    return out


def _strip(schema: JSON) -> JSON:
    """Component schemas are embedded: drop the file-level dialect marker (3.1 uses 2020-12 anyway)."""
    return {k: v for k, v in schema.items() if k != "$schema"}
