"""The OpenAPI document as a contract: every answer of a dossier's whole life matches its documented schema with
no undocumented field, and a typed client generated from the document has a return type for every operation."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client
from jsonschema import Draft202012Validator, FormatChecker

from app import app
from chalicelib.api import schemas
from chalicelib.api.files import XLSX
from chalicelib.api.openapi import QUERY_TYPES, document
from chalicelib.bootstrap import override
from chalicelib.services.forms import schema_problems
from scripts import local_keys
from tests.units import CENTRE, JUSTICE, LAND, PROVINCE

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.e2e

CRIMINAL_RECORD = {
    "procedure_code": "2.001417", "channel": "direct",
    "applicant": {"name": "Nguyễn Văn An", "id_number": "038090001234", "phone": "0912345678",
                  "email": "an.nguyen@example.vn", "address": "12 Lê Lợi, Hạc Thành"},
    "form": {"full_name": "Nguyễn Văn An", "date_of_birth": "1990-05-02", "form_number": 1, "purpose": "Xin việc"},
    "documents": [{"name": "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "copies": 1, "kind": "original"}],
}


def strict(schema: Any) -> Any:
    """The same schema, refusing any field it does not list: a field the views return must be documented."""
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


@dataclass(frozen=True)
class FileAnswer:
    media_type: str


class Recorder:
    """Calls the app in-process and keeps (operation, status, body) of every answer."""

    def __init__(self, client: Client, auth: Any):
        self.client, self.auth = client, auth
        self.seen: list[tuple[str, int, Any]] = []

    def call(self, operation: str, method: str, path: str, headers: dict[str, str] | None = None,
             body: Any = None) -> tuple[int, Any]:
        raw = json.dumps(body) if body is not None else b""
        response = self.client.http.request(method, path, headers=headers or {}, body=raw)
        media_type = response.headers.get("Content-Type", "application/json").split(";", 1)[0]
        if media_type != "application/json":  # a file (report 06, the tracking book): its media type is checked
            self.seen.append((operation, response.status_code, FileAnswer(media_type)))
            return response.status_code, None
        data = json.loads(response.body) if response.body else None
        self.seen.append((operation, response.status_code, data))
        return response.status_code, data

    def act(self, code: str, unit: str, role: str, body: dict[str, Any], sub: str = "officer") -> dict[str, Any]:
        current = self.call("get_dossier", "GET", f"/v1/dossiers/{code}", self.auth(unit, role, "leader", sub=sub))[1]
        status, data = self.call("act", "POST", f"/v1/dossiers/{code}/actions", self.auth(unit, role, sub=sub),
                                 {**body, "version": current["version"]})
        assert status == 200, data
        return data

    def receive(self, body: dict[str, Any]) -> dict[str, Any]:
        status, data = self.call("receive", "POST", "/v1/dossiers", self.auth(CENTRE, "desk", sub="tn.lan"), body)
        assert status == 201, data
        return data


@pytest.fixture(scope="module")
def answers() -> Iterator[list[tuple[str, int, Any]]]:
    key_dir = Path(os.environ["MOTCUA_LOCAL_JWKS"]).parent  # the suite's signing key (tests/conftest.py)

    def headers(unit: str, *roles: str, sub: str | None = None) -> dict[str, str]:
        token = local_keys.make_token(unit, list(roles or ("desk",)), sub, key_dir=key_dir)
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    # A clock that moves 20 minutes at each reading, from a Monday morning: pauses last working time, so a
    # confirmed payment moves the due time and the applicant is given a new appointment, whatever the hour.
    ticks = count()
    override(now=lambda: datetime(2026, 3, 16, 2, 0, tzinfo=UTC) + timedelta(minutes=20 * next(ticks)))
    try:
        with Client(app, stage_name="local") as client:
            recorder = Recorder(client, headers)
            life(recorder)
            yield recorder.seen
    finally:
        override()


def life(r: Recorder) -> None:
    """A tour of every route and every kind of answer: each form handed over, each closing outcome, the errors."""
    desk = r.auth(CENTRE, "desk", sub="tn.lan")
    r.call("health", "GET", "/v1/health")
    r.call("openapi", "GET", "/v1/openapi.json")
    r.call("list_units", "GET", "/v1/units")
    _, procedures = r.call("list_procedures", "GET", "/v1/procedures")
    for p in procedures["items"]:
        r.call("get_procedure", "GET", f"/v1/procedures/{p['code']}")
    r.call("get_procedure", "GET", "/v1/procedures/9.999999")  # 404
    r.call("due_preview", "GET", "/v1/calendar/due?start=2026-08-28T10:00:00%2B07:00&days=10")
    r.call("due_preview", "GET",
           f"/v1/calendar/due?start=2027-01-04T16:00:00%2B07:00&hours=4.5&channel=postal&unit={CENTRE}")
    r.call("due_preview", "GET", "/v1/calendar/due?start=2026-08-28T10:00:00%2B07:00&procedure=2.000815&channel=online")
    r.call("due_preview", "GET", "/v1/calendar/due?start=yesterday&days=1")  # 400
    for year in ("2026", "2027"):
        r.call("calendar_year", "GET", f"/v1/calendar/{year}?unit={CENTRE}")

    # A paper dossier filed by an authorised person, result by post: receipt (form 01), then its whole life.
    d = r.receive({**CRIMINAL_RECORD,
                   "authorised_person": {"name": "Trần Thị Bình", "id_number": "038090004321",
                                         "authorisation": "Giấy ủy quyền số 12/2026"},
                   "result_delivery": {"method": "postal", "address": "12 Lê Lợi, Hạc Thành"}})
    code = d["code"]
    r.call("get_dossier", "GET", f"/v1/dossiers/{code}", desk)
    r.call("lookup", "GET", f"/v1/public/dossiers/{code}")
    r.act(code, JUSTICE, "processor", {"action": "request_supplement", "missing_items": ["Bản chụp căn cước công dân"]})
    r.act(code, CENTRE, "desk", {"action": "receive_supplement"})  # the limit restarts: a new receipt
    r.act(code, JUSTICE, "processor", {"action": "assign"})
    r.act(code, JUSTICE, "processor", {"action": "request_payment", "amount": 200000})
    r.act(code, CENTRE, "desk", {"action": "confirm_payment", "receipt_number": "BL-0001"})
    r.act(code, JUSTICE, "leader", {"action": "apologize", "reason": "Cần xác minh thêm tại địa phương",
                                    "new_appointment_at": "2026-04-15T09:00:00+07:00"})  # form 04
    r.call("get_apology", "GET", f"/v1/dossiers/{code}/apology", desk)
    pdf = {**desk, "Accept": "application/pdf"}  # the printed forms (api/print_routes.py)
    r.call("get_form", "GET", f"/v1/dossiers/{code}/forms/04.pdf", pdf)
    r.call("get_form", "GET", f"/v1/dossiers/{code}/forms/04.pdf", desk)  # not asked as a PDF: 406
    r.call("get_form", "GET", f"/v1/dossiers/{code}/forms/09.pdf", pdf)  # 400
    r.call("get_form", "GET", f"/v1/dossiers/{code}/forms/stop-notice.pdf", pdf)  # not stopped: 404
    r.call("list_notifications", "GET", f"/v1/dossiers/{code}/notifications", desk)
    r.act(code, JUSTICE, "processor", {"action": "complete_step", "note": "Đã tra cứu"})
    r.act(code, JUSTICE, "leader", {"action": "resolve", "result": {"summary": "Phiếu LLTP số 1234/STP",
                                                                    "document_number": "1234/STP"}})
    r.act(code, CENTRE, "desk", {"action": "return_result"})
    # The applicant's rating needs the receipt secret: a wrong one (none is issued here) and a level off the scale.
    r.call("rate", "POST", f"/v1/public/dossiers/{code}/rating", {}, {"secret": "not-the-secret", "level": "satisfied"})
    r.call("rate", "POST", f"/v1/public/dossiers/{code}/rating", {}, {"secret": "not-the-secret", "level": 5})
    r.call("list_low_ratings", "GET", f"/v1/units/{JUSTICE}/low-ratings", r.auth(JUSTICE, "leader"))
    r.call("list_low_ratings", "GET", f"/v1/units/{JUSTICE}/low-ratings", r.auth(JUSTICE, "desk"))  # 403
    r.call("get_history", "GET", f"/v1/dossiers/{code}/history", desk)
    r.call("lookup", "GET", f"/v1/public/dossiers/{code}")
    # Errors: stale version, action not allowed now, another unit, no token, unknown dossier, bad body.
    r.call("act", "POST", f"/v1/dossiers/{code}/actions", desk, {"action": "withdraw", "reason": "x", "version": 1})
    r.call("act", "POST", f"/v1/dossiers/{code}/actions", desk,
           {"action": "accept", "version": d["version"] + 100})
    _, now = r.call("get_dossier", "GET", f"/v1/dossiers/{code}", desk)
    r.call("act", "POST", f"/v1/dossiers/{code}/actions", desk, {"action": "accept", "version": now["version"]})
    r.call("get_dossier", "GET", f"/v1/dossiers/{code}", r.auth(LAND, "desk"))
    r.call("get_dossier", "GET", f"/v1/dossiers/{code}")
    r.call("get_dossier", "GET", f"/v1/dossiers/{CENTRE}-260101-9999", desk)
    r.call("receive", "POST", "/v1/dossiers", desk, {"procedure_code": "2.001417"})

    # Refused and guided at the desk (forms 03 and 02); online: accepted (receipt) or refused by action.
    r.receive({**CRIMINAL_RECORD, "intake": {"decision": "refuse", "reasons": ["Không thuộc thẩm quyền"]}})
    r.receive({**CRIMINAL_RECORD, "intake": {"decision": "guide", "missing_items": ["Bản chụp căn cước công dân"]}})
    online = r.receive({**CRIMINAL_RECORD, "channel": "online"})
    r.act(online["code"], CENTRE, "desk", {"action": "accept"})
    online = r.receive({**CRIMINAL_RECORD, "channel": "online"})
    r.act(online["code"], CENTRE, "desk", {"action": "refuse_intake", "reasons": ["Hồ sơ giả mạo"]})
    # The other closings: withdrawn, stopped, refused after appraisal.
    r.act(r.receive(CRIMINAL_RECORD)["code"], CENTRE, "desk", {"action": "withdraw", "reason": "Công dân rút"})
    r.act(r.receive(CRIMINAL_RECORD)["code"], CENTRE, "desk", {"action": "stop", "reason": "Cơ quan dừng"})
    r.call("get_apology", "GET", f"/v1/dossiers/{online['code']}/apology", desk)  # none issued: 404
    refused = r.receive(CRIMINAL_RECORD)["code"]
    r.act(refused, JUSTICE, "processor", {"action": "assign"})
    r.act(refused, JUSTICE, "processor", {"action": "refuse", "reasons": ["Không đủ điều kiện"]})
    r.call("lookup", "GET", f"/v1/public/dossiers/{refused}")

    # Lists: both views, filters, a second page through the cursor, a bad filter.
    _, page = r.call("list_dossiers", "GET", f"/v1/dossiers?view=received&unit={CENTRE}&limit=2", desk)
    r.call("list_dossiers", "GET", f"/v1/dossiers?view=received&unit={CENTRE}&limit=2&cursor={page['next_cursor']}",
           desk)
    r.call("list_dossiers", "GET", "/v1/dossiers?status=returned", r.auth(JUSTICE, "processor"))
    r.call("list_dossiers", "GET", "/v1/dossiers?overdue=false&procedure=2.001417", r.auth(JUSTICE, "leader"))
    r.call("list_dossiers", "GET", "/v1/dossiers?limit=0", desk)
    _, told = r.call("list_unit_notifications", "GET", f"/v1/units/{JUSTICE}/notifications?limit=2",
                     r.auth(JUSTICE, "leader"))
    if told.get("next_cursor"):
        r.call("list_unit_notifications", "GET",
               f"/v1/units/{JUSTICE}/notifications?limit=2&cursor={told['next_cursor']}", r.auth(JUSTICE, "leader"))
    r.call("list_unit_notifications", "GET", f"/v1/units/{JUSTICE}/notifications", r.auth(LAND, "desk"))

    # Report 06 over the tour's dossiers, counted by the statistics consumer (its guard makes a later relay of
    # the same events add nothing); per procedure and per unit; a reversed period; another unit's desk.
    count_tour_events(r)
    report = "/v1/stats/report06?from=2026-03-01&to=2026-03-31"
    r.call("report06", "GET", f"{report}&unit={JUSTICE}&group_by=procedure", r.auth(JUSTICE, "leader"))
    r.call("report06", "GET", report, desk)
    r.call("report06", "GET", "/v1/stats/report06?from=2026-03-31&to=2026-03-01", desk)
    r.call("report06", "GET", f"{report}&unit={JUSTICE}", r.auth(LAND, "desk"))
    exports_tour(r, report, desk)
    quality_tour(r)
    inbound_tour(r)
    webhooks_tour(r, refused)
    files_tour(r)

    # The national portal sync: the tour's events recorded as the consumer does (nothing pushed: pending).
    record_tour_sync(r)
    r.call("sync_status", "GET", f"/v1/sync/status?unit={JUSTICE}", r.auth(JUSTICE, "leader"))
    r.call("sync_status", "GET", "/v1/sync/status", desk)
    r.call("sync_status", "GET", "/v1/sync/status?unit=x", desk)
    r.call("sync_status", "GET", f"/v1/sync/status?unit={JUSTICE}", r.auth(LAND, "desk"))
    r.call("dossier_sync", "GET", f"/v1/dossiers/{refused}/sync", desk)
    r.call("dossier_sync", "GET", f"/v1/dossiers/{refused}/sync", r.auth(LAND, "desk"))
    r.call("dossier_sync", "GET", f"/v1/dossiers/{CENTRE}-260101-9999/sync", desk)
    import_tour(r)


def files_tour(r: Recorder) -> None:
    """A dossier's files (docs/documents.md): a scan declared, uploaded to the local S3 server and verified, one
    refused, a reused copy, the list, downloads by an officer and by the applicant with the receipt secret."""
    import hashlib

    import requests

    desk = desk_of(r)
    scan = b"\xff\xd8\xff\xe0" + b"ID card" * 40

    def upload(code: str, body: bytes, sent: bytes) -> str:
        declared = {"kind": "component", "component": "Bản chụp căn cước công dân", "filename": "cccd.jpg",
                    "media_type": "image/jpeg", "size": len(body), "sha256": hashlib.sha256(body).hexdigest(),
                    "pages": 1}
        _, started = r.call("start_upload", "POST", f"/v1/dossiers/{code}/files", desk, declared)
        up = started["upload"]
        put = requests.put(up["url"], data=sent, headers={**up["headers"], "Content-Length": str(len(sent))},
                           timeout=10)
        assert put.status_code == 200, put.text
        r.call("finalise_upload", "POST", f"/v1/dossiers/{code}/files/{started['file']['id']}/finalise", desk)
        return str(started["file"]["id"])

    first = r.receive(CRIMINAL_RECORD)["code"]
    upload(first, scan, scan)
    upload(first, scan, scan[:-1] + b"x")  # other bytes than declared: 400, nothing kept
    r.call("start_upload", "POST", f"/v1/dossiers/{first}/files", desk, {"kind": "component"})  # 400
    second = r.receive(CRIMINAL_RECORD)["code"]
    _, reused = r.call("reuse_file", "POST", f"/v1/dossiers/{second}/files/reuse", desk,
                       {"component": "Bản chụp căn cước công dân"})
    r.call("reuse_file", "POST", f"/v1/dossiers/{second}/files/reuse", desk,
           {"component": "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp"})  # 400: not reusable
    r.call("list_files", "GET", f"/v1/dossiers/{second}/files", desk)
    r.call("list_files", "GET", f"/v1/dossiers/{second}/files", r.auth(LAND, "desk"))  # 403
    r.call("download_file", "GET", f"/v1/dossiers/{second}/files/{reused['id']}/download", desk)
    r.call("download_file", "GET", f"/v1/dossiers/{second}/files/{'0' * 32}/download", desk)  # 404
    _, issued = r.call("issue_secret", "POST", f"/v1/dossiers/{second}/receipt-secret", desk)
    secret = {"secret": issued["secret"]}
    r.call("public_files", "POST", f"/v1/public/dossiers/{second}/files", {}, secret)
    r.call("public_files", "POST", f"/v1/public/dossiers/{second}/files", {}, {"secret": "wrong-secret"})  # 403
    r.call("public_download", "POST", f"/v1/public/dossiers/{second}/files/{reused['id']}/download", {}, secret)
    r.call("public_download", "POST", f"/v1/public/dossiers/{second}/files/{'0' * 32}/download", {}, secret)  # 404
    r.call("list_files", "GET", f"/v1/dossiers/{second}/files", desk)  # with the downloads audited


def import_tour(r: Recorder) -> None:
    """An old system's dossier imported (with a rejected row and a malformed batch), then read like any other."""
    import random

    code = f"000.20.30.H56-250610-{random.randrange(10**6, 10**7)}"  # the abolished district's: mapped
    history = [{"status": "received", "at": "2025-06-10 09:00"}, {"status": "in_progress", "at": "2025-06-10 10:00"},
               {"status": "resolved", "at": "2025-06-11 10:00"}, {"status": "returned", "at": "2025-06-12 09:00"}]
    row = {"code": code, "procedure_code": "1.004873", "unit_code": "000.20.30.H56", "channel": "direct",
           "applicant": {"name": "Lê Văn Hải"}, "received_at": "2025-06-10 09:00", "due_at": "2025-06-13 09:00",
           "finished_at": "2025-06-11 10:00", "history": history}
    admin = r.auth("000.00.00.H56", "admin")
    status, _ = r.call("import_batch", "POST", "/v1/imports", admin,
                       {"source": "MotCua-2019", "rows": [row, {**row, "procedure_code": "9.999999"}]})
    assert status == 200
    count_events({code})
    r.call("import_batch", "POST", "/v1/imports", admin, {"source": "MotCua-2019", "rows": [{**row, "channel": 1}]})
    r.call("import_batch", "POST", "/v1/imports", r.auth(CENTRE, "desk"), {"source": "x", "rows": [row]})
    r.call("lookup", "GET", f"/v1/public/dossiers/{code}")
    r.call("get_dossier", "GET", f"/v1/dossiers/{code}", admin)
    r.call("get_history", "GET", f"/v1/dossiers/{code}/history", admin)


