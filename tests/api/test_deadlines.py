"""Deadlines that act, through the scheduled sweep and the API: due soon, overdue, a step overdue and the
intake deadline fire once at their instant; the people responsible are notified; overdue steps are listed by
unit and officer. Time moves only through the clock the code receives (frozen_now), never by sleeping.

The dossiers here live in 2022, before every other test's, so the sweep (which reads every dossier due) finds
only these.
"""

from datetime import datetime, timedelta

from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.bootstrap import deps
from chalicelib.domain.errors import StaleVersion
from chalicelib.services import deadlines
from tests.api.helpers import CRIMINAL_RECORD, get, post, receive
from tests.api.test_notifications import deliver_events
from tests.unit.calendars import vn
from tests.units import CENTRE, JUSTICE, LAND


def sweep(client):
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                            resources=[])
    return client.lambda_.invoke("overdue_sweep", event).payload


def at(local_iso: str) -> datetime:
    return datetime.fromisoformat(local_iso)


def test_due_soon_overdue_and_step_overdue_fire_once_at_their_instant_and_tell_who_is_responsible(
        auth, frozen_now):
    desk, leader = auth(CENTRE, "desk"), auth(JUSTICE, "leader", sub="ld.cuong")
    officer = auth(JUSTICE, "processor", sub="cv.an")
    with Client(app, stage_name="local") as client:
        frozen_now(vn(2022, 3, 14, 9))
        dossier = receive(client, auth, {**CRIMINAL_RECORD, "competent_unit": JUSTICE})
        code, watch = dossier["code"], dossier["watch"]
        assert set(watch) == {"due_soon", "overdue", "step_overdue:0"}
        status, assigned = post(client, f"/v1/dossiers/{code}/actions", officer, {"action": "assign", "version": 1})
        assert status == 200, assigned

        # Each watched instant in turn (the first step's own due time comes before the dossier's warning): not a
        # second early, then exactly at it, once, however many sweeps run.
        version = 2
        for name, instant in sorted(watch.items(), key=lambda item: at(item[1])):
            frozen_now(at(instant) - timedelta(seconds=1))
            sweep(client)
            status, before = get(client, f"/v1/dossiers/{code}", desk)
            assert name not in before["flags"] and before["version"] == version
            frozen_now(at(instant))
            report = sweep(client)
            assert report["woken"] >= 1 and report["failed"] == 0
            sweep(client)
            status, after = get(client, f"/v1/dossiers/{code}", desk)
            version += 1
            assert after["flags"][name] == instant and after["version"] == version
        assert set(after["flags"]) == {"due_soon", "overdue", "step_overdue:0"} and after["next_wake"] is None
        assert after["due_soon"] is True and after["overdue_steps"] == [0]

        deliver_events(code)
        deliver_events(code)  # a redelivery applies nothing twice
        status, listed = get(client, f"/v1/dossiers/{code}/notifications", leader)
        assert status == 200, listed
        kinds = sorted((n["template"], n["recipient_kind"], n["recipient"]) for n in listed["items"])
        assert kinds == sorted([("due_soon", "leader", f"leader@{JUSTICE}"), ("due_soon", "officer", "cv.an"),
                                ("overdue", "leader", f"leader@{JUSTICE}"), ("step_overdue", "officer", "cv.an"),
                                ("step_overdue", "leader", f"leader@{JUSTICE}")])
        assert all(n["channel"] == "internal" and n["status"] == "recorded" and n["unit"] == JUSTICE
                   for n in listed["items"])
        due_soon = next(n for n in listed["items"] if n["template"] == "due_soon")
        assert due_soon["subject"] == f"[Sắp đến hạn] Hồ sơ {code}" and "Phiếu lý lịch tư pháp" in due_soon["body"]
        step_note = next(n for n in listed["items"] if n["template"] == "step_overdue")
        assert "Cán bộ xử lý: cv.an" in step_note["body"]

        # Dossiers with an overdue step, by unit and by officer.
        status, page = get(client, f"/v1/dossiers?unit={JUSTICE}&step_overdue=true&officer=cv.an&limit=100",
                           leader)
        assert status == 200, page
        mine = [i for i in page["items"] if i["code"] == code]
        assert mine and mine[0]["late_steps"][0]["officer"] == "cv.an" and mine[0]["late_steps"][0]["index"] == 0
        assert mine[0]["late_steps"][0]["unit"] == JUSTICE
        status, other = get(client, f"/v1/dossiers?unit={JUSTICE}&step_overdue=true&officer=cv.khac&limit=100",
                            leader)
        assert status == 200 and all(i["code"] != code for i in other["items"])
        status, without = get(client, f"/v1/dossiers?unit={JUSTICE}&step_overdue=false&limit=100", leader)
        assert status == 200 and all(i["code"] != code for i in without["items"])
        status, bad = get(client, f"/v1/dossiers?unit={JUSTICE}&officer=cv.an", leader)
        assert status == 400 and bad["error"]["details"][0]["field"] == "officer"
        status, foreign = get(client, f"/v1/dossiers/{code}/notifications", auth(LAND, "leader"))
        assert status == 403, foreign


