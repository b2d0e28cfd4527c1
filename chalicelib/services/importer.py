"""Importing an old one-stop system's dossiers: rows checked, built and written in bulk (docs/import.md).

The rows come from a stream (`read_csv`, `read_ndjson`: one row at a time, never the whole file) and are handled in
chunks by a bounded pool of threads. Per chunk: every row is checked and built (domain/importing.py); one
BatchGetItem finds the codes already stored (a file imported again costs reads only). Each new dossier is claimed
by a conditional put of its item (only the winner writes anything else of it); its control sheet, its portal sync
on the history lane and the history webhooks follow in bulk; its historical events are never queued: report 06's
counters they stand for are summed per key over a window of dossiers and applied with one guard per dossier, last
(domain/import_counts.py), so a run that stops anywhere is finished by the next run of the same file. Every row
ends as exactly one of imported, duplicate or rejected, so rows read = imported + duplicates + rejected.
"""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from ..domain import portal
from ..domain.codes import DOSSIER_CODE, sequence_name
from ..domain.counting import counting_units
from ..domain.dossier import Dossier, HistoryEntry
from ..domain.errors import FieldProblem, InvalidInput, NotFound
from ..domain.events import DomainEvent
from ..domain.import_counts import DossierCounts, dossier_counts
from ..domain.importing import (
    FIELDS,
    LOCAL_ZONE,
    MAX_SOURCE,
    ImportRow,
    RowRejected,
    build_imported,
    parse_row,
    text_problem,
)
from . import webhooks
from .deps import Deps

IMPORTED, DUPLICATE, REJECTED = "imported", "duplicate", "rejected"
CSV_COLUMNS = ("code", "procedure_code", "unit_code", "competent_unit_code", "channel", "applicant_name",
               "applicant_id_number", "applicant_phone", "applicant_email", "received_at", "due_at", "finished_at",
               "history")
REQUIRED_CSV = ("code", "procedure_code", "unit_code", "channel", "applicant_name", "history")
MAX_LINE_BYTES = 64 * 1024  # one exported dossier; a longer line is rejected, not read into memory whole


@dataclass
class RowResult:
    line: int  # 1-based line of the file (the CSV header is line 1), or the index of an API row
    outcome: str  # imported | duplicate | rejected
    code: str | None = None
    problems: list[FieldProblem] = field(default_factory=list)
    raw: Any = None  # the row as read, for the rejects file
    completed: bool = False  # a duplicate whose earlier import had stopped between its steps: finished now

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "code": self.code, "outcome": self.outcome,
                "problems": [p.as_dict() for p in self.problems]}


@dataclass
class Tally:
    read: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    completed: int = 0  # of the duplicates, those an earlier run had left unfinished (its counters): done now

    def add(self, result: RowResult) -> None:
        self.read += 1
        self.completed += result.completed
        if result.outcome == IMPORTED:
            self.imported += 1
        elif result.outcome == DUPLICATE:
            self.duplicates += 1
        else:
            self.rejected += 1

    @property
    def balanced(self) -> bool:
        return self.read == self.imported + self.duplicates + self.rejected

    def as_dict(self) -> dict[str, Any]:
        return {"read": self.read, "imported": self.imported, "duplicates": self.duplicates,
                "rejected": self.rejected, "balanced": self.balanced}


# A row as read: its line and either its fields (NDJSON shape) or why it could not even be read.
Read = tuple[int, Any, dict[str, Any] | None, list[FieldProblem]]


def check_source(source: str) -> str:
    """The name of the old system (recorded on every imported dossier)."""
    value = source.strip()
    reason = text_problem(value, MAX_SOURCE) or (None if value else "required")
    if reason:
        raise RowRejected([FieldProblem("source", reason)])
    return value


COUNT_WINDOW = 20000  # dossiers whose counters are summed together: the more, the more keys they share


