"""Routing invariants checked before anything is synthesized.

An ALB evaluates a listener's rules from the lowest priority number up and stops at the first
match, so a header (or weighted) rule only takes effect if it sits before every legacy rule that
matches the same requests. AWS accepts a listener whose rules shadow each other silently; these
checks turn such a configuration into a synth error instead of a routing surprise in production.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from infra import patterns
from infra.config_error import ConfigError

# ALB accepts rule priorities 1-50000 per listener.
MIN_PRIORITY = 1
MAX_PRIORITY = 50_000

# Target group names: at most 32 alphanumerics or hyphens, not starting or ending with a hyphen.
TARGET_GROUP_NAME_MAX_LENGTH = 32
_TARGET_GROUP_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")

# "new" forwards to the service (or splits with legacy); "legacy" is the rule a new rule shadows.
RuleKind = Literal["new", "legacy"]


@dataclass(frozen=True, kw_only=True)
class PlannedRule:
    """A listener rule as the settings describe it, before it becomes a CloudFormation resource."""

    route_key: str
    kind: RuleKind
    priority: int
    path_pattern: str
    method: str
    # Host header patterns; empty means any host.
    hosts: tuple[str, ...] = ()

    @property
    def own(self) -> bool:
        """Whether this stack creates the rule (legacy rules may belong to another stack)."""
        return self.kind != "legacy"

    def describe(self) -> str:
        host = f" host {'|'.join(self.hosts)}" if self.hosts else ""
        return f"{self.kind} rule {self.priority} ({self.method} {self.path_pattern}{host})"


def check_priorities_unique(
    where: str, rules: Sequence[PlannedRule], *, legacy_rules_shared: bool = False
) -> None:
    """One rule per priority. Routes may share one legacy rule (a catch-all another stack owns)
    when ``legacy_rules_shared``; a stack that declares its legacy rules needs one per route."""
    seen: dict[int, PlannedRule] = {}
    for rule in sorted(rules, key=lambda rule: not rule.own):
        if not MIN_PRIORITY <= rule.priority <= MAX_PRIORITY:
            raise ConfigError(
                f"{where}: priority {rule.priority} of route {rule.route_key!r} is outside "
                f"the ALB range {MIN_PRIORITY}-{MAX_PRIORITY}"
            )
        other = seen.get(rule.priority)
        shared_legacy = legacy_rules_shared and not rule.own and not other.own if other else False
        if other is not None and not shared_legacy:
            raise ConfigError(
                f"{where}: duplicate priority {rule.priority}: used by the {other.kind} rule of "
                f"route {other.route_key!r} and the {rule.kind} rule of route {rule.route_key!r}"
            )
        seen.setdefault(rule.priority, rule)


def check_new_rules_precede_legacy(where: str, rules: Sequence[PlannedRule]) -> None:
    """Every rule this stack adds must be evaluated before each legacy rule matching the same
    requests."""
    own_rules = [rule for rule in rules if rule.own]
    legacy_rules = [rule for rule in rules if not rule.own]
    for new in own_rules:
        for legacy in legacy_rules:
            if not requests_overlap(new, legacy):
                continue
            if new.priority >= legacy.priority:
                raise ConfigError(
                    f"{where}: the {new.describe()} of route {new.route_key!r} would be "
                    f"shadowed by the {legacy.describe()} of route {legacy.route_key!r}; "
                    f"a new rule needs a lower priority number than the legacy rule it overrides"
                )


def check_new_rules_keep_the_legacy_order(where: str, rules: Sequence[PlannedRule]) -> None:
    """Two new rules matching some request in common are evaluated in the order of the legacy
    rules they shadow. ALB patterns cannot exclude (``*`` matches ``/``), so a wider rule first
    would take the narrower route's requests and, in weighted mode, split them towards the wider
    route's legacy target group, which may not serve them (the score rule and the history)."""
    legacy_of = {rule.route_key: rule for rule in rules if rule.kind == "legacy"}
    new_rules = sorted((rule for rule in rules if rule.kind == "new"), key=lambda r: r.priority)
    for index, first in enumerate(new_rules):
        for second in new_rules[index + 1 :]:
            first_legacy, second_legacy = legacy_of[first.route_key], legacy_of[second.route_key]
            if first_legacy.priority <= second_legacy.priority:
                continue
            if requests_overlap(first, second):
                raise ConfigError(
                    f"{where}: the {first.describe()} of route {first.route_key!r} comes before "
                    f"the {second.describe()} of route {second.route_key!r}, but the legacy rules "
                    f"they shadow are in the other order ({first_legacy.priority} after "
                    f"{second_legacy.priority}): it would take the other route's requests"
                )


def check_weights(where: str, *, new: int, legacy: int) -> None:
    for name, weight in (("new", new), ("legacy", legacy)):
        if not 0 <= weight <= 100:
            raise ConfigError(f"{where}.{name}: weight {weight} is outside 0-100")
    if new + legacy != 100:
        raise ConfigError(
            f"{where}: weights must sum to 100, got new={new} + legacy={legacy} = {new + legacy}"
        )


def check_target_group_name(where: str, name: str) -> None:
    if len(name) > TARGET_GROUP_NAME_MAX_LENGTH:
        raise ConfigError(
            f"{where}: target group name {name!r} is {len(name)} characters; "
            f"AWS allows at most {TARGET_GROUP_NAME_MAX_LENGTH}"
        )
    if not _TARGET_GROUP_NAME.match(name):
        raise ConfigError(
            f"{where}: target group name {name!r} must be alphanumerics and hyphens, "
            f"not starting or ending with a hyphen"
        )


def requests_overlap(a: PlannedRule, b: PlannedRule) -> bool:
    return (
        a.method == b.method
        and patterns_overlap(a.path_pattern, b.path_pattern)
        and hosts_overlap(a.hosts, b.hosts)
    )


def hosts_overlap(a: Sequence[str], b: Sequence[str]) -> bool:
    """Whether some host matches both host conditions (empty: any host; case-insensitive)."""
    if not a or not b:
        return True
    return any(patterns_overlap(x.lower(), y.lower()) for x in a for y in b)


def patterns_overlap(a: str, b: str) -> bool:
    """Whether some path matches both ALB path patterns (``*`` any run, ``?`` one character)."""
    return patterns.overlap(patterns.alb(a), patterns.alb(b))
