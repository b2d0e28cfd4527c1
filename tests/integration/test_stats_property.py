"""Property: whatever a dossier's life (online or paper, refused or guided at the desk, supplements lawful and
not, payments, an apology with a new appointment, deadlines flagged by the sweep, resolved, refused, withdrawn,
stopped, across days and weekends), the counters the statistics consumer writes through the relay equal what
services/reconcile.py recomputes from the dossier and its control sheet, and so do the monthly roll-ups written
in the same transactions (each the sum of its month's days)."""

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.dossier import Actor
from chalicelib.domain.errors import DomainError
from chalicelib.domain.lifecycle import allowed_actions
from chalicelib.services import consumers, reconcile, reports
from chalicelib.services.actions import perform_action
from chalicelib.services.deadlines import wake
from chalicelib.services.intake import receive_dossier
from chalicelib.services.relay import relay
from tests.api.helpers import CRIMINAL_RECORD
from tests.integration.relay_worker import local_deps
from tests.integration.test_relay_pipeline import relay_until_published
from tests.unit.calendars import vn
from tests.units import CENTRE, JUSTICE

DESK = Actor("desk.prop", CENTRE, frozenset({"desk"}))
OFFICER = Actor("cv.prop", JUSTICE, frozenset({"processor"}))
LEADER = Actor("ld.prop", JUSTICE, frozenset({"leader", "processor"}))
ACTIONS = {
    "accept": (DESK, {}), "refuse_intake": (DESK, {"reasons": ["Hồ sơ giả mạo"]}),
    "assign": (OFFICER, {}), "complete_step": (OFFICER, {"note": "xong"}),
    "request_supplement": (LEADER, {"missing_items": ["Bản chụp căn cước công dân"], "reason": "Thiếu giấy tờ"}),
    "receive_supplement": (DESK, {}), "request_payment": (OFFICER, {"amount": 200000}),
    "confirm_payment": (DESK, {"receipt_number": "BL-1"}), "resolve": (LEADER, {"result": {"summary": "Phiếu"}}),
    "refuse": (LEADER, {"reasons": ["Không đủ điều kiện"]}), "return_result": (DESK, {}),
    "withdraw": (DESK, {"reason": "Công dân rút"}), "stop": (DESK, {"reason": "Dừng"}),
    "apologize": (LEADER, {"reason": "Cần xác minh"}), "wake": (None, {}),
    "guide_submission": (DESK, {"missing_items": ["Bản chụp căn cước công dân"], "reason": "Ảnh mờ"}),
    "complete_submission": (DESK, {"documents": [{"name": "Bản chụp căn cước công dân"}]}),
}
UNITS = (CENTRE, JUSTICE)


@pytest.fixture
def statistics_only(monkeypatch):
    """The local bus runs the statistics consumer alone, as its own queue does on AWS: another consumer that
    keeps failing on an event (the local bus then skips the event for every consumer) does not hide it."""
    only = tuple(c for c in consumers.registry() if c.name == "statistics")
    monkeypatch.setattr(consumers, "registry", lambda: only)


def drain(deps) -> None:
    """Publish what other tests (or an example that failed half-way) left pending, so that only this example's
    events move the counters."""
    for _ in range(200):
        if not relay(deps, limit=500, older_than_seconds=0)["found"]:
            return


def do(deps, code: str, name: str, at: datetime) -> None:
    at_deps = replace(deps, now=lambda: at)
    if name == "wake":
        wake(at_deps, code)
        return
    actor, payload = ACTIONS[name]
    dossier = deps.dossiers.get(code, consistent=True)
    request = {"action": name, "version": dossier.version, **payload}
    if name == "apologize":
        if dossier.due_at is None:
            return
        calendar = deps.catalogue.calendar_for(CENTRE)
        request["new_appointment_at"] = calendar.add_working(dossier.due_at, timedelta(hours=8)).isoformat()
    try:
        perform_action(at_deps, actor, code, request)  # type: ignore[arg-type]
    except DomainError:
        pass  # not allowed now, or refused: the dossier is unchanged


