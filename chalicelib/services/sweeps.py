"""Scheduled lateness sweep: how many running clocks are past their due time, per handling unit.

It reads only the sparse open-by-due index (one Query per unit, due times before now), so its cost
follows the number of overdue dossiers, not the size of the table. Flagging and apology letters
build on this (ROADMAP: deadline enforcement).
"""

from __future__ import annotations

from typing import Any

from .bootstrap import Deps
from .ports import DossierQuery


def overdue_report(deps: Deps, page_size: int = 100) -> dict[str, Any]:
    now = deps.now()
    per_unit: dict[str, int] = {}
    oldest: dict[str, str] = {}
    for unit_id in sorted(deps.catalogue.tree().units):
        cursor: str | None = None
        while True:
            items, cursor = deps.dossiers.search(
                DossierQuery(unit=unit_id, overdue=True, limit=page_size, cursor=cursor), now)
            if items:
                per_unit[unit_id] = per_unit.get(unit_id, 0) + len(items)
                oldest.setdefault(unit_id, items[0]["code"])
            if cursor is None:
                break
    return {"at": now.isoformat(), "overdue_total": sum(per_unit.values()), "overdue_by_unit": per_unit,
            "oldest_overdue_by_unit": oldest}
