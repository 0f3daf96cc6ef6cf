"""Listener rules as the preflight compares them, from either side of a deploy.

``from_describe_rules`` reads what ``aws elbv2 describe-rules`` prints (or boto3 returns) for a
live listener; ``from_template`` reads the rules a synthesized stack would create. Both become
``AlbRule``: the request conditions that matter for routing, where the rule sends what it
matches, and its tags. The questions asked of two rules are set questions over patterns
(``patterns.py``): does one match every request the other matches, and which requests do both
match.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from infra import patterns

# Every rule a scorer stack creates carries this tag with the stack's name: the preflight tells
# the rules the stack may replace from rules another stack (or nobody) still holds.
OWNER_TAG_KEY = "passport-scorer:owner-stack"


@dataclass(frozen=True, kw_only=True)
class AlbRule:
    arn: str
    # None for the listener's default rule, which is evaluated last.
    priority: int | None
    path_patterns: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    # Header name (lower case) -> accepted values; every header condition must hold.
    headers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Conditions not modelled here (query-string, source-ip): a rule carrying one is never taken
    # to match every request another rule matches, so it is never blamed for shadowing.
    unmodelled_conditions: tuple[str, ...] = ()
    # Target group ARNs a forward action sends to; literal ARNs only (a template's own target
    # groups are references and show up in ``forwards_to_stack``).
    target_groups: tuple[str, ...] = ()
    forwards_to_stack: bool = False
    action: str = "forward"
    tags: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        methods = ",".join(self.methods) or "any method"
        paths = " ".join(self.path_patterns) or "any path"
        host = f" host {'|'.join(self.hosts)}" if self.hosts else ""
        headers = "".join(f" {name}: {'|'.join(values)}" for name, values in self.headers.items())
        return f"{methods} {paths}{host}{headers}"

    def path_set(self) -> list[patterns.Pattern]:
        return [patterns.alb(pattern) for pattern in self.path_patterns or ("*",)]

    def host_set(self) -> list[patterns.Pattern]:
        return [patterns.alb(host.lower()) for host in self.hosts or ("*",)]


def from_describe_rules(document: Mapping[str, Any]) -> list[AlbRule]:
    """The ``Rules`` of a ``describe-rules`` answer (CLI JSON or boto3), without tags."""
    rules = []
    for raw in document.get("Rules", []):
        priority = raw.get("Priority", "default")
        conditions = _conditions(raw.get("Conditions", []))
        forwards, action = _actions(raw.get("Actions", []))
        rules.append(
            AlbRule(
                arn=raw["RuleArn"],
                priority=None if raw.get("IsDefault") or priority == "default" else int(priority),
                target_groups=tuple(arn for arn in forwards if isinstance(arn, str)),
                action=action,
                **conditions,
            )
        )
    return rules


def from_template(template: Mapping[str, Any], listener_arn: str) -> list[AlbRule]:
    """The listener rules a synthesized template creates on ``listener_arn``."""
    rules = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::ElasticLoadBalancingV2::ListenerRule":
            continue
        properties = resource["Properties"]
        if properties["ListenerArn"] != listener_arn:
            continue
        forwards, action = _actions(properties["Actions"])
        rules.append(
            AlbRule(
                arn=f"(planned {logical_id})",
                priority=int(properties["Priority"]),
                target_groups=tuple(arn for arn in forwards if isinstance(arn, str)),
                forwards_to_stack=any(not isinstance(arn, str) for arn in forwards),
                action=action,
                tags={tag["Key"]: tag["Value"] for tag in properties.get("Tags", [])},
                **_conditions(properties["Conditions"]),
            )
        )
    return sorted(rules, key=lambda rule: rule.priority or 0)


def with_tags(rules: Sequence[AlbRule], tags: Mapping[str, Mapping[str, str]]) -> list[AlbRule]:
    return [AlbRule(**{**rule.__dict__, "tags": dict(tags.get(rule.arn, {}))}) for rule in rules]


def tags_from_describe_tags(document: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Rule ARN -> tags, from what ``aws elbv2 describe-tags`` prints."""
    return {
        entry["ResourceArn"]: {tag["Key"]: tag["Value"] for tag in entry.get("Tags", [])}
        for entry in document.get("TagDescriptions", [])
    }


def covers(live: AlbRule, planned: AlbRule) -> bool:
    """Whether ``live`` matches every request ``planned`` matches."""
    if live.unmodelled_conditions:
        return False
    if live.methods and not set(planned.methods or ("*",)) <= set(live.methods):
        return False
    if not all(patterns.covered(path, live.path_set()) for path in planned.path_set()):
        return False
    if not all(patterns.covered(host, live.host_set()) for host in planned.host_set()):
        return False
    for name, values in live.headers.items():
        planned_values = planned.headers.get(name)
        if planned_values is None:
            return False
        live_values = [patterns.alb(value.lower()) for value in values]
        if not all(patterns.covered(patterns.alb(v.lower()), live_values) for v in planned_values):
            return False
    return True


def shared_methods(a: AlbRule, b: AlbRule) -> set[str] | None:
    """Methods both rules match; None when neither has a method condition (any method)."""
    if not a.methods and not b.methods:
        return None
    if not a.methods:
        return set(b.methods)
    if not b.methods:
        return set(a.methods)
    return set(a.methods) & set(b.methods)


def hosts_meet(a: AlbRule, b: AlbRule) -> bool:
    return any(patterns.overlap(x, y) for x in a.host_set() for y in b.host_set())


def headers_meet(a: AlbRule, b: AlbRule) -> bool:
    for name in a.headers.keys() & b.headers.keys():
        if not any(
            patterns.overlap(patterns.alb(x.lower()), patterns.alb(y.lower()))
            for x in a.headers[name]
            for y in b.headers[name]
        ):
            return False
    return True


def _conditions(raw_conditions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    paths: list[str] = []
    methods: list[str] = []
    hosts: list[str] = []
    headers: dict[str, tuple[str, ...]] = {}
    unmodelled: list[str] = []
    for condition in raw_conditions:
        name = condition["Field"]
        if name == "path-pattern":
            paths += _values(condition, "PathPatternConfig")
        elif name == "http-request-method":
            methods += _values(condition, "HttpRequestMethodConfig")
        elif name == "host-header":
            hosts += _values(condition, "HostHeaderConfig")
        elif name == "http-header":
            config = condition["HttpHeaderConfig"]
            headers[config["HttpHeaderName"].lower()] = tuple(config["Values"])
        else:
            unmodelled.append(name)
    return {
        "path_patterns": tuple(paths),
        "methods": tuple(methods),
        "hosts": tuple(hosts),
        "headers": headers,
        "unmodelled_conditions": tuple(unmodelled),
    }


def _values(condition: Mapping[str, Any], config_key: str) -> list[str]:
    # describe-rules fills both the legacy Values list and the typed config; templates only the
    # typed config.
    config = condition.get(config_key)
    if config and config.get("Values"):
        return list(config["Values"])
    return list(condition.get("Values", []))


def _actions(actions: Sequence[Mapping[str, Any]]) -> tuple[list[Any], str]:
    """The target groups of the rule's final action, and that action's type."""
    final = max(actions, key=lambda action: action.get("Order", 0))
    kind = final["Type"]
    if kind != "forward":
        return [], kind
    config = final.get("ForwardConfig")
    if config and config.get("TargetGroups"):
        return [group["TargetGroupArn"] for group in config["TargetGroups"]], kind
    return [final["TargetGroupArn"]], kind
