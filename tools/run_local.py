"""`make run`: the service on 127.0.0.1 with a throwaway database, demo data and a ready curl.

Without DATABASE_URL it starts a PostgreSQL cluster under .data/pg, recreates the `scorer`
database, applies the schema and seeds demo data. With DATABASE_URL it serves that database as
configured by the environment. With --ratelimit (`make run RATELIMIT=1`) it also starts a
throwaway redis-server, turns rate limits on and seeds a key limited to a few requests a minute.
Ctrl-C stops everything it started.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin

import pg8000.native
from pg8000.native import identifier

from tools import local_site, seed
from tools.demo_data import DEMO_ADDRESS, seed_demo
from tools.mint_token import mint
from tools.pgcluster import EphemeralCluster, apply_schema
from tools.redisserver import EphemeralRedis

# The demo key of `--ratelimit`: small enough for a curl loop to reach the 429.
DEMO_RATE_LIMIT = "5/1m"

DATA_DIR = Path(__file__).resolve().parent.parent / ".data" / "pg"


def _port_is_free(port: int) -> bool:
    """Whether the server could bind the port: nothing listens on it. Connections of an earlier
    run left in TIME_WAIT do not count, as they do not for gunicorn's own bind (SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _local_cluster() -> EphemeralCluster:
    """The cluster under .data/pg, or, when the repository sits in a folder the `postgres` user
    cannot enter (running as root in a private directory), one in the system's temp folder,
    named after the repository so that `--stop` finds it again."""
    cluster = EphemeralCluster(DATA_DIR)
    if cluster.is_reachable():
        return cluster
    digest = hashlib.sha256(str(DATA_DIR).encode()).hexdigest()[:12]
    fallback = Path(tempfile.gettempdir()) / f"scorer-local-{digest}"
    print(f"{DATA_DIR} is in a folder PostgreSQL's user cannot enter; using {fallback}")
    return EphemeralCluster(fallback)


def _fresh_database(cluster: EphemeralCluster) -> pg8000.native.Connection:
    admin = cluster.connect("postgres")
    admin.run(f"DROP DATABASE IF EXISTS {identifier(cluster.dbname)} WITH (FORCE)")
    admin.run(f"CREATE DATABASE {identifier(cluster.dbname)}")
    admin.close()
    conn = cluster.connect()
    apply_schema(conn)
    return conn


def _wait_until_healthy(url: str, server: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited early (code {server.returncode})")
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not become healthy in time")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.run_local", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument(
        "--stop", action="store_true", help="stop a cluster left running, then exit"
    )
    parser.add_argument(
        "--ratelimit",
        action="store_true",
        help="start a throwaway Redis, turn rate limits on, and seed a key with a small limit",
    )
    args = parser.parse_args(argv)

    cluster = _local_cluster()
    if args.stop:
        cluster.stop()
        return 0

    # A closed terminal or a plain `kill` must clean up the way Ctrl-C does.
    def _interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)

    if not _port_is_free(args.port):
        print(f"port {args.port} is already in use; stop what serves it or pass --port / PORT")
        return 2
    env = dict(os.environ)
    own_cluster = not env.get("DATABASE_URL")
    server: subprocess.Popen[bytes] | None = None
    store: EphemeralRedis | None = None
    site = contextlib.ExitStack()
    try:
        if not env.get("PASSPORT_PUBLIC_URL"):
            # The stamp metadata route reads PASSPORT_PUBLIC_URL's stampMetadata.json.
            env["PASSPORT_PUBLIC_URL"] = site.enter_context(local_site.serving())
        banner = _prepare_database(cluster, env) if own_cluster else []
        if args.ratelimit:
            store = EphemeralRedis()
            banner += _prepare_rate_limits(store, env, cluster if own_cluster else None)
        base_url = f"http://127.0.0.1:{args.port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "service", "--host", "127.0.0.1", "--port", str(args.port)],
            env=env,
        )
        _wait_until_healthy(base_url, server)
        lines = [f"serving on {base_url}  (Ctrl-C stops the server and the database)", *banner]
        print("\n".join(line.replace("{base_url}", base_url) for line in lines), flush=True)
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        if own_cluster:
            cluster.stop()
        if store is not None:
            store.destroy()
        site.close()
    return 0


