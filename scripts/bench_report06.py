"""`make bench`'s report06 section: report 06 from the counters beside its recomputation from the dossiers.

    python scripts/bench.py --report06 [--endpoint URL]

A year of dossiers (MOTCUA_BENCH_REPORT06_DOSSIERS, default 200,000) over MOTCUA_BENCH_REPORT06_UNITS units
(default 60, communes under the province root of demo/catalogue.json) is loaded in bulk, through the same code:
- lives: a few thousand template dossiers are driven through the domain (`Dossier.receive`, `act`, `wake`: the
  deadlines flagged as the sweep would), one per working day, life shape (early, late, supplement requested,
  withdrawn, refused at intake, still open) and variant (procedure, channel), for a placeholder unit and code;
- dossiers: each dossier is a template's dossier item and control sheet exactly as the repository writes them
  (`_to_model(dossier).serialize()`, `HistoryModel`), re-keyed for its unit and code, written with BatchWriteItem
  from a few threads;
- counters: each template's domain events go through the statistics consumer's `booking`, the overdue interval
  closed by `overdue_closing` as `StatsRepository.apply` closes it; the bookings of all the dossiers are summed per
  counter item and written through `StatsRepository.apply` (guard, daily items, their monthly roll-ups and the
  months set in one transaction per batch), so the stats table holds what the consumer would have written.
Then, for a whole-year and a one-month period, group_by unit, the province root: report 06 from the counters
(p50 of MOTCUA_BENCH_REPORT06_RUNS runs, read capacity and calls of one run), and once the recomputation from the
dossiers (services/reconcile.py: every dossier and its control sheet read, recounted, and report 06 computed from
the recount), its time and read capacity, the ratios, and a check that both reports are equal (also for a few
periods covering months in part, by unit, field and procedure) and that reconciliation finds no difference.

Without --endpoint a DynamoDB Local on disk is started for the run (200,000 dossiers do not fit the in-memory
one's heap), its files on /dev/shm when the machine has it. With --endpoint the tables get a prefix of their own
on that server and are deleted at the end (the test at a tiny size does so on the test session's server).
Progress goes to stderr; the result, as JSON, is the last line of stdout.
"""

from __future__ import annotations

import json
import os
import random
import statistics as stats
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
DOSSIERS = int(os.environ.get("MOTCUA_BENCH_REPORT06_DOSSIERS", "200000"))
UNITS = int(os.environ.get("MOTCUA_BENCH_REPORT06_UNITS", "60"))
RUNS = int(os.environ.get("MOTCUA_BENCH_REPORT06_RUNS", "5"))
WORKERS = int(os.environ.get("MOTCUA_BENCH_REPORT06_WORKERS", "4"))
YEAR = 2026
PROVINCE = "000.00.00.H56"
PERIODS = {"year": (date(YEAR, 1, 1), date(YEAR, 12, 31)), "month": (date(YEAR, 6, 1), date(YEAR, 6, 30))}
UNIT, CODE = "@UNIT@", "@CODE@"  # placeholders in the templates, replaced for each dossier
VN = ZoneInfo("Asia/Ho_Chi_Minh")
END = datetime(YEAR + 1, 1, 1, tzinfo=VN)  # the sweep has flagged every deadline reached before the year ended
# Life shapes and their shares; `open` (still in progress at the end of the year) only in the last 45 days.
SHAPES = {"early": 0.60, "late": 0.15, "supplement": 0.10, "withdrawn": 0.05, "refused_intake": 0.04, "open": 0.06}
CHANNELS = ("direct", "online", "postal")
VARIANTS = 3
PROCEDURES = ("2.000815", "1.004873", "1.004227", "2.000635", "1.009994", "2.001417")
# Periods and groupings checked (not timed): counters and recount must give the same report, whichever months
# the period covers in part.
CHECKED = [(date(YEAR, 3, 15), date(YEAR, 5, 20), "field"), (date(YEAR, 12, 10), date(YEAR, 12, 31), "procedure"),
           (date(YEAR, 2, 1), date(YEAR, 2, 28), "unit"), (date(YEAR, 7, 1), date(YEAR, 7, 9), "unit")]
STATS_BATCH = 80  # daily items per load transaction (+ their month's roll-ups, the months item, the guard)


def bench_units(n: int) -> list[dict[str, Any]]:
    return [{"id": f"000.41.{i:02d}.H56", "name": f"Ủy ban nhân dân xã Thử Nghiệm {i}", "level": "commune",
             "parent": PROVINCE} for i in range(1, n + 1)]


