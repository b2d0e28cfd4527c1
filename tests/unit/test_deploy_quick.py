"""Route 1 deploys without the printing libraries (over `chalice deploy`'s 50 MB upload): its requirements leave
exactly those out, and a form printed where they are missing is a 503 that says why, never a 500."""

from __future__ import annotations

import sys

import pytest

from chalicelib.domain.errors import Unavailable
from chalicelib.services import printing
from scripts.deploy_quick import without_printing

REQUIREMENTS = """# Runtime dependencies
boto3==1.44.5
aws-lambda-powertools[tracer]==3.37.0
typst==0.15.0
segno==1.6.6
typstools==1.0
"""


def test_the_quick_deploys_requirements_leave_out_the_printing_libraries_only():
    kept = without_printing(REQUIREMENTS, printing.PRINTING_PACKAGES)
    assert kept.splitlines() == ["# Runtime dependencies", "boto3==1.44.5", "aws-lambda-powertools[tracer]==3.37.0",
                                 "typstools==1.0"]
    with open("requirements.txt", encoding="utf-8") as real:  # the project's: both are pinned there today
        names = {line.split("==")[0] for line in real.read().splitlines() if "==" in line}
    assert set(printing.PRINTING_PACKAGES) <= names


@pytest.mark.parametrize("missing", printing.PRINTING_PACKAGES)
def test_printing_without_its_library_is_unavailable_not_a_crash(monkeypatch, missing):
    monkeypatch.setitem(sys.modules, missing, None)  # what a deployment without it sees: ImportError
    printing._compilers.clear()
    with pytest.raises(Unavailable, match="not installed in this deployment"):
        if missing == "typst":
            printing.render("form-01.typ", {})
        else:
            printing.qr_svg("https://example.vn")
