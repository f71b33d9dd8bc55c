#!/usr/bin/env python3
"""Conformance of the generated Helm charts and cluster add-ons.

Usage: check_kubernetes.py RENDERED_REPO

Over RENDERED_REPO/charts/<service> and RENDERED_REPO/cluster:
  helm lint               every chart, strict, with every environment's values file plus
                          sample deploy-time values (Helm v4 through helm-python-sdk);
                          no warning and no error
  helm template           every chart with every environment's values file; the deploy-time
                          values are required (a render without them fails with a clear message)
  values files only       every chart lints (strict) and renders with nothing but its values
                          files and the image: a digest (the migrations owner: its migrations
                          image's too), and a tag alone; plus image.registry only for an
                          environment without `account` (its values file then has no registry,
                          and with an account it has <account>.dkr.ecr.<region>.amazonaws.com),
                          plus the database endpoint while the deploy still passes it
  kubernetes-validate     every rendered built-in object against the blueprint's
                          kubernetesVersion, --strict
  check-jsonschema        every custom resource (rendered, and under cluster/manifests) against
                          the CRD schemas in tests/data/crd-schemas
  checkov                 kubernetes framework over the rendered objects and cluster/manifests:
                          zero failed checks; every skip carries a reason
  yamllint                values files, Chart.yaml, add-on values, manifests, rendered objects
  argocd                  with delivery.mode argocd: each environment's AppProject (this repository,
                          the platform's namespace, nothing cluster-wide) and one Application per
                          service (automated self-heal sync unless the environment needs approval);
                          each chart renders through exactly its Application's valueFiles, the
                          image pin filled as a promotion writes it
  structure               External Secrets braces survive Helm, DATABASE_URL is assembled from
                          the managed username and URL-escaped password, routes attach to an
                          existing listener of the environment's Gateway, NetworkPolicies cover
                          every pod, install.sh installs what the blueprint turns on, in order
  quota                   each environment's cluster/manifests/<env>/quota.yaml holds a ResourceQuota and
                          a LimitRange in the platform's namespace (defaultRequest <= default <= max, no
                          LoadBalancer or NodePort Service); every container of every pod the charts render
                          (Deployments, the migration Job) sets requests and limits, within the LimitRange's
                          max, and the pods at their peak mid-rollout (HPA maxReplicas or replicas, plus the
                          25% surge; each Job's parallelism) fit the ResourceQuota
  migrations              the owner's chart renders the Flyway Job and its ServiceAccount,
                          ExternalSecret and NetworkPolicy as pre-install/pre-upgrade hooks,
                          those before the Job (lower weight); the Job is bounded, hardened,
                          reads the credentials from the hook's Secret and runs the migrations
                          image of its environment's ECR repository (<platform>/<env>/<owner>-
                          migrations) with the release's tag, nothing mounted but /tmp; no
                          other chart has any of it
  Dockerfile              db/Dockerfile (the migrations image) passes hadolint with no finding;
                          it is FROM the Flyway image CI runs, pinned by digest, copies
                          flyway.toml and migrations/ (whole folders) to /flyway/project and
                          ends as a non-root USER
  service code            each service's seeded build context: its Dockerfile passes hadolint,
                          is FROM one image pinned by digest, USER 10001:10001 (the pod's user),
                          EXPOSE of the service's port; server.py, run with PORT, answers the
                          health path and / with 200 and stops on SIGTERM

Exit status 0 when everything passed, 1 otherwise, with a report of each failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

SOURCE = Path(__file__).resolve().parents[2]
SCHEMAS = SOURCE / "tests" / "data" / "crd-schemas"

CUSTOM_GROUPS = {
    "external-secrets.io",
    "cert-manager.io",
    "gateway.networking.k8s.io",
    "monitoring.coreos.com",
    "policy.sigstore.dev",
    "karpenter.sh",
    "karpenter.k8s.aws",
    "argoproj.io",
}

SAMPLE_REGISTRY = "123456789012.dkr.ecr.{region}.amazonaws.com"
SAMPLE_TAG = "v1.2.3"
SAMPLE_DIGEST = "sha256:" + "0123456789abcdef" * 4
SAMPLE_MIGRATIONS_DIGEST = "sha256:" + "fedcba9876543210" * 4
ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
SAMPLE_DB_SECRET = "arn:aws:secretsmanager:{region}:123456789012:secret:rds!db-0123abcd-4567-89ef-0123-456789abcdef-AbCdEf"

# Checks that may be skipped, and only with a reason.
ALLOWED_SKIPS = {"CKV_K8S_43", "CKV_K8S_35"}

# The migration hook's bounds.
HELM_TIMEOUT_SECONDS = 600
HOOK_EVENTS = "pre-install,pre-upgrade"
HOOK_DELETE_POLICY = "before-hook-creation,hook-succeeded"
HOOK_KINDS = {"Job", "ServiceAccount", "ExternalSecret", "NetworkPolicy"}

YAMLLINT_CONFIG = """
extends: default
rules:
  document-start: disable
  line-length:
    max: 200
  indentation:
    spaces: 2
    indent-sequences: whatever
  truthy:
    check-keys: false
  comments:
    min-spaces-from-content: 1
"""

# Order install.sh must respect: (before, after).
ORDER = [
    ("Gateway API", "NGINX Gateway Fabric"),
    ("Gateway API", "cert-manager"),
    ("External Secrets Operator", "ClusterSecretStore"),
    ("cert-manager", "ClusterIssuers"),
    ("NGINX Gateway Fabric", "shared Gateway"),
    ("AWS Load Balancer Controller", "NGINX Gateway Fabric"),
    ("AWS Load Balancer Controller", "ingress-nginx"),
    # "=name": the step named exactly so (the chart, not its CRDs' step).
    ("Grafana admin credentials", "=kube-prometheus-stack"),
    # The system node group takes critical add-ons only: the others wait for
    # the nodes Karpenter launches.
    ("Karpenter", "Calico"),
    ("Karpenter", "metrics-server"),
    ("Karpenter", "NGINX Gateway Fabric"),
    ("Karpenter (", "NodePools and EC2NodeClasses"),
]


def blueprint_environments(repo: Path) -> list[str]:
    return [e["name"] for e in load_yaml(repo / "platform.yaml")["spec"]["environments"]]


def blueprint_node_groups(repo: Path) -> list[str]:
    return [g["name"] for g in load_yaml(repo / "platform.yaml")["spec"]["cluster"]["nodeGroups"]]


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
        self.passed: list[str] = []

    def fail(self, label: str, detail: str) -> None:
        self.failures.append(f"[{label}] {detail}")

    def ok(self, label: str) -> None:
        self.passed.append(label)

    def run(self, label: str, argv: list[str], cwd: Path, ok_codes=(0,)) -> tuple[int, str]:
        exe = tool(argv[0])
        if exe is None:
            self.fail(label, f"`{argv[0]}` is not installed")
            return -1, ""
        proc = subprocess.run([exe, *argv[1:]], cwd=cwd, capture_output=True, text=True)
        output = (proc.stdout + proc.stderr).strip()
        if proc.returncode not in ok_codes:
            self.fail(label, f"exit {proc.returncode}\n{output}")
        return proc.returncode, output


def deep_merge(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_yaml(path: Path):
    with path.open() as handle:
        return yaml.safe_load(handle)


def documents(text: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(text) if isinstance(doc, dict)]


def group_of(api_version: str) -> str:
    return api_version.split("/")[0] if "/" in api_version else ""


def schema_for(doc: dict) -> Path:
    group, version = doc["apiVersion"].split("/")
    return SCHEMAS / f"{doc['kind'].lower()}-{group}-{version}.json"


class Blueprint:
    def __init__(self, repo: Path) -> None:
        platform = load_yaml(repo / "platform.yaml")
        spec = platform["spec"]
        self.name: str = platform["metadata"]["name"]
        self.region: str = spec["aws"]["region"].strip()
        self.kubernetes = str(spec["cluster"]["kubernetesVersion"])
        self.environments = [e["name"] for e in spec["environments"]]
        # The AWS account of each environment, when the blueprint names them.
        self.accounts = {e["name"]: e.get("account") for e in spec["environments"]}
        self.services = {s["name"]: s for s in spec["services"]}
        addons = spec["cluster"].get("addons") or {}

        def on(key: str) -> bool:
            value = addons.get(key)
            return value is not None and value is not False

        self.nginx = addons.get("nginx") or "gateway"
        self.calico = spec["cluster"].get("networkPolicy") == "calico"
        self.karpenter = spec["cluster"].get("autoscaler") == "karpenter"
        self.auto_mode = spec["cluster"].get("compute") == "auto-mode"
        self.monitoring = on("monitoring")
        self.grafana = self.monitoring and (
            not isinstance(addons.get("monitoring"), dict) or addons["monitoring"].get("grafana", True)
        )
        self.external_secrets = on("externalSecrets")
        self.cert_manager = on("certManager")
        self.database = spec.get("database")
        self.overrides = {e["name"]: e.get("overrides") or {} for e in spec["environments"]}
        # The service whose chart runs the Flyway Job: it owns the migrations, and
        # External Secrets hands the Job the database credentials.
        self.migrations_owner = next(
            (
                s["name"]
                for s in spec["services"]
                if s.get("runsMigrations") and self.database and self.external_secrets
            ),
            None,
        )

    def replicas(self, service: str, env: str) -> int:
        return self.overrides[env].get("replicas", self.services[service]["replicas"])


def registry_of(blueprint: Blueprint, env: str) -> str:
    """The registry the chart's images come from in env."""
    account = blueprint.accounts.get(env)
    if account:
        return f"{account}.dkr.ecr.{blueprint.region}.amazonaws.com"
    return SAMPLE_REGISTRY.format(region=blueprint.region)


