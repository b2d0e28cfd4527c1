"""The dossier timer's real state machine (infra/deadline-timer.asl.json) run by moto's Step Functions interpreter,
its Lambda task routed to the in-process Chalice function `deadline_timer`, the timers started and stopped by the
`deadline_timers` consumer through its SQS handler. DynamoDB stays on DynamoDB Local (moto passes its endpoint
through). Instants are in the past (TZ=UTC, ISO with Z), so the Wait states do not sleep, except where a test
needs a timer still waiting: then its instant is in the real future.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.adapters.stepfunctions import StepFunctionsTimers, execution_name
from chalicelib.domain.clock import parse_iso
from chalicelib.domain.dossier import Actor, Dossier
from tests.api.helpers import CRIMINAL_RECORD, post, receive
from tests.unit.calendars import CALENDAR, vn
from tests.unit.demo import procedure
from tests.units import CENTRE, JUSTICE

ROOT = Path(__file__).resolve().parents[2]
REGION = "ap-southeast-1"
ACCOUNT = "123456789012"  # moto's default account


class Timers:
    """The moto stack of one test: the state machine, the Lambda function it invokes, the service clock."""

    def __init__(self, client: Client) -> None:
        import boto3

        self.chalice = client
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        lam, iam = boto3.client("lambda", region_name=REGION), boto3.client("iam", region_name=REGION)
        role = iam.create_role(RoleName=f"timer-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        function = lam.create_function(FunctionName=f"motcua-test-deadline_timer-{uuid.uuid4().hex[:8]}",
                                       Runtime="python3.11", Role=role, Handler="x.handler",
                                       Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18})["FunctionArn"]
        # What CloudFormation's DefinitionSubstitutions does with the file (infra/events.yaml).
        definition = (ROOT / "infra" / "deadline-timer.asl.json").read_text(encoding="utf-8").replace(
            "${DeadlineTimerFunctionArn}", function)
        self.arn = self.sfn.create_state_machine(
            name=f"motcua-test-deadline-timer-{uuid.uuid4().hex[:8]}", definition=definition, roleArn=role,
            type="STANDARD")["stateMachineArn"]
        self.wakes: list[dict[str, Any]] = []
        self.now = vn(2026, 3, 16, 9).astimezone(UTC)

    def invoke(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Lambda, as the state machine calls it: a timer wakes at the instant it waited for."""
        self.wakes.append(payload)
        if payload.get("wake_at"):
            self.now = max(self.now, parse_iso(payload["wake_at"]))
        return self.chalice.lambda_.invoke("deadline_timer", payload).payload

    def execution_arn(self, code: str, generation: int) -> str:
        head, machine = self.arn.split(":stateMachine:", 1)
        return f"{head}:execution:{machine}:{execution_name(code, generation)}"

    def settle(self, code: str, generation: int, timeout: float = 30) -> dict[str, Any]:
        """Wait (real time, bounded) until the execution is no longer running, or is parked in a Wait that
        really waits (its instant in the future)."""
        arn = self.execution_arn(code, generation)
        deadline = time.monotonic() + timeout
        while True:
            described = self.sfn.describe_execution(executionArn=arn)
            events = self.history(code, generation)
            waiting = events and events[-1]["type"] == "WaitStateEntered" and parse_iso(
                json.loads(events[-1]["stateEnteredEventDetails"]["input"])["wake_at"]) > datetime.now(UTC)
            if described["status"] != "RUNNING" or waiting:
                return described
            assert time.monotonic() < deadline, f"execution still running: {events[-3:]}"
            time.sleep(0.05)

    def exists(self, code: str, generation: int) -> bool:
        try:
            self.sfn.describe_execution(executionArn=self.execution_arn(code, generation))
        except self.sfn.exceptions.ExecutionDoesNotExist:
            return False
        return True

    def history(self, code: str, generation: int) -> list[dict[str, Any]]:
        return self.sfn.get_execution_history(executionArn=self.execution_arn(code, generation),
                                              maxResults=1000)["events"]

    def states_entered(self, code: str, generation: int) -> list[str]:
        """The billed state transitions: one per state entered."""
        return [e["stateEnteredEventDetails"]["name"] for e in self.history(code, generation)
                if e["type"].endswith("StateEntered")]


