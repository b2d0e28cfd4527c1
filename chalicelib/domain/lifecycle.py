"""The transition table: which action is allowed from which status, by whom, to which status."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .status import Status


class Action(StrEnum):
    ACCEPT = "accept"  # tiếp nhận hồ sơ trực tuyến
    REFUSE_INTAKE = "refuse_intake"  # không tiếp nhận (phiếu từ chối, mẫu 03)
    ASSIGN = "assign"  # phân công cán bộ xử lý
    COMPLETE_STEP = "complete_step"  # hoàn thành bước, chuyển bước/cơ quan tiếp theo
    REQUEST_SUPPLEMENT = "request_supplement"  # yêu cầu bổ sung (mẫu 02)
    RECEIVE_SUPPLEMENT = "receive_supplement"  # nhận hồ sơ bổ sung
    REQUEST_PAYMENT = "request_payment"  # yêu cầu thực hiện nghĩa vụ tài chính
    CONFIRM_PAYMENT = "confirm_payment"  # xác nhận đã nộp
    RESOLVE = "resolve"  # có kết quả
    REFUSE = "refuse"  # từ chối giải quyết sau thẩm định
    RETURN_RESULT = "return_result"  # trả kết quả
    WITHDRAW = "withdraw"  # công dân rút hồ sơ
    STOP = "stop"  # dừng giải quyết theo yêu cầu của công dân
    APOLOGIZE = "apologize"  # xin lỗi và hẹn lại ngày trả kết quả (mẫu 04)
    GUIDE_SUBMISSION = "guide_submission"  # hướng dẫn bổ sung hồ sơ trực tuyến (một lần, cùng mã hồ sơ)
    COMPLETE_SUBMISSION = "complete_submission"  # công dân bổ sung hồ sơ trực tuyến đã được hướng dẫn


# None as target: back to the status the dossier was paused from.
RESUME = None

_OPEN_WORK = frozenset({Status.RECEIVED, Status.IN_PROGRESS})
_PAUSED = frozenset({Status.SUPPLEMENT_REQUESTED, Status.PAYMENT_REQUESTED})


@dataclass(frozen=True)
class Transition:
    sources: frozenset[Status]
    target: Status | None
    roles: frozenset[str]
    label: str
    keeps_status: bool = False  # the action records something without moving the dossier (the apology)


def _t(
    sources: set[Status] | frozenset[Status], target: Status | None, roles: set[str], label: str,
    *, keeps_status: bool = False,
) -> Transition:
    return Transition(frozenset(sources), target, frozenset(roles), label, keeps_status)


TRANSITIONS: dict[Action, Transition] = {
    Action.ACCEPT: _t({Status.SUBMITTED}, Status.RECEIVED, {"desk"}, "Tiếp nhận hồ sơ"),
    Action.REFUSE_INTAKE: _t({Status.SUBMITTED}, Status.NOT_ACCEPTED, {"desk"}, "Từ chối tiếp nhận"),
    Action.ASSIGN: _t(_OPEN_WORK, Status.IN_PROGRESS, {"leader", "processor"}, "Phân công xử lý"),
    Action.COMPLETE_STEP: _t({Status.IN_PROGRESS}, Status.IN_PROGRESS, {"processor", "leader"},
                             "Hoàn thành bước, chuyển xử lý"),
    Action.REQUEST_SUPPLEMENT: _t(_OPEN_WORK, Status.SUPPLEMENT_REQUESTED, {"desk", "processor", "leader"},
                                  "Yêu cầu bổ sung hồ sơ"),
    Action.RECEIVE_SUPPLEMENT: _t({Status.SUPPLEMENT_REQUESTED}, RESUME, {"desk", "processor"},
                                  "Nhận hồ sơ bổ sung"),
    Action.REQUEST_PAYMENT: _t(_OPEN_WORK, Status.PAYMENT_REQUESTED, {"processor", "leader"},
                               "Yêu cầu thực hiện nghĩa vụ tài chính"),
    Action.CONFIRM_PAYMENT: _t({Status.PAYMENT_REQUESTED}, RESUME, {"desk", "processor"},
                               "Xác nhận đã thực hiện nghĩa vụ tài chính"),
    Action.RESOLVE: _t({Status.IN_PROGRESS}, Status.RESOLVED, {"processor", "leader"}, "Có kết quả giải quyết"),
    Action.REFUSE: _t(_OPEN_WORK, Status.REFUSED, {"processor", "leader"}, "Từ chối giải quyết"),
    Action.RETURN_RESULT: _t({Status.RESOLVED, Status.REFUSED}, Status.RETURNED, {"desk"}, "Trả kết quả"),
    Action.WITHDRAW: _t({Status.SUBMITTED} | _OPEN_WORK | _PAUSED, Status.WITHDRAWN, {"desk"},
                        "Rút hồ sơ theo yêu cầu"),
    Action.STOP: _t(_OPEN_WORK | _PAUSED, Status.STOPPED, {"desk", "leader"}, "Dừng giải quyết theo yêu cầu"),
    # Decree 61/2018 Art 19: the agency that will be late apologises in writing (form 04 of Circular
    # 01/2018) with a new appointment, once. Only while the clock runs: a paused dossier has no due time to
    # miss, and its appointment is given again when it resumes.
    Action.APOLOGIZE: _t(_OPEN_WORK, None, {"leader"}, "Xin lỗi và hẹn lại ngày trả kết quả", keeps_status=True),
    # Decree 61/2018 Art 15(2)(a) / Decree 118/2025: an incomplete online submission gets the guidance once, on the
    # same dossier and code; the applicant completes that dossier (not refused and filed anew). The clock has not
    # started: it starts when the complete dossier is received.
    Action.GUIDE_SUBMISSION: _t({Status.SUBMITTED}, None, {"desk"}, "Hướng dẫn bổ sung, hoàn thiện hồ sơ trực tuyến",
                                keeps_status=True),
    Action.COMPLETE_SUBMISSION: _t({Status.SUBMITTED}, None, {"desk"}, "Công dân bổ sung, hoàn thiện hồ sơ trực tuyến",
                                   keeps_status=True),
}


def allowed_actions(status: Status) -> list[str]:
    return [action.value for action, t in TRANSITIONS.items() if status in t.sources]