def endpoint_values(blueprint: Blueprint, env: str, values: dict) -> dict:
    """What the deploy still passes besides the image: the ARN of the RDS master secret,
    to the migrations owner only (RDS names it; the database host comes from Secrets
    Manager)."""
    if not (values.get("database", {}).get("enabled") and values.get("migrations", {}).get("owner")):
        return {}
    return {"database": {"secretArn": SAMPLE_DB_SECRET.format(region=blueprint.region)}}


def image_values(blueprint: Blueprint, env: str, env_values: dict, **image) -> dict:
    """The image as the deploy passes it; the registry only where the values file has none
    (an environment without `account`)."""
    if not (env_values.get("image") or {}).get("registry"):
        image = {"registry": registry_of(blueprint, env), **image}
    return {"image": image}


def sample_values(blueprint: Blueprint, env: str, values: dict, env_values: dict | None = None) -> dict:
    extra = image_values(blueprint, env, env_values or {}, tag=SAMPLE_TAG)
    extra |= endpoint_values(blueprint, env, values)
    return extra


def check_charts(repo: Path, blueprint: Blueprint, work: Path, report: Report) -> list[dict]:
    """Lints and renders every chart; returns the rendered objects with their origin."""
    import helm_python as helm

    objects: list[dict] = []
    charts = sorted(p.parent for p in (repo / "charts").glob("*/Chart.yaml"))
    if sorted(c.name for c in charts) != sorted(blueprint.services):
        report.fail("charts", f"charts {[c.name for c in charts]} != services {sorted(blueprint.services)}")
    namespace = blueprint.name
    kube = f"v{blueprint.kubernetes}.0"
    for chart_dir in charts:
        service = chart_dir.name
        defaults = load_yaml(chart_dir / "values.yaml")
        chart = helm.Chart.load(chart_dir)
        for env in blueprint.environments:
            label = f"{service}/{env}"
            env_file = chart_dir / f"values-{env}.yaml"
            if not env_file.exists():
                report.fail("charts", f"{label}: values-{env}.yaml is missing")
                continue
            env_values = load_yaml(env_file) or {}
            values = deep_merge(env_values, sample_values(blueprint, env, defaults, env_values))

            lint = helm.lint(chart_dir, values, strict=True, namespace=namespace, kube_version=kube)
            problems = [m for m in lint.get("messages", []) if m.get("severity", 0) >= 2]
            problems += [{"path": "", "error": e} for e in lint.get("errors", []) or []]
            if problems:
                report.fail(
                    "helm lint",
                    f"{label}:\n" + "\n".join(f"  {m.get('path')}: {m.get('error')}" for m in problems),
                )

            try:
                rendered = chart.render(values, name=service, namespace=namespace, is_install=True)
            except Exception as error:  # noqa: BLE001 - the report names it
                report.fail("helm template", f"{label}: {error}")
                continue
            out = work / "rendered" / service / env
            out.mkdir(parents=True, exist_ok=True)
            for template, text in sorted(rendered.items()):
                if not template.endswith(".yaml") or not text.strip():
                    continue
                docs = documents(text)
                if not docs:
                    continue
                (out / Path(template).name).write_text(text)
                for doc in docs:
                    objects.append(
                        {"service": service, "env": env, "file": out / Path(template).name, "doc": doc}
                    )

            check_required(chart, blueprint, service, env, env_values, defaults, report)
            check_values_only(helm, chart, chart_dir, blueprint, service, env, env_values, defaults, report)
    return objects


def pinned(text: str, blueprint: Blueprint, env: str) -> dict:
    """An image pin as a promotion rewrites it: every empty field filled."""
    values = yaml.safe_load(text) or {}
    image = values.setdefault("image", {})
    if "registry" in image:
        image["registry"] = registry_of(blueprint, env)
    image["digest"] = SAMPLE_DIGEST
    if "migrations" in values:
        values["migrations"]["image"]["digest"] = SAMPLE_MIGRATIONS_DIGEST
        values["database"]["secretArn"] = SAMPLE_DB_SECRET.format(region=blueprint.region)
    return values


