"""Decision 766's lateness of a resolved dossier (domain/dossier.py, domain/clock.py `working_time`): the agency's
working time from the clock's start to the result, the applicant's pauses left out and no restart, against the
procedure's original limit; recorded on the resolve line and on dossier.resolved."""

from chalicelib.domain import events as ev
from chalicelib.domain.dossier import Actor
from tests.unit.calendars import CALENDAR, vn
from tests.unit.test_dossier_lifecycle import COMMUNE, COMMUNE_DESK, act, receive
from tests.units import DONG_SON

LEADER = Actor("ld.son", DONG_SON, frozenset({"leader"}))


def lived(*pauses: tuple[str, str, tuple[int, int], tuple[int, int]], resolved: tuple[int, int]):
    """1.004873 (3 working days) received Mon 16 Mar 2026 09:00 at Đông Sơn, with pauses (request, answer, (day,
    hour) of each), its first step completed, resolved at `resolved` (day, hour)."""
    dossier, _ = receive("1.004873", actor=COMMUNE_DESK, competent=DONG_SON)
    act(dossier, "assign", COMMUNE, vn(2026, 3, 16, 10))
    for ask, answer, (day, hour), (back_day, back_hour) in pauses:
        form = "Tờ khai cấp Giấy xác nhận tình trạng hôn nhân"
        payload = ({"missing_items": [form], "reason": "Thiếu"} if ask == "request_supplement" else {"amount": 50000})
        act(dossier, ask, COMMUNE, vn(2026, 3, day, hour), **payload)
        extra = {"receipt_number": "BL-1"} if answer == "confirm_payment" else {}
        act(dossier, answer, COMMUNE_DESK, vn(2026, 3, back_day, back_hour), **extra)
    act(dossier, "complete_step", COMMUNE, vn(2026, 3, resolved[0], resolved[1] - 1))
    dossier.take_events()
    entry = act(dossier, "resolve", LEADER, vn(2026, 3, *resolved), result={"summary": "Giấy xác nhận"})
    event = next(e for e in dossier.take_events() if e.type == ev.RESOLVED)
    return dossier, entry, event


def test_in_time_without_pauses_is_not_late():
    dossier, entry, event = lived(resolved=(18, 10))
    assert dossier.outcome(CALENDAR) == "early"
    assert entry.details["late_766"] is False and event.data["late_766"] is False


def test_the_lawful_supplement_restart_does_not_reset_the_agencys_time():
    # Two working days used before the request (Mon 09:00 to Wed 09:00); the complete dossier back on Mon 23 at
    # 09:00 restarts the law's 3 days (due Thu 26); resolved Wed 25 at 10:00: early by the law, but the agency
    # worked 2 days + 2 days 1 hour > 3 days.
    dossier, entry, event = lived(("request_supplement", "receive_supplement", (18, 9), (23, 9)), resolved=(25, 10))
    assert dossier.outcome(CALENDAR) == "early"
    assert dossier.clock.working_time(CALENDAR, vn(2026, 3, 25, 10)).total_seconds() == (4 * 8 + 1) * 3600
    assert entry.details["late_766"] is True and event.data["late_766"] is True


def test_the_applicants_time_is_not_the_agencys():
    # A week waiting for the applicant's supplement, then 1 working day of work: within 3 days either way.
    dossier, entry, _ = lived(("request_supplement", "receive_supplement", (16, 11), (23, 9)), resolved=(24, 9))
    assert dossier.clock.working_time(CALENDAR, vn(2026, 3, 24, 9)).total_seconds() == (8 + 2) * 3600
    assert dossier.outcome(CALENDAR) == "early" and entry.details["late_766"] is False


def test_a_refusal_after_appraisal_records_no_766_lateness():
    dossier, _ = receive("1.004873", actor=COMMUNE_DESK, competent=DONG_SON)
    act(dossier, "assign", COMMUNE, vn(2026, 3, 16, 10))
    entry = act(dossier, "refuse", COMMUNE, vn(2026, 3, 25, 10), reasons=["Không đủ điều kiện"])
    assert "late_766" not in entry.details


def test_the_counters_and_the_index_take_it_from_the_event():
    from chalicelib.domain import counting
    from chalicelib.domain import quality_index as qi

    _, _, event = lived(("request_supplement", "receive_supplement", (18, 9), (23, 9)), resolved=(25, 10))
    counts = counting.booking(event).increments[(f"{DONG_SON}#2026-03", "2026-03-25#all")]
    # 33 working hours of the agency (16 Mar 09:00 to 18 Mar 09:00, 23 Mar 09:00 to 25 Mar 10:00): 2.2's sum.
    assert counts == {"resolved": 1, "early": 1, "resolved_late_766": 1, "open": -1,
                      "resolved_working_seconds": 33 * 3600}
    figures = qi.Figures.from_counts({k: v for k, v in counts.items() if k != "open"})
    assert figures.finished_in_time == 0 and qi.on_time_share(figures) == 0.0  # early by the law, late here
    assert qi.average_working_hours(figures) == 33.0