@pytest.fixture
def timers(monkeypatch) -> Iterator[Timers]:
    from moto import mock_aws
    from moto.awslambda_simple.models import LambdaSimpleBackend

    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL") and n != "AWS_ENDPOINT_URL_DYNAMODB"]:
        monkeypatch.delenv(name)
    ddb = os.environ["AWS_ENDPOINT_URL_DYNAMODB"]
    config = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False},
              "core": {"passthrough": {"urls": [ddb.rstrip("/") + ".*"]}}}
    with mock_aws(config=config), Client(app, stage_name="local") as client:  # type: ignore[arg-type]
        stack = Timers(client)

        def invoke(backend: Any, function_name: str, qualifier: Any, body: Any, *args: Any) -> bytes:
            return json.dumps(stack.invoke(json.loads(body))).encode()

        monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
        bootstrap.override(timers=StepFunctionsTimers(stack.arn, client=stack.sfn), now=lambda: stack.now)
        try:
            yield stack
        finally:
            bootstrap.override()


def deliver(stack: Timers, code: str) -> None:
    """Hand the dossier's unpublished events to the deadline_timers queue's function, as EventBridge -> SQS
    would (envelope and all), then mark them published."""
    deps = bootstrap.deps()
    events = [e for e in deps.outbox.pending(1000) if e.code == code]
    bodies = [json.dumps({"version": "0", "id": str(uuid.uuid4()), "detail-type": e.type, "source": "motcua",
                          "account": ACCOUNT, "time": e.as_dict()["at"], "region": REGION, "resources": [],
                          "detail": e.as_dict()}) for e in events]
    stack.chalice.lambda_.invoke("deadline_timers_consumer",
                                 stack.chalice.events.generate_sqs_event(message_bodies=bodies))
    for event in events:
        deps.outbox.mark_published(event)


def test_a_dossier_becomes_overdue_through_its_step_functions_timer(timers, auth):
    timers.now = vn(2026, 3, 16, 9).astimezone(UTC)
    dossier = receive(timers.chalice, auth)  # 2.001417: 10 working days, due Mon 30 Mar 09:00 (+07)
    code = dossier["code"]
    assert dossier["watch"]["overdue"] == "2026-03-30T09:00:01+07:00" and dossier["flags"] == {}
    deliver(timers, code)  # dossier.received & co: the consumer starts the timer of generation 1

    generation = dossier["watch_generation"]
    described = timers.settle(code, generation)
    assert described["name"] == execution_name(code, generation)
    stored = bootstrap.deps().dossiers.get(code, consistent=True)
    assert stored is not None and stored.watch_generation == generation
    # It woke at each watched instant in turn (the step's due time, the due-soon warning, the due time), then
    # nothing was left and it stopped itself.
    instants = sorted(set(stored.watch.values()))
    assert set(stored.watch) == {"step_overdue:0", "due_soon", "overdue"} and len(instants) == 3
    assert [w["wake_at"] for w in timers.wakes] == instants
    assert described["status"] == "ABORTED"
    assert timers.states_entered(code, generation) == ["WaitForWake", "Wake"] * 3
    # Each flag recorded once, at the instant its timer woke: the dossier is overdue.
    assert stored.flags == stored.watch and stored.flags["overdue"] == "2026-03-30T02:00:01Z"
    assert stored.next_wake is None
    kinds = [e.type for e in bootstrap.deps().outbox.pending(1000) if e.code == code]
    # Written with the flags, for the notifications consumer, in the order their instants came (the due-soon
    # warning's width, a setting, decides whether it comes before or after the step's own due time).
    in_order = sorted(stored.watch.items(), key=lambda item: item[1])
    assert kinds == [f"dossier.{name.split(':')[0]}" for name, _ in in_order]


# 2.000635, a copy of a civil-status extract: one step, 4 working hours. The warning (1 working day before)
# falls at the start, so the timer warns at once and then waits for the due time (the step's too).
EXTRACT = {"procedure_code": "2.000635", "channel": "direct", "competent_unit": JUSTICE,
           "applicant": {"name": "Lê Thị Hoa", "id_number": "038090001235", "phone": "0912345679"},
           "form": {"event": "birth", "subject_name": "Lê Văn Nam", "copies": 1}}


def on_time_window() -> datetime:
    """A receipt instant of EXTRACT, at most a few days back, whose warning has passed in real time but
    whose due time has not (at least an hour ahead)."""
    actor = Actor("cv.sfn", CENTRE, frozenset({"desk"}), name="Cán bộ")
    now = datetime.now(UTC).replace(microsecond=0)
    at = now
    while at > now - timedelta(days=10):
        dossier, _ = Dossier.receive(code=f"{CENTRE}-260101-9999", procedure=procedure("2.000635"),
                                     receiving_unit=CENTRE, competent_unit=JUSTICE, channel="direct",
                                     applicant={"name": "Lê Thị Hoa"}, form={}, documents=[], actor=actor, at=at,
                                     calendar=CALENDAR)
        if parse_iso(dossier.watch["due_soon"]) <= now < parse_iso(dossier.watch["overdue"]) - timedelta(hours=1):
            return at
        at -= timedelta(minutes=15)
    raise AssertionError("no receipt instant puts the real time between warning and due time")


