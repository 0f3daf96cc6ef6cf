"""The local server as `make run` starts it (`python -m service`, gunicorn threaded workers), as a
subprocess on a free port, with its request log going to a file."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pg8000.native

from tools.bench import procstat

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
# The request log identifies the server's database sessions (service.db.connection).
APPLICATION_NAME = "passport-scorer"


class ServerError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalServer:
    env: Mapping[str, str]
    workers: int
    log_path: Path
    port: int = field(default_factory=free_port)
    _process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "service",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]

    @property
    def display_command(self) -> str:
        return "python " + " ".join(self.command[1:])

    @property
    def pid(self) -> int:
        if self._process is None:
            raise ServerError("the server is not running")
        return self._process.pid

    def start(self, timeout_s: float = 30) -> None:
        self._log = self.log_path.open("wb")
        self._process = subprocess.Popen(
            self.command,
            cwd=REPO_ROOT,
            env=dict(self.env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Its own session: a Ctrl-C in the terminal reaches the harness, which stops it.
            start_new_session=True,
        )
        self._wait_until_healthy(timeout_s)

    def _wait_until_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise ServerError(
                    f"the server exited with code {self._process.returncode}:\n{self.log_tail()}"
                )
            conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
            try:
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    return
            except (OSError, http.client.HTTPException):
                time.sleep(0.1)
            finally:
                conn.close()
        raise ServerError(f"the server did not answer /health in {timeout_s:.0f} s")

    def worker_pids(self) -> list[int]:
        return procstat.children_of(self.pid)

    def database_pids(self, conn: pg8000.native.Connection) -> list[int]:
        """The PostgreSQL backends serving the workers; empty when the database is not local."""
        rows = conn.run(
            "SELECT pid FROM pg_stat_activity WHERE application_name = :name",
            name=APPLICATION_NAME,
        )
        pids = [int(row[0]) for row in rows]
        return [pid for pid in pids if Path(f"/proc/{pid}").exists()]

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)  # gunicorn's graceful shutdown
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