class Importer:
    def __init__(self, deps: Deps, source: str, workers: int = 8, chunk: int = 50,
                 count_window: int = COUNT_WINDOW) -> None:
        self.deps, self.source = deps, check_source(source)
        self.workers, self.chunk = max(1, workers), max(1, chunk)
        self.now = deps.now()
        self._today = self.now.astimezone(LOCAL_ZONE).date()
        # Counters of claimed dossiers wait here, across chunks, and are applied summed per key (step 3): a crash
        # loses only this buffer, which the next run finds unguarded and applies (docs/import.md).
        self.count_window = max(1, count_window)
        self._counts: list[DossierCounts] = []
        self._counts_lock = threading.Lock()
        self._claimed: set[str] = set()  # codes this run claimed: their counters are its own, maybe still waiting

    def run(self, rows: Iterable[Read], on_done: Callable[[RowResult], None]) -> Tally:
        """Import `rows` with at most `workers` chunks in flight (memory stays bounded whatever the file's
        size); `on_done` sees every row's result, in completion order, on the calling thread."""
        tally = Tally()
        in_flight: set[Future[list[RowResult]]] = set()

        def settle(done: Iterable[Future[list[RowResult]]]) -> None:
            for future in done:
                for result in future.result():
                    tally.add(result)
                    on_done(result)

        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="import") as pool:
            for batch in _chunks(rows, self.chunk):
                if len(in_flight) >= self.workers * 2:
                    done, in_flight = _wait_some(in_flight)
                    settle(done)
                in_flight.add(pool.submit(self.import_chunk, batch))
            settle(wait(in_flight).done)
        self.flush_counts()
        return tally

    def flush_counts(self) -> None:
        """Apply the counters still waiting (the end of a run)."""
        with self._counts_lock:
            taken, self._counts = self._counts, []
        if taken:
            self.deps.stats.apply_imported(taken, self.workers)

    def _count_later(self, counts: list[DossierCounts]) -> None:
        with self._counts_lock:
            self._counts.extend(counts)
            taken = self._counts if len(self._counts) >= self.count_window else []
            if taken:
                self._counts = []
        if taken:
            self.deps.stats.apply_imported(taken, self.workers)

    def import_chunk(self, batch: list[Read]) -> list[RowResult]:
        results: list[RowResult] = []
        built: dict[str, tuple[RowResult, Built]] = {}
        for line, raw, fields, problems in batch:
            result = RowResult(line, REJECTED, raw=raw, problems=list(problems))
            results.append(result)
            if fields is None:
                continue
            try:
                row = parse_row(fields, self.now)
                result.code = row.code
                imported = self._build(row)
            except RowRejected as exc:
                result.problems = exc.problems
                continue
            if row.code in built:  # the same code twice in the file: the first one is imported
                if _fingerprint(built[row.code][1]) == _fingerprint(imported):
                    result.outcome = DUPLICATE
                else:
                    result.problems = [FieldProblem("code", "twice in the file with different contents: the first "
                                                            "is imported, this one is not")]
                continue
            built[row.code] = (result, imported)
        stored = self.deps.dossiers.existing(list(built)) if built else {}
        self._raise_sequences([code for code in built if code not in stored])
        fresh: list[tuple[RowResult, Built]] = []
        again: list[tuple[RowResult, Built]] = []  # this very row, stored before: perhaps not all written
        for code, (result, imported) in built.items():
            if code not in stored:
                fresh.append((result, imported))
            elif stored[code] == _fingerprint(imported):
                result.outcome = DUPLICATE
                again.append((result, imported))
            else:
                _collision(result)
        self._claim(fresh)
        self._count_later(self._history_work([i for r, i in fresh if r.outcome == IMPORTED]))
        # Stored before by this very row: an earlier run that stopped between the steps left it without its
        # counters' guard (the last step); its steps are done again, each idempotent, the counters once.
        with self._counts_lock:  # a row repeated later in the file: this run counts it, not as unfinished
            again = [(r, i) for r, i in again if i.dossier.code not in self._claimed]
        counted = self.deps.stats.imported_counted([i.dossier.code for _, i in again]) if again else set()
        unfinished = [(r, i) for r, i in again if i.dossier.code not in counted]
        if unfinished:  # rare: applied at once, to tell which this run finished
            done = self.deps.stats.apply_imported(self._history_work([i for _, i in unfinished]))
            for result, imported in unfinished:
                result.completed = imported.dossier.code in done
        return results

    def _claim(self, fresh: list[tuple[RowResult, Built]]) -> None:
        """Step 1, the claim: each new dossier's item, put only if its code does not exist (a conditional PutItem),
        before anything else of it is written: only the winner writes the rest, so a dossier received here or a
        racing import is never overwritten. A code stored meanwhile is told apart as at the batch read."""
        for result, imported in fresh:
            if self.deps.dossiers.claim_imported(imported.dossier):
                result.outcome = IMPORTED
                with self._counts_lock:
                    self._claimed.add(imported.dossier.code)
                continue
            found = self.deps.dossiers.existing([imported.dossier.code])
            if found.get(imported.dossier.code) == _fingerprint(imported):
                result.outcome = DUPLICATE  # a racing import of this very row: it finishes it
            else:
                _collision(result)

    def _history_work(self, dossiers: list[Built]) -> list[DossierCounts]:
        """What the imported dossiers' historical events would have caused, done here in bulk instead of through
        the outbox (docs/import.md): the control sheets (step 2), the portal sync's history lane and the history
        webhooks. Answers their report 06 counters, to be applied with one guard per dossier (step 3: last, so
        that a guard says every step before it is written)."""
        if not dossiers:
            return []
        self.deps.dossiers.add_history_lines([(i.dossier.code, e) for i in dossiers for e in i.history])
        tree = self.deps.catalogue.tree()
        counts, lane, events = [], [], []
        for imported in dossiers:
            d, taken = imported.dossier, imported.events
            events.extend(taken)
            units = counting_units(d.receiving_unit, d.competent_unit, d.imported, tree)
            one = dossier_counts(d.code, taken, units, still_open=not d.status.is_closed)
            if taken:
                one.sync_unit = portal.unit_of(taken[-1])
                lane.append((portal.history_state(taken[-1], self.now), portal.history_change(taken[-1])))
            counts.append(one)
        self.deps.sync.add_history(lane, self.now)
        webhooks.on_imported(self.deps, events)
        return counts

    def _build(self, row: ImportRow) -> Built:
        catalogue = self.deps.catalogue
        try:
            procedure = catalogue.procedure(row.procedure_code)
        except NotFound as exc:
            raise RowRejected([FieldProblem("procedure_code", f"no procedure {row.procedure_code} in the "
                                                              "catalogue")]) from exc
        built = build_imported(row, procedure=procedure, tree=catalogue.tree(),
                               calendar=lambda unit: catalogue.calendar_for(unit, procedure), source=self.source,
                               now=self.now, watch=self.deps.watch)
        return Built(built.dossier, built.history, built.dossier.take_events())

    def _raise_sequences(self, codes: list[str]) -> None:
        """An imported code of today or later in the format motcua draws (a unit still receiving, the old system
        running in parallel on the switch-over day): the live intake's counter goes past its number."""
        highest: dict[str, int] = {}
        tree = self.deps.catalogue.tree()
        for code in codes:
            match = DOSSIER_CODE.match(code)
            if match is None:
                continue
            unit = tree.get(match.group("unit"))
            try:
                day = datetime.strptime(match.group("day"), "%y%m%d").date()
            except ValueError:
                continue
            if unit is None or day < self._today or not unit.active_on(self._today):
                continue
            name = sequence_name(unit.id, day)
            highest[name] = max(highest.get(name, 0), int(match.group("seq")))
        for name, value in highest.items():
            self.deps.dossiers.raise_sequence(name, value)


