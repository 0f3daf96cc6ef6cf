"""A real Redis for the rate-limit tests, as fixtures (imported by tests/service/conftest.py).

The store is a throwaway `redis-server` started here, or the one CELERY_BROKER_URL names when
given (it must be a throwaway Redis: every test that uses it empties its database first). Tests
that stop Redis under a running app get a server of their own (`own_redis`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

from tools.redisserver import EphemeralRedis


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    given = os.environ.get("CELERY_BROKER_URL")
    if given:
        yield given
        return
    server = EphemeralRedis()
    try:
        yield server.start()
    finally:
        server.destroy()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """The tests' own connection to the store, emptied before each test."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def own_redis() -> Iterator[EphemeralRedis]:
    """A redis-server for this test alone, which it may stop and start again."""
    server = EphemeralRedis()
    server.start()
    try:
        yield server
    finally:
        server.destroy()
