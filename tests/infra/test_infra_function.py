"""The scorer function: runtime, network, settings without secrets, ADOT, tracing and logs."""

from __future__ import annotations

import re

from aws_cdk.assertions import Match, Template
from infra_testing import only_resource, resources

from infra.settings import SECRET_ENVIRONMENT_NAMES, EnvironmentSettings

ADOT_PYTHON_ARM64_LAYER = re.compile(
    r"^arn:aws:lambda:us-west-2:901920570463:layer:aws-otel-python-arm64-ver-1-29-0:\d+$"
)


def function_properties(template: Template) -> dict[str, object]:
    _, function = only_resource(template, "AWS::Lambda::Function")
    properties: dict[str, object] = function["Properties"]
    return properties


def test_function_runs_the_service_handler_on_python_312_arm64(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.12",
            "Architectures": ["arm64"],
            "Handler": "service.lambda_handler.handler",
        },
    )


def test_function_sizing_comes_from_the_environment(
    template: Template, settings: EnvironmentSettings
) -> None:
    expected = {
        "MemorySize": settings.function.memory_mb,
        "Timeout": settings.function.timeout_seconds,
    }
    if settings.function.reserved_concurrency is not None:
        expected["ReservedConcurrentExecutions"] = settings.function.reserved_concurrency
    template.has_resource_properties("AWS::Lambda::Function", expected)
    if settings.function.reserved_concurrency is None:
        assert "ReservedConcurrentExecutions" not in function_properties(template)


def test_function_sits_in_the_private_subnets_with_its_security_group(
    template: Template, settings: EnvironmentSettings
) -> None:
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "VpcConfig": {
                "SubnetIds": list(settings.network.private_subnet_ids),
                "SecurityGroupIds": [settings.network.security_group_id],
            }
        },
    )


def test_function_code_is_an_asset_of_the_stack(template: Template) -> None:
    code = function_properties(template)["Code"]
    assert isinstance(code, dict)
    assert re.fullmatch(r"[0-9a-f]{64}\.zip", code["S3Key"])


def test_adot_layer_is_pinned_and_wraps_the_handler(template: Template) -> None:
    properties = function_properties(template)
    layers = properties["Layers"]
    assert isinstance(layers, list) and len(layers) == 1
    assert ADOT_PYTHON_ARM64_LAYER.match(layers[0]), layers[0]
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/otel-instrument",
                        "OTEL_SERVICE_NAME": "passport-scorer",
                    }
                )
            },
            "TracingConfig": {"Mode": "Active"},
        },
    )


def test_environment_holds_the_non_secret_settings_and_the_secret_arn_only(
    template: Template, settings: EnvironmentSettings
) -> None:
    environment = function_properties(template)["Environment"]
    assert isinstance(environment, dict)
    variables = environment["Variables"]
    assert variables == {
        **settings.function.service_environment,
        "SETTINGS_SECRET_ARN": settings.function.settings_secret_arn,
        "OTEL_SERVICE_NAME": "passport-scorer",
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/otel-instrument",
    }
    assert not set(variables) & SECRET_ENVIRONMENT_NAMES
    assert "CERAMIC_CACHE_SCORER_ID" in variables


def test_rate_limits_are_switched_per_environment_in_the_template(
    template: Template, settings: EnvironmentSettings
) -> None:
    variables = function_properties(template)["Environment"]["Variables"]

    assert (
        variables["RATELIMIT_ENABLE"] == settings.function.service_environment["RATELIMIT_ENABLE"]
    )
    assert "CELERY_BROKER_URL" not in variables


def test_trusted_issuers_list_is_passed_as_json(template: Template) -> None:
    environment = function_properties(template)["Environment"]
    assert isinstance(environment, dict)
    issuers = environment["Variables"]["TRUSTED_IAM_ISSUERS"]
    assert issuers.startswith('["') and issuers.endswith('"]')


def test_function_may_read_exactly_its_settings_secret(
    template: Template, settings: EnvironmentSettings
) -> None:
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Action": [
                                "secretsmanager:DescribeSecret",
                                "secretsmanager:GetSecretValue",
                            ],
                            "Effect": "Allow",
                            "Resource": settings.function.settings_secret_arn,
                        }
                    ]
                )
            }
        },
    )


def test_only_xray_needs_a_wildcard_resource(template: Template) -> None:
    for policy in resources(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Resource"] == "*":
                assert all(action.startswith("xray:") for action in statement["Action"])


def test_logs_go_to_a_retained_log_group_as_json(
    template: Template, settings: EnvironmentSettings
) -> None:
    log_group_id, _ = only_resource(template, "AWS::Logs::LogGroup")
    template.has_resource_properties(
        "AWS::Logs::LogGroup", {"RetentionInDays": settings.function.log_retention_days}
    )
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"LoggingConfig": {"LogFormat": "JSON", "LogGroup": {"Ref": log_group_id}}},
    )
