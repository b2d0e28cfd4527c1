"""A dossier's files against the local S3 server (s3rver, started by tests/conftest.py) and DynamoDB Local: the
presigned PUT, verification at finalise, downloads for officers and the applicant, and the refusals."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest
import requests
from chalice.test import Client

from app import app
from chalicelib.config import settings
from tests.api.helpers import CRIMINAL_RECORD, get, post, receive
from tests.units import CENTRE, JUSTICE, LAND

PDF = b"%PDF-1.7\n" + b"scanned page " * 200 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 300
COMPONENT = "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp"
ID_COPY = "Bản chụp căn cước công dân"


def declare(body: bytes, **over: Any) -> dict[str, Any]:
    return {"kind": "component", "component": COMPONENT, "filename": "to-khai.pdf", "media_type": "application/pdf",
            "size": len(body), "sha256": hashlib.sha256(body).hexdigest(), "pages": 1, **over}


def upload(answer: dict[str, Any], body: bytes) -> requests.Response:
    up = answer["upload"]
    return requests.put(up["url"], data=body, headers=up["headers"], timeout=10)


def test_a_scan_is_kept_only_after_its_bytes_are_verified_and_the_applicant_gets_the_result(auth):
    desk = auth(CENTRE, "desk", sub="tn.lan")
    officer = auth(JUSTICE, "processor", sub="cv.binh")
    leader = auth(JUSTICE, "leader", sub="ld.cuong")
    with Client(app, stage_name="local") as client:
        dossier = receive(client, auth)
        code = dossier["code"]
        status, started = post(client, f"/v1/dossiers/{code}/files", desk, declare(PDF))
        assert status == 201, started
        assert started["file"]["state"] == "pending"
        signed = started["upload"]["url"].split("X-Amz-SignedHeaders=")[1].split("&")[0]
        assert signed == "content-length%3Bcontent-type%3Bhost%3Bx-amz-checksum-sha256"  # bound to all three
        assert "X-Amz-Expires=300" in started["upload"]["url"]
        assert upload(started, PDF).status_code == 200
        file_id = started["file"]["id"]
        status, kept = post(client, f"/v1/dossiers/{code}/files/{file_id}/finalise", desk, {})
        assert status == 200, kept
        assert kept["state"] == "verified" and kept["by"] == "tn.lan" and kept["verified_at"]
        status, listed = get(client, f"/v1/dossiers/{code}/files", officer)
        assert status == 200, listed
        assert [f["id"] for f in listed["items"]] == [file_id]
        assert listed["digitisation"] == [{"component": COMPONENT, "form": "scanned", "files": [file_id]},
                                          {"component": ID_COPY, "form": "paper", "files": []}]

        status, link = get(client, f"/v1/dossiers/{code}/files/{file_id}/download", officer)
        assert status == 200, link
        assert requests.get(link["url"], timeout=10).content == PDF
        status, listed = get(client, f"/v1/dossiers/{code}/files", officer)
        assert [(d["file"], d["who"], d["as"]) for d in listed["downloads"]] == [(file_id, "cv.binh", "officer")]

        # The result: attached by the competent unit, seen by the applicant once returned.
        for who, body in ((officer, {"action": "assign", "version": 1}),
                          (officer, {"action": "complete_step", "version": 2})):
            assert post(client, f"/v1/dossiers/{code}/actions", who, body)[0] == 200
        result_pdf = b"%PDF-1.7\nPhieu LLTP so 1234/STP\n%%EOF\n"
        status, started = post(client, f"/v1/dossiers/{code}/files", leader,
                               declare(result_pdf, kind="result", component=None, filename="phieu-lltp.pdf"))
        assert status == 400 and started["error"]["details"][0]["field"] == "component"  # null is not a name
        body = declare(result_pdf, kind="result", filename="phieu-lltp.pdf")
        del body["component"]
        assert post(client, f"/v1/dossiers/{code}/files", desk, body)[0] == 403  # the desk does not issue results
        status, started = post(client, f"/v1/dossiers/{code}/files", leader, body)
        assert status == 201, started
        assert upload(started, result_pdf).status_code == 200
        result_id = started["file"]["id"]
        assert post(client, f"/v1/dossiers/{code}/files/{result_id}/finalise", leader, {})[0] == 200
        assert post(client, f"/v1/dossiers/{code}/actions", leader,
                    {"action": "resolve", "version": 3, "result": {"summary": "Phiếu LLTP số 1234/STP"}})[0] == 200

        status, issued = post(client, f"/v1/dossiers/{code}/receipt-secret", desk, {})
        assert status == 201, issued
        secret = issued["secret"]
        assert post(client, f"/v1/public/dossiers/{code}/files", {}, {"secret": "x" * 22})[0] == 403
        status, mine = post(client, f"/v1/public/dossiers/{code}/files", {}, {"secret": secret})
        assert status == 200 and [f["id"] for f in mine["items"]] == [file_id]  # not the result yet
        status, answer = post(client, f"/v1/public/dossiers/{code}/files/{result_id}/download", {},
                              {"secret": secret})
        assert status == 403, answer
        assert post(client, f"/v1/dossiers/{code}/actions", desk, {"action": "return_result", "version": 4})[0] == 200
        status, link = post(client, f"/v1/public/dossiers/{code}/files/{result_id}/download", {}, {"secret": secret})
        assert status == 200, link
        assert requests.get(link["url"], timeout=10).content == result_pdf
        status, listed = get(client, f"/v1/dossiers/{code}/files", officer)
        assert [(d["file"], d["as"]) for d in listed["downloads"]][-1] == (result_id, "applicant")


def test_bytes_that_are_not_the_declared_file_are_refused_and_nothing_is_kept(auth):
    desk = auth(CENTRE, "desk")
    with Client(app, stage_name="local") as client:
        code = receive(client, auth)["code"]
        cases = [
            (PDF[:-1] + b"X", "sha256"),  # same size, other bytes
            (PNG, "media_type"),  # a PNG declared as a PDF (with its own checksum and size)
            (PDF + b"more", "size"),
        ]
        for stored, field in cases:
            declared = declare(PDF) if field != "media_type" else declare(PNG)
            status, started = post(client, f"/v1/dossiers/{code}/files", desk, declared)
            assert status == 201, started
            up = started["upload"]
            # The local server does not check the signed headers (docs/documents.md): finalise must catch it.
            headers = {**up["headers"], "Content-Length": str(len(stored))}
            assert requests.put(up["url"], data=stored, headers=headers, timeout=10).status_code == 200
            status, answer = post(client, f"/v1/dossiers/{code}/files/{started['file']['id']}/finalise", desk, {})
            assert status == 400, answer
            assert field in [d["field"] for d in answer["error"]["details"]], (field, answer)
            status, again = post(client, f"/v1/dossiers/{code}/files/{started['file']['id']}/finalise", desk, {})
            assert status == 404  # the pending record went with the object
        status, listed = get(client, f"/v1/dossiers/{code}/files", desk)
        assert listed["items"] == []
        # Never uploaded: refused, named.
        status, started = post(client, f"/v1/dossiers/{code}/files", desk, declare(PDF))
        status, answer = post(client, f"/v1/dossiers/{code}/files/{started['file']['id']}/finalise", desk, {})
        assert status == 400 and answer["error"]["details"][0]["field"] == "file"


def test_limits_name_the_field(auth):
    desk = auth(CENTRE, "desk")
    with Client(app, stage_name="local") as client:
        code = receive(client, auth)["code"]
        other = receive(client, auth)["code"]
        too_big = declare(PDF, size=10 * 1024 * 1024 + 1)
        for body, field in ((too_big, "size"), (declare(PDF, media_type="image/gif"), "media_type"),
                            (declare(PDF, component="Giấy khác"), "component"),
                            (declare(PDF, sha256="abc"), "sha256")):
            status, answer = post(client, f"/v1/dossiers/{code}/files", desk, body)
            assert status == 400, (field, answer)
            assert field in [d["field"] for d in answer["error"]["details"]], (field, answer)
        # A result before the dossier is in progress: named.
        status, answer = post(client, f"/v1/dossiers/{code}/files", auth(JUSTICE, "leader"),
                              declare(PDF, kind="result"))
        assert status == 400 and answer["error"]["details"][0]["field"] == "kind", answer
        # A file of another dossier is not found under this one.
        status, started = post(client, f"/v1/dossiers/{other}/files", desk, declare(PDF))
        assert upload(started, PDF).status_code == 200
        status, answer = post(client, f"/v1/dossiers/{code}/files/{started['file']['id']}/finalise", desk, {})
        assert status == 404, answer
        # Another unit's officer neither uploads nor reads.
        outsider = auth(LAND, "desk")
        assert post(client, f"/v1/dossiers/{code}/files", outsider, declare(PDF))[0] == 403
        assert get(client, f"/v1/dossiers/{code}/files", outsider)[0] == 403


@pytest.fixture
def short_downloads(monkeypatch):
    """Download URLs that live 10 seconds (MOTCUA_FILE_DOWNLOAD_SECONDS, read at start)."""
    monkeypatch.setenv("MOTCUA_FILE_DOWNLOAD_SECONDS", "10")
    settings.cache_clear()
    yield
    monkeypatch.undo()
    settings.cache_clear()


def test_an_expired_download_url_is_refused(auth, short_downloads):
    desk = auth(CENTRE, "desk")
    with Client(app, stage_name="local") as client:
        code = receive(client, auth)["code"]
        status, started = post(client, f"/v1/dossiers/{code}/files", desk, declare(PDF))
        assert upload(started, PDF).status_code == 200
        file_id = started["file"]["id"]
        assert post(client, f"/v1/dossiers/{code}/files/{file_id}/finalise", desk, {})[0] == 200
        status, link = get(client, f"/v1/dossiers/{code}/files/{file_id}/download", desk)
        assert "X-Amz-Expires=10" in link["url"]
        assert requests.get(link["url"], timeout=10).status_code == 200
        time.sleep(11)
        assert requests.get(link["url"], timeout=10).status_code == 403


def test_a_reusable_component_digitised_for_the_applicant_is_attached_without_a_new_upload(auth):
    desk = auth(CENTRE, "desk", sub="tn.lan")
    applicant = {"name": "Phạm Văn Dũng", "id_number": "038095007777", "phone": "0915000222"}
    body = {**CRIMINAL_RECORD, "applicant": applicant}
    id_copy = b"\xff\xd8\xff\xe0" + b"jpeg scan of an ID card" * 20
    with Client(app, stage_name="local") as client:
        first = receive(client, auth, body)["code"]
        status, started = post(client, f"/v1/dossiers/{first}/files", desk,
                               declare(id_copy, component=ID_COPY, media_type="image/jpeg", filename="cccd.jpg"))
        assert upload(started, id_copy).status_code == 200
        source = started["file"]["id"]
        assert post(client, f"/v1/dossiers/{first}/files/{source}/finalise", desk, {})[0] == 200

        second = receive(client, auth, body)["code"]
        status, reused = post(client, f"/v1/dossiers/{second}/files/reuse", desk, {"component": ID_COPY})
        assert status == 201, reused
        assert reused["reused_from"] == {"dossier": first, "file": source} and reused["sha256"] == \
            hashlib.sha256(id_copy).hexdigest()
        status, listed = get(client, f"/v1/dossiers/{second}/files", desk)
        assert listed["digitisation"][1] == {"component": ID_COPY, "form": "reused", "files": [reused["id"]]}
        status, link = get(client, f"/v1/dossiers/{second}/files/{reused['id']}/download", desk)
        assert requests.get(link["url"], timeout=10).content == id_copy  # its own copy of the bytes

        # The declaration form is not reusable in this procedure; another applicant has nothing to reuse.
        status, answer = post(client, f"/v1/dossiers/{second}/files/reuse", desk, {"component": COMPONENT})
        assert status == 400 and answer["error"]["details"][0]["field"] == "component"
        stranger = receive(client, auth, {**body, "applicant": {**applicant, "id_number": "038095008888"}})["code"]
        assert post(client, f"/v1/dossiers/{stranger}/files/reuse", desk, {"component": ID_COPY})[0] == 404


def test_the_receipt_form_01_says_which_components_were_digitised(auth):
    pytest.importorskip("typst")
    from tests.api.test_printed_forms import PDF as PDF_ACCEPT
    from tests.api.test_printed_forms import text_of

    desk = auth(CENTRE, "desk")
    with Client(app, stage_name="local") as client:
        code = receive(client, auth, {**CRIMINAL_RECORD, "documents": [{"name": COMPONENT, "copies": 1},
                                                                       {"name": ID_COPY, "copies": 1}]})["code"]
        status, started = post(client, f"/v1/dossiers/{code}/files", desk, declare(PDF, pages=2))
        assert upload(started, PDF).status_code == 200
        assert post(client, f"/v1/dossiers/{code}/files/{started['file']['id']}/finalise", desk, {})[0] == 200
        response = client.http.get(f"/v1/dossiers/{code}/forms/01.pdf", headers={**desk, **PDF_ACCEPT})
        assert response.status_code == 200
        text = text_of(response.body)
        assert "đã số hóa, 2 trang" in text, text
        assert text.count("đã số hóa") == 1  # the ID copy was received on paper only


def _counters(unit: str, day: str) -> dict[str, int]:
    from chalicelib.bootstrap import deps

    rows = deps().stats.read(unit, day[:7], day, day)
    return next((r for r in rows if r["group"] == "all"), {})


def test_files_feed_the_digitisation_counters_each_dossier_once(auth):
    """document.digitised and result.issued reach the statistics consumer through the outbox like every event:
    a dossier digitised whole at receipt, its result issued as a file; a second scan counts nothing more."""
    from chalicelib.bootstrap import deps
    from chalicelib.services.relay import relay

    desk = auth(CENTRE, "desk", sub="tn.lan")
    officer = auth(JUSTICE, "processor", sub="cv.binh")
    leader = auth(JUSTICE, "leader", sub="ld.cuong")
    leader_centre = auth(CENTRE, "leader", sub="ld.centre")

    def enriched(unit: str, day: str) -> dict[str, int]:
        """Report 06's enriched columns of the unit's own row for that day."""
        status, report = get(client, f"/v1/stats/report06?unit={unit}&from={day}&to={day}&group_by=unit",
                             leader_centre if unit == CENTRE else leader)
        assert status == 200, report
        return next(r["digitisation"] for r in report["rows"] if r["key"] == unit)

    with Client(app, stage_name="local") as client:
        relay(deps(), older_than_seconds=0, budget_seconds=60)
        dossier = receive(client, auth)
        code, day = dossier["code"], dossier["received_at"][:10]
        relay(deps(), older_than_seconds=0, budget_seconds=60)
        centre, justice = _counters(CENTRE, day), _counters(JUSTICE, day)
        sheet_centre, sheet_justice = enriched(CENTRE, day), enriched(JUSTICE, day)
        id_copy = b"\x89PNG\r\n\x1a\n" + b"id card" * 30
        for body, component, kind in ((PDF, COMPONENT, "application/pdf"), (PDF + b"\n", COMPONENT, "application/pdf"),
                                      (id_copy, ID_COPY, "image/png")):
            status, started = post(client, f"/v1/dossiers/{code}/files", desk,
                                   declare(body, component=component, media_type=kind))
            assert upload(started, body).status_code == 200
            assert post(client, f"/v1/dossiers/{code}/files/{started['file']['id']}/finalise", desk, {})[0] == 200
        for who, action in ((officer, {"action": "assign", "version": 1}),
                            (officer, {"action": "complete_step", "version": 2})):
            assert post(client, f"/v1/dossiers/{code}/actions", who, action)[0] == 200
        result = b"%PDF-1.7\nresult\n%%EOF\n"
        body = declare(result, kind="result", filename="ket-qua.pdf")
        del body["component"]
        status, started = post(client, f"/v1/dossiers/{code}/files", leader, body)
        assert upload(started, result).status_code == 200
        assert post(client, f"/v1/dossiers/{code}/files/{started['file']['id']}/finalise", leader, {})[0] == 200
        published = relay(deps(), older_than_seconds=0, budget_seconds=60)
        assert published["failed"] == 0, published
        after_centre, after_justice = _counters(CENTRE, day), _counters(JUSTICE, day)
        for column in ("digitised", "digitised_at_receipt"):
            assert after_centre.get(column, 0) - centre.get(column, 0) == 1, column
        assert after_centre.get("reused", 0) == centre.get("reused", 0)
        assert after_justice.get("e_result", 0) - justice.get("e_result", 0) == 1
        # Report 06's enriched sheet shows them too (the desk's row and the competent unit's).
        now_centre, now_justice = enriched(CENTRE, day), enriched(JUSTICE, day)
        assert now_centre["digitised"] - sheet_centre["digitised"] == 1
        assert now_centre["digitised_at_receipt"] - sheet_centre["digitised_at_receipt"] == 1
        assert now_justice["e_result"] - sheet_justice["e_result"] == 1
        status, history = get(client, f"/v1/dossiers/{code}", desk)
        assert history["version"] == 3  # scans and the result file do not make officers reload
        # make reconcile's recount from the dossier, its control sheet and its file records gives the same counters.
        from chalicelib.services import reconcile

        stored_dossier = deps().dossiers.get(code)
        assert stored_dossier is not None
        field, procedure = stored_dossier.field_code, stored_dossier.procedure_code
        recounted = reconcile.recount_all(deps(), [code])
        files_only = {k: {c: n for c, n in row.items() if c in ("digitised", "digitised_at_receipt", "reused",
                                                                 "e_result")} for k, row in recounted.items()}
        assert {k: v for k, v in files_only.items() if v} == {
            (f"{CENTRE}#{day[:7]}", f"{day}#all"): {"digitised": 1, "digitised_at_receipt": 1},
            (f"{CENTRE}#{day[:7]}", f"{day}#field#{field}"): {"digitised": 1,
                                                                            "digitised_at_receipt": 1},
            (f"{CENTRE}#{day[:7]}", f"{day}#procedure#{procedure}"): {"digitised": 1,
                                                                                    "digitised_at_receipt": 1},
            (f"{JUSTICE}#{day[:7]}", f"{day}#all"): {"e_result": 1},
            (f"{JUSTICE}#{day[:7]}", f"{day}#field#{field}"): {"e_result": 1},
            (f"{JUSTICE}#{day[:7]}", f"{day}#procedure#{procedure}"): {"e_result": 1}}


def test_an_unreachable_s3_is_a_fast_503(auth, monkeypatch):
    from chalicelib import bootstrap
    from chalicelib.adapters.s3_files import S3FileStorage
    from scripts.dynamodb_local import free_port

    desk = auth(CENTRE, "desk")
    with Client(app, stage_name="local") as client:
        code = receive(client, auth)["code"]
        status, started = post(client, f"/v1/dossiers/{code}/files", desk, declare(PDF))
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{free_port()}")  # nothing listens there
        bootstrap.override(files=S3FileStorage("motcua-test-files", 0.5, 0.5, 1))
        try:
            began = time.monotonic()
            response = client.http.post(f"/v1/dossiers/{code}/files/{started['file']['id']}/finalise",
                                        headers=desk, body="{}")
            assert response.status_code == 503 and response.headers.get("Retry-After")
            assert time.monotonic() - began < 5
        finally:
            bootstrap.override()


def test_a_file_is_kept_with_its_event_or_not_at_all(auth, monkeypatch):
    """The verified record and its document.digitised event ride in the dossier's one transaction. When it cannot
    be written (here, the dossier changing under every attempt), the upload stays pending, no event is written,
    nothing is copied to the final key, and finalising again keeps it once."""
    from chalicelib import bootstrap
    from chalicelib.adapters.dynamodb.dossiers import DossierRepository
    from chalicelib.domain.errors import StaleVersion

    desk = auth(CENTRE, "desk", sub="tn.lan")
    real_save = DossierRepository.save

    def always_changed(self, dossier, entry, expected_version, message=None, file=None):
        if file is not None:
            raise StaleVersion(f"dossier {dossier.code} was changed by someone else", expected_version + 1)
        return real_save(self, dossier, entry, expected_version, message, file)

    with Client(app, stage_name="local") as client:
        code = receive(client, auth)["code"]
        status, started = post(client, f"/v1/dossiers/{code}/files", desk, declare(PDF))
        assert status == 201 and upload(started, PDF).status_code == 200
        file_id = started["file"]["id"]

        def digitised() -> list[str]:
            return [e.id for e in bootstrap.deps().outbox.pending(1000)
                    if e.code == code and e.type == "document.digitised"]

        monkeypatch.setattr(DossierRepository, "save", always_changed)
        status, answer = post(client, f"/v1/dossiers/{code}/files/{file_id}/finalise", desk, {})
        assert status == 409, answer
        record = bootstrap.deps().file_records.get(code, file_id)
        assert record is not None and record["state"] == "pending" and digitised() == []
        storage = bootstrap.deps().files
        assert storage.inspect(f"files/{code}/{file_id}", 10_000)[0] is None  # no copy left at the final key
        assert storage.inspect(record["key"], 10_000)[0] == len(PDF)  # the upload is still there

        monkeypatch.setattr(DossierRepository, "save", real_save)
        status, kept = post(client, f"/v1/dossiers/{code}/files/{file_id}/finalise", desk, {})
        assert status == 200 and kept["state"] == "verified", kept
        assert len(digitised()) == 1
        assert storage.inspect(record["key"], 10_000)[0] is None  # the upload removed once kept
        assert post(client, f"/v1/dossiers/{code}/files/{file_id}/finalise", desk, {})[1]["state"] == "verified"
        assert len(digitised()) == 1
