"""A wrong or missing cdk.json value, or a broken routing invariant, fails synth by name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from infra_testing import DELETE, REPO_ROOT, build_app, cdk_context, set_path

from infra.config_error import ConfigError
from infra.invariants import PlannedRule, check_new_rules_precede_legacy, patterns_overlap

INTERNAL = "environments.production.routing.internal_listener"
PUBLIC = "environments.production.routing.public_listener"


def synth_with(changes: dict[str, Any], *, env: str = "production") -> None:
    context = cdk_context()
    for path, value in changes.items():
        set_path(context, path, value)
    build_app(context, env=env).synth()


def test_duplicate_priority_fails_synth() -> None:
    with pytest.raises(ConfigError, match=r"internal_listener: duplicate priority 2081"):
        synth_with({f"{INTERNAL}.routes.embed_stamps.priority": 2081})


def test_new_rule_priority_equal_to_a_legacy_rule_is_a_duplicate() -> None:
    with pytest.raises(ConfigError, match=r"duplicate priority 2105"):
        synth_with({f"{INTERNAL}.routes.embed_stamps.priority": 2105})


def test_routes_may_share_a_legacy_catch_all_owned_elsewhere() -> None:
    # internal_score_v2 and internal_check_bans both shadow the platform's /internal/* at 2120.
    synth_with({})


def test_routes_sharing_a_legacy_rule_must_agree_on_its_target_group() -> None:
    other = "arn:aws:elasticloadbalancing:us-west-2:333333333333:targetgroup/x/3c000000000000ff"
    with pytest.raises(
        ConfigError,
        match=r"routes.internal_check_bans.legacy_target_group_arn: legacy rule 2120 is also "
        r"route 'embed_weights'",
    ):
        synth_with({f"{INTERNAL}.routes.internal_check_bans.legacy_target_group_arn": other})


def test_a_declared_legacy_rule_cannot_be_shared() -> None:
    with pytest.raises(ConfigError, match=r"duplicate priority 2120"):
        synth_with({f"{INTERNAL}.declare_legacy_rules": True})


def test_header_rule_after_its_legacy_rule_fails_synth() -> None:
    with pytest.raises(
        ConfigError,
        match=r"new rule 2110 \(POST /internal/embed/stamps/\*\) of route 'embed_stamps' "
        r"would be shadowed by the legacy rule 2104",
    ):
        synth_with({f"{INTERNAL}.routes.embed_stamps.priority": 2110})


def test_the_score_rule_before_the_history_rule_fails_synth() -> None:
    with pytest.raises(
        ConfigError,
        match=r"the new rule 2100 \(GET /v2/stamps/\*/score/\* host \*.passport.xyz\) of route "
        r"'v2_stamps_score' comes before the new rule 2107 .* of route 'v2_stamps_score_history', "
        r"but the legacy rules they shadow are in the other order \(2112 after 2111\)",
    ):
        synth_with({f"{PUBLIC}.routes.v2_stamps_score.priority": 2100})


def test_the_stamps_list_rule_before_the_score_rule_fails_synth() -> None:
    with pytest.raises(ConfigError, match=r"'v2_stamps_list' comes before the new rule 2107"):
        synth_with({f"{PUBLIC}.routes.v2_stamps_list.priority": 2105})


def test_host_scoped_routes_need_the_listener_hosts() -> None:
    with pytest.raises(
        ConfigError, match=r"public_listener.hosts: missing .* v2_stamps_score_history, v2_stamps"
    ):
        synth_with({f"{PUBLIC}.hosts": DELETE})


@pytest.mark.parametrize("host", ["passport xyz", "", "x" * 129])
def test_malformed_host_pattern_fails_synth(host: str) -> None:
    with pytest.raises(ConfigError, match=r"public_listener.hosts: expected a non-empty list"):
        synth_with({f"{PUBLIC}.hosts": [host]})


def planned(route_key: str, kind: str, priority: int, path: str) -> PlannedRule:
    return PlannedRule(
        route_key=route_key,
        kind=kind,  # type: ignore[arg-type]
        priority=priority,
        path_pattern=path,
        method="GET",
    )


def test_new_rule_behind_an_overlapping_legacy_rule_of_another_route_is_rejected() -> None:
    rules = [
        planned("score", "new", 1003, "/ceramic-cache/score/*"),
        planned("catch_all", "legacy", 1000, "/ceramic-cache/*"),
    ]
    with pytest.raises(ConfigError, match=r"shadowed by the legacy rule 1000 .* 'catch_all'"):
        check_new_rules_precede_legacy("listener", rules)


def test_legacy_rule_on_other_paths_may_come_first() -> None:
    rules = [
        planned("score", "new", 1003, "/ceramic-cache/score/*"),
        planned("weights", "legacy", 1000, "/ceramic-cache/weights"),
    ]
    check_new_rules_precede_legacy("listener", rules)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"new": 60, "legacy": 60}, r"weights must sum to 100, got new=60 \+ legacy=60"),
        ({"new": 101, "legacy": -1}, r"weights.new: 101 is above the maximum 100"),
        ({"new": -10, "legacy": 110}, r"weights.new: -10 is below the minimum 0"),
        ({"new": "50", "legacy": 50}, r"weights.new: expected an integer, got '50'"),
        ({"new": 50}, r"weights.legacy: missing"),
    ],
)
def test_bad_weights_fail_synth(weights: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        synth_with({"environments.staging.routing.weights": weights}, env="staging")


def test_weighted_mode_without_weights_fails_synth() -> None:
    with pytest.raises(ConfigError, match=r"environments.staging.routing.weights: missing"):
        synth_with({"environments.staging.routing.weights": DELETE}, env="staging")


def test_missing_listener_arn_fails_synth() -> None:
    with pytest.raises(
        ConfigError,
        match=r"environments.production.routing.internal_listener.listener_arn: missing "
        r"\(expected an ALB listener ARN",
    ):
        synth_with({f"{INTERNAL}.listener_arn": DELETE})


def test_listener_arn_of_another_account_fails_synth() -> None:
    arn = (
        "arn:aws:elasticloadbalancing:us-west-2:999999999999:listener/app/x/"
        "0a1b0a1b0a1b0a1b/2c3d2c3d2c3d2c3d"
    )
    with pytest.raises(ConfigError, match=r"not in the environment's account 333333333333"):
        synth_with({f"{PUBLIC}.listener_arn": arn})


def test_target_group_name_over_32_characters_fails_synth() -> None:
    with pytest.raises(
        ConfigError,
        match=r"'passport-scorer-production-public' is 33 characters; AWS allows at most 32",
    ):
        synth_with({"environments.production.name_prefix": "passport-scorer-production"})


@pytest.mark.parametrize(
    "name",
    [
        "DATABASE_URL",
        "SECRET_KEY",
        "CGRANTS_API_TOKEN",
        "REDIS_PASSWORD",
        "DEMO_API_KEY",
        # The Redis URL of the rate limits may carry an AUTH token: it comes with the secret.
        "CELERY_BROKER_URL",
    ],
)
def test_secret_looking_service_setting_fails_synth(name: str) -> None:
    with pytest.raises(ConfigError, match=rf"service_environment.{name}: looks like a secret"):
        synth_with({f"environments.production.service_environment.{name}": "value"})


def test_unknown_key_fails_synth() -> None:
    with pytest.raises(ConfigError, match=r"function: unknown key\(s\) memory"):
        synth_with({"environments.production.function.memory": 512})


def test_unknown_environment_fails_synth() -> None:
    with pytest.raises(ConfigError, match=r"environments.prod: unknown environment"):
        synth_with({}, env="prod")


def test_cdk_app_exits_with_the_message_instead_of_a_trace(tmp_path: Any) -> None:
    context = set_path(cdk_context(), f"{INTERNAL}.listener_arn", DELETE)
    # The CDK CLI hands context and output directory to the app through these variables.
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps({**context, "bundle": "false", "env": "production"}),
        "CDK_OUTDIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().endswith(
        "cdk.json context error: environments.production.routing.internal_listener.listener_arn:"
        " missing (expected an ALB listener ARN (arn:aws:elasticloadbalancing:<region>:"
        "<account>:listener/app/<name>/<16 hex digits>/<16 hex digits>))"
    )


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ("/internal/embed/stamps/*", "/internal/embed/stamps/*", True),
        ("/internal/embed/stamps/*", "/internal/*", True),
        ("/internal/embed/stamps/*", "/internal/embed/score/*", False),
        ("/v2/stamps/*/score/*", "/v2/stamps/1/score/0xab", True),
        ("/v2/stamps/*/score/*", "/ceramic-cache/score/*", False),
        ("/a?c", "/abc", True),
        ("/a?c", "/ac", False),
        ("*", "/anything", True),
    ],
)
def test_path_patterns_overlap_only_when_one_path_matches_both(
    a: str, b: str, overlap: bool
) -> None:
    assert patterns_overlap(a, b) is overlap
    assert patterns_overlap(b, a) is overlap


def test_database_timeouts_longer_than_the_function_timeout_fail_synth() -> None:
    with pytest.raises(ConfigError, match=r"database timeouts .* must end before the function"):
        synth_with({"environments.production.function.timeout_seconds": 10})


def test_lower_database_timeouts_let_a_short_function_timeout_synth() -> None:
    synth_with(
        {
            "environments.production.function.timeout_seconds": 10,
            "environments.production.service_environment.DB_STATEMENT_TIMEOUT_MS": "4000",
            "environments.production.service_environment.DB_CONNECT_TIMEOUT": "2",
        }
    )


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("network.vpc_id", "vpc-0123456789abcdef"),  # 16 hex digits: AWS issues 8 or 17
        ("network.security_group_id", "sg-0123456"),
        ("network.private_subnet_ids", ["subnet-0123456789abcdef0a"]),
    ],
)
def test_ids_of_lengths_aws_never_issues_fail_synth(path: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=rf"network.{path.split('.')[1]}: expected .*8 or 17"):
        synth_with({f"environments.production.{path}": value})


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("network.vpc_id", "vpc-0123abcd"),
        ("network.vpc_id", "vpc-0123456789abcdef0"),
        ("network.security_group_id", "sg-0123abcd"),
    ],
)
def test_ids_of_8_or_17_hex_digits_synth(path: str, value: str) -> None:
    synth_with({f"environments.production.{path}": value})


def test_a_function_environment_over_4_kb_fails_synth() -> None:
    issuers = [f"did:ethr:0x{index:040x}" for index in range(80)]
    with pytest.raises(
        ConfigError,
        match=r"service_environment: the function's environment is \d+ bytes, over Lambda's "
        r"limit of 4096 \(largest: TRUSTED_IAM_ISSUERS",
    ):
        synth_with({"environments.production.service_environment.TRUSTED_IAM_ISSUERS": issuers})
