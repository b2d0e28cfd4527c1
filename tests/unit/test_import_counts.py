"""An import's counters, summed per dossier and per key (domain/import_counts.py), are what the statistics consumer
books for the same events one by one, in whatever order a queue delivers them (adapters/dynamodb/stats.py `apply`:
each booking, and the overdue interval closed by whichever of its two facts comes second)."""

import random
from typing import Any

import pytest

from chalicelib.domain.counting import all_rollups, booking, counting_units, overdue_closing
from chalicelib.domain.import_counts import dossier_counts, packed, summed
from tests.unit.test_importing import HAC_THANH, TREE, build, row

LATE = row(code=f"{HAC_THANH}-240312-0008", unit_code=HAC_THANH, finished_at="2024-03-20 10:00",
           history=[{"status": "received", "at": "2024-03-12 09:00"},
                    {"status": "in_progress", "at": "2024-03-12 10:00"},
                    {"status": "resolved", "at": "2024-03-20 10:00"}, {"status": "returned", "at": "2024-03-21 08:00"}])
OPEN_OVERDUE = row(code=f"{HAC_THANH}-240312-0009", unit_code=HAC_THANH, finished_at=None,
                   history=[{"status": "received", "at": "2024-03-12 09:00"},
                            {"status": "in_progress", "at": "2024-03-12 10:00"}])
WITHDRAWN = row(code=f"{HAC_THANH}-240312-0010", unit_code=HAC_THANH, finished_at="2024-03-13 10:00",
                history=[{"status": "received", "at": "2024-03-12 09:00"},
                         {"status": "withdrawn", "at": "2024-03-13 10:00"}])
CASES = {"early, abolished district": row(), "late": LATE, "open and overdue": OPEN_OVERDUE, "withdrawn": WITHDRAWN}


def consumer(events: list[Any], units: Any, seed: int) -> tuple[dict, dict]:
    """The consumer's path in memory: each event's booking applied alone, in a shuffled order, with the life
    item's two facts (flagged, ended) as the store keeps them."""
    out: dict = {}
    life: dict[str, Any] = {}
    order = list(events)
    random.Random(seed).shuffle(order)
    for event in order:
        book = booking(event, units)
        for key, r in book.increments.items():
            for column, n in r.items():
                out.setdefault(key, {}).setdefault(column, 0)
                out[key][column] += n
        for key in overdue_closing(book, bool(life.get("flagged")), life.get("ended")):
            out.setdefault(tuple(key), {}).setdefault("overdue", 0)
            out[tuple(key)]["overdue"] -= 1
        if book.flags_overdue:
            life["flagged"] = 1
        elif book.ends is not None:
            life["ended"] = book.ends
    clean = {k: {c: n for c, n in r.items() if n} for k, r in out.items()}
    return {k: r for k, r in clean.items() if r}, life


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("seed", range(4))
def test_a_dossiers_summed_counters_are_the_consumers_bookings_in_any_order(name, seed):
    built = build(CASES[name])
    d = built.dossier
    events = d.take_events()
    units = counting_units(d.receiving_unit, d.competent_unit, d.imported, TREE)
    counts = dossier_counts(d.code, events, units, still_open=not d.status.is_closed)
    expected, life = consumer(events, units, seed)
    assert counts.increments == expected
    assert counts.life_flagged == (bool(life.get("flagged")) and "ended" not in life and not d.status.is_closed)


def test_an_open_overdue_dossier_leaves_its_interval_open_for_its_live_end():
    built = build(OPEN_OVERDUE)
    d = built.dossier
    counts = dossier_counts(d.code, d.take_events(), None, still_open=True)
    assert counts.life_flagged
    assert sum(r.get("overdue", 0) for r in counts.increments.values()) == 3  # all, field, procedure: +1 each


def test_packed_groups_fit_a_transaction_and_write_each_key_once_with_the_sum():
    counts = []
    for n in range(60):
        built = build(row(code=f"{HAC_THANH}-240312-{1000 + n}", unit_code=HAC_THANH))
        d = built.dossier
        counts.append(dossier_counts(d.code, d.take_events(), None, still_open=False))
    groups = packed(counts, 100)
    assert all(g.items <= 100 for g in groups) and sum(len(g.codes) for g in groups) == 60
    whole = summed(counts)
    assert len(groups) < 60 and whole.rollup == all_rollups(whole.daily)
    for key, r in whole.daily.items():  # the same day for all: shared keys carry the sum
        assert sum(g.daily.get(key, {}).get("received", 0) for g in groups) == r.get("received", 0)