def _prepare_rate_limits(
    store: EphemeralRedis, env: dict[str, str], cluster: EphemeralCluster | None
) -> list[str]:
    """Starts Redis, turns limits on and, on the demo database, adds a key limited to 5/1m."""
    print(f"starting a throwaway redis-server in {store.root_dir} ...", flush=True)
    env["CELERY_BROKER_URL"] = store.start()
    env["RATELIMIT_ENABLE"] = "true"
    banner = [f"Rate limits are on (Redis at {store.url}):"]
    if cluster is None:
        return [*banner, "  each key's rate_limit column applies.", ""]
    conn = cluster.connect()
    try:
        account_id, community_id = conn.run(
            "SELECT account_id, id FROM account_community ORDER BY id LIMIT 1"
        )[0]
        key = seed.create_api_key(conn, account_id=account_id, name="limited", with_sha256=True)
        conn.run(
            "UPDATE account_accountapikey SET rate_limit = :rate WHERE id = :id",
            rate=DEMO_RATE_LIMIT,
            id=key.id,
        )
    finally:
        conn.close()
    score_url = f"{{base_url}}/v2/stamps/{community_id}/score/{DEMO_ADDRESS}"
    return [
        *banner,
        f"  API key limited to {DEMO_RATE_LIMIT}: {key.key}",
        "Seven requests: five 200s, then 429s (unless the key's window, whose end is jittered",
        "per key as in the reference, ends during the loop):",
        "  for i in $(seq 7); do curl -s -o /dev/null -w '%{http_code} ' "
        f"-H 'X-API-Key: {key.key}' {score_url}; done; echo",
        "The 429 itself, with Retry-After:",
        f"  curl -si -H 'X-API-Key: {key.key}' {score_url}",
        "",
    ]


def _prepare_database(cluster: EphemeralCluster, env: dict[str, str]) -> list[str]:
    """Starts the cluster, makes a fresh database with demo data, and configures the server."""
    print(f"starting a throwaway PostgreSQL cluster in {cluster.root_dir} ...", flush=True)
    cluster.stop()  # one left behind by a run that was killed hard
    env["DATABASE_URL"] = cluster.start()
    conn = _fresh_database(cluster)
    demo = seed_demo(conn)
    conn.close()
    internal_token = secrets.token_urlsafe(24)
    secret_key = env.get("SECRET_KEY") or secrets.token_urlsafe(32)
    token = mint(demo.address, secret_key=secret_key, lifetime=timedelta(days=1))
    env.update(
        {
            "SECRET_KEY": secret_key,
            "CGRANTS_API_TOKEN": internal_token,
            "TRUSTED_IAM_ISSUERS": json.dumps([demo.issuer_did]),
            "CERAMIC_CACHE_SCORER_ID": str(demo.community_id),
            "FF_API_ANALYTICS": "on",
            "HUMAN_POINTS_ENABLED": "true",
            "HUMAN_POINTS_WRITE_ENABLED": "true",
        }
    )
    score_path = f"/v2/stamps/{demo.community_id}/score/{demo.address}"
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    key_header = f"-H 'X-API-Key: {demo.api_key}'"
    metadata_url = urljoin(env["PASSPORT_PUBLIC_URL"], "stampMetadata.json")
    return [
        "",
        "Demo data (printed once; every `make run` makes a new database):",
        f"  API key:         {demo.api_key}",
        f"  community id:    {demo.community_id}",
        f"  demo address:    {demo.address}",
        f"  internal token:  {internal_token}",
        f"  bearer token:    {token}",
        "",
        "Score the demo address:",
        f"  curl -s {key_header} {{base_url}}{score_path}",
        "Its score as it stood at a moment (after scoring it once):",
        f"  curl -s {key_header} '{{base_url}}{score_path}/history?created_at={tomorrow}'",
        "Its stamps, two per page (follow `next`), with their metadata:",
        f"  curl -s {key_header} '{{base_url}}/v2/stamps/{demo.address}"
        "?limit=2&include_metadata=true'",
        f"Every stamp's metadata (from {metadata_url}):",
        f"  curl -s {key_header} {{base_url}}/v2/stamps/metadata",
        "Its stored score, as the passport app reads it (ceramic-cache, bearer token):",
        f"  curl -s -H 'Authorization: Bearer {token}' "
        f"{{base_url}}/ceramic-cache/score/{demo.address}",
        "An internal route (inside the VPC in production):",
        f"  curl -s -H 'Authorization: {internal_token}' {{base_url}}/internal/score/v2/"
        f"{demo.community_id}/{demo.address}",
        "",
    ]


if __name__ == "__main__":
    sys.exit(main())
