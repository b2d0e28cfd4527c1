"""The national portal (Cổng dịch vụ công quốc gia, DVCQG): what each domain event becomes for it.

The portal exchanges a one-stop dossier through two services (../../docs/portal-sync.md):
- `DongBoHoSoMC`, the dossier sync: sent once, the first time the portal hears of a dossier;
- `CapNhatTienDoHoSoMC`, the progress update: every later status change, and a rescheduling (the apology of
  Decree 61/2018 Art 19 keeps the status but gives the applicant a new appointment).

`change_of(event)` keeps from an event what either payload needs (a "change"); which of the two payloads a change
becomes is decided when it is pushed (the first change pushed for a dossier is its dossier sync), because queues
may record a dossier's changes out of order. Every status maps to exactly one national code (status.py).

Times go to the portal as local time (Asia/Ho_Chi_Minh, UTC+7, no daylight saving) written yyyyMMddHHmmss, as
the portal's services spell them. Nothing here reads a clock: an imported dossier's events may be years old.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from . import events as ev
from .clock import iso, parse_iso
from .events import DomainEvent
from .status import Status

DOSSIER_SYNC = "DongBoHoSoMC"
PROGRESS_UPDATE = "CapNhatTienDoHoSoMC"
SERVICES = (DOSSIER_SYNC, PROGRESS_UPDATE)

LOCAL = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")

# The portal's channel codes (KenhThucHien): 1 in person, 2 online, 3 by post.
CHANNELS: dict[str, int] = {"direct": 1, "online": 2, "postal": 3}
# The portal's applicant kinds (LoaiDoiTuong): 1 citizen, 2 business, 3 organisation.
APPLICANT_KINDS: dict[str, int] = {"citizen": 1, "business": 2, "organisation": 3}

RESCHEDULED_NOTE = "Xin lỗi và hẹn lại ngày trả kết quả"

# The snapshot fields a change keeps: what the two payloads read, nothing about the applicant (read once, when
# the dossier sync is built) and nothing the portal does not take.
_KEPT = ("code", "procedure_code", "field_code", "channel", "receiving_unit", "competent_unit", "handling_unit",
         "submitted_at", "received_at", "appointment_at", "due_at", "resolved_at")


LIVE, HISTORY = "live", "history"  # the sync's lanes (SyncState.lane)


class PortalMappingError(ValueError):
    """An event that cannot be told to the portal as it stands (an inconsistent national code)."""


def change_of(event: DomainEvent) -> dict[str, Any] | None:
    """What the portal must hear of `event`, or None: only status changes, reschedulings and a dossier's first
    event reach the portal (due-soon warnings, steps, notices are the province's own business). A paper walk-in
    given only a guidance slip (status guided) was never a dossier: the portal hears nothing of it, no code 3."""
    if str((event.data.get("dossier") or {}).get("status")) == Status.GUIDED.value:
        return None
    if event.type == ev.STATUS_CHANGED:
        status = Status(str(event.data["to_status"]))
        carried = event.data.get("national_code")
        if carried is not None and int(carried) != status.national_code:
            raise PortalMappingError(f"event {event.id}: status {status.value} is national code "
                                     f"{status.national_code}, the event says {carried}")
        return _change(event, status, note=status.label, new_appointment_at=None)
    if event.type == ev.APPOINTMENT_CHANGED and event.data.get("reason") == "apology":
        status = Status(str(event.data["dossier"]["status"]))
        return _change(event, status, note=RESCHEDULED_NOTE, new_appointment_at=event.data.get("appointment_at"))
    if event.seq == 1:
        # A dossier's first event is always a status change in motcua's own flows; one brought by an import may
        # not be, and the portal must still hear of the dossier, at the status its snapshot shows.
        status = Status(str(event.data["dossier"]["status"]))
        return _change(event, status, note=status.label, new_appointment_at=None)
    return None


def history_change(last: DomainEvent) -> dict[str, Any]:
    """An imported dossier as the portal hears of it: one change, its final state (the snapshot of its last
    event), which the worker pushes as its dossier sync (DongBoHoSoMC): the portal gets the dossier once, not
    every step of a history that ended years ago."""
    status = Status(str((last.data.get("dossier") or {}).get("status")))
    return _change(last, status, note=status.label, new_appointment_at=None)


def history_state(last: DomainEvent, now: datetime) -> SyncState:
    """The sync state of an imported dossier whose last event is `last`: its items before `last.seq` are
    handled (never recorded: the history change stands for them), `last.seq` waits on the history lane."""
    return SyncState(last.code, unit_of(last), next_seq=last.seq, recorded=last.seq, pending_since=iso(now),
                     next_at=iso(now), lane=HISTORY)


def _change(event: DomainEvent, status: Status, note: str, new_appointment_at: str | None) -> dict[str, Any]:
    snapshot: Mapping[str, Any] = event.data.get("dossier") or {}
    return {
        "event_id": event.id, "seq": event.seq, "at": iso(event.at),
        "status": status.value, "national_code": status.national_code, "note": note,
        "action": event.data.get("action"), "officer": event.data.get("officer"),
        "officer_unit": event.data.get("officer_unit"), "new_appointment_at": new_appointment_at,
        "dossier": {name: snapshot.get(name) for name in _KEPT},
    }


def unit_of(event: DomainEvent) -> str:
    """The unit a dossier's sync counts under: the receiving unit, which never changes (the portal's index
    counts a dossier against the one-stop desk that took it)."""
    return str((event.data.get("dossier") or {}).get("receiving_unit") or "")


def portal_time(instant: str | None) -> str | None:
    """A stored instant (ISO 8601, UTC) as the portal writes times: local yyyyMMddHHmmss."""
    if not instant:
        return None
    return parse_iso(instant).astimezone(LOCAL).strftime("%Y%m%d%H%M%S")


def dossier_sync(change: Mapping[str, Any], applicant: Mapping[str, Any] | None) -> dict[str, Any]:
    """DongBoHoSoMC: the dossier as the portal first records it, at the status of `change`. Of the applicant
    only what identifies the dossier's owner (name, kind, identity or tax number): no address, phone or email."""
    d = change["dossier"]
    who = applicant or {}
    return {
        "MaHoSo": d["code"], "MaTTHC": d["procedure_code"], "MaLinhVuc": d.get("field_code") or None,
        "MaDonVi": d["receiving_unit"], "DonViXuLy": d.get("competent_unit"),
        "KenhThucHien": CHANNELS.get(str(d.get("channel")), 1),
        "ChuHoSo": who.get("name"), "LoaiDoiTuong": APPLICANT_KINDS.get(str(who.get("kind") or "citizen"), 1),
        "SoGiayToChuHoSo": who.get("id_number"),
        "NgayNopHoSo": portal_time(d.get("submitted_at")), "NgayTiepNhan": portal_time(d.get("received_at")),
        "NgayHenTra": portal_time(d.get("appointment_at") or d.get("due_at")),
        "NgayCoKetQua": portal_time(d.get("resolved_at")),
        "TrangThaiHoSo": int(change["national_code"]), "ThoiDiem": portal_time(change["at"]),
        "MaSuKien": change["event_id"],
    }


