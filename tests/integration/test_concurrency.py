"""20 officers act on one dossier at the same version at once: exactly one wins."""

from concurrent.futures import ThreadPoolExecutor

from chalicelib.bootstrap import deps
from chalicelib.domain.dossier import Actor
from chalicelib.domain.errors import StaleVersion
from chalicelib.services.actions import perform_action
from chalicelib.services.intake import receive_dossier
from tests.api.helpers import CRIMINAL_RECORD
from tests.units import CENTRE, JUSTICE


def test_parallel_actions_at_one_version_let_exactly_one_through():
    desk = Actor("desk.lan", CENTRE, frozenset({"desk"}))
    code = receive_dossier(deps(), desk, CRIMINAL_RECORD)["code"]
    officers = [Actor(f"cv.{i:02d}", JUSTICE, frozenset({"processor"})) for i in range(20)]

    def attempt(officer: Actor) -> str:
        try:
            perform_action(deps(), officer, code, {"action": "assign", "version": 1})
            return "ok"
        except StaleVersion:
            return "stale"

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(attempt, officers))
    assert outcomes.count("ok") == 1 and outcomes.count("stale") == 19
    dossier = deps().dossiers.get(code, consistent=True)
    history = deps().dossiers.history(code)
    assert dossier.version == 2 and [h.seq for h in history] == [1, 2]
    assert history[1].officer == dossier.steps[0].assignee


def test_parallel_intakes_at_one_desk_get_distinct_consecutive_codes():
    desk = Actor("desk.rush", "000.00.15.H56", frozenset({"desk"}))
    body = {"procedure_code": "1.009994", "channel": "direct", "applicant": {"name": "Phạm Thị Dung"},
            "form": {"site_address": "Lô 12, phường Hạc Thành", "floors": 3, "floor_area_m2": 240.5}}
    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(lambda _: receive_dossier(deps(), desk, body)["code"], range(30)))
    assert len(set(codes)) == 30
    numbers = sorted(int(c.rsplit("-", 1)[1]) for c in codes)
    assert numbers == list(range(numbers[0], numbers[0] + 30))