# --- templates: lives driven through the domain -------------------------------------------------------------
@dataclass
class Template:
    dossier: str  # the dossier item (DynamoDB JSON), with UNIT and CODE placeholders
    history: list[str]  # its control sheet's items, likewise
    increments: dict[tuple[str, str], dict[str, int]]  # what its events add to the counters (UNIT placeholder)
    status: str


def procedures() -> dict[str, Any]:
    from chalicelib.domain.catalogue import Procedure

    data = json.loads((ROOT / "demo" / "catalogue.json").read_text(encoding="utf-8"))
    out = {}
    for raw in data["procedures"]:
        raw = {**raw, "competent_units": [UNIT]}
        raw["form_schema"] = json.loads((ROOT / raw.pop("form_schema_file")).read_text(encoding="utf-8"))
        out[raw["code"]] = Procedure.from_dict(raw)
    return out


class Lives:
    """Builds (once each) the template of a working day, life shape and variant."""

    def __init__(self) -> None:
        from chalicelib.adapters.calendar_data import national_settings
        from chalicelib.domain.calendar import WorkingCalendar

        self.calendar = WorkingCalendar(national_settings())
        self.procedures = procedures()
        self.built: dict[tuple[date, str, int], Template] = {}

    def get(self, day: date, shape: str, variant: int) -> Template:
        key = (day, shape, variant)
        if key not in self.built:
            self.built[key] = self.live(*key)
        return self.built[key]

    def live(self, day: date, shape: str, variant: int) -> Template:
        from chalicelib.adapters.dynamodb.dossiers import _to_model
        from chalicelib.adapters.dynamodb.models import HistoryModel
        from chalicelib.domain.dossier import Actor, Dossier
        from chalicelib.domain.errors import DomainError
        from chalicelib.domain.lifecycle import Action
        from scripts.bench import INTAKE_BODY

        n = day.toordinal() + 2 * list(SHAPES).index(shape) + variant
        procedure = self.procedures[PROCEDURES[n % len(PROCEDURES)]]
        channel = CHANNELS[(day.toordinal() + variant) % len(CHANNELS)]
        if channel == "online" and (shape == "refused_intake" or procedure.online_service is None):
            channel = "direct"  # refused at the desk, or a procedure not offered online (Decree 42/2022)
        received = datetime(day.year, day.month, day.day, 8 + n % 8, 10 * (n % 6), tzinfo=VN)
        roles = frozenset({"desk", "processor", "leader"})
        decision = {"decision": "refuse", "reasons": ["Không thuộc thẩm quyền"]} if shape == "refused_intake" else None
        dossier, entry = Dossier.receive(
            code=CODE, procedure=procedure, receiving_unit=UNIT, competent_unit=UNIT, channel=channel,
            applicant=INTAKE_BODY["applicant"], form=INTAKE_BODY["form"], documents=INTAKE_BODY["documents"],
            actor=Actor("desk.bench", UNIT, roles), at=received, calendar=self.calendar, decision=decision)
        history = [entry]

        def wake_until(instant: datetime) -> None:
            while dossier.next_wake is not None and dossier.next_wake <= instant:
                dossier.wake(dossier.next_wake)  # the sweep, at the instant watched

        def act(name: str, at: datetime, **payload: Any) -> None:
            wake_until(at)
            actor = Actor(f"{name}.bench", dossier.handling_unit or UNIT, roles)
            try:
                history.append(dossier.act(Action(name), actor, at, self.calendar, payload))
            except DomainError:
                pass  # not allowed at this point of this procedure: the dossier is unchanged

        at = received + timedelta(minutes=20)
        if channel == "online" and shape != "refused_intake":
            act("accept", at)
        if shape == "withdrawn":
            act("assign", at + timedelta(hours=1))
            act("withdraw", at + timedelta(days=1), reason="Công dân rút hồ sơ")
        elif shape in ("early", "late", "supplement", "open"):
            act("assign", at + timedelta(minutes=30))
            if shape == "supplement":
                act("request_supplement", at + timedelta(hours=1), missing_items=["Bản sao CCCD"],
                    reason="Thiếu giấy tờ")
                act("receive_supplement", at + timedelta(days=3))
                act("assign", at + timedelta(days=3, hours=1))
                at += timedelta(days=3)
            if shape != "open":
                for i in range(len(dossier.steps) - 1):
                    act("complete_step", at + timedelta(hours=1 + i))
                if shape == "late" and dossier.due_at is not None:
                    at = dossier.due_at + timedelta(days=1)
                act("resolve", at + timedelta(hours=2), result={"summary": "Kết quả"})
                act("return_result", at + timedelta(hours=3))
        wake_until(END)
        events = dossier.take_events()
        return Template(
            dossier=json.dumps(_to_model(dossier).serialize(), ensure_ascii=False),
            history=[json.dumps(HistoryModel(CODE, h.seq, entry=h.as_dict()).serialize(), ensure_ascii=False)
                     for h in history],
            increments=fold(events), status=dossier.status.value)


