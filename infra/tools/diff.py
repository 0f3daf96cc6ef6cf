"""Template diff between the working tree and a base git ref, offline (``make diff``).

Both trees are synthesized with bundling skipped and without asset paths or version metadata
(which differ between checkouts without any infrastructure change); the base ref is checked out
in a temporary ``git worktree``. When the base's dependency files differ from the working
tree's (a CDK, cdk-nag or CLI bump), the base is synthesized with its own: a virtualenv of its
infra requirements and its own ``npm ci``, so a dependency bump shows its template changes
instead of hiding them in both sides (the base then needs the network for pip and npm). Each
stack is then compared with the CDK CLI's own diff against the base template
(``cdk diff --template``), which reads only local files: no AWS credentials are needed. A base
without the CDK app yet counts as having no stacks.

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


# Files that pin what synth runs on: the Python packages and the CDK CLI.
PYTHON_LOCK_FILES = ("requirements.txt", "infra/requirements.txt", "service/requirements.txt")
NODE_LOCK_FILES = ("package.json", "package-lock.json")


class DiffError(RuntimeError):
    pass


def changed_lock_files(base_commit: str, *, repo: Path = REPO_ROOT) -> list[str]:
    """The dependency files whose content differs between ``base_commit`` and the working tree."""
    output = _git(
        "diff", "--name-only", base_commit, "--", *PYTHON_LOCK_FILES, *NODE_LOCK_FILES, cwd=repo
    )
    return sorted(output.split())


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
        head_out = _synth(REPO_ROOT, work / "head.out", cdk=cdk, python=sys.executable, env=env)
        base_tree = work / "base"
        _git("worktree", "add", "--detach", "--quiet", str(base_tree), base_commit)
        changed = changed_lock_files(base_commit)
        try:
            base_out = None
            if _has_cdk_app(base_tree):
                python, base_cdk = _base_toolchain(base_tree, work, changed, cdk=cdk, env=env)
                base_out = _synth(
                    base_tree, work / "base.out", cdk=base_cdk, python=python, env=env
                )
        finally:
            _git("worktree", "remove", "--force", str(base_tree))
        empty = work / "empty.template.json"
        empty.write_text("{}\n", encoding="utf-8")

        head_stacks = _stacks(head_out)
        base_stacks = _stacks(base_out) if base_out else {}
        lines = [f"Template diff: working tree against {base} ({base_commit[:12]})", ""]
        if changed:
            lines += [
                f"{base} synthesized with its own dependencies ({', '.join(changed)} differ)",
                "",
            ]
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


def _base_toolchain(
    base_tree: Path, work: Path, changed: list[str], *, cdk: str, env: dict[str, str]
) -> tuple[str, str]:
    """The Python and CDK CLI to synthesize the base with: this tree's when the dependency
    files agree, else the base's own, installed in the scratch folder."""
    python = sys.executable
    if any(name in PYTHON_LOCK_FILES for name in changed):
        base_venv = work / "base-venv"
        _run([sys.executable, "-m", "venv", str(base_venv)], cwd=base_tree, env=env)
        python = str(base_venv / "bin" / "python")
        infra_requirements = base_tree / "infra" / "requirements.txt"
        # The infra set is all synth imports; the service file pins what it shares with it.
        requirements = (
            ["-r", "infra/requirements.txt", "-c", "service/requirements.txt"]
            if infra_requirements.is_file() and (base_tree / "service/requirements.txt").is_file()
            else ["-r", "requirements.txt"]
        )
        _run(
            [
                python,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                *requirements,
            ],
            cwd=base_tree,
            env=env,
        )
    if (
        any(name in NODE_LOCK_FILES for name in changed)
        and (base_tree / "package-lock.json").is_file()
    ):
        _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=base_tree, env=env)
        cdk = str(base_tree / "node_modules" / ".bin" / "cdk")
    return python, cdk


def _run(command: list[str], *, cwd: Path, env: dict[str, str]) -> None:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DiffError(f"{' '.join(command[:4])} failed in {cwd}:\n{result.stderr}{result.stdout}")


def _synth(tree: Path, out: Path, *, cdk: str, python: str, env: dict[str, str]) -> Path:
    app = f"{python} app.py"
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


def _git(*args: str, cwd: Path = REPO_ROOT) -> str:
    git = shutil.which("git")
    if git is None:
        raise DiffError("git not found")
    result = subprocess.run([git, *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DiffError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


if __name__ == "__main__":
    sys.exit(main())
