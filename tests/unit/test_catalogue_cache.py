from datetime import date, datetime
from zoneinfo import ZoneInfo

from chalicelib.adapters.calendar_data import national_settings
from chalicelib.domain.calendar import CalendarSettings
from chalicelib.domain.catalogue import Procedure, Unit
from chalicelib.services.catalogue import Catalogue
from tests.unit.demo import procedure


class CountingStore:
    def __init__(self):
        self.reads = 0
        self.current = procedure("2.001417")

    def units(self):
        self.reads += 1
        return [Unit("H56", "Tỉnh", "province")]

    def procedures(self):
        return [self.current]

    def procedure(self, code, version=None):
        self.reads += 1
        return self.current if version in (None, self.current.version) else None


def test_current_procedure_and_tree_are_reread_only_after_the_ttl():
    clock = [0.0]
    store = CountingStore()
    catalogue = Catalogue(store, national_settings, ttl_seconds=60, monotonic=lambda: clock[0])
    for _ in range(5):
        catalogue.procedure("2.001417")
        catalogue.tree()
    assert store.reads == 2
    clock[0] = 61
    catalogue.procedure("2.001417")
    catalogue.tree()
    assert store.reads == 4
    catalogue.procedure("2.001417", version=1)  # a published version never changes: no read
    assert store.reads == 4



def test_calendar_for_a_procedure_applies_its_online_cutoff_setting():
    received = datetime(2026, 3, 16, 15, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    catalogue = Catalogue(CountingStore(), national_settings)
    province = catalogue.calendar_for("H56")
    assert catalogue.calendar_for("H56", procedure("2.001417")) is province  # no setting: the province decides
    assert province.clock_start(received, "online") == received

    certify = procedure("2.000815")  # intake_cutoff_online: true in the demo catalogue
    calendar = catalogue.calendar_for("H56", certify)
    assert calendar.clock_start(received, "online").date() == date(2026, 3, 17)
    assert calendar.settings.version != province.settings.version  # the rule applied is stamped on due times


def test_a_procedure_may_exempt_online_submissions_from_a_province_cutoff():
    received = datetime(2026, 3, 16, 15, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    strict = CalendarSettings.from_dict({"cutoff_channels": ["direct", "postal", "online"]}, national_settings())
    catalogue = Catalogue(CountingStore(), lambda: strict)
    lenient = Procedure.from_dict({**procedure("2.000815").as_dict(), "intake_cutoff_online": False})
    assert catalogue.calendar_for("H56").clock_start(received, "online").date() == date(2026, 3, 17)
    assert catalogue.calendar_for("H56", lenient).clock_start(received, "online") == received
    assert catalogue.calendar_for("H56", lenient).clock_start(received, "direct").date() == date(2026, 3, 17)
