"""Files carried by an online submission (inbound dossier.submitted `files`): fetched from a loopback HTTP server
serving the referenced bytes, verified, and kept in the local S3 server (s3rver, tests/conftest.py) as the
dossier's components; any reference that fails rejects the whole message."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from tests.api.helpers import get, post
from tests.api.test_inbound import NATIONAL, client, rejected, send, sources, submission  # noqa: F401
from tests.units import CENTRE

PDF = b"%PDF-1.7\n" + b"page of the form " * 100 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
FORM = "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp"
ID_COPY = "Bản chụp căn cước công dân"


class Served:
    """A loopback server of fixed bytes by path; counts the GETs."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.gets: Counter[str] = Counter()
        self.delays: dict[str, float] = {}
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                served.gets[self.path] += 1
                time.sleep(served.delays.get(self.path, 0))
                body = served.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str, body: bytes) -> str:
        self.files[path] = body
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def served() -> Iterator[Served]:
    server = Served()
    yield server
    server.stop()


def ref(url: str, body: bytes, **over: Any) -> dict[str, Any]:
    return {"component": FORM, "filename": "to-khai.pdf", "media_type": "application/pdf", "size": len(body),
            "sha256": hashlib.sha256(body).hexdigest(), "url": url, **over}


def test_a_submission_with_files_keeps_them_as_the_dossiers_components(client, auth, served):  # noqa: F811
    files = [ref(served.url("/a/form.pdf", PDF), PDF),
             ref(served.url("/a/id.png", PNG), PNG, component=ID_COPY, filename="cccd.png", media_type="image/png")]
    status, answer, _ = send(client, "dvcqg", NATIONAL, submission(files=files))
    assert status == 200, answer
    code = answer["dossier_code"]
    assert len(answer["files"]) == 2
    desk = auth(CENTRE, "desk")
    status, listed = get(client, f"/v1/dossiers/{code}/files", desk)
    assert status == 200, listed
    by_id = {f["id"]: f for f in listed["items"]}
    kept = [by_id[i] for i in answer["files"]]
    assert [(f["component"], f["sha256"], f["state"], f["by"]) for f in kept] == [
        (FORM, files[0]["sha256"], "verified", "inbound:dvcqg"), (ID_COPY, files[1]["sha256"], "verified",
                                                                  "inbound:dvcqg")]
    assert [d["form"] for d in listed["digitisation"]] == ["scanned", "scanned"]
    status, link = get(client, f"/v1/dossiers/{code}/files/{answer['files'][0]}/download", desk)
    assert requests.get(link["url"], timeout=10).content == PDF
    # the same event as a desk upload: the first component, then the one that completes the list
    from chalicelib.bootstrap import deps

    events = [e for e in (deps().outbox.event(code, seq) for seq in range(1, 6)) if e is not None]
    digitised = [e.data for e in events if e.type == "document.digitised"]
    assert [(d["component"], d["first"], d["completes"], d["officer"]) for d in digitised] == [
        (FORM, True, False, "inbound:dvcqg"), (ID_COPY, False, True, "inbound:dvcqg")]


@pytest.mark.parametrize(("change", "field", "why"), [
    ({"sha256": "0" * 64}, "data.files[1].sha256", "SHA-256"),
    ({"media_type": "image/png", "filename": "x.png"}, "data.files[1].media_type", "the bytes are application/pdf"),
    ({"size": len(PDF) - 1}, "data.files[1].size", "were uploaded"),
])
def test_one_bad_reference_rejects_the_whole_message(client, auth, served, change, field, why):  # noqa: F811
    files = [ref(served.url("/b/ok.pdf", PDF), PDF, component=ID_COPY), ref(served.url("/b/bad.pdf", PDF), PDF,
                                                                            **change)]
    message = submission(files=files)
    status, answer, headers = send(client, "dvcqg", NATIONAL, message)
    assert status == 400, answer
    detail = [d for d in answer["error"]["details"] if d["field"] == field]
    assert detail and why in detail[0]["reason"], answer
    assert "file 1" in answer["error"]["message"]
    kept = [r for r in rejected(client, auth, "dvcqg") if r["message_id"] == headers["webhook-id"]]
    assert kept and kept[0]["error"]["details"] == answer["error"]["details"]
    desk = auth(CENTRE, "desk")
    status, page = get(client, f"/v1/dossiers?unit={CENTRE}&status=submitted&limit=100", desk)
    assert not [i for i in page["items"] if message["data"]["reference"] in str(i)]


