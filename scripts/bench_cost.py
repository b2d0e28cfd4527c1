"""`make bench ONLY=cost`: what one dossier's whole life costs on AWS, counted request by request on the local stack.

    TZ=UTC .venv/bin/python scripts/bench_cost.py [--lives 5]

The walkthrough's path (README.md): the desk receives a criminal-record certificate request (with an
Idempotency-Key, as the walkthrough sends), Justice assigns it and completes the step, the leader resolves it, the
desk returns the result, the control sheet is read and the applicant looks the code up. Everything runs as route 2
runs it on AWS (docs/deploy.md), in this process, against its own DynamoDB Local:
- each HTTP request goes through the API function's Lambda handler (Chalice's test client: one API Gateway
  request, one invocation);
- the outbox table's stream is read by the local poller (scripts/local_stream.py) and its inserts handed to the
  `outbox_stream` function (the mapping's filter passes inserts only), which publishes with the EventBridge
  adapter itself (adapters/eventbridge.py) to a recording client: one entry per event;
- each entry goes, as the stage's rules route it (a rule per consumer on its event types), through the consumer's
  SQS queue to its function: the SQS record handed to that function's handler (one message per invocation, the
  most invocations a quiet stage makes; SendMessage by the rule, ReceiveMessage and DeleteMessageBatch by
  Lambda's poller: 3 SQS requests a message);
- timers: the deadline_timers consumer's StartExecution calls are counted; each costs the state transitions from
  the start to its first Wait in infra/deadline-timer.asl.json (an on-time life ends before any wake, as the
  timer walk of scripts/bench.py finds; a late one adds wakes: docs/performance.md, "Timers");
- the national portal sync's push (a schedule, every minute) is run once after each life against the fake portal
  (scripts/fake_portal.py): its DynamoDB units count; its invocation is the schedule's, not the dossier's.

Counted: DynamoDB read and write units by table and index as DynamoDB Local reports them (a botocore hook asks
every call for ReturnConsumedCapacity=INDEXES), by the function that spent them; Lambda invocations and their
GB-seconds (each invocation's measured duration in this process, rounded up to the millisecond as Lambda bills,
times the function's memory in .chalice/config.json); API Gateway requests; EventBridge entries; SQS requests;
Step Functions transitions; S3 requests (none on this path today: the line is kept). One life first, unmetered
(imports, the catalogue's cache, connections: a warm container), then `--lives` metered, averaged.

Priced at the list prices of ap-southeast-1 (PRICES below, with where and when they are from); printed in dollars
per million dossiers with the three largest lines named, against the goal of $150. Results go to
.local/bench.json under "cost"; the figures are recorded in docs/performance.md, "Cost of a dossier's life".
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

GOAL_USD_PER_MILLION = 150.0
STAGE = "prod"
CENTRE, JUSTICE = "000.00.24.H56", "000.00.11.H56"

# List prices, US dollars, Asia Pacific (Singapore) ap-southeast-1, the region docs/deploy.md prices in. Taken from
# the AWS pricing pages as they stood in January 2025 (DynamoDB's on-demand prices after the 1 November 2024
# reduction); this machine has no access to the pricing pages, so they were not re-read on the day of the run:
# check https://aws.amazon.com/<service>/pricing/ before quoting a bill. Free tiers are ignored.
PRICES_AS_OF = "2025-01 (AWS list prices, ap-southeast-1; not re-checked online since)"
PRICES: dict[str, tuple[float, str]] = {
    "dynamodb_write": (0.7125 / 1e6, "DynamoDB on-demand, per write request unit"),
    "dynamodb_read": (0.1425 / 1e6, "DynamoDB on-demand, per read request unit"),
    "lambda_request": (0.20 / 1e6, "Lambda, per request"),
    "lambda_gb_s": (0.0000166667, "Lambda (x86), per GB-second"),
    "api_request": (3.50 / 1e6, "API Gateway REST API, per request (first 333 million a month)"),
    "eventbridge_entry": (1.00 / 1e6, "EventBridge, per custom event (64 KB chunk) put"),
    "sqs_request": (0.40 / 1e6, "SQS standard queue, per request (64 KB chunk)"),
    "sfn_transition": (0.025 / 1000, "Step Functions Standard, per state transition"),
    "s3_put": (0.005 / 1000, "S3 Standard, per PUT/POST/LIST request"),
    "s3_get": (0.0004 / 1000, "S3 Standard, per GET request"),
}
SQS_REQUESTS_PER_MESSAGE = 3  # SendMessage (the rule), ReceiveMessage and DeleteMessageBatch (Lambda's poller)
SCHEDULES = frozenset({"portal_sync_push"})  # invocations not made for a dossier (the schedule's own)
_READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}


class Meter:
    """Everything counted while `on`; `function` is the Lambda function whose invocation is running (one
    thread: the bench drives every function in turn)."""

    on = False
    function = "-"
    lock = threading.Lock()
    read: defaultdict[tuple[str, str], float] = defaultdict(float)  # (function, table[/index]) -> units
    write: defaultdict[tuple[str, str], float] = defaultdict(float)
    calls: Counter[str] = Counter()  # DynamoDB operations
    detail: defaultdict[str, float] = defaultdict(float)  # "<function> <operation> <table>" -> units
    invocations: Counter[str] = Counter()
    billed_ms: Counter[str] = Counter()
    api_requests = 0
    entries = 0
    entry_chunks = 0
    sqs_messages = 0
    executions = 0
    stops = 0
    s3_put = 0
    s3_get = 0

    @classmethod
    def reset(cls) -> None:
        cls.read, cls.write = defaultdict(float), defaultdict(float)
        cls.calls, cls.invocations, cls.billed_ms = Counter(), Counter(), Counter()
        cls.detail = defaultdict(float)
        cls.api_requests = cls.entries = cls.entry_chunks = cls.sqs_messages = 0
        cls.executions = cls.stops = cls.s3_put = cls.s3_get = 0


def _ask(params: dict[str, Any], model: Any, **_: Any) -> None:
    if Meter.on and "ReturnConsumedCapacity" in model.input_shape.members:
        params["ReturnConsumedCapacity"] = "INDEXES"


_pending = threading.local()
INDEXES: dict[str, list[tuple[str, list[str], dict[str, Any]]]] = {}  # table -> (index, its keys, projection)


def load_indexes() -> None:
    """Every table's global secondary indexes, read once before metering."""
    import boto3

    client = boto3.client("dynamodb")
    for table in client.list_tables()["TableNames"]:
        described = client.describe_table(TableName=table)["Table"]
        base = [k["AttributeName"] for k in described["KeySchema"]]
        INDEXES[table] = [(g["IndexName"], base + [k["AttributeName"] for k in g["KeySchema"]], g["Projection"])
                          for g in described.get("GlobalSecondaryIndexes", [])]


