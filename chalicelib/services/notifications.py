"""The "notifications" consumer: who is told what when a deadline acts, recorded first, then sent.

Recipients (issue 6; Decree 61/2018 Art 19 for the applicant's apology):
- due soon: the leader of the unit handling the dossier and the officer holding the current step;
- overdue: that leader; a step overdue: the step's officer and its unit's leader (the persons responsible);
- apology issued: the applicant (email/SMS) and the receiving desk (Decree 61/2018 Art 19: both are told);
- appointment changed: the applicant, by email and/or SMS from the dossier's contacts;
- written notices of an officer's act, from the act's status change (`dossier.status_changed` with the action):
  form 02 (supplement request), the refusal after appraisal, the result ready, the stop notice (Decree 118/2025):
  the applicant, with a copy to the receiving desk that hands paper over. Sent here, by this claimed consumer with
  its retries, never by the action: a failing email or SMS provider neither fails nor slows the officer's act.
  The guidance on an online submission (form 02 before receipt) changes no status and has no event of its own:
  the action sends that one (`notify_act`), a failure recorded and logged, never raised;
- intake overdue / supplement overdue: the receiving desk.

Officers, leaders and desks are addressed by unit and officer id on the "internal" channel (what the app shows
them); the applicant on "email" and "sms". Every notification is recorded in the NotificationStore before it is
sent, with a deterministic id (event id, channel, recipient): a retried event or a failed send updates the same
record, never a second one. A send that fails for a transient reason (throttling, a timeout, a 5xx) is recorded
as failed and the consumer raises, so the delivery is retried (SQS on AWS, the next relay run locally); what was
already sent is not sent again. A permanent refusal (ports.Undeliverable: a landline given for SMS, an address SES
rejects) is recorded as undeliverable and not raised: retrying could never succeed, and it must not hold the
dossier's later events.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ..domain import events as ev
from ..domain.clock import iso
from ..domain.dossier import Dossier, HistoryEntry
from ..domain.events import DomainEvent
from ..domain.notices import applicant_notice, context_from_event, render
from ..observability import logger
from .ports import Undeliverable

if TYPE_CHECKING:
    from .deps import Deps

# Statuses of a recorded notification.
PENDING, SENT, RECORDED, FAILED, UNDELIVERABLE = "pending", "sent", "recorded", "failed", "undeliverable"
DONE = frozenset({SENT, RECORDED, UNDELIVERABLE})  # final: never sent again
INTERNAL, EMAIL, SMS = "internal", "email", "sms"

_TEMPLATES = {
    ev.DUE_SOON: "due_soon", ev.OVERDUE: "overdue", ev.STEP_OVERDUE: "step_overdue",
    ev.INTAKE_OVERDUE: "intake_overdue", ev.SUPPLEMENT_OVERDUE: "supplement_overdue",
    ev.APOLOGY_ISSUED: "apology_issued", ev.APPOINTMENT_CHANGED: "appointment_changed",
}


class Notifier(Protocol):
    def send(self, n: dict[str, Any]) -> str:
        """Deliver notification `n` (its channel, recipient, subject and body); answer its status: "sent" when
        it left for the recipient, "recorded" when this notifier only records it (locally, internal messages,
        SMS switched off). Raises ports.Undeliverable when it never can be delivered as addressed (recorded, not
        retried), anything else when the delivery failed for now (retried)."""
        ...


def on_event(deps: Deps, event: DomainEvent) -> None:
    if event.type == ev.STATUS_CHANGED:
        if event.data.get("action") in _ACT_NOTICES and not _before_import(event):
            _notice_of_act(deps, event)
        return
    template = _TEMPLATES.get(event.type)
    if template is None or _before_import(event):
        return
    dossier = deps.dossiers.get(event.code)
    notifications = build(deps, event, template, dossier)
    if notifications:
        deliver(deps, notifications, deps.notifications.for_dossier(event.code))


def _before_import(event: DomainEvent) -> bool:
    """An imported dossier's events replay its past (domain/importing.py): nobody is told of a deadline reached
    years ago. What happens to it after the import is notified like any dossier's."""
    imported_at = ((event.data.get("dossier") or {}).get("imported") or {}).get("imported_at")
    return bool(imported_at) and iso(event.at) is not None and str(iso(event.at)) < str(imported_at)


