"""What the use cases need from storage. Adapters (chalicelib/adapters/dynamodb) implement these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ..domain.catalogue import Procedure, Unit
from ..domain.dossier import Dossier, HistoryEntry
from ..domain.errors import DomainError, FieldProblem
from ..domain.status import Status


@dataclass(frozen=True)
class DossierQuery:
    unit: str
    view: str = "handling"  # "handling": where the dossier is now; "received": what the unit's desk received
    status: Status | None = None
    procedure: str | None = None
    filed_from: datetime | None = None
    filed_to: datetime | None = None
    overdue: bool | None = None
    limit: int = 50
    cursor: str | None = None


class ItemTooLarge(DomainError):
    """What a request asks to store exceeds what one DynamoDB item can hold (HTTP 413)."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the dossier would take {size} bytes; at most {limit} can be stored",
                         [FieldProblem("body", "too large once stored: fewer or shorter documents and notes")],
                         "payload_too_large")


class DossierStore(Protocol):
    def get(self, code: str, consistent: bool = False) -> Dossier | None: ...
    def history(self, code: str) -> list[HistoryEntry]: ...
    def search(self, query: DossierQuery, now: datetime) -> tuple[list[dict[str, Any]], str | None]: ...
    def next_sequence(self, name: str) -> int: ...
    def add(self, dossier: Dossier, entry: HistoryEntry, claim: tuple[str, str] | None = None) -> None:
        """Store a new dossier and its first history line; with `claim` (an Idempotency-Key's id and payload
        hash), also record in the same transaction that this key created it. Raises ItemTooLarge."""
        ...

    def check_fits(self, dossier: Dossier, entry: HistoryEntry) -> None:
        """Raise ItemTooLarge if the dossier or its history line could not be stored."""
        ...
    def save(self, dossier: Dossier, entry: HistoryEntry, expected_version: int) -> None: ...


class CatalogueStore(Protocol):
    def units(self) -> list[Unit]: ...
    def procedures(self) -> list[Procedure]: ...
    def procedure(self, code: str, version: int | None = None) -> Procedure | None: ...