def exports_tour(r: Recorder, report: str, desk: dict[str, str]) -> None:
    # The same report as files; an XLSX asked for without its Accept (406); the desk's tracking book likewise.
    r.call("report06", "GET", f"{report}&unit={JUSTICE}&format=csv", r.auth(JUSTICE, "leader"))
    r.call("report06", "GET", f"{report}&unit={JUSTICE}", {**r.auth(JUSTICE, "leader"), "Accept": XLSX})
    r.call("report06", "GET", f"{report}&format=xlsx", desk)
    book = f"/v1/units/{CENTRE}/tracking-book?from=2026-03-01&to=2026-03-31"
    r.call("get_tracking_book", "GET", book, desk)
    r.call("get_tracking_book", "GET", f"{book}&format=csv", desk)
    r.call("get_tracking_book", "GET", book, {**desk, "Accept": XLSX})
    r.call("get_tracking_book", "GET", f"{book}&format=pdf", {**desk, "Accept": "application/pdf"})
    r.call("get_tracking_book", "GET", f"/v1/units/{CENTRE}/tracking-book?from=2026-03-01", desk)
    r.call("get_tracking_book", "GET", book, r.auth(LAND, "desk"))
    r.call("get_tracking_book", "GET", "/v1/units/000.00.98.H56/tracking-book?from=2026-03-01&to=2026-03-31", desk)


