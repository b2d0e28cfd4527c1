"""`make bench ONLY=documents`: a dossier's files, on DynamoDB Local and the local S3 server (s3rver).

For files of 100 KB and 2 MB (MOTCUA_BENCH_DOCUMENTS_N each, default 40): the latency of declaring a file (the
presigned PUT), of the PUT itself (client to S3, outside the API), and of finalising (the object read back,
hashed and sniffed, promoted, the record and the file's event written); and the DynamoDB and S3 requests the API
makes per uploaded file. The app runs in-process (chalice.test.Client), as the API tests run it.

    python scripts/bench_documents.py
"""

from __future__ import annotations

import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import dynamodb_local, local_keys, s3_local  # noqa: E402

N = int(os.environ.get("MOTCUA_BENCH_DOCUMENTS_N", "40"))
SIZES = {"100 KB": 100 * 1024, "2 MB": 2 * 1024 * 1024}
BUCKET = "motcua-bench-files"
CENTRE = "000.00.24.H56"
BODY = {"procedure_code": "2.001417", "channel": "direct",
        "applicant": {"name": "Nguyễn Văn An", "id_number": "038090001234"},
        "form": {"full_name": "Nguyễn Văn An", "date_of_birth": "1990-05-02", "form_number": 1, "purpose": "Xin việc"},
        "documents": [{"name": "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "copies": 1}]}


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1)


def _counted() -> Counter[str]:
    """Every botocore call the app makes, as `<service>:<operation>`."""
    from botocore.client import BaseClient

    seen: Counter[str] = Counter()
    original = BaseClient._make_api_call

    def counted(self: BaseClient, operation_name: str, params: dict[str, Any]) -> Any:
        seen[f"{self.meta.service_model.service_name}:{operation_name}"] += 1
        return original(self, operation_name, params)

    BaseClient._make_api_call = counted  # type: ignore[method-assign]
    return seen


def run() -> dict[str, Any]:
    import json

    import requests
    from chalice.test import Client

    from app import app
    from scripts.seed import load_catalogue

    load_catalogue()
    keys = Path(os.environ["MOTCUA_LOCAL_JWKS"]).parent
    token = local_keys.make_token(CENTRE, ["desk"], "bench", key_dir=keys)
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    calls = _counted()
    result: dict[str, Any] = {"n": N, "sizes": {}}
    with Client(app, stage_name="local") as client:
        for label, size in SIZES.items():
            declare_ms, put_ms, finalise_ms = [], [], []
            per_file: Counter[str] = Counter()
            for _ in range(N):
                code = json.loads(client.http.post("/v1/dossiers", headers=auth, body=json.dumps(BODY)).body)["code"]
                data = b"%PDF-1.7\n" + os.urandom(size - 9)
                declared = {"kind": "component", "component": BODY["documents"][0]["name"], "filename": "scan.pdf",
                            "media_type": "application/pdf", "size": size,
                            "sha256": hashlib.sha256(data).hexdigest(), "pages": 1}
                before = Counter(calls)
                began = time.perf_counter()
                answer = client.http.post(f"/v1/dossiers/{code}/files", headers=auth, body=json.dumps(declared))
                declare_ms.append((time.perf_counter() - began) * 1000)
                started = json.loads(answer.body)
                began = time.perf_counter()
                put = requests.put(started["upload"]["url"], data=data, headers=started["upload"]["headers"],
                                   timeout=30)
                put_ms.append((time.perf_counter() - began) * 1000)
                assert put.status_code == 200, put.text
                began = time.perf_counter()
                done = client.http.post(f"/v1/dossiers/{code}/files/{started['file']['id']}/finalise",
                                        headers=auth, body="{}")
                finalise_ms.append((time.perf_counter() - began) * 1000)
                assert done.status_code == 200, done.body
                per_file.update(calls - before)
            result["sizes"][label] = {
                "declare_ms": {"p50": _pct(declare_ms, 0.5), "p95": _pct(declare_ms, 0.95)},
                "put_ms": {"p50": _pct(put_ms, 0.5), "p95": _pct(put_ms, 0.95)},
                "finalise_ms": {"p50": _pct(finalise_ms, 0.5), "p95": _pct(finalise_ms, 0.95),
                                "mean": round(statistics.mean(finalise_ms), 1)},
                "requests_per_file": {k: round(v / N, 2) for k, v in sorted(per_file.items())},
            }
    return result


def report(result: dict[str, Any]) -> None:
    print(f"documents: {result['n']} files of each size (declare, client PUT, finalise; requests the API makes)")
    for label, r in result["sizes"].items():
        print(f"  {label}: declare p50 {r['declare_ms']['p50']} ms p95 {r['declare_ms']['p95']} ms; PUT p50 "
              f"{r['put_ms']['p50']} ms; finalise p50 {r['finalise_ms']['p50']} ms p95 {r['finalise_ms']['p95']} ms")
        print("    per file: " + ", ".join(f"{k} {v:g}" for k, v in r["requests_per_file"].items()))


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="motcua-bench-documents-"))
    ddb_port, s3_port = dynamodb_local.free_port(), dynamodb_local.free_port()
    database = dynamodb_local.start(ddb_port)
    files = None
    try:
        files = s3_local.start(s3_port, work / "s3", BUCKET)
        os.environ.update({**dynamodb_local.local_environment(ddb_port, "motcua-bench"),
                           **s3_local.local_environment(s3_port, BUCKET), "MOTCUA_AUTH_MODE": "local",
                           "MOTCUA_LOCAL_JWKS": str(local_keys.ensure_keys(work / "keys"))})
        result = run()
        report(result)
        from scripts.bench import save

        save({"documents": result})
    finally:
        if files is not None:
            s3_local.stop(files)
        dynamodb_local.stop(database)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
