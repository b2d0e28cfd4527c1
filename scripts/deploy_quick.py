"""`make deploy-quick STAGE=dev`: route 1 (`chalice deploy`, docs/deploy.md) without the printing libraries.

`chalice deploy` uploads the dependency layer directly to Lambda, which takes 50 MB zipped at most; with the Typst
compiler the layer is about 59 MB (docs/forms.md), and Chalice cannot upload through S3. This deploys a copy of the
project whose requirements leave the printing libraries out (services/printing.py PRINTING_PACKAGES): everything
else is the same code, and the printed forms answer 503 there (their JSON is unchanged). Chalice's record of what
it deployed (`.chalice/deployed/`) is copied back, so the next deploy (or `chalice delete`) finds it. Route 2
(`chalice package`) ships everything.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PROJECT = ("app.py", "chalicelib", "infra", ".chalice")


def without_printing(requirements: str, packages: tuple[str, ...]) -> str:
    """The requirements text with the lines naming `packages` (any extras or pin) left out."""
    names = {p.lower() for p in packages}
    kept = []
    for line in requirements.splitlines():
        name = re.split(r"[\[=<>~!; ]", line.strip(), maxsplit=1)[0].lower()
        if name not in names:
            kept.append(line)
    return "\n".join(kept) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="deploy_quick.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True)
    args = parser.parse_args(argv)
    from chalicelib.services.printing import PRINTING_PACKAGES

    with tempfile.TemporaryDirectory(prefix="motcua-deploy-") as work:
        copy = Path(work)
        for name in PROJECT:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(source, copy / name)
        requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
        (copy / "requirements.txt").write_text(without_printing(requirements, PRINTING_PACKAGES), encoding="utf-8")
        chalice = Path(sys.executable).parent / "chalice"
        done = subprocess.run([str(chalice), "deploy", "--stage", args.stage], cwd=copy, check=False)
        deployed = copy / ".chalice" / "deployed"
        if deployed.is_dir():
            shutil.copytree(deployed, ROOT / ".chalice" / "deployed", dirs_exist_ok=True)
        return done.returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
