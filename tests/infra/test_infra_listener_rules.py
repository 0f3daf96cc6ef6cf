"""Listener rules: header-routed (or weighted) rules ahead of the legacy rules they shadow."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Template
from infra_testing import (
    build_app,
    cdk_context,
    conditions,
    forwards,
    listener_rules,
    resources,
    set_path,
    stack_of,
)

from infra.settings import EnvironmentSettings, ListenerSettings

# (header rule, legacy rule, path, method), as the internal ALB must route them.
INTERNAL_TABLE = [
    (2090, 2100, "/internal/embed/stamps/*", "POST"),
    (2091, 2101, "/internal/embed/validate-api-key", "GET"),
    (2092, 2102, "/internal/score/v2/*", "GET"),
    (2093, 2103, "/internal/embed/score/*", "GET"),
]
PUBLIC_ROUTES = [
    ("/v2/stamps/*/score/*", "GET"),
    ("/ceramic-cache/stamps/bulk", "POST"),
    ("/ceramic-cache/score/*", "GET"),
]
HEADER = ("X-Use-Rust-Scorer", ["true"])


def target_group_ref(template: Template, name: str) -> dict[str, str]:
    for logical_id, group in resources(
        template, "AWS::ElasticLoadBalancingV2::TargetGroup"
    ).items():
        if group["Properties"]["Name"] == name:
            return {"Ref": logical_id}
    raise AssertionError(f"no target group named {name}")


def route_priorities(listener: ListenerSettings) -> list[tuple[int, int, str, str, str]]:
    return [
        (
            route.priority,
            route.legacy_priority,
            route.route.path_pattern,
            route.route.method,
            route.legacy_target_group_arn,
        )
        for route in listener.routes
    ]


def assert_new_rule(
    rule: dict[str, Any],
    *,
    path: str,
    method: str,
    settings: EnvironmentSettings,
    new_group: dict[str, str],
    legacy_arn: str,
) -> None:
    found = conditions(rule)
    assert found["path-pattern"] == [path]
    assert found["http-request-method"] == [method]
    if settings.routing.mode == "header":
        assert found["http-header"] == HEADER
        assert forwards(rule) == [(new_group, None)]
    else:
        weights = settings.routing.weights
        assert weights is not None
        assert "http-header" not in found
        assert forwards(rule) == [(new_group, weights.new), (legacy_arn, weights.legacy)]
        stickiness = rule["Actions"][0]["ForwardConfig"]["TargetGroupStickinessConfig"]
        assert stickiness == {"Enabled": True, "DurationSeconds": 3600}


def test_internal_rules_follow_the_routing_table(
    template: Template, settings: EnvironmentSettings
) -> None:
    listener = settings.routing.internal
    rules = listener_rules(template, listener.listener_arn)
    new_group = target_group_ref(template, f"{settings.name_prefix}-internal")
    configured = {(p, lp, path, m) for p, lp, path, m, _ in route_priorities(listener)}
    assert configured == set(INTERNAL_TABLE)
    for priority, _, path, method, legacy_arn in route_priorities(listener):
        assert_new_rule(
            rules[priority],
            path=path,
            method=method,
            settings=settings,
            new_group=new_group,
            legacy_arn=legacy_arn,
        )


def test_internal_legacy_rules_forward_requests_without_the_header(
    template: Template, settings: EnvironmentSettings
) -> None:
    listener = settings.routing.internal
    assert listener.declare_legacy_rules
    rules = listener_rules(template, listener.listener_arn)
    for _, legacy_priority, path, method, legacy_arn in route_priorities(listener):
        rule = rules[legacy_priority]
        assert conditions(rule) == {"path-pattern": [path], "http-request-method": [method]}
        assert forwards(rule) == [(legacy_arn, None)]
    assert sorted(rules) == [2090, 2091, 2092, 2093, 2100, 2101, 2102, 2103]


def test_public_rules_shadow_the_legacy_rules_of_another_stack(
    template: Template, settings: EnvironmentSettings
) -> None:
    listener = settings.routing.public
    rules = listener_rules(template, listener.listener_arn)
    new_group = target_group_ref(template, f"{settings.name_prefix}-public")
    routes = route_priorities(listener)
    assert [(path, method) for _, _, path, method, _ in routes] == PUBLIC_ROUTES
    for priority, legacy_priority, path, method, legacy_arn in routes:
        assert priority < legacy_priority
        assert_new_rule(
            rules[priority],
            path=path,
            method=method,
            settings=settings,
            new_group=new_group,
            legacy_arn=legacy_arn,
        )
    # The legacy public rules belong to the existing stack: only their priorities are known.
    assert not listener.declare_legacy_rules
    assert sorted(rules) == sorted(priority for priority, *_ in routes)


def test_staging_splits_traffic_by_weight(settings_by_env: dict[str, EnvironmentSettings]) -> None:
    staging = settings_by_env["staging"].routing
    assert staging.mode == "weighted"
    assert staging.weights is not None
    assert (staging.weights.new, staging.weights.legacy) == (10, 90)
    assert settings_by_env["production"].routing.mode == "header"


def synth_variant(env: str, changes: dict[str, Any]) -> tuple[Template, EnvironmentSettings]:
    from infra.settings import load_environment

    context = cdk_context()
    for path, value in changes.items():
        set_path(context, f"environments.{env}.{path}", value)
    settings = load_environment(context["environments"], env)
    app = build_app(context, env=env)
    return Template.from_stack(stack_of(app, settings.stack_name)), settings


def test_weight_zero_sends_everything_back_to_legacy() -> None:
    template, settings = synth_variant("staging", {"routing.weights": {"new": 0, "legacy": 100}})
    for rule in listener_rules(template, settings.routing.internal.listener_arn).values():
        weights = [weight for _, weight in forwards(rule)]
        assert weights in ([0, 100], [None])


def test_legacy_rules_owned_elsewhere_are_not_declared_but_still_checked() -> None:
    template, settings = synth_variant(
        "review",
        {
            "routing.internal_listener.declare_legacy_rules": False,
            "routing.header_name": "X-Scorer-Canary",
            "routing.header_value": "rust",
        },
    )
    rules = listener_rules(template, settings.routing.internal.listener_arn)
    assert sorted(rules) == [2090, 2091, 2092, 2093]
    for rule in rules.values():
        assert conditions(rule)["http-header"] == ("X-Scorer-Canary", ["rust"])
