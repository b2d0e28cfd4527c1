"""GET /v1/stats/report06 over real lifecycles: dossiers received, resolved early and late, withdrawn, one flagged
overdue, counted by the statistics consumer; then the report for periods that cut their lives
at different points (carried over, in progress, overdue at the end of a past period), by unit and procedure,
and who may ask. Figures are compared as differences from the report before the dossiers, so other
tests' dossiers in the same database do not matter."""

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib.adapters.dynamodb.models import OutboxModel
from chalicelib.bootstrap import deps
from chalicelib.domain import counting
from chalicelib.domain.dossier import Actor
from chalicelib.domain.events import DomainEvent
from chalicelib.services import statistics
from chalicelib.services.actions import perform_action
from chalicelib.services.intake import receive_dossier
from scripts import local_keys
from tests.api.helpers import CRIMINAL_RECORD
from tests.unit.calendars import vn
from tests.units import CENTRE, JUSTICE, LAND, PROVINCE

DESK = Actor("desk.r06", CENTRE, frozenset({"desk"}))
OFFICER = Actor("cv.r06", JUSTICE, frozenset({"processor"}))
LEADER = Actor("ld.r06", JUSTICE, frozenset({"leader"}))
PERIODS = {"first_days": ("2025-09-08", "2025-09-10"), "to_overdue": ("2025-09-08", "2025-09-23"),
           "later": ("2025-09-15", "2025-09-30")}


def report(client: Client, auth, period: tuple[str, str], group_by: str = "unit", unit: str = PROVINCE,
           caller: tuple[str, str] = (PROVINCE, "leader"), reading: str = "on_time") -> tuple[int, dict[str, Any]]:
    response = client.http.get(f"/v1/stats/report06?unit={unit}&from={period[0]}&to={period[1]}&group_by={group_by}"
                               f"&reading={reading}", headers=auth(*caller))
    return response.status_code, json.loads(response.body)


def flat(body: dict[str, Any]) -> dict[tuple[str, str], Any]:
    out = {}
    for row in [*body["rows"], {**body["total"], "key": "total"}]:
        for column, value in row.items():
            if column == "official":  # the official form's columns: checked by their identities (below)
                continue
            if isinstance(value, dict):
                out.update({(row["key"], f"{column}.{k}"): v for k, v in value.items()})
            elif column in ("received", "refused", "withdrawn", "stopped", "not_accepted", "guided", "apologies",
                            "supplement_requests", "supplement_violations", "rescheduled"):
                out[(row["key"], column)] = value
    return out


def diff(after: dict[str, Any], before: dict[str, Any]) -> dict[tuple[str, str], int]:
    a, b = flat(after), flat(before)
    return {k: a.get(k, 0) - b.get(k, 0) for k in set(a) | set(b) if a.get(k, 0) != b.get(k, 0)}


def count(codes: list[str]) -> None:
    """The statistics consumer on these dossiers' events, in order (tests/integration/test_statistics.py drives it
    through the relay; here the rest of the database's backlog must not be counted between the two reports)."""
    for code in codes:
        for item in OutboxModel.query(code, consistent_read=True):
            event = DomainEvent.from_dict(item.event)
            if event.type in counting.TYPES:
                statistics.on_event(deps(), event)


def act(code: str, actor: Actor, action: str, at, **extra: Any) -> None:
    d = deps()
    perform_action(replace(d, now=lambda: at), actor, code,
                   {"action": action, "version": d.dossiers.get(code, consistent=True).version, **extra})


