"""Local inbound sources (a sources file with fresh secrets) and a signed sender, for the local stack.

    python scripts/local_inbound.py sources           (create .local/inbound/sources.json if missing; print its path)
    python scripts/local_inbound.py send dvcqg FILE     (sign FILE's JSON as source dvcqg and POST it to make run's API)

`make run` creates the file and points MOTCUA_INBOUND_SOURCES at it. The secrets are random, per checkout, and
never leave .local/ (which git ignores). docs/inbound.md shows the same signing for integrators.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Beside the local stack's data (scripts/run_local.py's MOTCUA_LOCAL_DIR).
SOURCES_FILE = Path(os.environ.get("MOTCUA_LOCAL_DIR", str(ROOT / ".local"))) / "inbound" / "sources.json"
PROVINCE = "000.00.00.H56"  # the demo catalogue's province: each local source covers all of it


def ensure_sources(path: Path = SOURCES_FILE) -> Path:
    """One source of each kind, with random secrets, written once (readable by the owner only)."""
    if path.exists():
        return path

    def secret() -> str:
        return "whsec_" + base64.b64encode(os.urandom(32)).decode()

    document = {"sources": [
        {"id": "dvcqg", "kind": "national_portal", "name": "Cổng Dịch vụ công quốc gia", "secrets": [secret()],
         "units": [PROVINCE]},
        {"id": "cong-dvc-tinh", "kind": "provincial_portal", "name": "Cổng Dịch vụ công tỉnh", "secrets": [secret()],
         "units": [PROVINCE]},
        {"id": "cong-thanh-toan", "kind": "payment_gateway", "name": "Cổng thanh toán", "secrets": [secret()],
         "units": [PROVINCE]},
    ]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    path.chmod(0o600)
    return path


def signed_headers(secret: str, body: str, message_id: str | None = None) -> dict[str, str]:
    from datetime import UTC, datetime

    from standardwebhooks import Webhook

    message_id = message_id or f"msg_{uuid.uuid4().hex}"
    now = datetime.now(UTC)
    return {"webhook-id": message_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, now, body), "content-type": "application/json"}


def send(source_id: str, message: Any, message_id: str | None = None, base_url: str | None = None) -> tuple[int, Any]:
    import requests

    sources = {s["id"]: s for s in json.loads(ensure_sources().read_text(encoding="utf-8"))["sources"]}
    if source_id not in sources:
        raise SystemExit(f"no local source {source_id}: one of {', '.join(sources)}")
    body = json.dumps(message, ensure_ascii=False)
    url = (base_url or f"http://127.0.0.1:{os.environ.get('MOTCUA_API_PORT', '8000')}") + f"/v1/inbound/{source_id}"
    response = requests.post(url, data=body.encode("utf-8"), timeout=10,
                             headers=signed_headers(sources[source_id]["secrets"][0], body, message_id))
    return response.status_code, response.json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("sources", help="create the local sources file if missing and print its path")
    sending = sub.add_parser("send", help="sign a message file as a source and POST it to the local API")
    sending.add_argument("source")
    sending.add_argument("file", help="the message: {\"type\": ..., \"data\": {...}}; - reads standard input")
    sending.add_argument("--id", default=None, help="webhook-id (default: a new one); reuse it to resend")
    args = parser.parse_args()
    if args.command == "sources":
        print(ensure_sources())
        return
    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    status, answer = send(args.source, json.loads(text), args.id)
    print(status, json.dumps(answer, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
