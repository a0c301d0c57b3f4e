"""The template keeps up with the code: every function logged and alarmed, every queue alarmed, every
alarm-worthy metric the code emits alarmed, secrets read only by name, each alarm with its runbook section.

Functions, queues and metrics are enumerated from the template and the source, so a new one without its
alarm (or a renamed metric) fails here.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from local.template import ROOT, _CfnLoader

RUNBOOK = ROOT / "docs" / "runbook.md"
SOURCES = [ROOT / "layers" / "shared" / "woo_backend", ROOT / "functions"]
# Metrics that mean a person should act. A name here must be emitted by the code and have an alarm.
ALARM_WORTHY = {"CaptureNeedsAttention", "BalanceDrift", "UnhandledError", "WebhookDisabled", "SyncSucceeded"}
RUNBOOK_LINK = re.compile(r"docs/runbook\.md#([a-z0-9-]+)")


# OPS_TEMPLATE: check another copy, e.g. the built one (.aws-sam/build/template.yaml).
TEMPLATE_PATH = Path(os.environ.get("OPS_TEMPLATE") or ROOT / "template.yaml")


def load(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open() as fh:
        loaded: dict[str, Any] = yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
        return loaded


TEMPLATE = load()
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]
GLOBALS_FN: dict[str, Any] = TEMPLATE.get("Globals", {}).get("Function", {})


def of_type(kind: str, resources: dict[str, dict[str, Any]] = RESOURCES) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in resources.items() if v["Type"] == kind}


FUNCTIONS = of_type("AWS::Serverless::Function")
ALARMS = of_type("AWS::CloudWatch::Alarm")
QUEUES = of_type("AWS::SQS::Queue")


def fn_props(name: str, resources: dict[str, dict[str, Any]] = RESOURCES) -> dict[str, Any]:
    props: dict[str, Any] = resources[name]["Properties"]
    return props


def env(name: str) -> dict[str, Any]:
    return {
        **GLOBALS_FN.get("Environment", {}).get("Variables", {}),
        **fn_props(name).get("Environment", {}).get("Variables", {}),
    }


def is_scheduled(name: str) -> bool:
    return any(e["Type"] in ("ScheduleV2", "Schedule") for e in fn_props(name).get("Events", {}).values())


def is_http(name: str) -> bool:
    return any(e["Type"] == "HttpApi" for e in fn_props(name).get("Events", {}).values())


def alarm_metrics(alarm: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, metric name, dimensions) of every metric an alarm reads, plain or in metric math."""
    props = alarm["Properties"]
    found = []
    if "MetricName" in props:
        found.append((props["Namespace"], props["MetricName"], props.get("Dimensions", [])))
    for query in props.get("Metrics", []):
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            found.append((metric["Namespace"], metric["MetricName"], metric.get("Dimensions", [])))
    return [(ns, name, {d["Name"]: d["Value"] for d in dims}) for ns, name, dims in found]


