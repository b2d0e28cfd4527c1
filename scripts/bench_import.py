"""`make bench` → `import`: `make import`'s work beside the raw BatchWriteItem floor of the same dossier items.

    python scripts/bench_import.py [--rows 100000] [--workers 8] [--chunk 50] [--capacity-rows 1000]

In a process of its own with its own DynamoDB Local (its files on /dev/shm when there is one, the optimising JIT,
as bench_report06 does):
- generated rows (scripts/make_import_sample.py, no bad ones; generated first, not timed) imported as `make import`
  does (services/importer.py, `--workers` threads, chunks of `--chunk` rows): rows per second;
- the floor, in the same run: the very dossier items the import stored (`_to_model(dossier).serialize()`, built
  before the clock starts and streamed from a file) put with bare BatchWriteItem (25 a call, the same number of
  threads) into a copy of the dossiers table with the same key schema and indexes: rows per second. No claim, no
  control sheet, no counters, no sync: what writing the dossiers alone costs;
- the write units per new row of that import, by DynamoDB's rules, from every item it wrote (captured from the
  requests): 1 per KB of a plain put and 2 of a transactional one, and the same for each global secondary index
  the item lands in; beside what DynamoDB Local reports (it counts one item per table of a transaction); then of a
  smaller file imported alone by one thread (its counters share fewer keys), and that file again (all
  duplicates: reads only).

Prints a summary and, last, one JSON line. The figures are recorded in docs/performance.md, "Import".
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts import dynamodb_local  # noqa: E402

PREFIX = "motcua-bench-import"
_READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}


class Meter:
    """What the import sends while `on`: every item written (table, item or None for an update, transactional),
    and the capacity DynamoDB Local reports."""

    on = False
    lock = threading.Lock()
    writes: list[tuple[str, dict[str, Any] | None, bool]] = []
    reported_write = 0.0
    reported_read = 0.0

    @classmethod
    def reset(cls) -> None:
        cls.writes, cls.reported_write, cls.reported_read = [], 0.0, 0.0


def _capture(params: dict[str, Any], model: Any, **_: Any) -> None:
    if not Meter.on:
        return
    if "ReturnConsumedCapacity" in model.input_shape.members:
        params["ReturnConsumedCapacity"] = "TOTAL"
    found: list[tuple[str, dict[str, Any] | None, bool]] = []
    if model.name == "PutItem":
        found.append((params["TableName"], params["Item"], False))
    elif model.name == "UpdateItem":
        found.append((params["TableName"], None, False))
    elif model.name == "BatchWriteItem":
        for table, requests in params["RequestItems"].items():
            found.extend((table, r["PutRequest"]["Item"], False) for r in requests if "PutRequest" in r)
    elif model.name == "TransactWriteItems":
        for entry in params["TransactItems"]:
            if "Put" in entry:
                found.append((entry["Put"]["TableName"], entry["Put"]["Item"], True))
            elif "Update" in entry:
                found.append((entry["Update"]["TableName"], None, True))
    with Meter.lock:
        Meter.writes.extend(found)


def _reported(parsed: dict[str, Any], model: Any, **_: Any) -> None:
    if not Meter.on:
        return
    consumed = parsed.get("ConsumedCapacity") or []
    for entry in consumed if isinstance(consumed, list) else [consumed]:
        units = float(entry.get("CapacityUnits", 0))
        with Meter.lock:
            if model.name in _READS:
                Meter.reported_read += units
            else:
                Meter.reported_write += units


def install_hooks() -> None:
    from botocore.session import Session

    create_client = Session.create_client

    def metered(self: Session, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            client.meta.events.register("provide-client-params.dynamodb.*", _capture)
            client.meta.events.register("after-call.dynamodb.*", _reported)
        return client

    Session.create_client = metered  # type: ignore[method-assign]


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (UTF-8), the figure capacity is charged on."""
    size = 0
    for name, value in item.items():
        size += len(name.encode("utf-8"))
        ((kind, raw),) = value.items()
        size += len(str(raw).encode("utf-8")) if kind in ("S", "N") else len(json.dumps(raw).encode("utf-8"))
    return size


