"""`make fuzz`: schemathesis against the local server, as `make run` starts it, on every route.

It starts its own throwaway PostgreSQL cluster (in a temporary folder, so a `make run` in another
terminal is left alone), seeds the demo data, serves the app with gunicorn on a free port of
127.0.0.1, and runs the contract fuzzing module (tests/service/integration/test_fuzz_contract.py)
against it with the demo API key, a bearer token for the demo address and the internal token.
The run is bounded by --max-examples per operation and by --max-minutes overall; the server and
the cluster are stopped at the end, on failure and on Ctrl-C; the server's log is kept in
.data/fuzz-server.log.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from tools import local_site
from tools.bench.server import LocalServer
from tools.demo_data import seed_demo
from tools.mint_token import mint
from tools.pgcluster import EphemeralCluster, apply_schema

REPO_ROOT = Path(__file__).resolve().parent.parent
FUZZ_MODULE = "tests/service/integration/test_fuzz_contract.py"
LOG_DIR = REPO_ROOT / ".data"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.fuzz", description=__doc__)
    parser.add_argument("--max-examples", type=int, default=150, help="per operation and phase")
    parser.add_argument("--seed", type=int, default=None, help="default: a fresh one, printed")
    parser.add_argument("--max-minutes", type=float, default=15, help="stop the run after this")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)

    cluster = EphemeralCluster.in_temp_dir()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    server: LocalServer | None = None
    site = contextlib.ExitStack()
    try:
        print(f"starting a throwaway PostgreSQL cluster under {cluster.root_dir} ...", flush=True)
        env = _prepare(cluster)
        env["PASSPORT_PUBLIC_URL"] = site.enter_context(local_site.serving())
        server = LocalServer(env=env, workers=args.workers, log_path=LOG_DIR / "fuzz-server.log")
        server.start()
        base_url = f"http://127.0.0.1:{server.port}"
        print(
            f"fuzzing {base_url} (seed {seed}, {args.max_examples} examples per operation,"
            f" at most {args.max_minutes:g} min); server log: {server.log_path}",
            flush=True,
        )
        started = time.monotonic()
        code = _run_pytest(env, base_url, args, seed)
        print(f"fuzzing took {time.monotonic() - started:.0f} s; seed {seed}", flush=True)
        if code != 0:
            print(f"server log tail:\n{server.log_tail()}", flush=True)
        return code
    except KeyboardInterrupt:
        return 130
    finally:
        if server is not None:
            server.stop()
        cluster.destroy()
        site.close()


def _prepare(cluster: EphemeralCluster) -> dict[str, str]:
    """A fresh database with the demo data, and the server's environment."""
    url = cluster.start()
    conn = cluster.connect()
    try:
        apply_schema(conn)
        demo = seed_demo(conn)
    finally:
        conn.close()
    secret_key = secrets.token_urlsafe(48)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": secret_key,
        "CGRANTS_API_TOKEN": secrets.token_urlsafe(24),
        "TRUSTED_IAM_ISSUERS": json.dumps([demo.issuer_did]),
        "CERAMIC_CACHE_SCORER_ID": str(demo.community_id),
        "FF_API_ANALYTICS": "on",
        "HUMAN_POINTS_ENABLED": "true",
        "HUMAN_POINTS_WRITE_ENABLED": "true",
        "LOG_LEVEL": "WARNING",
    }
    env.update(
        {
            "SCORER_FUZZ_API_KEY": demo.api_key,
            "SCORER_FUZZ_BEARER_TOKEN": mint(
                demo.address, secret_key=secret_key, lifetime=timedelta(days=1)
            ),
            "SCORER_FUZZ_INTERNAL_TOKEN": env["CGRANTS_API_TOKEN"],
            "SCORER_FUZZ_COMMUNITY_ID": str(demo.community_id),
            "SCORER_FUZZ_ADDRESS": demo.address,
        }
    )
    return env


def _run_pytest(env: dict[str, str], base_url: str, args: argparse.Namespace, seed: int) -> int:
    fuzz_env = {
        **env,
        "SCORER_FUZZ_BASE_URL": base_url,
        "SCORER_FUZZ_MAX_EXAMPLES": str(args.max_examples),
        "SCORER_FUZZ_SEED": str(seed),
    }
    command = [sys.executable, "-m", "pytest", FUZZ_MODULE, "-q", "-p", "no:cacheprovider"]
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=fuzz_env)
    try:
        return process.wait(timeout=args.max_minutes * 60)
    except subprocess.TimeoutExpired:
        print(f"stopped after {args.max_minutes:g} minutes", flush=True)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        return 1
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


if __name__ == "__main__":
    sys.exit(main())
