"""Listener rules: header-routed (or weighted) rules ahead of the legacy rules they shadow."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aws_cdk.assertions import Template
from infra_testing import (
    build_app,
    cdk_context,
    conditions,
    first_matching_rule,
    forwards,
    listener_rules,
    resources,
    set_path,
    stack_of,
)

from infra.routes import ROUTE_MAP, Route
from infra.settings import EnvironmentSettings, ListenerSettings, RouteSettings

# (new rule, legacy rule it shadows, path, method), as the internal ALB must route them: ahead
# of the platform's embed rules (2104-2106) and its /internal/* catch-all (2120), clear of the
# stale 2100-2103.
INTERNAL_TABLE = [
    (2080, 2104, "/internal/embed/stamps/*", "POST"),
    (2081, 2105, "/internal/embed/validate-api-key", "GET"),
    (2082, 2106, "/internal/embed/score/*/*", "GET"),
    (2083, 2120, "/internal/embed/weights", "GET"),
    (2084, 2120, "/internal/embed/config", "GET"),
    (2085, 2120, "/internal/score/v2/*", "GET"),
    (2086, 2120, "/internal/check-bans", "POST"),
    (2087, 2120, "/internal/check-revocations", "POST"),
    (2088, 2120, "/internal/stake/gtc/*", "GET"),
    (2089, 2120, "/internal/stake/legacy-gtc/*/*", "GET"),
    (2090, 2120, "/internal/cgrants/contributor_statistics", "GET"),
    (2091, 2120, "/internal/allow-list/*/*", "GET"),
    (2092, 2120, "/internal/customization/credential/*", "GET"),
]
# The public ALB: ceramic-cache rules at 1021-1027 (clear of the 1001-1020 the platform avoids,
# ahead of its 1031-1038); the v2 rules on passport.xyz hosts, ahead of the live 2111, 2112 and
# the /v2/* catch-all at 2200, the history before the score and the stamps list after both.
PUBLIC_TABLE = [
    (2107, 2111, "/v2/stamps/*/score/*/history", "GET"),
    (2108, 2112, "/v2/stamps/*/score/*", "GET"),
    (2106, 2200, "/v2/stamps/metadata", "GET"),
    (2109, 2200, "/v2/stamps/*", "GET"),
    (1021, 1032, "/ceramic-cache/stamps/bulk", "POST"),
    (1022, 1033, "/ceramic-cache/stamps/bulk", "PATCH"),
    (1023, 1034, "/ceramic-cache/stamps/bulk", "DELETE"),
    (1024, 1036, "/ceramic-cache/score/0x*", "GET"),
    (1025, 1031, "/ceramic-cache/score/*", "POST"),
    (1026, 1037, "/ceramic-cache/weights", "GET"),
    (1027, 1038, "/ceramic-cache/stamp", "GET"),
]
HEADER = ("X-Use-Rust-Scorer", ["true"])
HOSTS = ["*.passport.xyz"]
ADDRESS = "0x" + "d3" * 20


def target_group_ref(template: Template, name: str) -> dict[str, str]:
    for logical_id, group in resources(
        template, "AWS::ElasticLoadBalancingV2::TargetGroup"
    ).items():
        if group["Properties"]["Name"] == name:
            return {"Ref": logical_id}
    raise AssertionError(f"no target group named {name}")


def route_table(listener: ListenerSettings) -> list[tuple[int, int, str, str]]:
    return [
        (route.priority, route.legacy_priority, route.route.path_pattern, route.route.method)
        for route in listener.routes
    ]


def assert_new_rule(
    rule: dict[str, Any],
    *,
    route: RouteSettings,
    listener: ListenerSettings,
    settings: EnvironmentSettings,
    new_group: dict[str, str],
) -> None:
    found = conditions(rule)
    assert found["path-pattern"] == [route.route.path_pattern]
    assert found["http-request-method"] == [route.route.method]
    if route.route.host_scoped:
        assert found["host-header"]["HostHeaderConfig"]["Values"] == list(listener.hosts)
    else:
        assert "host-header" not in found
    if settings.routing.mode == "header":
        assert found["http-header"] == HEADER
        assert forwards(rule) == [(new_group, None)]
    else:
        weights = settings.routing.weights
        assert weights is not None
        assert "http-header" not in found
        assert forwards(rule) == [
            (new_group, weights.new),
            (route.legacy_target_group_arn, weights.legacy),
        ]
        stickiness = rule["Actions"][0]["ForwardConfig"]["TargetGroupStickinessConfig"]
        assert stickiness == {"Enabled": True, "DurationSeconds": 3600}


def test_internal_rules_follow_the_routing_table(
    template: Template, settings: EnvironmentSettings
) -> None:
    listener = settings.routing.internal
    rules = listener_rules(template, listener.listener_arn)
    new_group = target_group_ref(template, f"{settings.name_prefix}-internal")
    assert route_table(listener) == INTERNAL_TABLE
    for route in listener.routes:
        assert_new_rule(
            rules[route.priority],
            route=route,
            listener=listener,
            settings=settings,
            new_group=new_group,
        )
    # The platform owns the legacy rules: only their priorities are known here.
    assert not listener.declare_legacy_rules
    assert sorted(rules) == [priority for priority, *_ in INTERNAL_TABLE]


def test_public_rules_shadow_the_legacy_rules_of_another_stack(
    template: Template, settings: EnvironmentSettings
) -> None:
    listener = settings.routing.public
    rules = listener_rules(template, listener.listener_arn)
    new_group = target_group_ref(template, f"{settings.name_prefix}-public")
    assert route_table(listener) == PUBLIC_TABLE
    assert listener.hosts == tuple(HOSTS)
    for route in listener.routes:
        assert route.priority < route.legacy_priority
        assert_new_rule(
            rules[route.priority],
            route=route,
            listener=listener,
            settings=settings,
            new_group=new_group,
        )
    assert not listener.declare_legacy_rules
    assert sorted(rules) == sorted(priority for priority, *_ in PUBLIC_TABLE)


def forwards_to_service(rule: dict[str, Any]) -> bool:
    return any(not isinstance(group, str) for group, _ in forwards(rule))


@pytest.mark.parametrize(
    ("path", "route_key"),
    [
        (f"/v2/stamps/1/score/{ADDRESS}/history", "v2_stamps_score_history"),
        (f"/v2/stamps/1/score/{ADDRESS}", "v2_stamps_score"),
        ("/v2/stamps/metadata", "v2_stamps_metadata"),
        (f"/v2/stamps/{ADDRESS}", "v2_stamps_list"),
    ],
)
def test_each_v2_request_meets_its_own_route_rule_first(
    template: Template, settings: EnvironmentSettings, path: str, route_key: str
) -> None:
    # '*' matches '/': the score rule would also match the history, and the stamps list's rule
    # every v2 stamps path, so the order decides which legacy target group a weighted rule uses.
    listener = settings.routing.public
    rules = listener_rules(template, listener.listener_arn)
    (expected,) = [route for route in listener.routes if route.route.key == route_key]
    match = first_matching_rule(
        rules,
        method="GET",
        host="api.passport.xyz",
        path=path,
        headers={"X-Use-Rust-Scorer": "true"},
    )
    assert match is not None
    assert match[0] == expected.priority
    assert forwards_to_service(match[1])


def test_the_score_reaches_the_service_on_passport_hosts_only(
    template: Template, settings: EnvironmentSettings
) -> None:
    rules = listener_rules(template, settings.routing.public.listener_arn)
    path = f"/v2/stamps/1/score/{ADDRESS}"
    header = {"X-Use-Rust-Scorer": "true"}
    match = first_matching_rule(
        rules, method="GET", host="api.scorer.passport.xyz", path=path, headers=header
    )
    assert match is not None and forwards_to_service(match[1])
    # The platform answers /v2 on its gitcoin.co hosts with a fixed 400 of its own.
    for host in ("api.scorer.gitcoin.co", "internal-alb.us-west-2.elb.amazonaws.com"):
        assert (
            first_matching_rule(rules, method="GET", host=host, path=path, headers=header) is None
        )


def test_every_routed_request_reaches_the_service_with_the_header(
    template: Template, settings: EnvironmentSettings
) -> None:
    """One concrete request per routed route of the map ends at the new target group."""
    for listener in settings.routing.listeners:
        rules = listener_rules(template, listener.listener_arn)
        for (method, path_template), entry in ROUTE_MAP.items():
            if not isinstance(entry, Route) or entry.listener != listener.name:
                continue
            path = re.sub(r"\{[^}]+\}", ADDRESS, path_template)
            match = first_matching_rule(
                rules,
                method=method,
                host="api.scorer.passport.xyz",
                path=path,
                headers={"X-Use-Rust-Scorer": "true"},
            )
            assert match is not None, (method, path)
            assert forwards_to_service(match[1]), (method, path)


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


def test_declared_legacy_rules_mirror_the_new_rules_without_the_header() -> None:
    template, settings = synth_variant(
        "review",
        {
            "routing.public_listener.declare_legacy_rules": True,
            # A stack declaring its legacy rules declares one per route.
            "routing.public_listener.routes.v2_stamps_metadata.legacy_priority": 2199,
            "routing.header_name": "X-Scorer-Canary",
            "routing.header_value": "rust",
        },
    )
    listener = settings.routing.public
    rules = listener_rules(template, listener.listener_arn)
    assert len(rules) == 2 * len(listener.routes)
    for route in listener.routes:
        legacy = rules[route.legacy_priority]
        assert "http-header" not in conditions(legacy)
        assert conditions(legacy)["path-pattern"] == [route.route.path_pattern]
        assert forwards(legacy) == [(route.legacy_target_group_arn, None)]
        own = conditions(rules[route.priority])
        assert own["http-header"] == ("X-Scorer-Canary", ["rust"])