def _short(table: str) -> str:
    return table.split("-", 2)[-1]  # motcua-bench-<table>


def _transaction(params: dict[str, Any], **_: Any) -> None:
    """A transaction's base-table units by DynamoDB's rules, from its items: 2 per started KB of a put, 2 for an
    update, delete or condition check (their items here are small: states, counters, guards; a dossier's own
    update is a put). DynamoDB Local reports one item per table of a transaction, so a table with two items in
    one (the sync's item and state, the counters) is priced from this instead."""
    from scripts.bench_import import item_bytes

    by_table: defaultdict[str, list[float]] = defaultdict(list)
    on_index: defaultdict[str, float] = defaultdict(float)
    for entry in params.get("TransactItems", []):
        ((kind, body),) = entry.items()
        table = _short(body["TableName"])
        units = 2.0 * max(1, math.ceil(item_bytes(body["Item"]) / 1024)) if kind == "Put" else 2.0
        by_table[table].append(units)
        if kind == "Put":  # the index entries it makes (sparse indexes: only when the item has their keys)
            for index, keys, projection in INDEXES.get(body["TableName"], []):
                if all(k in body["Item"] for k in keys):
                    kept = body["Item"] if projection["ProjectionType"] == "ALL" else {
                        k: v for k, v in body["Item"].items()
                        if k in keys or k in projection.get("NonKeyAttributes", [])}
                    on_index[f"{table}/{index}"] += 2.0 * max(1, math.ceil(item_bytes(kept) / 1024))
    many = {t for t, u in by_table.items() if len(u) > 1}
    _pending.rule = {**{t: sum(by_table[t]) for t in many},
                     **{i: u for i, u in on_index.items() if i.split("/")[0] in many}}