def test_an_online_submission_left_at_the_desk_is_flagged_and_the_desk_told(auth, frozen_now):
    with Client(app, stage_name="local") as client:
        frozen_now(vn(2022, 3, 15, 9))
        dossier = receive(client, auth, {**CRIMINAL_RECORD, "channel": "online", "competent_unit": JUSTICE})
        code = dossier["code"]
        assert dossier["status"] == "submitted" and dossier["watch"] == {"intake_overdue": "2022-03-16T09:00:00+07:00"}
        frozen_now(vn(2022, 3, 16, 9, 5))
        sweep(client)
        status, flagged = get(client, f"/v1/dossiers/{code}", auth(CENTRE, "desk"))
        assert flagged["flags"] == {"intake_overdue": "2022-03-16T09:05:00+07:00"}
        deliver_events(code)
        status, listed = get(client, f"/v1/dossiers/{code}/notifications", auth(CENTRE, "desk"))
        assert [(n["template"], n["recipient"], n["unit"]) for n in listed["items"]] == [
            ("intake_overdue", f"desk@{CENTRE}", CENTRE)]


def test_wake_answers_the_next_wake_and_none_for_a_missing_or_closed_dossier(auth, frozen_now):
    with Client(app, stage_name="local") as client:
        frozen_now(vn(2022, 3, 16, 9))
        dossier = receive(client, auth, {**CRIMINAL_RECORD, "competent_unit": JUSTICE})
        code = dossier["code"]
        assert deadlines.wake(deps(), code) == min(at(w) for w in dossier["watch"].values())
        assert deadlines.wake(deps(), "000.00.24.H56-220316-9999") is None
        status, withdrawn = post(client, f"/v1/dossiers/{code}/actions", auth(CENTRE, "desk"),
                                 {"action": "withdraw", "version": dossier["version"], "reason": "Rút hồ sơ"})
        assert status == 200, withdrawn
        frozen_now(vn(2022, 6, 1, 9))
        assert deadlines.wake(deps(), code) is None


class RacingStore:
    """The dossier store, with an officer's change landing between the wake's read and its save `races` times."""

    def __init__(self, inner, races):
        self.inner, self.races, self.saves = inner, races, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def save(self, dossier, entry, expected_version):
        self.saves += 1
        if self.races > 0:
            self.races -= 1
            raise StaleVersion("an officer acted first", expected_version + 1)
        return self.inner.save(dossier, entry, expected_version)


def test_a_wake_that_loses_a_race_rereads_and_records_once_and_gives_up_after_a_few_tries(auth, frozen_now):
    with Client(app, stage_name="local") as client:
        frozen_now(vn(2022, 3, 17, 9))
        dossier = receive(client, auth, {**CRIMINAL_RECORD, "competent_unit": JUSTICE})
        code, due_soon = dossier["code"], at(dossier["watch"]["due_soon"])
    real = deps().dossiers
    racing = RacingStore(real, races=2)
    bootstrap.override(dossiers=racing, now=lambda: due_soon)
    try:
        deadlines.wake(deps(), code)
        stored = real.get(code, consistent=True)
        assert racing.saves == 3 and "due_soon" in stored.flags and stored.version == dossier["version"] + 1
        hopeless = RacingStore(real, races=99)
        bootstrap.override(dossiers=hopeless, now=lambda: due_soon + timedelta(days=30))
        try:
            deadlines.wake(deps(), code)
            raised = False
        except StaleVersion:
            raised = True
        assert raised and hopeless.saves == deadlines.WAKE_ATTEMPTS
    finally:
        bootstrap.override()