def alarms_on(namespace: str, metric: str, alarms: dict[str, dict[str, Any]] = ALARMS) -> list[dict[str, Any]]:
    """The dimensions of every alarm reading ``metric`` (one entry per metric read)."""
    return [dims for a in alarms.values() for ns, name, dims in alarm_metrics(a) if (ns, name) == (namespace, metric)]


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_function_logs_json_to_its_own_group_with_retention(function: str) -> None:
    config = {**GLOBALS_FN.get("LoggingConfig", {}), **fn_props(function).get("LoggingConfig", {})}
    assert config.get("LogFormat") == "JSON"
    assert config.get("ApplicationLogLevel")
    assert config.get("SystemLogLevel")
    group = config.get("LogGroup", {}).get("Ref")
    assert group in RESOURCES, f"{function}: no declared log group"
    assert RESOURCES[group]["Type"] == "AWS::Logs::LogGroup"
    assert RESOURCES[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_log_retention_parameter_defaults_to_30_days() -> None:
    assert TEMPLATE["Parameters"]["LogRetentionDays"]["Default"] == 30


def test_every_log_level_has_its_lambda_spelling() -> None:
    levels = TEMPLATE["Parameters"]["LogLevel"]["AllowedValues"]
    assert set(TEMPLATE["Mappings"]["LambdaLogLevel"]) == set(levels)
    assert GLOBALS_FN["LoggingConfig"]["ApplicationLogLevel"] == {
        "Fn::FindInMap": ["LambdaLogLevel", {"Ref": "LogLevel"}, "Level"]
    }


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_errors_and_throttles_alarms(function: str, metric: str) -> None:
    assert {"FunctionName": {"Ref": function}} in alarms_on("AWS/Lambda", metric), f"no {metric} alarm: {function}"


@pytest.mark.parametrize("queue", sorted(QUEUES))
def test_every_queue_has_a_messages_visible_alarm(queue: str) -> None:
    want = {"QueueName": {"Fn::GetAtt": [queue, "QueueName"]}}
    assert want in alarms_on("AWS/SQS", "ApproximateNumberOfMessagesVisible"), f"no alarm on {queue}"


def queue_refs(value: Any) -> list[str]:
    """Queues a dead-letter or destination ARN points at (``!GetAtt Queue.Arn``)."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return [value["Fn::GetAtt"][0]]
    return []


@pytest.mark.parametrize("function", sorted(f for f in FUNCTIONS if is_scheduled(f)))
def test_scheduled_runs_failing_inside_the_function_land_in_an_alarmed_queue(function: str) -> None:
    invoke = fn_props(function).get("EventInvokeConfig", {})
    assert 0 <= invoke.get("MaximumRetryAttempts", 2) <= 1, "retries bounded"
    on_failure = invoke.get("DestinationConfig", {}).get("OnFailure", {})
    assert on_failure.get("Type") == "SQS"
    targets = queue_refs(on_failure.get("Destination"))
    for event in fn_props(function)["Events"].values():
        targets += queue_refs(event["Properties"].get("DeadLetterConfig", {}).get("Arn"))
    assert len(targets) == 2
    assert all(t in QUEUES for t in targets)


def emitted_metrics() -> set[str]:
    """Every literal metric name the code passes to ``add_metric``."""
    names = set()
    for root in SOURCES:
        for path in root.rglob("*.py"):
            names |= set(re.findall(r"add_metric\(\s*name=\"([A-Za-z0-9_]+)\"", path.read_text()))
    return names


def test_every_alarm_worthy_metric_is_emitted_and_alarmed() -> None:
    emitted = emitted_metrics()
    namespace = GLOBALS_FN["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    services = {env(f)["POWERTOOLS_SERVICE_NAME"] for f in FUNCTIONS}
    assert emitted >= ALARM_WORTHY, f"renamed or gone from the code: {sorted(ALARM_WORTHY - emitted)}"
    for metric in sorted(ALARM_WORTHY & emitted):
        watched = alarms_on(namespace, metric)
        assert watched, f"{metric} is emitted but has no alarm"
        # Powertools' only dimension is the service: an alarm must name services that exist.
        assert all(set(d) == {"service"} and d["service"] in services for d in watched), metric


@pytest.mark.parametrize("function", sorted(f for f in FUNCTIONS if is_scheduled(f)))
def test_a_sync_that_stops_succeeding_raises_its_alarm(function: str) -> None:
    service = env(function)["POWERTOOLS_SERVICE_NAME"]
    mine = [
        a["Properties"]
        for a in ALARMS.values()
        if ("WooBackend", "SyncSucceeded", {"service": service}) in alarm_metrics(a)
    ]
    assert mine, f"no SyncSucceeded alarm for {service}"
    props = mine[0]
    assert props["TreatMissingData"] == "breaching"
    assert props["EvaluationPeriods"] >= 3
    assert props["ComparisonOperator"] == "LessThanThreshold"


def statements(policies: list[Any]) -> list[dict[str, Any]]:
    return [s for p in policies if isinstance(p, dict) for s in p.get("Statement", [])]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def resource_text(resource: Any) -> str:
    """A resource ARN as written, the ``!If`` branches included."""
    return yaml.safe_dump(resource)


def test_no_statement_grants_ssm_on_a_wildcard() -> None:
    for name, res in RESOURCES.items():
        props = res.get("Properties", {})
        policies = props.get("Policies", []) if res["Type"] == "AWS::Serverless::Function" else []
        if res["Type"] in ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            docs = [p.get("PolicyDocument", {}) for p in props.get("Policies", [])] + [props.get("PolicyDocument", {})]
            policies = docs
        for policy in as_list(policies):
            if isinstance(policy, dict) and any(k.startswith("SSMParameter") for k in policy):
                raise AssertionError(f"{name}: SAM's {next(iter(policy))} grants a path, not names")
        for stmt in statements(as_list(policies)):
            actions = as_list(stmt.get("Action", []))
            if any(a == "*" or a.lower().startswith("ssm:") for a in actions):
                assert all("*" not in a for a in actions), f"{name}: {actions}"
                for resource in as_list(stmt["Resource"]):
                    assert "*" not in resource_text(resource), f"{name}: SSM on a wildcard: {resource}"


def parameter_arn(value: Any) -> Any:
    """The ARN the policy must name for a ``*_PARAM`` value (``!Sub /woo-backend/...``, maybe under ``!If``)."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        prefix = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
        return {"Fn::Sub": prefix + value["Fn::Sub"]}
    if isinstance(value, dict) and "Fn::If" in value:
        condition, yes, no = value["Fn::If"]
        return {"Fn::If": [condition, parameter_arn(yes), no]}
    raise AssertionError(f"unexpected parameter name {value!r}")


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_each_function_reads_exactly_its_own_parameters(function: str) -> None:
    wanted = [parameter_arn(v) for k, v in env(function).items() if k.endswith("_PARAM")]
    granted = [
        r
        for s in statements(fn_props(function).get("Policies", []))
        if any(a.startswith("ssm:") for a in as_list(s["Action"]))
        for r in as_list(s["Resource"])
    ]
    assert sorted(map(resource_text, granted)) == sorted(map(resource_text, wanted))
    decrypt = [s for s in statements(fn_props(function)["Policies"]) if "kms:Decrypt" in as_list(s["Action"])]
    assert wanted == [] or (decrypt and all("kms:ViaService" in s["Condition"]["StringEquals"] for s in decrypt))


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    return re.sub(r"[^a-z0-9 -]", "", heading.strip().lower()).replace(" ", "-")


def runbook_sections() -> set[str]:
    return {slug(m) for m in re.findall(r"^## (.+)$", RUNBOOK.read_text(), re.M)}


def test_every_alarm_links_its_runbook_section_and_every_section_has_an_alarm() -> None:
    sections = runbook_sections()
    linked = set()
    for name, alarm in ALARMS.items():
        found = RUNBOOK_LINK.findall(alarm["Properties"].get("AlarmDescription", ""))
        assert len(found) == 1, f"{name}: its description must link one runbook section"
        assert found[0] in sections, f"{name}: docs/runbook.md has no section #{found[0]}"
        linked.add(found[0])
    assert sections == linked, f"runbook sections without an alarm: {sorted(sections - linked)}"


def test_every_alarm_notifies_the_topic_and_is_on_the_dashboard() -> None:
    body = next(iter(of_type("AWS::CloudWatch::Dashboard").values()))["Properties"]["DashboardBody"]["Fn::Sub"]
    for name, alarm in ALARMS.items():
        assert {"Ref": "AlarmTopic"} in alarm["Properties"]["AlarmActions"], name
        assert f"${{{name}.Arn}}" in body, f"{name} is not on the dashboard"


def test_api_5xx_rate_and_p99_latency_are_alarmed() -> None:
    api = {"ApiId": {"Ref": "HttpApi"}, "Stage": "$default"}
    assert api in alarms_on("AWS/ApiGateway", "5xx")
    assert api in alarms_on("AWS/ApiGateway", "Count")
    latency = [a for a in ALARMS.values() if ("AWS/ApiGateway", "Latency", api) in alarm_metrics(a)]
    assert latency
    assert latency[0]["Properties"]["ExtendedStatistic"] == "p99"


def test_api_access_log_has_what_on_call_needs_and_no_paths() -> None:
    (api,) = of_type("AWS::Serverless::HttpApi").values()
    settings = api["Properties"]["AccessLogSettings"]
    group = settings["DestinationArn"]["Fn::GetAtt"][0]
    assert RESOURCES[group]["Type"] == "AWS::Logs::LogGroup"
    assert "RetentionInDays" in RESOURCES[group]["Properties"]
    fields = set(re.findall(r"\$context\.([A-Za-z.]+)", settings["Format"]))
    assert {"requestId", "routeKey", "status", "responseLatency", "integrationErrorMessage"} <= fields
    # Paths and query strings carry order keys and tokens.
    assert not fields & {"path", "resourcePath", "http.path", "identity.sourceIp"}
    assert "querystring" not in settings["Format"].lower()


@pytest.mark.parametrize("function", sorted(f for f in FUNCTIONS if is_http(f)))
def test_http_functions_deploy_through_the_alias_and_roll_back_on_errors(function: str) -> None:
    props = fn_props(function)
    assert props.get("AutoPublishAlias") == "live"
    preference = props["DeploymentPreference"]
    assert preference["Type"] == {"Fn::If": ["IsProd", "Canary10Percent5Minutes", "AllAtOnce"]}
    alarm = preference["Alarms"][0]["Ref"]
    assert ("AWS/Lambda", "Errors", {"FunctionName": {"Ref": function}}) in alarm_metrics(ALARMS[alarm])


def test_stages_and_their_samconfig_environments() -> None:
    stage = TEMPLATE["Parameters"]["Stage"]
    assert stage["AllowedValues"] == ["dev", "staging", "prod"]
    assert stage["Default"] in stage["AllowedValues"]
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    for name in stage["AllowedValues"]:
        assert f'Stage="{name}"' in config[name]["deploy"]["parameters"]["parameter_overrides"]


@pytest.mark.parametrize("table", sorted(of_type("AWS::DynamoDB::Table")))
def test_tables_are_retained_and_deletion_protected_in_prod(table: str) -> None:
    assert RESOURCES[table]["DeletionPolicy"] == "Retain"
    assert RESOURCES[table]["Properties"]["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}


def test_each_check_fails_on_a_template_without_it() -> None:
    """The helpers above see a missing alarm (so the checks can fail)."""
    without = {k: v for k, v in ALARMS.items() if k != "CreditsFunctionErrorsAlarm"}
    assert {"FunctionName": {"Ref": "CreditsFunction"}} not in alarms_on("AWS/Lambda", "Errors", without)
    without = {k: v for k, v in ALARMS.items() if k != "CaptureNeedsAttentionAlarm"}
    assert alarms_on("WooBackend", "CaptureNeedsAttention", without) == []


def test_the_layer_pins_every_runtime_dependency_and_the_venv_runs_them() -> None:
    """``sam build`` installs layers/shared/requirements.txt: exact pins only, no AWS SDK (the functions use the
    runtime's boto3; a botocore of the layer's own would mix with it), and the tests' venv has these very versions."""
    from importlib.metadata import version

    lines = [line.strip() for line in (ROOT / "layers/shared/requirements.txt").read_text().splitlines()]
    pins = dict(line.split("==", 1) for line in lines if line and not line.startswith("#"))
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+", n) and re.fullmatch(r"[0-9][A-Za-z0-9.]*", v) for n, v in pins.items())
    names = {n.lower().replace("_", "-") for n in pins}
    assert {"aws-lambda-powertools", "pydantic", "httpx"} <= names
    assert not names & {"boto3", "botocore", "s3transfer", "aws-xray-sdk"}
    assert {n: version(n) for n in pins} == pins
