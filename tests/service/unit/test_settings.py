"""Settings.from_env: every variable, its default, and the error that names a bad one."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from service.plumbing.settings import (
    DEFAULT_TRUSTED_IAM_ISSUERS,
    DatabaseTarget,
    Settings,
    SettingsError,
    parse_database_url,
)
from tests.service.support import tls

REPO_ROOT = Path(__file__).resolve().parents[3]

MINIMAL_ENV = {
    "DATABASE_URL": "postgresql://scorer:pw@db.example:5432/scorer",
    "SECRET_KEY": "secret",
    "CGRANTS_API_TOKEN": "token",
}


def settings_with(**overrides: str) -> Settings:
    return Settings.from_env({**MINIMAL_ENV, **overrides})


def settings_without(name: str) -> dict[str, str]:
    return {key: value for key, value in MINIMAL_ENV.items() if key != name}


# DATABASE_URL


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_database_url_gives_host_port_name_user_and_password(scheme: str) -> None:
    target = parse_database_url(f"{scheme}://scorer:s3cret@db.example:6543/scorer_db")

    assert target == DatabaseTarget(
        host="db.example",
        port=6543,
        database="scorer_db",
        user="scorer",
        password="s3cret",
    )


def test_database_url_percent_decodes_user_password_and_name() -> None:
    target = parse_database_url("postgresql://us%40er:p%2Fw%3Ad@db.example/my%20db")

    assert (target.user, target.password, target.database) == ("us@er", "p/w:d", "my db")


def test_database_url_without_port_user_or_password_uses_the_libpq_defaults() -> None:
    target = parse_database_url("postgresql://db.example/scorer")

    assert (target.port, target.user, target.password) == (5432, "postgres", None)


def test_database_url_host_parameter_naming_a_directory_selects_a_unix_socket() -> None:
    target = parse_database_url("postgresql://scorer@/scorer?host=/var/run/postgresql")

    assert target.unix_sock == "/var/run/postgresql/.s.PGSQL.5432"


def test_database_url_unix_socket_file_carries_the_port() -> None:
    target = parse_database_url("postgresql://scorer@:6000/scorer?host=%2Fsrv%2Fpg")

    assert target.unix_sock == "/srv/pg/.s.PGSQL.6000"


def test_database_url_host_parameter_naming_a_host_overrides_the_url_host() -> None:
    target = parse_database_url("postgresql://scorer@ignored.example/scorer?host=db.internal")

    assert (target.host, target.unix_sock) == ("db.internal", None)


def test_database_url_without_sslmode_does_not_require_tls() -> None:
    target = parse_database_url("postgresql://db.example/scorer")

    assert (target.plaintext_fallback, target.sslmode) == (True, "prefer")


@pytest.mark.parametrize("mode", ["require", "verify-ca", "verify-full"])
def test_database_url_sslmode_that_refuses_plain_text_requires_tls(mode: str) -> None:
    target = parse_database_url(f"postgresql://db.example/scorer?sslmode={mode}")

    assert isinstance(target.ssl_context(), ssl.SSLContext)
    assert (target.plaintext_fallback, target.sslmode) == (False, mode)


@pytest.mark.parametrize("mode", ["disable", "allow", "prefer"])
def test_database_url_sslmode_that_allows_plain_text_does_not_require_tls(mode: str) -> None:
    target = parse_database_url(f"postgresql://db.example/scorer?sslmode={mode}")

    assert target.plaintext_fallback or target.ssl_context() is False


def test_database_url_with_an_unknown_sslmode_is_an_error_naming_it() -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL has an invalid sslmode"):
        parse_database_url("postgresql://db.example/scorer?sslmode=requre")


def test_sslmode_require_encrypts_without_checking_the_certificate() -> None:
    target = parse_database_url("postgresql://db.example/scorer?sslmode=require")
    context = target.ssl_context()

    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_NONE
    assert context.check_hostname is False
    assert target.plaintext_fallback is False


@pytest.mark.parametrize("mode", ["allow", "prefer", "require"])
def test_a_context_that_checks_no_certificate_reads_no_trust_store(mode: str) -> None:
    # Reading the system's trust store costs every new connection about 30 ms.
    context = parse_database_url(f"postgresql://db.example/scorer?sslmode={mode}").ssl_context()

    assert isinstance(context, ssl.SSLContext)
    assert context.cert_store_stats()["x509_ca"] == 0


def test_sslmode_require_with_a_root_certificate_checks_the_chain(tmp_path: Path) -> None:
    # libpq's rule: `require` with a root certificate given is `verify-ca`.
    root = tls.self_signed(tmp_path).cert_file
    target = parse_database_url(
        f"postgresql://db.example/scorer?sslmode=require&sslrootcert={root}"
    )
    context = target.ssl_context()

    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is False
    assert context.cert_store_stats()["x509_ca"] == 1


def test_sslmode_verify_ca_checks_the_chain_but_not_the_host_name() -> None:
    context = parse_database_url("postgresql://db.example/scorer?sslmode=verify-ca").ssl_context()

    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is False


def test_sslmode_verify_full_checks_the_chain_and_the_host_name() -> None:
    context = parse_database_url("postgresql://db.example/scorer?sslmode=verify-full").ssl_context()

    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True


def test_sslmode_disable_never_attempts_tls() -> None:
    target = parse_database_url("postgresql://db.example/scorer?sslmode=disable")

    assert target.ssl_context() is False


@pytest.mark.parametrize("query", ["", "?sslmode=prefer", "?sslmode=allow"])
def test_no_sslmode_encrypts_when_the_server_offers_tls_and_falls_back_to_plain_text(
    query: str,
) -> None:
    target = parse_database_url(f"postgresql://db.example/scorer{query}")
    context = target.ssl_context()

    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_NONE
    assert target.plaintext_fallback is True


def test_no_sslmode_over_a_unix_socket_never_attempts_tls() -> None:
    target = parse_database_url("postgresql://scorer@/scorer?host=/var/run/postgresql")

    assert target.unix_sock is not None
    assert target.ssl_context() is False


def test_database_url_without_a_database_name_is_an_error_naming_it() -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL must name a database"):
        settings_with(DATABASE_URL="postgresql://scorer@db.example:5432/")


@pytest.mark.parametrize(
    "url", ["mysql://scorer@db.example/scorer", "db.example:5432/scorer", "sqlite:///scorer"]
)
def test_database_url_with_another_scheme_is_an_error_naming_it(url: str) -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL must be a postgres"):
        settings_with(DATABASE_URL=url)


@pytest.mark.parametrize("port", ["abc", "99999", "0"])
def test_database_url_with_a_bad_port_is_an_error_naming_it(port: str) -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL has an invalid port"):
        settings_with(DATABASE_URL=f"postgresql://scorer@db.example:{port}/scorer")


# Required secrets


@pytest.mark.parametrize("name", ["DATABASE_URL", "SECRET_KEY", "CGRANTS_API_TOKEN"])
def test_a_missing_required_variable_is_an_error_naming_it(name: str) -> None:
    with pytest.raises(SettingsError, match=f"^{name} is required"):
        Settings.from_env(settings_without(name))


@pytest.mark.parametrize("name", ["DATABASE_URL", "SECRET_KEY", "CGRANTS_API_TOKEN"])
def test_an_empty_required_variable_counts_as_missing(name: str) -> None:
    with pytest.raises(SettingsError, match=f"^{name} is required"):
        settings_with(**{name: ""})


def test_secret_key_and_internal_token_are_kept_as_given() -> None:
    settings = settings_with(SECRET_KEY="k-1", CGRANTS_API_TOKEN="t-2")

    assert (settings.secret_key, settings.cgrants_api_token) == ("k-1", "t-2")


# TRUSTED_IAM_ISSUERS


def test_trusted_iam_issuers_is_read_from_a_json_list() -> None:
    settings = settings_with(TRUSTED_IAM_ISSUERS='["did:ethr:0x1", "did:key:abc"]')

    assert settings.trusted_iam_issuers == frozenset({"did:ethr:0x1", "did:key:abc"})


@pytest.mark.parametrize("overrides", [{}, {"TRUSTED_IAM_ISSUERS": ""}])
def test_trusted_iam_issuers_defaults_to_the_reference_list(overrides: dict[str, str]) -> None:
    settings = settings_with(**overrides)

    assert settings.trusted_iam_issuers == frozenset(DEFAULT_TRUSTED_IAM_ISSUERS)


def test_trusted_iam_issuers_may_be_an_empty_list() -> None:
    assert settings_with(TRUSTED_IAM_ISSUERS="[]").trusted_iam_issuers == frozenset()


@pytest.mark.parametrize(
    "raw",
    [
        "did:ethr:0x1",  # not JSON
        "['did:ethr:0x1']",  # a Python literal, not JSON
        '{"did:ethr:0x1": true}',  # not a list
        '"did:ethr:0x1"',  # a bare string
        '["did:ethr:0x1", 7]',  # a non-string item
    ],
)
def test_trusted_iam_issuers_that_is_not_a_json_list_of_strings_is_an_error_naming_it(
    raw: str,
) -> None:
    with pytest.raises(SettingsError, match="TRUSTED_IAM_ISSUERS must be a JSON list of strings"):
        settings_with(TRUSTED_IAM_ISSUERS=raw)


# Feature flags compared with the exact string "on"


@pytest.mark.parametrize(
    ("name", "attribute"),
    [("FF_API_ANALYTICS", "ff_api_analytics"), ("FF_MULTI_NULLIFIER", "ff_multi_nullifier")],
)
def test_feature_flag_is_on_for_the_exact_string_on(name: str, attribute: str) -> None:
    assert getattr(settings_with(**{name: "on"}), attribute) is True


@pytest.mark.parametrize(
    ("name", "attribute"),
    [("FF_API_ANALYTICS", "ff_api_analytics"), ("FF_MULTI_NULLIFIER", "ff_multi_nullifier")],
)
@pytest.mark.parametrize("raw", ["On", "ON", " on", "true", "1", "yes", "off", "Off", ""])
def test_feature_flag_is_off_for_anything_but_the_exact_string_on(
    name: str, attribute: str, raw: str
) -> None:
    assert getattr(settings_with(**{name: raw}), attribute) is False


@pytest.mark.parametrize("attribute", ["ff_api_analytics", "ff_multi_nullifier"])
def test_feature_flag_is_off_when_unset(attribute: str) -> None:
    assert getattr(settings_with(), attribute) is False


# HUMAN_POINTS_* booleans, parsed as django-environ's env.bool

HUMAN_POINTS_BOOLEANS = [
    ("HUMAN_POINTS_ENABLED", "human_points_enabled"),
    ("HUMAN_POINTS_WRITE_ENABLED", "human_points_write_enabled"),
    ("HUMAN_POINTS_MTA_ENABLED", "human_points_mta_enabled"),
]


@pytest.mark.parametrize(("name", "attribute"), HUMAN_POINTS_BOOLEANS)
@pytest.mark.parametrize(
    "raw", ["true", "True", "TRUE", "on", "ON", "ok", "OK", "y", "Y", "yes", "Yes", "1", " yes "]
)
def test_human_points_boolean_is_true_for_the_django_environ_spellings(
    name: str, attribute: str, raw: str
) -> None:
    assert getattr(settings_with(**{name: raw}), attribute) is True


@pytest.mark.parametrize(("name", "attribute"), HUMAN_POINTS_BOOLEANS)
@pytest.mark.parametrize(
    "raw", ["false", "False", "0", "no", "n", "off", "", "enabled", "t", "yes please"]
)
def test_human_points_boolean_is_false_for_any_other_word(
    name: str, attribute: str, raw: str
) -> None:
    assert getattr(settings_with(**{name: raw}), attribute) is False


@pytest.mark.parametrize(("name", "attribute"), HUMAN_POINTS_BOOLEANS)
@pytest.mark.parametrize("raw", ["2", "-1", "01"])
def test_human_points_boolean_is_true_for_any_non_zero_integer_as_django_environ_reads_it(
    name: str, attribute: str, raw: str
) -> None:
    assert getattr(settings_with(**{name: raw}), attribute) is True


@pytest.mark.parametrize(("name", "attribute"), HUMAN_POINTS_BOOLEANS)
def test_human_points_boolean_is_false_when_unset(name: str, attribute: str) -> None:
    assert getattr(settings_with(), attribute) is False


def test_human_points_start_timestamp_is_an_integer_of_unix_seconds() -> None:
    settings = settings_with(HUMAN_POINTS_START_TIMESTAMP="1751328000")

    assert settings.human_points_start_timestamp == 1751328000


def test_human_points_start_timestamp_defaults_to_zero() -> None:
    assert settings_with().human_points_start_timestamp == 0


@pytest.mark.parametrize("raw", ["soon", "1.5", "1e9"])
def test_human_points_start_timestamp_that_is_not_an_integer_is_an_error_naming_it(
    raw: str,
) -> None:
    with pytest.raises(SettingsError, match="HUMAN_POINTS_START_TIMESTAMP must be an integer"):
        settings_with(HUMAN_POINTS_START_TIMESTAMP=raw)


# Demo key and scorer


def test_demo_scorer_and_key_are_kept_as_strings() -> None:
    settings = settings_with(DEMO_API_SCORER_ID="335", DEMO_API_KEY="demo.key")

    assert (settings.demo_api_scorer_id, settings.demo_api_key) == ("335", "demo.key")


def test_demo_scorer_and_key_are_none_when_unset() -> None:
    settings = settings_with()

    assert (settings.demo_api_scorer_id, settings.demo_api_key) == (None, None)


def test_demo_scorer_and_key_are_none_when_empty() -> None:
    settings = settings_with(DEMO_API_SCORER_ID="", DEMO_API_KEY="")

    assert (settings.demo_api_scorer_id, settings.demo_api_key) == (None, None)


def test_demo_api_key_aliases_is_read_from_a_json_list_in_order() -> None:
    settings = settings_with(DEMO_API_KEY_ALIASES='["demo", "try-me"]')

    assert settings.demo_api_key_aliases == ("demo", "try-me")


def test_demo_api_key_aliases_defaults_to_empty() -> None:
    assert settings_with().demo_api_key_aliases == ()


@pytest.mark.parametrize("raw", ["demo,try-me", '{"demo": 1}', "[1]"])
def test_demo_api_key_aliases_that_is_not_a_json_list_of_strings_is_an_error_naming_it(
    raw: str,
) -> None:
    with pytest.raises(SettingsError, match="DEMO_API_KEY_ALIASES must be a JSON list"):
        settings_with(DEMO_API_KEY_ALIASES=raw)


# Optional strings


def test_ceramic_cache_scorer_id_and_siwe_public_key_are_kept_as_given() -> None:
    settings = settings_with(CERAMIC_CACHE_SCORER_ID="1", SIWE_JWT_PUBLIC_KEY="-----BEGIN...")

    assert (settings.ceramic_cache_scorer_id, settings.siwe_jwt_public_key) == (
        "1",
        "-----BEGIN...",
    )


def test_ceramic_cache_scorer_id_and_siwe_public_key_are_none_when_unset() -> None:
    settings = settings_with()

    assert (settings.ceramic_cache_scorer_id, settings.siwe_jwt_public_key) == (None, None)


# PORT


def test_port_defaults_to_8000() -> None:
    assert settings_with().port == 8000


@pytest.mark.parametrize(("raw", "port"), [("1", 1), ("8080", 8080), ("65535", 65535)])
def test_port_within_bounds_is_accepted(raw: str, port: int) -> None:
    assert settings_with(PORT=raw).port == port


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0", "PORT must be >= 1"),
        ("65536", "PORT must be <= 65535"),
        ("http", "PORT must be an integer"),
    ],
)
def test_port_out_of_bounds_or_not_a_number_is_an_error_naming_it(raw: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings_with(PORT=raw)


# Database timeouts


def test_db_connect_timeout_is_seconds_as_a_float() -> None:
    assert settings_with(DB_CONNECT_TIMEOUT="2.5").db_connect_timeout_s == 2.5


def test_db_connect_timeout_defaults_to_five_seconds() -> None:
    assert settings_with().db_connect_timeout_s == 5.0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0", "DB_CONNECT_TIMEOUT must be positive"),
        ("-1", "DB_CONNECT_TIMEOUT must be positive"),
        ("soon", "DB_CONNECT_TIMEOUT must be a number"),
    ],
)
def test_db_connect_timeout_that_is_not_a_positive_number_is_an_error_naming_it(
    raw: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        settings_with(DB_CONNECT_TIMEOUT=raw)


def test_db_statement_timeout_is_milliseconds_as_an_integer() -> None:
    assert settings_with(DB_STATEMENT_TIMEOUT_MS="2500").db_statement_timeout_ms == 2500


def test_db_statement_timeout_defaults_to_ten_seconds() -> None:
    assert settings_with().db_statement_timeout_ms == 10_000


def test_db_statement_timeout_of_zero_disables_it() -> None:
    assert settings_with(DB_STATEMENT_TIMEOUT_MS="0").db_statement_timeout_ms == 0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("-1", "DB_STATEMENT_TIMEOUT_MS must be >= 0"),
        ("1.5", "DB_STATEMENT_TIMEOUT_MS must be an integer"),
    ],
)
def test_db_statement_timeout_that_is_negative_or_not_an_integer_is_an_error_naming_it(
    raw: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        settings_with(DB_STATEMENT_TIMEOUT_MS=raw)


# LOG_LEVEL


def test_log_level_defaults_to_info() -> None:
    assert settings_with().log_level == "INFO"


def test_log_level_is_upper_cased() -> None:
    assert settings_with(LOG_LEVEL="debug").log_level == "DEBUG"


def test_log_level_that_logging_does_not_know_is_an_error_naming_it() -> None:
    with pytest.raises(SettingsError, match="LOG_LEVEL must be a logging level"):
        settings_with(LOG_LEVEL="loud")


# The local server's entry point


def test_local_server_with_a_missing_variable_exits_non_zero_naming_it() -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": "postgresql://scorer@127.0.0.1:1/scorer",
        "CGRANTS_API_TOKEN": "token",
    }

    result = subprocess.run(
        [sys.executable, "-m", "service"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


# MAX_REQUEST_BODY_BYTES


def test_body_limit_defaults_to_one_mebibyte() -> None:
    assert settings_with().max_request_body_bytes == 1_048_576


@pytest.mark.parametrize(("raw", "message"), [("0", "must be >= 1"), ("1MB", "must be an integer")])
def test_body_limit_must_be_a_positive_integer(raw: str, message: str) -> None:
    with pytest.raises(SettingsError, match=f"MAX_REQUEST_BODY_BYTES {message}"):
        settings_with(MAX_REQUEST_BODY_BYTES=raw)


# Rate limits


def test_rate_limits_are_off_by_default_and_need_no_redis() -> None:
    settings = settings_with()

    assert settings.ratelimit_enable is False
    assert settings.celery_broker_url is None
    assert settings.ratelimit_redis_connect_timeout_ms == 50
    assert settings.ratelimit_redis_timeout_ms == 50
    assert settings.ratelimit_circuit_open_s == 5.0


def test_rate_limits_read_the_references_switch_and_redis_url() -> None:
    settings = settings_with(
        RATELIMIT_ENABLE="True",
        CELERY_BROKER_URL="rediss://:token@redis.internal:6379/0",
        RATELIMIT_REDIS_CONNECT_TIMEOUT_MS="20",
        RATELIMIT_REDIS_TIMEOUT_MS="15",
        RATELIMIT_CIRCUIT_OPEN_SECONDS="2.5",
    )

    assert settings.ratelimit_enable is True
    assert settings.celery_broker_url == "rediss://:token@redis.internal:6379/0"
    assert settings.ratelimit_redis_connect_timeout_ms == 20
    assert settings.ratelimit_redis_timeout_ms == 15
    assert settings.ratelimit_circuit_open_s == 2.5


def test_rate_limits_on_without_a_redis_url_is_an_error_naming_it() -> None:
    with pytest.raises(SettingsError, match="CELERY_BROKER_URL is required"):
        settings_with(RATELIMIT_ENABLE="on")


def test_rate_limits_on_with_a_non_redis_url_is_an_error_naming_it() -> None:
    with pytest.raises(SettingsError, match="CELERY_BROKER_URL must be a redis"):
        settings_with(RATELIMIT_ENABLE="1", CELERY_BROKER_URL="amqp://guest@rabbit//")


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("RATELIMIT_REDIS_CONNECT_TIMEOUT_MS", "0"),
        ("RATELIMIT_REDIS_TIMEOUT_MS", "fast"),
        ("RATELIMIT_CIRCUIT_OPEN_SECONDS", "-1"),
    ],
)
def test_rate_limit_timeouts_that_are_not_positive_are_errors_naming_them(
    name: str, raw: str
) -> None:
    with pytest.raises(SettingsError, match=name):
        settings_with(**{name: raw})
