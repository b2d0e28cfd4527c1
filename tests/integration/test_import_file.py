"""`make import`'s work on DynamoDB Local: a generated export with bad rows of several kinds imported, its rejects
file written with line numbers and reasons, the reconciliation balanced; the same file again adds nothing; NDJSON;
abolished units mapped; the live intake's daily counter moved past an imported code of today."""

import csv
import json
import random
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.adapters.dynamodb.models import CounterModel, DossierModel, HistoryModel, OutboxModel
from chalicelib.bootstrap import deps
from chalicelib.domain.codes import sequence_name
from chalicelib.services.importer import Importer, read_csv
from scripts.import_dossiers import import_file
from scripts.make_import_sample import Generator, write
from tests.units import HAC_THANH

RUN = random.randrange(100, 999)


def generated(path: Path, rows: int, seed: int, bad: float) -> list[dict[str, Any]]:
    """Rows of the sample generator, their codes made this run's and this seed's own (the database lives for the
    session, and another row under a stored code is refused)."""
    out = []
    for row in Generator(seed).rows(rows, bad):
        unit, day, seq = row["code"].rsplit("-", 2)
        out.append({**row, "code": f"{unit}-{day}-{RUN}{seed % 100:02d}{seq}"})  # 9 digits at most
    write(path, iter(out))
    return out


def stored(codes: set[str]) -> dict[str, tuple[int, int]]:
    """Each stored code with the number of its control-sheet lines and of its outbox items (none: an import's
    events are not queued)."""
    found = {item.code for item in DossierModel.batch_get(list(codes), attributes_to_get=["code"])}
    return {c: (len(list(HistoryModel.query(c, consistent_read=True))),
                len(list(OutboxModel.query(c, consistent_read=True)))) for c in found}


@pytest.fixture(scope="module")
def first_and_again(tmp_path_factory):
    path = tmp_path_factory.mktemp("import") / "old-system.csv"
    rows = generated(path, 300, seed=41, bad=0.15)
    first = import_file(deps(), path, "MotCua-2019", workers=4, chunk=20, progress=False)
    rejects = path.with_name(path.name + ".rejects.csv").read_text(encoding="utf-8")
    codes = {r["code"] for r in rows}
    before = stored(codes)
    again = import_file(deps(), path, "MotCua-2019", workers=4, chunk=20, progress=False)
    return path, rows, first, again, rejects, before, stored(codes)


def test_the_reconciliation_balances_and_bad_rows_of_every_kind_are_rejected(first_and_again):
    _, rows, (tally, rejects_path), _, rejects, _, _ = first_and_again
    assert tally.read == len(rows) == tally.imported + tally.duplicates + tally.rejected and tally.balanced
    assert tally.imported > 200 and tally.duplicates > 0 and tally.rejected > 10
    lines = list(csv.DictReader(rejects.splitlines()))
    assert len(lines) == tally.rejected and rejects_path is not None
    reasons = " ".join(line["reasons"] for line in lines)
    for words in ("procedure_code: no procedure 9.999999", "received_at: an ISO 8601", "is not a step of the lifecycle",
                  "unit_code: no unit 000.99.99.H56", "applicant.name: required", "before the previous line"):
        assert words in reasons, words


def test_each_rejected_row_names_its_line_in_the_file(first_and_again):
    path, _, _, _, rejects, _, _ = first_and_again
    with path.open(encoding="utf-8", newline="") as stream:
        by_line = {line: raw for line, raw, _, _ in read_csv(stream)}
    for reject in csv.DictReader(rejects.splitlines()):
        assert by_line[int(reject["line"])]["code"] == reject["code"]


def test_the_same_file_again_adds_nothing(first_and_again):
    _, _, (first, _), (again, _), _, before, after = first_and_again
    assert (again.read, again.imported, again.rejected) == (first.read, 0, first.rejected)
    assert again.duplicates == first.imported + first.duplicates and again.balanced
    assert after == before and len(before) == first.imported  # not one dossier nor line more
    assert all(lines > 0 and events == 0 for lines, events in before.values())


def test_an_abolished_districts_dossiers_are_its_successors_with_their_origin_kept(first_and_again):
    _, rows, _, _, _, before, _ = first_and_again
    district = [r["code"] for r in rows if r["unit_code"] == "000.20.30.H56" and r["code"] in before]
    assert district
    dossier = deps().dossiers.get(district[0], consistent=True)
    assert dossier is not None and dossier.receiving_unit == HAC_THANH
    assert dossier.imported and dossier.imported["original_receiving_unit"] == "000.20.30.H56"


def test_ndjson_rows_and_unreadable_lines(tmp_path):
    path = tmp_path / "old-system.ndjson"
    rows = generated(path, 30, seed=42, bad=0)
    with path.open("a", encoding="utf-8") as stream:
        stream.write("{not json\n\n[1, 2]\n")
    (tally, rejects) = import_file(deps(), path, "MotCua-2019", workers=2, chunk=7, progress=False)
    assert (tally.read, tally.rejected, tally.balanced) == (len(rows) + 2, 2, True)
    assert tally.imported + tally.duplicates == len(rows)
    lines = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [(r["line"], r["reasons"][0]["field"]) for r in sorted(lines, key=lambda r: r["line"])] == [
        (len(rows) + 1, "line"), (len(rows) + 3, "line")]