def _record(parsed: dict[str, Any], model: Any, **_: Any) -> None:
    if not Meter.on:
        return
    consumed = parsed.get("ConsumedCapacity") or []
    target = Meter.read if model.name in _READS else Meter.write
    rule: dict[str, float] = getattr(_pending, "rule", {}) if model.name == "TransactWriteItems" else {}
    _pending.rule = {}
    with Meter.lock:
        Meter.calls[model.name] += 1
        for entry in consumed if isinstance(consumed, list) else [consumed]:
            table = _short(entry.get("TableName", "?"))
            total = float(entry.get("CapacityUnits", 0))
            indexes = entry.get("GlobalSecondaryIndexes") or {}
            on_indexes = sum(float(v.get("CapacityUnits", 0)) for v in indexes.values())
            own = max(float(entry.get("Table", {}).get("CapacityUnits", total - on_indexes)), rule.get(table, 0.0))
            target[(Meter.function, table)] += own
            Meter.detail[f"{Meter.function} {model.name} {table}"] += own
            for index, used in indexes.items():
                units = max(float(used.get("CapacityUnits", 0)), rule.get(f"{table}/{index}", 0.0))
                target[(Meter.function, f"{table}/{index}")] += units
                Meter.detail[f"{Meter.function} {model.name} {table}/{index}"] += units


def _count_s3(model: Any, **_: Any) -> None:
    if Meter.on:
        with Meter.lock:
            if model.name in ("GetObject", "HeadObject"):
                Meter.s3_get += 1
            else:
                Meter.s3_put += 1


def install_hooks() -> None:
    """On every client botocore creates from now on (PynamoDB's, boto3's, Powertools'): DynamoDB's consumed
    capacity, and any S3 request."""
    from botocore.session import Session

    create_client = Session.create_client

    def metered(self: Session, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            client.meta.events.register("provide-client-params.dynamodb.*", _ask)
            client.meta.events.register("after-call.dynamodb.*", _record)
            client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", _transaction)
        elif service_name == "s3":
            client.meta.events.register("before-call.s3.*", _count_s3)
        return client

    Session.create_client = metered  # type: ignore[method-assign]


def memory_mb(function: str) -> int:
    """The function's configured memory in the stage of .chalice/config.json (its own, else the stage's, else
    Chalice's default of 128 MB)."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    stage = config["stages"][STAGE]
    own = stage.get("lambda_functions", {}).get(function, {})
    return int(own.get("lambda_memory_size", stage.get("lambda_memory_size", config.get("lambda_memory_size",
                                                                                        128))))


def invoke(function: str, call: Callable[[], Any]) -> Any:
    """`call()` as one invocation of `function`: timed and billed (rounded up to the millisecond)."""
    previous = Meter.function
    Meter.function = function
    started = time.perf_counter()
    try:
        return call()
    finally:
        elapsed_ms = (time.perf_counter() - started) * 1000
        Meter.function = previous
        if Meter.on:
            Meter.invocations[function] += 1
            Meter.billed_ms[function] += math.ceil(elapsed_ms)


class RecordingEvents:
    """The `events` client the EventBridge adapter is given: PutEvents recorded, every entry accepted."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 (boto3's name)
        self.entries.extend(Entries)
        if Meter.on:
            Meter.entries += len(Entries)
            # Billed per 64 KB chunk of each entry (Source, DetailType, Detail, Resources).
            Meter.entry_chunks += sum(max(1, math.ceil(len((e["Detail"] + e["DetailType"] + e["Source"])
                                                            .encode("utf-8")) / 65536)) for e in Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(uuid.uuid4())} for _ in Entries]}


class CountingTimers:
    """The TimerScheduler the consumers are given: StartExecution and StopExecution counted. On AWS each watch
    generation is one Standard execution named by its code and generation: a second StartExecution of the same
    name (each event of a generation asks again) starts nothing and costs no transition, so only the first
    counts."""

    def __init__(self) -> None:
        self.started: set[tuple[str, int]] = set()

    def start(self, code: str, generation: int, wake_at: Any) -> None:
        if (code, generation) not in self.started:
            self.started.add((code, generation))
            if Meter.on:
                Meter.executions += 1

    def stop(self, code: str, generation: int) -> None:
        if Meter.on:
            Meter.stops += 1


