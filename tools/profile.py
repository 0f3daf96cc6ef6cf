"""`python -m tools.profile` (`make profile`): a flame graph of the v2 rescoring path.

Seeds the benchmark's world (tools/bench/world.py: analytics on, Human Points awarded and
reported) in a throwaway cluster, builds the app in this process as every entry point builds it,
warms it up, then has py-spy sample this very process while it rescores one passport over and
over. Only the requests are sampled: the set-up (cluster, signing) is over before py-spy attaches.
Time spent waiting for PostgreSQL shows as `recv_into` (py-spy runs with --idle).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from tools.bench.in_process import InProcessApp
from tools.bench.server import REPO_ROOT
from tools.bench.world import STAMP_COUNTS, build_world, connect
from tools.pgcluster import EphemeralCluster, apply_schema

DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "rescoring-flame.svg"
WARMUP_REQUESTS = 50


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.profile", description=__doc__)
    parser.add_argument("--stamps", type=int, default=5, choices=STAMP_COUNTS)
    parser.add_argument("--seconds", type=float, default=15.0, help="sampling time (default 15)")
    parser.add_argument("--rate", type=int, default=500, help="samples per second (default 500)")
    parser.add_argument(
        "--format",
        choices=("flamegraph", "speedscope", "raw"),
        default="flamegraph",
        help="py-spy's output format (raw: collapsed stacks, one line each)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if py_spy is None:
        print("py-spy is not installed: run make install", file=sys.stderr)
        return 1

    with ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="scorer-profile-"))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        cluster = EphemeralCluster.in_temp_dir(dbname="scorer_profile")
        stack.callback(cluster.destroy)
        database_url = cluster.start()
        conn = connect(database_url)
        stack.callback(conn.close)
        apply_schema(conn)
        world = build_world(conn, database_url)
        app = InProcessApp(world, world.server_env(os.environ), workdir / "requests.log")
        stack.callback(app.close)
        address = world.latency_addresses[args.stamps]
        for _ in range(WARMUP_REQUESTS):
            app.score(address, args.stamps)

        args.output.parent.mkdir(parents=True, exist_ok=True)
        sampler = subprocess.Popen(
            [
                py_spy,
                "record",
                "--pid",
                str(os.getpid()),
                "--rate",
                str(args.rate),
                "--duration",
                str(max(1, round(args.seconds))),
                "--idle",
                "--nonblocking",
                "--format",
                args.format,
                "--output",
                str(args.output),
            ]
        )
        stack.callback(_stop, sampler)
        requests = 0
        started = time.perf_counter()
        # py-spy stops by itself after --duration; keep the work going until it has written.
        while sampler.poll() is None:
            app.score(address, args.stamps)
            requests += 1
        elapsed = time.perf_counter() - started
        if sampler.returncode != 0:
            print(f"py-spy failed with exit code {sampler.returncode}", file=sys.stderr)
            return 1
    print(
        f"{requests} rescorings of a {args.stamps}-stamp passport in {elapsed:.1f} s "
        f"({elapsed / max(requests, 1) * 1000:.2f} ms each while sampled); wrote {args.output}"
    )
    return 0


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
