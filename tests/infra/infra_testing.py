"""Helpers for the infra tests: the cdk.json context, variants of it, and template lookups."""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Before aws_cdk is imported anywhere: no end-of-life banner from jsii on Node 20.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from infra.app_factory import create_app

REPO_ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("review", "staging", "production")


def cdk_context() -> dict[str, Any]:
    """A fresh copy of the context block of cdk.json, safe to modify."""
    with (REPO_ROOT / "cdk.json").open(encoding="utf-8") as handle:
        context: dict[str, Any] = json.load(handle)["context"]
    return copy.deepcopy(context)


DELETE = object()


def set_path(context: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """Set (or, with ``value=DELETE``, remove) one nested context value; returns the context."""
    *parents, last = dotted.split(".")
    node = context
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return context


def build_app(context: dict[str, Any], *, env: str | None = None) -> App:
    overrides: dict[str, Any] = {"bundle": False}
    if env is not None:
        overrides["env"] = env
    return create_app(context={**context, **overrides})


def stack_of(app: App, stack_name: str) -> Stack:
    stack = app.node.find_child(stack_name)
    assert isinstance(stack, Stack)
    return stack


@dataclass(frozen=True)
class Synthesized:
    app: App
    assembly_dir: Path
    stacks: dict[str, Stack]
    templates: dict[str, Template]


def template_of(stack: Stack) -> Template:
    return Template.from_stack(stack)


def resources(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = template.find_resources(resource_type)
    return found


def only_resource(template: Template, resource_type: str) -> tuple[str, dict[str, Any]]:
    found = resources(template, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.items()))


def listener_rules(template: Template, listener_arn: str) -> dict[int, dict[str, Any]]:
    """The listener's rules in the template, by priority."""
    rules = resources(template, "AWS::ElasticLoadBalancingV2::ListenerRule").values()
    by_priority: dict[int, dict[str, Any]] = {}
    for rule in rules:
        properties = rule["Properties"]
        if properties["ListenerArn"] == listener_arn:
            assert properties["Priority"] not in by_priority
            by_priority[properties["Priority"]] = properties
    return by_priority


def forwards(rule: dict[str, Any]) -> list[tuple[Any, int | None]]:
    """(target group ARN or reference, weight) pairs of a rule's single forward action."""
    (action,) = rule["Actions"]
    assert action["Type"] == "forward"
    if "TargetGroupArn" in action:
        return [(action["TargetGroupArn"], None)]
    return [
        (group["TargetGroupArn"], group["Weight"])
        for group in action["ForwardConfig"]["TargetGroups"]
    ]


def conditions(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule's conditions by field: path patterns, methods and (name, values) of a header."""
    found: dict[str, Any] = {}
    for condition in rule["Conditions"]:
        field = condition["Field"]
        if field == "path-pattern":
            found[field] = condition["PathPatternConfig"]["Values"]
        elif field == "http-request-method":
            found[field] = condition["HttpRequestMethodConfig"]["Values"]
        elif field == "http-header":
            header = condition["HttpHeaderConfig"]
            found[field] = (header["HttpHeaderName"], header["Values"])
        else:
            found[field] = condition
    return found


def alb_matches(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    """One ALB pattern against one concrete value: ``*`` any run, ``?`` one character."""
    regex = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )
    flags = re.DOTALL | (0 if case_sensitive else re.IGNORECASE)
    return re.fullmatch(regex, value, flags) is not None


def first_matching_rule(
    rules: dict[int, dict[str, Any]],
    *,
    method: str,
    host: str,
    path: str,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]] | None:
    """The rule an ALB would pick for a request: the lowest priority whose conditions all hold."""
    sent = {name.lower(): value for name, value in (headers or {}).items()}
    for priority in sorted(rules):
        found = conditions(rules[priority])
        if "path-pattern" in found and not any(
            alb_matches(pattern, path) for pattern in found["path-pattern"]
        ):
            continue
        if "http-request-method" in found and method not in found["http-request-method"]:
            continue
        if "host-header" in found and not any(
            alb_matches(pattern, host, case_sensitive=False)
            for pattern in found["host-header"]["HostHeaderConfig"]["Values"]
        ):
            continue
        if "http-header" in found:
            name, values = found["http-header"]
            value = sent.get(name.lower())
            if value is None or not any(
                alb_matches(pattern, value, case_sensitive=False) for pattern in values
            ):
                continue
        return priority, rules[priority]
    return None