def _collision(result: RowResult) -> None:
    """A dossier received here, or another row imported under this code: never overwritten, said."""
    result.outcome = REJECTED
    result.problems = [FieldProblem("code", "already used by another dossier (received here, or imported from a "
                                            "different row): not overwritten")]


@dataclass
class Built:
    """A row built: the dossier, its control-sheet lines and the events its history would have produced (kept
    here, never written to the outbox)."""

    dossier: Dossier
    history: list[HistoryEntry]
    events: list[DomainEvent]


def _wait_some(in_flight: set[Future[list[RowResult]]]) -> tuple[set[Future[list[RowResult]]],
                                                                  set[Future[list[RowResult]]]]:
    done, pending = wait(in_flight, return_when=FIRST_COMPLETED)
    return set(done), set(pending)


def _chunks(rows: Iterable[Read], size: int) -> Iterator[list[Read]]:
    batch: list[Read] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- readers -----------------------------------------------------------------------------------------
class FatalInput(Exception):
    """The file as a whole cannot be imported (no header, missing columns): nothing is read."""


def read_ndjson(stream: IO[str]) -> Iterator[Read]:
    """One JSON object per line; blank lines are skipped (not rows)."""
    with _utf8("NDJSON"):
        yield from _ndjson(stream)


def _ndjson(stream: IO[str]) -> Iterator[Read]:
    for number, line in enumerate(_lines(stream), start=1):
        if line is None:
            yield number, None, None, [FieldProblem("line", f"longer than {MAX_LINE_BYTES} bytes")]
            continue
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            yield number, line.rstrip("\n"), None, [FieldProblem("line", "not a JSON object")]
            continue
        if not isinstance(value, dict):
            yield number, value, None, [FieldProblem("line", "not a JSON object")]
            continue
        yield number, value, value, []