class Pricing:
    """Write units by DynamoDB's rules: per KB (rounded up) of the item, twice in a transaction, and the same for
    each global secondary index the item lands in (its projection). An update is priced at its item's 1 KB
    minimum: every update the import makes is of a small counter item."""

    def __init__(self) -> None:
        import boto3

        self.client = boto3.client("dynamodb")
        self.indexes: dict[str, list[tuple[str, list[str], dict[str, Any]]]] = {}

    def _of(self, table: str) -> list[tuple[str, list[str], dict[str, Any]]]:
        if table not in self.indexes:
            described = self.client.describe_table(TableName=table)["Table"]
            base = [k["AttributeName"] for k in described["KeySchema"]]
            self.indexes[table] = [(g["IndexName"], base + [k["AttributeName"] for k in g["KeySchema"]],
                                    g["Projection"]) for g in described.get("GlobalSecondaryIndexes", [])]
        return self.indexes[table]

    def price(self, writes: list[tuple[str, dict[str, Any] | None, bool]]) -> Counter[str]:
        by_target: Counter[str] = Counter()
        for table, item, transactional in writes:
            factor = 2 if transactional else 1
            name = table.removeprefix(PREFIX + "-")
            if item is None:
                by_target[f"{name} (update)"] += factor
                continue
            by_target[name] += factor * max(1, math.ceil(item_bytes(item) / 1024))
            for index, keys, projection in self._of(table):
                if not all(k in item for k in keys):
                    continue  # sparse: the item is not in this index
                kind = projection["ProjectionType"]
                kept = item if kind == "ALL" else {k: v for k, v in item.items() if k in keys or (
                    kind == "INCLUDE" and k in projection.get("NonKeyAttributes", []))}
                by_target[f"{name}/{index}"] += factor * max(1, math.ceil(item_bytes(kept) / 1024))
        return by_target


def generate(path: Path, count: int, seed: int, mark: str) -> None:
    from scripts.make_import_sample import Generator, write

    def marked() -> Iterator[dict[str, Any]]:
        for row in Generator(seed).rows(count, 0):
            unit, day, seq = row["code"].rsplit("-", 2)
            yield {**row, "code": f"{unit}-{day}-{mark}{seq}"}

    write(path, marked())


def floor_items(source: Path, target: Path) -> int:
    """The dossier items `source`'s rows become (serialised as the repository stores them), one JSON line each:
    built before the floor's clock starts."""
    from chalicelib.adapters.dynamodb.dossiers import _to_model
    from chalicelib.bootstrap import deps
    from chalicelib.domain.importing import parse_row
    from chalicelib.services import importer

    runner = importer.Importer(deps(), "bench")
    n = 0
    with source.open(encoding="utf-8", newline="") as stream, target.open("w", encoding="utf-8") as out:
        for _line, _raw, fields, _problems in importer.read_csv(stream):
            built = runner._build(parse_row(fields or {}, runner.now))
            out.write(json.dumps(_to_model(built.dossier).serialize(), ensure_ascii=False) + "\n")
            n += 1
    return n


def floor_table(client: Any, table: str) -> str:
    """A copy of `table`'s key schema and indexes, empty: the floor writes the same items where nothing else is."""
    described = client.describe_table(TableName=table)["Table"]
    copy = f"{table}-floor"
    spec: dict[str, Any] = {"TableName": copy, "KeySchema": described["KeySchema"],
                            "AttributeDefinitions": described["AttributeDefinitions"],
                            "BillingMode": "PAY_PER_REQUEST"}
    if described.get("GlobalSecondaryIndexes"):
        spec["GlobalSecondaryIndexes"] = [{"IndexName": g["IndexName"], "KeySchema": g["KeySchema"],
                                           "Projection": g["Projection"]} for g in described["GlobalSecondaryIndexes"]]
    client.create_table(**spec)
    client.get_waiter("table_exists").wait(TableName=copy)
    return copy


def run_floor(items_file: Path, table: str, workers: int) -> tuple[int, float]:
    """BatchWriteItem of every item of `items_file` into `table`, 25 a call, `workers` threads; unprocessed items
    sent again. Answers (items, seconds)."""
    import boto3

    local = threading.local()

    def client() -> Any:
        if not hasattr(local, "client"):
            local.client = boto3.client("dynamodb")
        return local.client

    def put(batch: list[dict[str, Any]]) -> None:
        requests = {table: [{"PutRequest": {"Item": item}} for item in batch]}
        while requests:
            requests = client().batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}

    def batches() -> Iterator[list[dict[str, Any]]]:
        batch: list[dict[str, Any]] = []
        with items_file.open(encoding="utf-8") as stream:
            for line in stream:
                batch.append(json.loads(line))
                if len(batch) == 25:
                    yield batch
                    batch = []
        if batch:
            yield batch

    count = 0
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        in_flight = []
        for batch in batches():
            count += len(batch)
            in_flight.append(pool.submit(put, batch))
            if len(in_flight) >= workers * 4:
                in_flight.pop(0).result()
        for future in in_flight:
            future.result()
    return count, time.perf_counter() - started


