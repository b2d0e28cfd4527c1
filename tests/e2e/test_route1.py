"""Route 1 (docs/deploy.md): infra/tables.yaml and infra/queues.yaml, then `chalice deploy --stage <stage>`.

Chalice creates the API and the functions first, then one SQS event source mapping per `on_sqs_message` handler;
Lambda refuses a mapping whose queue does not exist or that the function's role may not read, which would leave a
half-deployed stack. So every such queue must be in a template route 1 deploys before Chalice, and granted in the
stage's policy (the only policy route 1's functions have)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from chalicelib.services.consumers import registry
from scripts.table_template import SQS_CONSUMER_ACTIONS, SQS_SENDER_ACTIONS, WEBHOOK_DELIVERY_QUEUE, stages

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.e2e

# The settings a team fills in before deploying (they ship empty and the app refuses to load without them).
FILLED = {
    "MOTCUA_JWKS_URL": "https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_Test/.well-known/jwks.json",
    "MOTCUA_JWT_ISSUER": "https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_Test",
    "MOTCUA_JWT_AUDIENCE": "testappclientid",
    "MOTCUA_CURSOR_SECRET": "t" * 40,
}
PROBE = ("import json, app; print(json.dumps({e.name: e.queue for e in app.app.event_sources "
         "if type(e).__name__ == 'SQSEventConfig'}))")


def app_queues(stage: str) -> dict[str, str]:
    """Function name -> queue of each `on_sqs_message` handler, with the app loaded as `chalice deploy` loads it:
    the stage's environment variables (and the filled-in identity settings), in a process of its own."""
    env = {**os.environ, **CONFIG["stages"][stage]["environment_variables"], **FILLED,
           "AWS_DEFAULT_REGION": "ap-southeast-1"}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120, check=True)
    queues: dict[str, str] = json.loads(result.stdout.strip().splitlines()[-1])
    return queues


def template(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "infra" / name).read_text(encoding="utf-8"))
    return loaded