def progress_update(change: Mapping[str, Any]) -> dict[str, Any]:
    """CapNhatTienDoHoSoMC: one step of the dossier's progress; `NgayHenTraMoi` only when it was rescheduled."""
    d = change["dossier"]
    out = {
        "MaHoSo": d["code"], "TrangThaiHoSo": int(change["national_code"]), "ThoiDiemXuLy": portal_time(change["at"]),
        "NguoiXuLy": change.get("officer"), "DonViXuLy": change.get("officer_unit") or d.get("handling_unit"),
        "NoiDungXuLy": change.get("note"), "NgayHenTra": portal_time(d.get("appointment_at") or d.get("due_at")),
        "NgayCoKetQua": portal_time(d.get("resolved_at")), "MaSuKien": change["event_id"],
    }
    if change.get("new_appointment_at"):
        out["NgayHenTraMoi"] = portal_time(change["new_appointment_at"])
    return out


def payload(change: Mapping[str, Any], announced: bool,
            applicant: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The service and body that push `change`: the dossier sync until the portal acknowledged one, then
    progress updates."""
    if announced:
        return PROGRESS_UPDATE, progress_update(change)
    return DOSSIER_SYNC, dossier_sync(change, applicant)


def backoff_seconds(attempts: int, base: float, cap: float) -> float:
    """Capped exponential backoff after `attempts` failed tries (1, 2, ...): base, 2 base, 4 base ... cap."""
    if attempts < 1:
        return 0.0
    return float(min(cap, base * 2 ** min(attempts - 1, 30)))


SYNCED, PENDING, FAILING = "synced", "pending", "failing"


@dataclass
class SyncState:
    """One dossier's sync (services/portal_sync.py): its changes are items seq 1, 2, ... (one per event, a skip
    when the event is nothing to the portal); `next_seq` is the first not yet acknowledged. Pure: every
    transition takes the instant it happens at; instants are stored as ISO text."""

    code: str
    unit: str
    rev: int = 0  # bumped by every write: each is conditioned on the revision read
    next_seq: int = 1
    recorded: int = 0  # items recorded: all are handled when next_seq == recorded + 1
    announced: bool = False  # the portal acknowledged the dossier sync (DongBoHoSoMC)
    pushed: int = 0  # payloads the portal acknowledged
    attempts: int = 0  # failed tries of the item at next_seq
    failing: bool = False
    next_at: str | None = None  # when the worker may try next
    pending_since: str | None = None  # when the oldest change not yet acknowledged was recorded
    gap_since: str | None = None  # when the worker found next_seq missing while later items were recorded
    last_error: str | None = None
    lease_until: str | None = None  # a worker is pushing this dossier until then ...
    lease_owner: str | None = None  # ... this one: a worker that finds another owner after a conflict stops
    synced_at: str | None = None
    # "history": an imported dossier's final state, pushed on its own rate-limited lane after the live dossiers
    # (services/portal_sync.py); a live change recorded for it moves it to the live lane.
    lane: str = "live"

    @property
    def status(self) -> str:
        if self.pending_since is None:
            return SYNCED
        return FAILING if self.failing else PENDING

    @property
    def all_handled(self) -> bool:
        return self.next_seq == self.recorded + 1

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SyncState:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def leased(self, now: datetime) -> bool:
        return self.lease_until is not None and parse_iso(self.lease_until) > now

    def recorded_one(self, now: datetime) -> SyncState:
        out = replace(self, recorded=self.recorded + 1, lane=LIVE)
        if out.pending_since is None:
            out = replace(out, pending_since=iso(now), attempts=0, failing=False, last_error=None)
        already_due = out.next_at is not None and parse_iso(out.next_at) <= now
        if out.attempts == 0 and not already_due:  # not backing off after a failed push: the worker may come at once
            out = replace(out, next_at=iso(now))
        # A dossier already due keeps its time: it stays among the longest waiting, and its entry in the due index
        # (keyed on that time) is not rewritten by each change recorded meanwhile (docs/performance.md).
        return out

    def lease(self, now: datetime, seconds: float, owner: str) -> SyncState:
        return replace(self, lease_until=iso(now + timedelta(seconds=seconds)), lease_owner=owner)

    def acknowledged(self, seq: int, now: datetime, pushed: bool, lease_seconds: float) -> SyncState:
        out = replace(self, next_seq=seq + 1, attempts=0, failing=False, last_error=None, gap_since=None,
                      lease_until=iso(now + timedelta(seconds=lease_seconds)))
        return replace(out, announced=True, pushed=out.pushed + 1) if pushed else out

    def failed(self, now: datetime, error: str, base: float, cap: float, failing_after: int) -> SyncState:
        attempts = self.attempts + 1
        wait = backoff_seconds(attempts, base, cap)
        return replace(self, attempts=attempts, failing=attempts >= failing_after, last_error=error[:500],
                       next_at=iso(now + timedelta(seconds=wait)), lease_until=None, lease_owner=None)

    def waiting_for_gap(self, now: datetime, grace: float) -> SyncState:
        since = parse_iso(self.gap_since) if self.gap_since else now
        return replace(self, gap_since=iso(since), next_at=iso(max(now, since + timedelta(seconds=grace))),
                       lease_until=None, lease_owner=None)

    def gap_unresolved(self, now: datetime, cap: float) -> SyncState:
        return replace(self, failing=True, last_error=f"event {self.code}/{self.next_seq} is missing: later "
                       "changes are held until it is recorded", next_at=iso(now + timedelta(seconds=cap)),
                       lease_until=None, lease_owner=None)

    def finished(self, now: datetime) -> SyncState:
        return replace(self, pending_since=None, synced_at=iso(now), next_at=None, gap_since=None, failing=False,
                       attempts=0, last_error=None, lease_until=None, lease_owner=None)

    def released(self) -> SyncState:
        return replace(self, lease_until=None, lease_owner=None)