def fold(events: Iterable[Any]) -> dict[tuple[str, str], dict[str, int]]:
    """One dossier's events, in order, through the statistics consumer's booking; the overdue interval closed
    as StatsRepository.apply closes it (the `life` facts kept here instead of in the table)."""
    from chalicelib.domain import counting

    out: dict[tuple[str, str], dict[str, int]] = {}
    flagged, ended = False, None
    for event in events:
        if event.type not in counting.TYPES:
            continue
        book = counting.booking(event)
        for key in counting.overdue_closing(book, flagged, ended):
            row = out.setdefault((str(key[0]), str(key[1])), {})
            row["overdue"] = row.get("overdue", 0) - 1
        flagged = flagged or book.flags_overdue
        ended = book.ends if book.ends is not None else ended
        for key, columns in book.increments.items():
            row = out.setdefault(key, {})
            for column, n in columns.items():
                row[column] = row.get(column, 0) + n
    return out


# --- the plan: which template each dossier is -----------------------------------------------------------------
def plan(n: int, units: list[str], seed: int = 6) -> list[tuple[str, tuple[date, str, int], str]]:
    """(unit, template key, code) of each dossier: a working day of the year, a life shape, a variant."""
    rng = random.Random(seed)
    days = [date(YEAR, 1, 1) + timedelta(days=i) for i in range(365)]
    days = [d for d in days if d.weekday() < 5]
    shapes, weights = list(SHAPES), list(SHAPES.values())
    sequence: Counter[tuple[str, date]] = Counter()
    out = []
    for i in range(n):
        unit, day = units[i % len(units)], rng.choice(days)
        shape = rng.choices(shapes, weights)[0]
        if shape == "open" and day < date(YEAR, 11, 17):
            shape = "early"
        sequence[(unit, day)] += 1
        out.append((unit, (day, shape, rng.randrange(VARIANTS)), f"{unit}-{day:%y%m%d}-{sequence[(unit, day)]:04d}"))
    return out


# --- loading --------------------------------------------------------------------------------------------------
def write_dossiers(dossiers: list[tuple[str, tuple[date, str, int], str]], lives: Lives) -> int:
    """Each dossier's item and control sheet, BatchWriteItem of 25 from WORKERS threads; answers items written."""
    import boto3

    from chalicelib.adapters.dynamodb.dossiers import WAKE_SHARDS
    from chalicelib.adapters.dynamodb.models import DossierModel, HistoryModel, PackedJSONAttribute, shard_of

    client = boto3.client("dynamodb")
    tables = (DossierModel.Meta.table_name, HistoryModel.Meta.table_name)

    def items(unit: str, key: tuple[date, str, int], code: str) -> Iterable[tuple[str, dict[str, Any]]]:
        template = lives.get(*key)
        dossier = json.loads(template.dossier.replace(CODE, code).replace(UNIT, unit))
        if "wake_shard" in dossier:  # the one attribute computed from the code rather than holding it
            dossier["wake_shard"] = {"S": shard_of(code, WAKE_SHARDS)}
        if "packed" in dossier:  # the body is deflated: its placeholders are replaced inside, then packed again
            packed = PackedJSONAttribute()
            body = json.dumps(packed.deserialize(dossier["packed"]["S"]), ensure_ascii=False)
            dossier["packed"] = {"S": packed.serialize(json.loads(body.replace(CODE, code).replace(UNIT, unit)))}
        yield tables[0], dossier
        for line in template.history:
            yield tables[1], json.loads(line.replace(CODE, code).replace(UNIT, unit))

    def send(batch: list[tuple[str, dict[str, Any]]]) -> None:
        requests: dict[str, list[dict[str, Any]]] = {}
        for table, item in batch:
            requests.setdefault(table, []).append({"PutRequest": {"Item": item}})
        for attempt in range(20):
            requests = client.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
            if not requests:
                return
            time.sleep(0.05 * (attempt + 1))
        raise RuntimeError("BatchWriteItem kept leaving items unprocessed")

    def worker(part: list[tuple[str, tuple[date, str, int], str]]) -> int:
        batch: list[tuple[str, dict[str, Any]]] = []
        written = 0
        for dossier in part:
            for entry in items(*dossier):
                batch.append(entry)
                if len(batch) == 25:
                    send(batch)
                    written, batch = written + 25, []
        if batch:
            send(batch)
        return written + len(batch)

    for key in sorted({key for _, key, _ in dossiers}):
        lives.get(*key)  # built once, before the threads share them
    with ThreadPoolExecutor(WORKERS) as pool:
        return sum(pool.map(worker, [dossiers[i::WORKERS] for i in range(WORKERS)]))