def quality_tour(r: Recorder) -> None:
    # Decision 766 over the same counters: a unit's indicators, the public ranking of a level (and a level
    # unknown), the inactive units of the province; another unit's desk, and no token.
    period = "from=2026-03-01&to=2026-03-31"
    r.call("quality_of_unit", "GET", f"/v1/stats/quality?unit={JUSTICE}&{period}", r.auth(JUSTICE, "leader"))
    r.call("quality_of_unit", "GET", f"/v1/stats/quality?unit={JUSTICE}&{period}", r.auth(LAND, "desk"))
    r.call("ranking", "GET", f"/v1/stats/ranking?level=department&{period}")
    r.call("ranking", "GET", f"/v1/stats/ranking?level=centre&{period}")  # not public: a token is needed
    r.call("ranking", "GET", f"/v1/stats/ranking?level=centre&{period}", r.auth(CENTRE, "leader"))
    r.call("ranking", "GET", f"/v1/stats/ranking?level=county&{period}")
    r.call("inactive_units", "GET", f"/v1/stats/inactive?unit={PROVINCE}&{period}", r.auth(PROVINCE, "leader"))
    r.call("inactive_units", "GET", f"/v1/stats/inactive?unit={PROVINCE}&{period}", r.auth(LAND, "leader"))
    r.call("inactive_units", "GET", f"/v1/stats/inactive?{period}")
    r.call("late_without_apology", "GET", f"/v1/stats/late-without-apology?unit={PROVINCE}&{period}",
           r.auth(PROVINCE, "leader"))
    r.call("late_without_apology", "GET", f"/v1/stats/late-without-apology?unit={PROVINCE}&{period}",
           r.auth(LAND, "desk"))
    r.call("officer_figures", "GET", f"/v1/stats/officers?unit={JUSTICE}&{period}", r.auth(JUSTICE, "leader"))
    r.call("officer_figures", "GET", f"/v1/stats/officers?{period}")


