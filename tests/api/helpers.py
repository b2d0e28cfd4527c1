import json
from typing import Any

from chalice.test import Client

from tests.units import CENTRE

CRIMINAL_RECORD = {
    "procedure_code": "2.001417", "channel": "direct",
    "applicant": {"name": "Nguyễn Văn An", "id_number": "038090001234", "phone": "0912345678"},
    "form": {"full_name": "Nguyễn Văn An", "date_of_birth": "1990-05-02", "form_number": 1, "purpose": "Xin việc"},
    "documents": [{"name": "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "copies": 1}],
}


def post(client: Client, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict[str, Any]]:
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    response = client.http.post(path, headers=headers, body=raw)
    return response.status_code, json.loads(response.body) if response.body else {}


def get(client: Client, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    response = client.http.get(path, headers=headers or {})
    return response.status_code, json.loads(response.body) if response.body else {}


def receive(client: Client, auth, body: dict[str, Any] | None = None, unit: str = CENTRE) -> dict[str, Any]:
    status, data = post(client, "/v1/dossiers", auth(unit, "desk"), body or CRIMINAL_RECORD)
    assert status == 201, data
    return data
