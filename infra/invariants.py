"""Routing invariants checked before anything is synthesized.

An ALB evaluates a listener's rules from the lowest priority number up and stops at the first
match, so a header (or weighted) rule only takes effect if it sits before every legacy rule that
matches the same requests. AWS accepts a listener whose rules shadow each other silently; these
checks turn such a configuration into a synth error instead of a routing surprise in production.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from infra.config_error import ConfigError

# ALB accepts rule priorities 1-50000 per listener.
MIN_PRIORITY = 1
MAX_PRIORITY = 50_000

# Target group names: at most 32 alphanumerics or hyphens, not starting or ending with a hyphen.
TARGET_GROUP_NAME_MAX_LENGTH = 32
_TARGET_GROUP_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")

RuleKind = Literal["new", "legacy"]


@dataclass(frozen=True, kw_only=True)
class PlannedRule:
    """A listener rule as the settings describe it, before it becomes a CloudFormation resource."""

    route_key: str
    kind: RuleKind
    priority: int
    path_pattern: str
    method: str

    def describe(self) -> str:
        return f"{self.kind} rule {self.priority} ({self.method} {self.path_pattern})"


def check_priorities_unique(where: str, rules: Sequence[PlannedRule]) -> None:
    seen: dict[int, PlannedRule] = {}
    for rule in rules:
        if not MIN_PRIORITY <= rule.priority <= MAX_PRIORITY:
            raise ConfigError(
                f"{where}: priority {rule.priority} of route {rule.route_key!r} is outside "
                f"the ALB range {MIN_PRIORITY}-{MAX_PRIORITY}"
            )
        other = seen.get(rule.priority)
        if other is not None:
            raise ConfigError(
                f"{where}: duplicate priority {rule.priority}: used by the {other.kind} rule of "
                f"route {other.route_key!r} and the {rule.kind} rule of route {rule.route_key!r}"
            )
        seen[rule.priority] = rule


def check_new_rules_precede_legacy(where: str, rules: Sequence[PlannedRule]) -> None:
    """Every new rule must be evaluated before each legacy rule matching the same requests."""
    new_rules = [rule for rule in rules if rule.kind == "new"]
    legacy_rules = [rule for rule in rules if rule.kind == "legacy"]
    for new in new_rules:
        for legacy in legacy_rules:
            if not _requests_overlap(new, legacy):
                continue
            if new.priority >= legacy.priority:
                raise ConfigError(
                    f"{where}: the {new.describe()} of route {new.route_key!r} would be "
                    f"shadowed by the {legacy.describe()} of route {legacy.route_key!r}; "
                    f"a new rule needs a lower priority number than the legacy rule it overrides"
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


def _requests_overlap(a: PlannedRule, b: PlannedRule) -> bool:
    return a.method == b.method and patterns_overlap(a.path_pattern, b.path_pattern)


def patterns_overlap(a: str, b: str) -> bool:
    """Whether some path matches both ALB path patterns (``*`` any run, ``?`` one character).

    A search over pairs of positions in the two patterns: the product of the two patterns'
    automata. It is exact, so a rule is only reported when a real request could hit both.
    """
    start = (0, 0)
    seen = {start}
    stack = [start]
    while stack:
        i, j = stack.pop()
        if i == len(a) and j == len(b):
            return True
        for nxt in _successors(a, b, i, j):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def _successors(a: str, b: str, i: int, j: int) -> Iterable[tuple[int, int]]:
    a_char = a[i] if i < len(a) else None
    b_char = b[j] if j < len(b) else None
    # A star may match nothing.
    if a_char == "*":
        yield (i + 1, j)
    if b_char == "*":
        yield (i, j + 1)
    if a_char is None or b_char is None:
        return
    # Otherwise both patterns consume the same character, if one exists that both accept.
    if a_char not in "*?" and b_char not in "*?" and a_char != b_char:
        return
    next_i = i if a_char == "*" else i + 1
    next_j = j if b_char == "*" else j + 1
    yield (next_i, next_j)
