"""Every event a dossier's life produces validates against its JSON Schema (schemas/events/<type>.json)."""

import json
import random
from datetime import timedelta
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator

from chalicelib.domain.clock import iso
from chalicelib.domain.deadlines import WatchSettings
from chalicelib.domain.dossier import WITHDRAWABLE, Actor, Dossier
from chalicelib.domain.errors import DomainError
from chalicelib.domain.events import EVENT_TYPES, DomainEvent
from chalicelib.domain.lifecycle import Action, allowed_actions
from chalicelib.domain.rating import LEVELS
from chalicelib.domain.status import Status
from tests.unit.calendars import CALENDAR, vn
from tests.unit.demo import procedure
from tests.units import CENTRE

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "chalicelib" / "schemas" / "events"
EVERYONE = Actor("cv.all", CENTRE, frozenset({"desk", "processor", "leader"}), name="Cán bộ")
PROCEDURES = ("2.001417", "1.004873", "1.004227", "2.000635", "1.009994", "2.000815")


@cache
def validator(kind: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{kind}.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def check(events: list[DomainEvent]) -> None:
    for event in events:
        errors = sorted(validator(event.type).iter_errors(event.as_dict()), key=str)
        assert not errors, (event.type, [f"{list(e.absolute_path)}: {e.message}" for e in errors])
        assert DomainEvent.from_dict(json.loads(json.dumps(event.as_dict()))) == event


def test_there_is_one_schema_per_event_type_and_no_other():
    assert sorted(p.stem for p in SCHEMAS.glob("*.json")) == sorted(EVENT_TYPES)
    for kind in EVENT_TYPES:
        assert validator(kind).schema["properties"]["type"] == {"const": kind}


def test_a_wrong_event_is_refused_by_its_schema():
    event = DomainEvent("dossier.overdue", "X-1", 1, 1, vn(2026, 3, 16, 9), {"flag": "overdue"})
    assert list(validator("dossier.overdue").iter_errors(event.as_dict()))  # no snapshot, no instants


def payload(action: str, dossier: Dossier, rng: random.Random) -> dict:
    later = (dossier.appointment_at or vn(2026, 1, 1, 8)) + timedelta(days=rng.randint(1, 10))
    return {
        "refuse_intake": {"reasons": ["Hồ sơ không thuộc thẩm quyền"]},
        "request_supplement": {"missing_items": dossier.document_list[:1], "reason": "Thiếu giấy tờ"},
        "guide_submission": {"missing_items": dossier.document_list[:1], "reason": "Thiếu giấy tờ"},
        "complete_submission": {"documents": [{"name": "Bổ sung"}]},
        "resolve": {"result": {"summary": "Đã cấp"}},
        "refuse": {"reasons": ["Không đủ điều kiện"]},
        "withdraw": {"reason": "Công dân rút"},
        "stop": {"reason": "Công dân đề nghị dừng"},
        "apologize": {"reason": "Cần xác minh thêm", "new_appointment_at": iso(later)},
        "complete_step": {"note": "xong"},
    }.get(action, {})


def life(rng: random.Random, number: int, seen: dict[str, int]) -> None:
    code = rng.choice(PROCEDURES)
    channel = rng.choice(("direct", "postal", "online", "online"))
    if channel == "online" and procedure(code).online_service is None:
        channel = "direct"  # not offered online: refused at intake (tests/unit/test_online_service.py)
    at = vn(2026, 1, 2, 7) + timedelta(days=rng.randint(0, 330), minutes=rng.randint(0, 14 * 60))
    decision = rng.choice((None, None, None, {"decision": "guide", "missing_items": ["Bản chụp căn cước công dân"]}))
    dossier, _ = Dossier.receive(
        code=f"{CENTRE}-260102-{number:04d}", procedure=procedure(code), receiving_unit=CENTRE,
        competent_unit=procedure(code).competent_units[0], channel=channel, applicant={"name": "An"}, form={},
        documents=[], actor=EVERYONE, at=at, calendar=CALENDAR,
        decision=decision if channel != "online" else None, watch=WatchSettings(rng.choice((4, 8, 16)), 8))
    events = dossier.take_events()
    for _ in range(40):
        if dossier.status.is_closed:
            break
        at += timedelta(hours=rng.choice((1, 3, 8, 24, 72, 200)))
        if rng.random() < 0.6 and dossier.wake(at):
            events += dossier.take_events()
        if rng.random() < 0.05 and dossier.status in WITHDRAWABLE and dossier.withdrawal_request is None:
            dossier.request_withdrawal("Không còn nhu cầu", f"DVC-{number}", "inbound:dvcqg", at)
            events += dossier.take_events()
        if rng.random() < 0.1:  # a file verified (services/documents.py): a scan, a reused copy or the result
            kind = rng.choice(("component", "component", "result"))
            file = {"id": f"{number:08d}{len(events):024d}", "kind": kind, "component": "Tờ khai",
                    "media_type": "application/pdf", "pages": rng.choice((None, 2)), "by": "tn.lan", "unit": CENTRE,
                    "reused_from": {"dossier": "x", "file": "y"} if rng.random() < 0.3 else None}
            dossier.record_file(file, at, rng.random() < 0.5, rng.random() < 0.5, rng.random() < 0.5)
            events += dossier.take_events()
        choices = allowed_actions(dossier.status)
        action = rng.choice(choices)
        if action in ("complete_step", "resolve") and rng.random() < 0.5:
            action = "resolve" if dossier.current_step == len(dossier.steps) - 1 else "complete_step"
        if action in ("withdraw", "stop", "refuse", "refuse_intake") and rng.random() < 0.7:
            continue  # let most dossiers live long enough to meet their deadlines
        before = dossier.version
        try:
            dossier.act(Action(action), EVERYONE, at, CALENDAR, payload(action, dossier, rng))
        except DomainError:
            assert dossier.pending_events == [] and dossier.version == before  # a refusal produces nothing
            continue
        events += dossier.take_events()
    if dossier.status is Status.RETURNED and rng.random() < 0.8:
        dossier.rate({"level": rng.choice(LEVELS), "comment": rng.choice((None, "Cán bộ nhiệt tình"))},
                     rng.choice(("applicant", "portal")), "applicant", at + timedelta(days=1))
        events += dossier.take_events()
    assert [e.seq for e in events] == list(range(1, len(events) + 1)) == list(range(1, dossier.event_count + 1))
    assert [e.version for e in events] == sorted(e.version for e in events) and events[-1].version == dossier.version
    assert len({e.id for e in events}) == len(events)
    check(events)
    for e in events:
        seen[e.type] = seen.get(e.type, 0) + 1


def test_long_random_lives_emit_only_valid_events_of_every_type():
    rng = random.Random(20260316)
    seen: dict[str, int] = {}
    for number in range(1, 301):
        life(rng, number, seen)
    assert set(seen) == set(EVENT_TYPES), set(EVENT_TYPES) - set(seen)