def queue_names(resources: dict[str, Any], prefix: str) -> dict[str, str]:
    """Queue name (prefix filled in) -> logical name, for the SQS queues among `resources`."""
    return {r["Properties"]["QueueName"]["Fn::Sub"].replace("${Prefix}", prefix): logical
            for logical, r in resources.items() if r.get("Type") == "AWS::SQS::Queue"}


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_sqs_handler_has_its_queue_and_dlq_in_route_1_and_its_grant(stage):
    prefix = stages()[stage]
    handlers = app_queues(stage)
    # One SQS handler per consumer of services/consumers.py (each reads its own queue), and the webhook delivery
    # queue's handler.
    assert set(handlers) == {f"{consumer.name}_consumer" for consumer in registry()} | {"webhook_delivery"}
    assert handlers["webhook_delivery"] == f"{prefix}-{WEBHOOK_DELIVERY_QUEUE}"
    assert len(set(handlers.values())) == len(handlers)
    queues = template("queues.yaml")
    assert "Default" not in queues["Parameters"]["Prefix"]  # a stack is always made for the stage named
    created = queue_names(queues["Resources"], prefix)
    policy = json.loads((ROOT / ".chalice" / CONFIG["stages"][stage]["iam_policy_file"]).read_text("utf-8"))
    sqs = [s for s in policy["Statement"] if any(a.startswith("sqs:") for a in s["Action"])]
    assert len(sqs) == 2 and all(s["Effect"] == "Allow" and "Condition" not in s for s in sqs)
    reads, sends = sorted(sqs, key=lambda s: "sqs:SendMessage" in s["Action"])
    # What Lambda's SQS mapping does as the function's role; nothing that sends, purges or deletes queues.
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} <= set(reads["Action"]) == set(
        SQS_CONSUMER_ACTIONS)
    # Sending: to the webhook delivery queue alone (not its dead-letter queue, no wildcard).
    assert sends["Action"] == SQS_SENDER_ACTIONS == ["sqs:SendMessage"]
    assert sends["Resource"] == f"arn:aws:sqs:*:*:{prefix}-{WEBHOOK_DELIVERY_QUEUE}"
    granted = set(reads["Resource"])
    for function, queue in handlers.items():
        assert queue.startswith(f"{prefix}-"), function
        assert queue in created, f"{function}: route 1 would not create {queue}"
        resource = queues["Resources"][created[queue]]["Properties"]
        dlq = resource["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert queues["Resources"][dlq]["Type"] == "AWS::SQS::Queue", function
        assert f"arn:aws:sqs:*:*:{queue}" in granted, f"{function}: the stage policy does not grant {queue}"
    # Exactly those queues (not the dead-letter queues, not another stage's, no wildcard).
    assert granted == {f"arn:aws:sqs:*:*:{queue}" for queue in handlers.values()}
    assert not any(other in json.dumps(policy) for s, other in stages().items() if s != stage)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_route_2_package_carries_the_same_queues_exactly_once(stage):
    prefix = stages()[stage]
    route1 = template("queues.yaml")["Resources"]
    package = template(f"package-{stage}.yaml")["Resources"]
    events = template("events.yaml")["Resources"]
    # Same names and settings in both routes: the route-1 template is a copy of events.yaml's queues, but the
    # outbox stream's dead-letter queue (route 1's mapping has no failure destination: the safety net covers it).
    assert route1 == {name: r for name, r in events.items()
                      if r.get("Type") == "AWS::SQS::Queue" and name != "OutboxStreamDeadLetterQueue"}
    in_package = [r["Properties"]["QueueName"]["Fn::Sub"].replace("${Prefix}", prefix)
                  for r in package.values() if r.get("Type") == "AWS::SQS::Queue"]
    assert sorted(in_package) == sorted([*queue_names(route1, prefix), f"{prefix}-outbox-stream-dlq"])
    assert len(in_package) == len(set(in_package))


def test_queues_template_passes_cfn_lint():
    result = subprocess.run([str(BIN / "cfn-lint"), str(ROOT / "infra" / "queues.yaml")], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_route_1_runs_the_consumers_in_the_relay_and_nothing_sends_to_the_queues(monkeypatch):
    """Route 1 has no bus: MOTCUA_EVENT_BUS, MOTCUA_TIMER_STATE_MACHINE_ARN and MOTCUA_WEBHOOK_QUEUE_URL are set
    by route 2's package only. The relay then runs every consumer in its own function (the LocalPublisher, as
    `make run` does), timers are off (the sweep wakes dossiers), the webhook sweep sends every delivery, and the
    SQS handlers receive nothing: the one module that sends to a queue (the webhook delivery queue) has no queue."""
    from chalicelib import bootstrap
    from chalicelib.adapters.local_bus import LocalPublisher
    from chalicelib.adapters.stepfunctions import LocalTimers

    for stage in ("dev", "prod"):
        env = CONFIG["stages"][stage]["environment_variables"]
        route2_only = {"MOTCUA_EVENT_BUS", "MOTCUA_TIMER_STATE_MACHINE_ARN", "MOTCUA_WEBHOOK_QUEUE_URL"}
        assert not route2_only & set(env)
        for function in CONFIG["stages"][stage].get("lambda_functions", {}).values():
            assert not route2_only & set(function.get("environment_variables", {}))
    monkeypatch.delenv("MOTCUA_EVENT_BUS", raising=False)
    monkeypatch.delenv("MOTCUA_TIMER_STATE_MACHINE_ARN", raising=False)
    monkeypatch.delenv("MOTCUA_WEBHOOK_QUEUE_URL", raising=False)
    assert isinstance(bootstrap._publisher(), LocalPublisher)
    assert isinstance(bootstrap._timers(), LocalTimers)
    assert bootstrap._webhooks().queue is None
    senders = [str(path.relative_to(ROOT)) for path in (ROOT / "chalicelib").rglob("*.py")
               if any(word in path.read_text(encoding="utf-8") for word in ('"sqs"', "'sqs'", "send_message"))]
    assert senders == ["chalicelib/adapters/sqs_queue.py"]
    builders = [str(path.relative_to(ROOT)) for path in (ROOT / "chalicelib").rglob("*.py")
                if "SqsDeliveryQueue(" in path.read_text(encoding="utf-8") and path.name != "sqs_queue.py"]
    assert builders == ["chalicelib/bootstrap.py"]  # only from MOTCUA_WEBHOOK_QUEUE_URL
