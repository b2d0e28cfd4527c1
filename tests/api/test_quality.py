"""GET /v1/stats/quality, /v1/stats/ranking and /v1/stats/inactive over real lifecycles on DynamoDB Local.

A province of its own (T96, so that other tests' dossiers do not move its figures) with four departments and a
commune, and a district abolished before the period. Dossiers received Mon 6 Apr 2026 09:00 (10 working days:
due Mon 20 Apr 09:00), driven through the real use cases and counted by the statistics consumer:
- A and D alike: three direct dossiers resolved early, one online accepted and still open within its deadline at
  the end of April: on-time share (3 + 1) / 4 = 1, online share 1/4; Decision 766 points earned: 20 (2.1) + 3
  (3.3: full at 50%) + 2 (3.1: the procedure is offered online) + 4 (3.2: it had an online dossier) = 29 of 100;
- B: one resolved early; one resolved early after a second supplement request (Decision 766: late); one open
  and flagged overdue by the sweep; one asked to pay after its due time passed without any sweep (the action
  records the lateness first): paused, still overdue. On-time share 1 / 4; online 0; 5 + 0 + 2 + 0 = 7 points;
- C: one resolved early; one asked for a supplement (restarting the limit: due Wed 22 Apr), then asked again after
  that due time (the action records the lateness first): paused, overdue and counted late for its two requests.
  Under the minimum sample (3 in these tests): listed apart;
- the commune: nothing.
"""

import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.adapters.calendar_data import national_settings
from chalicelib.adapters.dynamodb.catalogue import CatalogueRepository
from chalicelib.adapters.dynamodb.models import OutboxModel
from chalicelib.config import settings
from chalicelib.domain import counting
from chalicelib.domain.catalogue import COMPETENT_UNIT, Procedure, Step, Unit
from chalicelib.domain.dossier import Actor
from chalicelib.domain.events import DomainEvent
from chalicelib.services import statistics
from chalicelib.services.actions import perform_action
from chalicelib.services.catalogue import Catalogue
from chalicelib.services.deadlines import wake
from chalicelib.services.intake import receive_dossier
from tests.api.helpers import CRIMINAL_RECORD, get
from tests.unit.calendars import vn
from tests.unit.demo import procedure

PROVINCE, DISTRICT, COMMUNE = "000.00.00.T96", "000.20.30.T96", "000.21.30.T96"
A, B, C, D = "000.00.11.T96", "000.00.12.T96", "000.00.13.T96", "000.00.14.T96"
CODE = "1.999766"
PERIOD = "from=2026-04-06&to=2026-04-30"
LIVES: list[str] = []  # the dossiers of `_lives`, in its order (A's four first)


def actors(unit: str) -> tuple[Actor, Actor, Actor]:
    return (Actor(f"desk.{unit}", unit, frozenset({"desk"})), Actor(f"cv.{unit}", unit, frozenset({"processor"})),
            Actor(f"ld.{unit}", unit, frozenset({"leader"})))


@pytest.fixture(scope="module")
def province(auth_module_env):
    repo = CatalogueRepository()
    for unit in (
        Unit(PROVINCE, "Tỉnh thử nghiệm chỉ số", "province"),
        Unit(A, "Sở A", "department", PROVINCE), Unit(B, "Sở B", "department", PROVINCE),
        Unit(C, "Sở C", "department", PROVINCE), Unit(D, "Sở D", "department", PROVINCE),
        Unit(COMMUNE, "Xã thử nghiệm chỉ số", "commune", PROVINCE, valid_from=date(2025, 7, 1)),
        Unit(DISTRICT, "Huyện thử nghiệm chỉ số (chấm dứt hoạt động từ 01/7/2025)", "district", PROVINCE,
             successor=COMMUNE, valid_to=date(2025, 6, 30)),
    ):
        repo.put_unit(unit)
    base = procedure("2.001417")
    steps = tuple(Step(s.name, COMPETENT_UNIT, s.role, s.budget) for s in base.steps)
    repo.publish(Procedure.from_dict({**base.as_dict(), "code": CODE, "competent_units": [A, B, C, D],
                                      "steps": [s.as_dict() for s in steps]}))
    bootstrap.override(catalogue=Catalogue(repo, national_settings))
    try:
        codes = _lives()
        LIVES.extend(codes)
        _count(codes)
        with Client(app, stage_name="local") as client:
            yield client
    finally:
        bootstrap.override()


