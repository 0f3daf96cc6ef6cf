"""The rules one existing ALB listener needs to send the scorer routes to the new service."""

from __future__ import annotations

from aws_cdk import Duration, Stack, Tags
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from infra.alb_rules import OWNER_TAG_KEY
from infra.nag import acknowledge
from infra.settings import ListenerSettings, RouteSettings, RoutingSettings

# Keeps a client on one side of a weighted split across its requests.
WEIGHTED_STICKINESS = Duration.hours(1)


class ListenerRules(Construct):
    """Per route: the new rule and, unless another stack owns it, the legacy rule behind it.

    Header mode: the new rule matches path, method and the routing header and forwards to the
    new target group; requests without the header fall through to the legacy rule.
    Weighted mode: the new rule matches path and method and splits between the new and the
    legacy target group; weight 0 for the new side sends everything back to legacy.
    Host-scoped routes also match the listener's hosts.
    The priorities were checked on load (``invariants.py``): the new rule is always evaluated
    first.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        listener: ListenerSettings,
        routing: RoutingSettings,
        target_group: elbv2.IApplicationTargetGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        self._routing = routing
        self._target_group = target_group
        self._listener = elbv2.ApplicationListener.from_application_listener_attributes(
            self,
            "Listener",
            listener_arn=listener.listener_arn,
            security_group=ec2.SecurityGroup.from_security_group_id(
                self, "ListenerSecurityGroup", listener.security_group_id, mutable=False
            ),
        )
        self._settings = listener
        for route in listener.routes:
            self._add_route(route, declare_legacy_rule=listener.declare_legacy_rules)
        Tags.of(self).add(OWNER_TAG_KEY, Stack.of(self).stack_name)
        acknowledge(
            self,
            "Annotation::@aws-cdk/aws-elbv2:albTargetGroupCannotRegisterListener",
            reason="The legacy target groups are referenced, not managed, and load balancers "
            "invoke Lambda targets through the Lambda API: no security group rule is needed.",
        )

    def _add_route(self, route: RouteSettings, *, declare_legacy_rule: bool) -> None:
        name = _pascal(route.route.key)
        legacy = elbv2.ApplicationTargetGroup.from_target_group_attributes(
            self, f"{name}LegacyTargetGroup", target_group_arn=route.legacy_target_group_arn
        )
        request_conditions = [
            elbv2.ListenerCondition.path_patterns([route.route.path_pattern]),
            elbv2.ListenerCondition.http_request_methods([route.route.method]),
        ]
        hosts = self._settings.hosts_of(route.route)
        if hosts:
            request_conditions.append(elbv2.ListenerCondition.host_headers(list(hosts)))
        if self._routing.mode == "header":
            conditions = [
                *request_conditions,
                elbv2.ListenerCondition.http_header(
                    self._routing.header_name, [self._routing.header_value]
                ),
            ]
            action = elbv2.ListenerAction.forward([self._target_group])
        else:
            weights = self._routing.weights
            assert weights is not None, "weighted mode without weights is rejected on load"
            conditions = request_conditions
            action = elbv2.ListenerAction.weighted_forward(
                [
                    elbv2.WeightedTargetGroup(target_group=self._target_group, weight=weights.new),
                    elbv2.WeightedTargetGroup(target_group=legacy, weight=weights.legacy),
                ],
                stickiness_duration=WEIGHTED_STICKINESS,
            )
        elbv2.ApplicationListenerRule(
            self,
            f"{name}Rule",
            listener=self._listener,
            priority=route.priority,
            conditions=conditions,
            action=action,
        )
        if declare_legacy_rule:
            elbv2.ApplicationListenerRule(
                self,
                f"{name}LegacyRule",
                listener=self._listener,
                priority=route.legacy_priority,
                conditions=request_conditions,
                action=elbv2.ListenerAction.forward([legacy]),
            )


def _pascal(key: str) -> str:
    return "".join(part.capitalize() for part in key.split("_"))
