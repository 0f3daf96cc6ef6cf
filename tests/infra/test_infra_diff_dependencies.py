"""make diff synthesizes the base with its own dependencies when its dependency files differ."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from infra.tools.diff import changed_lock_files


def git(repo: Path, *args: str) -> str:
    executable = shutil.which("git")
    assert executable is not None
    return subprocess.run(
        [executable, "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=repo, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "--quiet")
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "requirements.txt").write_text("aws-cdk-lib==2.275.0\n")
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3}\n')
    (tmp_path / "app.py").write_text("print('app')\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "--quiet", "-m", "base")
    return tmp_path


def test_a_base_with_the_same_dependencies_shares_this_toolchain(repo: Path) -> None:
    (repo / "app.py").write_text("print('changed app')\n")
    assert changed_lock_files("HEAD", repo=repo) == []


def test_a_cdk_bump_makes_the_base_use_its_own_dependencies(repo: Path) -> None:
    (repo / "infra" / "requirements.txt").write_text("aws-cdk-lib==2.276.0\n")
    (repo / "package-lock.json").write_text('{"lockfileVersion": 3, "cli": "2.1100.0"}\n')
    assert changed_lock_files("HEAD", repo=repo) == ["infra/requirements.txt", "package-lock.json"]
