"""infra/observability.yaml: what a stage's package adds to watch and shield it (docs/deploy.md "Watching it").

Generated from the app's functions (chalice.app: every scheduled, queue and plain Lambda function, and the API
handler) and from the dead-letter queues and state machines of infra/events.yaml, so a new function or queue gets
its log group, alarms and dashboard line at the next `make templates`:

- an SNS topic `<prefix>-alarms` every alarm notifies, with an e-mail subscription when `AlarmEmail` is given;
- per function: a log group `/motcua/<prefix>/<function>` kept `LogRetentionDays` (the function logs there through
  its LoggingConfig), X-Ray tracing on, and alarms on any error and any throttle;
- per dead-letter queue: an alarm at its first message and one when its oldest message is a day old (messages are
  kept 14 days), and a stack output with its URL;
- the API: X-Ray tracing, stage throttling (`ApiRateLimit`, `ApiBurstLimit`), alarms on 5xx answers and on the
  p95 latency, a usage plan for integrators, and a WAF web ACL whose rate-based rule limits each client address on
  the public lookup and the inbound route;
- per state machine: alarms on failed and timed-out executions;
- the outbox stream's function: an alarm when it reads a minute behind the newest write (IteratorAge);
- the business metrics (chalicelib/services/metrics.py): alarms on portal updates failing, webhook deliveries
  failed and events the safety net published (the stream path missed them); a CloudWatch dashboard `<prefix>`
  with all of the above.
"""

from __future__ import annotations

import json
from typing import Any

API = "APIHandler"
API_STAGE = "api"  # .chalice/config.json api_gateway_stage
NAMESPACE = "motcua"  # chalicelib/services/metrics.py NAMESPACE
RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                  3288, 3653]
STREAM_FUNCTION = "OutboxStream"  # chalicelib/api/event_handlers.py outbox_stream
STREAM_AGE_MS = 60_000  # a minute behind, three minutes running
DLQ_OLDEST_SECONDS = 86400  # a day: ample time before the 14 days after which SQS deletes a message
PUBLIC_PATHS = ("/v1/public/", "/v1/inbound/")  # dossier codes are sequential: lookups must not be harvested
ALARMED_METRICS = (("PortalUpdatesFailing", "a dossier's portal updates turned failing"),
                   ("WebhookDeliveriesFailed", "a webhook delivery failed for good"),
                   ("EventsPublishedLate", "the safety net published events the outbox stream path had missed"))


def functions() -> dict[str, str]:
    """Logical id (as Chalice's package names it) -> function name in the app, for every Lambda function."""
    from chalice.utils import to_cfn_resource_name

    import app as application

    app = application.app
    names = [source.name for source in app.event_sources] + [f.name for f in app.pure_lambda_functions]
    out = {API: "api_handler"} if app.routes else {}
    out.update({to_cfn_resource_name(name): name for name in sorted(names)})
    return out


def _alarm(description: str, namespace: str, metric: str, dimensions: list[dict[str, Any]], threshold: float,
           statistic: str = "Sum", period: int = 300, periods: int = 1) -> dict[str, Any]:
    props: dict[str, Any] = {
        "AlarmDescription": description, "Namespace": namespace, "MetricName": metric, "Dimensions": dimensions,
        "Period": period, "EvaluationPeriods": periods, "Threshold": threshold,
        "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
        "AlarmActions": [{"Ref": "AlarmTopic"}], "OKActions": [{"Ref": "AlarmTopic"}],
    }
    if statistic.startswith("p"):
        props["ExtendedStatistic"] = statistic
    else:
        props["Statistic"] = statistic
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": props}