def check_applications(repo: Path, blueprint: Blueprint, report: Report) -> None:
    """With delivery.mode argocd: each environment's Applications name this repository's
    charts, the platform's namespace and the AppProject that allows only those; Helm
    renders each chart through exactly the Application's valueFiles (its image pin as a
    promotion writes it), and the seeded pin, before any promotion, fails with the
    chart's message."""
    import helm_python as helm

    platform = load_yaml(repo / "platform.yaml")
    if platform["spec"]["delivery"].get("mode") != "argocd":
        if list((repo / "cluster" / "manifests").glob("*/applications.yaml")) or (repo / "deploy").exists():
            report.fail("argocd", "Argo CD objects without delivery.mode: argocd")
        return
    repository = f"https://github.com/{platform['spec']['delivery']['github']['repository']}.git"
    count = 0
    for env in blueprint.environments:
        path = repo / "cluster" / "manifests" / env / "applications.yaml"
        if not path.exists():
            report.fail("argocd", f"{path.relative_to(repo)} is missing")
            continue
        docs = documents(path.read_text())
        projects = [d for d in docs if d["kind"] == "AppProject"]
        apps = [d for d in docs if d["kind"] == "Application"]
        if len(projects) != 1:
            report.fail("argocd", f"{env}: {len(projects)} AppProjects")
            continue
        project = projects[0]
        if project["spec"].get("sourceRepos") != [repository]:
            report.fail("argocd", f"{env}: the AppProject's sources {project['spec'].get('sourceRepos')}")
        if [d.get("namespace") for d in project["spec"].get("destinations", [])] != [blueprint.name]:
            report.fail("argocd", f"{env}: the AppProject's destinations {project['spec'].get('destinations')}")
        if project["spec"].get("clusterResourceWhitelist") != []:
            report.fail("argocd", f"{env}: the AppProject allows cluster-wide objects")
        if sorted(a["metadata"]["name"] for a in apps) != sorted(blueprint.services):
            report.fail("argocd", f"{env}: Applications {[a['metadata']['name'] for a in apps]}")
        approval = next(e for e in platform["spec"]["environments"] if e["name"] == env).get("approval", False)
        for app in apps:
            spec = app["spec"]
            label = f"{env}/{app['metadata']['name']}"
            source = spec["source"]
            if spec["project"] != project["metadata"]["name"] or source["repoURL"] != repository:
                report.fail("argocd", f"{label}: project {spec['project']}, source {source['repoURL']}")
            if spec["destination"].get("namespace") != blueprint.name:
                report.fail("argocd", f"{label}: destination {spec['destination']}")
            automated = (spec.get("syncPolicy") or {}).get("automated")
            if approval != (automated is None) or (automated and not automated.get("selfHeal")):
                report.fail("argocd", f"{label}: sync policy {spec.get('syncPolicy')} with approval {approval}")
            chart_dir = repo / source["path"]
            files = [(chart_dir / f).resolve() for f in source["helm"]["valueFiles"]]
            missing = [str(f) for f in files if not f.exists() or repo.resolve() not in f.parents]
            if missing:
                report.fail("argocd", f"{label}: value files {missing}")
                continue
            chart = helm.Chart.load(chart_dir)
            values: dict = {}
            seeded: dict = {}
            for f in files:
                text = f.read_text()
                is_pin = "deploy" in f.relative_to(repo.resolve()).parts
                values = deep_merge(values, pinned(text, blueprint, env) if is_pin else (yaml.safe_load(text) or {}))
                seeded = deep_merge(seeded, yaml.safe_load(text) or {})
            name = source["helm"]["releaseName"]
            try:
                chart.render(values, name=name, namespace=blueprint.name, is_install=True)
                count += 1
            except Exception as error:  # noqa: BLE001 - the report names it
                report.fail("argocd", f"{label}: helm template with {source['helm']['valueFiles']}: {error}")
            try:
                chart.render(seeded, name=name, namespace=blueprint.name, is_install=True)
                report.fail("argocd", f"{label}: the seeded pin renders without a digest")
            except Exception as error:  # noqa: BLE001 - the expected refusal
                if "image.tag is required" not in str(error):
                    report.fail("argocd", f"{label}: the seeded pin fails with {error}")
    if count:
        report.ok(f"argocd: {count} Applications render through their valueFiles; AppProjects allow only this repository and namespace")


def check_values_only(helm, chart, chart_dir, blueprint, service, env, env_values, defaults, report) -> None:
    """Only the values files and the image: what a reviewer or a GitOps controller has."""
    label = f"{service}/{env}"
    before = len(report.failures)
    namespace = blueprint.name
    kube = f"v{blueprint.kubernetes}.0"
    registry = (env_values.get("image") or {}).get("registry")
    account = blueprint.accounts.get(env)
    if account and registry != registry_of(blueprint, env):
        report.fail("values files only", f"{label}: account {account}, but the values file names registry {registry!r}")
    if not account and registry:
        report.fail("values files only", f"{label}: no account, but the values file names registry {registry!r}")
    if account and not ACCOUNT_ID.match(str(account)):
        report.fail("values files only", f"{label}: account {account!r} is not 12 digits")
    owner = service == blueprint.migrations_owner
    by_digest = image_values(blueprint, env, env_values, digest=SAMPLE_DIGEST)
    if owner:
        by_digest["migrations"] = {"image": {"digest": SAMPLE_MIGRATIONS_DIGEST}}
    cases = {
        "digest": by_digest,
        "tag": image_values(blueprint, env, env_values, tag=SAMPLE_TAG),
    }
    for mode, image in cases.items():
        values = deep_merge(deep_merge(env_values, image), endpoint_values(blueprint, env, defaults))
        lint = helm.lint(chart_dir, values, strict=True, namespace=namespace, kube_version=kube)
        problems = [m for m in lint.get("messages", []) if m.get("severity", 0) >= 2]
        problems += [{"path": "", "error": e} for e in lint.get("errors", []) or []]
        if problems:
            report.fail(
                "values files only",
                f"{label} (image {mode}): helm lint --strict:\n"
                + "\n".join(f"  {m.get('path')}: {m.get('error')}" for m in problems),
            )
        try:
            rendered = chart.render(values, name=service, namespace=namespace, is_install=True)
        except Exception as error:  # noqa: BLE001 - the report names it
            report.fail("values files only", f"{label} (image {mode}): helm template: {error}")
            continue
        images = []
        for text in rendered.values():
            for doc in documents(text):
                pod = (doc.get("spec") or {}).get("template", {}).get("spec") or {}
                images += [c["image"] for c in pod.get("containers", [])]
        expected = f"{registry_of(blueprint, env)}/{blueprint.name}/{env}/{service}"
        expected += f"@{SAMPLE_DIGEST}" if mode == "digest" else f":{SAMPLE_TAG}"
        wanted = [expected]
        if owner:
            migrations = f"{registry_of(blueprint, env)}/{blueprint.name}/{env}/{service}-migrations"
            migrations += f"@{SAMPLE_MIGRATIONS_DIGEST}" if mode == "digest" else f":{SAMPLE_TAG}"
            wanted.append(migrations)
        if sorted(images) != sorted(wanted):
            report.fail("values files only", f"{label} (image {mode}): images {sorted(images)}, expected {sorted(wanted)}")
    if len(report.failures) == before:
        report.ok(f"values files only: {label} lints and renders by digest and by tag")


def check_required(chart, blueprint, service, env, env_values, defaults, report) -> None:
    """A render without the deploy-time values fails, and says which one."""
    base = deep_merge(env_values, sample_values(blueprint, env, defaults, env_values))
    cases = [
        ("image.tag", deep_merge(base, {"image": {"tag": ""}}), "image.tag is required"),
        ("image.registry", deep_merge(base, {"image": {"registry": ""}}), "image.registry is required"),
        ("image.tag=latest", deep_merge(base, {"image": {"tag": "latest"}}), "not latest"),
    ]
    if service == blueprint.migrations_owner:
        cases.append(
            (
                "migrations.image.repository",
                deep_merge(base, {"migrations": {"image": {"repository": ""}}}),
                "migrations.image.repository is required",
            )
        )
    if defaults.get("database", {}).get("enabled") and defaults.get("migrations", {}).get("owner"):
        cases.append(
            ("database.secretArn", deep_merge(base, {"database": {"secretArn": ""}}), "database.secretArn is required")
        )
    for what, values, message in cases:
        try:
            chart.render(values, name=service, namespace=blueprint.name)
        except Exception as error:  # noqa: BLE001
            if message not in str(error):
                report.fail("required values", f"{service}/{env} without {what}: unclear error: {error}")
            continue
        report.fail("required values", f"{service}/{env}: renders without {what}")