@pytest.fixture(scope="module")
def auth_module_env():
    """A minimum sample of 3 dossiers for these tests (MOTCUA_RANKING_MIN_DOSSIERS, read at start)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("MOTCUA_RANKING_MIN_DOSSIERS", "3")
    settings.cache_clear()
    yield
    mp.undo()
    settings.cache_clear()


def _receive(unit: str, channel: str = "direct") -> str:
    desk = actors(unit)[0]
    body = {**CRIMINAL_RECORD, "procedure_code": CODE, "competent_unit": unit, "channel": channel}
    code = receive_dossier(replace(bootstrap.deps(), now=lambda: vn(2026, 4, 6, 9)), desk, body)["code"]
    if channel == "online":
        _act(code, desk, "accept", vn(2026, 4, 6, 9, 30))
    return str(code)


def _act(code: str, actor: Actor, action: str, at, **extra: Any) -> None:
    d = bootstrap.deps()
    perform_action(replace(d, now=lambda: at), actor, code,
                   {"action": action, "version": d.dossiers.get(code, consistent=True).version, **extra})


def _resolve(code: str, unit: str, day: int) -> None:
    _, officer, leader = actors(unit)
    _act(code, officer, "assign", vn(2026, 4, day, 9))
    _act(code, officer, "complete_step", vn(2026, 4, day, 10))
    _act(code, leader, "resolve", vn(2026, 4, day, 11), result={"summary": "Phiếu LLTP"})


def _lives() -> list[str]:
    codes = []
    for unit in (A, D):
        direct = [_receive(unit) for _ in range(3)]
        for code in direct:
            _resolve(code, unit, 8)
        codes += [*direct, _receive(unit, "online")]
    desk, officer, leader = actors(B)
    b1, b2, b3, b4 = (_receive(B) for _ in range(4))
    _resolve(b1, B, 8)
    _act(b2, officer, "request_supplement", vn(2026, 4, 7, 9), missing_items=["Bản chụp căn cước công dân"])
    _act(b2, desk, "receive_supplement", vn(2026, 4, 8, 9))
    _act(b2, leader, "request_supplement", vn(2026, 4, 9, 9), missing_items=["Bản chụp căn cước công dân"],
         reason="Bổ sung lần hai")
    _act(b2, desk, "receive_supplement", vn(2026, 4, 10, 9))
    _resolve(b2, B, 13)
    wake(replace(bootstrap.deps(), now=lambda: vn(2026, 4, 21, 9)), b3)
    _act(b4, officer, "assign", vn(2026, 4, 7, 9))
    _act(b4, officer, "request_payment", vn(2026, 4, 22, 10), amount=200000)
    c1, c2 = _receive(C), _receive(C)
    _resolve(c1, C, 8)
    desk, officer, leader = actors(C)
    _act(c2, officer, "request_supplement", vn(2026, 4, 7, 9), missing_items=["Bản chụp căn cước công dân"])
    _act(c2, desk, "receive_supplement", vn(2026, 4, 8, 9))
    _act(c2, leader, "request_supplement", vn(2026, 4, 24, 9), missing_items=["Bản chụp căn cước công dân"],
         reason="Bổ sung lần hai")
    return [*codes, b1, b2, b3, b4, c1, c2]


def _count(codes: list[str]) -> None:
    """The statistics consumer on these dossiers' events, in order (as tests/api/test_report06.py does)."""
    for code in codes:
        for item in OutboxModel.query(code, consistent_read=True):
            event = DomainEvent.from_dict(item.event)
            if event.type in counting.TYPES:
                statistics.on_event(bootstrap.deps(), event)