class Stage:
    """The app's functions wired as route 2 wires them, driven in this thread."""

    def __init__(self, client: Any, events: RecordingEvents) -> None:
        from app import app
        from chalicelib.services import consumers
        from scripts.local_stream import lambda_handler, outbox_poller

        self.app, self.client, self.events = app, client, events
        self.routes = {c.name: c.types for c in consumers.registry()}
        self.stream = lambda_handler(app)
        self.poller = outbox_poller(self._stream)
        self.delivered = 0

    def _stream(self, event: dict[str, Any]) -> dict[str, Any]:
        inserts = [r for r in event["Records"] if r.get("eventName") == "INSERT"]  # the mapping's filter
        if not inserts:
            return {}
        return dict(invoke("outbox_stream", lambda: self.stream({"Records": inserts})))

    def drain(self) -> None:
        """The stream read until quiet, each entry published meanwhile delivered to its consumers."""
        from chalice.test import LambdaContext

        quiet = 0
        while quiet < 3:
            report = self.poller.poll()
            fresh = self.events.entries[self.delivered:]
            self.delivered = len(self.events.entries)
            for entry in fresh:
                detail = json.loads(entry["Detail"])
                for consumer, types in self.routes.items():
                    if entry["DetailType"] not in types:
                        continue
                    if Meter.on:
                        Meter.sqs_messages += 1
                    name = f"{consumer}_consumer"
                    handler = self.app.handler_map[name]
                    body = json.dumps({"version": "0", "id": str(uuid.uuid4()), "detail-type": entry["DetailType"],
                                       "source": entry["Source"], "time": str(entry["Time"]), "detail": detail})
                    sqs = {"Records": [{"messageId": str(uuid.uuid4()), "receiptHandle": "bench", "body": body,
                                        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                                        "md5OfBody": "", "eventSource": "aws:sqs", "awsRegion": "ap-southeast-1",
                                        "eventSourceARN": f"arn:aws:sqs:ap-southeast-1:000000000000:{name}"}]}
                    answer = invoke(name, lambda h=handler, s=sqs, n=name: h(s, LambdaContext(n, memory_size=512)))
                    if answer and answer.get("batchItemFailures"):
                        raise RuntimeError(f"{consumer} failed on {entry['DetailType']}: {answer}")
            quiet = 0 if report.get("records") or fresh else quiet + 1
            if quiet:
                time.sleep(0.15)

    def http(self, method: str, path: str, headers: dict[str, str] | None = None,
             body: dict[str, Any] | None = None) -> dict[str, Any]:
        if Meter.on:
            Meter.api_requests += 1
        response = invoke("api_handler", lambda: getattr(self.client.http, method)(
            path, headers=headers or {}, **({"body": json.dumps(body)} if body is not None else {})))
        if response.status_code >= 300:
            raise RuntimeError(f"{method.upper()} {path}: {response.status_code} {response.body!r}")
        self.drain()
        return dict(json.loads(response.body))

    def schedule(self, name: str) -> None:
        from chalice.test import LambdaContext

        event = self.client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event",
                                                     detail={}, resources=[])
        handler = self.app.handler_map[name]
        invoke(name, lambda: handler(event, LambdaContext(name, memory_size=memory_mb(name))))


def life(stage: Stage, tokens: dict[str, str]) -> str:
    """The walkthrough's dossier, from intake to the public lookup."""
    from scripts.bench_events import BODY

    def auth(who: str, idempotency: bool = False) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {tokens[who]}", "Content-Type": "application/json"}
        if idempotency:
            headers["Idempotency-Key"] = f"bench-{uuid.uuid4()}"
        return headers

    body = {**BODY, "applicant": {**BODY["applicant"], "phone": "0912345678"}}
    dossier = stage.http("post", "/v1/dossiers", auth("desk", idempotency=True), body)
    code = dossier["code"]
    steps = [("officer", {"action": "assign"}),
             ("officer", {"action": "complete_step", "note": "Đã tra cứu, không có án tích"}),
             ("leader", {"action": "resolve", "result": {"summary": "Phiếu LLTP số 1234/STP"}}),
             ("desk", {"action": "return_result"})]
    for who, action in steps:
        dossier = stage.http("post", f"/v1/dossiers/{code}/actions", auth(who),
                             {**action, "version": dossier["version"]})
    stage.http("get", f"/v1/dossiers/{code}/history", auth("desk"))
    stage.http("get", f"/v1/public/dossiers/{code}")
    stage.schedule("portal_sync_push")
    stage.drain()
    return code


