#!/usr/bin/env python3
"""Conformance of the generated GitHub Actions workflows and Terratest suite.

Usage: check_workflows.py RENDERED_REPO

Runs, over RENDERED_REPO/.github/workflows:
  actionlint               zero findings (shellcheck on `run:` scripts when installed)
  zizmor --offline         zero findings, with the default and the pedantic persona
  check-jsonschema         the vendor.github-workflows schema
  yamllint                 the configuration below
  checkov                  github_actions framework, zero failed checks
  structure                every `uses:` pinned to a commit SHA with a version comment,
                           top-level `permissions: {}`, no `${{ }}` inside `run:`,
                           checkout without persisted credentials, one region
and `gofmt -l` over the Terratest suite in RENDERED_REPO/test/infra; over the repository's
tooling: `pre-commit validate-config` of .pre-commit-config.yaml (every hook `rev` a release
tag vX.Y.Z) and check-jsonschema's vendor.renovate schema on renovate.json.

Exit status 0 when everything passed, 1 otherwise, with a report of each failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

EXPECTED = ["ci", "deploy", "release", "rollback", "terraform", "infra-test"]
TERRATEST = "test/infra"

# Workflows are long-lived, reviewed files: keep YAML strict but allow GitHub's
# `on:` key and the long lines of shell commands and action pins.
YAMLLINT_CONFIG = """
extends: default
rules:
  document-start: disable
  line-length:
    max: 160
  truthy:
    allowed-values: ["true", "false"]
    check-keys: false
  comments:
    min-spaces-from-content: 1
