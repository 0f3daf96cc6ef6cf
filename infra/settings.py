"""Typed settings of one deployment environment, read once from ``cdk.json`` context.

``load_environment`` turns the raw ``environments.<name>`` block into frozen dataclasses and
rejects a missing or wrong value with a ``ConfigError`` whose message names its context path.
Constructs receive these objects (or single fields of them) as keyword arguments and never read
context themselves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, cast

from infra import invariants
from infra.config_error import ConfigError
from infra.context_reader import ContextReader, Form, as_mapping
from infra.invariants import PlannedRule
from infra.routes import ListenerName, Route, listener_routes

CONTEXT_KEY = "environments"

DEFAULT_HEADER_NAME = "X-Use-Rust-Scorer"
DEFAULT_HEADER_VALUE = "true"
DEFAULT_OTEL_SERVICE_NAME = "passport-scorer"

RoutingMode = Literal["header", "weighted"]
ROUTING_MODES: tuple[RoutingMode, ...] = ("header", "weighted")

# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
     3288, 3653}
)  # fmt: skip

SETTINGS_SECRET_ENV = "SETTINGS_SECRET_ARN"  # noqa: S105 - a variable name, not a secret
OTEL_SERVICE_NAME_ENV = "OTEL_SERVICE_NAME"
EXEC_WRAPPER_ENV = "AWS_LAMBDA_EXEC_WRAPPER"
# What CDK's ADOT configuration sets EXEC_WRAPPER_ENV to (AdotLambdaExecWrapper.INSTRUMENT_HANDLER).
ADOT_EXEC_WRAPPER = "/opt/otel-instrument"
# Names the stack sets itself; a context value must not override them.
RESERVED_ENVIRONMENT_NAMES = frozenset(
    {SETTINGS_SECRET_ENV, OTEL_SERVICE_NAME_ENV, EXEC_WRAPPER_ENV}
)
# Lambda refuses a function whose environment (names and values) exceeds 4 KB.
LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096
# Settings the service reads from the secret; the template must never carry them.
SECRET_ENVIRONMENT_NAMES = frozenset(
    {"DATABASE_URL", "SECRET_KEY", "CGRANTS_API_TOKEN", "JWT_SECRET", "DEMO_API_KEY",
     "DEMO_API_KEY_ALIASES", "CELERY_BROKER_URL"}
)  # fmt: skip
_SECRET_WORDS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "PRIVATE")
# Names that contain one of those words but hold no secret: a public key and token lifetimes.
NON_SECRET_NAMES_WITH_SECRET_WORDS = frozenset(
    {"SIWE_JWT_PUBLIC_KEY", "ACCESS_TOKEN_LIFETIME", "SCORER_UI_ACCESS_TOKEN_LIFETIME"}
)

_ENV_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
_ACCOUNT = Form(re.compile(r"^\d{12}$"), "a 12-digit AWS account id")
_REGION = Form(re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d$"), "an AWS region (us-west-2)")
_AVAILABILITY_ZONE = Form(
    re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d[a-z]$"),
    "an availability zone (us-west-2a)",
)
_NAME_PREFIX = Form(
    re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"),
    "lowercase letters, digits and inner hyphens",
)
# AWS issues resource ids of 8 hex digits (older resources) or 17 (everything since 2018).
_HEX_ID = r"(?:[0-9a-f]{8}|[0-9a-f]{17})"
_VPC_ID = Form(re.compile(rf"^vpc-{_HEX_ID}$"), "a VPC id (vpc- and 8 or 17 hex digits)")
_SUBNET_ID = Form(
    re.compile(rf"^subnet-{_HEX_ID}$"), "a subnet id (subnet- and 8 or 17 hex digits)"
)
_SECURITY_GROUP_ID = Form(
    re.compile(rf"^sg-{_HEX_ID}$"), "a security group id (sg- and 8 or 17 hex digits)"
)
# Load balancer, listener and target group ids are 16 hex digits.
_ELB_ID = r"[0-9a-f]{16}"
_ARN_HEAD = r"^arn:aws[a-z-]*:{service}:(?P<region>[a-z0-9-]+):(?P<account>\d{{12}}):"
_LISTENER_ARN = Form(
    re.compile(
        _ARN_HEAD.format(service="elasticloadbalancing")
        + rf"listener/(?P<load_balancer>app/[A-Za-z0-9-]{{1,32}}/{_ELB_ID})/{_ELB_ID}$"
    ),
    "an ALB listener ARN (arn:aws:elasticloadbalancing:<region>:<account>:"
    "listener/app/<name>/<16 hex digits>/<16 hex digits>)",
)
_TARGET_GROUP_ARN = Form(
    re.compile(
        _ARN_HEAD.format(service="elasticloadbalancing")
        + rf"targetgroup/[A-Za-z0-9-]{{1,32}}/{_ELB_ID}$"
    ),
    "a target group ARN (arn:aws:elasticloadbalancing:<region>:<account>:"
    "targetgroup/<name>/<16 hex digits>)",
)
# A complete secret ARN, with the six random characters Secrets Manager appends, so the read
# grant names exactly one secret instead of a wildcard.
_SECRET_ARN = Form(
    re.compile(
        _ARN_HEAD.format(service="secretsmanager") + r"secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$"
    ),
    "a complete secret ARN, ending in the 6-character suffix "
    "(arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf)",
)
_TOPIC_ARN = Form(
    re.compile(_ARN_HEAD.format(service="sns") + r"[A-Za-z0-9_-]{1,256}$"),
    "an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)",
)
# RFC 9110 token characters; ALB allows header names up to 40 characters.
_HEADER_NAME = Form(
    re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,40}$"), "an HTTP header name of 1-40 characters"
)
# ALB host conditions: letters, digits, '-', '.', and the wildcards '*' and '?'.
_HOST_PATTERN = Form(
    re.compile(r"^[A-Za-z0-9*?.-]{1,128}$"), "a host pattern (*.example.com), up to 128 characters"
)
_NO_SPACES = Form(re.compile(r"^\S+$"), "a non-empty string without spaces")
_ENV_VAR_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True, kw_only=True)
class NetworkSettings:
    vpc_id: str
    private_subnet_ids: tuple[str, ...]
    # The availability zone of each private subnet, in the same order.
    availability_zones: tuple[str, ...]
    security_group_id: str


@dataclass(frozen=True, kw_only=True)
class FunctionSettings:
    memory_mb: int
    timeout_seconds: int
    reserved_concurrency: int | None
    log_retention_days: int
    otel_service_name: str
    settings_secret_arn: str
    service_environment: Mapping[str, str]

    def lambda_environment(self) -> dict[str, str]:
        """Every variable the function is created with, except the ADOT exec wrapper."""
        return {
            **self.service_environment,
            # The service reads this secret at cold start and overlays its JSON keys on the
            # environment, so no secret value is ever part of the template.
            SETTINGS_SECRET_ENV: self.settings_secret_arn,
            OTEL_SERVICE_NAME_ENV: self.otel_service_name,
        }


@dataclass(frozen=True, kw_only=True)
class AlarmSettings:
    topic_arn: str
    target_5xx_count: int
    target_response_time_p99_seconds: float
    lambda_errors: int
    lambda_throttles: int
    # Fraction of the function timeout at which p99 duration alarms.
    duration_p99_timeout_ratio: float


@dataclass(frozen=True, kw_only=True)
class RouteSettings:
    route: Route
    priority: int
    legacy_priority: int
    legacy_target_group_arn: str


@dataclass(frozen=True, kw_only=True)
class ListenerSettings:
    """One ALB's HTTPS listener and the scorer routes it sends to the new service."""

    name: ListenerName
    listener_arn: str
    security_group_id: str
    # The host condition of the listener's host-scoped routes (routes.py); empty: any host.
    hosts: tuple[str, ...]
    # False when another stack owns the legacy rules; their priorities are still checked.
    declare_legacy_rules: bool
    routes: tuple[RouteSettings, ...]

    def hosts_of(self, route: Route) -> tuple[str, ...]:
        return self.hosts if route.host_scoped else ()

    @property
    def load_balancer_full_name(self) -> str:
        """``app/<name>/<id>``, the ``LoadBalancer`` dimension of the ALB's metrics."""
        match = _LISTENER_ARN.pattern.match(self.listener_arn)
        if match is None:  # pragma: no cover - validated on load
            raise ConfigError(f"invalid listener ARN {self.listener_arn!r}")
        return match.group("load_balancer")

    def planned_rules(self) -> list[PlannedRule]:
        rules: list[PlannedRule] = []
        for route in self.routes:
            for kind, priority in (("new", route.priority), ("legacy", route.legacy_priority)):
                rules.append(
                    PlannedRule(
                        route_key=route.route.key,
                        kind=cast(invariants.RuleKind, kind),
                        priority=priority,
                        path_pattern=route.route.path_pattern,
                        method=route.route.method,
                        hosts=self.hosts_of(route.route),
                    )
                )
        return rules


