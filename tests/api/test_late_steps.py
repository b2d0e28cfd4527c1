"""Late steps stay listed where they were late: a step flagged overdue is recorded, in the transaction of the flag,
under the step's unit (and its officer), so `GET /v1/dossiers?step_overdue=true&unit=&officer=` lists it with one
Query after the dossier has moved on to another unit. And a filtered list page with fewer items than `limit` still
carries a cursor when more may follow. Dossiers in 2023 (see test_deadlines.py)."""

from collections import Counter
from datetime import datetime

from chalice.test import Client

from app import app
from chalicelib.bootstrap import deps
from chalicelib.services import deadlines
from tests.api.helpers import get, post
from tests.unit.calendars import vn
from tests.units import DONG_SON, LAND

LAND_USE = {"procedure_code": "1.004227", "channel": "direct", "applicant": {"name": "Lê Văn Cường"},
            "form": {"parcel": {"map_sheet": 45, "parcel_number": 123}, "area_m2": 200, "land_use": "ONT"}}


def _late_at_the_commune(client, auth, frozen_now, day: int, officer: str) -> str:
    """A land dossier whose first step (at the commune, held by `officer`) goes overdue, then is completed late:
    the dossier moves on to the land department."""
    frozen_now(vn(2023, 3, day, 9))
    status, dossier = post(client, "/v1/dossiers", auth(DONG_SON, "desk"), LAND_USE)
    assert status == 201, dossier
    code = dossier["code"]
    commune = auth(DONG_SON, "processor", sub=officer)
    status, assigned = post(client, f"/v1/dossiers/{code}/actions", commune, {"action": "assign", "version": 1})
    assert status == 200, assigned
    late_at = datetime.fromisoformat(assigned["watch"]["step_overdue:0"])
    frozen_now(late_at)
    deadlines.wake(deps(), code)
    status, flagged = get(client, f"/v1/dossiers/{code}", commune)
    assert "step_overdue:0" in flagged["flags"], flagged["flags"]
    status, moved = post(client, f"/v1/dossiers/{code}/actions", commune,
                         {"action": "complete_step", "version": flagged["version"]})
    assert status == 200 and moved["handling_unit"] == LAND, moved
    return code


def _codes(client, path, headers) -> list[str]:
    status, page = get(client, path, headers)
    assert status == 200, page
    return [i["code"] for i in page["items"]]


def test_a_late_step_stays_listed_under_its_unit_and_officer_after_the_dossier_moves_on(auth, frozen_now):
    leader = auth(DONG_SON, "leader")
    with Client(app, stage_name="local") as client:
        code = _late_at_the_commune(client, auth, frozen_now, 6, "cv.minh")
        status, page = get(client, f"/v1/dossiers?unit={DONG_SON}&step_overdue=true&limit=100", leader)
        assert status == 200, page
        mine = [i for i in page["items"] if i["code"] == code]
        assert len(mine) == 1
        step = mine[0]["late_steps"][0]
        assert (step["index"], step["unit"], step["officer"]) == (0, DONG_SON, "cv.minh")
        assert step["flagged_at"].endswith("+07:00") and step["name"].startswith("Xác nhận hiện trạng")
        assert mine[0]["procedure_code"] == "1.004227"
        assert code in _codes(client, f"/v1/dossiers?unit={DONG_SON}&step_overdue=true&officer=cv.minh", leader)
        assert code not in _codes(client, f"/v1/dossiers?unit={DONG_SON}&step_overdue=true&officer=cv.khac",
                                  leader)
        # Not the land department's lateness: it holds the dossier now, but its step is not late.
        assert code not in _codes(client, f"/v1/dossiers?unit={LAND}&step_overdue=true", auth(LAND, "leader"))
        status, mixed = get(client, f"/v1/dossiers?unit={DONG_SON}&step_overdue=true&status=in_progress", leader)
        assert status == 400 and mixed["error"]["details"][0]["field"] == "status"
        # The commune's officers may not read another unit's late steps.
        assert get(client, f"/v1/dossiers?unit={LAND}&step_overdue=true", leader)[0] == 403


def test_late_steps_page_latest_first_with_a_cursor_signed_for_the_unit_and_officer(auth, frozen_now):
    leader = auth(DONG_SON, "leader")
    with Client(app, stage_name="local") as client:
        codes = [_late_at_the_commune(client, auth, frozen_now, day, "cv.trang") for day in (13, 14, 15)]
        seen: list[str] = []
        path = f"/v1/dossiers?unit={DONG_SON}&step_overdue=true&officer=cv.trang&limit=2"
        status, page = get(client, path, leader)
        first_cursor = page["next_cursor"]
        while True:
            assert status == 200 and len(page["items"]) <= 2, page
            seen.extend(i["code"] for i in page["items"])
            if page["next_cursor"] is None:
                break
            status, page = get(client, f"{path}&cursor={page['next_cursor']}", leader)
        assert seen == codes[::-1]  # latest flagged first, each once
        # Signed for this unit and officer: refused on the unit's whole list, or another officer's.
        for other in (f"/v1/dossiers?unit={DONG_SON}&step_overdue=true&limit=2",
                      f"/v1/dossiers?unit={DONG_SON}&step_overdue=true&officer=cv.minh&limit=2"):
            status, refused = get(client, f"{other}&cursor={first_cursor}", leader)
            assert status == 400 and refused["error"]["details"][0]["field"] == "cursor"


def test_the_late_step_rides_in_the_flags_transaction_and_is_listed_with_one_query(auth, frozen_now, calls):
    with Client(app, stage_name="local") as client:
        frozen_now(vn(2023, 3, 20, 9))
        status, dossier = post(client, "/v1/dossiers", auth(DONG_SON, "desk"), LAND_USE)
        code = dossier["code"]
        status, assigned = post(client, f"/v1/dossiers/{code}/actions", auth(DONG_SON, "processor", sub="cv.ha"),
                                {"action": "assign", "version": 1})
        frozen_now(datetime.fromisoformat(assigned["watch"]["step_overdue:0"]))
        calls.clear()
        deadlines.wake(deps(), code)
        assert calls["TransactWriteItems"] == 1 and calls["put:late-steps"] == 1 and calls["put:dossiers"] == 1
        assert calls["GetItem"] == 1  # the consistent re-read; nothing else
        deadlines.wake(deps(), code)  # nothing more to record: no second late step
        calls.clear()
        items, _cursor = deps().dossiers.late_steps(DONG_SON, "cv.ha", 100, None)
        assert [i["code"] for i in items] == [code]
        assert calls == Counter({"Query": 1})


def test_a_filtered_page_shorter_than_limit_still_has_a_cursor_when_more_may_follow(auth, frozen_now):
    desk = auth(DONG_SON, "desk")
    with Client(app, stage_name="local") as client:
        frozen_now(vn(2023, 4, 3, 9))
        for _ in range(3):
            assert post(client, "/v1/dossiers", desk, LAND_USE)[0] == 201
        # The tracking book's index does not key status: it is a filter, which here leaves nothing on a page.
        # The day's dossiers only: other tests leave returned dossiers at this unit on other days.
        path = (f"/v1/dossiers?unit={DONG_SON}&view=received&status=returned&limit=2"
                "&received_from=2023-04-03&received_to=2023-04-03")
        status, page = get(client, path, desk)
        assert status == 200 and page["items"] == [] and page["next_cursor"] is not None
        pages = 1
        while page["next_cursor"] is not None and pages < 50:
            status, page = get(client, f"{path}&cursor={page['next_cursor']}", desk)
            assert status == 200 and page["items"] == []
            pages += 1
        assert page["next_cursor"] is None  # the end is reached, and said