def inbound_tour(r: Recorder) -> None:
    """Signed inbound messages: a portal's submission (and its resend), a gateway's payment notice, refusals, the
    admin's list of what was refused."""
    import base64
    from dataclasses import replace

    from standardwebhooks import Webhook

    from chalicelib import bootstrap
    from chalicelib.domain.inbound import parse_sources

    portal, gateway = ("whsec_" + base64.b64encode(bytes([n]) * 32).decode() for n in (1, 2))
    sources = parse_sources({"sources": [
        {"id": "dvcqg", "kind": "national_portal", "secrets": [portal], "units": [CENTRE]},
        {"id": "vnpay", "kind": "payment_gateway", "secrets": [gateway], "units": [CENTRE]}]})
    bootstrap._override = replace(bootstrap.deps(), inbound_sources=lambda: sources)

    def send(source: str, secret: str, message: dict[str, Any], message_id: str) -> tuple[int, Any]:
        body = json.dumps(message, ensure_ascii=False)
        at = datetime.now(UTC)
        headers = {"webhook-id": message_id, "webhook-timestamp": str(int(at.timestamp())),
                   "webhook-signature": Webhook(secret).sign(message_id, at, body), "content-type": "application/json"}
        return r.call("receive_message", "POST", f"/v1/inbound/{source}", headers, message)

    submitted = {"type": "dossier.submitted", "data": {
        "reference": "DVC-2026-000123", "procedure_code": "2.001417", "receiving_unit": CENTRE,
        "competent_unit": JUSTICE, **{k: CRIMINAL_RECORD[k] for k in ("applicant", "form", "documents")}}}
    send("dvcqg", portal, submitted, "msg_tour_1")
    send("dvcqg", portal, submitted, "msg_tour_1")  # resent: the first answer again
    send("vnpay", gateway, submitted, "msg_tour_2")  # a gateway may not submit: 422
    send("dvcqg", gateway, submitted, "msg_tour_3")  # another source's secret: 401
    send("nobody", portal, submitted, "msg_tour_4")  # 404
    send("dvcqg", portal, {"type": "dossier.submitted", "data": {}}, "msg_tour_5")  # 400
    paid = r.receive(CRIMINAL_RECORD)["code"]
    r.act(paid, JUSTICE, "processor", {"action": "assign"})
    r.act(paid, JUSTICE, "processor", {"action": "request_payment", "amount": 200000})
    notice = {"type": "payment.confirmed", "data": {"dossier_code": paid, "amount": 200000, "currency": "VND",
                                                    "transaction_reference": "VNP-0001",
                                                    "paid_at": "2026-03-16T10:00:00+07:00"}}
    send("vnpay", gateway, {**notice, "data": {**notice["data"], "amount": 1}}, "msg_tour_6")  # wrong amount: 422
    send("vnpay", gateway, notice, "msg_tour_7")
    admin = r.auth(CENTRE, "admin")
    _, page = r.call("list_rejected_inbound", "GET", "/v1/inbound/rejected?source=dvcqg&limit=1", admin)
    r.call("list_rejected_inbound", "GET", f"/v1/inbound/rejected?source=dvcqg&cursor={page['next_cursor']}", admin)
    r.call("list_rejected_inbound", "GET", "/v1/inbound/rejected?source=vnpay", desk_of(r))


