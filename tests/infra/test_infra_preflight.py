"""make preflight: the synthesized plan against recorded (or stubbed) describe-rules answers.

The documents under listener_rules/ are what ``aws elbv2 describe-rules`` prints for staging's
two listeners: ``platform`` is modelled on the platform's current rule set (passportxyz's
routing-rules.ts: ceramic-cache 1030-1038, the gitcoin.co 400 at 2000, v2 2110-2112 and the
2200 catch-all on passport.xyz hosts; embed 2104-2106, the /internal/* catch-all at 2120, the
ECS rule at 2202); ``stale-internal`` adds the embed rules that outlived their stack at
2100-2103; ``shadowed`` adds an /internal/* rule at 2000, ahead of every planned internal rule.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from infra_testing import REPO_ROOT, Synthesized, cdk_context, set_path

from infra.alb_rules import OWNER_TAG_KEY, AlbRule, from_describe_rules, from_template
from infra.examples import example_values
from infra.preflight import check_listener
from infra.settings import EnvironmentSettings, load_environment
from infra.tools import preflight as preflight_tool

DOCUMENTS = REPO_ROOT / "tests" / "infra" / "listener_rules"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = preflight_tool.main(["--env", "staging", *args])
    return code, capsys.readouterr().out.splitlines()


def test_the_platforms_current_rules_leave_nothing_to_report(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, lines = run(capsys, "--rules", str(DOCUMENTS / "platform"))
    assert code == 0
    assert lines == [
        f"preflight staging: 24 planned routes agree with the documents in {DOCUMENTS / 'platform'}"
    ]


def test_stale_rules_at_2100_to_2103_are_reported_by_priority_and_arn(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, lines = run(capsys, "--rules", str(DOCUMENTS / "stale-internal"))
    assert code == 1
    stale = json.loads((DOCUMENTS / "stale-internal" / "internal.json").read_text())
    arn_2100 = next(rule["RuleArn"] for rule in stale["Rules"] if rule["Priority"] == "2100")
    line = next(line for line in lines if "priority 2100," in line)
    assert line == (
        f"internal listener, priority 2100, rule {arn_2100}, path /internal/embed/stamps/*: the "
        "planned rule 2080 of route 'embed_stamps' shadows this live rule (POST "
        "/internal/embed/stamps/*), but cdk.json says legacy_priority 2104"
    )
    assert {int(line.split("priority ")[1].split(",")[0]) for line in lines} == {
        2100,
        2101,
        2102,
        2103,
    }


def test_a_live_rule_that_shadows_a_planned_rule_is_reported_with_both(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, lines = run(capsys, "--rules", str(DOCUMENTS / "shadowed"))
    assert code == 1
    assert len(lines) == 13  # every planned internal rule
    assert lines[0].startswith("internal listener, priority 2000, rule arn:aws:")
    assert lines[0].endswith(
        "path /internal/*: matches every request of planned rule 2080 (POST "
        "/internal/embed/stamps/*) and is evaluated first: the planned rule would never be "
        "evaluated"
    )


def test_deploy_refuses_the_example_values_cdk_json_ships(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, lines = run(capsys, "--rules", str(DOCUMENTS / "platform"), "--deploy")
    assert code == 1
    assert (
        "example value still in cdk.json: environments.staging.service_environment."
        "TRUSTED_IAM_ISSUERS[0]: did:key:REPLACE-WITH-THE-STAGING-IAM-ISSUER"
    ) in lines
    assert "example value still in cdk.json: environments.staging.account: 222222222222" in lines


def test_a_filled_in_environment_holds_no_example_values() -> None:
    context = cdk_context()
    text = json.dumps(context["environments"]["staging"]).replace("222222222222", "123456789012")
    text = text.replace("did:key:REPLACE-WITH-THE-STAGING-IAM-ISSUER", "did:ethr:0xabc")
    assert example_values(json.loads(text), "environments.staging") == []


def test_documents_of_another_listener_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in ("public", "internal"):
        (tmp_path / f"{name}.json").write_text((DOCUMENTS / "platform" / "public.json").read_text())
    assert preflight_tool.main(["--env", "staging", "--rules", str(tmp_path)]) == 2
    assert "holds rules of another listener" in capsys.readouterr().err


# --- the checks one by one, on the synthesized staging plan -----------------------------------


def recorded(name: str, listener: str) -> list[AlbRule]:
    return from_describe_rules(json.loads((DOCUMENTS / name / f"{listener}.json").read_text()))


def check(
    settings: EnvironmentSettings,
    template: dict[str, Any],
    listener_name: str,
    live: list[AlbRule],
    *,
    drop_planned: int | None = None,
) -> list[str]:
    listener = settings.routing.public if listener_name == "public" else settings.routing.internal
    planned = [
        rule
        for rule in from_template(template, listener.listener_arn)
        if rule.priority != drop_planned
    ]
    problems = check_listener(
        listener,
        planned=planned,
        live=live,
        stack_name=settings.stack_name,
        served=preflight_tool.served_routes(),
    )
    return [problem.line() for problem in problems]


@pytest.fixture
def staging(
    synthesized: Synthesized, settings_by_env: dict[str, EnvironmentSettings]
) -> tuple[EnvironmentSettings, dict[str, Any]]:
    return settings_by_env["staging"], synthesized.templates["staging"].to_json()


def with_rule_at(live: list[AlbRule], priority: int, **changes: Any) -> list[AlbRule]:
    template = next(rule for rule in live if rule.priority == 2104)
    arn = template.arn.rsplit("/", 1)[0] + f"/{priority:016x}"
    added = AlbRule(**{**template.__dict__, "arn": arn, "priority": priority, **changes})
    return [*live, added]


def test_a_planned_priority_held_by_a_foreign_rule_is_reported(
    staging: tuple[EnvironmentSettings, dict[str, Any]],
) -> None:
    settings, template = staging
    live = with_rule_at(recorded("platform", "internal"), 2080)
    (line,) = check(settings, template, "internal", live)
    assert "priority 2080," in line
    assert "held by a rule this stack does not own" in line
    assert "PriorityInUse" in line


def test_a_rule_this_stack_owns_may_hold_its_priority(
    staging: tuple[EnvironmentSettings, dict[str, Any]],
) -> None:
    settings, template = staging
    owned = {OWNER_TAG_KEY: settings.stack_name}
    live = with_rule_at(recorded("platform", "internal"), 2080, tags=owned)
    assert check(settings, template, "internal", live) == []


def test_a_planned_rule_that_would_take_a_route_the_service_does_not_serve_is_reported(
    staging: tuple[EnvironmentSettings, dict[str, Any]],
) -> None:
    # Given a live rule sending a path under /v2/stamps/ that this service does not serve to
    # the legacy service, behind the stamps list's /v2/stamps/* ('*' matches '/')
    settings, template = staging
    live = recorded("platform", "public")
    history = next(rule for rule in live if rule.priority == 2111)
    export = AlbRule(
        **{
            **history.__dict__,
            "arn": history.arn.rsplit("/", 1)[0] + "/00000000000021a0",
            "priority": 2150,
            "path_patterns": ("/v2/stamps/*/export",),
        }
    )

    lines = check(settings, template, "public", [*live, export])

    # (the score rule's '*' takes some of them too: /v2/stamps//score/export)
    (line,) = [line for line in lines if "priority 2150," in line and "rule 2109" in line]
    assert re.search(
        r"planned rule 2109 \(GET /v2/stamps/\* host \*\.passport\.xyz\) would take "
        r"GET /v2/stamps/\S+/export, which this live rule \(GET /v2/stamps/\*/export host "
        r"\*\.passport\.xyz\) sends it elsewhere, and this service does not serve it$",
        line,
    ), line


def test_a_v2_rule_on_every_host_would_overtake_the_platforms_400_for_other_hosts() -> None:
    # The v2 rule as it was: at 1010, ahead of the platform's /v2 refusal at 2000, any host.
    context = cdk_context()
    listener = "environments.staging.routing.public_listener"
    set_path(context, f"{listener}.hosts", ["*"])
    set_path(context, f"{listener}.routes.v2_stamps_score.priority", 1010)
    set_path(context, f"{listener}.routes.v2_stamps_score_history.priority", 1009)
    set_path(context, f"{listener}.routes.v2_stamps_metadata.priority", 1011)
    set_path(context, f"{listener}.routes.v2_stamps_list.priority", 1012)
    settings = load_environment(context["environments"], "staging")
    template = preflight_tool.synthesized_template(context, settings)
    lines = check(settings, template, "public", recorded("platform", "public"))
    assert any(
        "priority 2000," in line and "answers it itself (fixed-response)" in line for line in lines
    ), lines


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("legacy_priority", 2113, "shadows this live rule (GET /v2/stamps/*/score/* host "),
        (
            "legacy_target_group_arn",
            "arn:aws:elasticloadbalancing:us-west-2:222222222222:targetgroup/stag-x/"
            "2b000000000000ff",
            "legacy_target_group_arn for route 'v2_stamps_score' (arn:aws:elasticloadbalancing:"
            "us-west-2:222222222222:targetgroup/stag-x/2b000000000000ff) is not where",
        ),
    ],
)
def test_legacy_settings_that_disagree_with_the_shadowed_live_rule_are_reported(
    key: str, value: Any, expected: str
) -> None:
    context = copy.deepcopy(cdk_context())
    route = "environments.staging.routing.public_listener.routes.v2_stamps_score"
    set_path(context, f"{route}.{key}", value)
    settings = load_environment(context["environments"], "staging")
    template = preflight_tool.synthesized_template(context, settings)
    (line,) = check(settings, template, "public", recorded("platform", "public"))
    assert "priority 2112," in line
    assert expected in line


def test_live_rules_are_read_page_by_page_with_their_tags(
    settings_by_env: dict[str, EnvironmentSettings],
) -> None:
    settings = settings_by_env["staging"]
    client = boto3.client(
        "elbv2",
        region_name="us-west-2",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    documents = {
        name: json.loads((DOCUMENTS / "stale-internal" / f"{name}.json").read_text())["Rules"]
        for name in ("public", "internal")
    }
    with Stubber(client) as stubber:
        for listener in settings.routing.listeners:
            rules = documents[listener.name]
            first, second = rules[:3], rules[3:]
            stubber.add_response(
                "describe_rules",
                {"Rules": first, "NextMarker": "page-2"},
                {"ListenerArn": listener.listener_arn},
            )
            stubber.add_response(
                "describe_rules",
                {"Rules": second},
                {"ListenerArn": listener.listener_arn, "Marker": "page-2"},
            )
            arns = [rule["RuleArn"] for rule in rules]
            for start in range(0, len(arns), 20):
                batch = arns[start : start + 20]
                stubber.add_response(
                    "describe_tags",
                    {
                        "TagDescriptions": [
                            {"ResourceArn": arn, "Tags": [{"Key": "team", "Value": "platform"}]}
                            for arn in batch
                        ]
                    },
                    {"ResourceArns": batch},
                )
        live = preflight_tool.live_rules(settings, client)
        stubber.assert_no_pending_responses()
    for listener in settings.routing.listeners:
        assert [rule.arn for rule in live[listener.name]] == [
            rule["RuleArn"] for rule in documents[listener.name]
        ]
        assert all(rule.tags == {"team": "platform"} for rule in live[listener.name])
