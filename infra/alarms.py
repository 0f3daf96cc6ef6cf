"""CloudWatch alarms on the scorer's target groups and function, notifying one SNS topic."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.settings import AlarmSettings

PERIOD = Duration.minutes(5)


class ScorerAlarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: AlarmSettings,
        alarm_name_prefix: str,
        function: lambda_.Function,
        timeout: Duration,
        target_groups: dict[str, elbv2.ApplicationTargetGroup],
    ) -> None:
        super().__init__(scope, construct_id)
        self._prefix = alarm_name_prefix
        self._action = cloudwatch_actions.SnsAction(
            sns.Topic.from_topic_arn(self, "Topic", settings.topic_arn)
        )

        for name, target_group in target_groups.items():
            metrics = target_group.metrics
            self._alarm(
                f"{name}-target-5xx",
                metrics.http_code_target(
                    elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=PERIOD, statistic="Sum"
                ),
                threshold=settings.target_5xx_count,
                description=f"The scorer answered 5XX through the {name} load balancer.",
            )
            self._alarm(
                f"{name}-target-response-time-p99",
                metrics.target_response_time(period=PERIOD, statistic="p99"),
                threshold=settings.target_response_time_p99_seconds,
                description=f"p99 response time through the {name} load balancer is high.",
            )

        self._alarm(
            "lambda-errors",
            function.metric_errors(period=PERIOD, statistic="Sum"),
            threshold=settings.lambda_errors,
            description="The scorer function raised errors (unhandled exceptions, timeouts).",
        )
        self._alarm(
            "lambda-throttles",
            function.metric_throttles(period=PERIOD, statistic="Sum"),
            threshold=settings.lambda_throttles,
            description="Invocations of the scorer function were throttled.",
        )
        # Alarm before requests start timing out, while there is still room to react.
        duration_threshold_ms = timeout.to_milliseconds() * settings.duration_p99_timeout_ratio
        self._alarm(
            "lambda-duration-p99",
            function.metric_duration(period=PERIOD, statistic="p99"),
            threshold=round(duration_threshold_ms),
            description="p99 duration of the scorer function is close to its timeout.",
        )

    def _alarm(
        self, name: str, metric: cloudwatch.Metric, *, threshold: float, description: str
    ) -> None:
        alarm = metric.create_alarm(
            self,
            "".join(part.capitalize() for part in name.split("-")),
            alarm_name=f"{self._prefix}-{name}",
            alarm_description=description,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            # No traffic is not an incident.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