def import_bench(rows: int, workers: int = 8, chunk: int = 50, capacity_rows: int = 1000) -> dict[str, Any]:
    shm = Path("/dev/shm")
    data_dir = Path(tempfile.mkdtemp(prefix="motcua-import-",
                                     dir=shm if shm.is_dir() and os.access(shm, os.W_OK) else None))
    port = dynamodb_local.free_port()
    database = dynamodb_local.start(port, db_path=data_dir, full_jit=True)
    try:
        os.environ.update({**dynamodb_local.local_environment(port, PREFIX), "MOTCUA_AUTH_MODE": "local",
                           "MOTCUA_LOCAL_JWKS": str(ROOT / ".local" / "keys" / "jwks.json"),
                           "POWERTOOLS_LOG_LEVEL": "WARNING"})
        from scripts.import_dossiers import BATCH_TIMEOUTS, import_file

        for name, value in BATCH_TIMEOUTS.items():
            os.environ.setdefault(name, value)
        install_hooks()
        from scripts.seed import load_catalogue

        load_catalogue()
        import boto3

        from chalicelib.bootstrap import deps

        big, small, items = data_dir / "export.csv", data_dir / "capacity.csv", data_dir / "floor.ndjson"
        preparing = time.perf_counter()
        generate(big, rows, 1, "1")
        generate(small, min(capacity_rows, rows), 2, "2")
        floor_items(big, items)
        floor = floor_table(boto3.client("dynamodb"), f"{PREFIX}-dossiers")
        prepare_s = time.perf_counter() - preparing

        pricing = Pricing()

        def metered(path: Path, threads: int) -> tuple[Any, float, dict[str, Any]]:
            Meter.reset()
            Meter.on = True
            started = time.perf_counter()
            try:
                counted, _ = import_file(deps(), path, "bench", workers=threads, chunk=chunk, progress=False)
            finally:
                Meter.on = False
            seconds = time.perf_counter() - started
            n = counted.read
            priced = pricing.price(Meter.writes)
            return counted, seconds, {
                "rows": n, "imported": counted.imported, "duplicates": counted.duplicates,
                "wcu_per_row": sum(priced.values()) / n, "reported_wcu_per_row": Meter.reported_write / n,
                "rcu_per_row": Meter.reported_read / n, "by_target": {k: v / n for k, v in sorted(priced.items())}}

        # The timed import is metered too (its counters are summed over the whole run, as `make import` does):
        # the capture costs the import a little time, never the floor.
        tally, seconds, first = metered(big, workers)
        assert tally.balanced and tally.rejected == 0 and tally.imported == rows, tally
        floor_count, floor_s = run_floor(items, floor, workers)
        assert floor_count == rows
        small_first = metered(small, 1)[2]
        again = metered(small, 1)[2]
        rate, floor_rate = tally.read / seconds, floor_count / floor_s
        return {"rows": tally.read, "imported": tally.imported, "workers": workers, "chunk": chunk,
                "prepare_seconds": prepare_s, "seconds": seconds, "rows_per_s": rate,
                "floor": {"rows": floor_count, "seconds": floor_s, "rows_per_s": floor_rate},
                "share_of_floor": rate / floor_rate, "capacity_new": first, "capacity_small_file": small_first,
                "capacity_again": again}
    finally:
        dynamodb_local.stop(database)
        shutil.rmtree(data_dir, ignore_errors=True)


def in_child(rows: int) -> dict[str, Any]:
    """`import_bench` in a fresh process (its own DynamoDB Local and hooks); its JSON."""
    import subprocess

    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--rows", str(rows)], capture_output=True,
                         text=True, timeout=7200, env={**os.environ, "TZ": "UTC"})
    if out.returncode != 0:
        raise RuntimeError(f"import bench failed:\n{out.stderr[-4000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def report(result: dict[str, Any]) -> None:
    new, again, floor = result["capacity_new"], result["capacity_again"], result["floor"]
    small = result["capacity_small_file"]
    print(f"\nimport of {result['rows']:,} generated rows ({result['workers']} threads, chunks of {result['chunk']}): "
          f"{result['seconds']:.1f} s, {result['rows_per_s']:,.0f} rows/s")
    print(f"  floor, BatchWriteItem of the same dossier items: {floor['seconds']:.1f} s, "
          f"{floor['rows_per_s']:,.0f} rows/s; the import runs at {result['share_of_floor']:.0%} of it")
    print(f"  new rows:       {new['wcu_per_row']:6.1f} WCU per row by DynamoDB's rules "
          f"(DynamoDB Local reports {new['reported_wcu_per_row']:.1f}); a {small['rows']:,}-row file alone, one "
          f"thread: {small['wcu_per_row']:.1f}")
    for target, units in new["by_target"].items():
        print(f"    {target:40} {units:6.2f}")
    print(f"  the same again: {again['wcu_per_row']:6.1f} WCU {again['rcu_per_row']:5.2f} RCU per row "
          "(all duplicates)")


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="bench_import.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=int(os.environ.get("MOTCUA_BENCH_IMPORT_ROWS", "100000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("MOTCUA_BENCH_IMPORT_WORKERS", "8")))
    parser.add_argument("--chunk", type=int, default=50)
    parser.add_argument("--capacity-rows", type=int, default=1000)
    args = parser.parse_args(argv)
    return import_bench(args.rows, args.workers, args.chunk, args.capacity_rows)


if __name__ == "__main__":
    figures = main(sys.argv[1:])
    report(figures)
    print(json.dumps(figures))
