"""A Lambda target group for one load balancer, with its own scoped invoke permission."""

from __future__ import annotations

import jsii
from aws_cdk import Stack
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

ELB_PRINCIPAL = "elasticloadbalancing.amazonaws.com"


class LambdaTargetGroup(Construct):
    """AWS refuses to attach one Lambda target group to two load balancers, so each ALB gets one.

    CDK's ``LambdaTarget`` grants every load balancer in the account the right to invoke the
    function, and shares that single grant between all target groups. Here each target group
    gets its own permission, limited to that target group. The permission cannot reference the
    target group's ARN (the target group registers the function on creation, so the permission
    must exist first); it names the target group instead, which is why the name is fixed.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction,
        target_group_name: str,
    ) -> None:
        super().__init__(scope, construct_id)

        source_arn = Stack.of(self).format_arn(
            service="elasticloadbalancing",
            resource="targetgroup",
            resource_name=f"{target_group_name}/*",
        )
        permission = lambda_.CfnPermission(
            self,
            "InvokePermission",
            action="lambda:InvokeFunction",
            function_name=function.function_arn,
            principal=ELB_PRINCIPAL,
            source_arn=source_arn,
        )
        self.target_group = elbv2.ApplicationTargetGroup(
            self,
            "TargetGroup",
            target_group_name=target_group_name,
            target_type=elbv2.TargetType.LAMBDA,
            # The handler reads repeated query parameters and headers from the multi-value
            # fields of the ALB event; without this ALB keeps only the last value of each.
            multi_value_headers_enabled=True,
            targets=[_FunctionTarget(function)],
        )
        self.target_group.node.add_dependency(permission)


@jsii.implements(elbv2.IApplicationLoadBalancerTarget)
class _FunctionTarget:
    """Registers the function in the target group; unlike ``LambdaTarget`` it grants nothing."""

    def __init__(self, function: lambda_.IFunction) -> None:
        self._function = function

    def attach_to_application_target_group(
        self, target_group: elbv2.IApplicationTargetGroup
    ) -> elbv2.LoadBalancerTargetProps:
        return elbv2.LoadBalancerTargetProps(
            target_type=elbv2.TargetType.LAMBDA,
            target_json={"id": self._function.function_arn},
        )