def test_a_pause_moves_the_watch_and_a_supplement_left_unanswered_is_flagged_for_the_desk(auth, frozen_now):
    desk = auth(CENTRE, "desk")
    with Client(app, stage_name="local") as client:
        frozen_now(vn(2022, 3, 21, 9))
        dossier = receive(client, auth, {**CRIMINAL_RECORD, "competent_unit": JUSTICE})
        code, running = dossier["code"], dossier["watch"]
        frozen_now(vn(2022, 3, 22, 9))
        status, paused = post(client, f"/v1/dossiers/{code}/actions", auth(JUSTICE, "processor"), {
            "action": "request_supplement", "version": 1, "missing_items": ["Bản chụp căn cước công dân"]})
        assert status == 200, paused
        # Paused: the due time no longer runs; only the applicant's 15 working days to supplement are watched.
        assert set(paused["watch"]) == {"supplement_overdue"}
        assert paused["watch_generation"] > dossier["watch_generation"]
        frozen_now(at(running["overdue"]) + timedelta(minutes=5))  # the old due time passes while paused
        sweep(client)
        status, still = get(client, f"/v1/dossiers/{code}", desk)
        assert still["flags"] == {} and still["version"] == paused["version"]
        deadline = at(paused["watch"]["supplement_overdue"])
        frozen_now(deadline)
        sweep(client)
        status, flagged = get(client, f"/v1/dossiers/{code}", desk)
        assert flagged["flags"] == {"supplement_overdue": paused["watch"]["supplement_overdue"]}
        deliver_events(code)
        status, listed = get(client, f"/v1/dossiers/{code}/notifications", desk)
        listed["items"] = [n for n in listed["items"] if n["template"] == "supplement_overdue"]
        assert [(n["template"], n["recipient"]) for n in listed["items"]] == [
            ("supplement_overdue", f"desk@{CENTRE}")]
        assert "dừng giải quyết hoặc trả lại" in listed["items"][0]["body"]


def test_the_digest_skips_abolished_units_and_lists_what_they_left_open_under_their_successor(auth):
    from datetime import date

    from chalicelib.adapters.calendar_data import national_settings
    from chalicelib.adapters.dynamodb.catalogue import CatalogueRepository
    from chalicelib.domain.catalogue import COMPETENT_UNIT, Procedure, Step, Unit
    from chalicelib.services.catalogue import Catalogue
    from tests.unit.demo import procedure

    province, district, ward = "000.00.00.T98", "000.10.30.T98", "000.11.30.T98"
    repo = CatalogueRepository()
    for unit in (Unit(province, "Tỉnh thử nghiệm", "province"),
                 Unit(district, "Huyện thử nghiệm", "district", province, successor=ward, valid_to=date(2025, 6, 30)),
                 Unit(ward, "Phường thử nghiệm", "commune", province, valid_from=date(2025, 7, 1))):
        repo.put_unit(unit)
    base = procedure("2.001417")
    repo.publish(Procedure.from_dict({
        **base.as_dict(), "code": "1.999702", "competent_units": [district, ward],
        "steps": [Step(s.name, COMPETENT_UNIT, s.role, s.budget).as_dict() for s in base.steps]}))
    catalogue = Catalogue(repo, national_settings)
    try:
        with Client(app, stage_name="local") as client:
            bootstrap.override(catalogue=catalogue, now=lambda: vn(2025, 6, 20, 10))
            status, left = post(client, "/v1/dossiers", auth(district, "desk"),
                                {**CRIMINAL_RECORD, "procedure_code": "1.999702", "competent_unit": district})
            assert status == 201, left
        morning = vn(2025, 7, 14, 7)  # after the reform, and after the dossier's due time
        bootstrap.override(catalogue=catalogue, now=lambda: morning)
        late = deadlines.digest(deps(), budget_seconds=-1)  # out of time before any unit: nothing half-done
        assert late["deferred"] >= 1 and late["units"] == 0 and deps().notifications.for_unit(ward, 5) == []
        report = deadlines.digest(deps(), workers=3)  # run again: it carries on
        # (The catalogue table holds the demo province too: its district abolished in 2025 counts here as well.)
        assert report["failed"] == 0 and report["abolished"] >= 1 and report["units"] >= 1
        latest = deps().notifications.for_unit(ward, 5)
        assert latest and latest[0]["template"] == "digest" and left["code"] in latest[0]["overdue"]
        assert deps().notifications.for_unit(district, 5) == []  # the abolished unit is told nothing
        again = deadlines.digest(deps(), workers=1)  # the same outcome one unit at a time, and no second digest
        assert again["units"] == report["units"] and len(deps().notifications.for_unit(ward, 5)) == 1
    finally:
        bootstrap.override()
