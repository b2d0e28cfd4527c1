"""Signed messages from portals and payment gateways (docs/inbound.md).

One message, in order:
1. its source must be configured (404 otherwise; nothing is kept for a source nobody configured);
2. its size, headers and Standard Webhooks signature are checked (401 with the reason; kept for the admin);
3. its outcome may already be recorded under `<source>#<webhook-id>`: the same body gets the first answer again,
   another body 422 (the sender reused a message id);
4. it is parsed, bounded and validated, its type must be one its source's kind sends, and it is applied through
   the intake or action use case, with its outcome recorded in the dossier's own transaction: the effect and the
   record exist together or not at all, so a resent message never acts twice;
5. a message refused for good (schema, scope, unknown dossier, wrong state or amount) is answered 4xx, its outcome
   recorded (a resend gets the same answer) and kept in the rejected list with the reason and a bounded part of
   its body. A refusal that a retry may cure (a conflict, an unavailable database) records nothing.

Logs name the source, the message id, the type and the outcome, never the body: it carries personal data.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from ..config import schemas_dir
from ..domain import payments
from ..domain.dossier import Actor, Dossier
from ..domain.errors import DomainError, FieldProblem, Forbidden, InvalidInput, NotFound
from ..domain.inbound import (
    DOSSIER_SUBMITTED,
    MESSAGE_ID,
    PAYMENT_CONFIRMED,
    RATING_SUBMITTED,
    SUPPLEMENTED,
    WITHDRAWAL_REQUESTED,
    Source,
    body_hash,
    check_type,
    message_key,
)
from ..domain.lifecycle import Action
from ..domain.status import Status
from ..observability import logger
from . import actions, intake, online_files, ratings
from .deps import Deps
from .forms import MAX_JSON_DEPTH, check_json, schema_problems
from .ports import MessageRecord, MessageSeen
from .views import local

MAX_KEPT_BODY_BYTES = 4096  # of a rejected body, for the admin to see what came; the rest is only counted
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
ANSWERED = 200
# Refusals that no resend can cure, with the status the API answers them with (api/routing.py STATUS_BY_CODE;
# a test holds the two together). Their outcome is recorded: a resent message gets the same answer.
FINAL_REFUSALS = {"invalid_input": 400, "forbidden": 403, "not_found": 404, "payload_too_large": 413,
                  "unsupported_media_type": 415, "action_not_allowed": 422, "idempotency_key_reused": 422,
                  "already_rated": 409}
# The kind of actor a source acts as: the one-stop desk's role (accepting an online submission into the queue,
# confirming a payment are the desk's acts in lifecycle.TRANSITIONS); the history names the source itself.
SYSTEM_ROLES = frozenset({"desk"})
# What a submission hands to intake as it is (the rest: the channel, online, and a note naming the source).
INTAKE_FIELDS = ("procedure_code", "competent_unit", "applicant", "form", "documents", "authorised_person",
                 "result_delivery")


class Refusal(DomainError):
    """A recorded refusal answered again: the same code, message and details (and allowed actions, if any)."""

    def __init__(self, error: Mapping[str, Any]) -> None:
        details = [FieldProblem(str(d.get("field", "")), str(d.get("reason", ""))) for d in error.get("details", [])]
        super().__init__(str(error.get("message", "")), details, str(error.get("code", "invalid_input")))
        self.allowed: list[str] | None = error.get("allowed_actions")


def receive_message(deps: Deps, source_id: str, raw: bytes, headers: Mapping[str, str | None],
                    max_body_bytes: int) -> tuple[int, dict[str, Any]]:
    """Verify and apply one message from `source_id`; the HTTP status and answer (DomainError for a 4xx)."""
    source = deps.inbound_sources().get(source_id)
    if source is None:
        raise NotFound(f"no inbound source {source_id}")
    message_id = (headers.get("webhook-id") or "")[:128]  # checked in full below; bounded for the rejected list
    try:
        _check_envelope(raw, headers, max_body_bytes)
        _verify(source, raw, headers)
    except DomainError as exc:
        _keep(deps, source, message_id, None, raw, exc, signed=False)
        raise
    key, digest = message_key(source.id, message_id), body_hash(raw)
    earlier = deps.inbound.outcome(key)
    if earlier is not None:
        try:
            return _again(earlier, digest, source, message_id)
        except DomainError as exc:
            if exc.code == "idempotency_key_reused":  # a new refusal (a resent one was kept the first time)
                _keep(deps, source, message_id, None, raw, exc, signed=True)
            raise
    message_type: str | None = None
    try:
        message = _parse(raw, headers.get("content-type"))
        message_type = str(message["type"])
        check_type(source, message_type)
        data = _validated(message_type, message["data"])
        apply = APPLY[message_type]
        answer = apply(deps, source, data, lambda a: MessageRecord(key, digest, ANSWERED, a),
                       {"source": source.id, "message_id": message_id, "type": message_type})
    except MessageSeen:  # a concurrent delivery of the same message recorded its outcome first
        return _again(_recorded(deps, key), digest, source, message_id)
    except DomainError as exc:
        if exc.code not in FINAL_REFUSALS:
            raise  # a retry may succeed (conflict, unavailable): nothing recorded, the sender resends
        try:
            deps.inbound.record(MessageRecord(key, digest, FINAL_REFUSALS[exc.code], {"error": _error(exc)}))
        except MessageSeen:
            return _again(_recorded(deps, key), digest, source, message_id)
        _keep(deps, source, message_id, message_type, raw, exc, signed=True)
        raise
    logger().info("inbound message applied", extra={"source": source.id, "message_id": message_id,
                                                    "type": message_type, "code": answer.get("dossier_code")})
    return ANSWERED, answer


def list_rejected(deps: Deps, actor: Actor, source_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    if "admin" not in actor.roles:
        raise Forbidden("the rejected inbound messages are listed for the admin role")
    if source_id not in deps.inbound_sources():
        raise NotFound(f"no inbound source {source_id}")
    items, next_cursor = deps.inbound.rejected(source_id, limit, cursor)
    return {"source": source_id, "items": items, "next_cursor": next_cursor}


# --- checks before anything is read -------------------------------------------------------------------------
def _check_envelope(raw: bytes, headers: Mapping[str, str | None], max_body_bytes: int) -> None:
    if len(raw) > max_body_bytes:
        raise DomainError(f"the body is larger than {max_body_bytes} bytes", [FieldProblem("body", "too large")],
                          "payload_too_large")
    missing = [name for name in SIGNATURE_HEADERS if not headers.get(name)]
    if missing:
        raise DomainError("the message is not signed", [FieldProblem(name, "missing header") for name in missing],
                          "unauthorized")
    if not MESSAGE_ID.fullmatch(headers.get("webhook-id") or ""):
        raise InvalidInput("invalid webhook-id", [FieldProblem(
            "webhook-id", "1 to 128 letters, digits and . _ : - (the sender's unique message id)")])


def _verify(source: Source, raw: bytes, headers: Mapping[str, str | None]) -> None:
    """Standard Webhooks: `v1,<base64 HMAC-SHA256 of id.timestamp.body>` under any of the source's secrets (two
    while it rotates), with the timestamp within 5 minutes of now, either way."""
    from standardwebhooks.webhooks import WebhookVerificationError

    signed = {name: headers.get(name) or "" for name in SIGNATURE_HEADERS}
    reason = "no signature matches a secret of this source"
    # The body's exact bytes, even when they are not UTF-8: a signed body that is not text is a 400 (_parse), and
    # only a signature that does not match them is a 401.
    payload = raw.decode("utf-8", "surrogateescape")
    for secret in source.secrets:
        try:
            _bytes_webhook(secret).verify(payload, signed, json_parse=False)
            return
        except WebhookVerificationError as exc:
            text = str(exc).lower()
            if "too old" in text or "too new" in text or "invalid signature headers" in text:
                field, reason = "webhook-timestamp", _timestamp_reason(text)
                break  # the same for every secret
        except (ValueError, TypeError):  # a signature list that is not `v1,<base64>`
            reason = "expected space-separated v1,<base64 signature>"
    else:
        field = "webhook-signature"
    raise DomainError("the signature is not valid", [FieldProblem(field, reason)], "unauthorized")


def _bytes_webhook(secret: str) -> Any:
    """standardwebhooks' verifier, signing the body's bytes as they came (the library encodes its text as strict
    UTF-8, which would refuse a body that is not UTF-8 before its signature could be told right or wrong)."""
    from datetime import UTC
    from math import floor

    from standardwebhooks.webhooks import Webhook, hmac_data

    class BytesWebhook(Webhook):
        def sign(self, msg_id: str, timestamp: datetime, data: str) -> str:
            seconds = str(floor(timestamp.replace(tzinfo=UTC).timestamp()))
            to_sign = f"{msg_id}.{seconds}.".encode() + data.encode("utf-8", "surrogateescape")
            return f"v1,{base64.b64encode(hmac_data(self._whsecret, to_sign)).decode('ascii')}"

    return BytesWebhook(secret)


def _timestamp_reason(text: str) -> str:
    if "too old" in text:
        return "more than 5 minutes in the past: sign again with the current time"
    if "too new" in text:
        return "more than 5 minutes in the future: check the sender's clock"
    return "expected seconds since the epoch"


# --- the message ----------------------------------------------------------------------------------------------
def _parse(raw: bytes, content_type: str | None) -> dict[str, Any]:
    media_type = (content_type or "application/json").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise DomainError("send the body as application/json",
                          [FieldProblem("content-type", f"{media_type} is not application/json")],
                          "unsupported_media_type")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("the body is not UTF-8 text", [FieldProblem(
            "body", f"byte {exc.start} is not UTF-8: send JSON encoded as UTF-8")]) from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        reason = str(exc) if isinstance(exc, json.JSONDecodeError) else "not a JSON document this API accepts"
        raise InvalidInput("the body is not valid JSON", [FieldProblem("body", reason)]) from exc
    except RecursionError as exc:
        raise InvalidInput("the JSON is nested too deeply",
                           [FieldProblem("body", f"nested deeper than {MAX_JSON_DEPTH} levels")]) from exc
    check_json(data)
    problems = schema_problems(_schema("api", "inbound-message"), data)
    if problems:
        raise InvalidInput("the message does not match the schema", problems)
    assert isinstance(data, dict)  # the schema says an object
    return data


def _validated(message_type: str, data: dict[str, Any]) -> dict[str, Any]:
    problems = schema_problems(_schema("inbound", message_type), data, prefix="data")
    if problems:
        raise InvalidInput(f"the {message_type} data does not match its schema", problems)
    return data


@lru_cache(maxsize=8)
def _schema(folder: str, name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((schemas_dir() / folder / f"{name}.json").read_text(encoding="utf-8"))
    return result


# --- what each type does ----------------------------------------------------------------------------------------
Outcome = Callable[[dict[str, Any]], MessageRecord]


def _submitted(deps: Deps, source: Source, data: dict[str, Any], outcome: Outcome,
               base: dict[str, Any]) -> dict[str, Any]:
    """An online submission: a dossier at status 1 in the receiving unit's queue, through intake."""
    unit, procedure = data["receiving_unit"], data["procedure_code"]
    if not source.covers(unit, deps.catalogue.tree()):
        raise Forbidden(f"source {source.id} may not submit dossiers to unit {unit}")
    if source.procedures and procedure not in source.procedures:
        raise Forbidden(f"source {source.id} may not submit procedure {procedure}")
    note = f"{source.name or source.id}: {data['reference']}" + (f". {data['note']}" if data.get("note") else "")
    request: dict[str, Any] = {name: data[name] for name in INTAKE_FIELDS if name in data}
    answer: dict[str, Any] = {}
    # Its files are fetched and verified first: one that fails rejects the message before any dossier exists.
    references = data.get("files") or []
    listed = list(deps.catalogue.procedure(procedure).document_names) if references else []
    fetched = online_files.fetch_all(deps, references, listed, [])
    created: list[Dossier] = []

    def record(dossier: Dossier) -> MessageRecord:
        created.append(dossier)
        answer.update(_answer(base, dossier, data["reference"]))
        if fetched:
            answer["files"] = [f.id for f in fetched]
        return outcome(answer)

    intake.receive_dossier(deps, _system_actor(source, unit), {**request, "channel": "online", "note": note},
                           message=record)
    online_files.keep(deps, created[-1], fetched, f"inbound:{source.id}", unit)
    return answer


