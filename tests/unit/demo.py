"""Demo-catalogue procedures as domain objects (no database)."""

import json
from pathlib import Path

from chalicelib.domain.catalogue import Procedure

ROOT = Path(__file__).resolve().parents[2]


def procedure(code: str) -> Procedure:
    data = json.loads((ROOT / "demo" / "catalogue.json").read_text(encoding="utf-8"))
    raw = dict(next(p for p in data["procedures"] if p["code"] == code))
    raw["form_schema"] = json.loads((ROOT / raw.pop("form_schema_file")).read_text(encoding="utf-8"))
    return Procedure.from_dict(raw)
