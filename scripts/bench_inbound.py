"""What a signed inbound message costs, beside the intake it ends in (docs/performance.md, "Inbound messages").

    TZ=UTC .venv/bin/python scripts/bench_inbound.py     (MOTCUA_BENCH_N messages per measure, default 200)

In one run, against its own DynamoDB Local on a free loopback port (stopped at the end), alternating in rounds:
- intake: the online intake use case (services.intake.receive_dossier) with the body a portal submits;
- inbound: the same submission as a signed `dossier.submitted` message (services.inbound.receive_message: the
  signature, the outcome read, JSON and schema checks, then that intake with the outcome in its transaction);
- resend: the same message again (same webhook-id and body), answered from its recorded outcome.
Then the read and write capacity units each consumes, as DynamoDB Local reports them. Figures are written to
.local/bench.json under "inbound".
"""

from __future__ import annotations

import base64
import json
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import bench, dynamodb_local  # noqa: E402

N = bench.N
ROUNDS = 3
CENTRE, JUSTICE = "000.00.24.H56", "000.00.11.H56"
SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
DATA = {"procedure_code": "2.001417", "competent_unit": JUSTICE, "applicant": bench.INTAKE_BODY["applicant"],
        "form": bench.INTAKE_BODY["form"], "documents": bench.INTAKE_BODY["documents"]}


def main() -> None:
    port = dynamodb_local.free_port()
    database = dynamodb_local.start(port)
    try:
        os.environ.update({**dynamodb_local.local_environment(port, bench.PREFIX), "MOTCUA_AUTH_MODE": "local"})
        bench.silence_service_logs()
        bench.install_hooks()
        from scripts.seed import load_catalogue

        load_catalogue()
        results, capacity = run()
    finally:
        dynamodb_local.stop(database)
    print(f"{'operation':<28} {'ops/s':>8} {'ms/op':>8} {'calls/op':>9} {'RCU/op':>7} {'WCU/op':>7}")
    for row in results:
        used = capacity[row["label"]]
        print(f"{row['label']:<28} {row['ops_per_s']:>8.1f} {row['ms_per_op']:>8.2f} {row['round_trips']:>9.1f} "
              f"{used['rcu']:>7.1f} {used['wcu']:>7.1f}  {row['calls']}")
    intake, inbound = (next(r for r in results if r["label"] == name) for name in ("intake", "inbound"))
    ratio = inbound["ms_per_op"] / intake["ms_per_op"]
    print(f"inbound / intake time: {ratio:.2f}")
    bench.save({"inbound": {"n": N, "rounds": ROUNDS, "results": results, "capacity": capacity,
                            "inbound_over_intake": ratio}})


def run() -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    from standardwebhooks import Webhook

    from chalicelib import bootstrap
    from chalicelib.domain.dossier import Actor
    from chalicelib.domain.inbound import parse_sources
    from chalicelib.services import inbound
    from chalicelib.services.intake import receive_dossier

    sources = parse_sources({"sources": [{"id": "dvcqg", "kind": "national_portal", "secrets": [SECRET],
                                          "units": [CENTRE]}]})
    bootstrap.override(inbound_sources=lambda: sources)
    deps = bootstrap.deps()
    desk = Actor("inbound:dvcqg", CENTRE, frozenset({"desk"}))
    webhook = Webhook(SECRET)

    def message(i: int) -> tuple[bytes, dict[str, str]]:
        body = json.dumps({"type": "dossier.submitted", "data": {**DATA, "reference": f"DVC-{i}",
                                                                 "receiving_unit": CENTRE}}, ensure_ascii=False)
        message_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
        return body.encode(), {"webhook-id": message_id, "webhook-timestamp": str(int(now.timestamp())),
                               "webhook-signature": webhook.sign(message_id, now, body),
                               "content-type": "application/json"}

    def submit(i: int) -> None:
        status, _ = inbound.receive_message(deps, "dvcqg", *message(i), max_body_bytes=256 * 1024)
        assert status == 200

    def intake(i: int) -> None:
        receive_dossier(deps, desk, {**DATA, "channel": "online", "note": f"dvcqg: DVC-{i}"})

    sent = [message(i) for i in range(N)]
    for raw, headers in sent:  # recorded once, resent below
        inbound.receive_message(deps, "dvcqg", raw, headers, 256 * 1024)

    def resend(i: int) -> None:
        status, _ = inbound.receive_message(deps, "dvcqg", *sent[i], max_body_bytes=256 * 1024)
        assert status == 200

    submit(0), intake(0)  # warm the caches (catalogue, calendars, connections, schemas)
    results: list[dict[str, Any]] = []
    for _ in range(ROUNDS):  # the last round is reported: neither side profits from the JVM warming up
        results = [bench.timed(label, N, work) for label, work in (("intake", intake), ("inbound", submit),
                                                                   ("resend", resend))]
    capacity = {label: bench.measure_capacity(label, bench.CAPACITY_OPS, work)
                for label, work in (("intake", intake), ("inbound", submit), ("resend", resend))}
    bootstrap.override()
    return results, capacity


if __name__ == "__main__":
    main()