def _payment(deps: Deps, source: Source, data: dict[str, Any], outcome: Outcome,
             base: dict[str, Any]) -> dict[str, Any]:
    """A payment notice: confirms the payment the dossier waits for, through the action use case."""
    code = data["dossier_code"]
    dossier = deps.dossiers.get(code, consistent=True)
    tree = deps.catalogue.tree()
    if dossier is None or not any(source.covers(u, tree) for u in (dossier.receiving_unit, dossier.competent_unit)):
        # Out of scope reads as unknown: a gateway learns nothing about other provinces' dossiers.
        raise DomainError(f"no dossier {code} for this source", [FieldProblem("data.dossier_code", "unknown")],
                          "not_found")
    if dossier.status is not Status.PAYMENT_REQUESTED:
        raise DomainError(f"dossier {code} is not waiting for a payment (status {dossier.status.value})",
                          [FieldProblem("data.dossier_code", f"status {dossier.status.value}, national code "
                                                             f"{dossier.status.national_code}")],
                          "action_not_allowed")
    expected = _requested_amount(deps, dossier)
    if expected is not None and data["amount"] != expected:
        raise DomainError(f"the amount paid differs from the amount requested for dossier {code}",
                          [FieldProblem("data.amount", f"{data['amount']} VND paid, {expected} VND requested")],
                          "action_not_allowed")
    answer: dict[str, Any] = {}

    def record(changed: Dossier) -> MessageRecord:
        answer.update(_answer(base, changed, data["transaction_reference"]))
        return outcome(answer)

    note = f"{source.name or source.id}: {data['amount']} VND, {data['transaction_reference']}, {data['paid_at']}"
    actions.perform_action(deps, _system_actor(source, dossier.receiving_unit), code, {
        "action": Action.CONFIRM_PAYMENT.value, "version": dossier.version,
        "receipt_number": data["transaction_reference"], "note": note, **_paid(source, data)}, message=record)
    return answer