@dataclass(frozen=True, kw_only=True)
class Weights:
    new: int
    legacy: int


@dataclass(frozen=True, kw_only=True)
class RoutingSettings:
    mode: RoutingMode
    header_name: str
    header_value: str
    # Required in weighted mode; ignored in header mode.
    weights: Weights | None
    public: ListenerSettings
    internal: ListenerSettings

    @property
    def listeners(self) -> tuple[ListenerSettings, ListenerSettings]:
        return (self.public, self.internal)


@dataclass(frozen=True, kw_only=True)
class EnvironmentSettings:
    name: str
    account: str
    region: str
    name_prefix: str
    tags: Mapping[str, str]
    network: NetworkSettings
    function: FunctionSettings
    alarms: AlarmSettings
    routing: RoutingSettings

    @property
    def stack_name(self) -> str:
        return self.name_prefix

    def target_group_name(self, listener: ListenerSettings) -> str:
        return f"{self.name_prefix}-{listener.name}"


def environment_names(environments: object) -> list[str]:
    """The environments defined under the ``environments`` context key."""
    return list(as_mapping(environments, CONTEXT_KEY))


def load_environment(environments: object, name: str) -> EnvironmentSettings:
    """Read ``environments.<name>``; raise ``ConfigError`` naming any missing or bad value.

    ``environments`` is the value of the ``environments`` context key.
    """
    environments = as_mapping(environments, CONTEXT_KEY)
    if name not in environments:
        known = ", ".join(environments) or "none"
        raise ConfigError(f"{CONTEXT_KEY}.{name}: unknown environment (known: {known})")
    if not _ENV_NAME.match(name):
        raise ConfigError(f"{CONTEXT_KEY}.{name}: environment names are lowercase a-z, 0-9, -")
    block = ContextReader(
        as_mapping(environments[name], f"{CONTEXT_KEY}.{name}"), f"{CONTEXT_KEY}.{name}"
    )

    account = block.string("account", form=_ACCOUNT)
    region = block.string("region", form=_REGION)
    arns = _ArnCheck(account=account, region=region)
    name_prefix = block.string("name_prefix", form=_NAME_PREFIX, default=f"scorer-{name}")
    settings = EnvironmentSettings(
        name=name,
        account=account,
        region=region,
        name_prefix=name_prefix,
        tags=_tags(block.child("tags", default={})),
        network=_network(block.child("network"), region),
        function=_function(block, arns),
        alarms=_alarms(block.child("alarms"), arns),
        routing=_routing(block.child("routing"), arns),
    )
    block.finish()
    for listener in settings.routing.listeners:
        invariants.check_target_group_name(
            f"{block.path}.name_prefix", settings.target_group_name(listener)
        )
    return settings


