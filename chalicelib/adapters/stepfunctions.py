"""Dossier timers on Step Functions (infra/deadline-timer.asl.json), and the local stand-in that does nothing.

One Standard execution per dossier watch generation. Its name is derived from the dossier code and the generation,
so a second StartExecution for the same generation (a redelivered event, two consumers racing) is refused by Step
Functions as a duplicate and changes nothing; stopping uses the same name, so no execution ARN is stored anywhere.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

from ..domain.clock import iso
from ..observability import logger

# Step Functions execution names: 1 to 80 of [A-Za-z0-9_-] (other characters are allowed but break CloudWatch).
MAX_NAME = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def execution_name(code: str, generation: int) -> str:
    """`<code with dots as underscores>-g<generation>`: dossier codes hold no underscore, so the mapping is
    one-to-one. A code too long for the limit keeps its head and a digest of the whole code."""
    if generation < 1:
        raise ValueError("a watch generation starts at 1")
    suffix = f"-g{generation}"
    safe = _UNSAFE.sub("_", code.replace(".", "_"))
    if safe != code.replace(".", "_") or len(safe) + len(suffix) > MAX_NAME:
        digest = hashlib.sha256(code.encode("utf-8")).hexdigest()[:16]
        safe = f"{safe[:MAX_NAME - len(suffix) - 17]}_{digest}"
    return safe + suffix


class StepFunctionsTimers:
    """Implements services.ports.TimerScheduler with StartExecution / StopExecution on one state machine."""

    def __init__(self, state_machine_arn: str, client: Any = None) -> None:
        self.state_machine_arn = state_machine_arn
        self._client = client

    def start(self, code: str, generation: int, wake_at: datetime) -> None:
        name = execution_name(code, generation)
        payload = {"code": code, "generation": generation, "wake_at": iso(wake_at)}
        client = self.client()
        try:
            client.start_execution(stateMachineArn=self.state_machine_arn, name=name,
                                   input=json.dumps(payload, separators=(",", ":")))
        except client.exceptions.ExecutionAlreadyExists:
            # That generation's timer already runs (or ran): it re-reads the dossier each time it wakes, so
            # whatever it waits for now is right.
            logger().debug("timer already started", extra={"code": code, "generation": generation})

    def stop(self, code: str, generation: int) -> None:
        if generation < 1:
            return
        client = self.client()
        try:
            client.stop_execution(executionArn=self.execution_arn(code, generation),
                                  cause="the dossier's watch changed or it closed")
        except client.exceptions.ExecutionDoesNotExist:
            pass  # never started (nothing was watched in that generation), or already gone

    def execution_arn(self, code: str, generation: int) -> str:
        # arn:<partition>:states:<region>:<account>:stateMachine:<name> -> ...:execution:<name>:<execution>
        head, machine = self.state_machine_arn.split(":stateMachine:", 1)
        return f"{head}:execution:{machine}:{execution_name(code, generation)}"

    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            # Bounded like every outbound call: a failed start is retried with the event (SQS redelivers it).
            self._client = boto3.client("stepfunctions", config=Config(
                connect_timeout=2, read_timeout=5, retries={"total_max_attempts": 3, "mode": "standard"}))
        return self._client


class LocalTimers:
    """No timers: locally `make run` sweeps often enough (services.deadlines.sweep) to wake every dossier."""

    def start(self, code: str, generation: int, wake_at: datetime) -> None:
        return None

    def stop(self, code: str, generation: int) -> None:
        return None