def write_counters(dossiers: list[tuple[str, tuple[date, str, int], str]], lives: Lives) -> tuple[int, int]:
    """The summed bookings of every dossier through StatsRepository.apply, one transaction per batch of a unit's
    month (each unit in one thread: two transactions never touch the same roll-up at once). Answers the daily
    items and the roll-ups written."""
    from chalicelib.adapters.dynamodb.stats import StatsRepository
    from chalicelib.domain import events as ev
    from chalicelib.domain.counting import Booking, rollups
    from chalicelib.domain.events import DomainEvent

    per_unit: dict[str, dict[tuple[str, str], dict[str, int]]] = {}
    for (unit, key), count in Counter((unit, key) for unit, key, _ in dossiers).items():
        target = per_unit.setdefault(unit, {})
        for (pk, sk), columns in lives.get(*key).increments.items():
            row = target.setdefault((pk.replace(UNIT, unit), sk), {})
            for column, n in columns.items():
                row[column] = row.get(column, 0) + n * count
    store = StatsRepository()
    at = datetime(YEAR + 1, 1, 1, tzinfo=VN)

    def load(units: list[str]) -> int:
        written = 0
        for unit in units:
            rows = sorted((k, v) for k, v in per_unit[unit].items() if any(v.values()))
            batches: list[list[tuple[tuple[str, str], dict[str, int]]]] = []
            for key, columns in rows:
                if not batches or len(batches[-1]) == STATS_BATCH or batches[-1][0][0][0] != key[0]:
                    batches.append([])  # a batch stays inside one month: its roll-ups are few
                batches[-1].append((key, columns))
            for i, batch in enumerate(batches, start=1):
                guard = DomainEvent(ev.RECEIVED, f"bench-load#{unit}", i, 1, at, {})
                assert store.apply(guard, Booking(increments=dict(batch)))
                written += len(batch)
        return written

    units = sorted(per_unit)
    with ThreadPoolExecutor(WORKERS) as pool:
        written = sum(pool.map(load, [units[i::WORKERS] for i in range(WORKERS)]))
    return written, sum(len([r for r in rollups(rows).values() if any(r.values())]) for rows in per_unit.values())


