"""The national working calendar: defaults plus the yearly civil-service decisions shipped as data."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from ..domain.calendar import CalendarSettings

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "calendars"


@lru_cache(maxsize=1)
def national_settings() -> CalendarSettings:
    """Working hours and every shipped year's decisions (extra days off, make-up working days)."""
    base = json.loads((DATA_DIR / "VN.json").read_text(encoding="utf-8"))
    settings = CalendarSettings.from_dict(base)
    for year_file in sorted(DATA_DIR.glob("VN-*.json")):
        settings = CalendarSettings.from_dict(json.loads(year_file.read_text(encoding="utf-8")), settings)
    return settings