def test_an_oversize_reference_is_refused_before_it_is_fetched(client, served):  # noqa: F811
    from chalicelib.config import settings

    url = served.url("/c/big.pdf", PDF)
    status, answer, _ = send(client, "dvcqg", NATIONAL,
                             submission(files=[ref(url, PDF, size=settings().files.max_bytes + 1)]))
    assert status == 400 and answer["error"]["details"][0]["field"] == "data.files[0].size", answer
    assert served.gets["/c/big.pdf"] == 0


def test_bytes_beyond_the_limit_are_not_read(client, served, monkeypatch):  # noqa: F811
    from chalicelib.config import settings
    from chalicelib.services import documents, online_files

    small = replace(settings(), files=replace(settings().files, max_bytes=len(PDF) - 10))
    monkeypatch.setattr(online_files, "settings", lambda: small)
    monkeypatch.setattr(documents, "settings", lambda: small)
    url = served.url("/c/long.pdf", PDF)
    status, answer, _ = send(client, "dvcqg", NATIONAL, submission(files=[ref(url, PDF, size=len(PDF) - 20)]))
    assert status == 400 and answer["error"]["details"][0]["field"] == "data.files[0].size", answer
    assert "over the limit" in answer["error"]["details"][0]["reason"]


@pytest.mark.parametrize(("url", "local", "why"), [
    ("http://127.0.0.1:9/x.pdf", False, "https:// is required"),
    ("https://10.0.0.5/x.pdf", False, "not a public address"),
    ("https://169.254.169.254/latest/meta-data", True, "not a public address"),
    ("ftp://example.com/x.pdf", True, "https:// is required"),
])
def test_a_reference_that_is_not_https_to_a_public_host_is_refused(client, monkeypatch, url, local, why):  # noqa: F811
    from chalicelib.config import settings
    from chalicelib.services import online_files

    configured = replace(settings(), webhooks_local=local)
    monkeypatch.setattr(online_files, "settings", lambda: configured)
    status, answer, _ = send(client, "dvcqg", NATIONAL, submission(files=[ref(url, PDF)]))
    assert status == 400, answer
    assert answer["error"]["details"][0]["field"] == "data.files[0].url"
    assert why in answer["error"]["details"][0]["reason"]


def test_a_file_that_cannot_be_fetched_names_the_reason(client, served):  # noqa: F811
    url = served.url("/d/there.pdf", PDF).replace("there", "gone")
    status, answer, _ = send(client, "dvcqg", NATIONAL, submission(files=[ref(url, PDF)]))
    assert status == 400 and "HTTP 404" in answer["error"]["details"][0]["reason"], answer


def test_a_slow_host_is_cut_within_the_messages_fetch_budget(client, served, monkeypatch):  # noqa: F811
    from chalicelib.services import online_files

    monkeypatch.setattr(online_files, "FETCH_BUDGET_SECONDS", 1.0)
    url = served.url("/g/slow.pdf", PDF)
    served.delays["/g/slow.pdf"] = 3.0
    started = time.monotonic()
    status, answer, _ = send(client, "dvcqg", NATIONAL, submission(files=[ref(url, PDF)]))
    assert time.monotonic() - started < 2.5
    assert status == 400 and answer["error"]["details"][0]["field"] == "data.files[0].url", answer
    assert "timeout" in answer["error"]["details"][0]["reason"]


def test_a_component_outside_the_document_list_is_refused(client, served):  # noqa: F811
    url = served.url("/e/x.pdf", PDF)
    status, answer, _ = send(client, "dvcqg", NATIONAL, submission(files=[ref(url, PDF, component="Khác")]))
    assert status == 400 and answer["error"]["details"][0]["field"] == "data.files[0].component", answer
    assert served.gets["/e/x.pdf"] == 0


