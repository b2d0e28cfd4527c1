"""Create the tables and load a catalogue file (idempotent: unchanged procedures keep their version).

    python scripts/seed.py [demo/catalogue.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_catalogue(path: Path = ROOT / "demo" / "catalogue.json") -> dict[str, int]:
    from chalicelib.adapters.calendar_data import national_settings
    from chalicelib.adapters.dynamodb.catalogue import CatalogueRepository
    from chalicelib.adapters.dynamodb.tables import create_tables
    from chalicelib.domain.catalogue import Procedure, Unit, UnitTree

    data = json.loads(path.read_text(encoding="utf-8"))
    units = [Unit.from_dict(u) for u in data["units"]]
    # Refuse a broken hierarchy or a calendar override that cannot be counted on before writing anything.
    UnitTree(units).check_calendars(national_settings())
    create_tables()
    repo = CatalogueRepository()
    for unit in units:
        repo.put_unit(unit)
    published = 0
    for raw in data["procedures"]:
        raw = dict(raw)
        schema_file = raw.pop("form_schema_file", None)
        if schema_file:
            raw["form_schema"] = json.loads((ROOT / schema_file).read_text(encoding="utf-8"))
        procedure = Procedure.from_dict(raw)
        missing = [u for u in procedure.competent_units if u not in {x.id for x in units}]
        if missing:
            raise SystemExit(f"procedure {procedure.code}: unknown competent units {missing}")
        repo.publish(procedure)
        published += 1
    return {"units": len(units), "procedures": published}


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from chalicelib.domain.errors import InvalidInput

    try:
        print(load_catalogue(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "demo" / "catalogue.json"))
    except InvalidInput as exc:  # say which field of which unit or procedure, not a traceback
        raise SystemExit(f"{exc.message}: " + "; ".join(f"{p.field}: {p.reason}" for p in exc.details)) from exc