def test_the_indicators_of_a_unit_follow_decision_766(province, auth):
    status, body = get(province, f"/v1/stats/quality?unit={B}&{PERIOD}", auth(B, "leader"))
    assert status == 200, body
    assert body["figures"] == {
        "received": 4, "received_online": 0, "resolved": 2, "finished_in_time": 1, "resolved_supplement_late": 1,
        "in_progress": 2, "overdue": 2, "open_supplement_late": 0, "overdue_supplement_late": 0, "open_in_time": 0,
        "processed": 4, "resolved_late_766": 0, "ended_766": 0, "ended_late_766": 0, "synced": 0}
    assert body["indicators"] == {"on_time": 0.25, "online": 0.0, "sync": None, "online_procedures": 1.0,
                                  "online_used": 0.0, "payment_procedures": None, "paid_online": None,
                                  "satisfaction": None, "e_result": 0.0, "digitised": 0.0,
                                  "reuse": 0.0}  # no payment confirmed, no rating in the period
    # Points earned out of 100, never rescaled: the groups without data are not measured, and no band is given
    # to an incomplete index.
    assert body["score"] == 7.0 and body["band"] is None and body["band_label"] is None
    index = body["index"]
    # 6 (sync) is not measurable here; digitisation's 4.1-4.3 (12 of its 22) are, and nothing was digitised.
    assert index["complete"] is False and index["measured_points"] == 44.0
    assert {g["group"]: g["status"] for g in index["groups"]} == {
        "transparency": "not_measured", "progress": "measured", "online_service": "measured",
        "online_payment": "not_measured", "satisfaction": "not_measured", "digitisation": "partial"}
    status, body = get(province, f"/v1/stats/quality?unit={PROVINCE}&{PERIOD}", auth(PROVINCE, "leader"))
    assert body["dossiers"] == 14 and body["figures"]["received_online"] == 2
    assert body["indicators"]["on_time"] == round((6 + 2 + 1 + 1) / 14, 4)


def test_a_dossier_both_overdue_and_asked_twice_is_subtracted_once(province, auth):
    status, body = get(province, f"/v1/stats/quality?unit={C}&{PERIOD}", auth(C, "leader"))
    assert body["figures"] == {
        "received": 2, "received_online": 0, "resolved": 1, "finished_in_time": 1, "resolved_supplement_late": 0,
        "in_progress": 1, "overdue": 1, "open_supplement_late": 1, "overdue_supplement_late": 1, "open_in_time": 0,
        "processed": 2, "resolved_late_766": 0, "ended_766": 0, "ended_late_766": 0, "synced": 0}
    assert body["indicators"]["on_time"] == 0.5
    # Before the second request it was neither: in time, and within its deadline.
    status, body = get(province, f"/v1/stats/quality?unit={C}&from=2026-04-06&to=2026-04-21", auth(C, "leader"))
    assert body["figures"]["open_in_time"] == 1 and body["indicators"]["on_time"] == 1.0


def test_a_dossier_paused_after_its_due_time_stays_overdue_in_report06_and_the_index(province, auth):
    status, body = get(province, f"/v1/stats/report06?unit={B}&{PERIOD}", auth(B, "leader"))
    assert status == 200
    assert body["total"]["in_progress"] == {"total": 2, "within_deadline": 0, "overdue": 2}
    status, body = get(province, f"/v1/stats/report06?unit={C}&{PERIOD}", auth(C, "leader"))  # a supplement
    assert body["total"]["in_progress"] == {"total": 1, "within_deadline": 0, "overdue": 1}
    # Still so a month later: the pause does not end the lateness.
    status, body = get(province, f"/v1/stats/quality?unit={B}&from=2026-05-01&to=2026-05-31", auth(B, "leader"))
    assert body["figures"]["in_progress"] == 2 and body["figures"]["overdue"] == 2
    assert body["indicators"]["on_time"] == 0.0


