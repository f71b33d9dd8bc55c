"""Values that keep their type: every environment variable value a blueprint gives a service
reaches the pod as the same string.

Usage: check_values.py RENDERED_REPO

Takes the rendered repository's blueprint, gives its first service a few hundred environment
variables whose values YAML 1.1 or 1.2 would read as something else when unquoted (`yes`, `off`,
`~`, `0o17`, `1e3`, `.inf`, `12:30`, `2026-12-01`, …) plus random printable strings from a fixed
seed, renders it with $OI_GEN, and checks that:
- `charts/<service>/values.yaml` read by PyYAML (a YAML 1.1 parser, like Helm's) holds each value
  as that exact string;
- the chart rendered by Helm (helm-python) gives the container each value as that exact string.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from check_kubernetes import Blueprint, deep_merge, load_yaml, sample_values  # noqa: E402

TRICKY = [
    "yes", "no", "on", "off", "y", "n", "Y", "N", "YES", "No", "ON", "Off", "true", "false", "True",
    "FALSE", "~", "null", "Null", "NULL", "", " ", "  lead", "trail  ", "0", "00", "007", "+1", "-1",
    "0o17", "0x1F", "0b101", "1e3", "1E-3", "1_000", "1,000", ".5", "5.", ".inf", "-.inf", ".NaN",
    "12:30", "12:30:00", "190:20:30", "2026-12-01", "2026-12-01T10:00:00Z", "-", "- a", "? a",
    ": a", "a: b", "a #b", "#a", "[a]", "{a: b}", "*a", "&a", "!a", "!!str a", "%a", "@a", "`a",
    "'a'", '"a"', "a'b", 'a"b', "\\", "a\\nb", "|", ">", "<<", "=", "é", "日本", "tab\tin", "a\nb",
]


def values_for_test() -> dict[str, str]:
    rng = random.Random(20261201)
    alphabet = "".join(chr(c) for c in range(32, 127))
    values = {f"TRICKY_{i:03d}": v for i, v in enumerate(TRICKY)}
    for i in range(200):
        values[f"RANDOM_{i:03d}"] = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
    return values


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    import helm_python as helm

    repo = Path(sys.argv[1]).resolve()
    platform = load_yaml(repo / "platform.yaml")
    service = platform["spec"]["services"][0]
    expected = values_for_test()
    service["env"] = dict(sorted(expected.items()))
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="check-values-") as tmp:
        work = Path(tmp)
        blueprint_file = work / "platform.yaml"
        blueprint_file.write_text(yaml.safe_dump(platform, sort_keys=False, allow_unicode=True))
        out = work / "repo"
        run = subprocess.run(
            [os.environ["OI_GEN"], "init", str(out), "--from", str(blueprint_file)],
            capture_output=True, text=True,
        )
        if run.returncode != 0:
            print(f"FAIL oi-gen init: {run.stderr}", file=sys.stderr)
            return 1
        chart_dir = out / "charts" / service["name"]
        values = yaml.safe_load((chart_dir / "values.yaml").read_text())
        env_values = values.get("env") or {}
        for key, value in expected.items():
            got = env_values.get(key)
            if got != value:
                failures.append(f"values.yaml (YAML 1.1): {key}: {value!r} reads back as {got!r}")

        blueprint = Blueprint(out)
        env = blueprint.environments[0]
        env_file = load_yaml(chart_dir / f"values-{env}.yaml") or {}
        merged = deep_merge(env_file, sample_values(blueprint, env, values, env_file))
        rendered = helm.Chart.load(chart_dir).render(merged, name=service["name"], namespace=blueprint.name, is_install=True)
        deployment = next(
            doc for text in rendered.values() for doc in yaml.safe_load_all(text)
            if doc and doc.get("kind") == "Deployment"
        )
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        pod_env = {e["name"]: e.get("value") for e in container.get("env", []) if "value" in e}
        for key, value in expected.items():
            got = pod_env.get(key)
            if got != value:
                failures.append(f"Helm render: {key}: {value!r} reaches the pod as {got!r}")
    if failures:
        print(f"{len(failures)} failure(s):", file=sys.stderr)
        for failure in failures:
            print(f"FAIL {failure}", file=sys.stderr)
        return 1
    print(f"ok   {len(expected)} environment values read back as the same strings by PyYAML (YAML 1.1) and through Helm")
    print("values: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