def _network(block: ContextReader, region: str) -> NetworkSettings:
    subnets = block.string_list("private_subnet_ids", form=_SUBNET_ID)
    zones = block.string_list("availability_zones", form=_AVAILABILITY_ZONE, unique=False)
    if len(zones) != len(subnets):
        raise ConfigError(
            f"{block.path}.availability_zones: needs one zone per private subnet "
            f"({len(subnets)}), got {len(zones)}"
        )
    if not all(zone.startswith(region) for zone in zones):
        raise ConfigError(f"{block.path}.availability_zones: zones must be in {region}")
    settings = NetworkSettings(
        vpc_id=block.string("vpc_id", form=_VPC_ID),
        private_subnet_ids=subnets,
        availability_zones=zones,
        security_group_id=block.string("security_group_id", form=_SECURITY_GROUP_ID),
    )
    block.finish()
    return settings


def _function(env_block: ContextReader, arns: _ArnCheck) -> FunctionSettings:
    block = env_block.child("function")
    retention = block.integer("log_retention_days", minimum=1, maximum=3653)
    if retention not in LOG_RETENTION_DAYS:
        allowed = ", ".join(str(days) for days in sorted(LOG_RETENTION_DAYS))
        raise ConfigError(
            f"{block.path}.log_retention_days: {retention} is not a CloudWatch Logs retention "
            f"period ({allowed})"
        )
    reserved = block.optional_integer("reserved_concurrency", minimum=1, maximum=100_000)
    settings = FunctionSettings(
        memory_mb=block.integer("memory_mb", minimum=128, maximum=10_240),
        timeout_seconds=block.integer("timeout_seconds", minimum=1, maximum=900),
        reserved_concurrency=reserved,
        log_retention_days=retention,
        otel_service_name=block.string(
            "otel_service_name", form=_NO_SPACES, default=DEFAULT_OTEL_SERVICE_NAME
        ),
        settings_secret_arn=arns.check(block, "settings_secret_arn", _SECRET_ARN),
        service_environment=_service_environment(
            env_block.child("service_environment", default={})
        ),
    )
    block.finish()
    _check_database_timeouts_fit(settings, where=block.path)
    _check_environment_fits(settings, where=env_block.path)
    return settings