def _paid(source: Source, data: dict[str, Any]) -> dict[str, Any]:
    """How it was paid, for confirm_payment: online, on the national payment platform when the DVCQG (or a gateway
    saying so) sends it, otherwise through the gateway that sends it; the amount, its split and when."""
    channel = data.get("channel") or (payments.DVCQG if source.kind == "national_portal" else payments.GATEWAY)
    split: dict[str, Any] = {name: data[name] for name in ("fees", "charges") if name in data}
    return {"payment_channel": channel, "amount": data["amount"], "paid_at": data["paid_at"], **split}


def _rating(deps: Deps, source: Source, data: dict[str, Any], outcome: Outcome,
            base: dict[str, Any]) -> dict[str, Any]:
    """The applicant's rating given on the portal: once, after the result is returned (domain/rating.py)."""
    dossier = _in_scope(deps, source, data["dossier_code"])
    answer: dict[str, Any] = {}

    def record(changed: Dossier) -> MessageRecord:
        answer.update(_answer(base, changed, data["dossier_code"]))
        return outcome(answer)

    ratings.rate(deps, dossier, data, "portal", f"inbound:{source.id}", message=record)
    return answer


def _withdrawal(deps: Deps, source: Source, data: dict[str, Any], outcome: Outcome,
                base: dict[str, Any]) -> dict[str, Any]:
    """The applicant asks on the portal to withdraw: recorded on the dossier for the desk to confirm (withdraw)."""
    dossier = _in_scope(deps, source, data["dossier_code"])
    answer: dict[str, Any] = {}

    def record(changed: Dossier) -> MessageRecord:
        answer.update(_answer(base, changed, data["reference"]))
        return outcome(answer)

    ratings.request_withdrawal(deps, dossier, data["reason"].strip(), data["reference"], f"inbound:{source.id}",
                               message=record)
    return answer


