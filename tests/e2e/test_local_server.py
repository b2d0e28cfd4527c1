"""Over real HTTP: the README walkthrough verbatim, and schemathesis against the OpenAPI document."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from scripts import local_keys

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def readme_walkthrough() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- walkthrough:start -->\n```sh\n(.*?)```\n<!-- walkthrough:end -->", text, re.S)
    assert block, "README.md lost its walkthrough block"
    return block.group(1)


def test_readme_walkthrough_runs_verbatim_on_the_moved_clock(local_stack):
    env = {**os.environ, "API": f"{local_stack['api']}/v1", "MOTCUA_LOCAL_KEY_DIR": local_stack["key_dir"],
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", readme_walkthrough()], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr + result.stdout
    out = result.stdout
    assert "The clock is MOVED" in local_stack["output"] and "2026-03-16T08:00:00+07:00" in local_stack["output"]
    assert "2026-09-16T10:00:00+07:00" in out  # ten working days across the National Day break
    assert "5 10 Đã trả kết quả" in out
    assert "met: True" in out and "Trả kết quả" in out
    assert "10 Đã trả kết quả early" in out
    # The deadline part: received on the moved Monday, flagged overdue (the dossier and its step), apologised
    # for with a new appointment, and everyone told.
    assert "-260316-" in out
    assert "due_soon overdue step_overdue:0" in out
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in out and "Sổ hộ tịch gốc đang được số hóa" in out
    assert "đúng hạn xin lỗi: False" in out  # after the due time: recorded as a late apology
    notes = [line for line in out.splitlines() if " -> " in line]
    assert any(line.startswith("overdue | internal -> leader@000.00.11.H56") for line in notes)
    assert any(line.startswith("step_overdue | internal -> cv.binh") for line in notes)
    assert any(line.startswith("apology_issued | email -> binh.tran@example.vn") for line in notes)
    assert any(line.startswith("apology_issued | sms -> 0987654321") for line in notes)
    # One clock for the API and the jobs: the sweep's flags come before the apology the leader gave after them.
    templates = [line.split(" | ")[0] for line in notes]
    assert templates.index("overdue") < templates.index("apology_issued")
    assert out.strip().splitlines()[-1].endswith("rescheduled: True")
    print(out)  # shown with -s: what a user sees


# Beyond "no 5xx": every answer must be one the document lists, with its content type, its headers and a body
# valid against its schema; the stateful phase follows the documented links from a created dossier (get it,
# its history, act on it, look it up) and checks that what was created stays available.
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance", "use_after_free",
          "ensure_resource_availability")


def test_schemathesis_answers_conform_to_the_document(server, tmp_path):
    key_dir = Path(os.environ["MOTCUA_LOCAL_JWKS"]).parent
    token = local_keys.make_token("000.00.24.H56", ["desk", "processor", "leader", "admin"], "schemathesis",
                                  key_dir=key_dir)
    command = [
        str(Path(sys.executable).parent / "st"), "--config-file", str(Path(__file__).with_name("schemathesis.toml")),
        "run", f"{server}/v1/openapi.json", "--url", server,
        "--checks", ",".join(CHECKS), "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", "25", "--seed", "20261125",
        "--header", f"Authorization: Bearer {token}", "--request-timeout", "10",
        "--report", "junit", "--report-junit-path", str(tmp_path / "schemathesis.xml"),
    ]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    out = result.stdout
    assert "No issues found" in out or "passed" in out
    # The stateful phase ran: links from a created dossier were followed, not skipped.
    stateful = out[out.find("Stateful"):] if "Stateful" in out else ""
    assert stateful and "Skipped" not in stateful.splitlines()[0], out[-4000:]