def desk_of(r: Recorder) -> dict[str, str]:
    return r.auth(CENTRE, "desk", sub="tn.lan")


def webhooks_tour(r: Recorder, code: str) -> None:
    """Every webhook route: a subscription to a receiver on loopback, its deliveries (one event, a ping),
    redelivery, rotation, and the errors."""
    from chalicelib.adapters.dynamodb.models import OutboxModel
    from chalicelib.bootstrap import deps
    from chalicelib.domain.events import DomainEvent
    from chalicelib.services import webhook_delivery, webhooks
    from tests.api.test_webhooks import Receiver

    admin, receiver = r.auth(CENTRE, "admin"), Receiver()
    try:
        _, hook = r.call("create_webhook", "POST", "/v1/webhooks", admin,
                         {"url": receiver.url, "event_types": ["dossier.received"], "description": "Cổng tỉnh"})
        r.call("create_webhook", "POST", "/v1/webhooks", admin, {"url": "ftp://hooks.example.vn"})  # 400
        r.call("create_webhook", "POST", "/v1/webhooks", r.auth(CENTRE, "leader"), {"url": receiver.url})  # 403
        path = f"/v1/webhooks/{hook['id']}"
        r.call("list_webhooks", "GET", "/v1/webhooks?limit=1", admin)
        r.call("get_webhook", "GET", path, admin)
        r.call("get_webhook", "GET", f"/v1/webhooks/wh_{'0' * 32}", admin)  # 404
        _, hook = r.call("update_webhook", "PATCH", path, admin, {"version": hook["version"], "unit": None})
        r.call("update_webhook", "PATCH", path, admin, {"version": 1, "active": False})  # 409
        _, hook = r.call("rotate_webhook_secret", "POST", f"{path}/rotate-secret", admin,
                         {"version": hook["version"], "grace_hours": 1})
        for item in OutboxModel.query(code, consistent_read=True):
            webhooks.on_event(deps(), DomainEvent.from_dict(item.event))
        r.call("ping_webhook", "POST", f"{path}/ping", admin)
        webhook_delivery.sweep(deps())
        _, page = r.call("list_webhook_deliveries", "GET", f"{path}/deliveries?limit=1", admin)
        assert page["next_cursor"], page  # the event's delivery and the ping's: a second page
        r.call("list_webhook_deliveries", "GET", f"{path}/deliveries?limit=1&cursor={page['next_cursor']}", admin)
        r.call("list_webhook_deliveries", "GET", f"{path}/deliveries?status=lost", admin)  # 400
        r.call("redeliver_webhook_delivery", "POST", f"{path}/deliveries/{page['items'][0]['id']}/redeliver", admin)
        r.call("redeliver_failed_webhook_deliveries", "POST", f"{path}/redeliver-failed", admin)
        r.call("delete_webhook", "DELETE", path, admin)
    finally:
        receiver.stop()


