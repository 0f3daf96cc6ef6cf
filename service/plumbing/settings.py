"""Typed configuration, read once from the environment.

Variable names and boolean parsing follow the reference Django app (django-environ), so a
single secret set configures both services.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from ssl import CERT_NONE, PROTOCOL_TLS_CLIENT, SSLContext, create_default_context
from urllib.parse import parse_qsl, unquote, urlsplit

# django-environ's truthy spellings; anything else (including unset) is False.
_TRUE_STRINGS = frozenset({"true", "on", "ok", "y", "yes", "1"})

# libpq's sslmode values; the last three refuse an unencrypted connection.
_SSL_MODES = frozenset({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"})
_SSL_OPTIONAL_MODES = frozenset({"allow", "prefer"})

# The reference's default trust list (api/scorer/settings/base.py).
DEFAULT_TRUSTED_IAM_ISSUERS = (
    "did:key:GlMY_1zkc0i11O-wMBWbSiUfIkZiXzFLlAQ89pdfyBA",
    "did:ethr:0xabczyx",
)

# Where the Passport app publishes stampMetadata.json and its icons (the reference's default).
DEFAULT_PASSPORT_PUBLIC_URL = "http://localhost:80"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class DatabaseTarget:
    host: str
    port: int
    database: str
    user: str
    password: str | None
    unix_sock: str | None = None
    sslmode: str = "prefer"
    sslrootcert: str | None = None

    def ssl_context(self) -> SSLContext | bool:
        """The `ssl_context` argument for pg8000 that gives libpq's meaning of `sslmode`.

        `require` encrypts without checking the certificate (RDS certificates do not chain to
        the system trust store); only `verify-ca` and `verify-full` check it. `allow` and
        `prefer` encrypt without checking when the server offers TLS: pass
        `plaintext_fallback` too, as `service.db.connection.open_connection` does.
        """
        if self.sslmode == "disable":
            return False
        if self.plaintext_fallback and self.unix_sock is not None:
            return False  # PostgreSQL offers no TLS on a Unix socket, and libpq asks for none
        cafile = None if self.sslrootcert in (None, "system") else self.sslrootcert
        checks = self.sslmode in ("verify-ca", "verify-full") or (
            # As in libpq, `require` with a root certificate given behaves like `verify-ca`.
            self.sslmode == "require" and cafile is not None
        )
        if not checks:
            # Not create_default_context: it reads the system's whole trust store (about 30 ms
            # of every new connection, a cold start's included) for a context that never
            # consults it. pg8000 does that itself when given no context.
            context = SSLContext(PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = CERT_NONE
            return context
        context = create_default_context(cafile=cafile)
        if self.sslmode != "verify-full":
            context.check_hostname = False
        return context

    @property
    def plaintext_fallback(self) -> bool:
        """Whether a server that offers no TLS is spoken to in plain text (`allow`, `prefer`)."""
        return self.sslmode in _SSL_OPTIONAL_MODES


@dataclass(frozen=True)
class Settings:
    database: DatabaseTarget
    secret_key: str
    cgrants_api_token: str
    trusted_iam_issuers: frozenset[str]
    ceramic_cache_scorer_id: str | None = None
    ff_api_analytics: bool = False
    ff_multi_nullifier: bool = False
    human_points_enabled: bool = False
    human_points_write_enabled: bool = False
    human_points_start_timestamp: int = 0
    human_points_mta_enabled: bool = False
    demo_api_scorer_id: str | None = None
    demo_api_key: str | None = None
    demo_api_key_aliases: tuple[str, ...] = ()
    siwe_jwt_public_key: str | None = None
    passport_public_url: str = DEFAULT_PASSPORT_PUBLIC_URL
    db_connect_timeout_s: float = 5.0
    db_statement_timeout_ms: int = 10_000
    max_request_body_bytes: int = 1_048_576
    port: int = 8000
    log_level: str = "INFO"
    ratelimit_enable: bool = False
    celery_broker_url: str | None = None
    ratelimit_redis_connect_timeout_ms: int = 50
    ratelimit_redis_timeout_ms: int = 50
    ratelimit_circuit_open_s: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            database=parse_database_url(_required(env, "DATABASE_URL")),
            secret_key=_required(env, "SECRET_KEY"),
            cgrants_api_token=_required(env, "CGRANTS_API_TOKEN"),
            trusted_iam_issuers=frozenset(
                _json_string_list(env, "TRUSTED_IAM_ISSUERS", DEFAULT_TRUSTED_IAM_ISSUERS)
            ),
            ceramic_cache_scorer_id=_optional(env, "CERAMIC_CACHE_SCORER_ID"),
            # The reference compares these two flags with the exact string "on".
            ff_api_analytics=env.get("FF_API_ANALYTICS", "Off") == "on",
            ff_multi_nullifier=env.get("FF_MULTI_NULLIFIER", "off") == "on",
            human_points_enabled=parse_bool(env, "HUMAN_POINTS_ENABLED"),
            human_points_write_enabled=parse_bool(env, "HUMAN_POINTS_WRITE_ENABLED"),
            human_points_start_timestamp=_int(env, "HUMAN_POINTS_START_TIMESTAMP", 0),
            human_points_mta_enabled=parse_bool(env, "HUMAN_POINTS_MTA_ENABLED"),
            demo_api_scorer_id=_optional(env, "DEMO_API_SCORER_ID"),
            demo_api_key=_optional(env, "DEMO_API_KEY"),
            demo_api_key_aliases=tuple(_json_string_list(env, "DEMO_API_KEY_ALIASES", ())),
            siwe_jwt_public_key=_optional(env, "SIWE_JWT_PUBLIC_KEY"),
            passport_public_url=env.get("PASSPORT_PUBLIC_URL") or DEFAULT_PASSPORT_PUBLIC_URL,
            db_connect_timeout_s=_positive_float(env, "DB_CONNECT_TIMEOUT", 5.0),
            db_statement_timeout_ms=_int(env, "DB_STATEMENT_TIMEOUT_MS", 10_000, minimum=0),
            max_request_body_bytes=_int(env, "MAX_REQUEST_BODY_BYTES", 1_048_576, minimum=1),
            port=_int(env, "PORT", 8000, minimum=1, maximum=65535),
            log_level=_log_level(env),
            ratelimit_enable=parse_bool(env, "RATELIMIT_ENABLE"),
            celery_broker_url=_redis_url(env),
            ratelimit_redis_connect_timeout_ms=_int(
                env, "RATELIMIT_REDIS_CONNECT_TIMEOUT_MS", 50, minimum=1
            ),
            ratelimit_redis_timeout_ms=_int(env, "RATELIMIT_REDIS_TIMEOUT_MS", 50, minimum=1),
            ratelimit_circuit_open_s=_positive_float(env, "RATELIMIT_CIRCUIT_OPEN_SECONDS", 5.0),
        )


def parse_bool(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    # django-environ tries an integer first, so any non-zero number is true.
    try:
        return int(raw) != 0
    except ValueError:
        return raw.strip().lower() in _TRUE_STRINGS


def parse_database_url(url: str) -> DatabaseTarget:
    """Accepts postgres:// and postgresql:// URLs, as dj-database-url does.

    A ``host`` query parameter that is a directory selects a Unix socket, the libpq convention;
    ``sslmode`` and ``sslrootcert`` mean what they mean to libpq.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise SettingsError(
            f"DATABASE_URL must be a postgres:// or postgresql:// URL (got scheme {parts.scheme!r})"
        )
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise SettingsError("DATABASE_URL must name a database (postgres://user@host:5432/dbname)")
    query = dict(parse_qsl(parts.query))
    host_param = query.get("host") or None
    socket_dir = host_param if host_param and host_param.startswith("/") else None
    try:
        port = parts.port if parts.port is not None else 5432
    except ValueError as exc:
        raise SettingsError(f"DATABASE_URL has an invalid port: {exc}") from None
    if port == 0:
        raise SettingsError("DATABASE_URL has an invalid port: 0")
    sslmode = query.get("sslmode") or "prefer"
    if sslmode not in _SSL_MODES:
        raise SettingsError(
            f"DATABASE_URL has an invalid sslmode {sslmode!r} "
            f"(one of {', '.join(sorted(_SSL_MODES))})"
        )
    return DatabaseTarget(
        host=host_param if host_param and not socket_dir else parts.hostname or "localhost",
        port=port,
        database=database,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password) if parts.password is not None else None,
        unix_sock=f"{socket_dir}/.s.PGSQL.{port}" if socket_dir else None,
        sslmode=sslmode,
        sslrootcert=query.get("sslrootcert") or None,
    )


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise SettingsError(f"{name} is required but not set")
    return value