def _supplemented(deps: Deps, source: Source, data: dict[str, Any], outcome: Outcome,
                  base: dict[str, Any]) -> dict[str, Any]:
    """The applicant's supplement to an online dossier waiting for one: its files fetched and verified first (one
    that fails rejects the message, nothing changes), then the desk's receive_supplement, so the clock resumes (or
    restarts, after a lawful request), and the files kept as the dossier's components."""
    code = data["dossier_code"]
    dossier = _in_scope(deps, source, code)
    if dossier.channel != "online":
        raise DomainError(f"dossier {code} was not submitted online: its supplement is handed in at the desk",
                          [FieldProblem("data.dossier_code", f"channel {dossier.channel}")], "action_not_allowed")
    if dossier.status is not Status.SUPPLEMENT_REQUESTED:
        raise DomainError(f"dossier {code} is not waiting for a supplement (status {dossier.status.value})",
                          [FieldProblem("data.dossier_code", f"status {dossier.status.value}, national code "
                                                             f"{dossier.status.national_code}")],
                          "action_not_allowed")
    references = data.get("files") or []
    held = deps.file_records.of_dossier(code) if references and deps.file_records is not None else []
    listed = dossier.document_list or [str(d.get("name")) for d in dossier.documents]
    fetched = online_files.fetch_all(deps, references, listed, held)
    answer: dict[str, Any] = {}
    changed: list[Dossier] = []

    def record(after: Dossier) -> MessageRecord:
        changed.append(after)
        answer.update(_answer(base, after, data["reference"]))
        if fetched:
            answer["files"] = [f.id for f in fetched]
        return outcome(answer)

    note = f"{source.name or source.id}: {data['reference']}" + (f". {data['note']}" if data.get("note") else "")
    actions.perform_action(deps, _system_actor(source, dossier.receiving_unit), code, {
        "action": Action.RECEIVE_SUPPLEMENT.value, "version": dossier.version, "note": note}, message=record)
    online_files.keep(deps, changed[-1], fetched, f"inbound:{source.id}", dossier.receiving_unit)
    return answer


