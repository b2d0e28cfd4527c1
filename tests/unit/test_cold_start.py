"""What `import app` loads is Lambda cold start: libraries only some requests need must load on first use."""

import subprocess
import sys

LAZY = ["jwt", "cryptography", "jsonschema", "holidays", "aws_lambda_powertools", "boto3", "typst", "segno"]


def test_import_app_leaves_request_specific_libraries_unloaded():
    probe = f"import sys, app; print([m for m in {LAZY!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
