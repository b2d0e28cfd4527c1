"""Decision 766 indicators, scores, bands and ranks (domain/quality_index.py): hand-computed cases."""

import pytest

from chalicelib.domain import quality_index as qi
from chalicelib.domain.quality_index import Entry, Figures


def test_the_on_time_share_counts_finished_in_time_and_open_within_deadline_over_all_processed():
    # 10 resolved (6 early, 2 on time, 2 late, late by Decision 766's working time too) + 5 open at the end
    # (1 overdue): (8 + 4) / 15.
    f = Figures(resolved=10, early=6, on_time=2, late=2, resolved_late_766=2, in_progress=5, overdue=1)
    assert f.processed == 15 and f.finished_in_time == 8 and f.open_in_time == 4
    assert qi.on_time_share(f) == pytest.approx(12 / 15)


def test_a_supplement_asked_outside_the_law_counts_late_finished_or_open():
    # Of the 8 finished in time, 1 had a second supplement request; of the 4 open within deadline, 1 too.
    f = Figures(resolved=10, early=6, on_time=2, late=2, resolved_late_766=2, resolved_supplement_late=1,
                in_progress=5, overdue=1, open_supplement_late=1)
    assert f.finished_in_time == 7 and f.open_in_time == 3
    assert qi.on_time_share(f) == pytest.approx(10 / 15)


def test_finished_in_time_follows_the_agencys_working_time_not_the_laws_restart():
    # 4 resolved early by the law, 1 of them after a supplement restart that took the agency past the original
    # limit; 1 late by the law only because of... nothing: late by both. 2 in time of 5.
    f = Figures(resolved=5, early=4, late=1, resolved_late_766=2, resolved_supplement_late=1)
    assert f.finished_in_time == 2 and qi.on_time_share(f) == pytest.approx(2 / 5)
    # Late by the law, within the original limit by the agency's working time (the applicant's pauses left out).
    assert Figures(resolved=1, late=1).finished_in_time == 1


def test_nothing_processed_or_received_has_no_share_rather_than_zero():
    assert qi.on_time_share(Figures()) is None and qi.online_share(Figures()) is None
    assert qi.indicators(Figures(received=3, received_online=1)) == {"on_time": None, "online": 0.3333}


def test_the_score_weighs_the_indicators_with_a_value_by_their_points():
    points = {"on_time": 20.0, "online": 22.0}
    # 20 * 0.9 + 22 * 0.5 = 29 of 42 points: 69.05 on 100.
    assert qi.score({"on_time": 0.9, "online": 0.5}, points) == 69.05
    # Without an online share (nothing received at the unit's desk) the on-time share alone decides.
    assert qi.score({"on_time": 0.9, "online": None}, points) == 90.0
    assert qi.score({"on_time": None, "online": None}, points) is None
    assert qi.score({"on_time": 0.9, "online": 0.5}, {"on_time": 1.0, "online": 0.0}) == 90.0


@pytest.mark.parametrize("value, expected", [
    (100.0, "excellent"), (90.0, "excellent"), (89.99, "good"), (80.0, "good"), (79.99, "fair"), (65.0, "fair"),
    (64.99, "average"), (50.0, "average"), (49.99, "weak"), (0.0, "weak"),
])
def test_band_edges_belong_to_the_band_above(value, expected):
    assert qi.band(value) == expected


def test_configured_band_floors():
    assert qi.band(70.0, (95.0, 85.0, 75.0, 70.0)) == "average"
    assert qi.band(69.0, (95.0, 85.0, 75.0, 70.0)) == "weak"


def test_ties_share_a_rank_the_next_one_skips_and_the_order_is_stable():
    entries = [Entry("U.D", 40, 80.0), Entry("U.A", 12, 95.5), Entry("U.C", 30, 80.0), Entry("U.B", 30, 80.0),
               Entry("U.E", 50, 70.25)]
    ranked, apart = qi.rank(entries, min_dossiers=10)
    assert [(place, e.unit) for place, e in ranked] == [(1, "U.A"), (2, "U.D"), (2, "U.B"), (2, "U.C"), (5, "U.E")]
    assert apart == []
    assert qi.rank(list(reversed(entries)), min_dossiers=10) == (ranked, apart)


def test_units_under_the_minimum_sample_or_without_a_score_are_listed_apart():
    entries = [Entry("U.A", 9, 100.0), Entry("U.B", 10, 50.0), Entry("U.C", 0, None), Entry("U.D", 3, 20.0)]
    ranked, apart = qi.rank(entries, min_dossiers=10)
    assert [(place, e.unit) for place, e in ranked] == [(1, "U.B")]
    assert [e.unit for e in apart] == ["U.A", "U.D", "U.C"]  # most dossiers first


def test_figures_from_counters_ignore_unknown_columns():
    f = Figures.from_counts({"received": 2, "open": 5, "in_progress": 1})
    assert f.received == 2 and f.in_progress == 1