def build(deps: Deps, event: DomainEvent, template: str, dossier: Dossier | None) -> list[dict[str, Any]]:
    """The notifications `event` calls for, rendered, not yet recorded."""
    names = _unit_names(deps)
    procedure_name = dossier.procedure_name if dossier is not None else ""
    context = context_from_event(event, names, procedure_name)
    if dossier is not None:
        context["applicant_name"] = str(dossier.applicant.get("name") or "Ông/Bà")
    subject, body = render(template, context)
    out: list[dict[str, Any]] = []
    for kind, recipient, unit, channel in _recipients(event, dossier):
        out.append({
            "id": f"{event.id}#{channel}#{recipient}", "at": iso(event.at), "code": event.code, "unit": unit,
            "event_id": event.id, "event_type": event.type, "template": template, "channel": channel,
            "recipient": recipient, "recipient_kind": kind, "subject": subject, "body": body, "status": PENDING,
            "attempts": 0,
        })
    return out


def deliver(deps: Deps, notifications: list[dict[str, Any]], known: list[dict[str, Any]]) -> None:
    """Record each notification, send it, record its status; raise after trying them all if one failed.

    `known`: what the store already holds for them (a retry): one already sent or recorded is skipped."""
    before = {n["id"]: n for n in known}
    failures: list[str] = []
    for n in notifications:
        previous = before.get(n["id"])
        if previous is not None and previous.get("status") in DONE:
            continue
        n["attempts"] = int((previous or {}).get("attempts", 0)) + 1
        deps.notifications.add(n)  # recorded before it leaves: a crash here is retried from the record
        try:
            n["status"] = deps.notifier.send(n)
            n["sent_at"] = iso(deps.now())
            n.pop("error", None)
        except Undeliverable as exc:
            n["status"], n["error"] = UNDELIVERABLE, f"{type(exc).__name__}: {exc}"[:500]
            logger().warning("notification undeliverable as addressed; not retried",
                             extra={"notification": n["id"], "error": n["error"]})
        except Exception as exc:
            n["status"], n["error"] = FAILED, f"{type(exc).__name__}: {exc}"[:500]
            failures.append(n["id"])
            logger().warning("notification not sent; retried with the event",
                             extra={"notification": n["id"], "error": n["error"]})
        deps.notifications.add(n)
    if failures:
        raise NotificationFailed(failures)


class NotificationFailed(Exception):
    def __init__(self, ids: list[str]) -> None:
        super().__init__(f"{len(ids)} notification(s) not sent: {', '.join(ids)}")
        self.ids = ids


def _recipients(event: DomainEvent, dossier: Dossier | None) -> list[tuple[str, str, str, str]]:
    """(kind, recipient, unit it is addressed in, channel) for each person or office to tell."""
    data, snapshot = event.data, event.data.get("dossier", {})
    handling = str(snapshot.get("handling_unit") or snapshot.get("receiving_unit") or "")
    receiving = str(snapshot.get("receiving_unit") or handling)
    if event.type == ev.DUE_SOON:
        out = [_leader(handling)]
        if snapshot.get("assignee"):
            out.append(("officer", str(snapshot["assignee"]), handling, INTERNAL))
        return out
    if event.type == ev.OVERDUE:
        # Lateness is the competent agency's (Decree 61/2018 Art 19), whoever recorded it first: a late resolve or
        # refuse records it while the dossier is already back at the receiving desk.
        return [_leader(str(snapshot.get("competent_unit") or handling))]
    if event.type == ev.STEP_OVERDUE:
        step_unit = str(data.get("unit") or handling)
        officer = data.get("officer")
        return ([("officer", str(officer), step_unit, INTERNAL)] if officer else []) + [_leader(step_unit)]
    if event.type in (ev.INTAKE_OVERDUE, ev.SUPPLEMENT_OVERDUE):
        return [("desk", f"desk@{receiving}", receiving, INTERNAL)]
    if event.type == ev.APPOINTMENT_CHANGED and data.get("reason") == "apology":
        return []  # the apology's own notification carries the new appointment: one message, not two
    if event.type == ev.APOLOGY_ISSUED:
        return [*_applicant(dossier, receiving), ("desk", f"desk@{receiving}", receiving, INTERNAL)]
    return _applicant(dossier, receiving)


# The written notice each act gives the applicant (domain/notices.py `applicant_notice`).
_ACT_NOTICES = {"request_supplement": "supplement_request", "guide_submission": "online_guidance",
                "refuse": "refusal", "resolve": "result_ready", "stop": "stop"}
# The acts that change no status, so no event carries them to this consumer: the action sends their notice.
_SENT_BY_THE_ACTION = frozenset({"guide_submission"})


