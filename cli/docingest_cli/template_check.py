"""cfn-lint on the template as aws-sam-translator expands it (plain cfn-lint would not expand SAM).

Usage: python -m docingest_cli.template_check template.yaml
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from docingest_cli.template import load_sam, translate


def lint_translated(path: Path, region: str = "us-east-1") -> list[str]:
    from cfnlint.api import ManualArgs, lint

    translated = translate(load_sam(path), region)
    matches = lint(json.dumps(translated), config=ManualArgs(regions=[region]))
    return [f"{match.rule.id} {match.message} ({'/'.join(map(str, match.path))})" for match in matches]


def main() -> int:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "template.yaml")
    problems = lint_translated(path)
    for problem in problems:
        print(problem)
    print(f"{path}: {len(problems)} cfn-lint findings on the translated template")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
