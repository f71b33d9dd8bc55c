#!/usr/bin/env python3
"""Conformance of the generated Flyway project (db/) against Flyway 13 and PostgreSQL.

Usage: check_flyway.py RENDERED_REPO

For a blueprint without spec.database: no db/ folder was rendered, and
`oi-gen migration new` refuses to write one. Otherwise:

  flyway.toml   parses as TOML; every key is one Flyway 13 reads (the list below, from
                Flyway's configuration model) with the type it expects; cleanDisabled and
                validateMigrationNaming are true, locations point at
                filesystem:migrations, one [environments.<name>] per blueprint environment,
                and url/user/password are ${env.NAME} references, never literals
  migration new in a copy of the repository, `oi-gen migration new` writes the next
                versioned migrations; SQL goes into them (tables, a foreign key, an index)
                plus a repeatable R__views.sql; `oi-gen render --check` finds nothing
                wrong under db/
  naming        Flyway's rules: V<version>__<description>.sql with versions unique when
                compared numerically, R__<description>.sql with unique descriptions
  pglast        every migration, as Flyway runs it (placeholders replaced), parses with
                PostgreSQL 18's parser; no DROP statement nor ALTER TABLE … DROP COLUMN in
                V* files; every ${placeholder} has a value
  postgresql    a throwaway PostgreSQL server (Debian's packages) on a free loopback port,
                stopped and removed on any exit: the V* migrations in version order, then
                the R__ ones (twice: Flyway reruns them whenever they change), each with
                `psql -v ON_ERROR_STOP=1` in one transaction (a file whose statements
                PostgreSQL refuses inside one, such as CREATE INDEX CONCURRENTLY, runs
                outside it, as Flyway does), as a database owner without superuser rights
                but with CREATEROLE (as RDS's master user); then the services' roles callback
                of the migrations owner's chart (migrations-roles-configmap.yaml), twice, as
                Flyway's afterMigrate runs it on every deploy: each role may read and write
                the tables, may not create any nor read the schema history, has a password,
                and no password reaches the server log under log_statement = ddl

Environment: OI_GEN (the oi-gen binary; default target/release/oi-gen of OI_GEN_SOURCE
or of this repository), PG_BINDIR (PostgreSQL's bin/ folder; default the newest
/usr/lib/postgresql/*/bin). As root, the server runs as the `postgres` system user.

Exit status 0 when everything passed, 1 otherwise, with a report of each failure.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pglast
import pglast.stream
import yaml
from pglast import ast
from pglast.enums import AlterTableType

# ------------------------------------------------------------------ Flyway keys

# Keys of flyway.toml that Flyway 13.0.0 reads, with the type it expects. Taken from its
# configuration model (flyway-core: FlywayModel, FlywayEnvironmentModel, EnvironmentModel,
# and the configuration extensions of the open-source edition). Flyway refuses an unknown
# key in [flyway]; in an environment it only warns, which hides typos, so both are errors
# here. Connection keys (url, user, password, schemas, driver…) belong to an environment:
# in [flyway] of a TOML file Flyway 13 refuses them too.
ENVIRONMENT_FLYWAY_KEYS = {
    "baselineDescription": str,
    "baselineOnMigrate": bool,
    "baselineVersion": str,
    "batch": bool,
    "callbackLocations": list,
    "callbacks": list,
    "cleanDisabled": bool,
    "communityDBSupportEnabled": bool,
    "createSchemas": bool,
    "defaultSchema": str,
    "detectEncoding": bool,
    "dryRunOutput": str,
    "encoding": str,
    "errorOverrides": list,
    "executeInTransaction": bool,
    "failOnMissingLocations": bool,
    "failOnMissingTarget": bool,
    "group": bool,
    "ignoreMigrationPatterns": list,
    "installedBy": str,
    "jarDirs": list,
    "kerberosConfigFile": str,
    "locations": list,
    "lockRetryCount": int,
    "loggers": list,
    "migrationResolvers": list,
    "mixed": bool,
    "outOfOrder": bool,
    "outputQueryResults": bool,
    "placeholderPrefix": str,
    "placeholderReplacement": bool,
    "placeholders": dict,
    "placeholderSeparator": str,
    "placeholderSuffix": str,
    "powershellExecutable": str,
    "propertyResolvers": dict,
    "repeatableSqlMigrationPrefix": str,
    "reportEnabled": bool,
    "reportFilename": str,
    "scriptPlaceholderPrefix": str,
    "scriptPlaceholderSuffix": str,
    "skipDefaultCallbacks": bool,
    "skipDefaultResolvers": bool,
    "skipExecutingMigrations": bool,
    "sqlMigrationPrefix": str,
    "sqlMigrationSeparator": str,
    "sqlMigrationSuffixes": list,
    "stream": bool,
    "table": str,
    "tablespace": str,
    "target": str,
    "validateMigrationNaming": bool,
    "validateOnMigrate": bool,
    # PostgreSQL's own namespace, [flyway.postgresql]: transactional.lock
    "postgresql": dict,
}
FLYWAY_KEYS = {
    **ENVIRONMENT_FLYWAY_KEYS,
    # FlywayModel (top level only)
    "color": str,
    "environment": str,
    "outputLogsInJson": bool,
    "outputProgress": bool,
    "outputType": str,
    "provisionMode": str,
    # configuration extensions in the root namespace
    "baselineMigrationPrefix": str,
    "checkDriftOnMigrate": bool,
    "email": str,
    "licenseKey": str,
    "offlinePermitPath": str,
    "publishResult": bool,
    "token": str,
}
ENVIRONMENT_KEYS = {
    "connectRetries": int,
    "connectRetriesInterval": int,
    "displayName": str,
    "driver": str,
    "flyway": dict,
    "initSql": str,
    "jdbcProperties": dict,
    "password": str,
    "provisioner": str,
    "resolvers": dict,
    "schemas": list,
    "url": str,
    "user": str,
}
REMOVED_KEYS = {"cleanOnValidationError": "removed in Flyway 12"}
TOP_LEVEL_KEYS = {"flyway": dict, "environments": dict, "id": str}
POSTGRESQL_KEYS = {"transactional": {"lock": bool}}

ENV_REFERENCE = re.compile(r"^\$\{env\.[A-Za-z_][A-Za-z0-9_]*\}$")
CREDENTIAL_KEY = re.compile(r"password|secret|token|user", re.IGNORECASE)

# The suffix is case-insensitive for Flyway.
VERSIONED = re.compile(r"^V(?P<version>\d+(?:[._]\d+)*)__(?P<description>.+)\.(?i:sql)$")
REPEATABLE = re.compile(r"^R__(?P<description>.+)\.(?i:sql)$")

# What the check writes into the copy. The versioned ones go into the files that
# `oi-gen migration new` creates, after the header it wrote.
USERS_SQL = """\
CREATE TABLE users (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email      text NOT NULL UNIQUE,
  name       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE users IS 'People who can sign in.';
"""
ORDERS_SQL = """\
CREATE TABLE orders (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id     bigint NOT NULL REFERENCES users (id),
  total_cents integer NOT NULL CHECK (total_cents >= 0),
  status      text NOT NULL DEFAULT 'new',
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX orders_user_id_created_at_idx ON orders (user_id, created_at DESC);
"""
VIEWS_SQL = """\
-- Views are repeatable: Flyway reruns this file whenever it changes.
CREATE OR REPLACE VIEW user_order_totals AS
SELECT u.id AS user_id,
       u.email,
       count(o.id) AS orders,
       coalesce(sum(o.total_cents), 0) AS total_cents
FROM users u
LEFT JOIN orders o ON o.user_id = u.id
GROUP BY u.id, u.email;
"""
NEW_MIGRATIONS = [
    ("add users table", "add_users_table", USERS_SQL),
    ("Add orders, with index!", "add_orders_with_index", ORDERS_SQL),
]
EXPECTED_RELATIONS = ["users", "orders", "user_order_totals"]

MIGRATOR = "flyway_migrator"


# --------------------------------------------------------------------- report


class Report:
    def __init__(self) -> None:
        self.failures: list[str] = []

    def fail(self, label: str, detail: str) -> None:
        self.failures.append(f"FAIL  {label}\n{indent(detail)}")
        print(f"FAIL  {label}")

    def check(self, label: str, problems: list[str]) -> bool:
        if problems:
            self.fail(label, "\n".join(problems))
            return False
        print(f"ok    {label}")
        return True

    def note(self, text: str) -> None:
        print(f"      {text}")


def indent(text: str) -> str:
    return "\n".join("      " + line for line in text.splitlines())


def section(title: str) -> None:
    print(f"\n--- {title}")


# ------------------------------------------------------------------ flyway.toml


def type_name(kind: type) -> str:
    return {
        bool: "a boolean",
        str: "a string",
        int: "an integer",
        list: "an array",
        dict: "a table",
    }[kind]


def has_type(value: object, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is list:
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    return isinstance(value, kind)


def check_keys(table: dict, allowed: dict, where: str) -> list[str]:
    problems = []
    for key, value in table.items():
        if key in REMOVED_KEYS:
            problems.append(f"{where}: `{key}` was {REMOVED_KEYS[key]}")
        elif key not in allowed:
            hint = ""
            if allowed is not ENVIRONMENT_KEYS and key in ENVIRONMENT_KEYS:
                hint = ": it belongs in [environments.<name>]"
            problems.append(f"{where}: `{key}` is not a Flyway 13 setting here{hint}")
        elif not has_type(value, allowed[key]):
            wanted = type_name(allowed[key])
            if allowed[key] is list:
                wanted = "an array of strings"
            problems.append(f"{where}.{key}: must be {wanted}, not {value!r}")
    if isinstance(table.get("placeholders"), dict):
        for key, value in table["placeholders"].items():
            if not isinstance(value, str):
                problems.append(f"{where}.placeholders.{key}: must be a string")
    if isinstance(table.get("postgresql"), dict):
        for key, value in table["postgresql"].items():
            if key not in POSTGRESQL_KEYS:
                problems.append(f"{where}.postgresql: `{key}` is not a Flyway 13 setting")
            elif not isinstance(value, dict) or any(
                k not in POSTGRESQL_KEYS[key] or not has_type(v, POSTGRESQL_KEYS[key][k])
                for k, v in value.items()
            ):
                problems.append(f"{where}.postgresql.{key}: expected {POSTGRESQL_KEYS[key]}")
    return problems


def literal_credentials(table: dict, where: str) -> list[str]:
    """Credential-like keys anywhere under an environment that are not ${env.…}."""
    problems = []
    for key, value in table.items():
        if isinstance(value, dict):
            problems += literal_credentials(value, f"{where}.{key}")
        elif (
            isinstance(value, str) and CREDENTIAL_KEY.search(key) and not ENV_REFERENCE.match(value)
        ):
            problems.append(f"{where}.{key}: a literal value; use a ${{env.NAME}} reference")
    return problems


def redacted(value: object) -> object:
    """A URL without the credentials it may carry."""
    if not isinstance(value, str):
        return value
    value = re.sub(r"(?i)(password=)[^&;]*", r"\1<hidden>", value)
    return re.sub(r"//[^/@]*:[^/@]*@", "//<hidden>@", value)


@dataclass
class FlywayConfig:
    flyway: dict = field(default_factory=dict)
    # ${name} -> value, Flyway's own ${flyway:…} ones included
    placeholders: dict = field(default_factory=dict)


def check_flyway_toml(
    report: Report, repo: Path, environments: list[str], database: str
) -> FlywayConfig:
    path = repo / "db" / "flyway.toml"
    label = "db/flyway.toml"
    try:
        config = tomllib.loads(path.read_text())
    except FileNotFoundError:
        report.fail(label, "not rendered")
        return FlywayConfig()
    except tomllib.TOMLDecodeError as error:
        report.fail(f"{label}: TOML", str(error))
        return FlywayConfig()
    print(f"ok    {label}: TOML")

    problems = check_keys(config, TOP_LEVEL_KEYS, "(top level)")
    flyway = config.get("flyway") if isinstance(config.get("flyway"), dict) else {}
    envs = config.get("environments") if isinstance(config.get("environments"), dict) else {}
    problems += check_keys(flyway, FLYWAY_KEYS, "[flyway]")
    for name, env in envs.items():
        if not isinstance(env, dict):
            problems.append(f"[environments.{name}]: must be a table")
            continue
        problems += check_keys(env, ENVIRONMENT_KEYS, f"[environments.{name}]")
        if isinstance(env.get("flyway"), dict):
            problems += check_keys(
                env["flyway"], ENVIRONMENT_FLYWAY_KEYS, f"[environments.{name}.flyway]"
            )
    report.check(f"{label}: every key is a Flyway 13 setting of the right type", problems)

    problems = []
    if flyway.get("cleanDisabled") is not True:
        problems.append(
            f"[flyway] cleanDisabled must be set to true (is {flyway.get('cleanDisabled')!r}): "
            "the image's bundled flyway.toml turns clean on"
        )
    if flyway.get("validateMigrationNaming") is not True:
        problems.append(
            "[flyway] validateMigrationNaming must be true "
            f"(is {flyway.get('validateMigrationNaming')!r})"
        )
    if flyway.get("baselineOnMigrate") is True:
        problems.append("[flyway] baselineOnMigrate must stay false")
    if flyway.get("validateOnMigrate") is False:
        problems.append("[flyway] validateOnMigrate must stay true")
    locations = flyway.get("locations")
    if not isinstance(locations, list) or not locations:
        problems.append(f'[flyway] locations must be ["filesystem:migrations"], is {locations!r}')
    else:
        target = (repo / "db" / "migrations").resolve()
        resolved = []
        for location in locations:
            if not isinstance(location, str) or not location.startswith("filesystem:"):
                problems.append(f"[flyway] locations: `{location}` is not a filesystem: location")
                continue
            folder = (repo / "db" / location.removeprefix("filesystem:")).resolve()
            resolved.append(folder)
            if not folder.is_dir():
                problems.append(f"[flyway] locations: `{location}` is not a folder under db/")
        if target not in resolved:
            problems.append(
                f"[flyway] locations {locations} miss filesystem:migrations (db/migrations)"
            )
    report.check(f"{label}: clean disabled, naming validated, locations", problems)

    problems = []
    if sorted(envs) != sorted(environments):
        missing = [e for e in environments if e not in envs]
        extra = [e for e in envs if e not in environments]
        if missing:
            problems.append(f"no [environments.<name>] for blueprint environments: {missing}")
        if extra:
            problems.append(f"[environments.<name>] not in the blueprint: {extra}")
    if "environment" in flyway and flyway["environment"] not in envs:
        problems.append(f"[flyway] environment `{flyway['environment']}` is not defined")
    for name, env in envs.items():
        if not isinstance(env, dict):
            continue
        where = f"[environments.{name}]"
        for key in ("url", "user", "password"):
            value = env.get(key)
            if value is None:
                problems.append(f"{where}: no `{key}`")
            elif not isinstance(value, str) or not ENV_REFERENCE.match(value):
                shown = "<hidden>" if key == "password" else repr(redacted(value))
                problems.append(
                    f"{where}.{key}: must be a ${{env.NAME}} reference, is a literal ({shown})"
                )
        others = {k: v for k, v in env.items() if k not in ("url", "user", "password")}
        problems += literal_credentials(others, where)
        schemas = env.get("schemas")
        default = (env.get("flyway") or {}).get("defaultSchema", flyway.get("defaultSchema"))
        if isinstance(schemas, list) and default and schemas and default not in schemas:
            problems.append(f"{where}: defaultSchema `{default}` is not in schemas {schemas}")
    report.check(
        f"{label}: one environment per blueprint environment ({', '.join(environments)}), "
        "credentials only from ${env.…}",
        problems,
    )
    placeholders = (
        flyway.get("placeholders") if isinstance(flyway.get("placeholders"), dict) else {}
    )
    # The ones Flyway always defines, with the values they take in this check.
    first = next((e for e in envs.values() if isinstance(e, dict)), {})
    schemas = first.get("schemas") or ["public"]
    builtins = {
        "database": database,
        "defaultSchema": flyway.get("defaultSchema") or schemas[0],
        "environment": flyway.get("environment") or next(iter(envs), "default"),
        "table": flyway.get("table") or "flyway_schema_history",
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%S"),
        "user": MIGRATOR,
        "workingDirectory": str(repo / "db"),
    }
    placeholders = {**{f"flyway:{k}": v for k, v in builtins.items()}, **placeholders}
    return FlywayConfig(flyway=flyway, placeholders=placeholders)


# ----------------------------------------------------------------- migrations


@dataclass
class Migration:
    path: Path
    versioned: bool
    version: tuple[int, ...] = ()
    description: str = ""

    @property
    def name(self) -> str:
        return self.path.name


def normalized(version: tuple[int, ...]) -> tuple[int, ...]:
    """Flyway compares versions numerically and ignores trailing zero parts."""
    parts = list(version)
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def parse_name(path: Path) -> tuple[Migration | None, str | None]:
    name = path.name
    if match := VERSIONED.match(name):
        description = match["description"]
        if not description.strip("_. "):
            return None, f"`{name}`: no description after `__`"
        version = tuple(int(part) for part in re.split(r"[._]", match["version"]))
        return Migration(path, True, version, description), None
    if match := REPEATABLE.match(name):
        description = match["description"]
        if not description.strip("_. "):
            return None, f"`{name}`: no description after `__`"
        return Migration(path, False, (), description), None
    if name[:1] in ("U", "B") and "__" in name:
        return None, f"`{name}`: undo (U) and baseline (B) migrations need a paid Flyway edition"
    if name.startswith("V"):
        return (
            None,
            f"`{name}`: not V<version>__<description>.sql (version: digits separated by . or _)",
        )
    if name.startswith("R"):
        return None, f"`{name}`: a repeatable migration is named R__<description>.sql"
    return None, f"`{name}`: Flyway does not recognise this name (V<version>__… or R__…)"


def read_migrations(report: Report, folder: Path) -> list[Migration]:
    """Every migration in Flyway's order: versioned by version, then repeatables."""
    problems = []
    migrations = []
    others = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        if not path.name.lower().endswith(".sql"):
            others.append(path.name)
            continue
        migration, problem = parse_name(path)
        if problem:
            problems.append(problem)
        else:
            migrations.append(migration)
    versions: dict[tuple[int, ...], str] = {}
    descriptions: dict[str, str] = {}
    for migration in migrations:
        if migration.versioned:
            key = normalized(migration.version)
            if key in versions:
                problems.append(f"`{migration.name}` has the same version as `{versions[key]}`")
            versions.setdefault(key, migration.name)
        else:
            key = migration.description.replace("_", " ")
            if key in descriptions:
                problems.append(
                    f"`{migration.name}` has the same description as `{descriptions[key]}`"
                )
            descriptions.setdefault(key, migration.name)
    ordered = sorted(
        (m for m in migrations if m.versioned), key=lambda m: normalized(m.version)
    ) + sorted((m for m in migrations if not m.versioned), key=lambda m: m.description)
    report.check(
        f"naming: {len(ordered)} migrations follow Flyway's rules, versions unique", problems
    )
    if others:
        report.note(f"not migrations (Flyway ignores them): {', '.join(others)}")
    report.note("order: " + ", ".join(m.name for m in ordered))
    return ordered


def oi_gen_binary() -> Path:
    if os.environ.get("OI_GEN"):
        return Path(os.environ["OI_GEN"])
    source = Path(os.environ.get("OI_GEN_SOURCE") or Path(__file__).resolve().parents[2])
    target = Path(os.environ.get("CARGO_TARGET_DIR") or source / "target")
    return target / "release" / "oi-gen"


def run_oi_gen(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(oi_gen_binary()), *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def add_migrations(report: Report, repo: Path) -> None:
    """`oi-gen migration new` twice, SQL into both, and a repeatable view."""
    folder = repo / "db" / "migrations"
    for description, snake, sql in NEW_MIGRATIONS:
        before = {p.name for p in folder.iterdir()}
        majors = [
            int(m["version"].split(".")[0].split("_")[0])
            for m in (VERSIONED.match(n) for n in before)
            if m
        ]
        expected = f"V{max(majors, default=0) + 1}__{snake}.sql"
        label = f"oi-gen migration new {shlex.quote(description)}"
        proc = run_oi_gen(["migration", "new", description], repo)
        output = (proc.stdout + proc.stderr).strip()
        created = sorted({p.name for p in folder.iterdir()} - before)
        problems = []
        if proc.returncode != 0:
            problems.append(f"exit {proc.returncode}\n{output}")
        if created != [expected]:
            problems.append(f"expected it to write {expected}, it wrote {created or 'nothing'}")
        elif (repo / proc.stdout.strip()).resolve() != (folder / expected).resolve():
            problems.append(f"printed {proc.stdout.strip()!r}, not the path of {expected}")
        report.check(f"{label} -> {expected}", problems)
        path = folder / expected
        if path.is_file():
            path.write_text(path.read_text() + sql)
    (folder / "R__views.sql").write_text(VIEWS_SQL)
    print("ok    wrote R__views.sql")

    # oi-gen's own view of the folder must agree: nothing invalid or drifted under db/.
    proc = run_oi_gen(["render", "--check", "--format", "json"], repo)
    try:
        findings = [
            f"{entry['path']}: {entry['status']}"
            + (f" ({entry['message']})" if entry.get("message") else "")
            for entry in json.loads(proc.stdout).get("files", [])
            if entry["path"].startswith("db/")
        ]
    except (json.JSONDecodeError, AttributeError, KeyError):
        findings = [
            f"no JSON report (exit {proc.returncode})\n{(proc.stdout + proc.stderr).strip()}"
        ]
    report.check("oi-gen render --check: nothing under db/ reported", findings)


# --------------------------------------------------------------------- pglast


@dataclass
class Parsed:
    sql: Path
    statements: list = field(default_factory=list)
    ok: bool = False


def location(text: str, offset: int) -> str:
    """line:column of a character offset into text (pglast's offsets count characters)."""
    before = text[:offset]
    return f"{before.count(chr(10)) + 1}:{offset - (before.rfind(chr(10)) + 1) + 1}"


def drops(statement) -> bool:
    """DROP statements, and ALTER TABLE … DROP COLUMN."""
    if type(statement).__name__.startswith("Drop"):
        return True
    return isinstance(statement, ast.AlterTableStmt) and any(
        getattr(command, "subtype", None) == AlterTableType.AT_DropColumn
        for command in statement.cmds or ()
    )


def shown(statement) -> str:
    sql = pglast.stream.RawStream()(statement)
    return sql if len(sql) <= 100 else sql[:99] + "…"


def needs_no_transaction(statement) -> bool:
    """Statements PostgreSQL refuses inside a transaction block; Flyway runs them outside."""
    if isinstance(statement, (ast.IndexStmt, ast.DropStmt)):
        return bool(getattr(statement, "concurrent", False))
    if isinstance(statement, ast.ReindexStmt):
        return any(p.defname == "concurrently" for p in statement.params or ())
    return isinstance(
        statement,
        (
            ast.VacuumStmt,
            ast.CreatedbStmt,
            ast.DropdbStmt,
            ast.AlterSystemStmt,
            ast.CreateTableSpaceStmt,
            ast.DropTableSpaceStmt,
            ast.CreateSubscriptionStmt,
            ast.DropSubscriptionStmt,
        ),
    )


PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


def replace_placeholders(
    migration: Migration, text: str, values: dict[str, str]
) -> tuple[str, list[str]]:
    """What Flyway runs: ${name} replaced by its value. Also returns the undefined ones."""
    unknown = []

    def value(match: re.Match) -> str:
        key = match[1]
        if key == "flyway:filename":
            return migration.name
        if key in values:
            return values[key]
        unknown.append(
            f"{migration.name}:{location(text, match.start())}: "
            f"${{{key}}} has no value (define it in [flyway.placeholders])"
        )
        return match[0]

    return PLACEHOLDER.sub(value, text), unknown


def parse_migrations(
    report: Report, migrations: list[Migration], config: FlywayConfig, replaced: Path
) -> dict:
    """Parses what Flyway would run; files with placeholders are replaced into `replaced`."""
    parsed: dict[str, Parsed] = {}
    syntax, dropped, placeholders = [], [], []
    replacing = config.flyway.get("placeholderReplacement", True) is not False
    for migration in migrations:
        text = migration.path.read_text()
        result = Parsed(migration.path)
        parsed[migration.name] = result
        if replacing and PLACEHOLDER.search(text):
            text, unknown = replace_placeholders(migration, text, config.placeholders)
            placeholders += unknown
            replaced.mkdir(exist_ok=True)
            result.sql = replaced / migration.name
            result.sql.write_text(text)
        try:
            raw = pglast.parse_sql(text)
        except pglast.parser.ParseError as error:
            message, offset = (error.args + (None,))[:2]
            where = location(text, offset if isinstance(offset, int) else len(text))
            syntax.append(f"{migration.name}:{where}: {message}")
            continue
        result.statements = [r.stmt for r in raw]
        result.ok = True
        if migration.versioned:
            for r in raw:
                if drops(r.stmt):
                    dropped.append(
                        f"{migration.name}:{location(text, r.stmt_location or 0)}: {shown(r.stmt)}"
                    )
    counts = ", ".join(f"{name} {len(p.statements)}" for name, p in parsed.items() if p.ok)
    report.check(f"pglast: every migration parses (statements: {counts})", syntax)
    report.check("pglast: no DROP in versioned migrations", dropped)
    report.check("placeholders: every ${…} has a value", placeholders)
    return parsed


# ----------------------------------------------------------------- PostgreSQL


def find_bindir() -> Path | None:
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    found.sort(key=lambda p: [int(x) if x.isdigit() else 0 for x in re.split(r"[./]", p)])
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def open_to_others(path: Path) -> bool:
    """Whether another user can reach files below path."""
    return all(folder.stat().st_mode & 0o001 for folder in [path, *path.parents])


class Server:
    """A throwaway PostgreSQL cluster in a temporary folder, on a loopback port."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.user: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            self.user = self.system_user()
        base = Path(tempfile.gettempdir())
        if self.user and not open_to_others(base):
            base = Path("/tmp")
        self.base = Path(tempfile.mkdtemp(prefix="check-flyway-pg.", dir=base))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self.port = 0
        self.started = False
        if self.user:
            os.chown(self.base, self.user.pw_uid, self.user.pw_gid)
        os.chmod(self.base, 0o700)

    @staticmethod
    def system_user() -> pwd.struct_passwd:
        """PostgreSQL refuses to run as root: use the postgres system user."""
        try:
            return pwd.getpwnam("postgres")
        except KeyError:
            subprocess.run(
                [
                    "useradd",
                    "--system",
                    "--user-group",
                    "--home-dir",
                    "/nonexistent",
                    "--shell",
                    "/usr/sbin/nologin",
                    "postgres",
                ],
                check=True,
                capture_output=True,
            )
            return pwd.getpwnam("postgres")

    def as_owner(self, argv: list[str], **kwargs) -> subprocess.CompletedProcess:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LC_ALL": "C",
            "HOME": str(self.base),
        }
        extra = {}
        if self.user:
            extra = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        return subprocess.run(
            argv,
            cwd=self.base,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            **extra,
            **kwargs,
        )

    def tool(self, name: str) -> str:
        return str(self.bindir / name)

    def log_tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return ""

    def start(self) -> str | None:
        """Starts the server; returns why it could not."""
        proc = self.as_owner(
            [
                self.tool("initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-locale",
                "--encoding=UTF8",
                "--no-sync",
            ]
        )
        if proc.returncode != 0:
            return f"initdb: exit {proc.returncode}\n{(proc.stdout + proc.stderr).strip()}"
        why = ""
        for _ in range(3):
            self.port = free_port()
            options = " ".join(
                [
                    "-c listen_addresses=127.0.0.1",
                    f"-p {self.port}",
                    f"-k {shlex.quote(str(self.base))}",
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                    # As the RDS parameter group has it: the roles callback
                    # must not put a password into a logged statement.
                    "-c log_statement=ddl",
                ]
            )
            proc = self.as_owner(
                [
                    self.tool("pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                    "start",
                ]
            )
            if proc.returncode == 0:
                self.started = True
                return None
            output = (proc.stdout + proc.stderr).strip()
            why = f"pg_ctl start: exit {proc.returncode}\n{output}\n{self.log_tail()}"
            self.stop()
            if "in use" not in why:
                break
        return why

    def stop(self) -> None:
        if not self.data.exists():
            return
        for mode in ("fast", "immediate"):
            proc = self.as_owner(
                [
                    self.tool("pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    mode,
                    "-w",
                    "-t",
                    "30",
                    "stop",
                ]
            )
            if proc.returncode == 0 or "Is server running?" in proc.stderr:
                break
        self.started = False

    def cleanup(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def psql(
        self, user: str, database: str, *args: str, transaction: bool = False
    ) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", PGCONNECT_TIMEOUT="10")
        argv = [
            self.tool("psql"),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            user,
            "-d",
            database,
        ]
        if transaction:
            argv.append("--single-transaction")
        return subprocess.run([*argv, *args], env=env, capture_output=True, text=True, check=False)


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


ROLES_TEMPLATE = "templates/migrations-roles-configmap.yaml"
ROLES_KEY = "afterMigrate__database_roles.sql: |"
# Stand-ins for the roles and passwords the migration Job gets from Secrets Manager.
TEST_ROLES = [
    {"role": "app_conformance", "password": "Conformance0Password1"},
    {"role": "app_second_service", "password": "Second2Password3"},
]


def roles_callback(repo: Path) -> tuple[str, str] | None:
    """The migrations owner's roles callback: (its chart template, the SQL)."""
    for path in sorted(repo.glob("charts/*/" + ROLES_TEMPLATE)):
        lines = path.read_text().splitlines()
        starts = [i for i, line in enumerate(lines) if line.strip() == ROLES_KEY]
        if not starts:
            return str(path.relative_to(repo)), ""
        body = []
        for line in lines[starts[0] + 1 :]:
            if line and not line.startswith("    "):
                break
            body.append(line[4:])
        return str(path.relative_to(repo)), "\n".join(body).strip() + "\n"
    return None


def check_roles(report: Report, server: "Server", database: str, callback: tuple[str, str]) -> None:
    label, sql = callback
    if "${database_roles}" not in sql:
        report.fail(f"roles: {label}", f"no {ROLES_KEY} block reading ${{database_roles}}")
        return
    text = sql.replace("${database_roles}", json.dumps(TEST_ROLES))
    script = server.base / "roles.sql"
    script.write_text(text)
    script.chmod(0o644)
    # The schema history table, as Flyway leaves it before afterMigrate.
    proc = server.psql(
        MIGRATOR, database, "-c", "CREATE TABLE IF NOT EXISTS flyway_schema_history (installed_rank int)"
    )
    if proc.returncode != 0:
        report.fail("roles: schema history stand-in", (proc.stdout + proc.stderr).strip())
        return
    for round_ in ("", " (rerun)"):
        proc = server.psql(MIGRATOR, database, "-f", str(script), transaction=True)
        if proc.returncode != 0:
            report.fail(f"roles: {label}{round_}", (proc.stdout + proc.stderr).strip())
            return
        print(f"ok    roles: {label}{round_}")
    problems = []
    table = EXPECTED_RELATIONS[0]
    for entry in TEST_ROLES:
        role = entry["role"]
        allowed = [
            f"SELECT count(*) FROM {table}",
            f"SELECT 1 FROM {table} FOR UPDATE",
            f"DELETE FROM {table} WHERE false",
        ]
        for statement in allowed:
            proc = server.psql(role, database, "-c", statement, transaction=True)
            if proc.returncode != 0:
                problems.append(f"{role}: `{statement}` refused: {proc.stderr.strip()}")
        for statement in (
            "CREATE TABLE not_allowed (id int)",
            "SELECT * FROM flyway_schema_history",
            f"DROP TABLE {table}",
        ):
            proc = server.psql(role, database, "-c", statement, transaction=True)
            if proc.returncode == 0:
                problems.append(f"{role}: `{statement}` is allowed")
    proc = server.psql(
        "postgres",
        database,
        "-At",
        "-c",
        "SELECT count(*) FROM pg_authid WHERE rolname LIKE 'app\\_%' AND rolpassword IS NOT NULL"
        " AND rolcanlogin AND NOT rolsuper AND NOT rolcreaterole AND NOT rolcreatedb",
    )
    if proc.stdout.strip() != str(len(TEST_ROLES)):
        problems.append(f"roles with a password and no privilege: {proc.stdout.strip()} {proc.stderr.strip()}")
    log = server.log.read_text(errors="replace") if server.log.exists() else ""
    for entry in TEST_ROLES:
        if entry["password"] in log:
            problems.append(f"the password of {entry['role']} is in the server log")
    report.check(
        f"roles: {len(TEST_ROLES)} roles read and write {table}, create nothing, "
        "see no schema history, no password logged",
        problems,
    )


def apply_migrations(
    report: Report,
    migrations: list[Migration],
    parsed: dict,
    config: FlywayConfig,
    database: str,
    callback: tuple[str, str] | None = None,
) -> None:
    bindir = find_bindir()
    if bindir is None or not (bindir / "initdb").exists():
        report.fail(
            "postgresql: server binaries",
            "no initdb under /usr/lib/postgresql/*/bin (install Debian's `postgresql`) "
            "and PG_BINDIR is not set",
        )
        return
    version = subprocess.run(
        [str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    server = Server(bindir)
    try:
        why = server.start()
        if why:
            report.fail("postgresql: start a server", why)
            return
        owner = f" as {server.user.pw_name}" if server.user else ""
        print(f"ok    postgresql: {version} on 127.0.0.1:{server.port}{owner}, in {server.base}")

        proc = server.psql(
            "postgres",
            "postgres",
            "-c",
            f"CREATE ROLE {MIGRATOR} LOGIN CREATEROLE",
            "-c",
            f"CREATE DATABASE {quote_ident(database)} OWNER {MIGRATOR}",
        )
        if proc.returncode != 0:
            report.fail("postgresql: create the database", (proc.stdout + proc.stderr).strip())
            return
        print(f"ok    postgresql: database {database}, owned by {MIGRATOR} (no superuser)")

        mixed_allowed = config.flyway.get("mixed") is True
        repeatables = [m for m in migrations if not m.versioned]
        for round_, batch in enumerate([migrations, repeatables]):
            for migration in batch:
                result = parsed.get(migration.name) or Parsed(migration.path)
                statements = result.statements
                outside = [needs_no_transaction(s) for s in statements]
                transaction = not any(outside)
                label = f"psql: {migration.name}" + (" (rerun)" if round_ else "")
                if any(outside) and not all(outside) and not mixed_allowed:
                    report.fail(
                        label,
                        "mixes statements that cannot run in a transaction with ones that can; "
                        "Flyway refuses that while [flyway] mixed is false: split the migration",
                    )
                    return
                proc = server.psql(
                    MIGRATOR, database, "-f", str(result.sql), transaction=transaction
                )
                if proc.returncode != 0:
                    report.fail(
                        label, f"exit {proc.returncode}\n{(proc.stdout + proc.stderr).strip()}"
                    )
                    report.note("later migrations not applied")
                    return
                mode = "one transaction" if transaction else "outside a transaction"
                print(f"ok    {label} ({mode})")

        query = "SELECT " + ", ".join(
            f"to_regclass('public.{name}') IS NOT NULL" for name in EXPECTED_RELATIONS
        )
        proc = server.psql(MIGRATOR, database, "-At", "-F", ",", "-c", query)
        found = proc.stdout.strip().split(",")
        missing = [
            n for n, present in zip(EXPECTED_RELATIONS, found, strict=False) if present != "t"
        ]
        report.check(
            f"postgresql: {', '.join(EXPECTED_RELATIONS)} exist in public",
            [f"missing: {', '.join(missing)}" + (f"\n{proc.stderr.strip()}" if proc.stderr else "")]
            if missing or proc.returncode != 0
            else [],
        )
        if callback:
            check_roles(report, server, database, callback)
    finally:
        server.cleanup()
        print("      server stopped, temporary folder removed")


# ----------------------------------------------------------------------- main


def no_database(report: Report, repo: Path) -> None:
    print("no database: the blueprint has no spec.database")
    report.check(
        "no db/ folder rendered", [f"{repo / 'db'} exists"] if (repo / "db").exists() else []
    )
    with tempfile.TemporaryDirectory(prefix="check-flyway.") as tmp:
        copy = Path(tmp) / "repo"
        shutil.copytree(repo, copy, symlinks=True)
        before = set(copy.rglob("*"))
        proc = run_oi_gen(["migration", "new", "add users table"], copy)
        written = sorted(str(p.relative_to(copy)) for p in set(copy.rglob("*")) - before)
        problems = []
        if proc.returncode == 0:
            problems.append(f"exit 0, expected a refusal\n{proc.stdout.strip()}")
        if written:
            problems.append(f"it wrote {', '.join(written)}")
        report.check("oi-gen migration new refuses, and writes nothing", problems)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    # A timeout sends SIGTERM: unwind through the finally blocks that stop the server.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    repo = Path(argv[1]).resolve()
    report = Report()
    binary = oi_gen_binary()
    print(f"oi-gen: {binary}")
    parser = ".".join(map(str, pglast.parser.get_postgresql_version()))
    print(f"pglast {metadata.version('pglast')} (PostgreSQL {parser} parser)")

    blueprint = yaml.safe_load((repo / "platform.yaml").read_text()) or {}
    spec = blueprint.get("spec") or {}
    if not binary.is_file():
        report.fail(
            "oi-gen binary", f"no {binary}: build it with `cargo build --release` or set OI_GEN"
        )
    elif not spec.get("database"):
        no_database(report, repo)
    else:
        database = spec["database"]
        name = database.get("name") or "app"
        environments = [e.get("name") for e in spec.get("environments") or []]
        print(f"database: {name} (PostgreSQL {database.get('version')}), ", end="")
        print(f"migrations: {database.get('migrations', 'flyway')}")

        section("flyway.toml")
        config = check_flyway_toml(report, repo, environments, name)
        baseline = repo / "db" / "migrations" / "V1__baseline.sql"
        report.check(
            "db/migrations/V1__baseline.sql rendered",
            [] if baseline.is_file() else ["not rendered"],
        )

        if not (repo / "db" / "migrations").is_dir():
            report.fail("db/migrations", "not rendered: nothing to migrate")
            return finish(report)
        with tempfile.TemporaryDirectory(prefix="check-flyway.") as tmp:
            copy = Path(tmp) / "repo"
            shutil.copytree(repo, copy, symlinks=True)
            section("oi-gen migration new (in a copy)")
            add_migrations(report, copy)

            section("naming")
            migrations = read_migrations(report, copy / "db" / "migrations")

            section("pglast")
            parsed = parse_migrations(report, migrations, config, Path(tmp) / "replaced")

            section("postgresql")
            callback = roles_callback(repo)
            if callback is None and (repo / "charts").is_dir():
                owners = [p for p in (repo / "charts").glob("*/templates/migrations-job.yaml")]
                if owners:
                    report.fail("roles", f"{owners[0]} has no {ROLES_TEMPLATE} next to it")
            apply_migrations(report, migrations, parsed, config, name, callback)

    return finish(report)


def finish(report: Report) -> int:
    print()
    if report.failures:
        print("\n\n".join(report.failures))
        print(f"\nflyway: {len(report.failures)} check(s) failed")
        return 1
    print("flyway: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
