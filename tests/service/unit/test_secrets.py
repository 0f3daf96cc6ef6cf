"""environment_with_secret: the Secrets Manager JSON overlaid on the Lambda environment."""

from __future__ import annotations

import json

import pytest

from service.plumbing.secrets import SECRET_ARN_VARIABLE, environment_with_secret
from service.plumbing.settings import Settings, SettingsError

ARN = "arn:aws:secretsmanager:us-west-2:123456789012:secret:scorer-api-AbCdEf"


class RecordingFetcher:
    """Stands in for Secrets Manager: answers one secret string and remembers what was asked."""

    def __init__(self, secret_string: str) -> None:
        self.secret_string = secret_string
        self.requested: list[str] = []

    def __call__(self, arn: str) -> str:
        self.requested.append(arn)
        return self.secret_string


def test_secret_keys_are_added_to_the_environment() -> None:
    fetch = RecordingFetcher(json.dumps({"SECRET_KEY": "from-secret", "CGRANTS_API_TOKEN": "t"}))

    merged = environment_with_secret({SECRET_ARN_VARIABLE: ARN, "LOG_LEVEL": "DEBUG"}, fetch)

    assert merged == {
        SECRET_ARN_VARIABLE: ARN,
        "LOG_LEVEL": "DEBUG",
        "SECRET_KEY": "from-secret",
        "CGRANTS_API_TOKEN": "t",
    }


def test_the_secret_named_by_the_arn_variable_is_the_one_fetched() -> None:
    fetch = RecordingFetcher("{}")

    environment_with_secret({SECRET_ARN_VARIABLE: ARN}, fetch)

    assert fetch.requested == [ARN]


def test_a_secret_key_wins_over_the_same_environment_variable() -> None:
    fetch = RecordingFetcher(json.dumps({"SECRET_KEY": "from-secret"}))

    merged = environment_with_secret({SECRET_ARN_VARIABLE: ARN, "SECRET_KEY": "from-env"}, fetch)

    assert merged["SECRET_KEY"] == "from-secret"


def test_non_string_secret_values_become_json_text_that_settings_can_parse() -> None:
    fetch = RecordingFetcher(
        json.dumps(
            {
                "DATABASE_URL": "postgresql://scorer@db.example/scorer",
                "SECRET_KEY": "k",
                "CGRANTS_API_TOKEN": "t",
                "TRUSTED_IAM_ISSUERS": ["did:ethr:0x1"],
                "PORT": 8080,
                "HUMAN_POINTS_ENABLED": True,
            }
        )
    )

    settings = Settings.from_env(environment_with_secret({SECRET_ARN_VARIABLE: ARN}, fetch))

    assert settings.trusted_iam_issuers == frozenset({"did:ethr:0x1"})
    assert settings.port == 8080
    assert settings.human_points_enabled is True


def test_the_given_environment_is_not_modified() -> None:
    env = {SECRET_ARN_VARIABLE: ARN}

    environment_with_secret(env, RecordingFetcher(json.dumps({"SECRET_KEY": "k"})))

    assert env == {SECRET_ARN_VARIABLE: ARN}


@pytest.mark.parametrize("secret_string", ["SECRET_KEY=k", "", "{'SECRET_KEY': 'k'}"])
def test_a_secret_that_is_not_json_is_a_settings_error_naming_the_variable(
    secret_string: str,
) -> None:
    with pytest.raises(SettingsError, match=f"{SECRET_ARN_VARIABLE} is not JSON"):
        environment_with_secret({SECRET_ARN_VARIABLE: ARN}, RecordingFetcher(secret_string))


@pytest.mark.parametrize("secret_string", ['["SECRET_KEY"]', '"k"', "42", "null"])
def test_a_secret_that_is_not_a_json_object_is_a_settings_error(secret_string: str) -> None:
    with pytest.raises(SettingsError, match="must be a JSON object"):
        environment_with_secret({SECRET_ARN_VARIABLE: ARN}, RecordingFetcher(secret_string))


@pytest.mark.parametrize("env", [{"SECRET_KEY": "k"}, {SECRET_ARN_VARIABLE: "", "SECRET_KEY": "k"}])
def test_without_an_arn_the_environment_is_returned_unchanged_and_nothing_is_fetched(
    env: dict[str, str],
) -> None:
    fetch = RecordingFetcher("{}")

    merged = environment_with_secret(env, fetch)

    assert merged == env
    assert fetch.requested == []
