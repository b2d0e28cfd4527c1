"""Vendor the ranking page's chart library into web/vendor/ (`make run` and `make test` run this; no CDN).

ECharts comes from npm at the exact version package.json pins (`npm ci` installs it into node_modules); its
minified build and licence are copied beside the page, which loads them from its own origin.

    python scripts/build_web.py
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "web" / "vendor"
FILES = {"dist/echarts.min.js": "echarts.min.js", "LICENSE": "echarts.LICENSE.txt", "NOTICE": "echarts.NOTICE.txt"}


def build() -> Path:
    package = ROOT / "node_modules" / "echarts"
    pinned = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["dependencies"]["echarts"]
    try:
        installed = json.loads((package / "package.json").read_text(encoding="utf-8"))["version"]
    except FileNotFoundError:
        raise SystemExit("node_modules/echarts is missing: run `npm ci` (make install does)") from None
    if installed != pinned:
        raise SystemExit(f"node_modules has echarts {installed}, package.json pins {pinned}: run `npm ci`")
    VENDOR.mkdir(parents=True, exist_ok=True)
    for source, target in FILES.items():
        if (package / source).exists():
            shutil.copyfile(package / source, VENDOR / target)
    return VENDOR / "echarts.min.js"


if __name__ == "__main__":
    print(f"web/vendor: echarts {build().stat().st_size // 1024} KiB", file=sys.stderr)