def _notice_of_act(deps: Deps, event: DomainEvent) -> None:
    """The written notice of the act `event` records (its control-sheet line: the same action at the same
    instant), sent with the consumer's retries: a failed send raises NotificationFailed, the delivery is tried
    again, and what was sent is not sent twice (deterministic ids)."""
    dossier = deps.dossiers.get(event.code, consistent=True)
    if dossier is None:
        return
    action = event.data.get("action")
    entry = next((e for e in reversed(deps.dossiers.history(event.code))
                  if e.action == action and e.at == event.at), None)
    if entry is None:
        logger().warning("written notice: no control-sheet line for the act", extra={"event": event.id})
        return
    notices = act_notices(deps, dossier, entry)
    if notices:
        deliver(deps, notices, deps.notifications.for_dossier(dossier.code))


def notify_act(deps: Deps, dossier: Dossier, entry: HistoryEntry) -> list[dict[str, Any]]:
    """Called by the action after the change is saved: sends the written notice only of an act no event carries
    (`_SENT_BY_THE_ACTION`); the others go through this consumer. A send that fails is recorded as failed and
    logged, never raised into the officer's request."""
    if entry.action not in _SENT_BY_THE_ACTION:
        return []
    out = act_notices(deps, dossier, entry)
    try:
        deliver(deps, out, deps.notifications.for_dossier(dossier.code))
    except NotificationFailed as exc:
        logger().warning("written notice not sent; recorded as failed", extra={"code": dossier.code,
                                                                               "notifications": exc.ids})
    return out


def act_notices(deps: Deps, dossier: Dossier, entry: HistoryEntry) -> list[dict[str, Any]]:
    """The written notice of the act `entry` records, if it calls for one, rendered: to the applicant
    (email/SMS) with a copy to the receiving desk. Ids are deterministic (dossier, control-sheet line, channel,
    recipient): sent again, a notice replaces its record."""
    kind = _ACT_NOTICES.get(entry.action)
    if kind is None:
        return []
    names = _unit_names(deps)
    issuer = dossier.receiving_unit if kind == "online_guidance" else dossier.competent_unit
    notice = applicant_notice(kind, dossier, entry.details, entry.at, names(issuer))
    desk = dossier.receiving_unit
    out = []
    for who, recipient, unit, channel in [*_applicant(dossier, desk), ("desk", f"desk@{desk}", desk, INTERNAL)]:
        out.append({
            "id": f"notice/{dossier.code}/{entry.seq}#{channel}#{recipient}", "at": iso(entry.at),
            "code": dossier.code, "unit": unit, "event_id": None, "event_type": f"notice.{kind}", "template": kind,
            "channel": channel, "recipient": recipient, "recipient_kind": who, "subject": f"{notice['title']} - "
            f"hồ sơ {dossier.code}", "body": notice["text"], "status": PENDING, "attempts": 0,
            "form": notice["form"]})
    return out


def _leader(unit: str) -> tuple[str, str, str, str]:
    return "leader", f"leader@{unit}", unit, INTERNAL


def _applicant(dossier: Dossier | None, unit: str) -> list[tuple[str, str, str, str]]:
    if dossier is None:
        return []
    out = []
    if dossier.applicant.get("email"):
        out.append(("applicant", str(dossier.applicant["email"]), unit, EMAIL))
    if dossier.applicant.get("phone"):
        out.append(("applicant", str(dossier.applicant["phone"]), unit, SMS))
    return out


def _unit_names(deps: Deps) -> Callable[[str], str]:
    from .queries import unit_names

    return unit_names(deps)


def digest_notification(unit: str, unit_name: str, day: datetime, overdue: list[dict[str, Any]],
                        due_soon: list[dict[str, Any]]) -> dict[str, Any]:
    """The daily digest for one unit's leader (deterministic id: one per unit and day)."""
    local_day = day.date().isoformat()
    subject, body = render("digest", {"unit_name": unit_name, "day": local_day, "overdue": overdue,
                                      "due_soon": due_soon})
    return {"id": f"digest/{unit}/{local_day}#{INTERNAL}#leader@{unit}", "at": iso(day), "code": None,
            "unit": unit, "event_id": None, "event_type": "digest", "template": "digest", "channel": INTERNAL,
            "recipient": f"leader@{unit}", "recipient_kind": "leader", "subject": subject, "body": body,
            "status": PENDING, "attempts": 0, "overdue": [i["code"] for i in overdue],
            "due_soon": [i["code"] for i in due_soon]}
