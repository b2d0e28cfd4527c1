"""What ops deploy: `chalice package` with the tables merged in, linted, and importable from the zips alone."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from scripts.table_template import render

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.e2e


def test_tables_template_matches_the_models():
    assert (ROOT / "infra" / "tables.yaml").read_text() == render(), "run: python scripts/table_template.py"


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("package")
    env = {**os.environ, "AWS_DEFAULT_REGION": "ap-southeast-1"}
    subprocess.run([str(BIN / "chalice"), "package", "--stage", "prod", "--merge-template", "infra/tables.yaml",
                    str(out)], cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)
    return out


def test_package_ships_schemas_and_calendar_data(package):
    names = set(zipfile.ZipFile(package / "deployment.zip").namelist())
    assert {"app.py", "chalicelib/schemas/api/dossier-intake.json", "chalicelib/data/calendars/VN-2026.json",
            "chalicelib/schemas/forms/2.001417.json"} <= names
    template = (package / "sam.yaml").read_text()
    assert "DossiersTable" in template and "dynamodb:Query" in template and "rate(5 minutes)" in template


def test_merged_template_passes_cfn_lint(package):
    result = subprocess.run([str(BIN / "cfn-lint"), str(package / "sam.yaml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_app_imports_from_the_zips_alone(package, tmp_path):
    code_dir, layer_dir = tmp_path / "task", tmp_path / "opt"
    zipfile.ZipFile(package / "deployment.zip").extractall(code_dir)
    zipfile.ZipFile(package / "layer-deployment.zip").extractall(layer_dir)
    site = layer_dir / "python" / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    probe = (f"import sys; sys.path[:0] = [{str(code_dir)!r}, {str(site)!r}]; "
             "import app; from chalicelib.api.schemas import load; load('dossier-intake'); "
             "print(sorted(app.app.routes)[:1])")
    # -S -E: no site-packages of this machine, no environment paths: only what the package carries.
    result = subprocess.run([sys.executable, "-S", "-E", "-c", probe], capture_output=True, text=True,
                            env={"PATH": os.environ["PATH"], "AWS_DEFAULT_REGION": "ap-southeast-1"})
    assert result.returncode == 0, result.stderr
    assert "/v1/calendar/due" in result.stdout