def check_structure(repo: Path, blueprint: Blueprint, objects: list[dict], report: Report) -> None:
    by_chart: dict[tuple[str, str], list[dict]] = {}
    for item in objects:
        by_chart.setdefault((item["service"], item["env"]), []).append(item["doc"])

    gateways: dict[str, dict] = {}
    for env in blueprint.environments:
        path = repo / "cluster" / "manifests" / env / "gateway.yaml"
        if path.exists():
            for doc in documents(path.read_text()):
                if doc["kind"] == "Gateway":
                    gateways[env] = doc

    for (service, env), docs in sorted(by_chart.items()):
        label = f"{service}/{env}"
        spec = blueprint.services[service]
        kinds = {d["kind"] for d in docs}
        for doc in docs:
            if doc["metadata"].get("namespace") != blueprint.name:
                report.fail("structure", f"{label}: {doc['kind']} not in namespace {blueprint.name}")
        needed = {"Deployment", "Service", "ServiceAccount", "NetworkPolicy"}
        if spec.get("autoscaling"):
            needed.add("HorizontalPodAutoscaler")
        if spec.get("secretEnv") and blueprint.external_secrets:
            needed.add("ExternalSecret")
        if blueprint.monitoring:
            needed.add("ServiceMonitor")
        if spec.get("ingress"):
            needed.add("HTTPRoute" if blueprint.nginx == "gateway" else "Ingress")
        missing = needed - kinds
        if missing:
            report.fail("structure", f"{label}: missing {sorted(missing)}")
        if blueprint.nginx == "gateway" and "Ingress" in kinds:
            report.fail("structure", f"{label}: Ingress rendered although nginx is gateway")
        if blueprint.nginx == "ingress" and "HTTPRoute" in kinds:
            report.fail("structure", f"{label}: HTTPRoute rendered although nginx is ingress")

        hooks = [d for d in docs if "helm.sh/hook" in (d["metadata"].get("annotations") or {})]
        deployment = next((d for d in docs if d["kind"] == "Deployment"), None)
        policy = next((d for d in docs if d["kind"] == "NetworkPolicy" and d not in hooks), None)
        if deployment:
            pod = deployment["spec"]["template"]
            image = pod["spec"]["containers"][0]["image"]
            repository = f"/{blueprint.name}/{env}/{service}:"
            if repository not in image:
                report.fail("structure", f"{label}: image {image} is not from ECR repository {repository}")
            if pod["spec"].get("automountServiceAccountToken") is not False:
                report.fail("structure", f"{label}: the pod mounts a service-account token")
            if policy:
                selector = policy["spec"]["podSelector"].get("matchLabels", {})
                labels = pod["metadata"]["labels"]
                if any(labels.get(k) != v for k, v in selector.items()):
                    report.fail("structure", f"{label}: the NetworkPolicy does not select the pods")
                if sorted(policy["spec"].get("policyTypes", [])) != ["Egress", "Ingress"]:
                    report.fail("structure", f"{label}: the NetworkPolicy must restrict ingress and egress")
            if blueprint.replicas(service, env) > 1 and "PodDisruptionBudget" not in kinds:
                report.fail("structure", f"{label}: no PodDisruptionBudget with several replicas")

        if service == blueprint.migrations_owner:
            check_migrations(repo, label, docs, hooks, blueprint, env, report)
        elif hooks or "Job" in kinds:
            report.fail("migrations", f"{label}: hooks or a Job in a chart that does not own the migrations")

        for doc in docs:
            if doc in hooks:
                continue
            if doc["kind"] == "ExternalSecret":
                check_external_secret(label, doc, spec, blueprint, env, report, service)
            if doc["kind"] == "HTTPRoute":
                check_route(label, doc, gateways.get(env), blueprint, report)


def selects(policy: dict, labels: dict) -> bool:
    selector = policy["spec"]["podSelector"].get("matchLabels", {})
    return all(labels.get(k) == v for k, v in selector.items())