def test_an_imported_code_of_today_moves_the_live_intakes_counter_past_it():
    base = deps()
    now = base.now()
    day = base.catalogue.calendar_for(HAC_THANH).local(now).date()
    received = (now - timedelta(minutes=5)).isoformat()
    code = f"{HAC_THANH}-{day:%y%m%d}-{RUN}950"
    row = {"code": code, "procedure_code": "1.004873", "unit_code": HAC_THANH, "channel": "direct",
           "applicant": {"name": "Đỗ Minh Sơn"}, "received_at": received,
           "due_at": (now + timedelta(days=5)).isoformat(),
           "history": [{"status": "received", "at": received}]}
    results: list = []
    Importer(replace(base, now=lambda: now), "MotCua-2019").run([(1, row, row, [])], results.append)
    assert results[0].outcome == "imported", results[0].problems
    counter = CounterModel.get(sequence_name(HAC_THANH, day), consistent_read=True)
    assert int(counter.value) >= int(f"{RUN}950")


def test_a_claim_on_a_code_already_stored_writes_nothing_of_that_dossier(tmp_path):
    """What a race between two imports of one code looks like to the later one (its batch read saw nothing): its
    conditional put loses, and nothing else of the dossier is written by it."""
    base = deps()
    runner = Importer(base, "MotCua-2019")
    rows = generated(tmp_path / "race.ndjson", 3, seed=43, bad=0)

    def built(row):
        from chalicelib.domain.importing import parse_row

        return runner._build(parse_row(row, runner.now)).dossier

    assert [base.dossiers.claim_imported(built(r)) for r in rows] == [True, True, True]
    assert [base.dossiers.claim_imported(built(r)) for r in rows] == [False, False, False]
    assert stored({r["code"] for r in rows}) == {r["code"]: (0, 0) for r in rows}  # only the claims


def test_the_command_exits_0_when_it_balances_and_2_when_the_file_cannot_be_imported(tmp_path, capsys):
    from scripts.import_dossiers import main

    good = tmp_path / "good.csv"
    generated(good, 5, seed=44, bad=0)
    assert main([str(good), "--source", "MotCua-2019", "--workers", "2"]) == 0
    assert ": balanced" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("code,procedure_code\n000.21.30.H56-240101-0001,1.004873\n", encoding="utf-8")
    assert main([str(bad)]) == 2
    assert "missing" in capsys.readouterr().err
    assert main([str(tmp_path / "none.csv")]) == 2


def test_a_file_not_in_utf8_stops_with_a_message_saying_so(tmp_path, capsys):
    from scripts.import_dossiers import main

    legacy = tmp_path / "cp1258.csv"
    legacy.write_bytes(b"code,procedure_code,unit_code,channel,applicant_name,history\n"
                       + "000.21.30.H56-240101-0001,1.004873,000.21.30.H56,direct,Tr\xe2\xf2n,[]\n".encode("latin-1"))
    assert main([str(legacy)]) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_a_code_already_used_by_another_dossier_is_rejected_not_counted_as_a_duplicate(tmp_path):
    """Only the very same row is a duplicate: another row under a stored code (a dossier received here, or imported
    from a different row), or a second different row of the file under one code, is refused and said."""
    rows = generated(tmp_path / "first.csv", 6, seed=7, bad=0.0)
    first, _ = import_file(deps(), tmp_path / "first.csv", "MotCua-2019", workers=1, chunk=10, progress=False)
    assert first.imported == len({r["code"] for r in rows}) and first.rejected == 0
    def recoded(row: dict[str, Any], last: str) -> dict[str, Any]:
        return {**row, "code": row["code"][:-1] + (last if row["code"][-1] != last else "0")}

    changed = {**rows[0], "applicant": {**rows[0]["applicant"], "name": "Người Khác"}}  # a stored code
    fresh, pair = recoded(rows[2], "9"), recoded(rows[4], "8")
    other = {**pair, "channel": "postal" if pair["channel"] != "postal" else "direct"}  # the same new code
    write(tmp_path / "second.csv", iter([changed, rows[3], fresh, pair, other]))
    second, rejects = import_file(deps(), tmp_path / "second.csv", "MotCua-2019", workers=1, chunk=10,
                                  progress=False)
    assert (second.imported, second.duplicates, second.rejected) == (2, 1, 2) and second.balanced
    assert rejects is not None
    reasons = {line["code"]: line["reasons"]
               for line in csv.DictReader(rejects.read_text(encoding="utf-8").splitlines())}
    assert "already used by another dossier" in reasons[rows[0]["code"]]
    assert "twice in the file with different contents" in reasons[pair["code"]]


def test_the_live_counter_never_goes_past_the_code_format():
    """Whatever moved it (an import, an operator), the counter of new codes refuses to draw a number no route
    accepts: the intake is refused with 409, not given a code of ten digits."""
    from chalicelib.domain.codes import MAX_SEQUENCE
    from chalicelib.domain.errors import SequenceExhausted

    name = f"dossier#{HAC_THANH}#99{RUN:04d}"
    base = deps()
    base.dossiers.raise_sequence(name, MAX_SEQUENCE - 1)
    assert base.dossiers.next_sequence(name) == MAX_SEQUENCE
    with pytest.raises(SequenceExhausted):
        base.dossiers.next_sequence(name)
    assert int(CounterModel.get(name, consistent_read=True).value) == MAX_SEQUENCE
    with pytest.raises(ValueError):
        base.dossiers.raise_sequence(name, MAX_SEQUENCE + 1)
