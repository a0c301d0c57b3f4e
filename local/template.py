"""Reads ``template.yaml``: functions, their HTTP routes and schedules, tables, environment.

The local runtime and the tests take every definition from here, so they cannot drift from the
template that is deployed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short-form tags (``!Ref X`` -> ``{"Ref": "X"}``)."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{([A-Za-z0-9_]+)\\\+\\\}", r"(?P<\1>.+)", re.escape(self.path))
        regex = re.sub(r"\\\{([A-Za-z0-9_]+)\\\}", r"(?P<\1>[^/]+)", regex)
        return re.compile(f"^{regex}$")

    @property
    def specificity(self) -> tuple[int, int]:
        # API Gateway prefers literal segments over variables: count literal characters.
        literal = re.sub(r"\{[^}]+\}", "", self.path)
        return (len(literal), -self.path.count("{"))


@dataclass(frozen=True)
class Schedule:
    name: str
    function: str
    expression: str
    input: str | None

    @property
    def interval_seconds(self) -> float | None:
        match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", self.expression)
        if not match:
            return None
        unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
        return int(match.group(1)) * unit


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_uri: Path
    handler: str
    timeout: int
    environment: dict[str, Any] = field(default_factory=dict)

    @property
    def module_path(self) -> Path:
        return self.code_uri / (self.handler.rsplit(".", 1)[0] + ".py")

    @property
    def handler_name(self) -> str:
        return self.handler.rsplit(".", 1)[1]

    @property
    def local_environment(self) -> dict[str, str]:
        """The environment without the ``*_PARAM`` variables (SSM parameter names, which only AWS has; locally
        each secret is set itself) and without the empty ones (declared for ``sam local``'s env.json: locally the
        process environment fills them, e.g. the SDK's endpoints)."""
        return {k: v for k, v in self.environment.items() if not k.endswith("_PARAM") and v != ""}


@cache
def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open() as fh:
        loaded: dict[str, Any] = yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
        return loaded


def _resources(kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in load_template()["Resources"].items() if v["Type"] == kind}


def parameter_defaults() -> dict[str, str]:
    return {k: str(v.get("Default", "")) for k, v in load_template().get("Parameters", {}).items()}


def resolve(value: Any, refs: dict[str, str]) -> str | None:
    """Resolve the few intrinsic functions the environment uses; ``None`` drops the variable."""
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, dict) and "Ref" in value:
        ref = value["Ref"]
        return None if ref == "AWS::NoValue" else refs.get(ref, ref)
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = value["Fn::Sub"]
        return re.sub(r"\$\{([^}]+)\}", lambda m: refs.get(m.group(1), m.group(1)), text)
    if isinstance(value, dict) and "Fn::If" in value:
        return None  # only used for optional secrets, which come from the local environment
    return None


def functions() -> dict[str, Function]:
    template = load_template()
    globals_fn = template.get("Globals", {}).get("Function", {})
    refs = {**parameter_defaults(), "AWS::StackName": "woo-backend-local", "AWS::Region": "us-east-1"}
    refs.update({name: name for name in template["Resources"]})  # a table's local name is its logical id
    out: dict[str, Function] = {}
    for logical_id, res in _resources("AWS::Serverless::Function").items():
        props = res["Properties"]
        env_raw = {
            **globals_fn.get("Environment", {}).get("Variables", {}),
            **props.get("Environment", {}).get("Variables", {}),
        }
        env = {k: v for k, v in ((k, resolve(v, refs)) for k, v in env_raw.items()) if v is not None}
        out[logical_id] = Function(
            logical_id=logical_id,
            code_uri=ROOT / props["CodeUri"],
            handler=props["Handler"],
            timeout=int(props.get("Timeout", globals_fn.get("Timeout", 3))),
            environment=env,
        )
    return out


def routes() -> list[Route]:
    found = []
    for logical_id, res in _resources("AWS::Serverless::Function").items():
        for event in res["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                found.append(Route(event["Properties"]["Method"].upper(), event["Properties"]["Path"], logical_id))
    return sorted(found, key=lambda r: r.specificity, reverse=True)


def schedules() -> list[Schedule]:
    found = []
    for logical_id, res in _resources("AWS::Serverless::Function").items():
        for name, event in res["Properties"].get("Events", {}).items():
            if event["Type"] in ("ScheduleV2", "Schedule"):
                p = event["Properties"]
                found.append(Schedule(f"{logical_id}.{name}", logical_id, p["ScheduleExpression"], p.get("Input")))
    return found


def tables() -> dict[str, dict[str, Any]]:
    """CreateTable arguments for every ``AWS::DynamoDB::Table``, named by logical id."""
    out = {}
    for logical_id, res in _resources("AWS::DynamoDB::Table").items():
        p = res["Properties"]
        args: dict[str, Any] = {
            "TableName": logical_id,
            "KeySchema": p["KeySchema"],
            "AttributeDefinitions": p["AttributeDefinitions"],
            "BillingMode": p.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if p.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = p["GlobalSecondaryIndexes"]
        out[logical_id] = {"create": args, "ttl": p.get("TimeToLiveSpecification")}
    return out


def create_tables(client: Any) -> list[str]:
    """Create the template's tables (and their TTL settings) where missing."""
    existing = set(client.list_tables()["TableNames"])
    created = []
    for name, spec in tables().items():
        if name in existing:
            continue
        client.create_table(**spec["create"])
        if spec["ttl"]:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=spec["ttl"])
        created.append(name)
    return created


@dataclass(frozen=True)
class Cors:
    origins: tuple[str, ...]
    methods: tuple[str, ...]
    headers: tuple[str, ...]
    max_age: int

    def allows(self, origin: str) -> bool:
        return "*" in self.origins or origin in self.origins


def cors() -> Cors | None:
    """The HTTP API's ``CorsConfiguration`` (``LOCAL_ALLOWED_ORIGINS`` overrides the origins locally)."""
    for res in _resources("AWS::Serverless::HttpApi").values():
        config = res["Properties"].get("CorsConfiguration")
        if not config:
            continue
        raw_origins = config.get("AllowOrigins", [])
        if isinstance(raw_origins, dict) and "Ref" in raw_origins:
            raw_origins = parameter_defaults().get(raw_origins["Ref"], "").split(",")
        local = os.environ.get("LOCAL_ALLOWED_ORIGINS")
        origins = local.split(",") if local else raw_origins
        return Cors(
            origins=tuple(o.strip() for o in origins if o.strip()),
            methods=tuple(m.upper() for m in config.get("AllowMethods", [])),
            headers=tuple(h.lower() for h in config.get("AllowHeaders", [])),
            max_age=int(config.get("MaxAge", 0)),
        )
    return None
