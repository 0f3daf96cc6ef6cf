"""Template diff between the working tree and a base git ref, offline (``make diff``).

Both trees are synthesized with bundling skipped and without asset paths or version metadata
(which differ between checkouts without any infrastructure change); the base ref is checked out
in a temporary ``git worktree``. Each stack is then compared with the CDK CLI's own diff against
the base template (``cdk diff --template``), which reads only local files: no AWS credentials
are needed. A base without the CDK app yet counts as having no stacks.

    python -m infra.tools.diff [--base main] [--cdk node_modules/.bin/cdk]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CDK = REPO_ROOT / "node_modules" / ".bin" / "cdk"

SYNTH_FLAGS = (
    "--quiet",
    "--no-version-reporting",
    "--no-asset-metadata",
    "-c",
    "bundle=false",
)
# Keeps the CLI (and the jsii runtime it starts) from looking for AWS anything.
OFFLINE_ENV = {
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "AWS_EC2_METADATA_DISABLED": "true",
    # Node 20 still runs everything; jsii only warns that it has reached end of life.
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "FORCE_COLOR": "0",
}


class DiffError(RuntimeError):
    pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--base", default="main", help="git ref to compare with (default: main)")
    parser.add_argument("--cdk", default=str(DEFAULT_CDK), help="CDK CLI executable")
    args = parser.parse_args(argv)
    cdk = str(Path(args.cdk).resolve())
    try:
        print(diff(base=args.base, cdk=cdk), end="")
    except DiffError as error:
        print(f"make diff: {error}", file=sys.stderr)
        return 2
    return 0


def diff(*, base: str, cdk: str) -> str:
    env = {**os.environ, **OFFLINE_ENV}
    base_commit = _git("rev-parse", "--verify", f"{base}^{{commit}}").strip()
    with tempfile.TemporaryDirectory(prefix="infra-diff-") as scratch:
        work = Path(scratch)
        head_out = _synth(REPO_ROOT, work / "head.out", cdk=cdk, env=env)
        base_tree = work / "base"
        _git("worktree", "add", "--detach", "--quiet", str(base_tree), base_commit)
        try:
            base_out = (
                _synth(base_tree, work / "base.out", cdk=cdk, env=env)
                if _has_cdk_app(base_tree)
                else None
            )
        finally:
            _git("worktree", "remove", "--force", str(base_tree))
        empty = work / "empty.template.json"
        empty.write_text("{}\n", encoding="utf-8")

        head_stacks = _stacks(head_out)
        base_stacks = _stacks(base_out) if base_out else {}
        lines = [f"Template diff: working tree against {base} ({base_commit[:12]})", ""]
        if base_out is None:
            lines += [f"{base} has no CDK app yet: every stack below is new.", ""]
        for stack in sorted(head_stacks.keys() | base_stacks.keys()):
            if stack not in head_stacks:
                lines += [f"Stack {stack}", "[-] removed: the stack is no longer in the app", ""]
                continue
            base_template = base_stacks.get(stack, empty)
            lines.append(_cdk_diff(cdk, head_out, stack, base_template, env=env).rstrip())
            lines.append("")
        return "\n".join(lines)


def _has_cdk_app(tree: Path) -> bool:
    return (tree / "cdk.json").is_file() and (tree / "app.py").is_file()


def _synth(tree: Path, out: Path, *, cdk: str, env: dict[str, str]) -> Path:
    # The base tree has no virtualenv or node_modules of its own: both trees use this one's.
    app = f"{sys.executable} app.py"
    result = subprocess.run(
        [cdk, "synth", *SYNTH_FLAGS, "--app", app, "--output", str(out)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise DiffError(f"cdk synth failed in {tree}:\n{result.stderr}{result.stdout}")
    return out


def _stacks(assembly: Path) -> dict[str, Path]:
    manifest = json.loads((assembly / "manifest.json").read_text(encoding="utf-8"))
    stacks = {}
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") == "aws:cloudformation:stack":
            stacks[artifact_id] = assembly / artifact["properties"]["templateFile"]
    return stacks


def _cdk_diff(cdk: str, assembly: Path, stack: str, template: Path, *, env: dict[str, str]) -> str:
    result = subprocess.run(
        [cdk, "diff", "--no-color", "--app", str(assembly), "--template", str(template), stack],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise DiffError(f"cdk diff failed for {stack}:\n{result.stderr}{result.stdout}")
    # The CLI writes the diff to stderr; drop its closing summary line.
    output = (result.stdout + result.stderr).strip().splitlines()
    return "\n".join(line for line in output if "Number of stacks with differences" not in line)


def _git(*args: str) -> str:
    git = shutil.which("git")
    if git is None:
        raise DiffError("git not found")
    result = subprocess.run(
        [git, *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise DiffError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


if __name__ == "__main__":
    sys.exit(main())