def check_migrations(repo: Path, label: str, docs: list[dict], hooks: list[dict], blueprint: Blueprint, env: str, report: Report) -> None:
    """The Flyway Job and the objects it needs, as hooks that work on the first install."""
    problems: list[str] = []
    # The services' roles callback is a ConfigMap of its own, `<name>-roles`.
    roles = [d for d in hooks if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-roles")]
    by_kind = {d["kind"]: d for d in hooks if d not in roles}
    if set(by_kind) != HOOK_KINDS or len(hooks) != len(HOOK_KINDS) + 1 or len(roles) != 1:
        problems.append(
            f"hooks are {sorted(d['kind'] for d in hooks)}, expected one each of {sorted(HOOK_KINDS)} "
            "and the roles ConfigMap"
        )
    weights = {}
    for doc in hooks:
        annotations = doc["metadata"]["annotations"]
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        if annotations.get("helm.sh/hook") != HOOK_EVENTS:
            problems.append(f"{name}: helm.sh/hook is {annotations.get('helm.sh/hook')!r}, expected {HOOK_EVENTS}")
        if annotations.get("helm.sh/hook-delete-policy") != HOOK_DELETE_POLICY:
            problems.append(f"{name}: hook-delete-policy is {annotations.get('helm.sh/hook-delete-policy')!r}")
        try:
            weights[doc["kind"]] = int(annotations.get("helm.sh/hook-weight", "0"))
        except ValueError:
            problems.append(f"{name}: hook-weight {annotations.get('helm.sh/hook-weight')!r} is not a number")
    job = by_kind.get("Job")
    if job is None:
        report.fail("migrations", f"{label}: no migration Job\n  " + "\n  ".join(problems))
        return
    for kind, weight in weights.items():
        if kind != "Job" and weight >= weights.get("Job", 0):
            problems.append(f"{kind} has hook weight {weight}, not below the Job's {weights.get('Job')}")

    spec = job["spec"]
    if not isinstance(spec.get("backoffLimit"), int) or spec["backoffLimit"] > 3:
        problems.append(f"backoffLimit {spec.get('backoffLimit')!r} must be set and small")
    deadline = spec.get("activeDeadlineSeconds")
    if not isinstance(deadline, int) or not 0 < deadline < HELM_TIMEOUT_SECONDS:
        problems.append(f"activeDeadlineSeconds {deadline!r} must be below the deploy's helm timeout")
    if not isinstance(spec.get("ttlSecondsAfterFinished"), int):
        problems.append("no ttlSecondsAfterFinished")
    pod = spec["template"]["spec"]
    if pod.get("restartPolicy") != "Never":
        problems.append("restartPolicy must be Never (each retry is a new pod with its logs)")
    if pod.get("automountServiceAccountToken") is not False:
        problems.append("the Job's pod mounts a service-account token")
    account = by_kind.get("ServiceAccount")
    if account is None or pod.get("serviceAccountName") != account["metadata"]["name"]:
        problems.append("the Job does not run as the hook's ServiceAccount (it would not exist on the first install)")
    elif account.get("automountServiceAccountToken") is not False:
        problems.append("the hook ServiceAccount mounts its token")

    [container] = pod["containers"]
    image = f"{registry_of(blueprint, env)}/{blueprint.name}/{env}/{blueprint.migrations_owner}-migrations:{SAMPLE_TAG}"
    if container["image"] != image:
        problems.append(f"image {container['image']} is not the migrations image {image}")
    if container.get("imagePullPolicy") != "Always":
        problems.append("imagePullPolicy must be Always")
    if not re.search(r"-environment=" + re.escape(env) + r"\b", " ".join(container.get("args", []))) or "migrate" not in container.get("args", []):
        problems.append(f"args {container.get('args')} do not run `migrate` in environment {env}")
    security = container.get("securityContext") or {}
    if security.get("readOnlyRootFilesystem") is not True or security.get("allowPrivilegeEscalation") is not False:
        problems.append("the container must have a read-only root filesystem and no privilege escalation")
    if (security.get("capabilities") or {}).get("drop") != ["ALL"]:
        problems.append("the container must drop ALL capabilities")
    if not (pod.get("securityContext") or {}).get("runAsNonRoot"):
        problems.append("the pod must run as non-root")
    env_vars = {e["name"]: e for e in container.get("env", [])}
    # The host comes from Secrets Manager (the connection secret Terraform writes).
    url = f"jdbc:postgresql://{{{{ .db_host }}}}:5432/{blueprint.database['name']}?sslmode=require"
    secret = by_kind.get("ExternalSecret")
    target = secret["spec"]["target"]["name"] if secret else None
    if secret:
        template_data = (secret["spec"]["target"].get("template") or {}).get("data") or {}
        if template_data.get("flyway_url") != url:
            problems.append(f"the hook Secret's flyway_url is {template_data.get('flyway_url')!r}, expected {url!r}")
        if "{{ .role_0 | toJson }}" not in (template_data.get("database_roles") or ""):
            problems.append(f"database_roles is {template_data.get('database_roles')!r}")
        hook_remote = {e["secretKey"]: e["remoteRef"] for e in secret["spec"].get("data", [])}
        connection = {"key": f"{blueprint.name}/{env}/database", "property": "host"}
        if hook_remote.get("db_host") != connection:
            problems.append(f"the hook reads the host from {hook_remote.get('db_host')}, not {connection}")
    args = container.get("args") or []
    if "-placeholders.database_roles=$(DATABASE_ROLES)" not in args or not any(
        a.startswith("-callbackLocations=") and "filesystem:/flyway/roles" in a for a in args
    ):
        problems.append(f"the Job does not run the roles callback: {args}")
    for name, key in (
        ("FLYWAY_URL", "flyway_url"),
        ("FLYWAY_USER", "db_username"),
        ("FLYWAY_PASSWORD", "db_password"),
        ("DATABASE_ROLES", "database_roles"),
    ):
        ref = ((env_vars.get(name) or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
        if "value" in (env_vars.get(name) or {}) or ref.get("name") != target or ref.get("key") != key:
            problems.append(f"{name} must come from key {key} of the hook's Secret {target}, not {env_vars.get(name)}")
    if secret:
        arn = SAMPLE_DB_SECRET.format(region=blueprint.region)
        remote = {e["secretKey"]: e["remoteRef"] for e in secret["spec"].get("data", [])}
        for key, prop in (("db_username", "username"), ("db_password", "password")):
            if remote.get(key) != {"key": arn, "property": prop}:
                problems.append(f"the hook ExternalSecret maps {key} from {remote.get(key)}, not {prop} of the RDS secret")
        if secret["spec"]["secretStoreRef"] != {"kind": "ClusterSecretStore", "name": "aws-secrets-manager"}:
            problems.append(f"the hook ExternalSecret reads from {secret['spec']['secretStoreRef']}")

    mounts = {m["name"]: m["mountPath"] for m in container.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    if mounts.get("tmp") != "/tmp" or "emptyDir" not in volumes.get("tmp", {}):
        problems.append("no emptyDir at /tmp")
    if sorted(volumes) != ["roles", "tmp"] or sorted(mounts) != ["roles", "tmp"]:
        problems.append(f"the Job mounts {sorted(mounts)} from {sorted(volumes)}: the migrations are in its image, only /tmp and the roles callback are mounted")
    if container.get("workingDir") != "/flyway" or "-workingDirectory=project" not in container.get("args", []):
        problems.append("Flyway does not run the project at /flyway/project (workingDir /flyway, -workingDirectory=project)")
    roles_volume = next((v for n, v in volumes.items() if mounts.get(n) == "/flyway/roles"), None)
    if not roles or roles_volume is None or roles_volume.get("configMap", {}).get("name") != roles[0]["metadata"]["name"]:
        problems.append("the roles ConfigMap is not mounted at /flyway/roles")
    elif "afterMigrate__database_roles.sql" not in (roles[0].get("data") or {}):
        problems.append(f"the roles ConfigMap holds {sorted(roles[0].get('data') or {})}")

    labels = spec["template"]["metadata"]["labels"]
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    chart_policy = next((p for p in policies if p not in hooks), None)
    if chart_policy is None or not selects(chart_policy, labels):
        problems.append("the chart's NetworkPolicy does not cover the Job's pods")
    hook_policy = by_kind.get("NetworkPolicy")
    if hook_policy is None or not selects(hook_policy, labels):
        problems.append("the hook NetworkPolicy does not cover the Job's pods (first install)")
    elif hook_policy["spec"].get("ingress"):
        problems.append("the hook NetworkPolicy lets traffic in")

    if problems:
        report.fail("migrations", f"{label}:\n  " + "\n  ".join(problems))
    else:
        report.ok(f"migrations: {label} runs the migrations image in a hook Job after {sorted(HOOK_KINDS - {'Job'})}")


def check_external_secret(label, doc, spec, blueprint, env, report, service) -> None:
    target = doc["spec"]["target"]
    if doc["spec"]["secretStoreRef"] != {"kind": "ClusterSecretStore", "name": "aws-secrets-manager"}:
        report.fail("external secrets", f"{label}: unexpected store {doc['spec']['secretStoreRef']}")
    template = target.get("template", {})
    if template.get("engineVersion") != "v2":
        report.fail("external secrets", f"{label}: template engine is not v2")
    data = template.get("data", {})
    for name, ref in (spec.get("secretEnv") or {}).items():
        value = data.get(name)
        if value is None:
            report.fail("external secrets", f"{label}: {name} is not in the Secret")
            continue
        if "{{" not in value:
            report.fail("external secrets", f"{label}: {name}: ESO's braces did not survive Helm: {value!r}")
        if ref.get("database") == "url":
            db = blueprint.database["name"]
            expected = (
                "postgresql://{{ .db_username }}:{{ .db_password | urlquery }}"
                f"@{{{{ .db_host }}}}:5432/{db}?sslmode=require"
            )
            if value != expected:
                report.fail("external secrets", f"{label}: DATABASE_URL is {value!r}, expected {expected!r}")
    for entry in doc["spec"].get("data", []):
        remote = entry["remoteRef"]
        if remote.get("property") == "username" and entry["secretKey"] != "db_username" and not any(
            (r.get("property") == "username") for r in (spec.get("secretEnv") or {}).values()
        ):
            report.fail("external secrets", f"{label}: the username is mapped into {entry['secretKey']}")
        # The service's own role, never the master user's secret.
        own = f"{blueprint.name}/{env}/database/{service}"
        if remote.get("property") in ("username", "password") and remote["key"] != own and entry["secretKey"].startswith("db_"):
            report.fail("external secrets", f"{label}: credentials read from {remote['key']}, not the service's role {own}")


def check_route(label, doc, gateway, blueprint, report) -> None:
    if gateway is None:
        report.fail("gateway", f"{label}: HTTPRoute but no Gateway for the environment")
        return
    listeners = {l["name"]: l for l in gateway["spec"]["listeners"]}
    for parent in doc["spec"]["parentRefs"]:
        if parent["name"] != gateway["metadata"]["name"] or parent.get("namespace") != gateway["metadata"]["namespace"]:
            report.fail("gateway", f"{label}: HTTPRoute parent {parent} is not the shared Gateway")
        listener = listeners.get(parent.get("sectionName"))
        if listener is None:
            report.fail("gateway", f"{label}: no listener {parent.get('sectionName')} on the Gateway")
            continue
        if listener["protocol"] != "HTTPS" or listener.get("hostname") not in doc["spec"]["hostnames"]:
            report.fail("gateway", f"{label}: listener {listener['name']} does not serve {doc['spec']['hostnames']}")
        allowed = listener["allowedRoutes"]["namespaces"]
        if allowed.get("selector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name") != blueprint.name:
            report.fail("gateway", f"{label}: listener {listener['name']} does not admit the app namespace")


QUANTITY_SUFFIXES = {
    "": 1, "m": 0.001, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}


def quantity(value) -> float:
    """A Kubernetes quantity as a number (`250m` is 0.25, `1Gi` is 2**30)."""
    match = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(value))
    if not match or match.group(2) not in QUANTITY_SUFFIXES:
        raise ValueError(f"not a quantity: {value!r}")
    return float(match.group(1)) * QUANTITY_SUFFIXES[match.group(2)]


def pod_spec(doc: dict) -> dict | None:
    spec = doc.get("spec") or {}
    if doc["kind"] == "Pod":
        return spec
    if doc["kind"] == "CronJob":
        return spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec")
    return spec.get("template", {}).get("spec")


def check_quota(repo: Path, blueprint: Blueprint, objects: list[dict], report: Report) -> None:
    """Every pod the charts render fits the namespace's LimitRange and, at the peak, its ResourceQuota."""
    for env in blueprint.environments:
        path = repo / "cluster" / "manifests" / env / "quota.yaml"
        if not path.exists():
            report.fail("quota", f"{env}: cluster/manifests/{env}/quota.yaml is missing")
            continue
        docs = {d["kind"]: d for d in documents(path.read_text())}
        quota, limit_range = docs.get("ResourceQuota"), docs.get("LimitRange")
        if not quota or not limit_range:
            report.fail("quota", f"{env}: quota.yaml holds {sorted(docs)}, not a ResourceQuota and a LimitRange")
            continue
        for doc in (quota, limit_range):
            if doc["metadata"].get("namespace") != blueprint.name:
                report.fail("quota", f"{env}: {doc['kind']} is not in namespace {blueprint.name}")
        hard = quota["spec"]["hard"]
        (item,) = limit_range["spec"]["limits"]
        if item["type"] != "Container":
            report.fail("quota", f"{env}: the LimitRange item is of type {item['type']}")
        for resource in ("cpu", "memory"):
            low, default, top = (quantity(item[k][resource]) for k in ("defaultRequest", "default", "max"))
            if not low <= default <= top:
                report.fail("quota", f"{env}: LimitRange {resource}: defaultRequest <= default <= max does not hold")
        for key in ("services.loadbalancers", "services.nodeports"):
            if str(hard.get(key)) != "0":
                report.fail("quota", f"{env}: ResourceQuota {key} is {hard.get(key)!r}, not '0'")
        mine = [o for o in objects if o["env"] == env]
        hpa_max = {
            (o["service"], o["doc"]["spec"]["scaleTargetRef"]["name"]): o["doc"]["spec"]["maxReplicas"]
            for o in mine
            if o["doc"]["kind"] == "HorizontalPodAutoscaler"
        }
        totals = {"requests.cpu": 0.0, "requests.memory": 0.0, "limits.cpu": 0.0, "limits.memory": 0.0, "pods": 0}
        templates = 0
        for o in mine:
            doc = o["doc"]
            spec = pod_spec(doc)
            if doc["kind"] not in ("Deployment", "Job", "Pod", "StatefulSet", "DaemonSet", "CronJob", "ReplicaSet") or spec is None:
                continue
            templates += 1
            label = f"{o['service']}/{env} {doc['kind']} {doc['metadata']['name']}"
            if doc["kind"] == "Deployment":
                peak = hpa_max.get((o["service"], doc["metadata"]["name"]), doc["spec"].get("replicas", 1))
                surge = doc["spec"].get("strategy", {}).get("rollingUpdate", {}).get("maxSurge", "25%")
                if surge != "25%":
                    report.fail("quota", f"{label}: maxSurge {surge!r}; the quota counts the default 25%")
                pods = peak + -(-peak // 4)
            elif doc["kind"] == "Job":
                pods = doc["spec"].get("parallelism", 1)
            else:
                report.fail("quota", f"{label}: a {doc['kind']} the quota does not count")
                continue
            per_pod = {k: 0.0 for k in totals if k != "pods"}
            for container in spec.get("containers", []) + spec.get("initContainers", []):
                resources = container.get("resources") or {}
                for kind in ("requests", "limits"):
                    for resource in ("cpu", "memory"):
                        value = (resources.get(kind) or {}).get(resource)
                        if value is None:
                            report.fail("quota", f"{label}: container {container['name']} sets no {kind}.{resource}")
                            continue
                        amount = quantity(value)
                        if kind == "limits" and amount > quantity(item["max"][resource]):
                            report.fail("quota", f"{label}: container {container['name']} limits.{resource} {value} is above the LimitRange max {item['max'][resource]}")
                        if container in spec.get("containers", []):
                            per_pod[f"{kind}.{resource}"] += amount
            for key, amount in per_pod.items():
                totals[key] += amount * pods
            totals["pods"] += pods
        for key, used in totals.items():
            if used > quantity(hard[key]):
                report.fail("quota", f"{env}: the charts' pods at their peak mid-rollout need {key} {used:g}, above the ResourceQuota's {hard[key]}")
        report.ok(
            f"quota: {env}: {templates} pod templates set requests and limits within the LimitRange; at their peak mid-rollout"
            f" ({totals['pods']} pods) they fit the ResourceQuota"
        )


def split_objects(repo: Path, objects: list[dict], work: Path) -> tuple[list[Path], dict[Path, list[Path]]]:
    """Writes each object to its own file: built-in kinds, and custom resources by schema."""
    builtin: list[Path] = []
    custom: dict[Path, list[Path]] = {}
    docs = [(f"{o['service']}-{o['env']}", o["doc"]) for o in objects]
    for path in sorted((repo / "cluster" / "manifests").rglob("*.yaml")):
        prefix = "cluster-" + "-".join(path.relative_to(repo / "cluster" / "manifests").with_suffix("").parts)
        docs += [(prefix, d) for d in documents(path.read_text())]
    split = work / "split"
    split.mkdir(parents=True, exist_ok=True)
    for index, (prefix, doc) in enumerate(docs):
        name = f"{index:04d}-{prefix}-{doc['kind']}-{doc['metadata']['name']}.yaml".replace("/", "_")
        path = split / name
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        if group_of(doc["apiVersion"]) in CUSTOM_GROUPS:
            custom.setdefault(schema_for(doc), []).append(path)
        else:
            builtin.append(path)
    return builtin, custom


def check_schemas(blueprint: Blueprint, builtin: list[Path], custom: dict[Path, list[Path]], work: Path, report: Report) -> None:
    if builtin:
        code, output = report.run(
            "kubernetes-validate",
            ["kubernetes-validate", "-k", f"{blueprint.kubernetes}.0", "--strict", "--quiet", *map(str, builtin)],
            cwd=work,
        )
        if code == 0:
            report.ok(f"kubernetes-validate: {len(builtin)} objects against Kubernetes {blueprint.kubernetes}")
    for schema, files in sorted(custom.items()):
        if not schema.exists():
            report.fail("check-jsonschema", f"no schema {schema.name} for {[f.name for f in files]}")
            continue
        code, _ = report.run(
            "check-jsonschema",
            ["check-jsonschema", "--schemafile", str(schema), *map(str, files)],
            cwd=work,
        )
        if code == 0:
            report.ok(f"check-jsonschema: {len(files)} objects against {schema.name}")


def check_checkov(builtin: list[Path], custom: dict[Path, list[Path]], work: Path, report: Report) -> None:
    scan = work / "checkov"
    scan.mkdir(exist_ok=True)
    for path in builtin + [p for files in custom.values() for p in files]:
        shutil.copy(path, scan / path.name)
    code, output = report.run(
        "checkov",
        [
            "checkov", "-d", str(scan), "--framework", "kubernetes", "--skip-download",
            "--compact", "-o", "json",
        ],
        cwd=work,
        ok_codes=(0, 1),
    )
    if code < 0:
        return
    start = output.find("{") if output.lstrip().startswith("{") else output.find("[")
    try:
        parsed = json.loads(output[start:] if start >= 0 else output)
    except json.JSONDecodeError:
        report.fail("checkov", f"unreadable output:\n{output[:2000]}")
        return
    runs = parsed if isinstance(parsed, list) else [parsed]
    failed, skipped = [], []
    for run in runs:
        results = run.get("results", {}) if isinstance(run, dict) else {}
        failed += results.get("failed_checks", [])
        skipped += results.get("skipped_checks", [])
    for check in failed:
        report.fail(
            "checkov",
            f"{check['check_id']} {check.get('check_name', '')} in {Path(check.get('file_path', '')).name} ({check.get('resource')})",
        )
    for check in skipped:
        reason = (check.get("check_result") or {}).get("suppress_comment") or ""
        if check["check_id"] not in ALLOWED_SKIPS:
            report.fail("checkov", f"undocumented skip {check['check_id']} on {check.get('resource')}")
        elif not reason.strip() or reason.strip() == "No comment provided":
            report.fail("checkov", f"skip {check['check_id']} on {check.get('resource')} has no reason")
    if not failed:
        ids = sorted({c["check_id"] for c in skipped})
        report.ok(f"checkov: kubernetes, 0 failed, skipped with reasons: {', '.join(ids) or 'none'}")


def check_yamllint(repo: Path, work: Path, report: Report) -> None:
    files = [p for p in (repo / "charts").glob("*/*.yaml")]
    files += list((repo / "cluster").rglob("*.yaml"))
    config = work / "yamllint.yaml"
    config.write_text(YAMLLINT_CONFIG)
    code, _ = report.run(
        "yamllint", ["yamllint", "--strict", "-c", str(config), *map(str, sorted(files))], cwd=repo
    )
    if code == 0:
        report.ok(f"yamllint: {len(files)} values files and manifests")
    # Rendered objects carry deploy-time values (hosts, ARNs): no line length.
    rendered = sorted((work / "rendered").rglob("*.yaml"))
    config = work / "yamllint-rendered.yaml"
    config.write_text(YAMLLINT_CONFIG.replace("line-length:\n    max: 200", "line-length: disable"))
    code, _ = report.run(
        "yamllint", ["yamllint", "--strict", "-c", str(config), *map(str, rendered)], cwd=repo
    )
    if code == 0:
        report.ok(f"yamllint: {len(rendered)} rendered manifests")


def check_dockerfile(repo: Path, blueprint: Blueprint, report: Report) -> None:
    """db/Dockerfile: the migrations image, where a chart runs the migrations."""
    dockerfile = repo / "db" / "Dockerfile"
    if blueprint.migrations_owner is None:
        if dockerfile.exists():
            report.fail("Dockerfile", "db/Dockerfile, but no chart runs the migrations")
        return
    if not dockerfile.exists():
        report.fail("Dockerfile", f"{blueprint.migrations_owner} runs the migrations, but there is no db/Dockerfile")
        return
    code, _ = report.run("hadolint", ["hadolint", "--failure-threshold", "info", str(dockerfile)], cwd=repo)
    lines = [l.strip() for l in dockerfile.read_text().splitlines() if l.strip() and not l.startswith("#")]
    ci = repo / ".github" / "workflows" / "ci.yml"
    pinned = re.search(r"FLYWAY_IMAGE: (\S+)", ci.read_text()) if ci.exists() else None
    problems = []
    froms = [l.split(None, 1)[1] for l in lines if l.upper().startswith("FROM ")]
    if len(froms) != 1 or pinned is None or froms[0] != pinned.group(1):
        problems.append(f"FROM {froms} is not the Flyway image CI runs ({pinned.group(1) if pinned else None})")
    elif not re.search(r"@sha256:[0-9a-f]{64}$", froms[0]):
        problems.append(f"FROM {froms[0]} is not pinned by digest")
    copies = [l.split()[1:] for l in lines if l.upper().startswith("COPY ")]
    if copies != [["flyway.toml", "/flyway/project/flyway.toml"], ["migrations/", "/flyway/project/migrations/"]]:
        problems.append(f"COPY {copies}: expected flyway.toml and the whole migrations/ folder under /flyway/project")
    users = [l.split()[1] for l in lines if l.upper().startswith("USER ")]
    if not users or users[-1].split(":")[0] in ("root", "0") or lines[-1] != f"USER {users[-1]}":
        problems.append(f"the image must end as a non-root USER, not {users}")
    if any(l.upper().startswith(("RUN ", "ADD ")) for l in lines):
        problems.append("RUN or ADD: the image only copies db/ (both architectures build without emulation)")
    if problems:
        report.fail("Dockerfile", "db/Dockerfile:\n  " + "\n  ".join(problems))
    elif code == 0:
        report.ok("Dockerfile: hadolint clean, FROM the pinned Flyway image, db/ copied, non-root")


def check_service_code(repo: Path, blueprint: Blueprint, report: Report) -> None:
    """The starter code seeded in each service's build context: hadolint clean, pinned, non-root
    with the pod's user, EXPOSE of the port; server.py answers the health path and / with 200."""
    import socket
    import time
    import urllib.request

    seen = set()
    for name, service in blueprint.services.items():
        context = service.get("build") or f"services/{name}"
        if context in seen:
            continue
        seen.add(context)
        dockerfile = repo / context / "Dockerfile"
        if not dockerfile.exists():
            report.fail("service code", f"{context}/Dockerfile was not seeded for {name}")
            continue
        label = f"service code {context}"
        code, _ = report.run(f"hadolint {context}/Dockerfile", ["hadolint", "--failure-threshold", "info", str(dockerfile)], cwd=repo)
        lines = [l.strip() for l in dockerfile.read_text().splitlines() if l.strip() and not l.startswith("#")]
        problems = []
        froms = [l.split(None, 1)[1] for l in lines if l.upper().startswith("FROM ")]
        if len(froms) != 1 or not re.search(r"@sha256:[0-9a-f]{64}$", froms[0]):
            problems.append(f"FROM {froms}: one base image, pinned by digest")
        users = [l.split()[1] for l in lines if l.upper().startswith("USER ")]
        if users != ["10001:10001"]:
            problems.append(f"USER {users}: the pod's numeric user 10001:10001")
        exposed = [l.split()[1] for l in lines if l.upper().startswith("EXPOSE ")]
        if exposed != [str(service["port"])]:
            problems.append(f"EXPOSE {exposed}, the port is {service['port']}")
        if problems:
            report.fail(label, "\n  ".join(problems))
            continue
        # Run the server as the image would (no bytecode written) and probe it.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen(
            [sys.executable, "-B", "server.py"],
            cwd=repo / context,
            env={**os.environ, "PORT": str(port), "PYTHONDONTWRITEBYTECODE": "1"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        health = service.get("healthPath", "/")
        try:
            statuses = {}
            for path in (health, "/"):
                for _ in range(50):
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
                            statuses[path] = response.status
                        break
                    except (ConnectionError, urllib.error.URLError):
                        time.sleep(0.1)
        finally:
            server.terminate()
            server.wait(timeout=10)
        if statuses != {health: 200, "/": 200} or server.returncode not in (0, -15):
            report.fail(label, f"server.py answered {statuses}, exit {server.returncode}")
        elif code == 0:
            report.ok(f"{label}: hadolint clean, pinned, USER 10001, EXPOSE {service['port']}, {health} and / answer 200, SIGTERM stops it")


def check_install_script(repo: Path, blueprint: Blueprint, report: Report) -> None:
    script = repo / "cluster" / "install.sh"
    if not script.exists():
        report.fail("install.sh", "cluster/install.sh is missing")
        return
    text = script.read_text()
    report.run("install.sh", ["bash", "-n", str(script)], cwd=repo)
    if "set -euo pipefail" not in text:
        report.fail("install.sh", "no `set -euo pipefail`")
    if tool("shellcheck"):
        report.run("shellcheck", ["shellcheck", str(script)], cwd=repo)
    check_secrets = repo / "cluster" / "check-secrets.sh"
    if check_secrets.exists():
        report.run("check-secrets.sh", ["bash", "-n", str(check_secrets)], cwd=repo)
        if tool("shellcheck"):
            report.run("shellcheck", ["shellcheck", str(check_secrets)], cwd=repo)
    steps = re.findall(r'^step "([^"]*)"', text, flags=re.M)

    def position(name: str) -> int:
        if name.startswith("="):
            return next((i for i, s in enumerate(steps) if s == name[1:]), -1)
        return next((i for i, s in enumerate(steps) if name in s), -1)

    for before, after in ORDER:
        b, a = position(before), position(after)
        if b >= 0 and a >= 0 and b > a:
            report.fail("install.sh", f"{before} must come before {after}")
    for line in re.findall(r"^chart \S+ \S+ \S+ (\S+)", text, flags=re.M):
        if not re.match(r"^v?\d+\.\d+\.\d+$", line):
            report.fail("install.sh", f"chart version {line!r} is not pinned")
    expected = {
        "Calico": blueprint.calico,
        "ingress-nginx": blueprint.nginx == "ingress",
        "NGINX Gateway Fabric": blueprint.nginx == "gateway",
        "External Secrets Operator": blueprint.external_secrets,
        "cert-manager": blueprint.cert_manager,
        "kube-prometheus-stack": blueprint.monitoring,
        "metrics-server": True,
        "Cluster Autoscaler": not blueprint.karpenter and not blueprint.auto_mode,
        "Karpenter (": blueprint.karpenter,
        "NodePools and EC2NodeClasses": blueprint.karpenter,
        # EKS Auto Mode runs its own load balancer controller.
        "AWS Load Balancer Controller": not blueprint.auto_mode,
        "EKS Auto Mode: NetworkPolicy enforcement on": blueprint.auto_mode,
        "external-dns": True,
        "Sigstore policy controller": True,
    }
    for name, wanted in expected.items():
        present = position(name) >= 0
        if present != wanted:
            report.fail("install.sh", f"{name} is {'missing' if wanted else 'installed although it is off'}")
    addons = repo / "cluster" / "addons"
    if blueprint.external_secrets:
        eso = load_yaml(addons / "external-secrets" / "values.yaml")
        if eso.get("serviceAccount", {}).get("name") != "external-secrets":
            report.fail("add-ons", "External Secrets service account is not external-secrets")
        store = load_yaml(repo / "cluster" / "manifests" / "cluster-secret-store.yaml")
        aws = store["spec"]["provider"]["aws"]
        if aws.get("region") != blueprint.region or "auth" in aws:
            report.fail("add-ons", f"ClusterSecretStore must use {blueprint.region} and Pod Identity (no auth): {aws}")
    if blueprint.monitoring:
        kps = load_yaml(addons / "kube-prometheus-stack" / "values.yaml")
        spec = kps["prometheus"]["prometheusSpec"]
        for key in ("serviceMonitor", "podMonitor", "rule"):
            if spec.get(f"{key}SelectorNilUsesHelmValues") is not False:
                report.fail("add-ons", f"kube-prometheus-stack: {key}SelectorNilUsesHelmValues is not false")
        if blueprint.grafana and "adminPassword" in json.dumps(kps):
            report.fail("add-ons", "Grafana admin password is a literal")
    # Every chart whose CRDs live in its crds/ folder gets them applied first.
    lines = text.splitlines()
    for at, line in enumerate(lines):
        words = line.split()
        if words[:1] == ["chart_crds"]:
            chart = " ".join(words[1:3])
            if not any(later.startswith("chart ") and f" {chart}" in later for later in lines[at + 1 :]):
                report.fail("install.sh", f"the CRDs of {chart} are not followed by its chart")
    for url, sha256 in re.findall(r'^crds "([^"]+)" (\S+)$', text, flags=re.M):
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            report.fail("install.sh", f"{url} is not pinned by a sha256")
    if re.search(r'^apply "https?://', text, flags=re.M):
        report.fail("install.sh", "a remote manifest is applied without a checksum")
    dns = load_yaml(addons / "external-dns" / "values.yaml")
    if dns.get("serviceAccount", {}).get("name") != "external-dns":
        report.fail("add-ons", "external-dns service account is not external-dns")
    if blueprint.auto_mode:
        # EKS Auto Mode runs the load balancer controller and the nodes: no
        # controller, no autoscaler; one Auto Mode NodePool per node group, and
        # its NetworkPolicy enforcement switched on.
        for absent in ("aws-load-balancer-controller", "cluster-autoscaler", "karpenter"):
            if (addons / absent).exists():
                report.fail("add-ons", f"compute: auto-mode installs no {absent}")
        for env in blueprint_environments(repo):
            pools = documents((repo / "cluster" / "manifests" / env / "node-pools.yaml").read_text())
            refs = [p["spec"]["template"]["spec"]["nodeClassRef"] for p in pools]
            if len(pools) != len(blueprint_node_groups(repo)) or any(
                r != {"group": "eks.amazonaws.com", "kind": "NodeClass", "name": "default"} for r in refs
            ):
                report.fail("add-ons", f"{env}: not one Auto Mode NodePool on the default NodeClass per node group")
        config = load_yaml(repo / "cluster" / "manifests" / "network-policy.yaml")
        if config.get("data", {}).get("enable-network-policy-controller") != "true":
            report.fail("add-ons", "Auto Mode's NetworkPolicy enforcement is not switched on")
        if "manifests/network-policy.yaml" not in text:
            report.fail("install.sh", "install.sh does not apply manifests/network-policy.yaml")
    else:
        lbc = load_yaml(addons / "aws-load-balancer-controller" / "values.yaml")
        if lbc.get("serviceAccount", {}).get("name") != "aws-load-balancer-controller":
            report.fail("add-ons", "the load balancer controller's service account is not aws-load-balancer-controller")
    if blueprint.karpenter:
        karpenter = load_yaml(addons / "karpenter" / "values.yaml")
        if karpenter.get("serviceAccount", {}).get("name") != "karpenter":
            report.fail("add-ons", "the Karpenter service account is not karpenter")
        if karpenter.get("replicas", 0) < 2 or "podDisruptionBudget" not in karpenter:
            report.fail("add-ons", "Karpenter needs two replicas and a PodDisruptionBudget")
        for env in blueprint_environments(repo):
            settings = load_yaml(addons / "karpenter" / f"values-{env}.yaml").get("settings", {})
            if not settings.get("clusterName") or not settings.get("interruptionQueue"):
                report.fail("add-ons", f"karpenter/values-{env}.yaml lacks settings.clusterName or interruptionQueue")
            kinds = sorted(d["kind"] for d in documents((repo / "cluster" / "manifests" / env / "karpenter.yaml").read_text()))
            if kinds != sorted(["EC2NodeClass", "NodePool"] * len(blueprint_node_groups(repo))):
                report.fail("add-ons", f"{env}: not one NodePool and EC2NodeClass per node group: {kinds}")
    if blueprint.calico:
        calico = load_yaml(addons / "calico" / "values.yaml")
        if calico["installation"]["cni"]["type"] != "AmazonVPC":
            report.fail("add-ons", "Calico must run policy-only on the VPC CNI")
    if not any(f.startswith(("[install.sh]", "[add-ons]", "[shellcheck]")) for f in report.failures):
        report.ok("install.sh and add-on values")


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    repo = Path(sys.argv[1]).resolve()
    report = Report()
    blueprint = Blueprint(repo)
    with tempfile.TemporaryDirectory(prefix="check-kubernetes-") as tmp:
        work = Path(tmp)
        objects = check_charts(repo, blueprint, work, report)
        if objects:
            report.ok(f"helm lint and render: {len({(o['service'], o['env']) for o in objects})} chart/environment pairs")
        check_structure(repo, blueprint, objects, report)
        check_quota(repo, blueprint, objects, report)
        builtin, custom = split_objects(repo, objects, work)
        check_schemas(blueprint, builtin, custom, work, report)
        check_checkov(builtin, custom, work, report)
        check_yamllint(repo, work, report)
        check_install_script(repo, blueprint, report)
        check_applications(repo, blueprint, report)
        check_dockerfile(repo, blueprint, report)
        check_service_code(repo, blueprint, report)
    for line in report.passed:
        print(f"ok   {line}")
    if report.failures:
        print(f"\n{len(report.failures)} failure(s):", file=sys.stderr)
        for failure in report.failures:
            print(f"FAIL {failure}", file=sys.stderr)
        return 1
    print("kubernetes: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
