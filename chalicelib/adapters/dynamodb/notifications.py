"""Notifications as sent (or, locally, as they would have been): listable by dossier and by unit."""

from __future__ import annotations

from typing import Any

from .models import NotificationModel


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