def _lines(stream: IO[str]) -> Iterator[str | None]:
    """The stream's lines, each read with a bound: an over-long line is consumed and reported as None."""
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith("\n"):
            while True:
                rest = stream.readline(MAX_LINE_BYTES)
                if not rest or rest.endswith("\n"):
                    break
            yield None
            continue
        yield line


def read_csv(stream: IO[str]) -> Iterator[Read]:
    """A header line naming the columns (CSV_COLUMNS, any order; `history` a JSON array); each later record one
    row, its line number the line it starts on."""
    with _utf8("CSV"):
        yield from _csv(stream)


@contextmanager
def _utf8(kind: str) -> Iterator[None]:
    """Old systems often export in Windows-1258 or TCVN3: say so rather than fail with a decoding trace."""
    try:
        yield
    except UnicodeDecodeError as exc:
        raise FatalInput(f"the {kind} file is not UTF-8 ({exc.reason} at byte {exc.start} of a block): convert it "
                         "first, e.g. iconv -f CP1258 -t UTF-8; the rows before it were handled, run the converted "
                         "file again (they are skipped as duplicates)") from exc


def _csv(stream: IO[str]) -> Iterator[Read]:
    reader = csv.reader(stream)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration as exc:
        raise FatalInput("the file is empty: a header line is expected") from exc
    except csv.Error as exc:
        raise FatalInput(f"the header line cannot be read: {exc}") from exc
    missing = [c for c in REQUIRED_CSV if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        raise FatalInput(f"CSV header: missing {missing or 'nothing'}, unknown {unknown or 'nothing'} "
                         f"(columns: {', '.join(CSV_COLUMNS)})")
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, None, None, [FieldProblem("line", f"not a CSV record: {exc}")]
            continue
        if not record or all(not cell.strip() for cell in record):
            continue
        raw = dict(zip(header, record, strict=False))
        if len(record) != len(header):
            yield start, raw, None, [FieldProblem("line", f"{len(record)} fields, the header has {len(header)}")]
            continue
        fields, problems = csv_fields(raw)
        yield start, raw, fields, problems


def csv_fields(raw: dict[str, str]) -> tuple[dict[str, Any] | None, list[FieldProblem]]:
    """A CSV record in the NDJSON shape: the applicant's columns gathered, the history's JSON parsed."""
    fields: dict[str, Any] = {k: v for k, v in raw.items() if not k.startswith("applicant_") and k != "history"}
    fields["applicant"] = {k.removeprefix("applicant_"): v for k, v in raw.items() if k.startswith("applicant_")}
    try:
        fields["history"] = json.loads(raw.get("history") or "null")
    except (ValueError, RecursionError):
        return None, [FieldProblem("history", "not a JSON array of {status, at, note}")]
    return fields, []


def reasons(problems: list[FieldProblem]) -> str:
    return "; ".join(f"{p.field}: {p.reason}" for p in problems)


def fields_of(row: dict[str, Any]) -> dict[str, Any]:
    """An API row as the domain reads it (only the documented fields are passed on)."""
    return {k: v for k, v in row.items() if k in FIELDS}


# --- the admin endpoint ------------------------------------------------------------------------------
def import_batch(deps: Deps, actor: Any, body: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/imports: a small batch (the request schema bounds it to 500 rows) imported as the file would be;
    every row's outcome, with its problems named `rows[<index>].<field>`."""
    from ..domain.errors import Forbidden

    if "admin" not in actor.roles:
        raise Forbidden("importing dossiers needs the admin role")
    try:
        run = Importer(deps, str(body["source"]), workers=4, chunk=50)
    except RowRejected as exc:
        raise InvalidInput("invalid source", exc.problems) from exc
    results: list[RowResult] = []
    rows: Iterator[Read] = ((i, row, fields_of(row), []) for i, row in enumerate(body["rows"]))
    tally = run.run(rows, results.append)
    results.sort(key=lambda r: r.line)
    return {**tally.as_dict(), "source": run.source, "rows": [{
        "index": r.line, "code": r.code, "outcome": r.outcome,
        "problems": [{"field": f"rows[{r.line}].{p.field}", "reason": p.reason} for p in r.problems]}
        for r in results]}


def _fingerprint(imported: Any) -> str | None:
    return (imported.dossier.imported or {}).get("fingerprint")
