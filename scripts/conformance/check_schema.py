#!/usr/bin/env python3
"""The blueprint's JSON Schema (.oi-gen/schema.json) against the real validator.

Run by the conformance driver as `check_schema.py RENDERED_REPO`:

1. the rendered platform.yaml validates against the rendered schema with
   check-jsonschema, and `oi-gen schema` prints the same schema;
2. the schema rejects what oi-gen rejects: an unknown key at several depths
   (oi-gen exits 2 on each too), a wrong enum value and a missing required field.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

failures = []


def fail(message):
    failures.append(message)
    print(f"FAIL {message}")


def jsonschema_accepts(schema, document):
    result = subprocess.run(
        ["check-jsonschema", "--schemafile", str(schema), str(document)],
        capture_output=True,
        text=True,
    )
    return result.returncode == 0, (result.stdout + result.stderr).strip()


def oi_gen_accepts(oi_gen, document):
    result = subprocess.run(
        [oi_gen, "validate", "-f", str(document)], capture_output=True, text=True
    )
    return result.returncode, result.stderr.strip()


def main():
    repo = Path(sys.argv[1]).resolve()
    oi_gen = os.environ.get("OI_GEN") or shutil.which("oi-gen")
    schema = repo / ".oi-gen" / "schema.json"
    blueprint = repo / "platform.yaml"
    if not schema.is_file():
        fail(f"{schema} is missing")
        return
    printed = subprocess.run([oi_gen, "schema"], capture_output=True, text=True, check=True).stdout
    if json.loads(printed) != json.loads(schema.read_text()):
        fail("`oi-gen schema` differs from .oi-gen/schema.json")

    ok, output = jsonschema_accepts(schema, blueprint)
    print(f"{'ok  ' if ok else 'FAIL'} platform.yaml against the schema")
    if not ok:
        fail(f"platform.yaml does not validate against the schema:\n{output}")

    document = yaml.safe_load(blueprint.read_text())
    mutations = []

    def mutate(name, change):
        copy = json.loads(json.dumps(document))
        change(copy)
        mutations.append((name, copy))

    mutate("unknown top-level key", lambda d: d.update({"specs": {}}))
    mutate("unknown key in spec", lambda d: d["spec"].update({"domian": "x.example"}))
    mutate("unknown key in a service", lambda d: d["spec"]["services"][0].update({"replica": 2}))
    mutate(
        "unknown key in a node group",
        lambda d: d["spec"]["cluster"]["nodeGroups"][0].update({"minsize": 1}),
    )
    mutate(
        "unknown key in an environment",
        lambda d: d["spec"]["environments"][0].update({"aproval": True}),
    )
    mutate("wrong enum value", lambda d: d["spec"]["network"].update({"natGateways": "perZone"}))
    mutate("missing required field", lambda d: d["spec"].pop("domain"))

    with tempfile.TemporaryDirectory() as tmp:
        for name, copy in mutations:
            path = Path(tmp) / "platform.yaml"
            path.write_text(yaml.safe_dump(copy, sort_keys=False))
            schema_ok, _ = jsonschema_accepts(schema, path)
            code, message = oi_gen_accepts(oi_gen, path)
            agree = not schema_ok and code == 2
            print(f"{'ok  ' if agree else 'FAIL'} {name}: schema rejects={not schema_ok}, oi-gen exit={code}")
            if not agree:
                fail(f"{name}: the schema and oi-gen disagree (schema accepts={schema_ok}, oi-gen exit {code})\n{message}")


if __name__ == "__main__":
    main()
    if failures:
        print(f"\n{len(failures)} failure(s)")
        sys.exit(1)
    print("\nschema: all checks passed")
