"""Notifications as sent (or, locally, as they would have been): listable by dossier and by unit."""

from __future__ import annotations

from typing import Any

from . import cursors
from .models import NotificationModel

_UNIT_KEY = ("id", "unit", "at_sk")  # the by-unit index's LastEvaluatedKey


class NotificationRepository:
    """Implements services.ports.NotificationStore on the notifications table."""

    def add(self, n: dict[str, Any]) -> None:
        ident, at = n.get("id"), n.get("at")
        if not isinstance(ident, str) or not ident or not isinstance(at, str) or not at:
            raise ValueError("a notification needs a non-empty string `id` and `at` (ISO instant)")
        # The same id again is the same notification (a retried event or send): it replaces the record, e.g.
        # with its new status, and is never listed twice.
        NotificationModel(ident, at_sk=f"{at}#{ident}", code=n.get("code"), unit=n.get("unit"), data=n).save()

    def for_dossier(self, code: str) -> list[dict[str, Any]]:
        return [dict(item.data) for item in NotificationModel.by_dossier.query(code, scan_index_forward=True)]

    def for_unit(self, unit: str, limit: int) -> list[dict[str, Any]]:
        return [dict(item.data) for item in
                NotificationModel.by_unit.query(unit, scan_index_forward=False, limit=limit)]

    def unit_page(self, unit: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """One Query on the by-unit index, newest first, and a cursor signed for this unit's list."""
        listing = cursors.fingerprint("notifications-by-unit", unit)
        results = NotificationModel.by_unit.query(unit, scan_index_forward=False, limit=limit,
                                                  last_evaluated_key=cursors.decode(cursor, listing, _UNIT_KEY, "id"))
        items = [dict(item.data) for item in results]
        return items, cursors.encode(results.last_evaluated_key, listing)
