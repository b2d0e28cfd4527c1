"""What ops deploy: `chalice package` of each stage with its merge template, linted, importable from the zips
alone, with API Gateway's own errors in the API's envelope."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from chalicelib.api.event_handlers import DELIVERY_CONCURRENCY
from chalicelib.services.consumers import registry
from chalicelib.services.deadlines import DIGEST_BUDGET_SECONDS
from scripts.table_template import GATEWAY_ERRORS, REQUEST_ID_HEADER, WEBHOOK_DELIVERY_QUEUE, outputs, stages

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ERROR_SCHEMA = Draft202012Validator(json.loads((ROOT / "chalicelib" / "schemas" / "api" / "error.json").read_text()))
pytestmark = pytest.mark.e2e


def test_infra_templates_match_the_models_and_stages():
    for path, text in outputs().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} drifted: run python scripts/table_template.py"


# What a team fills in before deploying (docs/deploy.md); the stages ship with these empty.
FILLED = {
    "MOTCUA_JWKS_URL": "https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_Test/.well-known/jwks.json",
    "MOTCUA_JWT_ISSUER": "https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_Test",
    "MOTCUA_JWT_AUDIENCE": "testappclientid",
}
ENV = {**os.environ, "AWS_DEFAULT_REGION": "ap-southeast-1"}
SENDER = "Một cửa Thanh Hóa <motcua@thanhhoa.gov.vn>"


def configured_copy(stage: str, where: Path) -> Path:
    """The project as a team deploys it: this checkout with the stage's settings filled in."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "deployed")
    for name in ("app.py", "requirements.txt"):
        shutil.copy2(ROOT / name, where / name)
    for name in ("chalicelib", "infra", ".chalice"):  # .chalice/deployments: the layer is reused, not rebuilt
        shutil.copytree(ROOT / name, where / name, ignore=ignore)
    config_path = where / ".chalice" / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["stages"][stage]["environment_variables"].update(FILLED)
    config["stages"][stage]["lambda_functions"]["notifications_consumer"]["environment_variables"][
        "MOTCUA_EMAIL_SENDER"] = SENDER
    config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return where


