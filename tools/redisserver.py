"""A throwaway redis-server for local runs, tests and benchmarks (the rate limiter's store).

Memory only (no RDB, no AOF), bound to 127.0.0.1 on a free port. `stop()` and `start()` again
keep the port, so a test can take Redis away under a running app and bring it back.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis


class RedisServerError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        raise RedisServerError(
            "redis-server was not found on PATH; install it (Debian: apt-get install "
            "redis-server; .ci/run does this), or set CELERY_BROKER_URL to a throwaway Redis."
        )
    return found


@dataclass
class EphemeralRedis:
    root_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="scorer-redis-")))
    port: int | None = None
    _process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 10.0) -> str:
        if self._process is not None and self._process.poll() is None:
            return self.url
        self.port = self.port or _free_port()
        self.root_dir.mkdir(parents=True, exist_ok=True)
        log = (self.root_dir / "redis.log").open("ab")
        self._process = subprocess.Popen(
            [
                redis_server_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root_dir),
                "--daemonize",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self._wait_ready(timeout_s)
        return self.url

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2, socket_timeout=0.5)
        try:
            while time.monotonic() < deadline:
                if self._process is not None and self._process.poll() is not None:
                    raise RedisServerError(
                        f"redis-server exited (code {self._process.returncode}); "
                        f"see {self.root_dir / 'redis.log'}"
                    )
                try:
                    if client.ping():
                        return
                except redis.exceptions.RedisError:
                    time.sleep(0.05)
        finally:
            client.close()
        raise RedisServerError(f"redis-server did not answer on port {self.port} in time")

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root_dir, ignore_errors=True)
