"""`make bench`: motcua against DynamoDB Local, always beside the same work done with bare boto3 in the same run.

- throughput: the intake and transition use cases beside the same DynamoDB calls made with raw boto3 (same
  tables, same item shapes), alternating in rounds, the last round reported; their ratio; round trips per
  operation (every botocore call is counted);
- capacity: the read and write capacity units each intake and transition consumes, as DynamoDB Local reports them
  (ReturnConsumedCapacity added by a botocore event hook on every DynamoDB client), by table and index;
- cold start: a fresh process that imports the app and serves one public lookup through the Lambda handler,
  beside a fresh process that makes the same GetItem with bare boto3; their ratio; and `import app` alone.

- sweep: the deadline sweep (services.deadlines.sweep) over 100,000 open dossiers of which 100 are newly overdue
  (MOTCUA_BENCH_SWEEP_OPEN, MOTCUA_BENCH_SWEEP_DUE), beside a full Scan of the same table in the same run: read
  capacity units and time of each, and their ratio. It runs in a child process with its own DynamoDB Local on disk
  (400 MB of dossiers would not fit the in-memory one's heap); the dossiers are loaded with BatchWriteItem of the
  very items the repository writes (`_to_model(dossier).serialize()` of two template dossiers, re-keyed).
- timer_transitions: the Step Functions state transitions of a dossier's timers (infra/deadline-timer.asl.json)
  for an on-time, a warned on-time, a paused and a late dossier, and the dollars per million dossiers at list
  price: the domain dossier is driven through its life while its timers are walked over the ASL (a timer starts
  at each watch generation, loops Task -> Wait at each wake, is stopped when the generation changes, and stops
  itself when nothing is left), the same rules tests/integration/test_stepfunctions.py checks with moto.
- report06: report 06 of the province root over a year of 200,000 dossiers and 60 units
  (MOTCUA_BENCH_REPORT06_DOSSIERS, _UNITS), from the counters beside its recomputation from the dossiers in the
  same run: latency, read capacity and their ratios (scripts/bench_report06.py; a child process with its own
  DynamoDB Local on disk).
- import: `make import`'s work on 100,000 generated rows (MOTCUA_BENCH_IMPORT_ROWS) beside the raw BatchWriteItem
  floor of the same dossier items, and the write units per row (scripts/bench_import.py, a child process with its
  own DynamoDB Local; `python scripts/bench_import.py --rows N` alone).

Bounded: N operations each (MOTCUA_BENCH_N, default 200), one DynamoDB Local on a free loopback port, stopped at
the end. The table is printed, and the figures written to .local/bench.json under the keys "core", "capacity",
"cold_start", "sweep", "timer_transitions" and "import" (other benches add their own keys to the same file). Figures are
recorded in docs/performance.md.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import dynamodb_local  # noqa: E402

N = int(os.environ.get("MOTCUA_BENCH_N", "200"))
ROUNDS = 3
COLD_RUNS = int(os.environ.get("MOTCUA_BENCH_COLD_RUNS", "7"))
CAPACITY_OPS = 20
RESULTS_FILE = ROOT / ".local" / "bench.json"
PREFIX = "motcua-bench"
CALLS: Counter[str] = Counter()


class Capacity:
    """Consumed capacity per DynamoDB call, summed while `recording`; off during the timed loops."""

    recording = False
    read = 0.0
    write = 0.0
    by_target: defaultdict[str, float] = defaultdict(float)  # "<operation> <table>[/<index>]"

    @classmethod
    def reset(cls) -> None:
        cls.read = cls.write = 0.0
        cls.by_target.clear()


_READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}


def _ask_capacity(params: dict[str, Any], model: Any, **_: Any) -> None:
    if Capacity.recording and "ReturnConsumedCapacity" in model.input_shape.members:
        params["ReturnConsumedCapacity"] = "INDEXES"  # the total split by table and index (PynamoDB asks TOTAL)


def _record_capacity(parsed: dict[str, Any], model: Any, **_: Any) -> None:
    if not Capacity.recording:
        return
    consumed = parsed.get("ConsumedCapacity") or []
    for entry in consumed if isinstance(consumed, list) else [consumed]:
        units = float(entry.get("CapacityUnits", 0))
        read, write = entry.get("ReadCapacityUnits"), entry.get("WriteCapacityUnits")
        if read is None and write is None:  # on-demand tables report one figure: its kind follows the operation
            read, write = (units, 0.0) if model.name in _READS else (0.0, units)
        Capacity.read += float(read or 0)
        Capacity.write += float(write or 0)
        table = entry.get("TableName", "?").removeprefix(PREFIX + "-")
        Capacity.by_target[f"{model.name} {table}"] += float(entry.get("Table", {}).get("CapacityUnits", units))
        for index, used in (entry.get("GlobalSecondaryIndexes") or {}).items():
            Capacity.by_target[f"{model.name} {table}/{index}"] += float(used.get("CapacityUnits", 0))


def install_hooks() -> None:
    """Count every DynamoDB call and make capacity reportable, for every client botocore creates from now on
    (PynamoDB's, boto3's, Powertools'): event handlers registered on each new DynamoDB client."""
    from botocore.session import Session

    create_client = Session.create_client

    def counted_client(self: Session, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            client.meta.events.register("provide-client-params.dynamodb.*", _ask_capacity)
            client.meta.events.register("after-call.dynamodb.*", _record_capacity)
            client.meta.events.register("before-call.dynamodb.*", lambda model, **_: CALLS.update([model.name]))
            client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", _capture)
        return client

    Session.create_client = counted_client  # type: ignore[method-assign]


def silence_service_logs() -> None:
    """One log line per operation would drown the table (and cost time on both sides unevenly)."""
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    logging.getLogger("motcua").setLevel(logging.WARNING)


def timed(label: str, n: int, work: Callable[[int], object]) -> dict[str, Any]:
    CALLS.clear()
    started = time.perf_counter()
    for i in range(n):
        work(i)
    elapsed = time.perf_counter() - started
    calls = sum(CALLS.values())
    return {"label": label, "ops_per_s": n / elapsed, "ms_per_op": 1000 * elapsed / n,
            "round_trips": calls / n, "calls": dict(CALLS)}


def measure_capacity(label: str, n: int, work: Callable[[int], object]) -> dict[str, Any]:
    Capacity.reset()
    Capacity.recording = True
    try:
        for i in range(n):
            work(i)
    finally:
        Capacity.recording = False
    return {"label": label, "rcu": Capacity.read / n, "wcu": Capacity.write / n,
            "by_target": {k: v / n for k, v in sorted(Capacity.by_target.items())}}


def main() -> None:
    port = dynamodb_local.free_port()
    database = dynamodb_local.start(port)
    try:
        environment = {**dynamodb_local.local_environment(port, PREFIX), "MOTCUA_AUTH_MODE": "local",
                       "MOTCUA_LOCAL_JWKS": str(ROOT / ".local" / "keys" / "jwks.json")}
        os.environ.update(environment)
        silence_service_logs()
        install_hooks()
        from scripts.seed import load_catalogue

        load_catalogue()
        core, capacity, sample_code = run_benchmarks()
        cold = cold_start(environment, sample_code)
        report(core, capacity, cold)
        save({"core": {"n": N, "rounds": ROUNDS, "results": core, "ratios": ratios(core)},
              "capacity": {"n": CAPACITY_OPS, "results": capacity},
              "cold_start": cold})
    finally:
        dynamodb_local.stop(database)
    transitions = timer_transitions()
    report_transitions(transitions)
    save({"timer_transitions": transitions})
    swept = sweep_in_child()
    report_sweep(swept)
    save({"sweep": swept})
    from scripts import bench_report06

    reported = bench_report06.in_child()
    bench_report06.report(reported)
    save({"report06": reported})
    from scripts import bench_import

    imported = bench_import.in_child(int(os.environ.get("MOTCUA_BENCH_IMPORT_ROWS", "100000")))
    bench_import.report(imported)
    save({"import": imported})
    from scripts import bench_forms

    printed = bench_forms.in_child()
    bench_forms.report(printed)
    save({"forms": printed})
    from scripts import bench_events

    bench_events.main([])  # events, import_live: each with its own DynamoDB Local


INTAKE_BODY = {
    "procedure_code": "2.001417", "channel": "direct",
    "applicant": {"name": "Nguyễn Văn An", "id_number": "038090001234"},
    "form": {"full_name": "Nguyễn Văn An", "date_of_birth": "1990-05-02", "form_number": 1, "purpose": "Xin việc"},
    "documents": [{"name": "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "copies": 1}],
}


def run_benchmarks() -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    import boto3

    from chalicelib.adapters.dynamodb.models import CounterModel, DossierModel
    from chalicelib.bootstrap import deps
    from chalicelib.domain.dossier import Actor
    from chalicelib.services.actions import perform_action
    from chalicelib.services.intake import receive_dossier
    from scripts.bench_import import item_bytes

    desk = Actor("desk.bench", "000.00.24.H56", frozenset({"desk"}))
    officer = Actor("cv.bench", "000.00.11.H56", frozenset({"processor"}))
    receive_dossier(deps(), desk, INTAKE_BODY)  # warm caches (catalogue, calendar, connections)

    # The raw side replays exactly the transactions motcua sent (whatever items they hold: dossier, history
    # line, outbox events...), re-keyed for its own dossiers: same tables, same item shapes, same conditions,
    # none of motcua's logic.
    Captured.armed = True
    first = receive_dossier(deps(), desk, INTAKE_BODY)["code"]
    intake_items = Captured.take()
    perform_action(deps(), officer, first, {"action": "assign", "version": 1})
    transition_items = Captured.take()
    Captured.armed = False
    client = boto3.client("dynamodb")
    keys = {table: [k["AttributeName"] for k in client.describe_table(TableName=table)["Table"]["KeySchema"]]
            for table in {op["TableName"] for item in intake_items + transition_items for op in item.values()}}
    dossier_table, counter_table = DossierModel.Meta.table_name, CounterModel.Meta.table_name

    def raw_intake(i: int) -> None:
        n = client.update_item(TableName=counter_table, Key={"name": {"S": "dossier#RAW#260316"}},
                               UpdateExpression="ADD #v :one", ExpressionAttributeNames={"#v": "value"},
                               ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="UPDATED_NEW")
        code = f"RAW-260316-{int(n['Attributes']['value']['N']):05d}"
        client.transact_write_items(TransactItems=rekeyed(intake_items, keys, first, code))

    raw_codes: list[str] = []

    def raw_transition(i: int) -> None:
        code = raw_codes[i]
        client.get_item(TableName=dossier_table, Key={"code": {"S": code}}, ConsistentRead=True)
        client.transact_write_items(TransactItems=rekeyed(transition_items, keys, first, code))

    def counter_value() -> int:
        try:
            return int(CounterModel.get("dossier#RAW#260316").value)
        except CounterModel.DoesNotExist:
            return 0

    # Alternate the two sides in rounds so neither profits from DynamoDB Local's JIT warming up;
    # the last round is reported.
    results: list[dict[str, Any]] = []
    codes: list[str] = []
    for _round in range(ROUNDS):
        codes.clear()
        start = counter_value()
        results = [
            timed("intake: motcua (service)", N,
                  lambda i: codes.append(receive_dossier(deps(), desk, INTAKE_BODY)["code"])),
            timed("intake: raw boto3", N, raw_intake),
        ]
        raw_codes[:] = [f"RAW-260316-{n:05d}" for n in range(start + 1, start + N + 1)]
        results += [
            timed("transition: motcua (service)", N,
                  lambda i: perform_action(deps(), officer, codes[i], {"action": "assign", "version": 1})),
            timed("transition: raw boto3", N, raw_transition),
        ]

    # Capacity: fresh dossiers, so every transition is the dossier's first move (assign, version 1).
    fresh: list[str] = []
    start = counter_value()
    capacity = [measure_capacity("intake: motcua (service)", CAPACITY_OPS,
                                 lambda i: fresh.append(receive_dossier(deps(), desk, INTAKE_BODY)["code"])),
                measure_capacity("intake: raw boto3", CAPACITY_OPS, raw_intake)]
    raw_codes[:] = [f"RAW-260316-{n:05d}" for n in range(start + 1, start + CAPACITY_OPS + 1)]
    capacity += [measure_capacity("transition: motcua (service)", CAPACITY_OPS,
                                  lambda i: perform_action(deps(), officer, fresh[i], {"action": "assign",
                                                                                       "version": 1})),
                 measure_capacity("transition: raw boto3", CAPACITY_OPS, raw_transition)]
    capacity.append({"label": "stored sizes (bytes)", **{
        f"{op['TableName'].removeprefix(PREFIX + '-')}": item_bytes(op["Item"])
        for item in intake_items for op in item.values() if "Item" in op}})
    return results, capacity, first


class Captured:
    """The TransactItems motcua sends, captured by a botocore hook so that the raw side can replay them."""

    armed = False
    items: list[dict[str, Any]] = []

    @classmethod
    def take(cls) -> list[dict[str, Any]]:
        out, cls.items = cls.items, []
        return out


def _capture(params: dict[str, Any], **_: Any) -> None:
    if Captured.armed:
        Captured.items = copy.deepcopy(params["TransactItems"])


def rekeyed(items: list[dict[str, Any]], keys: dict[str, list[str]], old: str, new: str) -> list[dict[str, Any]]:
    """The same transaction for another dossier: every key naming the old code names the new one; other string
    keys (event ids) get the new code appended, so each replay writes items of its own."""
    out = copy.deepcopy(items)
    for item in out:
        for op in item.values():
            record = op.get("Item") or op.get("Key") or {}
            for name in keys[op["TableName"]]:
                value = record.get(name, {})
                if "S" in value:
                    value["S"] = value["S"].replace(old, new) if old in value["S"] else f"{value['S']}#{new}"
    return out


# A fresh Python process, as a new Lambda container: import the app, then serve one public lookup through the
# Lambda handler (the API Gateway proxy event Chalice receives in Lambda). Times are taken inside the process,
# from before the first import of the side being measured, so the interpreter's own start-up is left out of both.
COLD_MOTCUA = r"""
import json, sys, time
t0 = time.perf_counter()
import app
t1 = time.perf_counter()
code = sys.argv[1]
event = {"resource": "/v1/public/dossiers/{code}", "path": "/v1/public/dossiers/" + code, "httpMethod": "GET",
         "headers": {"accept": "application/json"}, "multiValueHeaders": None, "queryStringParameters": None,
         "multiValueQueryStringParameters": None, "pathParameters": {"code": code}, "stageVariables": None,
         "requestContext": {"resourcePath": "/v1/public/dossiers/{code}", "httpMethod": "GET", "stage": "api",
                            "path": "/api/v1/public/dossiers/" + code, "requestId": "bench-cold-start",
                            "identity": {"sourceIp": "127.0.0.1"}},
         "body": None, "isBase64Encoded": False}
class Context:
    function_name = "motcua-bench-APIHandler"; memory_limit_in_mb = 512; aws_request_id = "bench-cold-start"
    invoked_function_arn = "arn:aws:lambda:ap-southeast-1:000000000000:function:motcua-bench-APIHandler"
    def get_remaining_time_in_millis(self): return 25000
response = app.app(event, Context())
t2 = time.perf_counter()
assert response["statusCode"] == 200, response
assert json.loads(response["body"])["code"] == code
print(json.dumps({"import_s": t1 - t0, "first_request_s": t2 - t1, "total_s": t2 - t0,
                  "modules": len(sys.modules)}))
"""

COLD_BOTO3 = r"""
import json, sys, time
t0 = time.perf_counter()
import boto3
client = boto3.client("dynamodb")
t1 = time.perf_counter()
item = client.get_item(TableName=sys.argv[2], Key={"code": {"S": sys.argv[1]}})["Item"]
t2 = time.perf_counter()
assert item["code"]["S"] == sys.argv[1]
print(json.dumps({"import_s": t1 - t0, "first_request_s": t2 - t1, "total_s": t2 - t0,
                  "modules": len(sys.modules)}))
"""


def cold_start(environment: dict[str, str], code: str) -> dict[str, Any]:
    """Alternate the two fresh processes COLD_RUNS times each; report medians and the ratio of the totals."""
    env = {"PATH": os.environ["PATH"], "TZ": "UTC", "PYTHONDONTWRITEBYTECODE": "", **environment}
    runs: dict[str, list[dict[str, float]]] = {"motcua": [], "boto3": []}
    for attempt in range(COLD_RUNS + 1):  # the first, untimed, compiles bytecode of code changed since the last run
        for side, probe, args in (("motcua", COLD_MOTCUA, [code]),
                                  ("boto3", COLD_BOTO3, [code, f"{PREFIX}-dossiers"])):
            started = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", probe, *args], cwd=ROOT, env=env, capture_output=True,
                                 text=True, timeout=120)
            if out.returncode != 0:
                raise SystemExit(f"cold start probe ({side}) failed:\n{out.stderr[-3000:]}")
            sample = json.loads(out.stdout.strip().splitlines()[-1])
            sample["process_s"] = time.perf_counter() - started
            if attempt:
                runs[side].append(sample)
    medians = {side: {key: statistics.median(s[key] for s in samples) for key in samples[0]}
               for side, samples in runs.items()}
    return {"runs": COLD_RUNS, **medians,
            "ratio_total": medians["motcua"]["total_s"] / medians["boto3"]["total_s"],
            "ratio_process": medians["motcua"]["process_s"] / medians["boto3"]["process_s"]}


def ratios(core: list[dict[str, Any]]) -> dict[str, float]:
    by = {r["label"]: r for r in core}
    return {op: by[f"{op}: raw boto3"]["ops_per_s"] / by[f"{op}: motcua (service)"]["ops_per_s"]
            for op in ("intake", "transition")}


def report(core: list[dict[str, Any]], capacity: list[dict[str, Any]], cold: dict[str, Any]) -> None:
    print(f"\nmotcua bench: N={N} per operation, last of {ROUNDS} alternating rounds, DynamoDB Local, sequential\n")
    print(f"{'operation':32} {'ops/s':>8} {'ms/op':>7} {'calls/op':>9}  {'RCU/op':>6} {'WCU/op':>6}  calls")
    used = {c["label"]: c for c in capacity}
    for r in core:
        calls = ", ".join(f"{k} {v / N:g}" for k, v in sorted(r["calls"].items()))
        c = used[r["label"]]
        print(f"{r['label']:32} {r['ops_per_s']:8.1f} {r['ms_per_op']:7.2f} {r['round_trips']:9.2f}  "
              f"{c['rcu']:6.1f} {c['wcu']:6.1f}  {calls}")
    for op, ratio in ratios(core).items():
        print(f"{op}: raw boto3 is {ratio:.2f}x motcua's throughput (motcua overhead {(ratio - 1) * 100:.0f}%)")
    for label in ("intake: motcua (service)", "transition: motcua (service)"):
        parts = ", ".join(f"{k} {v:g}" for k, v in used[label]["by_target"].items())
        print(f"  {label.split(':')[0]} capacity units by table/index: {parts}")
    sizes = {k: v for k, v in used["stored sizes (bytes)"].items() if k != "label"}
    print("items an intake writes (bytes): " + ", ".join(f"{k} {v}" for k, v in sizes.items()))
    m, b = cold["motcua"], cold["boto3"]
    print(f"\ncold start, fresh process, median of {cold['runs']} (interpreter start-up excluded):")
    print(f"  motcua: import app {m['import_s'] * 1000:.0f} ms + first public lookup {m['first_request_s'] * 1000:.0f}"
          f" ms = {m['total_s'] * 1000:.0f} ms ({m['modules']:.0f} modules)")
    print(f"  boto3:  import + client {b['import_s'] * 1000:.0f} ms + GetItem {b['first_request_s'] * 1000:.0f} ms"
          f" = {b['total_s'] * 1000:.0f} ms ({b['modules']:.0f} modules)")
    print(f"  ratio motcua/boto3: {cold['ratio_total']:.2f}x (whole processes: {cold['ratio_process']:.2f}x)")
    print(f"\nwritten to {RESULTS_FILE.relative_to(ROOT)}")


def measured(work: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
    """`work()`'s result, and what it cost: seconds, read and write capacity (in total and per table and index),
    the DynamoDB calls made."""
    CALLS.clear()
    Capacity.reset()
    Capacity.recording = True
    started = time.perf_counter()
    try:
        result = work()
    finally:
        Capacity.recording = False
    return result, {"seconds": time.perf_counter() - started, "rcu": Capacity.read, "wcu": Capacity.write,
                    "by_target": dict(sorted(Capacity.by_target.items())), "calls": dict(CALLS)}


def save(sections: dict[str, Any]) -> None:
    """Merge this run's sections into .local/bench.json, keeping what other benches wrote there."""
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    try:
        data = json.loads(RESULTS_FILE.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        data = {}
    stamp = {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "python": sys.version.split()[0],
             "cpus": os.cpu_count()}
    data.update({key: {**value, **stamp} for key, value in sections.items()})
    RESULTS_FILE.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# --- timers: state transitions per dossier ------------------------------------------------------------------
ASL_FILE = ROOT / "infra" / "deadline-timer.asl.json"
PRICE_PER_1000_TRANSITIONS = 0.025  # USD, Standard workflows, list price (ap-southeast-1 and us-east-1, 2026-11)
CENTRE, JUSTICE = "000.00.24.H56", "000.00.11.H56"


def asl_costs() -> dict[str, int]:
    """From the ASL file: states entered from the start to the first Wait (a timer starting), from a Wait to the
    next Wait (a wake with more to watch), and from a Wait to the task (a wake after which the task stops the
    execution itself)."""
    machine = json.loads(ASL_FILE.read_text(encoding="utf-8"))
    states = machine["States"]

    def walk(name: str) -> list[str]:
        path = [name]
        while states[path[-1]]["Type"] != "Wait":
            path.append(states[path[-1]]["Next"])
            assert len(path) <= len(states), "the timer's states loop without a Wait"
        return path

    wait = walk(machine["StartAt"])
    task = states[wait[-1]]["Next"]
    assert states[task]["Type"] == "Task"
    return {"start": len(wait), "wake": len(walk(task)), "last_wake": 1}


def procedure(code: str) -> Any:
    from chalicelib.domain.catalogue import Procedure

    data = json.loads((ROOT / "demo" / "catalogue.json").read_text(encoding="utf-8"))
    raw = dict(next(p for p in data["procedures"] if p["code"] == code))
    raw["form_schema"] = json.loads((ROOT / raw.pop("form_schema_file")).read_text(encoding="utf-8"))
    return Procedure.from_dict(raw)


def timer_walk(code: str, received: Any, actions: list[tuple[Any, str, str, str, dict[str, Any]]],
               until: Any) -> dict[str, Any]:
    """Drive a dossier of procedure `code` through `actions` (instant, action, unit, role, payload) and count
    its timers' state transitions: what services/timers.py and the ASL do on AWS."""
    from chalicelib.adapters.calendar_data import national_settings
    from chalicelib.domain.calendar import WorkingCalendar
    from chalicelib.domain.dossier import Actor, Dossier
    from chalicelib.domain.lifecycle import Action

    costs, calendar = asl_costs(), WorkingCalendar(national_settings())
    dossier, _ = Dossier.receive(
        code=f"{CENTRE}-260316-0001", procedure=procedure(code), receiving_unit=CENTRE, competent_unit=JUSTICE,
        channel="direct", applicant={"name": "Nguyễn Văn An"}, form={}, documents=[],
        actor=Actor("desk.bench", CENTRE, frozenset({"desk"})), at=received, calendar=calendar)
    count = {"transitions": 0, "timers": 0, "wakes": 0}
    running = False

    def start() -> None:
        nonlocal running
        running = dossier.next_wake is not None
        if running:
            count["timers"] += 1
            count["transitions"] += costs["start"]

    def wake_until(instant: Any) -> None:
        nonlocal running
        while running and dossier.next_wake is not None and dossier.next_wake <= instant:
            dossier.wake(dossier.next_wake)  # Step Functions wakes it at the instant it waited for
            count["wakes"] += 1
            running = dossier.next_wake is not None
            count["transitions"] += costs["wake"] if running else costs["last_wake"]

    start()
    for at, action, unit, role, payload in actions:
        wake_until(at)
        generation = dossier.watch_generation
        dossier.act(Action(action), Actor(f"{role}.bench", unit, frozenset({role})), at, calendar, payload)
        if dossier.watch_generation != generation:  # the consumer stops that timer and starts the next one
            start()
    wake_until(until)
    assert dossier.status.is_closed, "a case must end with the dossier closed (its timer stopped)"
    return {**count, "flags": sorted(dossier.flags),
            "usd_per_million": round(count["transitions"] * PRICE_PER_1000_TRANSITIONS * 1000, 2)}


def timer_transitions() -> dict[str, Any]:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    def vn(*parts: int) -> datetime:
        return datetime(*parts, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))

    work = [(JUSTICE, "processor", {"action": "assign"}), (JUSTICE, "processor", {"action": "complete_step"}),
            (JUSTICE, "leader", {"action": "resolve", "result": {"summary": "Phiếu LLTP"}}),
            (CENTRE, "desk", {"action": "return_result"})]

    def life(*instants: datetime, before: list[tuple[datetime, str, str, dict[str, Any]]] | None = None) -> list[
            tuple[Any, str, str, str, dict[str, Any]]]:
        steps = [(at, unit, role, body) for at, (unit, role, body) in zip(instants, work, strict=True)]
        steps = sorted((before or []) + steps, key=lambda s: s[0])
        return [(at, body["action"], unit, role, {k: v for k, v in body.items() if k != "action"})
                for at, unit, role, body in steps]

    received = vn(2026, 3, 16, 9)  # 2.001417: 10 working days, step 1 due 26 Mar, due Mon 30 Mar 09:00
    cases = {
        # Two steps, resolved a week early: each watch generation's timer waits once and is stopped.
        "on_time": timer_walk("2.001417", received, life(
            vn(2026, 3, 16, 10), vn(2026, 3, 18, 9), vn(2026, 3, 19, 9), vn(2026, 3, 20, 9)), vn(2026, 5, 1)),
        # One step of 4 working hours: warned at once (the warning falls at the start), resolved on time.
        "on_time_warned": timer_walk("2.000635", received, [
            (vn(2026, 3, 16, 9, 30), "assign", JUSTICE, "processor", {}),
            (vn(2026, 3, 16, 11), "resolve", JUSTICE, "processor", {"result": {"summary": "Bản sao trích lục"}}),
            (vn(2026, 3, 16, 11, 30), "return_result", CENTRE, "desk", {})], vn(2026, 5, 1)),
        # A supplement requested, brought 6 days later (the clock restarts), then resolved on time.
        "paused": timer_walk("2.001417", received, life(
            vn(2026, 3, 16, 10), vn(2026, 3, 25, 9), vn(2026, 3, 26, 9), vn(2026, 3, 27, 9), before=[
                (vn(2026, 3, 17, 9), JUSTICE, "processor", {"action": "request_supplement",
                                                            "missing_items": ["Bản sao CCCD"]}),
                (vn(2026, 3, 23, 10), CENTRE, "desk", {"action": "receive_supplement"})]), vn(2026, 6, 1)),
        # The step finished late, the dossier resolved after its due time: every watched instant fires.
        "late": timer_walk("2.001417", received, life(
            vn(2026, 3, 16, 10), vn(2026, 3, 27, 9), vn(2026, 4, 2, 9), vn(2026, 4, 3, 9)), vn(2026, 5, 1)),
    }
    return {"price_usd_per_1000": PRICE_PER_1000_TRANSITIONS, "asl": asl_costs(), "cases": cases}


def report_transitions(result: dict[str, Any]) -> None:
    print(f"\ntimer state transitions per dossier (Standard, ${result['price_usd_per_1000']}/1,000):")
    for case, c in result["cases"].items():
        print(f"  {case:15} {c['transitions']:2} transitions ({c['timers']} timers, {c['wakes']} wakes) "
              f"= ${c['usd_per_million']:,.2f} per million dossiers; flags {', '.join(c['flags']) or '-'}")


# --- sweep: the wake index against a full scan ----------------------------------------------------------------
SWEEP_OPEN = int(os.environ.get("MOTCUA_BENCH_SWEEP_OPEN", "100000"))
SWEEP_DUE = int(os.environ.get("MOTCUA_BENCH_SWEEP_DUE", "100"))
SCAN_PAGE = 200


def sweep_in_child() -> dict[str, Any]:
    """Run `sweep_bench` in a fresh process with its own DynamoDB Local on disk; answer its JSON."""
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--sweep"], capture_output=True,
                         text=True, timeout=3600, env={**os.environ, "TZ": "UTC"})
    if out.returncode != 0:
        raise RuntimeError(f"sweep bench failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def sweep_bench() -> dict[str, Any]:
    import copy as copying
    import shutil
    import tempfile
    from datetime import datetime
    from zoneinfo import ZoneInfo

    data_dir = Path(tempfile.mkdtemp(prefix="motcua-sweep-"))
    port = dynamodb_local.free_port()
    database = dynamodb_local.start(port, db_path=data_dir)
    try:
        os.environ.update({**dynamodb_local.local_environment(port, PREFIX), "MOTCUA_AUTH_MODE": "local",
                           "MOTCUA_LOCAL_JWKS": str(ROOT / ".local" / "keys" / "jwks.json")})
        silence_service_logs()
        install_hooks()
        from scripts.seed import load_catalogue

        load_catalogue()
        import boto3
        from botocore.exceptions import ClientError

        from chalicelib import bootstrap
        from chalicelib.adapters.dynamodb.dossiers import _to_model
        from chalicelib.adapters.dynamodb.models import DossierModel
        from chalicelib.domain.dossier import Actor
        from chalicelib.services.deadlines import sweep
        from chalicelib.services.intake import receive_dossier

        def vn(*parts: int) -> datetime:
            return datetime(*parts, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))

        desk = Actor("desk.bench", CENTRE, frozenset({"desk"}))
        sweep_at = vn(2026, 3, 30, 10)  # the due dossiers' due time (30 Mar 09:00) has just passed

        def template(received: datetime) -> Any:
            bootstrap.override(now=lambda: received)
            code = receive_dossier(bootstrap.deps(), desk, INTAKE_BODY)["code"]
            dossier = bootstrap.deps().dossiers.get(code, consistent=True)
            assert dossier is not None and dossier.next_wake is not None
            return dossier

        due, waiting = template(vn(2026, 3, 16, 9)), template(vn(2026, 3, 27, 9))
        assert due.next_wake <= sweep_at < waiting.next_wake
        client = boto3.client("dynamodb")
        table = DossierModel.Meta.table_name
        loading = time.perf_counter()
        batch: list[dict[str, Any]] = []
        for i in range(SWEEP_OPEN):
            dossier = copying.copy(due if i < SWEEP_DUE else waiting)
            dossier.code = f"{CENTRE}-260301-{i:06d}"
            batch.append({"PutRequest": {"Item": _to_model(dossier).serialize()}})
            if len(batch) == 25 or i == SWEEP_OPEN - 1:
                while batch:
                    left = client.batch_write_item(RequestItems={table: batch}).get("UnprocessedItems", {})
                    batch = left.get(table, [])
        load_s = time.perf_counter() - loading

        bootstrap.override(now=lambda: sweep_at)
        report, swept = measured(lambda: sweep(bootstrap.deps(), limit=200))
        assert report["woken"] == SWEEP_DUE + 1, report  # the newly overdue, and the due template itself

        def scan() -> int:
            # Pages of SCAN_PAGE items: DynamoDB Local failed (InternalFailure) on 1 MB pages of this table. The
            # read units are the same either way: a scan is charged by the bytes it reads.
            items, start = 0, None
            while True:
                for attempt in range(5):
                    try:
                        page = client.scan(TableName=table, Select="COUNT", Limit=SCAN_PAGE,
                                           **({"ExclusiveStartKey": start} if start else {}))
                        break
                    except ClientError as exc:
                        if attempt == 4 or exc.response["Error"]["Code"] not in ("InternalFailure",
                                                                                  "InternalServerError"):
                            raise
                        time.sleep(1)
                items += page["Count"]
                start = page.get("LastEvaluatedKey")
                if not start:
                    return items

        scanned_items, scanned = measured(scan)
        assert scanned_items == SWEEP_OPEN + 2
        return {"open_dossiers": scanned_items, "newly_overdue": report["woken"], "load_seconds": load_s,
                "sweep": {**swept, "report": report}, "full_scan": scanned,
                "ratio_rcu": scanned["rcu"] / swept["rcu"], "ratio_time": scanned["seconds"] / swept["seconds"]}
    finally:
        dynamodb_local.stop(database)
        shutil.rmtree(data_dir, ignore_errors=True)


def report_sweep(result: dict[str, Any]) -> None:
    s, f = result["sweep"], result["full_scan"]
    print(f"\nsweep over {result['open_dossiers']:,} open dossiers, {result['newly_overdue']} newly overdue "
          f"(loaded in {result['load_seconds']:.0f} s):")
    print(f"  sweep (wake index + wake each):  {s['rcu']:10,.1f} RCU {s['wcu']:8,.1f} WCU {s['seconds']:7.2f} s")
    print(f"  full scan of the dossiers table: {f['rcu']:10,.1f} RCU {'':12} {f['seconds']:7.2f} s")
    print(f"  ratio scan/sweep: {result['ratio_rcu']:,.0f}x the read capacity, {result['ratio_time']:,.1f}x the time")


if __name__ == "__main__":
    if sys.argv[1:] == ["--sweep"]:
        print(json.dumps(sweep_bench()))
    elif sys.argv[1:2] == ["--report06"]:
        from scripts import bench_report06

        print(json.dumps(bench_report06.main(sys.argv[3] if sys.argv[2:3] == ["--endpoint"] else None)))
    elif sys.argv[1:2] == ["--forms"]:
        from scripts import bench_forms

        print(json.dumps(bench_forms.main()))
    else:
        main()
