"""The README walkthrough's part 2 (files) verbatim, over real HTTP against `make run`'s stack: the API, DynamoDB
Local and the local S3 server (s3rver), the bytes moving by presigned URLs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def files_walkthrough() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- walkthrough-files:start -->\n```sh\n(.*?)```\n<!-- walkthrough-files:end -->", text,
                      re.S)
    assert block, "README.md lost its files walkthrough block"
    return block.group(1)


def test_readme_files_walkthrough_runs_verbatim(local_stack):
    env = {**os.environ, "API": f"{local_stack['api']}/v1", "MOTCUA_LOCAL_KEY_DIR": local_stack["key_dir"],
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", files_walkthrough()], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr + result.stdout
    out = result.stdout
    assert "local S3 (s3rver) on 127.0.0.1:" in local_stack["output"]
    assert out.count("PUT 200") == 2
    assert "component verified to-khai.pdf" in out and "result verified phieu-lltp.pdf" in out
    assert "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp: scanned" in out
    assert "Bản chụp căn cước công dân: paper" in out
    assert "5 10 Đã trả kết quả" in out
    assert "component to-khai.pdf\nresult phieu-lltp.pdf" in out
    assert "result downloaded intact" in out
    assert "rated very_satisfied via applicant\nalready_rated" in out
    assert "\nforbidden\n" in out  # a wrong secret opens nothing
    assert re.search(r"download by applicant \(applicant\) of [0-9a-f]{32}\nrated ", out)
    print(out)  # shown with -s: what a user sees
