import json

from chalice.test import Client

from app import app
from tests.units import CENTRE, JUSTICE


def test_criminal_record_certificate_from_intake_to_return(auth):
    desk = auth(CENTRE, "desk")
    with Client(app, stage_name="local") as client:
        r = client.http.post("/v1/dossiers", headers=desk, body=json.dumps({
            "procedure_code": "2.001417", "channel": "direct",
            "applicant": {"name": "Nguyễn Văn An", "id_number": "038090001234"},
            "form": {"full_name": "Nguyễn Văn An", "date_of_birth": "1990-05-02", "form_number": 1,
                     "purpose": "Xin việc"},
        }))
        assert r.status_code == 201, r.body
        d = json.loads(r.body)
        code = d["code"]
        assert code.startswith(CENTRE + "-")
        assert d["national_code"] == 2
        processor = auth(JUSTICE, "processor", sub="cv.binh")
        leader = auth(JUSTICE, "leader", sub="ld.cuong")
        steps = [
            (processor, {"action": "assign"}),
            (processor, {"action": "complete_step"}),
            (leader, {"action": "resolve", "result": {"summary": "Phiếu LLTP số 1"}}),
            (desk, {"action": "return_result"}),
        ]
        for headers, body in steps:
            body["version"] = d["version"]
            r = client.http.post(f"/v1/dossiers/{code}/actions", headers=headers, body=json.dumps(body))
            assert r.status_code == 200, r.body
            d = json.loads(r.body)
        assert d["national_code"] == 10
        r = client.http.get(f"/v1/public/dossiers/{code}")
        assert r.status_code == 200
        assert "applicant" not in json.loads(r.body)
