"""The scorer's Lambda function: runtime, network, settings, secret access, logs and tracing."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.bundling import HANDLER
from infra.nag import acknowledge
from infra.scorer_code import ARCHITECTURE, RUNTIME
from infra.settings import FunctionSettings, NetworkSettings

# Pinned so a CDK upgrade cannot swap the instrumentation layer under a running service.
ADOT_LAYER_VERSION = lambda_.AdotLambdaLayerPythonSdkVersion.V1_29_0

_RETENTION = logs.RetentionDays
# jsii enums carry names, not numbers; settings.py accepts exactly these day counts.
RETENTION_BY_DAYS = {
    1: _RETENTION.ONE_DAY, 3: _RETENTION.THREE_DAYS, 5: _RETENTION.FIVE_DAYS,
    7: _RETENTION.ONE_WEEK, 14: _RETENTION.TWO_WEEKS, 30: _RETENTION.ONE_MONTH,
    60: _RETENTION.TWO_MONTHS, 90: _RETENTION.THREE_MONTHS, 120: _RETENTION.FOUR_MONTHS,
    150: _RETENTION.FIVE_MONTHS, 180: _RETENTION.SIX_MONTHS, 365: _RETENTION.ONE_YEAR,
    400: _RETENTION.THIRTEEN_MONTHS, 545: _RETENTION.EIGHTEEN_MONTHS,
    731: _RETENTION.TWO_YEARS, 1096: _RETENTION.THREE_YEARS, 1827: _RETENTION.FIVE_YEARS,
    2192: _RETENTION.SIX_YEARS, 2557: _RETENTION.SEVEN_YEARS, 2922: _RETENTION.EIGHT_YEARS,
    3288: _RETENTION.NINE_YEARS, 3653: _RETENTION.TEN_YEARS,
}  # fmt: skip


class ScorerFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: FunctionSettings,
        network: NetworkSettings,
        code: lambda_.Code,
    ) -> None:
        super().__init__(scope, construct_id)

        # Imported by id: synth stays offline (a Vpc.from_lookup would call AWS).
        vpc = ec2.Vpc.from_vpc_attributes(
            self,
            "Vpc",
            vpc_id=network.vpc_id,
            availability_zones=list(network.availability_zones),
            private_subnet_ids=list(network.private_subnet_ids),
        )
        security_group = ec2.SecurityGroup.from_security_group_id(
            self, "SecurityGroup", network.security_group_id, mutable=False
        )
        self.log_group = logs.LogGroup(
            self, "LogGroup", retention=RETENTION_BY_DAYS[settings.log_retention_days]
        )

        self.function = lambda_.Function(
            self,
            "Function",
            description="Passport scorer API (Falcon WSGI behind ALB)",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=code,
            memory_size=settings.memory_mb,
            timeout=Duration.seconds(settings.timeout_seconds),
            reserved_concurrent_executions=settings.reserved_concurrency,
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            security_groups=[security_group],
            environment=settings.lambda_environment(),
            tracing=lambda_.Tracing.ACTIVE,
            adot_instrumentation=lambda_.AdotInstrumentationConfig(
                layer_version=lambda_.AdotLayerVersion.from_python_sdk_layer_version(
                    ADOT_LAYER_VERSION
                ),
                exec_wrapper=lambda_.AdotLambdaExecWrapper.INSTRUMENT_HANDLER,
            ),
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
        )

        secret = secretsmanager.Secret.from_secret_complete_arn(
            self, "SettingsSecret", settings.settings_secret_arn
        )
        secret.grant_read(self.function)

        self._acknowledge_findings()

    def _acknowledge_findings(self) -> None:
        role = self.function.role
        assert role is not None
        for policy in ("AWSLambdaBasicExecutionRole", "AWSLambdaVPCAccessExecutionRole"):
            acknowledge(
                role,
                "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                f"service-role/{policy}]",
                reason=f"{policy} is the AWS-maintained minimum for a Lambda function that "
                "writes its logs and attaches network interfaces in the VPC.",
            )
        acknowledge(
            role,
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            reason="Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, "
            "which accept no resource narrower than '*'. The only wildcard in the policy.",
        )
        runtime_reason = (
            "Python 3.12 is the version the bundle's wheels are built for (bundling.py) and one "
            "the pinned ADOT Python layer supports; the runtime is upgraded together with both."
        )
        acknowledge(self.function, "AwsSolutions::AwsSolutions-L1", reason=runtime_reason)
        acknowledge(
            self.function, "Serverless::Serverless-LambdaLatestVersion", reason=runtime_reason
        )
        acknowledge(
            self.function,
            "Serverless::Serverless-LambdaDLQ",
            reason="Only load balancers invoke the function, synchronously; a dead letter queue "
            "receives failed asynchronous invocations only, of which there are none.",
        )
        acknowledge(
            self,
            "Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId",
            reason="The imported subnets only place the function's network interfaces; nothing "
            "reads their route tables.",
        )