def measure(lives: int) -> dict[str, Any]:
    from scripts.bench_events import database
    from scripts.fake_portal import FakePortal

    with database(), FakePortal() as portal:
        os.environ.update({"MOTCUA_PORTAL_URL": portal.url, "POWERTOOLS_LOG_LEVEL": "WARNING"})
        from scripts import local_keys

        local_keys.ensure_keys()
        install_hooks()
        from scripts.bench import silence_service_logs
        from scripts.seed import load_catalogue

        silence_service_logs()
        load_catalogue()
        from chalice.test import Client

        from app import app
        from chalicelib import bootstrap
        from chalicelib.adapters.eventbridge import EventBridgePublisher

        events = RecordingEvents()
        bootstrap.override(publisher=EventBridgePublisher("motcua-bench-bus", client=events),
                           timers=CountingTimers())
        tokens = {"desk": local_keys.make_token(CENTRE, ["desk"], "tn.lan"),
                  "officer": local_keys.make_token(JUSTICE, ["processor"], "cv.binh"),
                  "leader": local_keys.make_token(JUSTICE, ["leader"], "ld.cuong")}
        try:
            with Client(app, stage_name="local") as client:
                stage = Stage(client, events)
                life(stage, tokens)  # warm: a container that has served before
                load_indexes()
                Meter.reset()
                Meter.on = True
                try:
                    for _ in range(lives):
                        code = life(stage, tokens)
                finally:
                    Meter.on = False
                sizes = item_sizes(code)
        finally:
            bootstrap.override()
    return {**per_dossier(lives), "item_bytes": sizes}


def item_sizes(code: str) -> dict[str, Any]:
    """The returned dossier's item and its attributes, and its outbox events' items: the bytes capacity is
    charged on (per started KB written, 4 KB read)."""
    from chalicelib.adapters.dynamodb.dossiers import item_size
    from chalicelib.adapters.dynamodb.models import DossierModel, OutboxModel

    item = DossierModel.get(code, consistent_read=True)
    attributes = {name: len(name) + len(json.dumps(next(iter(value.values())), ensure_ascii=False).encode("utf-8"))
                  for name, value in item.serialize().items()}
    events = sorted(item_size(e) for e in OutboxModel.query(code))

    return {"dossier": item_size(item), "dossier_attributes": dict(sorted(attributes.items(), key=lambda kv: -kv[1])),
            "outbox_events": events}


def per_dossier(lives: int) -> dict[str, Any]:
    from scripts.bench import asl_costs

    def by(units: dict[tuple[str, str], float], key: int) -> dict[str, float]:
        out: defaultdict[str, float] = defaultdict(float)
        for k, v in units.items():
            out[k[key]] += v / lives
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    gb_s = {f: Meter.billed_ms[f] / 1000 * memory_mb(f) / 1024 / lives for f in Meter.invocations}
    dossier_functions = [f for f in Meter.invocations if f not in SCHEDULES]
    transitions_per_start = asl_costs()["start"]
    return {
        "lives": lives,
        "dynamodb": {"rcu": sum(Meter.read.values()) / lives, "wcu": sum(Meter.write.values()) / lives,
                     "rcu_by_table": by(Meter.read, 1), "wcu_by_table": by(Meter.write, 1),
                     "rcu_by_function": by(Meter.read, 0), "wcu_by_function": by(Meter.write, 0),
                     "calls": {k: v / lives for k, v in Meter.calls.most_common()},
                     "by_call": {k: v / lives for k, v in sorted(Meter.detail.items(), key=lambda kv: -kv[1])}},
        "lambda": {"invocations": {f: Meter.invocations[f] / lives for f in sorted(Meter.invocations)},
                   "ms": {f: Meter.billed_ms[f] / Meter.invocations[f] for f in sorted(Meter.invocations)},
                   "memory_mb": {f: memory_mb(f) for f in sorted(Meter.invocations)},
                   "gb_s": gb_s, "dossier_invocations": sum(Meter.invocations[f] for f in dossier_functions) / lives},
        "api_requests": Meter.api_requests / lives,
        "eventbridge_entries": Meter.entry_chunks / lives,
        "events": Meter.entries / lives,
        "sqs_requests": Meter.sqs_messages * SQS_REQUESTS_PER_MESSAGE / lives,
        "sqs_messages": Meter.sqs_messages / lives,
        "sfn": {"executions": Meter.executions / lives, "stops": Meter.stops / lives,
                "transitions_per_start": transitions_per_start,
                "transitions": Meter.executions * transitions_per_start / lives},
        "s3": {"put": Meter.s3_put / lives, "get": Meter.s3_get / lives},
    }