def test_the_ranking_of_a_level_shares_ranks_on_ties_and_lists_the_small_sample_apart(province):
    status, body = get(province, f"/v1/stats/ranking?level=department&unit={PROVINCE}&{PERIOD}")
    assert status == 200, body
    assert [(r["rank"], r["unit"], r["score"], r["band"], r["dossiers"]) for r in body["ranked"]] == [
        (1, A, 29.0, None, 4), (1, D, 29.0, None, 4), (3, B, 7.0, None, 4)]
    # What the system's data can measure (some indicator of the group has points), whatever this period holds.
    assert body["measured_groups"] == ["transparency", "progress", "online_service", "online_payment", "satisfaction",
                                       "digitisation"]
    assert body["not_measured_groups"] == []
    assert [(r["unit"], r["dossiers"], r["reason"]) for r in body["apart"]] == [
        (C, 2, "fewer than 3 dossiers")]
    assert body["min_dossiers"] == 3 and body["ranked_total"] == 3 and "share a rank" in body["tie_rule"]
    assert [(b["band"], b["floor"], b["label"]) for b in body["bands"]] == [
        ("excellent", 90.0, "Xuất sắc"), ("good", 80.0, "Tốt"), ("fair", 70.0, "Khá"),
        ("average", 50.0, "Trung bình"), ("weak", 0.0, "Yếu")]
    assert body["bands_source"]["status"].startswith("unconfirmed")
    status, body = get(province, f"/v1/stats/ranking?level=commune&unit={PROVINCE}&{PERIOD}")
    assert body["ranked"] == [] and [(r["unit"], r["score"], r["reason"]) for r in body["apart"]] == [
        (COMMUNE, None, "no dossier processed")]


def test_an_abolished_unit_is_neither_ranked_nor_inactive(province, auth):
    status, body = get(province, f"/v1/stats/ranking?level=district&unit={PROVINCE}&{PERIOD}",
                       auth(PROVINCE, "leader"))
    assert status == 200 and body["ranked"] == [] and body["apart"] == []
    status, body = get(province, f"/v1/stats/inactive?unit={PROVINCE}&{PERIOD}", auth(PROVINCE, "leader"))
    assert status == 200, body
    assert [(u["unit"], u["level"]) for u in body["items"]] == [(PROVINCE, "province"), (COMMUNE, "commune")]
    # Before the reform the district existed and did nothing; the commune did not exist yet.
    status, body = get(province, f"/v1/stats/inactive?unit={PROVINCE}&from=2025-06-01&to=2025-06-30",
                       auth(PROVINCE, "leader"))
    assert {u["unit"] for u in body["items"]} == {PROVINCE, A, B, C, D, DISTRICT}


def test_inactive_units_are_a_leaders_subtree_only(province, auth):
    assert get(province, f"/v1/stats/inactive?{PERIOD}")[0] == 401
    assert get(province, f"/v1/stats/inactive?unit={PROVINCE}&{PERIOD}", auth(A, "leader"))[0] == 403
    status, body = get(province, f"/v1/stats/inactive?{PERIOD}", auth(A, "leader"))  # the caller's own unit
    assert status == 200 and body["unit"] == A and body["items"] == []


def test_a_level_not_published_needs_a_token_and_shows_the_units_the_caller_covers(province, auth, monkeypatch):
    monkeypatch.setenv("MOTCUA_RANKING_PUBLIC_LEVELS", "province")
    settings.cache_clear()
    try:
        query = f"/v1/stats/ranking?level=department&unit={PROVINCE}&{PERIOD}"
        assert get(province, query)[0] == 401
        status, body = get(province, query, auth(A, "leader"))
        assert status == 200 and [r["unit"] for r in body["ranked"]] == [A] and body["ranked_total"] == 3
        assert body["apart"] == []
        status, body = get(province, query, auth(PROVINCE, "leader"))
        assert [r["unit"] for r in body["ranked"]] == [A, D, B] and [r["unit"] for r in body["apart"]] == [C]
        status, body = get(province, f"/v1/stats/ranking?level=province&unit={PROVINCE}&{PERIOD}")
        assert status == 200  # the province level stays public
    finally:
        monkeypatch.delenv("MOTCUA_RANKING_PUBLIC_LEVELS")
        settings.cache_clear()