@pytest.fixture(scope="module", params=["dev", "prod"])
def package(request, tmp_path_factory) -> tuple[str, Path]:
    stage = request.param
    project = configured_copy(stage, tmp_path_factory.mktemp(f"project-{stage}"))
    out = tmp_path_factory.mktemp(f"package-{stage}")
    # The stage's whole merge template, as docs/deploy.md has teams pass it (tables, gateway errors, events).
    merge = ROOT / "infra" / f"package-{stage}.yaml"
    subprocess.run([str(BIN / "chalice"), "package", "--stage", stage, "--merge-template", str(merge), str(out)],
                   cwd=project, env=ENV, check=True, capture_output=True, timeout=600)
    return stage, out


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_unconfigured_stage_refuses_to_package_naming_the_setting(stage, tmp_path):
    # A bare `chalice deploy` (stage dev) imports the app with the stage's settings, as Lambda will: the empty
    # identity settings stop it there with the variable named, before anything is created in AWS.
    result = subprocess.run([str(BIN / "chalice"), "package", "--stage", stage, str(tmp_path / "out")], cwd=ROOT,
                            env=ENV, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "SettingsError: MOTCUA_JWKS_URL" in result.stderr
    assert not (tmp_path / "out" / "sam.json").exists()


def sam(package: tuple[str, Path]) -> dict[str, Any]:
    return yaml.safe_load((package[1] / "sam.yaml").read_text(encoding="utf-8"))


def test_package_ships_schemas_and_calendar_data(package):
    names = set(zipfile.ZipFile(package[1] / "deployment.zip").namelist())
    assert {"app.py", "chalicelib/schemas/api/dossier-intake.json", "chalicelib/data/calendars/VN-2026.json",
            "chalicelib/schemas/forms/2.001417.json"} <= names
    template = (package[1] / "sam.yaml").read_text()
    assert "DossiersTable" in template and "dynamodb:Query" in template and "rate(5 minutes)" in template


def test_merged_template_passes_cfn_lint(package):
    result = subprocess.run([str(BIN / "cfn-lint"), str(package[1] / "sam.yaml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_stage_tables_environment_and_policy_agree(package):
    stage, _ = package
    resources = sam(package)["Resources"]
    prefix = stages()[stage]
    tables = {r["Properties"]["TableName"] for r in resources.values() if r["Type"] == "AWS::DynamoDB::Table"}
    assert tables and all(name.startswith(f"{prefix}-") for name in tables)
    for function in ("APIHandler", "OverdueSweep"):
        props = resources[function]["Properties"]
        assert props["Environment"]["Variables"]["MOTCUA_TABLE_PREFIX"] == prefix
        role = resources[props["Role"]["Fn::GetAtt"][0]]["Properties"]
        arns = {arn for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]
                if any(a.startswith("dynamodb:") for a in s["Action"]) for arn in s["Resource"]}
        assert {arn.split("table/")[1].split("/")[0] for arn in arns} == tables
    assert resources["APIHandler"]["Properties"]["Timeout"] < 29


def test_gateway_errors_carry_the_envelope_request_id_and_cors(package):
    body = sam(package)["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    responses = body["x-amazon-apigateway-gateway-responses"]
    # Unknown route (API Gateway says "missing authentication token"), 413, 429, 5xx, and the defaults.
    assert {"MISSING_AUTHENTICATION_TOKEN", "REQUEST_TOO_LARGE", "THROTTLED", "INTEGRATION_TIMEOUT",
            "DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses) == {kind for kind, *_ in GATEWAY_ERRORS}
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    assert responses["REQUEST_TOO_LARGE"]["statusCode"] == "413"
    assert responses["THROTTLED"]["statusCode"] == "429"
    for kind, response in responses.items():
        headers = response["responseParameters"]
        assert headers[f"gatewayresponse.header.{REQUEST_ID_HEADER}"] == "context.requestId", kind
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'", kind
        template = response["responseTemplates"]["application/json"]
        # What API Gateway would send, with its variables filled in the way it fills them.
        sent = template.replace("$context.requestId", "c0ffee-1").replace(
            "$context.error.messageString", json.dumps("Missing Authentication Token"))
        body = json.loads(sent)
        assert not list(ERROR_SCHEMA.iter_errors(body)), kind  # the API's own documented error envelope
        error = body["error"]
        assert set(error) == {"code", "message", "details", "request_id"}, kind
        assert error["request_id"] == "c0ffee-1" and error["details"] == [] and re.fullmatch(r"[a-z_]+", error["code"])


def unzipped(package: tuple[str, Path], where: Path) -> tuple[Path, Path]:
    """The packaged function's code and its layer's site-packages, unzipped as Lambda lays them out (/var/task,
    /opt); skipped but for one stage: the zips are the same for every stage."""
    stage, out = package
    if stage != "prod":
        pytest.skip("the zips are the same for every stage")
    code_dir, layer_dir = where / "task", where / "opt"
    zipfile.ZipFile(out / "deployment.zip").extractall(code_dir)
    zipfile.ZipFile(out / "layer-deployment.zip").extractall(layer_dir)
    return code_dir, layer_dir / "python" / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / (
        "site-packages")


def test_app_imports_from_the_zips_alone(package, tmp_path):
    code_dir, site = unzipped(package, tmp_path)
    probe = (f"import sys; sys.path[:0] = [{str(code_dir)!r}, {str(site)!r}]; "
             "import app; from chalicelib.api.schemas import load; load('dossier-intake'); "
             "print(sorted(app.app.routes)[:1])")
    # -S -E: no site-packages of this machine, no environment paths: only what the package carries.
    result = subprocess.run([sys.executable, "-S", "-E", "-c", probe], capture_output=True, text=True,
                            env={"PATH": os.environ["PATH"], "AWS_DEFAULT_REGION": "ap-southeast-1"})
    assert result.returncode == 0, result.stderr
    assert "/v1/calendar/due" in result.stdout


ASL = ROOT / "infra" / "deadline-timer.asl.json"
ASL_VALIDATOR = ROOT / "node_modules" / ".bin" / "asl-validator"


def validate_asl(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ASL_VALIDATOR), "--json-path", str(path)], capture_output=True, text=True,
                          timeout=60)


def test_timer_state_machine_passes_the_asl_validator(tmp_path):
    result = validate_asl(ASL)
    assert result.returncode == 0, result.stdout + result.stderr
    # The validator does catch a broken graph: the same machine with its loop pointing nowhere.
    broken = json.loads(ASL.read_text(encoding="utf-8"))
    broken["States"]["Wake"]["Next"] = "NoSuchState"
    (tmp_path / "broken.asl.json").write_text(json.dumps(broken), encoding="utf-8")
    result = validate_asl(tmp_path / "broken.asl.json")
    assert result.returncode != 0 and "NoSuchState" in result.stdout + result.stderr


def statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    props = resource["Properties"]
    documents = [props["PolicyDocument"]] if "PolicyDocument" in props else [
        p["PolicyDocument"] for p in props.get("Policies", [])]
    return [s for d in documents for s in d["Statement"]]


def granted(resources: dict[str, Any], role: str) -> dict[str, list[Any]]:
    """Action -> resources the role is granted by the IAM policies the merge adds (infra/events.yaml)."""
    out: dict[str, list[Any]] = {}
    for r in resources.values():
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"]["Roles"]:
            for s in statements(r):
                for action in [s["Action"]] if isinstance(s["Action"], str) else s["Action"]:
                    out.setdefault(action, []).append(s["Resource"])
    return out


def sub(value: Any, prefix: str) -> str:
    """A Fn::Sub string with the stage's Prefix filled in (the other variables left as written)."""
    text = value["Fn::Sub"] if isinstance(value, dict) else value
    return text.replace("${Prefix}", prefix)


def test_bus_rules_queues_and_dead_letter_queues_per_consumer(package):
    stage, _ = package
    template = sam(package)
    resources, prefix = template["Resources"], stages()[stage]
    assert template["Parameters"]["Prefix"]["AllowedValues"] == [prefix]  # the stage decides the names
    bus = resources["EventBus"]["Properties"]["Name"]
    assert sub(bus, prefix) == f"{prefix}-events"
    queues = {sub(r["Properties"]["QueueName"], prefix): (name, r) for name, r in resources.items()
              if r["Type"] == "AWS::SQS::Queue"}
    for consumer in registry():
        function = "".join(part.capitalize() for part in consumer.name.split("_")) + "Consumer"
        source = next(iter(resources[function]["Properties"]["Events"].values()))
        assert source["Type"] == "SQS"
        queue_name = sub(source["Properties"]["Queue"], prefix).rsplit(":", 1)[1]
        assert queue_name.startswith(f"{prefix}-") and queue_name in queues, consumer.name
        logical, queue = queues[queue_name]
        # Its dead-letter queue, and a rule on the stage's bus routing exactly the consumer's event types to it.
        redrive = queue["Properties"]["RedrivePolicy"]
        assert redrive["deadLetterTargetArn"]["Fn::GetAtt"][0] in {name for name, _ in queues.values()}
        assert 1 < redrive["maxReceiveCount"] <= 10
        assert queue["Properties"]["VisibilityTimeout"] >= 6 * resources[function]["Properties"]["Timeout"]
        rules = [r for r in resources.values() if r["Type"] == "AWS::Events::Rule"
                 and r["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [logical, "Arn"]}]
        assert len(rules) == 1, consumer.name
        rule = rules[0]["Properties"]
        assert rule["EventBusName"] == {"Ref": "EventBus"}
        assert rule["EventPattern"] == {"source": ["motcua"], "detail-type": sorted(consumer.types)}
        # Only its rule may send to the queue; only its function may read it.
        policy = next(r for r in resources.values() if r["Type"] == "AWS::SQS::QueuePolicy"
                      and r["Properties"]["Queues"] == [{"Ref": logical}])
        [statement] = statements(policy)
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}
        assert statement["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::GetAtt"][0] in resources
        reads = granted(resources, resources[function]["Properties"]["Role"]["Fn::GetAtt"][0])
        assert reads["sqs:ReceiveMessage"] == [{"Fn::GetAtt": [logical, "Arn"]}]
        assert resources[function]["DependsOn"]  # the mapping waits for the queue and the role's policy


def test_webhook_delivery_queue_its_dead_letter_queue_handler_and_senders(package):
    """The one queue the code sends to: read by the webhook_delivery function, with a dead-letter queue, no rule
    routing to it; its URL given to the functions that send to it (and to no other), the stage policy allowing
    sqs:SendMessage on it alone."""
    stage, _ = package
    resources, prefix = sam(package)["Resources"], stages()[stage]
    queues = {sub(r["Properties"]["QueueName"], prefix): (name, r) for name, r in resources.items()
              if r["Type"] == "AWS::SQS::Queue"}
    logical, queue = queues[f"{prefix}-{WEBHOOK_DELIVERY_QUEUE}"]
    function = resources["WebhookDelivery"]
    [source] = function["Properties"]["Events"].values()
    assert source["Type"] == "SQS" and source["Properties"]["BatchSize"] == 1
    assert source["Properties"]["ScalingConfig"] == {"MaximumConcurrency": DELIVERY_CONCURRENCY}
    assert sub(source["Properties"]["Queue"], prefix).rsplit(":", 1)[1] == f"{prefix}-{WEBHOOK_DELIVERY_QUEUE}"
    # The mapping waits for the queue: the function's environment names it (a Ref is a dependency).
    assert function["Properties"]["Environment"]["Variables"]["MOTCUA_WEBHOOK_QUEUE_URL"] == {"Ref": logical}
    redrive = queue["Properties"]["RedrivePolicy"]
    dlq = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert sub(resources[dlq]["Properties"]["QueueName"], prefix) == f"{prefix}-{WEBHOOK_DELIVERY_QUEUE}-dlq"
    assert 1 < redrive["maxReceiveCount"] <= 10
    assert queue["Properties"]["VisibilityTimeout"] >= 6 * function["Properties"]["Timeout"]
    assert not [r for r in resources.values() if r["Type"] == "AWS::Events::Rule"
                and {"Fn::GetAtt": [logical, "Arn"]} in [t["Arn"] for t in r["Properties"]["Targets"]]]
    assert not [r for r in resources.values() if r["Type"] == "AWS::SQS::QueuePolicy"
                and {"Ref": logical} in r["Properties"]["Queues"]]  # nobody outside the account sends to it
    senders = {name for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"
               and "MOTCUA_WEBHOOK_QUEUE_URL" in r["Properties"].get("Environment", {}).get("Variables", {})}
    assert senders == {"APIHandler", "WebhooksConsumer", "WebhookDelivery", "WebhookSweep"}
    for name in senders:
        assert resources[name]["Properties"]["Environment"]["Variables"]["MOTCUA_WEBHOOK_QUEUE_URL"] == {
            "Ref": logical}
        role = resources[resources[name]["Properties"]["Role"]["Fn::GetAtt"][0]]
        sends = [s for s in statements(role) if "sqs:SendMessage" in s["Action"]]
        assert [(s["Action"], s["Resource"]) for s in sends] == [
            (["sqs:SendMessage"], f"arn:aws:sqs:*:*:{prefix}-{WEBHOOK_DELIVERY_QUEUE}")], name
    for name, r in resources.items():  # the merge adds no other send grant but the stream's failure destination
        if r["Type"] == "AWS::IAM::Policy":
            sends = [s for s in statements(r)
                     if "sqs:SendMessage" in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
            expected = ([{"Sid": "ItsDeadLetterQueue", "Effect": "Allow", "Action": "sqs:SendMessage",
                          "Resource": {"Fn::GetAtt": ["OutboxStreamDeadLetterQueue", "Arn"]}}]
                        if name == "OutboxStreamPolicy" else [])
            assert sends == expected, name


def test_the_outbox_stream_feeds_its_function_with_what_chalice_cannot_declare(package):
    stage, _ = package
    resources = sam(package)["Resources"]
    function = resources["OutboxStream"]["Properties"]
    mapping = function["Events"]["OutboxStreamDynamodbEventSource"]["Properties"]
    assert mapping["Stream"] == {"Fn::GetAtt": ["OutboxTable", "StreamArn"]}
    assert resources["OutboxTable"]["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True and 0 < mapping["MaximumRetryAttempts"] <= 10
    assert mapping["FilterCriteria"] == {"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}]}
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["OutboxStreamDeadLetterQueue", "Arn"]}
    assert function["Environment"]["Variables"]["MOTCUA_EVENT_BUS"] == {"Ref": "EventBus"}
    # Every consumer's queue answers partial batch responses: one poison message never sends its batch back.
    for name in ("DeadlineTimers", "Notifications", "Statistics", "Webhooks", "PortalSync"):
        source = resources[f"{name}Consumer"]["Properties"]["Events"][f"{name}ConsumerSqsEventSource"]
        assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"], name


def test_timer_state_machine_and_least_privilege(package):
    stage, _ = package
    resources, prefix = sam(package)["Resources"], stages()[stage]
    machine = resources["DeadlineTimerStateMachine"]["Properties"]
    assert machine["StateMachineType"] == "STANDARD"
    assert sub(machine["StateMachineName"], prefix) == f"{prefix}-deadline-timer"
    assert machine["Definition"] == json.loads(ASL.read_text(encoding="utf-8"))  # the file, as validated
    assert machine["DefinitionSubstitutions"] == {"DeadlineTimerFunctionArn": {"Fn::GetAtt": ["DeadlineTimer", "Arn"]}}
    # The state machine may invoke that one function, nothing else.
    role = resources[machine["RoleArn"]["Fn::GetAtt"][0]]
    assert statements(role) == [{"Sid": "ThatFunctionOnly", "Effect": "Allow", "Action": "lambda:InvokeFunction",
                                 "Resource": {"Fn::GetAtt": ["DeadlineTimer", "Arn"]}}]
    executions = ("arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:"
                  f"{prefix}-deadline-timer:*")
    # The timers consumer starts executions of that machine and stops its executions; the timer's own task
    # may only stop them; the relay may only put events on the stage's bus.
    consumer = granted(resources, "DeadlineTimersConsumerRole")
    assert consumer["states:StartExecution"] == [{"Ref": "DeadlineTimerStateMachine"}]
    assert [sub(r, prefix) for r in consumer["states:StopExecution"]] == [executions]
    task = granted(resources, "DeadlineTimerRole")
    assert set(task) == {"states:StopExecution"} and [sub(r, prefix) for r in task["states:StopExecution"]] == [
        executions]
    assert granted(resources, "EventRelayRole") == {"events:PutEvents": [{"Fn::GetAtt": ["EventBus", "Arn"]}]}
    for name, r in resources.items():  # no added grant is a wildcard, but SMS (a phone number has no ARN)
        if r["Type"] == "AWS::IAM::Policy":
            assert all(s["Resource"] != "*" or (name, s["Action"]) == ("NotificationsConsumerPolicy", "sns:Publish")
                       for s in statements(r)), name
    # Where the functions find them; the API itself gets neither (it only writes the outbox).
    env = {name: resources[name]["Properties"]["Environment"]["Variables"]
           for name in ("EventRelay", "DeadlineTimersConsumer", "DeadlineTimer", "APIHandler")}
    assert env["EventRelay"]["MOTCUA_EVENT_BUS"] == {"Ref": "EventBus"}
    assert env["DeadlineTimersConsumer"]["MOTCUA_TIMER_STATE_MACHINE_ARN"] == {"Ref": "DeadlineTimerStateMachine"}
    assert sub(env["DeadlineTimer"]["MOTCUA_TIMER_STATE_MACHINE_ARN"], prefix).endswith(
        f":stateMachine:{prefix}-deadline-timer")
    assert "MOTCUA_EVENT_BUS" not in env["APIHandler"] and "MOTCUA_TIMER_STATE_MACHINE_ARN" not in env["APIHandler"]


def test_schedules_relay_sweep_and_digest(package):
    resources = sam(package)["Resources"]
    schedules = {name: next(iter(r["Properties"]["Events"].values()))["Properties"]["Schedule"]
                 for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"
                 and any(e["Type"] == "Schedule" for e in r["Properties"].get("Events", {}).values())}
    assert schedules["EventRelay"] == "rate(5 minutes)"  # the safety net: the stream publishes as it is written
    assert schedules["OverdueSweep"] == "rate(5 minutes)"
    assert schedules["DeadlineDigest"] == "cron(0 0 * * ? *)"  # 07:00 in Asia/Ho_Chi_Minh (UTC+7, no DST)


def test_notifications_consumer_alone_sends_email_and_sms(package):
    stage, _ = package
    template = sam(package)
    resources = template["Resources"]
    # Email from the stage's SES identity only (a parameter of the stack: the verified domain or address).
    assert "Default" not in template["Parameters"]["EmailIdentity"]
    consumer = granted(resources, "NotificationsConsumerRole")
    assert consumer["ses:SendEmail"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${EmailIdentity}"}]
    assert consumer["sns:Publish"] == ["*"]
    for name, r in resources.items():
        if r["Type"] == "AWS::IAM::Role":
            others = {a for s in statements(r) for a in ([s["Action"]] if isinstance(s["Action"], str)
                                                         else s["Action"])}
            assert not {a for a in others if a.startswith(("ses:", "sns:"))}, name
        if r["Type"] == "AWS::IAM::Policy" and r["Properties"]["Roles"] != [{"Ref": "NotificationsConsumerRole"}]:
            assert not any(a.startswith(("ses:", "sns:")) for a in granted(resources, r["Properties"]["Roles"][0][
                "Ref"])), name
    # The AWS notifier, its sender and SMS switch, on that function only: the others never send.
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))["stages"][stage]
    env = resources["NotificationsConsumer"]["Properties"]["Environment"]["Variables"]
    assert env["MOTCUA_NOTIFIER"] == "aws" and env["MOTCUA_EMAIL_SENDER"] == SENDER
    assert env["MOTCUA_SMS"] == config["lambda_functions"]["notifications_consumer"]["environment_variables"][
        "MOTCUA_SMS"]
    for name, r in resources.items():
        if r["Type"] == "AWS::Serverless::Function" and name != "NotificationsConsumer":
            assert "MOTCUA_NOTIFIER" not in r["Properties"].get("Environment", {}).get("Variables", {}), name


def test_digest_has_its_budget_and_the_api_stays_under_api_gateway(package):
    resources = sam(package)["Resources"]
    # The digest stops starting units after 240 s (services/deadlines.py) and defers the rest: 300 s covers it.
    assert resources["DeadlineDigest"]["Properties"]["Timeout"] == 300 > DIGEST_BUDGET_SECONDS + 30
    assert resources["OverdueSweep"]["Properties"]["Timeout"] == 120
    assert resources["APIHandler"]["Properties"]["Timeout"] < 29


# What the Lambda Python 3.11 runtime itself provides: boto3 and botocore, with their own dependencies.
RUNTIME_PACKAGES = ("boto3", "botocore", "jmespath", "s3transfer", "urllib3", "dateutil", "six.py")
PROBE = ROOT / "tests" / "e2e" / "runtime_probe.py"


def runtime_venv(where: Path) -> Path:
    """A fresh virtualenv with only the runtime's packages (copied from this one: no network needed)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, timeout=120)
    here = Path(yaml.__file__).resolve().parents[1]  # this environment's site-packages
    site = where / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    for name in RUNTIME_PACKAGES:
        source = here / name
        if source.is_dir():
            shutil.copytree(source, site / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, site / name)
    return where / "bin" / "python"


def test_every_module_and_client_works_with_only_what_lambda_provides(package, tmp_path):
    """The whole class of "a dependency the package does not ship": every module of chalicelib imports, and every
    adapter builds its client (and the HTTP ones send), in an environment of the runtime's packages plus the
    packaged function and layer alone, with production's settings."""
    code_dir, layer_site = unzipped(package, tmp_path)
    python = runtime_venv(tmp_path / "runtime")
    assert subprocess.run([str(python), "-E", "-s", "-c", "import requests"], capture_output=True).returncode != 0
    env = {"PATH": os.environ["PATH"], "AWS_DEFAULT_REGION": "ap-southeast-1", "AWS_ACCESS_KEY_ID": "probe",
           "AWS_SECRET_ACCESS_KEY": "probe", "AWS_LAMBDA_FUNCTION_NAME": "motcua-prod-probe",
           "MOTCUA_AUTH_MODE": "jwks", **FILLED, "MOTCUA_TABLE_PREFIX": "motcua-prod",
           "MOTCUA_CURSOR_SECRET": "ssm:/motcua-prod/cursor-secret",
           "MOTCUA_EVENT_BUS": "motcua-prod-events",
           "MOTCUA_TIMER_STATE_MACHINE_ARN": "arn:aws:states:ap-southeast-1:123456789012:stateMachine:motcua-prod-t",
           "MOTCUA_WEBHOOK_QUEUE_URL": "https://sqs.ap-southeast-1.amazonaws.com/123456789012/motcua-prod-w",
           "MOTCUA_NOTIFIER": "aws", "MOTCUA_EMAIL_SENDER": "motcua@thanhhoa.gov.vn", "MOTCUA_SMS": "on",
           "MOTCUA_PORTAL_URL": "https://127.0.0.1:9/api", "MOTCUA_PORTAL_TOKEN": "probe-token",
           "AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:9",
           "MOTCUA_PORTAL_CONNECT_TIMEOUT": "0.5"}
    result = subprocess.run([str(python), "-E", "-s", str(PROBE), str(code_dir), str(layer_site)], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("ok") and "portal: DongBoHoSoMC: ConnectionRefusedError" in result.stdout


def test_secrets_are_named_never_written_in_the_template(package):
    stage, out = package
    template = (out / "sam.yaml").read_text(encoding="utf-8")
    prefix = stages()[stage]
    resources = sam(package)["Resources"]
    functions = {name: r for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    for name, function in functions.items():
        env = function["Properties"].get("Environment", {}).get("Variables", {})
        assert env.get("MOTCUA_CURSOR_SECRET") == f"ssm:/{prefix}/cursor-secret", name
        assert env.get("MOTCUA_PORTAL_TOKEN", f"ssm:/{prefix}/portal-token") == f"ssm:/{prefix}/portal-token", name
    assert "MOTCUA_PORTAL_TOKEN" in functions["PortalSyncPush"]["Properties"]["Environment"]["Variables"]
    assert "t" * 32 not in template and "whsec_" not in template


def test_every_function_queue_machine_and_the_api_is_watched(package):
    """infra/observability.yaml in the package: log groups with retention and tracing on every function, alarms on
    errors and throttles per function, on every dead-letter queue (first message, oldest message) with its URL in
    the outputs, on the timers, the API's 5xx and p95, the business metrics; all to one SNS topic."""
    template = sam(package)
    resources, outputs = template["Resources"], template["Outputs"]
    alarms = {n: r["Properties"] for n, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert alarms and all(a["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms.values())
    assert resources["AlarmEmailSubscription"]["Condition"] == "HasAlarmEmail"

    def alarmed(namespace: str, metric: str, value: Any) -> bool:
        return any(a["Namespace"] == namespace and a["MetricName"] == metric and value in [
            d["Value"] for d in a["Dimensions"]] for a in alarms.values())

    functions = [n for n, r in resources.items() if r["Type"] == "AWS::Serverless::Function"]
    assert len(functions) >= 12
    for name in functions:
        props = resources[name]["Properties"]
        assert props["Tracing"] == "Active", name
        group = resources[props["LoggingConfig"]["LogGroup"]["Ref"]]
        assert group["Type"] == "AWS::Logs::LogGroup" and group["Properties"]["RetentionInDays"] == {
            "Ref": "LogRetentionDays"}, name
        assert alarmed("AWS/Lambda", "Errors", {"Ref": name}) and alarmed("AWS/Lambda", "Throttles", {"Ref": name})
    dlqs = [n for n, r in resources.items() if r["Type"] == "AWS::SQS::Queue"
            and r["Properties"]["QueueName"]["Fn::Sub"].endswith("-dlq")]
    assert len(dlqs) >= 6
    for name in dlqs:
        assert resources[name]["Properties"]["MessageRetentionPeriod"] == 14 * 86400, name
        dims = {"Fn::GetAtt": [name, "QueueName"]}
        assert alarmed("AWS/SQS", "ApproximateNumberOfMessagesVisible", dims), name
        assert alarmed("AWS/SQS", "ApproximateAgeOfOldestMessage", dims), name
        assert outputs[f"{name}Url"] == {"Value": {"Ref": name}}, name
    for metric in ("ExecutionsFailed", "ExecutionsTimedOut"):
        assert alarmed("AWS/States", metric, {"Ref": "DeadlineTimerStateMachine"})
    assert alarmed("AWS/ApiGateway", "5XXError", {"Ref": "Prefix"})
    assert alarms["ApiLatencyP95Alarm"]["ExtendedStatistic"] == "p95"
    for metric in ("PortalUpdatesFailing", "WebhookDeliveriesFailed"):
        assert alarmed("motcua", metric, "motcua")  # the EMF dimensions chalicelib/adapters/metrics.py writes
    body = json.loads(json.dumps(resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]))
    assert all(f"${{{name}}}" in body for name in functions) and all(f"${{{q}.QueueName}}" in body for q in dlqs)


def test_the_api_is_throttled_traced_and_its_public_routes_rate_limited(package):
    resources = sam(package)["Resources"]
    api = resources["RestAPI"]["Properties"]
    assert api["TracingEnabled"] is True
    [setting] = api["MethodSettings"]
    assert setting["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}
    assert setting["ThrottlingBurstLimit"] == {"Ref": "ApiBurstLimit"}
    plan = resources["IntegratorUsagePlan"]["Properties"]
    assert plan["ApiStages"] == [{"ApiId": {"Ref": "RestAPI"}, "Stage": "api"}] and plan["Quota"]["Period"] == "DAY"
    [rule] = resources["PublicWebAcl"]["Properties"]["Rules"]
    rate = rule["Statement"]["RateBasedStatement"]
    assert rule["Action"] == {"Block": {}} and rate["AggregateKeyType"] == "IP"
    paths = {s["ByteMatchStatement"]["SearchString"] for s in rate["ScopeDownStatement"]["OrStatement"]["Statements"]}
    assert paths == {"/v1/public/", "/v1/inbound/"}
    body = api["DefinitionBody"]["paths"]
    assert any(p.startswith("/v1/public/") for p in body) and any(p.startswith("/v1/inbound/") for p in body)
    assert resources["PublicWebAclAssociation"]["Properties"]["WebACLArn"] == {"Fn::GetAtt": ["PublicWebAcl", "Arn"]}


def test_the_integrators_routes_need_a_key_of_their_usage_plan(package):
    resources = sam(package)["Resources"]
    body = resources["RestAPI"]["Properties"]["DefinitionBody"]
    assert body["securityDefinitions"]["api_key"] == {"type": "apiKey", "name": "x-api-key", "in": "header"}
    keyed = {(path, method) for path, methods in body["paths"].items() for method, spec in methods.items()
             if {"api_key": []} in spec.get("security", [])}
    assert keyed == {("/v1/inbound/{source}", "post"), ("/v1/imports", "post")}  # officers' routes take none
    key = resources["IntegratorApiKey"]["Properties"]
    assert key["Enabled"] is True
    assert resources["IntegratorUsagePlanKey"]["Properties"] == {
        "KeyId": {"Ref": "IntegratorApiKey"}, "KeyType": "API_KEY", "UsagePlanId": {"Ref": "IntegratorUsagePlan"}}
    responses = body["x-amazon-apigateway-gateway-responses"]
    assert responses["INVALID_API_KEY"]["statusCode"] == "403"