def count_tour_events(r: Recorder) -> None:
    count_events({body["code"] for operation, status, body in r.seen if operation == "receive" and status == 201})


def count_events(codes: set[str]) -> None:
    """The statistics consumer applied to the dossiers' events, as the relay would (the reconciliation tests
    compare every dossier of a day with the counters)."""
    from chalicelib.adapters.dynamodb.models import OutboxModel
    from chalicelib.bootstrap import deps
    from chalicelib.domain import counting
    from chalicelib.domain.events import DomainEvent
    from chalicelib.services import statistics

    for code in sorted(codes):
        for item in OutboxModel.query(code, consistent_read=True):
            event = DomainEvent.from_dict(item.event)
            if event.type in counting.TYPES:
                statistics.on_event(deps(), event)


def documented_content(operation: str, status: int) -> set[str]:
    for methods in document()["paths"].values():
        for op in methods.values():
            if op["operationId"] == operation:
                return set(op["responses"].get(str(status), {}).get("content", {}))
    return set()


def record_tour_sync(r: Recorder) -> None:
    from chalicelib.adapters.dynamodb.models import OutboxModel
    from chalicelib.bootstrap import deps
    from chalicelib.domain.events import DomainEvent
    from chalicelib.services import portal_sync

    codes = {body["code"] for operation, status, body in r.seen if operation == "receive" and status == 201}
    for code in sorted(codes):
        for item in OutboxModel.query(code, consistent_read=True):
            portal_sync.record(deps(), DomainEvent.from_dict(item.event))


