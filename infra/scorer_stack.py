"""One environment's scorer deployment. It only composes the constructs."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Environment, Stack, Tags
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.alarms import ScorerAlarms
from infra.lambda_target_group import LambdaTargetGroup
from infra.listener_rules import ListenerRules
from infra.scorer_function import ScorerFunction
from infra.settings import EnvironmentSettings


class ScorerStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        code: lambda_.Code,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            stack_name=settings.stack_name,
            env=Environment(account=settings.account, region=settings.region),
            description=f"Passport scorer on Lambda behind the public and internal ALBs "
            f"({settings.name})",
            **kwargs,
        )

        scorer = ScorerFunction(
            self,
            "Scorer",
            settings=settings.function,
            network=settings.network,
            code=code,
        )
        target_groups: dict[str, elbv2.ApplicationTargetGroup] = {
            listener.name: LambdaTargetGroup(
                self,
                f"{listener.name.capitalize()}TargetGroup",
                function=scorer.function,
                target_group_name=settings.target_group_name(listener),
            ).target_group
            for listener in settings.routing.listeners
        }
        for listener in settings.routing.listeners:
            ListenerRules(
                self,
                f"{listener.name.capitalize()}ListenerRules",
                listener=listener,
                routing=settings.routing,
                target_group=target_groups[listener.name],
            )
        ScorerAlarms(
            self,
            "Alarms",
            settings=settings.alarms,
            alarm_name_prefix=settings.name_prefix,
            function=scorer.function,
            timeout=Duration.seconds(settings.function.timeout_seconds),
            target_groups=target_groups,
        )

        CfnOutput(self, "FunctionArn", value=scorer.function.function_arn)
        for name, target_group in target_groups.items():
            CfnOutput(
                self,
                f"{name.capitalize()}TargetGroupArn",
                value=target_group.target_group_arn,
            )

        for key, value in {
            "service": "passport-scorer",
            "environment": settings.name,
            **settings.tags,
        }.items():
            Tags.of(self).add(key, value)