@pytest.fixture(scope="module")
def lives(auth_module):
    """Three dossiers received Mon 8 Sep 2025 at the centre for Justice: A resolved early the next day, B flagged
    overdue after its due time and resolved late, C withdrawn on the 10th. Answers the reports before and after."""
    with Client(app, stage_name="local") as client:
        before = {(name, g): report(client, auth_module, p, g)[1] for name, p in PERIODS.items()
                  for g in ("unit", "procedure")}
        base = deps()
        codes = [receive_dossier(replace(base, now=lambda: vn(2025, 9, 8, 9)), DESK, CRIMINAL_RECORD)["code"]
                 for _ in range(3)]
        a, b, c = codes
        act(a, OFFICER, "assign", vn(2025, 9, 8, 10))
        act(a, OFFICER, "complete_step", vn(2025, 9, 9, 9))
        act(a, LEADER, "resolve", vn(2025, 9, 9, 10), result={"summary": "Phiếu LLTP"})
        act(c, DESK, "withdraw", vn(2025, 9, 10, 9), reason="Công dân rút")
        dossier = base.dossiers.get(b, consistent=True)
        due = dossier.due_at  # 10 working days: Mon 22 Sep 2025
        assert due is not None and due.astimezone(vn(2025, 9, 8, 9).tzinfo).date().isoformat() == "2025-09-22"
        late = vn(2025, 9, 24, 9)
        assert dossier.wake(late)
        base.dossiers.save(dossier, None, dossier.version - 1)
        act(b, OFFICER, "assign", vn(2025, 9, 24, 10))
        act(b, OFFICER, "complete_step", vn(2025, 9, 25, 9))
        act(b, LEADER, "resolve", vn(2025, 9, 25, 10), result={"summary": "Phiếu LLTP"})
        count(codes)
        after = {(name, g): report(client, auth_module, p, g)[1] for name, p in PERIODS.items()
                 for g in ("unit", "procedure")}
        yield {key: diff(after[key], before[key]) for key in after}, due, client


@pytest.fixture(scope="module")
def auth_module():
    key_dir = Path(os.environ["MOTCUA_LOCAL_JWKS"]).parent  # the suite's signing key (tests/conftest.py)

    def headers(unit: str, *roles: str, sub: str | None = None) -> dict[str, str]:
        token = local_keys.make_token(unit, list(roles or ("desk",)), sub, key_dir=key_dir)
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    return headers


def test_the_first_days_count_what_was_received_at_the_desk_and_what_is_open_at_the_competent_unit(lives):
    figures, _, _ = lives
    assert figures[("first_days", "unit")] == {
        (CENTRE, "received.total"): 3, (CENTRE, "received.direct_or_postal"): 3,
        (JUSTICE, "received.for_resolution"): 3,
        (JUSTICE, "resolved.total"): 1, (JUSTICE, "resolved.early"): 1, (JUSTICE, "withdrawn"): 1,
        (JUSTICE, "in_progress.total"): 1, (JUSTICE, "in_progress.within_deadline"): 1,
        ("total", "received.total"): 3, ("total", "received.direct_or_postal"): 3, ("total", "resolved.total"): 1,
        ("total", "received.for_resolution"): 3,
        ("total", "resolved.early"): 1, ("total", "withdrawn"): 1, ("total", "in_progress.total"): 1,
        ("total", "in_progress.within_deadline"): 1,
    }
    # On the competent unit's row what it had to resolve balances what became of it (docs/statistics.md): the
    # desk's intake is on the centre's row.
    got = figures[("first_days", "unit")]
    assert got[(JUSTICE, "received.for_resolution")] == (
        got[(JUSTICE, "resolved.total")] + got[(JUSTICE, "withdrawn")] + got[(JUSTICE, "in_progress.total")])


def test_a_period_ending_after_the_due_time_shows_the_open_dossier_overdue(lives):
    figures, _, _ = lives
    got = figures[("to_overdue", "unit")]
    assert got[(JUSTICE, "in_progress.total")] == 1 and got[(JUSTICE, "in_progress.overdue")] == 1
    assert (JUSTICE, "in_progress.within_deadline") not in got
    assert got[(JUSTICE, "resolved.early")] == 1 and (JUSTICE, "resolved.late") not in got