def response_schema(operation: str, status: int) -> dict[str, Any]:
    doc = document()
    for methods in doc["paths"].values():
        for op in methods.values():
            if op["operationId"] == operation:
                documented = op["responses"].get(str(status))
                assert documented, f"{operation} answered {status}, which the document does not list"
                schema = documented["content"]["application/json"]["schema"]
                return {**schema, "components": {"schemas": strict(doc["components"]["schemas"])}}
    raise AssertionError(f"no operation {operation}")


def test_every_answer_matches_its_documented_schema_and_fields(answers):
    problems = []
    for operation, status, body in answers:
        if isinstance(body, FileAnswer):
            if body.media_type not in documented_content(operation, status):
                problems.append(f"{operation} {status}: {body.media_type} is not documented")
            continue
        validator = Draft202012Validator(response_schema(operation, status), format_checker=FormatChecker())
        for error in validator.iter_errors(body):
            while error.context:  # inside a nullable reference (anyOf): name the field that failed
                error = max(error.context, key=lambda e: (len(e.absolute_path), e.validator != "type"))
            where = "/".join(str(p) for p in error.absolute_path)
            problems.append(f"{operation} {status} at /{where}: {error.message[:200]}")
    assert not problems, "\n".join(sorted(set(problems))[:40])


def test_the_tour_covers_every_operation_and_every_form_handed_over(answers):
    documented = {op["operationId"] for methods in document()["paths"].values() for op in methods.values()}
    assert {operation for operation, _, _ in answers} == documented
    statuses = {status for _, status, _ in answers}
    assert {200, 201, 400, 401, 403, 404, 409, 422} <= statuses
    keys = {k for operation, status, body in answers if operation in ("receive", "act") and status < 300
            for k in body}
    assert {"receipt", "refusal", "guidance", "history_entry", "appointment_notice", "apology_letter"} <= keys
    outcomes = {body.get("outcome") for operation, status, body in answers if operation == "lookup"}
    assert {"early", "refused"} <= outcomes or {"on_time", "refused"} <= outcomes


def test_every_response_object_is_described_with_typed_fields():
    """No bare `object` or untyped array in what the API returns: clients get types, not Any."""
    loose = []

    def walk(schema: Any, where: str) -> None:
        if isinstance(schema, dict):
            if schema.get("type") == "array" and "items" not in schema:
                loose.append(f"{where}: array without items")
            if schema.get("type") == "object" and "properties" not in schema and "$ref" not in schema:
                loose.append(f"{where}: object without properties")
            for key, value in schema.items():
                walk(value, f"{where}/{key}")
        elif isinstance(schema, list):
            for i, value in enumerate(schema):
                walk(value, f"{where}/{i}")

    doc = document()
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            for status, response in op["responses"].items():
                if "application/json" not in response["content"]:  # a file only (a printed form): its media type
                    assert response["content"], f"{method} {path} {status}: no content"
                    continue
                walk(response["content"]["application/json"]["schema"], f"{method} {path} {status}")
    request_bodies = {schemas.component_name(n) for n in ("dossier-intake", "dossier-action", "inbound-message")}
    request_bodies |= {"InboundDossierSubmitted", "InboundPaymentConfirmed"}  # `data` of inbound-message
    for name, schema in doc["components"]["schemas"].items():
        if name not in request_bodies:  # request bodies: their `form` is the procedure's own schema
            walk(schema, name)
    assert not loose, "\n".join(loose)


