"""Dossier statuses and their mapping onto the national (DVCQG) status codes."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """The system's own statuses. Several may map to one national code (many-to-one).

    At a paper intake the desk decides (Decree 61/2018 Art 15(2)): a dossier refused there gets
    NOT_ACCEPTED (national code 3) and the refusal, form 03. One found incomplete is not received
    either: the officer hands back a guidance slip, form 02, listing what is missing (Art 15(2)(a)).
    It gets a status of its own, GUIDED, because it is neither received (no clock starts, no
    appointment is given) nor refused (the applicant is expected back with the missing items), and
    counters must tell guidance from refusal. The national list has no code for it; the nearest is 3
    (Không được tiếp nhận: the dossier was not received), so GUIDED maps there, many-to-one.
    """

    SUBMITTED = "submitted"
    RECEIVED = "received"
    NOT_ACCEPTED = "not_accepted"
    GUIDED = "guided"
    IN_PROGRESS = "in_progress"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    PAYMENT_REQUESTED = "payment_requested"
    WITHDRAWN = "withdrawn"
    STOPPED = "stopped"
    RESOLVED = "resolved"
    REFUSED = "refused"
    RETURNED = "returned"

    @property
    def national_code(self) -> int:
        return _NATIONAL[self][0]

    @property
    def label(self) -> str:
        """The Vietnamese label shown to officers and applicants."""
        return _NATIONAL[self][1]

    @property
    def is_closed(self) -> bool:
        return self in CLOSED

    def as_dict(self) -> dict[str, object]:
        return {"status": self.value, "national_code": self.national_code, "label": self.label}


# A refusal after appraisal is a processed dossier whose result is the refusal letter: the
# national portal sees code 9 (then 10 once handed back). Like withdrawn, stopped and not-accepted
# dossiers it is not early, on time or late: its outcome is "refused" (see Dossier.outcome).
_NATIONAL: dict[Status, tuple[int, str]] = {
    Status.SUBMITTED: (1, "Mới đăng ký"),
    Status.RECEIVED: (2, "Được tiếp nhận"),
    Status.NOT_ACCEPTED: (3, "Không được tiếp nhận"),
    Status.GUIDED: (3, "Không được tiếp nhận (hướng dẫn bổ sung, hoàn thiện hồ sơ)"),
    Status.IN_PROGRESS: (4, "Đang xử lý"),
    Status.SUPPLEMENT_REQUESTED: (5, "Yêu cầu bổ sung giấy tờ"),
    Status.PAYMENT_REQUESTED: (6, "Yêu cầu thực hiện nghĩa vụ tài chính"),
    Status.WITHDRAWN: (7, "Công dân yêu cầu rút hồ sơ"),
    Status.STOPPED: (8, "Dừng xử lý"),
    Status.RESOLVED: (9, "Đã xử lý xong"),
    Status.REFUSED: (9, "Đã xử lý xong (từ chối giải quyết)"),
    Status.RETURNED: (10, "Đã trả kết quả"),
}

CLOSED = frozenset(
    {Status.NOT_ACCEPTED, Status.GUIDED, Status.WITHDRAWN, Status.STOPPED, Status.RETURNED}
)
