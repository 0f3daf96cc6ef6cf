"""Build the Lambda bundle into a directory and check it (``make package``).

    python -m infra.tools.package [--output .lambda-bundle]

Exit status 1 when a check fails: handler module missing, an extension or wheel built for
another platform or Python, a module of the service without byte code in a compiled bundle, or
the unzipped size over Lambda's limit. A CPython 3.12 (``$LAMBDA_PYTHON``, or ``python3.12`` on
the PATH) compiles the bundle; without one it ships without byte code, and says so.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from infra.bundling import (
    PIP_PLATFORMS,
    PYTHON_VERSION,
    REPO_ROOT,
    UNZIPPED_LIMIT_BYTES,
    BundleError,
    build_bundle,
    check_bundle,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build and check the scorer's Lambda bundle.")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / ".lambda-bundle")
    args = parser.parse_args(argv)
    output: Path = args.output.resolve()

    if output.exists():
        shutil.rmtree(output)
    print(f"building {output} for CPython {PYTHON_VERSION} on {', '.join(PIP_PLATFORMS)}")
    try:
        build_bundle(output)
    except BundleError as error:
        print(f"make package: {error}", file=sys.stderr)
        return 1
    report = check_bundle(output)
    limit_mb = UNZIPPED_LIMIT_BYTES / 1_000_000
    print(
        f"bundle: {report.files} files, {report.size_mb:.1f} MB unzipped "
        f"(Lambda limit {limit_mb:.1f} MB, layers included)"
    )
    print(report.byte_code_note)
    if report.problems:
        print("make package: the bundle is not fit to deploy:", file=sys.stderr)
        for problem in report.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print("checks passed: handler present, every wheel and extension for aarch64 / CPython 3.12")
    return 0


if __name__ == "__main__":
    sys.exit(main())
