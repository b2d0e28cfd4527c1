from chalicelib.adapters.calendar_data import national_settings
from chalicelib.domain.catalogue import Unit
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
