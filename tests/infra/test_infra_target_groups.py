"""One Lambda target group per load balancer, each with its own scoped invoke permission."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Template
from infra_testing import forwards, only_resource, resources

from infra.settings import EnvironmentSettings


def target_groups_by_name(template: Template) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        group["Properties"]["Name"]: (logical_id, group)
        for logical_id, group in resources(
            template, "AWS::ElasticLoadBalancingV2::TargetGroup"
        ).items()
    }


def test_there_is_one_target_group_per_load_balancer(
    template: Template, settings: EnvironmentSettings
) -> None:
    assert sorted(target_groups_by_name(template)) == sorted(
        [f"{settings.name_prefix}-public", f"{settings.name_prefix}-internal"]
    )


def test_both_target_groups_target_the_function_with_multi_value_headers(
    template: Template,
) -> None:
    function_id, _ = only_resource(template, "AWS::Lambda::Function")
    for _, group in target_groups_by_name(template).values():
        properties = group["Properties"]
        assert properties["TargetType"] == "lambda"
        assert properties["Targets"] == [{"Id": {"Fn::GetAtt": [function_id, "Arn"]}}]
        assert {
            "Key": "lambda.multi_value_headers.enabled",
            "Value": "true",
        } in properties["TargetGroupAttributes"]


def test_each_target_group_has_its_own_permission_scoped_to_it(
    template: Template, settings: EnvironmentSettings
) -> None:
    function_id, _ = only_resource(template, "AWS::Lambda::Function")
    permissions = resources(template, "AWS::Lambda::Permission")
    by_source = {
        permission["Properties"]["SourceArn"]: logical_id
        for logical_id, permission in permissions.items()
    }
    assert len(permissions) == 2
    for name, (_, group) in target_groups_by_name(template).items():
        source_arn = (
            f"arn:aws:elasticloadbalancing:{settings.region}:{settings.account}:"
            f"targetgroup/{name}/*"
        )
        assert source_arn in by_source, f"no permission for {name}"
        permission = permissions[by_source[source_arn]]["Properties"]
        assert permission == {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": [function_id, "Arn"]},
            "Principal": "elasticloadbalancing.amazonaws.com",
            "SourceArn": source_arn,
        }
        # The load balancer checks the permission when the target is registered.
        assert by_source[source_arn] in group["DependsOn"]


def test_each_listener_forwards_only_to_its_own_target_group(
    template: Template, settings: EnvironmentSettings
) -> None:
    groups = target_groups_by_name(template)
    for listener in settings.routing.listeners:
        own_id, _ = groups[settings.target_group_name(listener)]
        other_ids = {logical_id for logical_id, _ in groups.values()} - {own_id}
        rules = [
            rule
            for rule in resources(template, "AWS::ElasticLoadBalancingV2::ListenerRule").values()
            if rule["Properties"]["ListenerArn"] == listener.listener_arn
        ]
        referenced = {
            target["Ref"]
            for rule in rules
            for target, _ in forwards(rule["Properties"])
            if isinstance(target, dict)
        }
        assert referenced == {own_id}
        assert not referenced & other_ids