def test_a_later_period_carries_the_open_dossier_over_and_resolves_it_late(lives):
    figures, _, _ = lives
    assert figures[("later", "unit")] == {
        (JUSTICE, "received.carried_over"): 1, (JUSTICE, "resolved.total"): 1, (JUSTICE, "resolved.late"): 1,
        ("total", "received.carried_over"): 1, ("total", "resolved.total"): 1, ("total", "resolved.late"): 1,
    }
    by_procedure = figures[("later", "procedure")]
    assert by_procedure[("2.001417", "resolved.late")] == 1 and by_procedure[("total", "resolved.late")] == 1


def test_the_on_time_rate_and_who_may_ask(lives, auth_module):
    _, _, client = lives
    status, body = report(client, auth_module, ("2025-09-08", "2025-09-30"), unit=JUSTICE,
                          caller=(JUSTICE, "leader"))
    assert status == 200
    total = body["total"]
    assert total["on_time_rate"] == round((total["resolved"]["early"] + total["resolved"]["on_time"])
                                          / total["resolved"]["total"], 4)
    assert report(client, auth_module, ("2025-09-08", "2025-09-30"), unit=JUSTICE, caller=(LAND, "leader"))[0] == 403
    assert report(client, auth_module, ("2025-09-08", "2025-09-30"), caller=(JUSTICE, "leader"))[0] == 403


@pytest.mark.parametrize("query, field", [
    ("from=2025-09-30&to=2025-09-01", "to"),
    ("from=1999-12-01&to=2026-06-01", "from"),  # any period since go-live, none before
    ("period=Q5-2026", "period"),
    ("from=2025-13-01&to=2025-09-01", "from"),
    ("to=2025-09-01", "from"),
    ("from=2025-09-01&to=2025-09-02&group_by=officer", "group_by"),
    ("from=2025-09-01&to=2025-09-02&unit=999.99.99.X00", "unit"),
])
def test_a_bad_period_or_grouping_is_a_400_naming_the_field(lives, auth_module, query, field):
    _, _, client = lives
    response = client.http.get(f"/v1/stats/report06?{query}", headers=auth_module(PROVINCE, "leader"))
    assert response.status_code == 400, response.body
    assert field in {d["field"] for d in json.loads(response.body)["error"]["details"]}


def test_the_official_form_balances_on_every_row_and_books_the_channel_at_the_resolving_unit(lives, auth_module):
    _, _, client = lives
    for reading in ("on_time", "by_deadline"):
        status, body = report(client, auth_module, ("2025-09-08", "2025-09-30"), reading=reading)
        assert status == 200, body
        assert body["form"] == "06b" and body["reading_applied"]["withdrawn_or_stopped"] == reading
        assert body["period"]["label"] == "Kỳ báo cáo (từ ngày 08/09/2025 đến ngày 30/09/2025)"
        for row in [*body["rows"], body["total"]]:
            form = row["official"]
            received, resolved, open_ = form["received"], form["resolved"], form["in_progress"]
            assert received["total"] == received["online"] + received["direct_or_postal"] + received["carried_over"]
            assert resolved["total"] == resolved["early"] + resolved["on_time"] + resolved["late"]
            assert open_["total"] == open_["within_deadline"] + open_["overdue"]
            assert received["total"] == resolved["total"] + open_["total"], (row.get("key"), form)
        justice = next(r for r in body["rows"] if r["key"] == JUSTICE)
        # The desk took them in at the centre; the resolving unit's row shows them direct, not 0.
        assert justice["official"]["received"]["direct_or_postal"] >= 3


def test_an_official_period_is_cut_as_decree_09_says_and_printed(lives, auth_module):
    _, _, client = lives
    response = client.http.get(f"/v1/stats/report06?period=Q4-2025&unit={PROVINCE}",
                               headers=auth_module(PROVINCE, "leader"))
    assert response.status_code == 200, response.body
    body = json.loads(response.body)
    assert (body["from"], body["to"]) == ("2025-09-15", "2025-12-14")
    assert body["period"]["label"].startswith("Kỳ báo cáo: Quý IV năm 2025") and body["period"]["preset"] == "Q4-2025"
