"""`make bench`: motcua against DynamoDB Local, always beside the same work done with bare boto3 in the same run.

- throughput: the intake and transition use cases beside the same DynamoDB calls made with raw boto3 (same
  tables, same item shapes), alternating in rounds, the last round reported; their ratio; round trips per
  operation (every botocore call is counted);
- capacity: the read and write capacity units each intake and transition consumes, as DynamoDB Local reports them
  (ReturnConsumedCapacity added by a botocore event hook on every DynamoDB client), by table and index;
- cold start: a fresh process that imports the app and serves one public lookup through the Lambda handler,
  beside a fresh process that makes the same GetItem with bare boto3; their ratio; and `import app` alone.

Bounded: N operations each (MOTCUA_BENCH_N, default 200), one DynamoDB Local on a free loopback port, stopped at
the end. The table is printed, and the figures written to .local/bench.json under the keys "core", "capacity" and
"cold_start" (other benches add their own keys to the same file). Figures are recorded in docs/performance.md.
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


INTAKE_BODY = {
    "procedure_code": "2.001417", "channel": "direct",
    "applicant": {"name": "Nguyễn Văn An", "id_number": "038090001234"},
    "form": {"full_name": "Nguyễn Văn An", "date_of_birth": "1990-05-02", "form_number": 1, "purpose": "Xin việc"},
    "documents": [{"name": "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "copies": 1}],
}


def run_benchmarks() -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    import boto3

    from chalicelib.adapters.dynamodb.models import CounterModel, DossierModel
    from chalicelib.domain.dossier import Actor
    from chalicelib.services.actions import perform_action
    from chalicelib.services.bootstrap import deps
    from chalicelib.services.intake import receive_dossier

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
        f"{op['TableName'].removeprefix(PREFIX + '-')}": _item_bytes(op["Item"])
        for item in intake_items for op in item.values() if "Item" in op}})
    return results, capacity, first


def _item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (UTF-8), the figure capacity is charged on."""
    size = 0
    for name, value in item.items():
        size += len(name.encode("utf-8"))
        ((kind, raw),) = value.items()
        size += len(str(raw).encode("utf-8")) if kind in ("S", "N") else len(json.dumps(raw).encode("utf-8"))
    return size


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


if __name__ == "__main__":
    main()
