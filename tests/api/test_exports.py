"""Report 06 and the tracking book as files, through the API on DynamoDB Local: the CSV and the XLSX say what the
JSON says, the format is chosen by `format` or Accept, an XLSX needs its Accept, errors stay JSON, and who may
ask is who may list the unit's dossiers. The dossiers live in a week of October 2025 no other test uses."""

import csv
import io
import json
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from chalice.test import Client
from openpyxl import load_workbook

from app import app
from chalicelib.adapters.dynamodb.models import OutboxModel
from chalicelib.api.files import XLSX
from chalicelib.bootstrap import deps
from chalicelib.domain import counting
from chalicelib.domain.dossier import Actor
from chalicelib.domain.events import DomainEvent
from chalicelib.services import report06_files, statistics, tracking_book
from chalicelib.services.actions import perform_action
from chalicelib.services.intake import receive_dossier
from tests.api.helpers import CRIMINAL_RECORD
from tests.unit.calendars import vn
from tests.units import CENTRE, JUSTICE, LAND, PROVINCE

DESK = Actor("desk.exp", CENTRE, frozenset({"desk"}))
OFFICER = Actor("cv.exp", JUSTICE, frozenset({"processor"}))
LEADER = Actor("ld.exp", JUSTICE, frozenset({"leader"}))
WEEK = "from=2025-10-13&to=2025-10-17"
REPORT = f"/v1/stats/report06?unit={PROVINCE}&{WEEK}"
BOOK = f"/v1/units/{CENTRE}/tracking-book?{WEEK}"
ATTACK = "=HYPERLINK(\"http://evil.example\",\"Xem\")"


def act(code: str, actor: Actor, action: str, at: datetime, **extra: Any) -> None:
    d = deps()
    perform_action(replace(d, now=lambda: at), actor, code,
                   {"action": action, "version": d.dossiers.get(code, consistent=True).version, **extra})


@pytest.fixture(scope="module")
def week():
    """Mon 13 Oct 2025 at the centre: A resolved early and returned; B (an applicant named like a formula) open;
    C refused at the desk (form 03); D guided (form 02). Their events counted for report 06."""
    base = deps()

    def take(at: datetime, body: dict[str, Any]) -> str:
        return receive_dossier(replace(base, now=lambda: at), DESK, body)["code"]

    a = take(vn(2025, 10, 13, 8), CRIMINAL_RECORD)
    b = take(vn(2025, 10, 13, 9), {**CRIMINAL_RECORD, "applicant": {**CRIMINAL_RECORD["applicant"], "name": ATTACK}})
    c = take(vn(2025, 10, 14, 9), {**CRIMINAL_RECORD, "intake": {"decision": "refuse", "reasons": ["Sai thẩm quyền"]}})
    d = take(vn(2025, 10, 15, 9), {**CRIMINAL_RECORD,
                                   "intake": {"decision": "guide", "missing_items": ["Bản chụp căn cước công dân"]}})
    act(a, OFFICER, "assign", vn(2025, 10, 13, 10))
    act(a, OFFICER, "complete_step", vn(2025, 10, 14, 9))
    act(a, LEADER, "resolve", vn(2025, 10, 14, 10), result={"summary": "Phiếu LLTP"})
    act(a, DESK, "return_result", vn(2025, 10, 15, 8))
    for code in (a, b, c, d):
        for item in OutboxModel.query(code, consistent_read=True):
            event = DomainEvent.from_dict(item.event)
            if event.type in counting.TYPES:
                statistics.on_event(deps(), event)
    with Client(app, stage_name="local") as client:
        yield client, [a, b, c, d]


def get(client: Client, path: str, headers: dict[str, str]) -> Any:
    return client.http.get(path, headers=headers)


def csv_rows(body: bytes | str) -> list[list[str]]:
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def test_report06_as_csv_says_what_the_json_says(week, auth):
    client, _ = week
    leader = auth(PROVINCE, "leader")
    for group_by in ("unit", "procedure"):
        as_json = json.loads(get(client, f"{REPORT}&group_by={group_by}", leader).body)
        response = get(client, f"{REPORT}&group_by={group_by}&format=csv", leader)
        assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
        rows = csv_rows(response.body)
        assert len(rows) == len(as_json["rows"]) + 2
        for line, source in zip(rows[1:], [*as_json["rows"], as_json["total"]], strict=True):
            assert line[3:] == ["" if (v := c.value(source)) is None else str(v) for c in report06_files.COLUMNS]
        assert [line[2] for line in rows[1:-1]] == [r["key"] for r in as_json["rows"]]
        if group_by == "procedure":
            assert rows[1][1] != rows[1][2]  # the procedure's name from the catalogue, beside its code
    total = as_json["total"]
    assert total["received"]["total"] >= 2 and total["not_accepted"] >= 1 and total["guided"] >= 1