def _check_environment_fits(settings: FunctionSettings, *, where: str) -> None:
    variables = {**settings.lambda_environment(), EXEC_WRAPPER_ENV: ADOT_EXEC_WRAPPER}
    size = sum(len(name.encode()) + len(value.encode()) for name, value in variables.items())
    if size > LAMBDA_ENVIRONMENT_LIMIT_BYTES:
        largest = sorted(variables, key=lambda name: len(variables[name].encode()), reverse=True)
        raise ConfigError(
            f"{where}.service_environment: the function's environment is {size} bytes, over "
            f"Lambda's limit of {LAMBDA_ENVIRONMENT_LIMIT_BYTES} (largest: "
            f"{', '.join(largest[:3])}); move large values to the settings secret"
        )


# The service's defaults (service/plumbing/settings.py) when the environment does not set them.
SERVICE_DEFAULT_STATEMENT_TIMEOUT_MS = 10_000
SERVICE_DEFAULT_CONNECT_TIMEOUT_S = 5.0


def _check_database_timeouts_fit(settings: FunctionSettings, *, where: str) -> None:
    """A hung database must fail a request with the service's own 503/500 answer before Lambda
    kills the invocation (which the load balancer turns into a bare 502)."""
    env = settings.service_environment
    try:
        statement_ms = int(env.get("DB_STATEMENT_TIMEOUT_MS", SERVICE_DEFAULT_STATEMENT_TIMEOUT_MS))
        connect_s = float(env.get("DB_CONNECT_TIMEOUT", SERVICE_DEFAULT_CONNECT_TIMEOUT_S))
    except ValueError:
        raise ConfigError(
            f"{where}: DB_STATEMENT_TIMEOUT_MS must be an integer and DB_CONNECT_TIMEOUT a number"
        ) from None
    budget_ms = settings.timeout_seconds * 1000
    if statement_ms <= 0 or statement_ms + connect_s * 1000 >= budget_ms:
        raise ConfigError(
            f"{where}: the database timeouts (DB_CONNECT_TIMEOUT {connect_s:g} s + "
            f"DB_STATEMENT_TIMEOUT_MS {statement_ms} ms) must end before the function's "
            f"timeout_seconds ({settings.timeout_seconds} s); raise the timeout or set lower "
            "database timeouts in service_environment"
        )


