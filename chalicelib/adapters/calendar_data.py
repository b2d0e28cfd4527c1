"""The national working calendar: defaults plus the yearly civil-service decisions shipped as data."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from functools import lru_cache
from pathlib import Path

from ..domain.calendar import CalendarSettings

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "calendars"


@lru_cache(maxsize=1)
def national_settings() -> CalendarSettings:
    """Working hours and every shipped year's decisions (extra days off, make-up working days)."""
    return load_settings(DATA_DIR, holidays_version())


def load_settings(data_dir: Path, package_version: str) -> CalendarSettings:
    """`VN.json` overlaid by each `VN-<year>.json` (each confirms its `year`), fingerprinted with
    the files' bytes and the `holidays` package version, so the calendar version changes whenever
    the holiday data does."""
    digest = hashlib.sha256(f"holidays=={package_version}\n".encode())

    def read(path: Path) -> dict:
        raw = path.read_bytes()
        digest.update(f"{path.name}\n".encode() + raw)
        return json.loads(raw.decode("utf-8"))

    settings = CalendarSettings.from_dict(read(data_dir / "VN.json"))
    for year_file in sorted(data_dir.glob("VN-*.json")):
        settings = CalendarSettings.from_dict(read(year_file), settings)
    return dataclasses.replace(settings, holiday_data=digest.hexdigest()[:12])


def holidays_version() -> str:
    """The installed `holidays` package version, read from its metadata (the package is not imported)."""
    from importlib.metadata import version

    return version("holidays")