def test_report06_as_xlsx_on_accept_with_its_totals_row_and_the_file_headers(week, auth):
    client, _ = week
    headers = {**auth(PROVINCE, "leader"), "Origin": "https://motcua.thanhhoa.gov.vn"}
    as_json = json.loads(get(client, REPORT, headers).body)
    response = get(client, REPORT, {**headers, "Accept": XLSX})
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == XLSX and response.headers["X-Request-Id"]
    assert response.headers["Content-Disposition"].startswith(
        f'attachment; filename="bao-cao-06_{PROVINCE}_2025-10-13_2025-10-17.xlsx"; filename*=UTF-8\'\'')
    assert "Content-Disposition" in response.headers["Access-Control-Expose-Headers"]
    assert response.headers["Cache-Control"] == "no-store"
    book = load_workbook(io.BytesIO(response.body))
    assert book.sheetnames[0] == "Biểu 06b"  # the official form first, the enriched sheet after it
    ws = book["Chi tiết"]
    body = [[c.value for c in row] for row in ws.iter_rows(min_row=9)]
    assert body[-1][0] == "Tổng cộng" and len(body) == len(as_json["rows"]) + 1
    expected = [c.value(as_json["total"]) for c in report06_files.COLUMNS]
    assert body[-1][3:] == expected and all(isinstance(v, int) for v in body[-1][3:-1])
    # The rows add up to the totals row, column by column (each dossier counts at one unit).
    for index in range(3, 3 + len(report06_files.COLUMNS) - 1):
        assert sum(row[index] for row in body[:-1]) == body[-1][index]


def test_format_wins_over_accept_and_json_is_the_default(week, auth):
    client, _ = week
    leader = auth(PROVINCE, "leader")
    assert get(client, REPORT, {**leader, "Accept": "text/csv"}).headers["Content-Type"].startswith("text/csv")
    assert get(client, f"{REPORT}&format=json", {**leader, "Accept": "text/csv"}).headers["Content-Type"] \
        .startswith("application/json")
    assert get(client, f"{REPORT}&format=csv", {**leader, "Accept": XLSX}).headers["Content-Type"] \
        .startswith("text/csv")
    assert get(client, REPORT, {**leader, "Accept": "text/html,*/*"}).headers["Content-Type"] \
        .startswith("application/json")


@pytest.mark.parametrize("path, accept, status, field", [
    (f"{REPORT}&format=pdf", None, 400, "format"),
    (f"{BOOK}&format=docx", None, 400, "format"),
    (f"{REPORT}&format=xlsx", None, 406, "accept"),
    (f"{REPORT}&format=xlsx", f"text/html, {XLSX}", 406, "accept"),  # the gateway reads only the first type
    (f"{BOOK}&format=xlsx", "*/*", 406, "accept"),
    (f"/v1/stats/report06?unit={PROVINCE}&from=2025-10-17&to=2025-10-13", XLSX, 400, "to"),
    (f"/v1/units/{CENTRE}/tracking-book?from=2024-01-01&to=2025-10-13", XLSX, 400, "to"),
    (f"/v1/units/{CENTRE}/tracking-book?from=2025-10-13", XLSX, 400, "to"),
    ("/v1/units/centre/tracking-book?from=2025-10-13&to=2025-10-14", XLSX, 400, "id"),
])
def test_bad_requests_are_json_errors_naming_the_field_whatever_was_accepted(week, auth, path, accept, status, field):
    client, _ = week
    headers = {**auth(PROVINCE, "leader"), **({"Accept": accept} if accept else {})}
    response = get(client, path, headers)
    assert response.status_code == status, response.body
    assert response.headers["Content-Type"].startswith("application/json")
    error = json.loads(response.body)["error"]
    assert field in {d["field"] for d in error["details"]} and error["request_id"]


@pytest.mark.parametrize("path", [REPORT, BOOK])
def test_outside_the_callers_scope_is_a_403_in_json(week, auth, path):
    client, _ = week
    for caller in (auth(LAND, "leader"), auth(JUSTICE, "desk")):
        response = get(client, f"{path}&format=xlsx", {**caller, "Accept": XLSX})
        assert response.status_code == 403 and json.loads(response.body)["error"]["code"] == "forbidden"
    assert get(client, f"/v1/units/000.00.98.H56/tracking-book?{WEEK}", auth(PROVINCE, "leader")).status_code == 404
    assert get(client, f"{path}&format=csv", {}).status_code == 401


