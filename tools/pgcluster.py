"""A throwaway PostgreSQL cluster for local runs, tests and benchmarks.

pytest-postgresql would be the library for this, but it runs initdb as the current user and
initdb refuses to run as root, which is how CI and these machines run. This module does the same
job (initdb + pg_ctl on a free port) and, when it runs as root, runs the server as the unprivileged
`postgres` user.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pg8000.native

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "service" / "db" / "schema.sql"

# Durability is pointless for a cluster that is thrown away; these make it start and write fast.
# Autovacuum looks every second, without pausing: tests and benchmarks rescore the same passports
# hundreds of times a minute, and each rescoring replaces the passport's stamp rows, so with the
# default minute between looks their dead rows pile up under the passport's index entries and
# every rescoring gets slower. A live server's autovacuum keeps up with its tables as these
# settings make this one do; no live passport is rescored at that rate.
_FAST_SETTINGS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
    "-c max_connections=200 -c shared_buffers=128MB "
    "-c autovacuum_naptime=1 -c autovacuum_vacuum_cost_delay=0"
)


class ClusterError(RuntimeError):
    pass


def _bin_dir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    if candidates:
        return candidates[0].parent
    raise ClusterError(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or under "
        "/usr/lib/postgresql; install the PostgreSQL server package, or set DATABASE_URL."
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class EphemeralCluster:
    """initdb + pg_ctl in `root_dir`; `start()` returns a DATABASE_URL for database `dbname`."""

    root_dir: Path
    dbname: str = "scorer"
    port: int | None = None
    # More server settings (name → value), given as `-c` options at start.
    server_settings: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root_dir = Path(self.root_dir).resolve()
        self._bin = _bin_dir()
        self._run_as = "postgres" if os.geteuid() == 0 else None
        self.data_dir = self.root_dir / "pgdata"
        self.log_file = self.root_dir / "postgres.log"

    @classmethod
    def in_temp_dir(cls, dbname: str = "scorer") -> EphemeralCluster:
        return cls(Path(tempfile.mkdtemp(prefix="scorer-pg-")), dbname=dbname)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.dbname}"

    def _command(self, *args: str) -> list[str]:
        command = [str(self._bin / args[0]), *args[1:]]
        if self._run_as:
            return ["runuser", "-u", self._run_as, "--", *command]
        return command

    def is_reachable(self) -> bool:
        """Whether the server's user can get to `root_dir`: a private parent folder (a
        `mktemp -d`, a home directory) keeps the unprivileged `postgres` user out."""
        if not self._run_as:
            return True
        existing = self.root_dir
        while not existing.exists():
            existing = existing.parent
        probe = subprocess.run(
            ["runuser", "-u", self._run_as, "--", "test", "-x", str(existing)], check=False
        )
        return probe.returncode == 0

    def _prepare_dir(self) -> None:
        self.root_dir.mkdir(parents=True, exist_ok=True)
        if self._run_as:
            entry = pwd.getpwnam(self._run_as)
            os.chown(self.root_dir, entry.pw_uid, entry.pw_gid)
            probe = subprocess.run(
                ["runuser", "-u", self._run_as, "--", "test", "-w", str(self.root_dir)],
                check=False,
            )
            if probe.returncode != 0:
                raise ClusterError(
                    f"{self.root_dir} is not reachable by the '{self._run_as}' user (a parent "
                    "folder is private); clone the repository somewhere world-readable or set "
                    "DATABASE_URL."
                )

    def start(self) -> str:
        self._prepare_dir()
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--no-locale",
            )
        self.port = self.port or _free_port()
        options = (
            f"-p {self.port} -k {self.root_dir} -c listen_addresses=127.0.0.1 {_FAST_SETTINGS}"
        )
        for name, value in self.server_settings.items():
            options += f" -c {shlex.quote(f'{name}={value}')}"  # pg_ctl hands -o to a shell
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-o",
            options,
            "-w",
            "start",
        )
        self._ensure_database()
        return self.url

    def hand_over(self, *paths: Path) -> None:
        """Makes files the server reads (a private key, say) its user's own."""
        if self._run_as:
            entry = pwd.getpwnam(self._run_as)
            for path in paths:
                os.chown(path, entry.pw_uid, entry.pw_gid)

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            subprocess.run(
                self._command("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop"),
                check=False,
                capture_output=True,
            )

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root_dir, ignore_errors=True)

    def connect(self, database: str | None = None) -> pg8000.native.Connection:
        """A superuser connection to `database` (default: the cluster's own) on the cluster."""
        return pg8000.native.Connection(
            user="postgres", host="127.0.0.1", port=self.port, database=database or self.dbname
        )

    def _ensure_database(self) -> None:
        conn = self.connect("postgres")
        try:
            exists = conn.run("SELECT 1 FROM pg_database WHERE datname = :name", name=self.dbname)
            if not exists:
                conn.run(f"CREATE DATABASE {pg8000.native.identifier(self.dbname)}")
        finally:
            conn.close()

    def _run(self, *args: str) -> None:
        result = subprocess.run(self._command(*args), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log_tail = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
            raise ClusterError(
                f"{args[0]} failed ({result.returncode}): {result.stderr.strip()}\n{log_tail}"
            )


def apply_schema(conn: pg8000.native.Connection, schema_path: Path = SCHEMA_PATH) -> bool:
    """Creates the Django-owned tables unless they are already there. Returns True if it did."""
    present = conn.run("SELECT to_regclass('public.registry_score') IS NOT NULL")[0][0]
    if present:
        return False
    conn.run("START TRANSACTION")
    try:
        conn.execute_simple(schema_path.read_text())
        conn.run("COMMIT")
    except Exception:
        conn.run("ROLLBACK")
        raise
    return True