def _parameters() -> dict[str, Any]:
    return {
        "AlarmEmail": {"Type": "String", "Default": "",
                       "Description": "where alarms are e-mailed (confirm the subscription AWS sends); empty: none"},
        "LogRetentionDays": {"Type": "Number", "Default": 90, "AllowedValues": RETENTION_DAYS,
                             "Description": "days the functions' logs are kept"},
        "ApiRateLimit": {"Type": "Number", "Default": 100, "MinValue": 1,
                         "Description": "the API stage's steady requests per second, all clients together"},
        "ApiBurstLimit": {"Type": "Number", "Default": 200, "MinValue": 1,
                          "Description": "the API stage's burst of requests above the rate"},
        "IntegratorRateLimit": {"Type": "Number", "Default": 10, "MinValue": 1,
                                "Description": "requests per second of one integrator's API key (usage plan)"},
        "IntegratorBurstLimit": {"Type": "Number", "Default": 20, "MinValue": 1,
                                 "Description": "burst of one integrator's API key (usage plan)"},
        "IntegratorDailyQuota": {"Type": "Number", "Default": 100000, "MinValue": 1,
                                 "Description": "requests a day of one integrator's API key (usage plan)"},
        "FirstIntegratorName": {"Type": "String", "Default": "dvcqg", "AllowedPattern": "[a-z0-9-]{1,63}",
                                "Description": "the integrator whose API key the stack creates (the national "
                                               "portal's inbound source by default); add others with "
                                               "aws apigateway create-api-key (docs/deploy.md)"},
        "PublicRateLimit": {"Type": "Number", "Default": 300, "MinValue": 100, "MaxValue": 2000000000,
                            "Description": "requests per 5 minutes one address may make to the public lookup and "
                                           "the inbound route before WAF blocks it"},
        "ApiLatencyP95Ms": {"Type": "Number", "Default": 3000, "MinValue": 100,
                            "Description": "the API's p95 latency (ms, over 5 minutes, 3 in a row) that alarms"},
    }