def _service_environment(block: ContextReader) -> dict[str, str]:
    result: dict[str, str] = {}
    for key in block.names():
        where = f"{block.path}.{key}"
        if not _ENV_VAR_NAME.match(key):
            raise ConfigError(f"{where}: not a valid environment variable name")
        if key in RESERVED_ENVIRONMENT_NAMES or key.startswith("AWS_"):
            raise ConfigError(f"{where}: set by the stack itself; remove it from the context")
        if _looks_secret(key):
            raise ConfigError(
                f"{where}: looks like a secret; put it in the settings secret "
                f"(function.settings_secret_arn), never in the template"
            )
        result[key] = block.env_value(key)
    block.finish()
    return result


def _looks_secret(key: str) -> bool:
    upper = key.upper()
    if upper in NON_SECRET_NAMES_WITH_SECRET_WORDS:
        return False
    return upper in SECRET_ENVIRONMENT_NAMES or any(word in upper for word in _SECRET_WORDS)


def _alarms(block: ContextReader, arns: _ArnCheck) -> AlarmSettings:
    settings = AlarmSettings(
        topic_arn=arns.check(block, "topic_arn", _TOPIC_ARN),
        target_5xx_count=block.integer("target_5xx_count", minimum=1, default=10),
        target_response_time_p99_seconds=block.number(
            "target_response_time_p99_seconds", minimum=0.001, default=3.0
        ),
        lambda_errors=block.integer("lambda_errors", minimum=1, default=5),
        lambda_throttles=block.integer("lambda_throttles", minimum=1, default=1),
        duration_p99_timeout_ratio=block.number(
            "duration_p99_timeout_ratio", minimum=0.01, maximum=1.0, default=0.8
        ),
    )
    block.finish()
    return settings


def _routing(block: ContextReader, arns: _ArnCheck) -> RoutingSettings:
    mode = block.string("mode")
    if mode not in ROUTING_MODES:
        raise ConfigError(f"{block.path}.mode: {mode!r} is not one of {', '.join(ROUTING_MODES)}")
    header_name = block.string("header_name", form=_HEADER_NAME, default=DEFAULT_HEADER_NAME)
    header_value = block.string("header_value", default=DEFAULT_HEADER_VALUE)
    if not 1 <= len(header_value) <= 128:
        raise ConfigError(f"{block.path}.header_value: must be 1-128 characters")
    weights: Weights | None = None
    if mode == "weighted" or block.has("weights"):
        weights_block = block.child("weights")
        weights = Weights(
            new=weights_block.integer("new", minimum=0, maximum=100),
            legacy=weights_block.integer("legacy", minimum=0, maximum=100),
        )
        weights_block.finish()
        invariants.check_weights(weights_block.path, new=weights.new, legacy=weights.legacy)
    settings = RoutingSettings(
        mode=mode,
        header_name=header_name,
        header_value=header_value,
        weights=weights,
        public=_listener(block.child("public_listener"), "public", arns),
        internal=_listener(block.child("internal_listener"), "internal", arns),
    )
    block.finish()
    return settings


