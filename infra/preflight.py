"""The synthesized routing plan against a listener's live rules: what would go wrong on deploy.

Synth and the invariants only know ``cdk.json``. A listener also holds rules no stack of ours
declares: the platform's own routing, and rules that outlived the stack that made them. Four
things can go wrong with those, each reported as one problem naming priority, rule ARN and path:

- a planned priority is held by a rule this stack does not own (the deploy fails with
  ``PriorityInUse``);
- a live rule at a lower number matches every request a planned rule matches (the planned rule
  is never evaluated);
- a planned rule takes requests that a live rule at a higher number sends elsewhere: paths this
  service does not serve, or requests the platform deliberately answers itself (a fixed
  response or a redirect);
- ``legacy_priority`` or ``legacy_target_group_arn`` in ``cdk.json`` is not what the live rule
  the planned rule shadows actually has.

Everything here is pure: the caller supplies both rule lists (``alb_rules.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from infra import alb_rules, patterns
from infra.alb_rules import OWNER_TAG_KEY, AlbRule
from infra.settings import ListenerSettings

# HTTP method -> the Falcon templates the service serves with it.
ServedRoutes = Mapping[str, Sequence[str]]


@dataclass(frozen=True, kw_only=True)
class Problem:
    listener: str
    priority: int | None
    rule_arn: str
    path: str
    message: str

    def line(self) -> str:
        priority = "default" if self.priority is None else str(self.priority)
        return (
            f"{self.listener} listener, priority {priority}, rule {self.rule_arn}, "
            f"path {self.path}: {self.message}"
        )


def check_listener(
    listener: ListenerSettings,
    *,
    planned: Sequence[AlbRule],
    live: Sequence[AlbRule],
    stack_name: str,
    served: ServedRoutes,
) -> list[Problem]:
    foreign = sorted(
        (
            rule
            for rule in live
            if rule.priority is not None and rule.tags.get(OWNER_TAG_KEY) != stack_name
        ),
        key=lambda rule: rule.priority or 0,
    )
    check = _ListenerCheck(listener=listener, planned=planned, foreign=foreign, served=served)
    problems = []
    for rule in planned:
        problems += check.held(rule)
        problems += check.shadowed(rule)
        problems += check.captures(rule)
    if not listener.declare_legacy_rules:
        problems += check.legacy_settings()
    return problems


@dataclass(frozen=True, kw_only=True)
class _ListenerCheck:
    listener: ListenerSettings
    planned: Sequence[AlbRule]
    foreign: Sequence[AlbRule]
    served: ServedRoutes

    def _problem(self, rule: AlbRule, message: str) -> Problem:
        return Problem(
            listener=self.listener.name,
            priority=rule.priority,
            rule_arn=rule.arn,
            path=" ".join(rule.path_patterns) or "*",
            message=message,
        )

    def held(self, planned: AlbRule) -> list[Problem]:
        for live in self.foreign:
            if live.priority == planned.priority:
                return [
                    self._problem(
                        live,
                        f"held by a rule this stack does not own ({live.describe()}); the "
                        f"planned rule ({planned.describe()}) cannot be created there "
                        "(PriorityInUse): delete the stale rule or choose another priority",
                    )
                ]
        return []

    def shadowed(self, planned: AlbRule) -> list[Problem]:
        for live in self.foreign:
            assert live.priority is not None and planned.priority is not None
            if live.priority < planned.priority and alb_rules.covers(live, planned):
                return [
                    self._problem(
                        live,
                        f"matches every request of planned rule {planned.priority} "
                        f"({planned.describe()}) and is evaluated first: the planned rule "
                        "would never be evaluated",
                    )
                ]
        return []

    def captures(self, planned: AlbRule) -> list[Problem]:
        """Requests the planned rule would take from a later, more specific live rule."""
        if not planned.forwards_to_stack:
            return []
        assert planned.priority is not None
        problems = []
        for live in self.foreign:
            assert live.priority is not None
            if live.priority <= planned.priority or alb_rules.covers(live, planned):
                # A broader rule behind the planned one is the rule it is meant to shadow.
                continue
            request = self._taken(planned, live, refused=live.action != "forward")
            if request is None:
                continue
            if live.action == "forward":
                why = "sends it elsewhere, and this service does not serve it"
            else:
                why = f"answers it itself ({live.action})"
            problems.append(
                self._problem(
                    live,
                    f"planned rule {planned.priority} ({planned.describe()}) would take "
                    f"{request}, which this live rule ({live.describe()}) {why}",
                )
            )
        return problems

    def legacy_settings(self) -> list[Problem]:
        problems = []
        by_priority = {rule.priority: rule for rule in self.planned}
        for route in self.listener.routes:
            planned = by_priority.get(route.priority)
            if planned is None:
                continue
            shadowed = self._shadowed_live_rule(planned)
            if shadowed is None:
                problems.append(
                    self._problem(
                        planned,
                        f"cdk.json names legacy rule {route.legacy_priority} for route "
                        f"{route.route.key!r}, but no live rule after the planned one "
                        f"({planned.describe()}) takes its requests",
                    )
                )
                continue
            if shadowed.priority != route.legacy_priority:
                problems.append(
                    self._problem(
                        shadowed,
                        f"the planned rule {planned.priority} of route {route.route.key!r} "
                        f"shadows this live rule ({shadowed.describe()}), but cdk.json says "
                        f"legacy_priority {route.legacy_priority}",
                    )
                )
            if route.legacy_target_group_arn not in shadowed.target_groups:
                sends = ", ".join(shadowed.target_groups) or shadowed.action
                problems.append(
                    self._problem(
                        shadowed,
                        f"cdk.json's legacy_target_group_arn for route {route.route.key!r} "
                        f"({route.legacy_target_group_arn}) is not where the live rule it "
                        f"shadows sends requests ({sends})",
                    )
                )
        return problems

    def _shadowed_live_rule(self, planned: AlbRule) -> AlbRule | None:
        """The first live rule after ``planned`` that takes requests ``planned`` takes."""
        for live in self.foreign:
            assert live.priority is not None and planned.priority is not None
            if live.priority <= planned.priority:
                continue
            # A new rule shadows the live rule taking requests it serves.
            if self._taken(planned, live, refused=True, served=planned.forwards_to_stack):
                return live
        return None

    def _taken(
        self, planned: AlbRule, live: AlbRule, *, refused: bool, served: bool = False
    ) -> str | None:
        """A request both rules match that reaches ``planned`` (no earlier planned rule takes
        it first): with ``refused``, any such request; otherwise one the service does not serve,
        or, with ``served``, one it serves."""
        methods = alb_rules.shared_methods(planned, live)
        if methods is not None and not methods:
            return None
        if not (alb_rules.hosts_meet(planned, live) and alb_rules.headers_meet(planned, live)):
            return None
        taken_earlier = [
            path
            for earlier in self.planned
            if (earlier.priority or 0) < (planned.priority or 0)
            and _covers_apart_from_path(earlier, planned)
            for path in earlier.path_set()
        ]
        for method in sorted(methods if methods is not None else self.served):
            templates = [patterns.falcon(template) for template in self.served.get(method, ())]
            for planned_path in planned.path_set():
                for live_path in live.path_patterns or ("*",):
                    found = _first_witness(
                        planned_path, live_path, templates, taken_earlier,
                        refused=refused, served=served,
                    )  # fmt: skip
                    if found is not None:
                        return f"{method} {found}"
        return None


def _first_witness(
    planned_path: patterns.Pattern,
    live_path: str,
    templates: list[patterns.Pattern],
    taken_earlier: list[patterns.Pattern],
    *,
    refused: bool,
    served: bool,
) -> str | None:
    # Prefer an example where each '*' of the live rule stands for something.
    for live in (patterns.alb_non_empty(live_path), patterns.alb(live_path)):
        if served:
            for template in templates:
                found = patterns.witness([planned_path, live, template], taken_earlier)
                if found is not None:
                    return found
        elif refused:
            found = patterns.witness([planned_path, live], taken_earlier)
            if found is not None:
                return found
        else:
            found = patterns.witness([planned_path, live], [*taken_earlier, *templates])
            if found is not None:
                return found
    return None


def _covers_apart_from_path(earlier: AlbRule, planned: AlbRule) -> bool:
    """Whether ``earlier`` takes every request ``planned`` matches on ``earlier``'s paths."""
    everywhere = AlbRule(**{**earlier.__dict__, "path_patterns": ()})
    return alb_rules.covers(everywhere, planned)