@pytest.mark.parametrize(("query", "name"), sorted(QUERY_TYPES))
def test_typed_query_parameters_arrive_as_text_the_handlers_accept(query, name):
    typed = QUERY_TYPES[(query, name)]
    query_schema = schemas.load(query)
    base = {"start": "2026-03-16T10:00:00+07:00"} if query == "calendar-due-query" else {}
    other = {"days": "1"} if name == "hours" else ({"hours": "1"} if name == "days" else {})

    def accepted(text: str) -> bool:
        params = {**base, **({} if name in ("days", "hours") else other), name: text}
        return not schema_problems(query_schema, params, root="query")

    if typed["type"] == "boolean":
        good, bad = ["true", "false"], ["yes", "1"]
    elif typed["type"] == "integer":
        good = [str(typed["minimum"]), str(typed["maximum"]), str(typed["default"])]
        bad = [str(typed["minimum"] - 1), str(typed["maximum"] + 1), "ten"]
    else:
        good, bad = ["1", "0.5", str(typed["maximum"]), "2.25"], ["0", "-1", str(typed["maximum"] + 1)]
    assert all(accepted(v) for v in good), good
    assert not any(accepted(v) for v in bad), bad


def test_generated_client_has_a_typed_return_for_every_operation(tmp_path):
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document(), ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "client"
    # A printed form is a file (application/pdf), which the generator types as bytes when told it is one.
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"content_type_overrides": {"application/pdf": "application/octet-stream"}}))
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}  # its post-hooks run ruff from the virtualenv
    result = subprocess.run([str(BIN / "openapi-python-client"), "generate", "--path", str(spec), "--output-path",
                             str(out), "--meta", "none", "--fail-on-warning", "--config", str(config)],
                            capture_output=True, text=True, env=env, timeout=300)
    printed = result.stdout + result.stderr
    assert result.returncode == 0, printed
    assert "Warning" not in printed and "warning" not in printed, printed
    operations = {op["operationId"]: op for methods in document()["paths"].values() for op in methods.values()}
    modules = {p.stem: p.read_text(encoding="utf-8") for p in (out / "api").glob("*/*.py") if p.stem != "__init__"}
    assert set(modules) == set(operations)
    for name, source in modules.items():
        returns = re.search(r"\ndef sync\(.*?\) -> (.*?):\n", source, re.S)
        assert returns and "Any" not in returns.group(1), f"{name}: {returns.group(1) if returns else 'no sync'}"
        success = next(code for code in operations[name]["responses"] if code.startswith("2"))
        if "application/json" not in operations[name]["responses"][success]["content"]:
            assert "File" in returns.group(1), f"{name}: a file answer is not typed as File"
            continue
        parsed = re.search(rf"response_{success} = (\w+)\.from_dict\(", source)
        assert parsed, f"{name}: the {success} answer is not parsed into a model"
        assert parsed.group(1) in returns.group(1)
    listing = modules["list_dossiers"]
    assert "limit: int | Unset" in listing and "overdue: bool | Unset" in listing


def test_documented_error_is_the_envelope_with_the_request_id():
    error = document()["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    inner = error["properties"]["error"]
    assert {"code", "message", "details"} <= set(inner["required"])
    assert inner["properties"]["request_id"]["type"] == "string"
    assert inner["properties"]["details"]["items"]["properties"]["field"]["type"] == "string"
    for methods in document()["paths"].values():
        for op in methods.values():
            for status, response in op["responses"].items():
                assert response["headers"]["X-Request-Id"]["required"] is True, (op["operationId"], status)


def test_the_integrators_routes_declare_the_api_key_the_deployed_gateway_wants():
    """The routes marked api_key=True, and only they, ask for the `x-api-key` header (with the officer's token on
    top where the route takes one), and list the gateway's 403; the scheme is the one Chalice deploys."""
    doc = document()
    assert doc["components"]["securitySchemes"]["api_key"] | {"description": ""} == {
        "type": "apiKey", "in": "header", "name": "x-api-key", "description": ""}
    keyed = {(path, method): op["security"] for path, methods in doc["paths"].items()
             for method, op in methods.items() if any("api_key" in r for r in op.get("security", []))}
    assert keyed == {("/v1/inbound/{source}", "post"): [{"api_key": []}],
                     ("/v1/imports", "post"): [{"bearer": [], "api_key": []}]}
    for path, method in keyed:
        assert "403" in doc["paths"][path][method]["responses"]
    officers = [op for methods in doc["paths"].values() for op in methods.values()
                if op.get("security") == [{"bearer": []}]]
    assert officers  # the officers' routes are unchanged: a token, no key
