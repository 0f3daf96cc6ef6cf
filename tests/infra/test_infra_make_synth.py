"""make synth ENV=x writes that environment's template and nothing left from an earlier run."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from infra_testing import REPO_ROOT


def test_synth_of_one_environment_leaves_only_its_template(tmp_path: Path) -> None:
    out = tmp_path / "cdk.out"
    out.mkdir()
    (out / "scorer-production.template.json").write_text("{}")
    make = shutil.which("make")
    assert make is not None
    result = subprocess.run(
        [make, "-s", "synth", "ENV=review", f"CDK_OUT={out}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in out.glob("*.template.json")) == [
        "scorer-review.template.json"
    ]
