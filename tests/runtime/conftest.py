"""The runtime tests use the service tests' real PostgreSQL (tests/service/conftest.py)."""

from tests.service.conftest import admin_conn, database_url

__all__ = ["admin_conn", "database_url"]
