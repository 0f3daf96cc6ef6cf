"""The scorer's Lambda code asset: ``service/`` plus its runtime requirements."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, BundlingOutput, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra.bundling import (
    BYTE_CODE_INVALIDATION,
    CACHE_PATTERNS,
    SERVICE_DIR,
    BundleError,
    build_bundle,
    check_bundle,
)

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64

# Used only when this machine's Python has no pip: the same install inside the runtime's image,
# whose CPython 3.12 compiles the byte code (compileall's status 1, a file that does not compile,
# is accepted as `compile_bundle` accepts it).
_DOCKER_COMMAND = (
    "pip install --no-compile --quiet -r requirements.txt -t /asset-output"
    " && mkdir -p /asset-output/service"
    " && cp -R . /asset-output/service"
    " && rm -f /asset-output/service/requirements.txt"
    " && { python -m compileall -q -j 0 --invalidation-mode"
    f" {BYTE_CODE_INVALIDATION} /asset-output || [ $? -eq 1 ]; }}"
)


def scorer_code(*, service_dir: Path = SERVICE_DIR) -> lambda_.Code:
    """The code asset, bundled locally with pip when the stack is deployed.

    Synth with bundling skipped (``-c bundle=false``, tests) stages nothing: CDK keeps the hash
    computed from the source and the bundling options, so the template is the one a deploy of
    the same tree would produce.
    """
    return lambda_.Code.from_asset(
        str(service_dir),
        exclude=list(CACHE_PATTERNS),
        bundling=BundlingOptions(
            image=RUNTIME.bundling_image,
            platform="linux/arm64",
            command=["bash", "-c", _DOCKER_COMMAND],
            output_type=BundlingOutput.NOT_ARCHIVED,
            local=PipLocalBundling(service_dir=service_dir),
        ),
    )


@jsii.implements(ILocalBundling)
class PipLocalBundling:
    """CDK's local bundling hook: build the bundle with pip on this machine, no Docker."""

    def __init__(self, *, service_dir: Path) -> None:
        self._service_dir = service_dir

    def try_bundle(self, output_dir: str, *_options: Any, **_keyword_options: Any) -> bool:
        # jsii hands the bundling options over positionally; they are not needed here.
        # Without pip here, returning False lets CDK fall back to the Docker command.
        if importlib.util.find_spec("pip") is None:
            return False
        target = Path(output_dir)
        build_bundle(target, service_dir=self._service_dir)
        report = check_bundle(target)
        print(f"scorer bundle: {report.byte_code_note}", file=sys.stderr)
        if report.problems:
            raise BundleError(
                "the Lambda bundle is not fit to deploy:\n" + "\n".join(report.problems)
            )
        return True
