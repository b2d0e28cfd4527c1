"""`make bench`: motcua's intake and transition against DynamoDB Local, beside the same DynamoDB calls made
with raw boto3 in the same run; their ratio; DynamoDB round trips per operation; `import app` time.

Bounded: N operations each (MOTCUA_BENCH_N, default 200), one DynamoDB Local on a free loopback port,
stopped at the end. Figures are recorded in docs/performance.md.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import dynamodb_local  # noqa: E402

N = int(os.environ.get("MOTCUA_BENCH_N", "200"))
ROUNDS = 3
CALLS: Counter[str] = Counter()


def count_dynamodb_calls() -> None:
    """Count every DynamoDB API call made through botocore (PynamoDB, boto3 and Powertools all use it)."""
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def counted(self: BaseClient, operation_name: str, params: dict) -> dict:
        if self.meta.service_model.service_name == "dynamodb":
            CALLS[operation_name] += 1
        return original(self, operation_name, params)

    BaseClient._make_api_call = counted  # type: ignore[method-assign]


def timed(label: str, n: int, work: Callable[[int], object]) -> dict[str, object]:
    CALLS.clear()
    started = time.perf_counter()
    for i in range(n):
        work(i)
    elapsed = time.perf_counter() - started
    calls = sum(CALLS.values())
    return {"label": label, "ops_per_s": n / elapsed, "ms_per_op": 1000 * elapsed / n,
            "round_trips": calls / n, "calls": dict(CALLS)}


def import_time(runs: int = 5) -> float:
    probe = "import time; t = time.perf_counter(); import app; print(time.perf_counter() - t)"
    samples = [float(subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                                    check=True).stdout) for _ in range(runs)]
    return statistics.median(samples)


def main() -> None:
    port = dynamodb_local.free_port()
    database = dynamodb_local.start(port)
    try:
        os.environ.update(dynamodb_local.local_environment(port, "motcua-bench"))
        os.environ.setdefault("MOTCUA_LOCAL_JWKS", str(ROOT / ".local" / "keys" / "jwks.json"))
        from scripts.seed import load_catalogue

        load_catalogue()
        count_dynamodb_calls()
        results = run_benchmarks()
        results.append({"label": "import app (fresh process, median of 5)", "seconds": import_time()})
        report(results)
    finally:
        dynamodb_local.stop(database)


def run_benchmarks() -> list[dict[str, object]]:
    import boto3

    from chalicelib.adapters.dynamodb.models import CounterModel, DossierModel, HistoryModel
    from chalicelib.domain.dossier import Actor
    from chalicelib.services.actions import perform_action
    from chalicelib.services.bootstrap import deps
    from chalicelib.services.intake import receive_dossier

    body = {"procedure_code": "2.001417", "channel": "direct",
            "applicant": {"name": "Nguyễn Văn An", "id_number": "038090001234"},
            "form": {"full_name": "Nguyễn Văn An", "date_of_birth": "1990-05-02", "form_number": 1,
                     "purpose": "Xin việc"},
            "documents": [{"name": "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "copies": 1}]}
    desk = Actor("desk.bench", "000.00.24.H56", frozenset({"desk"}))
    officer = Actor("cv.bench", "000.00.11.H56", frozenset({"processor"}))
    receive_dossier(deps(), desk, body)  # warm caches (catalogue, calendar, connections)

    first = receive_dossier(deps(), desk, body)["code"]
    # The same DynamoDB work with raw boto3: same tables, same item shapes, none of motcua's logic.
    client = boto3.client("dynamodb")
    item = DossierModel.get(first).serialize()
    history = HistoryModel.get(first, 1).serialize()
    dossier_table, history_table = DossierModel.Meta.table_name, HistoryModel.Meta.table_name
    client.describe_table(TableName=dossier_table)  # warm the connection

    def raw_intake(i: int) -> None:
        n = client.update_item(TableName=CounterModel.Meta.table_name, Key={"name": {"S": "dossier#RAW#260316"}},
                               UpdateExpression="ADD #v :one", ExpressionAttributeNames={"#v": "value"},
                               ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="UPDATED_NEW")
        code = f"RAW-260316-{int(n['Attributes']['value']['N']):05d}"
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": dossier_table, "Item": {**item, "code": {"S": code}},
                     "ConditionExpression": "attribute_not_exists(code)"}},
            {"Put": {"TableName": history_table, "Item": {**history, "code": {"S": code}},
                     "ConditionExpression": "attribute_not_exists(seq)"}},
        ])

    raw_codes: list[str] = []

    def raw_transition(i: int) -> None:
        code = raw_codes[i]
        current = client.get_item(TableName=dossier_table, Key={"code": {"S": code}}, ConsistentRead=True)["Item"]
        version = int(current["version"]["N"])
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": dossier_table, "Item": {**current, "version": {"N": str(version + 1)}},
                     "ConditionExpression": "version = :v", "ExpressionAttributeValues": {":v": {"N": str(version)}}}},
            {"Put": {"TableName": history_table, "Item": {**history, "code": {"S": code}, "seq": {"N": "2"}},
                     "ConditionExpression": "attribute_not_exists(seq)"}},
        ])

    # Alternate the two sides in rounds so neither profits from DynamoDB Local's JIT warming up;
    # the last round is reported.
    results: list[dict[str, object]] = []
    codes: list[str] = []
    for _round in range(ROUNDS):
        codes.clear()
        start = CounterValue.read()
        results = [
            timed("intake: motcua (service)", N,
                  lambda i: codes.append(receive_dossier(deps(), desk, body)["code"])),
            timed("intake: raw boto3", N, raw_intake),
        ]
        raw_codes[:] = [f"RAW-260316-{n:05d}" for n in range(start + 1, start + N + 1)]
        results += [
            timed("transition: motcua (service)", N,
                  lambda i: perform_action(deps(), officer, codes[i], {"action": "assign", "version": 1})),
            timed("transition: raw boto3", N, raw_transition),
        ]
    return results


class CounterValue:
    @staticmethod
    def read() -> int:
        from chalicelib.adapters.dynamodb.models import CounterModel

        try:
            return int(CounterModel.get("dossier#RAW#260316").value)
        except CounterModel.DoesNotExist:
            return 0


def report(results: list[dict[str, object]]) -> None:
    by = {r["label"]: r for r in results}
    print(f"\nmotcua bench: N={N} per operation, last of {ROUNDS} alternating rounds, DynamoDB Local, sequential\n")
    print(f"{'operation':44} {'ops/s':>8} {'ms/op':>8} {'DynamoDB calls/op':>18}")
    for r in results:
        if "ops_per_s" in r:
            calls = ", ".join(f"{k} {v / N:g}" for k, v in sorted(r["calls"].items()))  # type: ignore[union-attr]
            print(f"{r['label']:44} {r['ops_per_s']:8.1f} {r['ms_per_op']:8.2f} {r['round_trips']:8.2f}  ({calls})")
    for op in ("intake", "transition"):
        ours, raw = by[f"{op}: motcua (service)"], by[f"{op}: raw boto3"]
        ratio = raw["ops_per_s"] / ours["ops_per_s"]  # type: ignore[operator]
        print(f"{op}: raw boto3 is {ratio:.2f}x motcua's throughput (motcua overhead {(ratio - 1) * 100:.0f}%)")
    print(f"import app: {by['import app (fresh process, median of 5)']['seconds'] * 1000:.0f} ms")
    print(json.dumps({"n": N, "results": results}, default=str))


if __name__ == "__main__":
    main()