def counted_as_recounted(deps, code: str, before, first, last):
    """Once the dossier's events are published: the counters they moved (stored now minus `before`) equal the
    recomputation from the dossier and its control sheet. Answers the dossier and that recomputation."""
    relay_until_published(deps, code)
    after = reconcile.stored(deps, UNITS, first, last)
    actual = {k: v for k, v in reconcile.merge(dict(after), before, -1).items() if any(v.values())}
    dossier = deps.dossiers.get(code, consistent=True)
    expected = reconcile.recount(dossier, deps.dossiers.history(code))
    assert reconcile.differences(expected, actual) == [], (code, [(h.action, h.at) for h in
                                                                 deps.dossiers.history(code)])
    return dossier, expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(
    start_day=st.integers(0, 60), start_hour=st.integers(6, 18),
    channel=st.sampled_from(["direct", "postal", "online"]),
    decision=st.sampled_from(["receive", "receive", "receive", "refuse", "guide"]),
    data=st.data(),
)
def test_counters_equal_the_recomputation_from_the_dossiers(statistics_only, start_day, start_hour, channel,
                                                            decision, data):
    start = vn(2026, 3, 2, start_hour) + timedelta(days=start_day)
    deps = local_deps(now=lambda: start)
    drain(deps)
    first, last = start.date() - timedelta(days=1), start.date() + timedelta(days=60)
    before = reconcile.stored(deps, UNITS, first, last)
    rolled_before = reconcile.stored_rollups(deps, UNITS, first, last)
    yearly_before = reconcile.stored_yearly(deps, UNITS, first, last)
    body = {**CRIMINAL_RECORD, "channel": channel}
    if channel != "online" and decision == "refuse":
        body["intake"] = {"decision": "refuse", "reasons": ["Không thuộc thẩm quyền"]}
    elif channel != "online" and decision == "guide":
        body["intake"] = {"decision": "guide", "missing_items": ["Bản chụp căn cước công dân"]}
    code = receive_dossier(deps, DESK, body)["code"]
    at = start
    for _ in range(data.draw(st.integers(4, 18), label="steps")):
        # One of the actions the dossier's status allows (a refused one changes nothing), or the sweep's wake;
        # withdrawing and stopping, which end everything, only now and then.
        allowed = set(allowed_actions(deps.dossiers.get(code, consistent=True).status))
        if data.draw(st.integers(0, 5), label="ending allowed") != 0:
            allowed -= {"withdraw", "stop"}
        # Moving the dossier on is six times as likely as any other action, so that lives reach their result.
        onward = sorted(allowed & {"accept", "assign", "complete_step", "resolve", "receive_supplement",
                                   "confirm_payment", "return_result"})
        name = data.draw(st.sampled_from([*sorted(allowed), *onward * 5, "wake"]), label="action")
        at += timedelta(hours=data.draw(st.integers(1, 120), label="hours later"))
        do(deps, code, name, at)
    dossier, expected = counted_as_recounted(deps, code, before, first, last)
    # Report 06's balance at the competent unit: received for resolution = what ended + what is still open.
    mine = [row for (pk, sk), row in expected.items() if pk.startswith(f"{dossier.competent_unit}#") and
            sk.endswith("#all")]
    total = {c: sum(row.get(c, 0) for row in mine) for c in ("received_for_resolution", "open", "resolved",
                                                               "refused", "withdrawn", "stopped")}
    assert total["received_for_resolution"] == (1 if dossier.received_at else 0), code
    ended = total["resolved"] + total["refused"] + ((total["withdrawn"] + total["stopped"]) if dossier.received_at
                                                    else 0)
    assert total["received_for_resolution"] == ended + total["open"], (code, total)
    # The official form's identity on the competent unit's row (biểu 06a): column 3 = column 7 + column 11, the
    # online / direct split booked there too, whichever reading places the withdrawn and stopped dossiers.
    columns = {c: sum(row.get(c, 0) for row in mine) for c in {k for row in mine for k in row}}
    for reading in reports.READINGS:
        form = reports.official(columns, reading)
        assert form["received"]["total"] == form["resolved"]["total"] + form["in_progress"]["total"], (code, form)
        assert form["received"]["online"] == (1 if dossier.received_at and channel == "online" else 0)
        assert form["resolved"]["total"] == sum(form["resolved"][t] for t in ("early", "on_time", "late"))
    rolled = reconcile.merge(dict(reconcile.stored_rollups(deps, UNITS, first, last)), rolled_before, -1)
    rolled = {k: v for k, v in rolled.items() if any(v.values())}
    assert reconcile.differences(reconcile.rollups(expected), rolled) == [], code
    # ... and its yearly roll-ups, written in the same transactions (Decision 766's ended_766 among them).
    years = reconcile.merge(dict(reconcile.stored_yearly(deps, UNITS, first, last)), yearly_before, -1)
    years = {k: v for k, v in years.items() if any(v.values())}
    assert reconcile.differences(reconcile.yearly(expected), years) == [], code


def test_a_second_supplement_request_after_the_due_time_is_counted_as_recounted(statistics_only):
    """A life the property found: received at 06:00 on a Friday, two supplement requests, the second after the
    legal due time, then the sweep's wake, the supplement received and an apology."""
    start = vn(2026, 4, 24, 6)
    deps = local_deps(now=lambda: start)
    drain(deps)
    first, last = start.date() - timedelta(days=1), start.date() + timedelta(days=60)
    before = reconcile.stored(deps, UNITS, first, last)
    code = receive_dossier(deps, DESK, {**CRIMINAL_RECORD, "channel": "direct"})["code"]
    at = start
    for name, hours in (("assign", 49), ("request_supplement", 113), ("receive_supplement", 79),
                        ("apologize", 76), ("apologize", 1), ("request_supplement", 105), ("wake", 105),
                        ("receive_supplement", 1), ("apologize", 1)):
        at += timedelta(hours=hours)
        do(deps, code, name, at)
    counted_as_recounted(deps, code, before, first, last)
