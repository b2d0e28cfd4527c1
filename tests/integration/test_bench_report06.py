"""`make bench`'s report06 section runs end to end at a tiny size (not timed): a year of dossiers loaded through
the domain and the statistics consumer's booking, report 06 from the counters equal to its recomputation from the
dossiers for both periods, and reconciliation finding no difference (scripts/bench_report06.py asserts both)."""

import os

from scripts import bench_report06


def test_the_report06_bench_runs_at_a_tiny_size_and_its_two_reports_agree():
    result = bench_report06.in_child(
        endpoint=os.environ["AWS_ENDPOINT_URL_DYNAMODB"],  # the session's server, under a table prefix of its own
        environment={"MOTCUA_BENCH_REPORT06_DOSSIERS": "150", "MOTCUA_BENCH_REPORT06_UNITS": "3",
                     "MOTCUA_BENCH_REPORT06_RUNS": "1", "MOTCUA_BENCH_REPORT06_WORKERS": "2"})
    assert result["dossiers"] == 150 and result["units"] == 3
    assert set(result["periods"]) == {"year", "month"}
    year, month = result["periods"]["year"], result["periods"]["month"]
    assert year["total"]["received"]["total"] + year["total"]["not_accepted"] == 150  # every dossier counted once
    assert month["total"]["received"]["total"] < year["total"]["received"]["total"]
    for period in (year, month):
        assert period["differences"] == 0
        assert 0 < period["counters"]["rcu"] < period["dossiers"]["rcu"]
        assert period["dossiers"]["calls"]["GetItem"] == 2 * 150  # every dossier and its portal sync state, once
        assert period["daily_items_read_before_rollups"]["items"] > 0
    assert result["load"]["rollup_items"] > 0 and result["load"]["daily_counter_items"] > 0