# --- measuring ------------------------------------------------------------------------------------------------
def measured(work: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
    from scripts.bench import measured as bench_measured

    return bench_measured(work)


def recount(codes: list[str]) -> dict[tuple[str, str], dict[str, int]]:
    """services/reconcile.py's recount of every dossier (its item and control sheet), from WORKERS threads."""
    from chalicelib.bootstrap import deps
    from chalicelib.services import reconcile

    with ThreadPoolExecutor(WORKERS) as pool:
        parts = list(pool.map(lambda part: reconcile.recount_all(deps(), part), [codes[i::WORKERS]
                                                                                 for i in range(WORKERS)]))
    total: dict[tuple[str, str], dict[str, int]] = {}
    for part in parts:
        reconcile.merge(total, part)
    return total


def progress(message: str) -> None:
    """On stderr: stdout carries the JSON result."""
    print(f"report06 bench: {message}", file=sys.stderr, flush=True)


def run(dossier_count: int = DOSSIERS, unit_count: int = UNITS, runs: int = RUNS) -> dict[str, Any]:
    """Load, measure and check (the tables exist, the catalogue is loaded)."""
    from chalicelib.adapters.dynamodb.catalogue import CatalogueRepository
    from chalicelib.adapters.dynamodb.models import DossierModel
    from chalicelib.bootstrap import deps
    from chalicelib.domain.catalogue import Unit
    from chalicelib.services import reconcile
    from chalicelib.services.reports import report06

    units = bench_units(unit_count)
    for unit in units:
        CatalogueRepository().put_unit(Unit.from_dict(unit))
    lives = Lives()
    dossiers = plan(dossier_count, [u["id"] for u in units])
    started = time.perf_counter()
    for key in sorted({key for _, key, _ in dossiers}):
        lives.get(*key)
    templates_s = time.perf_counter() - started
    progress(f"{len(lives.built):,} template lives in {templates_s:.0f} s; writing {dossier_count:,} dossiers")
    written = write_dossiers(dossiers, lives)
    dossiers_s = time.perf_counter() - started - templates_s
    progress(f"{written:,} dossier and history items in {dossiers_s:.0f} s; writing the counters")
    counter_items, rollup_items = write_counters(dossiers, lives)
    counters_s = time.perf_counter() - started - templates_s - dossiers_s
    progress(f"{counter_items:,} daily counter items in {counters_s:.0f} s; measuring")
    shapes = Counter(key[1] for _, key, _ in dossiers)

    result: dict[str, Any] = {
        "dossiers": dossier_count, "units": unit_count, "year": YEAR, "root": PROVINCE, "group_by": "unit",
        "shapes": dict(shapes), "templates": len(lives.built),
        "load": {"templates_s": templates_s, "dossier_and_history_items": written, "dossiers_s": dossiers_s,
                 "daily_counter_items": counter_items, "rollup_items": rollup_items, "counters_s": counters_s},
        "periods": {}}

    # Report 06 from the counters: a warm-up, then `runs` runs alternating the periods.
    reports: dict[str, dict[str, Any]] = {}
    for name, (first, last) in PERIODS.items():
        reports[name] = report06(deps(), PROVINCE, first, last, "unit")
    timings: dict[str, list[dict[str, Any]]] = {name: [] for name in PERIODS}
    for _ in range(runs):
        for name, (first, last) in PERIODS.items():
            report, figures = measured(lambda f=first, t=last: report06(deps(), PROVINCE, f, t, "unit"))
            assert report == reports[name]
            timings[name].append(figures)

    # The recomputation from the dossiers: every dossier and its control sheet read once (a keys-only Scan for
    # the codes, then each dossier's item and history, as scripts/reconcile_stats.py does), recounted; then each
    # period's report 06 from the recount.
    def recomputation() -> dict[tuple[str, str], dict[str, int]]:
        # Pages of 200: DynamoDB Local times out on 1 MB pages of this table (the sweep bench saw it too).
        codes = [item.code for item in DossierModel.scan(attributes_to_get=["code"], page_size=200)]
        return recount(codes)

    # What the report read before the monthly roll-ups: every daily item of every month up to `to`.
    tree = deps().catalogue.tree()

    def every_day(last: date) -> int:
        items = 0
        for unit in sorted(tree.subtree(PROVINCE)):
            for month in sorted(m for m in deps().stats.months(unit) if m <= last.isoformat()[:7]):
                items += len(deps().stats.read(unit, month, f"{month}-01", min(f"{month}-31", last.isoformat())))
        return items

    daily = {name: measured(lambda t=last: every_day(t)) for name, (_, last) in PERIODS.items()}
    progress("report 06 from the counters measured; recomputing from the dossiers")
    counted, reading = measured(recomputation)
    progress(f"recomputed in {reading['seconds']:.0f} s; checking")
    recounted = replace(deps(), stats=reconcile.RecountedStats(counted))
    for first, last, group_by in CHECKED:
        assert report06(recounted, PROVINCE, first, last, group_by) == report06(deps(), PROVINCE, first, last,
                                                                                group_by), (first, last, group_by)
    for name, (first, last) in PERIODS.items():
        started = time.perf_counter()
        from_dossiers = report06(recounted, PROVINCE, first, last, "unit")
        computing = time.perf_counter() - started
        assert from_dossiers == reports[name], f"{name}: the counters' report differs from the dossiers'"
        check = reconcile.compare(deps(), counted, first, last)
        assert check["differences"] == [], check["differences"][:20]
        runs_ = timings[name]
        p50 = stats.median(r["seconds"] for r in runs_)
        dossiers_side = {"seconds": reading["seconds"] + computing, "read_s": reading["seconds"],
                         "compute_s": computing, "rcu": reading["rcu"], "calls": reading["calls"]}
        result["periods"][name] = {
            "from": first.isoformat(), "to": last.isoformat(),
            "counters": {"p50_s": p50, "runs_s": [r["seconds"] for r in runs_], "rcu": runs_[-1]["rcu"],
                         "calls": runs_[-1]["calls"]},
            "dossiers": dossiers_side,
            "daily_items_read_before_rollups": {"items": daily[name][0], **daily[name][1]},
            "ratio_time": dossiers_side["seconds"] / p50,
            "ratio_rcu": dossiers_side["rcu"] / runs_[-1]["rcu"] if runs_[-1]["rcu"] else None,
            "reconciled_items": check["items"], "differences": 0,
            "total": reports[name]["total"]}
    return result


def main(endpoint: str | None) -> dict[str, Any]:
    """Run in a process of its own: its own DynamoDB Local on disk, or a fresh table prefix on `endpoint`."""
    import shutil
    import tempfile

    from scripts import bench, dynamodb_local

    data_dir, database = None, None
    if endpoint is None:
        # On a RAM-backed file system when there is one: on the machine's disk, DynamoDB Local's SQLite syncs
        # made the load wait on I/O (1 GB written for a 43 MB database, the JVM at 13% of a core).
        shm = Path("/dev/shm")
        data_dir = Path(tempfile.mkdtemp(prefix="motcua-report06-",
                                         dir=shm if shm.is_dir() and os.access(shm, os.W_OK) else None))
        port = dynamodb_local.free_port()
        database = dynamodb_local.start(port, db_path=data_dir)
        os.environ.update(dynamodb_local.local_environment(port, bench.PREFIX))
    else:
        own = dynamodb_local.local_environment(0, f"motcua-r06-{uuid.uuid4().hex[:8]}")
        os.environ.update({**own, **{k: os.environ[k] for k in own if k.startswith("AWS_") and k in os.environ},
                           "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "MOTCUA_TABLE_PREFIX": own["MOTCUA_TABLE_PREFIX"]})
    os.environ.setdefault("MOTCUA_AUTH_MODE", "local")
    bench.silence_service_logs()
    bench.install_hooks()
    try:
        from scripts.seed import load_catalogue

        load_catalogue()
        return run()
    finally:
        if endpoint is not None:
            from chalicelib.adapters.dynamodb.tables import delete_tables

            delete_tables()
        if database is not None:
            dynamodb_local.stop(database)
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)


def in_child(endpoint: str | None = None, environment: dict[str, str] | None = None) -> dict[str, Any]:
    """`main` in a fresh process (the models read their table names when imported); answers its JSON."""
    import subprocess

    command = [sys.executable, str(ROOT / "scripts" / "bench.py"), "--report06"]
    command += ["--endpoint", endpoint] if endpoint else []
    out = subprocess.run(command, capture_output=True, text=True, timeout=4 * 3600,
                         env={**os.environ, **(environment or {}), "TZ": "UTC"})
    if out.returncode != 0:
        raise RuntimeError(f"report06 bench failed:\n{out.stderr[-4000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def report(result: dict[str, Any]) -> None:
    load = result["load"]
    print(f"\nreport 06, province root, group_by unit: {result['dossiers']:,} dossiers over {result['units']} units "
          f"in {result['year']} ({result['templates']:,} template lives; loaded in "
          f"{load['templates_s'] + load['dossiers_s'] + load['counters_s']:.0f} s: "
          f"{load['dossier_and_history_items']:,} dossier and history items, {load['daily_counter_items']:,} daily "
          f"counter items, {load['rollup_items']:,} monthly roll-ups)")
    for name, p in result["periods"].items():
        c, d = p["counters"], p["dossiers"]
        print(f"  {name:5} {p['from']}..{p['to']}: counters p50 {c['p50_s'] * 1000:8.1f} ms {c['rcu']:9,.1f} RCU "
              f"{sum(c['calls'].values()):5} calls | dossiers {d['seconds']:7.1f} s {d['rcu']:11,.1f} RCU "
              f"{sum(d['calls'].values()):8,} calls | ratio {p['ratio_time']:,.0f}x time, "
              f"{p['ratio_rcu'] or 0:,.0f}x RCU; reports equal, 0 differences")
        before = p["daily_items_read_before_rollups"]
        print(f"        before the monthly roll-ups (every day since the first): {before['items']:,} items, "
              f"{before['rcu']:,.1f} RCU, {before['seconds'] * 1000:.1f} ms")