def _in_scope(deps: Deps, source: Source, code: str) -> Dossier:
    """The dossier, read consistently, if the source covers its receiving or competent unit; unknown otherwise."""
    dossier = deps.dossiers.get(code, consistent=True)
    tree = deps.catalogue.tree()
    if dossier is None or not any(source.covers(u, tree) for u in (dossier.receiving_unit, dossier.competent_unit)):
        raise DomainError(f"no dossier {code} for this source", [FieldProblem("data.dossier_code", "unknown")],
                          "not_found")
    return dossier


APPLY = {DOSSIER_SUBMITTED: _submitted, PAYMENT_CONFIRMED: _payment, RATING_SUBMITTED: _rating,
         WITHDRAWAL_REQUESTED: _withdrawal, SUPPLEMENTED: _supplemented}


def _requested_amount(deps: Deps, dossier: Dossier) -> int | None:
    """The amount of the latest payment request (the officer's, or the procedure's fee when it named none)."""
    for entry in reversed(deps.dossiers.history(dossier.code)):
        if entry.action == Action.REQUEST_PAYMENT.value:
            amount = entry.details.get("amount")
            return int(amount) if isinstance(amount, (int, float)) else None
    return None


def _system_actor(source: Source, unit: str) -> Actor:
    return Actor(subject=f"inbound:{source.id}", unit=unit, roles=SYSTEM_ROLES, name=source.name or source.id)


def _answer(base: dict[str, Any], dossier: Dossier, reference: str) -> dict[str, Any]:
    return {**base, "reference": reference, "dossier_code": dossier.code, "status": dossier.status.value,
            "national_status": dossier.status.national_code, "due_at": local(dossier.due_at)}


# --- outcomes and rejections -------------------------------------------------------------------------------------
def _again(earlier: MessageRecord, digest: str, source: Source, message_id: str) -> tuple[int, dict[str, Any]]:
    """A message whose outcome is recorded: the same body gets the same answer; another body is refused."""
    if earlier.body_hash != digest:
        raise DomainError(f"message {message_id} was already received with a different body",
                          [FieldProblem("webhook-id", "reused with a different body: a new message needs a new id")],
                          "idempotency_key_reused")
    logger().info("inbound message resent", extra={"source": source.id, "message_id": message_id})
    if "error" in earlier.answer:
        raise Refusal(earlier.answer["error"])
    return earlier.status, earlier.answer


def _recorded(deps: Deps, key: str) -> MessageRecord:
    earlier = deps.inbound.outcome(key)
    if earlier is None:  # recorded a moment ago, by a consistent write: cannot be missing
        raise DomainError("the message is being processed; retry shortly", [], "in_progress")
    return earlier


def _error(exc: DomainError) -> dict[str, Any]:
    error: dict[str, Any] = {"code": exc.code, "message": exc.message, "details": [d.as_dict() for d in exc.details]}
    allowed = getattr(exc, "allowed", None)
    if allowed is not None:
        error["allowed_actions"] = allowed
    return error


def _keep(deps: Deps, source: Source, message_id: str, message_type: str | None, raw: bytes, exc: DomainError,
          signed: bool) -> None:
    """Keep a rejected message for the admin: why, and the start of its body. Signature headers and secrets are
    never kept. A failure to keep it never changes the answer the sender gets."""
    kept = raw[:MAX_KEPT_BODY_BYTES].decode("utf-8", errors="replace")
    rejected = {"id": uuid.uuid4().hex, "at": local(deps.now()), "source": source.id, "message_id": message_id or None,
                "type": message_type, "signed": signed, "error": _error(exc), "body": kept,
                "body_bytes": len(raw), "body_truncated": len(raw) > MAX_KEPT_BODY_BYTES}
    try:
        deps.inbound.keep_rejected(source.id, rejected)
    except Exception:
        logger().exception("inbound rejection not kept", extra={"source": source.id, "message_id": message_id})
    logger().warning("inbound message rejected", extra={"source": source.id, "message_id": message_id,
                                                        "type": message_type, "code": exc.code, "signed": signed})