def price(figures: dict[str, Any]) -> dict[str, Any]:
    """Dollars per million dossiers, line by line."""
    p = {k: v for k, (v, _) in PRICES.items()}
    million = 1e6
    lines = {
        "DynamoDB writes": figures["dynamodb"]["wcu"] * p["dynamodb_write"] * million,
        "DynamoDB reads": figures["dynamodb"]["rcu"] * p["dynamodb_read"] * million,
        "Lambda requests": figures["lambda"]["dossier_invocations"] * p["lambda_request"] * million,
        "Lambda GB-seconds": sum(figures["lambda"]["gb_s"].values()) * p["lambda_gb_s"] * million,
        "API Gateway requests": figures["api_requests"] * p["api_request"] * million,
        "EventBridge entries": figures["eventbridge_entries"] * p["eventbridge_entry"] * million,
        "SQS requests": figures["sqs_requests"] * p["sqs_request"] * million,
        "Step Functions transitions": figures["sfn"]["transitions"] * p["sfn_transition"] * million,
        "S3 requests": (figures["s3"]["put"] * p["s3_put"] + figures["s3"]["get"] * p["s3_get"]) * million,
    }
    total = sum(lines.values())
    top = sorted(lines.items(), key=lambda kv: -kv[1])[:3]
    return {"usd_per_million": {k: round(v, 2) for k, v in lines.items()}, "total": round(total, 2),
            "top3": [name for name, _ in top], "goal": GOAL_USD_PER_MILLION,
            "ratio_to_goal": round(total / GOAL_USD_PER_MILLION, 3), "prices_as_of": PRICES_AS_OF,
            "prices": {k: {"usd": v, "what": what} for k, (v, what) in PRICES.items()}}


def report(result: dict[str, Any]) -> None:
    f, c = result["figures"], result["cost"]
    d, lam = f["dynamodb"], f["lambda"]
    print(f"\nOne dossier's life (the walkthrough: intake, 4 actions, control sheet, public lookup), mean of "
          f"{f['lives']} lives, route 2 driven in-process on DynamoDB Local")
    print(f"  DynamoDB: {d['wcu']:.1f} WCU, {d['rcu']:.1f} RCU")
    for name, units in d["wcu_by_table"].items():
        print(f"      write {name:<34} {units:6.1f}")
    for name, units in d["rcu_by_table"].items():
        print(f"      read  {name:<34} {units:6.1f}")
    print("    by function (WCU / RCU): " + ", ".join(
        f"{k} {v:.1f}/{d['rcu_by_function'].get(k, 0):.1f}" for k, v in d["wcu_by_function"].items()))
    sizes = f["item_bytes"]
    print(f"  items: the returned dossier {sizes['dossier']:,} bytes ("
          + ", ".join(f"{k} {v:,}" for k, v in list(sizes["dossier_attributes"].items())[:3])
          + f"); its {len(sizes['outbox_events'])} outbox events {min(sizes['outbox_events']):,}-"
          f"{max(sizes['outbox_events']):,} bytes")
    print(f"  Lambda: {lam['dossier_invocations']:.1f} invocations for the dossier, "
          f"{sum(lam['gb_s'].values()):.3f} GB-s")
    for name in lam["invocations"]:
        print(f"      {name:<28} {lam['invocations'][name]:4.1f} x {lam['ms'][name]:6.1f} ms x "
              f"{lam['memory_mb'][name]} MB = {lam['gb_s'][name]:.4f} GB-s"
              + ("  (a schedule: its invocation is not the dossier's)" if name in SCHEDULES else ""))
    print(f"  API Gateway: {f['api_requests']:.0f} requests;  EventBridge: {f['eventbridge_entries']:.0f} entries "
          f"({f['events']:.0f} events);  SQS: {f['sqs_requests']:.0f} requests ({f['sqs_messages']:.0f} messages)")
    print(f"  Step Functions: {f['sfn']['executions']:.0f} executions x {f['sfn']['transitions_per_start']} "
          f"transitions = {f['sfn']['transitions']:.0f};  S3: {f['s3']['put']:.0f} PUT, {f['s3']['get']:.0f} GET")
    print(f"\n$ per million dossiers at list prices ({c['prices_as_of']}):")
    for name, usd in sorted(c["usd_per_million"].items(), key=lambda kv: -kv[1]):
        print(f"  {name:<28} {usd:9.2f}")
    print(f"  {'total':<28} {c['total']:9.2f}   goal <= {c['goal']:.0f}: ratio {c['ratio_to_goal']:.2f}"
          f" ({'met' if c['total'] <= c['goal'] else 'NOT met'})")
    print(f"  top three: {', '.join(c['top3'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lives", type=int, default=5, help="metered lives, averaged (default 5)")
    args = parser.parse_args()
    figures = measure(args.lives)
    result = {"figures": figures, "cost": price(figures)}
    report(result)
    from scripts.bench import save

    save({"cost": result})
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