def template(merged: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The observability and protection resources for a package whose other parts are `merged`."""
    resources: dict[str, Any] = {
        "AlarmTopic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::Sub": "${Prefix}-alarms"}}},
        "AlarmEmailSubscription": {"Type": "AWS::SNS::Subscription", "Condition": "HasAlarmEmail", "Properties": {
            "TopicArn": {"Ref": "AlarmTopic"}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}},
    }
    outputs: dict[str, Any] = {"AlarmTopicArn": {"Value": {"Ref": "AlarmTopic"}}}
    widgets: list[dict[str, Any]] = []
    found = functions()
    for logical, name in found.items():
        resources[f"{logical}LogGroup"] = {"Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": {"Fn::Sub": f"/motcua/${{Prefix}}/{name}"},
            "RetentionInDays": {"Ref": "LogRetentionDays"}}}
        resources[logical] = {"Properties": {"Tracing": "Active",
                                             "LoggingConfig": {"LogGroup": {"Ref": f"{logical}LogGroup"}}}}
        dims = [{"Name": "FunctionName", "Value": {"Ref": logical}}]
        resources[f"{logical}ErrorsAlarm"] = _alarm(f"{name}: an invocation failed (its log group says why)",
                                                   "AWS/Lambda", "Errors", dims, 0)
        resources[f"{logical}ThrottlesAlarm"] = _alarm(f"{name}: invocations throttled (account or reserved "
                                                      "concurrency reached)", "AWS/Lambda", "Throttles", dims, 0)
    queues = {n: r for n, r in merged.get("Resources", {}).items() if r.get("Type") == "AWS::SQS::Queue"
              and str(r["Properties"].get("QueueName", {}).get("Fn::Sub", "")).endswith("-dlq")}
    for logical in sorted(queues):
        dims = [{"Name": "QueueName", "Value": {"Fn::GetAtt": [logical, "QueueName"]}}]
        resources[f"{logical}MessagesAlarm"] = _alarm(
            f"{logical}: a message failed its consumer 5 times (make redrive, docs/deploy.md)", "AWS/SQS",
            "ApproximateNumberOfMessagesVisible", dims, 0, "Maximum", 60)
        resources[f"{logical}AgeAlarm"] = _alarm(
            f"{logical}: its oldest message is a day old; SQS deletes it after 14 days", "AWS/SQS",
            "ApproximateAgeOfOldestMessage", dims, DLQ_OLDEST_SECONDS, "Maximum", 300)
        outputs[f"{logical}Url"] = {"Value": {"Ref": logical}}
        outputs[f"{logical}Arn"] = {"Value": {"Fn::GetAtt": [logical, "Arn"]}}
    machines = sorted(n for n, r in merged.get("Resources", {}).items()
                      if r.get("Type") == "AWS::StepFunctions::StateMachine")
    for logical in machines:
        dims = [{"Name": "StateMachineArn", "Value": {"Ref": logical}}]
        for metric in ("ExecutionsFailed", "ExecutionsTimedOut"):
            resources[f"{logical}{metric}Alarm"] = _alarm(f"{logical}: {metric} (the sweep wakes those dossiers)",
                                                          "AWS/States", metric, dims, 0)
    if STREAM_FUNCTION in found:  # the outbox stream's reader falling behind: events wait (docs/events.md)
        resources["OutboxStreamIteratorAgeAlarm"] = _alarm(
            "the outbox stream's function reads more than a minute behind the newest write (docs/events.md)",
            "AWS/Lambda", "IteratorAge", [{"Name": "FunctionName", "Value": {"Ref": STREAM_FUNCTION}}],
            STREAM_AGE_MS, "Maximum", 60, 3)
    business = [{"Name": "stage", "Value": {"Ref": "Prefix"}}, {"Name": "service", "Value": NAMESPACE}]
    for metric, what in ALARMED_METRICS:
        resources[f"{metric}Alarm"] = _alarm(f"{what} (docs/deploy.md)", NAMESPACE, metric, business, 0)
    if API in found:
        resources.update(_api_resources())
        api_dims = [{"Name": "ApiName", "Value": {"Ref": "Prefix"}}, {"Name": "Stage", "Value": API_STAGE}]
        resources["Api5xxAlarm"] = _alarm("the API answered 5xx (its function's log group says why)",
                                          "AWS/ApiGateway", "5XXError", api_dims, 0)
        resources["ApiLatencyP95Alarm"] = {**_alarm("the API's p95 latency stayed above ApiLatencyP95Ms",
                                                    "AWS/ApiGateway", "Latency", api_dims, 0, "p95", 300, 3)}
        resources["ApiLatencyP95Alarm"]["Properties"]["Threshold"] = {"Ref": "ApiLatencyP95Ms"}
        outputs["WebAclArn"] = {"Value": {"Fn::GetAtt": ["PublicWebAcl", "Arn"]}}
        outputs["IntegratorUsagePlanId"] = {"Value": {"Ref": "IntegratorUsagePlan"}}
        outputs["IntegratorApiKeyId"] = {"Value": {"Ref": "IntegratorApiKey"}}
    resources["Dashboard"] = {"Type": "AWS::CloudWatch::Dashboard", "Properties": {
        "DashboardName": {"Fn::Sub": "${Prefix}"},
        "DashboardBody": {"Fn::Sub": json.dumps({"widgets": _widgets(found, sorted(queues), machines, widgets)})}}}
    return {"Parameters": _parameters(), "Conditions": {"HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [
        {"Ref": "AlarmEmail"}, ""]}]}}, "Resources": resources, "Outputs": outputs}


def _api_resources() -> dict[str, Any]:
    stage_arn = {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${RestAPI}/stages/"
                            + API_STAGE}
    paths = [{"ByteMatchStatement": {"FieldToMatch": {"UriPath": {}}, "PositionalConstraint": "CONTAINS",
                                     "SearchString": path, "TextTransformations": [
                                         {"Priority": 0, "Type": "NONE"}]}} for path in PUBLIC_PATHS]
    return {
        # The API's own name is the stage's prefix (the metrics' ApiName), tracing and throttling on its stage.
        "RestAPI": {"Properties": {
            "Name": {"Fn::Sub": "${Prefix}"}, "TracingEnabled": True,
            "DefinitionBody": {"info": {"title": {"Fn::Sub": "${Prefix}"}}},
            "MethodSettings": [{"ResourcePath": "/*", "HttpMethod": "*",  # no per-method metrics: each is billed
                                "ThrottlingRateLimit": {"Ref": "ApiRateLimit"},
                                "ThrottlingBurstLimit": {"Ref": "ApiBurstLimit"}}]}},
        "IntegratorUsagePlan": {"Type": "AWS::ApiGateway::UsagePlan", "DependsOn": f"RestAPI{API_STAGE}Stage",
                                "Properties": {
            "UsagePlanName": {"Fn::Sub": "${Prefix}-integrators"},
            "Description": "each integrator's API key: its own rate, burst and daily quota (docs/deploy.md)",
            "ApiStages": [{"ApiId": {"Ref": "RestAPI"}, "Stage": API_STAGE}],
            "Throttle": {"RateLimit": {"Ref": "IntegratorRateLimit"}, "BurstLimit": {"Ref": "IntegratorBurstLimit"}},
            "Quota": {"Limit": {"Ref": "IntegratorDailyQuota"}, "Period": "DAY"}}},
        # The integrators' routes (POST /v1/inbound/{source}, POST /v1/imports: `api_key=True` in chalicelib/api)
        # take a request only with a key of this plan, so the plan's rate, burst and quota bind each integrator.
        # One key here; an integrator more is a key more in the same plan (docs/deploy.md).
        "IntegratorApiKey": {"Type": "AWS::ApiGateway::ApiKey", "DependsOn": f"RestAPI{API_STAGE}Stage",
                             "Properties": {
            "Name": {"Fn::Sub": "${Prefix}-${FirstIntegratorName}"}, "Enabled": True,
            "Description": "an integrator's key for the integrators' routes (x-api-key header)"}},
        "IntegratorUsagePlanKey": {"Type": "AWS::ApiGateway::UsagePlanKey", "Properties": {
            "KeyId": {"Ref": "IntegratorApiKey"}, "KeyType": "API_KEY", "UsagePlanId": {"Ref": "IntegratorUsagePlan"}}},
        "PublicWebAcl": {"Type": "AWS::WAFv2::WebACL", "Properties": {
            "Name": {"Fn::Sub": "${Prefix}-api"}, "Scope": "REGIONAL", "DefaultAction": {"Allow": {}},
            "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                                 "MetricName": {"Fn::Sub": "${Prefix}-api"}},
            "Rules": [{"Name": "public-lookup-and-inbound-rate", "Priority": 0, "Action": {"Block": {}},
                       "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                                            "MetricName": {"Fn::Sub": "${Prefix}-public-rate"}},
                       "Statement": {"RateBasedStatement": {
                           "Limit": {"Ref": "PublicRateLimit"}, "AggregateKeyType": "IP",
                           "ScopeDownStatement": {"OrStatement": {"Statements": paths}}}}}]}},
        "PublicWebAclAssociation": {"Type": "AWS::WAFv2::WebACLAssociation", "DependsOn": f"RestAPI{API_STAGE}Stage",
                                    "Properties": {"ResourceArn": stage_arn,
                                                   "WebACLArn": {"Fn::GetAtt": ["PublicWebAcl", "Arn"]}}},
    }


def _widgets(found: dict[str, str], queues: list[str], machines: list[str],
             widgets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def graph(title: str, metrics: list[list[Any]], stat: str = "Sum") -> dict[str, Any]:
        return {"type": "metric", "width": 12, "height": 6, "properties": {
            "title": title, "region": "${AWS::Region}", "stat": stat, "period": 300, "view": "timeSeries",
            "metrics": metrics}}

    fns = list(found)
    widgets.append(graph("Business (motcua)", [[NAMESPACE, m, "stage", "${Prefix}", "service", NAMESPACE]
                                               for m in ("DossiersReceived", "DossiersResolvedLate",
                                                         "DossiersFlaggedOverdue", "Apologies",
                                                         "WebhookDeliveriesFailed", "PortalUpdatesFailing",
                                                         "EventsPublishedLate")]))
    if STREAM_FUNCTION in found:
        widgets.append(graph("Outbox stream: iterator age (ms)", [
            ["AWS/Lambda", "IteratorAge", "FunctionName", f"${{{STREAM_FUNCTION}}}"]], "Maximum"))
    if API in found:
        widgets.append(graph("API 5xx and 4xx", [["AWS/ApiGateway", m, "ApiName", "${Prefix}", "Stage", API_STAGE]
                                                 for m in ("5XXError", "4XXError", "Count")]))
        widgets.append(graph("API latency p95", [["AWS/ApiGateway", "Latency", "ApiName", "${Prefix}", "Stage",
                                                  API_STAGE]], "p95"))
    widgets.append(graph("Function errors", [["AWS/Lambda", "Errors", "FunctionName", f"${{{f}}}"] for f in fns]))
    widgets.append(graph("Function throttles", [["AWS/Lambda", "Throttles", "FunctionName", f"${{{f}}}"]
                                                for f in fns]))
    widgets.append(graph("Dead-letter queues: messages", [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", f"${{{q}.QueueName}}"] for q in queues],
        "Maximum"))
    widgets.append(graph("Dead-letter queues: oldest message (s)", [
        ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", f"${{{q}.QueueName}}"] for q in queues],
        "Maximum"))
    if machines:
        widgets.append(graph("Timers: failed and timed out", [
            ["AWS/States", m, "StateMachineArn", f"${{{n}}}"] for n in machines
            for m in ("ExecutionsFailed", "ExecutionsTimedOut")]))
    return widgets
