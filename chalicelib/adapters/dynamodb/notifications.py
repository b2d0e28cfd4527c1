"""Notifications as sent (or, locally, as they would have been): listable by dossier and by unit."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import PutError

from .models import NotificationModel


class NotificationRepository:
    """Implements services.ports.NotificationStore on the notifications table."""

    def add(self, n: dict[str, Any]) -> None:
        ident, at = n.get("id"), n.get("at")
        if not isinstance(ident, str) or not ident or not isinstance(at, str) or not at:
            raise ValueError("a notification needs a non-empty string `id` and `at` (ISO instant)")
        item = NotificationModel(ident, at_sk=f"{at}#{ident}", code=n.get("code"), unit=n.get("unit"), data=n)
        try:
            # The same id twice is the same notification delivered again (a retried event): keep the first.
            item.save(condition=NotificationModel.id.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise

    def for_dossier(self, code: str) -> list[dict[str, Any]]:
        return [dict(item.data) for item in NotificationModel.by_dossier.query(code, scan_index_forward=True)]

    def for_unit(self, unit: str, limit: int) -> list[dict[str, Any]]:
        return [dict(item.data) for item in
                NotificationModel.by_unit.query(unit, scan_index_forward=False, limit=limit)]