def test_without_a_bucket_a_message_with_files_is_refused(client, served, monkeypatch):  # noqa: F811
    from chalicelib.services import online_files

    def no_bucket(deps):  # type: ignore[no-untyped-def]
        return original(replace(deps, files=None))

    original = online_files._ports
    monkeypatch.setattr(online_files, "_ports", no_bucket)
    url = served.url("/f/x.pdf", PDF)
    status, answer, _ = send(client, "dvcqg", NATIONAL, submission(files=[ref(url, PDF)]))
    assert status == 400 and answer["error"]["details"][0]["field"] == "data.files", answer
    assert "MOTCUA_FILES_BUCKET" in answer["error"]["details"][0]["reason"]


# --- the applicant's supplement (dossier.supplemented) -------------------------------------------------------
def waiting_for_supplement(client, auth) -> str:  # noqa: F811
    from tests.units import JUSTICE

    status, answer, _ = send(client, "dvcqg", NATIONAL, submission())
    assert status == 200, answer
    code = answer["dossier_code"]
    assert post(client, f"/v1/dossiers/{code}/actions", auth(CENTRE, "desk"),
                {"action": "accept", "version": 1})[0] == 200
    status, paused = post(client, f"/v1/dossiers/{code}/actions", auth(JUSTICE, "processor"), {
        "action": "request_supplement", "version": 2, "missing_items": [ID_COPY]})
    assert status == 200 and paused["status"] == "supplement_requested", paused
    return code


def supplement(code: str, files: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "dossier.supplemented", "timestamp": "2026-03-18T03:00:00Z",
            "data": {"dossier_code": code, "reference": "DVC-BS-1", "files": files}}


def test_a_supplement_with_files_is_received_and_the_clock_resumes(client, auth, served, frozen_now):  # noqa: F811
    from tests.unit.calendars import vn

    frozen_now(vn(2026, 3, 16, 10))
    code = waiting_for_supplement(client, auth)
    frozen_now(vn(2026, 3, 18, 10))
    url = served.url("/s/id.png", PNG)
    status, answer, _ = send(client, "dvcqg", NATIONAL, supplement(code, [
        ref(url, PNG, component=ID_COPY, filename="cccd.png", media_type="image/png")]))
    assert status == 200, answer
    assert answer["type"] == "dossier.supplemented" and answer["status"] == "received" and answer["due_at"]
    desk = auth(CENTRE, "desk")
    status, sheet = get(client, f"/v1/dossiers/{code}/history", desk)
    last = sheet["entries"][-1]
    assert last["action"] == "receive_supplement" and last["officer"] == "inbound:dvcqg", last
    assert "DVC-BS-1" in last["note"]
    status, listed = get(client, f"/v1/dossiers/{code}/files", desk)
    assert [(f["id"], f["component"]) for f in listed["items"]] == [(answer["files"][0], ID_COPY)]
    # Not waiting any more: the same supplement sent again under a new id is refused.
    status, again, _ = send(client, "dvcqg", NATIONAL, supplement(code, [
        ref(url, PNG, component=ID_COPY, filename="cccd.png", media_type="image/png")]))
    assert status == 422 and again["error"]["code"] == "action_not_allowed", again


def test_a_supplement_with_a_bad_file_changes_nothing(client, auth, served, frozen_now):  # noqa: F811
    from tests.unit.calendars import vn

    frozen_now(vn(2026, 3, 16, 10))
    code = waiting_for_supplement(client, auth)
    url = served.url("/t/id.png", PNG)
    status, answer, headers = send(client, "dvcqg", NATIONAL, supplement(code, [
        ref(url, PNG, component=ID_COPY, filename="cccd.png", media_type="image/png", sha256="f" * 64)]))
    assert status == 400 and answer["error"]["details"][0]["field"] == "data.files[0].sha256", answer
    assert [r for r in rejected(client, auth, "dvcqg") if r["message_id"] == headers["webhook-id"]]
    desk = auth(CENTRE, "desk")
    status, dossier = get(client, f"/v1/dossiers/{code}", desk)
    assert dossier["status"] == "supplement_requested" and dossier["version"] == 3
    status, listed = get(client, f"/v1/dossiers/{code}/files", desk)
    assert listed["items"] == []
