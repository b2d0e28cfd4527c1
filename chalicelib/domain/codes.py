"""Identifier formats fixed by law."""

from __future__ import annotations

import re
from datetime import date

# Decision 20/2020/QĐ-TTg: up to 35 characters, dot-separated groups of digits/uppercase letters.
AGENCY_ID = re.compile(r"^[0-9A-Z]+(\.[0-9A-Z]+)*$")
# National procedure database codes, e.g. 1.001612 or 2.000488.
PROCEDURE_CODE = re.compile(r"^[0-9]+\.[0-9]{5,6}$")
# Circular 01/2018 Art 19: <agency id>-<YYMMDD>-<NNNN> (longer sequences for national services).
DOSSIER_CODE = re.compile(r"^(?P<unit>[0-9A-Z.]{1,35})-(?P<day>[0-9]{6})-(?P<seq>[0-9]{4,})$")
# The longest daily sequence every route accepts (api/params.py): the live counter never goes past it.
MAX_SEQUENCE_DIGITS = 9
MAX_SEQUENCE = 10**MAX_SEQUENCE_DIGITS - 1


def is_agency_id(value: str) -> bool:
    return len(value) <= 35 and bool(AGENCY_ID.match(value))


def is_procedure_code(value: str) -> bool:
    return bool(PROCEDURE_CODE.match(value))


def is_dossier_code(value: str) -> bool:
    match = DOSSIER_CODE.match(value)
    return match is not None and is_agency_id(match.group("unit"))


def dossier_code(unit_id: str, local_day: date, sequence: int) -> str:
    if sequence < 1 or sequence > MAX_SEQUENCE:
        raise ValueError(f"sequence runs from 1 to {MAX_SEQUENCE}")
    return f"{unit_id}-{local_day:%y%m%d}-{sequence:04d}"


def sequence_name(unit_id: str, local_day: date) -> str:
    """The counter a receiving unit draws dossier numbers from on one local day."""
    return f"dossier#{unit_id}#{local_day:%y%m%d}"


def code_day(value: str) -> date | None:
    """The receipt day a dossier code names (YYMMDD), or None when it is not a date."""
    match = DOSSIER_CODE.match(value)
    if match is None:
        return None
    day = match.group("day")
    try:
        return date(2000 + int(day[:2]), int(day[2:4]), int(day[4:]))
    except ValueError:
        return None
