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
    assert qi.indicators(Figures(received=3, received_online=1))["online"] is None  # no procedure offered online


def test_a_group_without_data_is_not_measured_and_never_rescaled():
    # The two communes: today one 100% on time with nothing online scored 47.62 "Yếu", and one 50% on
    # time, all online, 76.19 "Khá". The points earned are out of 100, as the national index's.
    points = dict(qi.DEFAULT_POINTS)
    on_time_only = qi.index({"on_time": 1.0, "online": 0.0}, points)
    all_online = qi.index({"on_time": 0.5, "online": 1.0}, points)
    assert on_time_only["score"] == 20.0 and all_online["score"] == 16.0  # 20 x 0.5 + 6 (full at >= 50%)
    assert on_time_only["measured_points"] == 26.0 and on_time_only["complete"] is False
    groups = {g["group"]: g for g in on_time_only["groups"]}
    assert [(g, groups[g]["points"]) for g in groups] == [
        ("transparency", 18.0), ("progress", 20.0), ("online_service", 12.0), ("online_payment", 10.0),
        ("satisfaction", 18.0), ("digitisation", 22.0)]
    assert groups["online_payment"]["status"] == "not_measured" and groups["online_payment"]["earned"] is None
    assert groups["online_service"]["status"] == "partial"  # 3.3 measured, 3.1 and 3.2 not
    assert on_time_only["not_measured_groups"] == ["transparency", "online_payment", "satisfaction",
                                                   "digitisation"]


def test_each_indicator_earns_by_its_official_rule():
    assert qi.earned("online", 0.25, 6.0) == 3.0  # full at 50%: pro rata below
    assert qi.earned("online_procedures", 0.9, 2.0) == 2.0 and qi.earned("online_procedures", 0.4, 2.0) == 1.0
    assert qi.earned("on_time", 0.9, 20.0) == 18.0 and qi.earned("sync", None, 6.0) is None
    cat = qi.Catalogue(procedures=10, offered=4, used=1, received_offered=8, online_offered=2)
    values = qi.indicators(Figures(resolved=4, early=4), sync=0.5, catalogue=cat)
    assert values == {"sync": 0.5, "on_time": 1.0, "online_procedures": 0.4, "online_used": 0.25,
                      "online": 0.125}  # 2/8 online x the sync share
    assert qi.score({"on_time": None, "online": None}, dict(qi.DEFAULT_POINTS)) is None


@pytest.mark.parametrize("value, expected", [
    (100.0, "excellent"), (90.0, "excellent"), (89.99, "good"), (80.0, "good"), (79.99, "fair"), (70.0, "fair"),
    (69.99, "average"), (50.0, "average"), (49.99, "weak"), (0.0, "weak"),
])
def test_band_edges_belong_to_the_band_above(value, expected):
    got = qi.band(value)
    assert got is not None and got.key == expected and got.label == qi.BAND_LABELS[expected]


def test_two_bands():
    bands = (qi.Band("pass", 50.0, "Đạt"), qi.Band("fail", 0.0, "Chưa đạt"))
    assert [getattr(qi.band(v, bands), "label", None) for v in (100.0, 50.0, 49.99, 0.0)] == [
        "Đạt", "Đạt", "Chưa đạt", "Chưa đạt"]


def test_six_bands_in_any_order():
    bands = tuple(qi.Band(k, f, k.upper()) for k, f in (
        ("f", 0.0), ("a", 95.0), ("b", 85.0), ("c", 75.0), ("d", 60.0), ("e", 40.0)))
    got = [qi.band(v, bands).key for v in (95.0, 94.99, 85.0, 80.0, 75.0, 60.0, 59.0, 40.0, 39.99, 0.0)]
    assert got == ["a", "b", "b", "c", "c", "d", "e", "e", "f", "f"]


def test_below_the_lowest_floor_no_band():
    assert qi.band(10.0, (qi.Band("good", 50.0, "Tốt"),)) is None


def test_the_default_bands_are_the_cited_legend_and_say_so():
    assert [(b.key, b.floor) for b in qi.DEFAULT_BANDS] == [
        ("excellent", 90.0), ("good", 80.0), ("fair", 70.0), ("average", 50.0), ("weak", 0.0)]
    assert "Thanh Hóa" in qi.BANDS_SOURCE["source"] and qi.BANDS_SOURCE["status"].startswith("unconfirmed")


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


def test_refusals_withdrawals_and_stops_after_receipt_are_in_the_on_time_denominator():
    """2.1: (finished on time + open within deadline) / processed, a dossier finished at its result or else at
    its refusal, stop or withdrawal (../shared/DECISION-766.md): 2 resolved early, 1 refused in time, 1 withdrawn
    after its due time, 1 open within its deadline: (2 + 1 + 1) / 5."""
    f = Figures(resolved=2, early=2, ended_766=2, ended_late_766=1, in_progress=1)
    assert f.processed == 5 and f.finished_in_time == 3 and qi.on_time_share(f) == 0.8