def act(stack: Timers, auth: Any, code: str, version: int, unit: str, role: str, body: dict[str, Any]) -> int:
    stack.now = stack.now + timedelta(minutes=5)
    status, answer = post(stack.chalice, f"/v1/dossiers/{code}/actions", auth(unit, role), {**body, "version": version})
    assert status == 200, answer
    return int(answer["version"])


def test_a_dossier_warned_at_intake_and_resolved_on_time_costs_one_transition(timers, auth):
    timers.now = on_time_window()
    dossier = receive(timers.chalice, auth, EXTRACT)
    code, generation = dossier["code"], dossier["watch_generation"]
    # A limit shorter than the warning is due soon as its clock starts: the intake records the warning itself.
    assert dossier["due_soon"] is True
    deliver(timers, code)
    stored = bootstrap.deps().dossiers.get(code, consistent=True)
    assert stored is not None and stored.version == dossier["version"]  # no timer changed it a moment later
    assert set(stored.watch) == {"due_soon", "overdue", "step_overdue:0"}
    assert stored.watch["overdue"] == stored.watch["step_overdue:0"]  # one wake for both
    timers.settle(code, generation)  # waiting straight for the due time
    assert timers.states_entered(code, generation) == ["WaitForWake"]
    assert timers.wakes == []

    # Handled, resolved and returned on time; each change reaches the consumer as it happens.
    version = act(timers, auth, code, stored.version, JUSTICE, "processor", {"action": "assign"})
    deliver(timers, code)
    version = act(timers, auth, code, version, JUSTICE, "processor",
                  {"action": "resolve", "result": {"summary": "Bản sao trích lục khai sinh"}})
    deliver(timers, code)
    version = act(timers, auth, code, version, CENTRE, "desk", {"action": "return_result"})
    deliver(timers, code)
    closed = bootstrap.deps().dossiers.get(code, consistent=True)
    assert closed is not None and closed.status.is_closed and set(closed.flags) == {"due_soon"}
    assert closed.watch == {} and not timers.exists(code, closed.watch_generation)  # nothing left to time
    # The timer was stopped: one transition for the whole dossier, and it never woke.
    assert timers.settle(code, generation)["status"] == "ABORTED"
    assert all(not timers.exists(code, g) for g in range(generation + 1, closed.watch_generation + 1))
    assert timers.states_entered(code, generation) == ["WaitForWake"]
    assert timers.wakes == []


def test_a_timer_of_a_generation_the_dossier_left_records_nothing_and_ends(timers, auth):
    timers.now = vn(2026, 3, 16, 9).astimezone(UTC)
    code = receive(timers.chalice, auth, {**CRIMINAL_RECORD})["code"]
    stale = StepFunctionsTimers(timers.arn, client=timers.sfn)
    stale.start(code, 7, datetime(2026, 3, 31, tzinfo=UTC))  # a generation this dossier never had
    stale.start(code, 7, datetime(2026, 3, 31, tzinfo=UTC))  # a duplicate start is harmless
    described = timers.settle(code, 7)
    assert described["status"] == "ABORTED"
    assert timers.states_entered(code, 7) == ["WaitForWake", "Wake"]
    stored = bootstrap.deps().dossiers.get(code, consistent=True)
    assert stored is not None and stored.flags == {}
    stale.stop(code, 7)  # stopping an ended timer, or one never started, is not an error
    stale.stop(code, 8)


def test_execution_names_are_what_step_functions_accepts_and_one_to_one():
    code = f"{CENTRE}-260316-0042"
    assert execution_name(code, 3) == "000_00_24_H56-260316-0042-g3"
    longest = "9" * 35 + "-260316-" + "1" * 40  # a unit id of 35 characters and a very long sequence
    names = {execution_name(c, 123456) for c in (longest, longest[:-1] + "2", code)}
    assert len(names) == 3 and all(len(n) <= 80 and n.replace("_", "").replace("-", "").isalnum() for n in names)
    with pytest.raises(ValueError):
        execution_name(code, 0)