def _redis_url(env: Mapping[str, str]) -> str | None:
    """The reference's Redis (its cache and Celery broker), required when limits are on."""
    url = _optional(env, "CELERY_BROKER_URL")
    if not parse_bool(env, "RATELIMIT_ENABLE"):
        return url
    if url is None:
        raise SettingsError("CELERY_BROKER_URL is required when RATELIMIT_ENABLE is on")
    if urlsplit(url).scheme not in {"redis", "rediss", "unix"}:
        raise SettingsError(
            "CELERY_BROKER_URL must be a redis://, rediss:// or unix:// URL "
            f"(got scheme {urlsplit(url).scheme!r})"
        )
    return url


def _log_level(env: Mapping[str, str]) -> str:
    level = (env.get("LOG_LEVEL") or "INFO").strip().upper()
    # Checked here: an unknown name would otherwise fail inside logging at start-up.
    if level not in logging.getLevelNamesMapping():
        raise SettingsError(f"LOG_LEVEL must be a logging level name like INFO (got {level!r})")
    return level


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return value if value else None


def _int(
    env: Mapping[str, str],
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer (got {raw!r})") from None
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name} must be >= {minimum} (got {value})")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{name} must be <= {maximum} (got {value})")
    return value


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds (got {raw!r})") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive (got {raw!r})")
    return value


def _json_string_list(
    env: Mapping[str, str], name: str, default: tuple[str, ...]
) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise SettingsError(f"{name} must be a JSON list of strings (got {raw!r})") from None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise SettingsError(f"{name} must be a JSON list of strings (got {raw!r})")
    return tuple(value)
