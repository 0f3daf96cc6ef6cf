"""Alarms, outputs, tags, and the cdk-nag rule packs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template
from infra_testing import (
    Synthesized,
    build_app,
    cdk_context,
    only_resource,
    resources,
    stack_of,
)

from infra.alb_rules import OWNER_TAG_KEY
from infra.settings import EnvironmentSettings

# CloudFormation types in this stack that take no Tags property.
UNTAGGABLE = {"AWS::Lambda::Permission", "AWS::IAM::Policy"}


def alarms_by_metric(template: Template) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        properties = alarm["Properties"]
        found.setdefault(properties["MetricName"], []).append(properties)
    return found


def test_every_alarm_notifies_the_topic_on_alarm_and_recovery(
    template: Template, settings: EnvironmentSettings
) -> None:
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    assert len(alarms) == 7
    for alarm in alarms.values():
        properties = alarm["Properties"]
        assert properties["AlarmActions"] == [settings.alarms.topic_arn]
        assert properties["OKActions"] == [settings.alarms.topic_arn]
        assert properties["TreatMissingData"] == "notBreaching"


def test_target_groups_alarm_on_5xx_and_p99_response_time(
    template: Template, settings: EnvironmentSettings
) -> None:
    alarms = alarms_by_metric(template)
    groups = {
        logical_id: group["Properties"]["Name"]
        for logical_id, group in resources(
            template, "AWS::ElasticLoadBalancingV2::TargetGroup"
        ).items()
    }
    load_balancers = {
        settings.target_group_name(listener): listener.load_balancer_full_name
        for listener in settings.routing.listeners
    }
    for metric, statistic, threshold in (
        ("HTTPCode_Target_5XX_Count", ("Statistic", "Sum"), settings.alarms.target_5xx_count),
        (
            "TargetResponseTime",
            ("ExtendedStatistic", "p99"),
            settings.alarms.target_response_time_p99_seconds,
        ),
    ):
        alarmed = {}
        for alarm in alarms[metric]:
            dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
            group_id = dimensions["TargetGroup"]["Fn::GetAtt"][0]
            alarmed[groups[group_id]] = dimensions["LoadBalancer"]
            assert alarm[statistic[0]] == statistic[1]
            assert alarm["Threshold"] == threshold
        assert alarmed == load_balancers


def test_function_alarms_on_errors_throttles_and_duration_near_timeout(
    template: Template, settings: EnvironmentSettings
) -> None:
    function_id, _ = only_resource(template, "AWS::Lambda::Function")
    alarms = alarms_by_metric(template)
    timeout_ms = settings.function.timeout_seconds * 1000
    expected = {
        "Errors": settings.alarms.lambda_errors,
        "Throttles": settings.alarms.lambda_throttles,
        "Duration": round(timeout_ms * settings.alarms.duration_p99_timeout_ratio),
    }
    for metric, threshold in expected.items():
        (alarm,) = alarms[metric]
        assert alarm["Namespace"] == "AWS/Lambda"
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
        assert alarm["Threshold"] == threshold
    assert alarms["Duration"][0]["ExtendedStatistic"] == "p99"
    assert expected["Duration"] < timeout_ms


def test_outputs_name_the_function_and_both_target_groups(template: Template) -> None:
    function_id, _ = only_resource(template, "AWS::Lambda::Function")
    outputs = template.find_outputs("*")
    values = [output["Value"] for output in outputs.values()]
    assert {"Fn::GetAtt": [function_id, "Arn"]} in values
    for logical_id in resources(template, "AWS::ElasticLoadBalancingV2::TargetGroup"):
        assert {"Ref": logical_id} in values
    assert len(outputs) == 3


def test_every_taggable_resource_carries_the_environment_tags(
    template: Template, settings: EnvironmentSettings
) -> None:
    expected = {"service": "passport-scorer", "environment": settings.name, **settings.tags}
    for logical_id, resource in template.to_json()["Resources"].items():
        if resource["Type"] in UNTAGGABLE:
            continue
        tags = {tag["Key"]: tag["Value"] for tag in resource["Properties"].get("Tags", [])}
        if resource["Type"] == "AWS::ElasticLoadBalancingV2::ListenerRule":
            # The preflight tells this stack's rules from others by this tag.
            assert tags.pop(OWNER_TAG_KEY) == settings.stack_name, logical_id
        assert tags == expected, logical_id


def test_rule_packs_pass_with_every_acknowledgement_explained(
    synthesized: Synthesized,
) -> None:
    report = json.loads((synthesized.assembly_dir / "validation-report.json").read_text())
    plugins = {plugin["pluginName"]: plugin for plugin in report["pluginReports"]}
    assert set(plugins) == {"AwsSolutions", "Serverless"}
    for plugin in plugins.values():
        assert plugin["conclusion"] == "success"
        assert plugin["violations"] == []
        for suppressed in plugin["suppressedViolations"]:
            assert len(suppressed["reason"]) > 40, suppressed["ruleName"]


def test_an_unacknowledged_finding_fails_synth() -> None:
    app = build_app(cdk_context(), env="review")
    stack = stack_of(app, "scorer-review")
    sqs.Queue(stack, "UnencryptedQueue", encryption=sqs.QueueEncryption.UNENCRYPTED)
    with pytest.raises(RuntimeError, match=r"(?s)ValidationFailed: .*AwsSolutions-SQS2"):
        app.synth()
