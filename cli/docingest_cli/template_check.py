"""cfn-lint and checkov on the template as aws-sam-translator expands it.

Plain cfn-lint would not expand SAM, and checkov's IAM checks need the roles SAM generates. checkov
lives in a venv of its own (its pins conflict with the dev lock file: see the Makefile), found as
``$CHECKOV``, else ``<venv>/lint/bin/checkov``, else on the PATH; its suppressions are in
``.checkov.yaml`` at the repository root, and our own checks (TLS-only buckets) in ``checkov-policies/``.

Usage: python -m docingest_cli.template_check template.yaml
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from docingest_cli.template import load_sam, translate

REPOSITORY = Path(__file__).resolve().parents[2]
CHECKOV_CONFIG = REPOSITORY / ".checkov.yaml"
CHECKOV_POLICIES = REPOSITORY / "checkov-policies"


def lint_translated(path: Path, region: str = "us-east-1") -> list[str]:
    from cfnlint.api import ManualArgs, lint

    translated = translate(load_sam(path), region)
    matches = lint(json.dumps(translated), config=ManualArgs(regions=[region]))
    return [f"{match.rule.id} {match.message} ({'/'.join(map(str, match.path))})" for match in matches]


@dataclass
class CheckovReport:
    passed: int
    failed: list[str] = field(default_factory=list)  # "CKV_AWS_21 DocumentBucket: Ensure the S3 bucket has versioning enabled"
    skipped: list[str] = field(default_factory=list)  # inline suppressions, with their comments


def checkov_executable() -> str:
    candidates = [os.environ.get("CHECKOV"), str(Path(sys.prefix) / "lint" / "bin" / "checkov"), shutil.which("checkov")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    raise FileNotFoundError("checkov not found: `make lint-template` installs it (in .venv/lint), or set CHECKOV")


def checkov_translated(path: Path, region: str = "us-east-1", config: Path = CHECKOV_CONFIG) -> CheckovReport:
    """checkov's findings on the translated template, with the suppressions of ``config``."""
    translated = translate(load_sam(path), region)
    with tempfile.TemporaryDirectory() as directory:
        target = Path(directory) / "template.json"
        target.write_text(json.dumps(translated, indent=1))
        command = [checkov_executable(), "--file", str(target), "--framework", "cloudformation", "--config-file", str(config),
                   "--external-checks-dir", str(CHECKOV_POLICIES), "--skip-download", "--output", "json"]
        environment = {**os.environ, "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "TRUE"}
        result = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=600)
    if result.returncode not in (0, 1):
        raise RuntimeError(f"checkov exited {result.returncode}: {result.stderr[-2000:]}")
    report = json.loads(result.stdout)
    if isinstance(report, list):  # one report per framework
        (report,) = [r for r in report if r.get("check_type") == "cloudformation"]
    results = report.get("results", {})

    def describe(check: dict) -> str:
        logical_id = check["resource"].split(".", 1)[-1]
        comment = (check.get("check_result") or {}).get("suppress_comment")
        return f"{check['check_id']} {logical_id}: {comment or check['check_name']}"

    return CheckovReport(passed=len(results.get("passed_checks", [])),
                         failed=[describe(c) for c in results.get("failed_checks", [])],
                         skipped=[describe(c) for c in results.get("skipped_checks", [])])


def main() -> int:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "template.yaml")
    problems = lint_translated(path)
    for problem in problems:
        print(problem)
    print(f"{path}: {len(problems)} cfn-lint findings on the translated template")
    checkov = checkov_translated(path)
    for line in checkov.failed:
        print(f"FAILED {line}")
    for line in checkov.skipped:
        print(f"skipped {line}")
    print(f"{path}: checkov on the translated template: {checkov.passed} passed, {len(checkov.failed)} failed, "
          f"{len(checkov.skipped)} skipped inline (and the checks skipped in {CHECKOV_CONFIG.name})")
    return 1 if problems or checkov.failed else 0


if __name__ == "__main__":
    sys.exit(main())