@pytest.mark.parametrize("query, field", [
    ("level=county&from=2026-04-01&to=2026-04-30", "level"),
    ("level=Department&from=2026-04-01&to=2026-04-30", "level"),
    ("level=department&from=2026-04-30&to=2026-04-01", "to"),
    ("level=department&from=2026-02-30&to=2026-04-30", "from"),
    ("level=department&to=2026-04-30", "from"),
    ("from=2026-04-01&to=2026-04-30", "level"),
    ("level=department&unit=999.99.99.X00&from=2026-04-01&to=2026-04-30", "unit"),
    ("level=department&from=2026-04-01&to=2026-04-30&sort=name", "sort"),
])
def test_a_bad_level_period_or_unit_is_a_400_naming_the_field(province, query, field):
    response = province.http.get(f"/v1/stats/ranking?{query}")
    assert response.status_code == 400, response.body
    details = json.loads(response.body)["error"]["details"]
    assert any(d["field"] == field or field in d["reason"] for d in details), details  # unknown: named in reason


def test_a_published_ranking_is_kept_for_the_configured_seconds(province, monkeypatch):
    """Anonymous callers get the kept answer (no read) until MOTCUA_RANKING_CACHE_SECONDS pass; 0 keeps nothing."""
    from chalicelib.api import quality_routes

    calls: list[str] = []
    real = quality_routes.quality.ranking

    def counted(*args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(quality_routes.quality, "ranking", counted)
    monkeypatch.setenv("MOTCUA_RANKING_CACHE_SECONDS", "60")
    settings.cache_clear()
    quality_routes._published_answers.clear()
    try:
        query = f"/v1/stats/ranking?level=department&unit={PROVINCE}&{PERIOD}"
        first, again = get(province, query), get(province, query)
        assert first == again and first[0] == 200 and calls == ["department"]
        get(province, f"/v1/stats/ranking?level=commune&unit={PROVINCE}&{PERIOD}")  # another key: read
        assert calls == ["department", "commune"]
        monkeypatch.setenv("MOTCUA_RANKING_CACHE_SECONDS", "0")
        settings.cache_clear()
        get(province, query)
        assert calls == ["department", "commune", "department"]
    finally:
        monkeypatch.delenv("MOTCUA_RANKING_CACHE_SECONDS")
        settings.cache_clear()
        quality_routes._published_answers.clear()


def test_late_dossiers_without_an_apology_are_listed_by_unit_and_officers_are_counted(province, auth):
    status, body = get(province, f"/v1/stats/late-without-apology?unit={PROVINCE}&{PERIOD}", auth(PROVINCE, "leader"))
    assert status == 200, body
    by_unit = {u["unit"]: u for u in body["units"]}
    # B: one open and flagged overdue, one paused after its due time passed; C: one paused overdue. None apologised.
    assert by_unit[B]["count"] == 2 and {i["outcome"] for i in by_unit[B]["items"]} == {"overdue"}
    assert by_unit[C]["count"] == 1
    # A's and D's online dossiers left open are past their due time by now (the list is as of today).
    assert by_unit[A]["count"] == by_unit[D]["count"] == 1
    status, body = get(province, f"/v1/stats/officers?unit={B}&{PERIOD}", auth(B, "leader"))
    assert status == 200, body
    officers = {o["officer"]: o for o in body["officers"]}
    assert officers[f"cv.{B}"] == {"officer": f"cv.{B}", "dossiers": 3, "steps_completed": 2, "steps_on_time": 2,
                                   "steps_late": 0, "steps_open_overdue": 0}
    assert officers["(chưa phân công)"]["steps_open_overdue"] == 1
    status, _ = get(province, f"/v1/stats/officers?unit={B}&{PERIOD}", auth(A, "leader"))
    assert status == 403  # another unit's leader


def test_the_ranking_lists_the_configured_bands_whatever_their_number(province, auth, monkeypatch):
    monkeypatch.setenv("MOTCUA_RANKING_BANDS", "pass=50:Đạt;fail=0:Chưa đạt")
    settings.cache_clear()
    try:
        status, body = get(province, f"/v1/stats/ranking?level=department&unit={PROVINCE}&{PERIOD}",
                           auth(PROVINCE, "leader"))
        assert status == 200, body
        assert body["bands"] == [{"band": "pass", "floor": 50.0, "label": "Đạt"},
                                 {"band": "fail", "floor": 0.0, "label": "Chưa đạt"}]
        assert body["bands_source"] == {"source": "MOTCUA_RANKING_BANDS", "status": "configured"}
    finally:
        monkeypatch.delenv("MOTCUA_RANKING_BANDS")
        settings.cache_clear()


def test_the_synced_share_counts_the_dossiers_received_in_the_period_once_whoever_sees_it_second(
        province, auth, monkeypatch):
    """1.4: received in the period and known to the portal / received in the period. The portal's acknowledgement
    of one of A's dossiers counts it (the dossier was received); another's receipt, consumed again after its sync
    state says announced, counts it; a repeat of either adds nothing."""
    from chalicelib.domain.portal import SyncState

    monkeypatch.setenv("MOTCUA_PORTAL_URL", "https://dichvucong.example/api")
    settings.cache_clear()
    try:
        deps = bootstrap.deps()
        first, second = LIVES[0], LIVES[1]
        for code in (first, second):  # the portal's acknowledgements, as the sync stores them
            deps.sync.record(1, None, None, SyncState(code, A, announced=True, recorded=1, next_seq=2),
                             vn(2026, 4, 6, 10))
        assert statistics.on_announced(deps, first) is True and statistics.on_announced(deps, first) is False
        received = next(DomainEvent.from_dict(i.event) for i in OutboxModel.query(second, consistent_read=True)
                        if i.event["type"] == "dossier.received")
        statistics.on_event(deps, received)
        statistics.on_event(deps, received)
        assert statistics.on_announced(deps, second) is False  # counted already
        status, body = get(province, f"/v1/stats/quality?unit={A}&{PERIOD}", auth(A, "leader"))
        assert status == 200 and body["figures"]["synced"] == 2 and body["indicators"]["sync"] == 0.5
        # A period with none of A's receipts: nothing to share, whatever the portal knows of earlier ones.
        status, body = get(province, f"/v1/stats/quality?unit={A}&from=2026-04-07&to=2026-04-30",
                           auth(A, "leader"))
        assert body["figures"]["received"] == 0 and body["indicators"]["sync"] is None
        # The recount from the dossiers and their sync states says the same (make reconcile).
        from chalicelib.services.reconcile import recount_all

        counted = recount_all(deps, LIVES[:4])
        assert counted[(f"{A}#2026-04", "2026-04-06#all")]["synced"] == 2
    finally:
        monkeypatch.delenv("MOTCUA_PORTAL_URL")
        settings.cache_clear()


def test_the_average_resolution_time_is_the_agencys_working_hours_per_result(province, auth):
    """2.2 over A's three results in April: assigned at 09:00 on Wed 8 Apr and resolved at 11:00, received Mon 6
    at 09:00: two working days (16 h) and 2 h, 18 working hours each."""
    status, body = get(province, f"/v1/stats/quality?unit={A}&{PERIOD}", auth(A, "leader"))
    assert status == 200 and body["figures"]["resolved"] == 3 and body["average_working_hours"] == 18.0
