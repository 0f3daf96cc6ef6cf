"""Settings from AWS Secrets Manager, overlaid on the environment at cold start.

The deployment puts only non-secret values in the Lambda environment and names the secret in
SETTINGS_SECRET_ARN; its JSON keys (DATABASE_URL, SECRET_KEY, CGRANTS_API_TOKEN, ...) win.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from service.plumbing.settings import SettingsError

SECRET_ARN_VARIABLE = "SETTINGS_SECRET_ARN"  # noqa: S105 - a variable name, not a secret

SecretFetcher = Callable[[str], str]


def environment_with_secret(
    env: Mapping[str, str], fetch: SecretFetcher | None = None
) -> dict[str, str]:
    merged = dict(env)
    arn = env.get(SECRET_ARN_VARIABLE)
    if not arn:
        return merged
    raw = (fetch or _fetch_from_secrets_manager)(arn)
    try:
        values: Any = json.loads(raw)
    except json.JSONDecodeError:
        raise SettingsError(f"the secret named by {SECRET_ARN_VARIABLE} is not JSON") from None
    if not isinstance(values, dict):
        raise SettingsError(f"the secret named by {SECRET_ARN_VARIABLE} must be a JSON object")
    for key, value in values.items():
        merged[str(key)] = value if isinstance(value, str) else json.dumps(value)
    return merged


def _fetch_from_secrets_manager(arn: str) -> str:
    # Imported here: boto3 costs ~100 ms to import and local runs never need it.
    import boto3

    response = boto3.client("secretsmanager").get_secret_value(SecretId=arn)
    return str(response["SecretString"])