def _listener(block: ContextReader, name: ListenerName, arns: _ArnCheck) -> ListenerSettings:
    listener_arn = arns.check(block, "listener_arn", _LISTENER_ARN)
    security_group_id = block.string("security_group_id", form=_SECURITY_GROUP_ID)
    hosts = block.string_list("hosts", form=_HOST_PATTERN) if block.has("hosts") else ()
    declare_legacy_rules = block.boolean("declare_legacy_rules")
    routes = listener_routes(name)
    scoped = [route.key for route in routes if route.host_scoped]
    if scoped and not hosts:
        raise ConfigError(
            f"{block.path}.hosts: missing (expected a non-empty list of host patterns); routes "
            f"{', '.join(scoped)} are scoped to the listener's hosts"
        )
    routes_block = block.child("routes")
    route_settings = []
    for route in routes:
        route_block = routes_block.child(route.key)
        route_settings.append(
            RouteSettings(
                route=route,
                priority=route_block.integer("priority"),
                legacy_priority=route_block.integer("legacy_priority"),
                legacy_target_group_arn=arns.check(
                    route_block, "legacy_target_group_arn", _TARGET_GROUP_ARN
                ),
            )
        )
        route_block.finish()
    routes_block.finish()
    block.finish()
    settings = ListenerSettings(
        name=name,
        listener_arn=listener_arn,
        security_group_id=security_group_id,
        hosts=hosts,
        declare_legacy_rules=declare_legacy_rules,
        routes=tuple(route_settings),
    )
    planned = settings.planned_rules()
    invariants.check_priorities_unique(
        block.path, planned, legacy_rules_shared=not declare_legacy_rules
    )
    invariants.check_new_rules_precede_legacy(block.path, planned)
    invariants.check_new_rules_keep_the_legacy_order(block.path, planned)
    _check_shared_legacy_rules(block.path, settings.routes)
    return settings


def _check_shared_legacy_rules(where: str, routes: tuple[RouteSettings, ...]) -> None:
    """Routes that name one legacy rule must agree on where it forwards."""
    by_priority: dict[int, RouteSettings] = {}
    for route in routes:
        first = by_priority.setdefault(route.legacy_priority, route)
        if first.legacy_target_group_arn != route.legacy_target_group_arn:
            raise ConfigError(
                f"{where}.routes.{route.route.key}.legacy_target_group_arn: legacy rule "
                f"{route.legacy_priority} is also route {first.route.key!r}'s, which names "
                f"{first.legacy_target_group_arn}; one rule forwards to one target group"
            )


def _tags(block: ContextReader) -> dict[str, str]:
    tags: dict[str, str] = {}
    for key in block.names():
        if not 1 <= len(key) <= 128 or key.lower().startswith("aws:"):
            raise ConfigError(f"{block.path}.{key}: tag keys are 1-128 characters, not 'aws:...'")
        value = block.string(key)
        if len(value) > 256:
            raise ConfigError(f"{block.path}.{key}: tag values are at most 256 characters")
        tags[key] = value
    block.finish()
    return tags


@dataclass(frozen=True)
class _ArnCheck:
    """ARNs must belong to the environment's own account and region."""

    account: str
    region: str

    def check(self, block: ContextReader, key: str, form: Form) -> str:
        arn = block.string(key, form=form)
        match = form.pattern.match(arn)
        assert match is not None
        if (match.group("account"), match.group("region")) != (self.account, self.region):
            raise ConfigError(
                f"{block.path}.{key}: {arn!r} is not in the environment's account "
                f"{self.account} and region {self.region}"
            )
        return arn


__all__ = [
    "AlarmSettings",
    "ConfigError",
    "EnvironmentSettings",
    "FunctionSettings",
    "ListenerSettings",
    "NetworkSettings",
    "RouteSettings",
    "RoutingSettings",
    "Weights",
    "environment_names",
    "load_environment",
]
