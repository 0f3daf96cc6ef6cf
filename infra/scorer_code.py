"""The scorer's Lambda code asset: ``service/`` plus its runtime requirements."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import BundlingOptions, BundlingOutput
from aws_cdk import aws_lambda as lambda_

from infra.bundling import CACHE_PATTERNS, SERVICE_DIR, PipLocalBundling

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64

# Used only when this machine's Python has no pip: the same install inside the runtime's image.
_DOCKER_COMMAND = (
    "pip install --no-compile --quiet -r requirements.txt -t /asset-output"
    " && mkdir -p /asset-output/service"
    " && cp -R . /asset-output/service"
    " && rm -f /asset-output/service/requirements.txt"
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
