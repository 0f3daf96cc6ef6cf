"""Resetting the test database between tests, keeping the reference rows the schema seeds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pg8000.native
from pg8000.native import identifier


@dataclass
class TableReset:
    tables: list[str]
    seeded: dict[str, tuple[list[str], list[list[Any]]]]

    @classmethod
    def capture(cls, conn: pg8000.native.Connection) -> TableReset:
        tables = [
            row[0]
            for row in conn.run(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        seeded: dict[str, tuple[list[str], list[list[Any]]]] = {}
        for table in tables:
            rows = conn.run(f"SELECT * FROM {identifier(table)} ORDER BY 1")
            if rows:
                seeded[table] = ([col["name"] for col in conn.columns], rows)
        return cls(tables=tables, seeded=seeded)

    def reset(self, conn: pg8000.native.Connection) -> None:
        conn.run(
            "TRUNCATE "
            + ", ".join(identifier(t) for t in self.tables)
            + " RESTART IDENTITY CASCADE"
        )
        for table, (columns, rows) in self.seeded.items():
            column_list = ", ".join(identifier(c) for c in columns)
            for row in rows:
                params = {f"p{i}": value for i, value in enumerate(row)}
                placeholders = ", ".join(f":p{i}" for i in range(len(row)))
                conn.run(
                    f"INSERT INTO {identifier(table)} ({column_list}) OVERRIDING SYSTEM VALUE "
                    f"VALUES ({placeholders})",
                    **params,
                )
            conn.run(
                f"SELECT setval(pg_get_serial_sequence(:t, 'id'), "
                f"(SELECT max(id) FROM {identifier(table)}))",
                t=table,
            )