"""

PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def tool(name: str) -> str | None:
    """A tool from PATH, or from the bin folder of this interpreter."""
    found = shutil.which(name)
    if found:
        return found
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else None


class Report:
    def __init__(self) -> None:
        self.failures: list[str] = []

    def run(self, label: str, argv: list[str], cwd: Path, ok_codes=(0,), env=None) -> str:
        exe = tool(argv[0])
        if exe is None:
            self.fail(label, f"`{argv[0]}` is not installed")
            return ""
        proc = subprocess.run(
            [exe, *argv[1:]],
            cwd=cwd,
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
        )
        output = (proc.stdout + proc.stderr).strip()
        if proc.returncode not in ok_codes:
            self.fail(label, f"exit {proc.returncode}\n{output}")
        else:
            print(f"ok    {label}")
        return output

    def fail(self, label: str, detail: str) -> None:
        self.failures.append(f"FAIL  {label}\n{indent(detail)}")
        print(f"FAIL  {label}")

    def check(self, label: str, problems: list[str]) -> None:
        if problems:
            self.fail(label, "\n".join(problems))
        else:
            print(f"ok    {label}")


def indent(text: str) -> str:
    return "\n".join("      " + line for line in text.splitlines())


def structure(workflows: list[Path]) -> list[str]:
    problems: list[str] = []
    regions: set[str] = set()
    for path in workflows:
        text = path.read_text()
        name = path.name
        for number, line in enumerate(text.splitlines(), 1):
            match = re.match(r"^\s*(?:- )?uses:\s*(.+)$", line)
            if match and not PINNED.match(match.group(1).strip()):
                problems.append(f"{name}:{number}: not pinned to a SHA with a version: {line.strip()}")
            for region in re.findall(r"aws-region: (\S+)|AWS_REGION: (\S+)", line):
                regions.update(r for r in region if r)
        doc = yaml.safe_load(text)
        if doc.get("permissions") != {}:
            problems.append(f"{name}: top-level `permissions` must be {{}}")
        for job_id, job in (doc.get("jobs") or {}).items():
            if "name" not in job:
                problems.append(f"{name}: job {job_id} has no name")
            perms = job.get("permissions")
            if perms is None or perms == "write-all":
                problems.append(f"{name}: job {job_id} must list its permissions")
            steps = job.get("steps") or []
            calls_aws = any("configure-aws-credentials" in str(s.get("uses", "")) for s in steps)
            if isinstance(perms, dict) and (perms.get("id-token") == "write") != calls_aws:
                problems.append(f"{name}: job {job_id}: id-token: write iff it assumes an AWS role")
            # Outside a GitHub environment, only the read-only plan role (pull
            # requests) and the build role (pushes) may be assumed.
            roles = [
                str((s.get("with") or {}).get("role-to-assume", ""))
                for s in steps
                if "configure-aws-credentials" in str(s.get("uses", ""))
            ]
            outside_ok = roles and all(
                role.endswith("-terraform-plan") or role.endswith("-build") for role in roles
            )
            if calls_aws and "environment" not in job and not outside_ok:
                problems.append(f"{name}: job {job_id} calls AWS outside a GitHub environment")
            for step in steps:
                if "name" not in step:
                    problems.append(f"{name}: job {job_id} has an unnamed step")
                if "${{" in str(step.get("run", "")):
                    problems.append(f"{name}: job {job_id}, step {step.get('name')}: `${{{{ }}}}` inside run:")
                if "actions/checkout" in str(step.get("uses", "")):
                    if (step.get("with") or {}).get("persist-credentials") is not False:
                        problems.append(f"{name}: job {job_id}: checkout must set persist-credentials: false")
            if str(job_id).startswith(("deploy-", "release-", "apply-", "rollback-")):
                concurrency = job.get("concurrency") or {}
                if concurrency.get("cancel-in-progress") is not False:
                    problems.append(f"{name}: job {job_id} needs a concurrency group that never cancels")
    if len(regions) > 1:
        problems.append(f"more than one AWS region: {sorted(regions)}")
    return problems


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    repo = Path(sys.argv[1]).resolve()
    folder = repo / ".github" / "workflows"
    workflows = sorted(folder.glob("*.yml")) + sorted(folder.glob("*.yaml"))
    report = Report()

    blueprint = yaml.safe_load((repo / "platform.yaml").read_text())
    argocd = blueprint["spec"]["delivery"].get("mode") == "argocd"
    # With Argo CD a rollback is a revert of an image pin's commit: no workflow.
    expected = [name for name in EXPECTED if not (argocd and name == "rollback")]
    missing = [name for name in expected if not (folder / f"{name}.yml").exists()]
    if argocd and (folder / "rollback.yml").exists():
        missing.append("no rollback.yml with delivery.mode: argocd")
    report.check("workflow files present", [f"missing .github/workflows/{m}.yml" for m in missing])
    if not workflows:
        print("\n".join(report.failures))
        return 1
    files = [str(p.relative_to(repo)) for p in workflows]

    report.run("actionlint", ["actionlint", "-no-color", *files], repo)
    report.run("zizmor --offline", ["zizmor", "--offline", "--no-progress", *files], repo)
    report.run(
        "zizmor --offline --persona=pedantic",
        ["zizmor", "--offline", "--no-progress", "--persona=pedantic", *files],
        repo,
    )
    report.run(
        "check-jsonschema vendor.github-workflows",
        ["check-jsonschema", "--builtin-schema", "vendor.github-workflows", *files],
        repo,
    )
    report.run("yamllint", ["yamllint", "--strict", "-d", YAMLLINT_CONFIG, *files], repo)
    report.run(
        "checkov --framework github_actions",
        [
            "checkov",
            "--directory", str(repo),
            "--framework", "github_actions",
            "--skip-download",
            "--compact",
            "--quiet",
        ],
        repo,
        env={"BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )
    report.check("structure (pins, permissions, run:, checkout, region)", structure(workflows))

    pre_commit = repo / ".pre-commit-config.yaml"
    if not pre_commit.exists():
        report.fail("pre-commit", ".pre-commit-config.yaml is missing")
    else:
        report.run("pre-commit validate-config", ["pre-commit", "validate-config", str(pre_commit)], repo)
        revs = [r.get("rev") for r in yaml.safe_load(pre_commit.read_text())["repos"] if r.get("repo") != "local"]
        report.check(
            "pre-commit revs are release tags",
            [f"rev {rev!r} is not a tag vX.Y.Z" for rev in revs if not re.fullmatch(r"v\d+\.\d+\.\d+", str(rev))],
        )
    report.run(
        "check-jsonschema vendor.renovate",
        ["check-jsonschema", "--builtin-schema", "vendor.renovate", "renovate.json"],
        repo,
    )

    suite = repo / TERRATEST
    go_files = sorted(suite.glob("*.go"))
    if not go_files:
        report.fail("Terratest suite", f"no Go files in {TERRATEST}")
    else:
        listed = report.run("gofmt parses the Terratest suite", ["gofmt", "-l", "-e", TERRATEST], repo)
        report.check("gofmt -l", [f"not gofmt-clean: {line}" for line in listed.splitlines() if line.strip()])

    if report.failures:
        print("\n" + "\n\n".join(report.failures))
        print(f"\n{len(report.failures)} workflow check(s) failed for {repo}")
        return 1
    print(f"\nall workflow checks passed for {repo}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
