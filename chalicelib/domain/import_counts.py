"""Report 06's counters of imported dossiers, summed in bulk: what the statistics consumer would have booked for
every historical event, per dossier, then per counter key across many dossiers (docs/import.md).

The rules are the consumer's (domain/counting.py: `booking` with the same CountingUnits, `overdue_closing`); only
the way they reach the store differs. An imported dossier's events are all known at once, so the overdue
interval is closed in memory, in event order, as the dossier's `life` item would have closed it; what a later live
event of a dossier still open needs to close its interval is the one fact left (`life_flagged`). The store then
writes each counter key once per transaction for all the dossiers packed in it, with one guard per dossier
(adapters/dynamodb/stats.py `apply_imported`).

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .counting import TYPES, CountingUnits, Key, all_rollups, booking, overdue_closing
from .events import DomainEvent


@dataclass
class DossierCounts:
    """Everything one imported dossier adds to the stats: its daily increments (the overdue interval already
    closed when it ended), the months each unit has counters in, and whether its `life` item must say the
    interval is open (an open dossier flagged overdue: its later live end writes the -1)."""

    code: str
    increments: dict[Key, dict[str, int]] = field(default_factory=dict)
    months: dict[str, set[str]] = field(default_factory=dict)
    life_flagged: bool = False
    sync_unit: str | None = None  # the portal sync's unit: its count of known dossiers grows by one

    @property
    def empty(self) -> bool:
        return not any(any(row.values()) for row in self.increments.values()) and not self.life_flagged


def dossier_counts(code: str, events: Iterable[DomainEvent], units: CountingUnits | None,
                   still_open: bool) -> DossierCounts:
    """The bookings of `events` (one dossier's, in seq order) summed, as the consumer would have applied them one
    by one; `still_open`: live events may follow (the dossier is not closed)."""
    out = DossierCounts(code)
    flagged, ended = False, None
    for event in events:
        if event.type not in TYPES:
            continue
        book = booking(event, units)
        _add_all(out.increments, book.increments)
        for key in overdue_closing(book, flagged, ended):
            row = out.increments.setdefault((str(key[0]), str(key[1])), {})
            row["overdue"] = row.get("overdue", 0) - 1
        flagged = flagged or book.flags_overdue
        if book.ends is not None:
            ended = book.ends
        for unit, months in book.months().items():
            out.months.setdefault(unit, set()).update(months)
    out.increments = {k: {c: n for c, n in row.items() if n} for k, row in out.increments.items()}
    out.increments = {k: row for k, row in out.increments.items() if row}
    out.life_flagged = still_open and flagged and ended is None
    return out


@dataclass
class Packed:
    """Dossiers whose counters go in one transaction: each key once, summed."""

    codes: list[str]
    daily: dict[Key, dict[str, int]]
    rollup: dict[Key, dict[str, int]]
    months: dict[str, set[str]]
    life: list[str]  # codes whose life item says flagged
    known: dict[str, int]  # the portal sync's units and how many dossiers each now knows

    @property
    def items(self) -> int:
        return len(self.codes) + len(self.daily) + len(self.rollup) + len(self.months) + len(self.life) + len(
            self.known)


def summed(counts: Sequence[DossierCounts]) -> Packed:
    daily: dict[Key, dict[str, int]] = {}
    months: dict[str, set[str]] = {}
    known: dict[str, int] = {}
    for c in counts:
        _add_all(daily, c.increments)
        for unit, ms in c.months.items():
            months.setdefault(unit, set()).update(ms)
        if c.sync_unit:
            known[c.sync_unit] = known.get(c.sync_unit, 0) + 1
    return Packed([c.code for c in counts], daily, all_rollups(daily), months,
                  [c.code for c in counts if c.life_flagged], known)


def packed(counts: Sequence[DossierCounts], limit: int) -> list[Packed]:
    """`counts` in groups of at most `limit` items each (guards, counter keys, months sets, life items, known
    counts), the dossiers sharing keys together (sorted by their first key), so that a key shared by many
    dossiers is written once."""
    ordered = sorted(counts, key=lambda c: min(c.increments, default=("", "")))
    groups: list[Packed] = []
    current: list[DossierCounts] = []
    for c in ordered:
        trial = summed([*current, c])
        if current and trial.items > limit:
            groups.append(summed(current))
            current = [c]
        else:
            current.append(c)
    if current:
        groups.append(summed(current))
    return groups


def _add_all(target: dict[Key, dict[str, int]], increments: dict[Key, dict[str, int]]) -> None:
    for key, row in increments.items():
        into = target.setdefault(key, {})
        for column, n in row.items():
            into[column] = into.get(column, 0) + n
