"""cfn-lint, the AWS CloudFormation linter, over every synthesized template: no errors, and
warnings only where this file says why."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from infra_testing import ENVIRONMENTS, Synthesized

CFN_LINT = Path(sys.executable).parent / "cfn-lint"

# Rule id -> why the warning stays.
ACCEPTED_WARNINGS = {
    "W3005": "CDK writes the function's DependsOn on its role (and the role's default policy) "
    "itself, next to the GetAtt of the role; the duplicate edge is CDK's output, harmless, and "
    "removing it would mean editing generated resources",
}


def lint(templates: list[Path]) -> list[dict[str, object]]:
    result = subprocess.run(
        [str(CFN_LINT), "--format", "json", *map(str, templates)],
        capture_output=True,
        text=True,
        check=False,
    )
    # Exit codes are a bit mask of the levels found (2 errors, 4 warnings, 8 informational).
    assert result.returncode in (0, 2, 4, 6, 8, 10, 12, 14), result.stderr
    findings: list[dict[str, object]] = json.loads(result.stdout or "[]")
    return findings


def describe(finding: dict[str, object]) -> str:
    rule = finding["Rule"]
    assert isinstance(rule, dict)
    return f"{rule['Id']} {finding['Filename']}: {finding['Message']}"


def test_every_synthesized_template_lints_clean(synthesized: Synthesized) -> None:
    templates = sorted(synthesized.assembly_dir.glob("*.template.json"))
    assert len(templates) == len(ENVIRONMENTS)
    findings = lint(templates)
    errors = [describe(f) for f in findings if f["Level"] == "Error"]
    assert errors == []
    unexplained = [
        describe(f)
        for f in findings
        if f["Level"] != "Error" and f["Rule"]["Id"] not in ACCEPTED_WARNINGS  # type: ignore[index]
    ]
    assert unexplained == []


def test_the_linter_reports_an_id_aws_never_issues(tmp_path: Path) -> None:
    template = {
        "Resources": {
            "Group": {
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {"GroupDescription": "x", "VpcId": "vpc-0123456789abcdef"},
            }
        }
    }
    path = tmp_path / "bad.template.json"
    path.write_text(json.dumps(template))
    assert any(f["Level"] == "Error" for f in lint([path]))