def test_the_tracking_book_lists_what_the_desk_took_in_oldest_first_with_dates_and_outcomes(week, auth):
    client, (a, b, c, d) = week
    response = get(client, BOOK, auth(CENTRE, "desk"))
    assert response.status_code == 200, response.body
    book = json.loads(response.body)
    rows = {row["code"]: row for row in book["rows"]}
    assert [row["code"] for row in book["rows"] if row["code"] in (a, b, c, d)] == [a, b, c, d]
    assert [row["number"] for row in book["rows"]] == list(range(1, book["count"] + 1))
    assert rows[a]["outcome"] == "early" and rows[a]["note"] == "Trả trước hạn"
    assert rows[a]["resolved_at"] == "2025-10-14T10:00:00+07:00" and rows[a]["returned_at"].startswith("2025-10-15")
    assert rows[a]["competent_unit"]["id"] == JUSTICE and rows[a]["transferred_at"] is not None
    assert rows[b]["outcome"] is None and rows[b]["note"].startswith("Đang giải quyết")
    assert rows[b]["applicant"]["name"] == ATTACK  # JSON carries the data as it is; files make it inert
    assert rows[c]["status"] == "not_accepted" and rows[c]["received_at"] is None
    assert rows[c]["taken_in_at"] == "2025-10-14T09:00:00+07:00"
    assert rows[d]["outcome"] == "guided" and rows[d]["national_code"] == 3
    assert get(client, BOOK, auth(PROVINCE, "leader")).status_code == 200  # a leader above the desk


def test_the_tracking_book_as_xlsx_and_csv(week, auth):
    client, (a, b, _, _) = week
    desk = auth(CENTRE, "desk")
    book = json.loads(get(client, BOOK, desk).body)
    response = get(client, f"{BOOK}&format=xlsx", {**desk, "Accept": XLSX})
    assert response.status_code == 200 and response.headers["Content-Type"] == XLSX
    assert f'filename="so-theo-doi-ho-so_{CENTRE}_2025-10-13_2025-10-17.xlsx"' in \
        response.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(response.body))["Sổ theo dõi hồ sơ"]
    lines = {row[1]: row for row in ([c.value for c in r] for r in ws.iter_rows(min_row=8))}
    assert len(lines) == book["count"]
    assert lines[b][3] == "'" + ATTACK and lines[a][6] == datetime(2025, 10, 13, 8, 0)
    assert lines[a][9] == datetime(2025, 10, 14, 10, 0) and lines[a][12] == "Trả trước hạn"
    rows = csv_rows(get(client, f"{BOOK}&format=csv", desk).body)
    by_code = {row[1]: row for row in rows[1:]}
    assert len(by_code) == book["count"] and by_code[b][3] == "'" + ATTACK
    assert by_code[a][6] == "2025-10-13 08:00"


def test_a_book_over_the_row_cap_is_a_400_asking_for_a_shorter_period(week, auth, monkeypatch):
    client, _ = week
    monkeypatch.setattr(tracking_book, "MAX_ROWS", 2)
    monkeypatch.setattr(tracking_book, "PAGE", 1)
    response = get(client, BOOK, auth(CENTRE, "desk"))
    assert response.status_code == 400
    assert json.loads(response.body)["error"]["details"][0]["field"] == "to"


@pytest.mark.parametrize("fmt, accept", [("json", None), ("csv", None), ("xlsx", XLSX)])
def test_a_book_too_large_for_a_lambda_answer_is_a_400_not_a_bare_502(week, auth, monkeypatch, fmt, accept):
    from chalicelib.api import stats_routes

    client, _ = week
    monkeypatch.setattr(stats_routes, "MAX_ANSWER_BYTES", 500)
    response = get(client, f"{BOOK}&format={fmt}", {**auth(CENTRE, "desk"), **({"Accept": accept} if accept else {})})
    assert response.status_code == 400, response.body
    assert json.loads(response.body)["error"]["details"][0]["field"] == "to"


def test_a_type_the_accept_header_refuses_with_q0_is_not_answered(week, auth):
    client, _ = week
    leader = auth(PROVINCE, "leader")
    for accept in ("text/csv;q=0", "text/csv; q=0.0", "text/csv;q=nonsense", "text/csv;q=0, application/json"):
        response = get(client, REPORT, {**leader, "Accept": accept})
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json"), accept
    # A refused first type gives way to the next one the client takes.
    response = get(client, REPORT, {**leader, "Accept": "application/json;q=0, text/csv;q=0.5"})
    assert response.headers["Content-Type"].startswith("text/csv")
    assert get(client, REPORT, {**leader, "Accept": f"{XLSX};q=0"}).headers["Content-Type"].startswith(
        "application/json")
