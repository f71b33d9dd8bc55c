//! The charts target: one hardened Helm chart per service under
//! `charts/<service>/`, and the cluster add-ons under `cluster/`.
//!
//! Chart templates do not depend on the blueprint: they are shipped as they
//! are, so Helm's `{{ }}` never meets our template engine, from
//! `templates/charts/{service}/` to the same path with the service's name.
//! What the blueprint decides lives in the values files, serialized from
//! typed structs.

pub(crate) mod addons;
pub(crate) mod argocd;
mod manifests;
mod monitoring;
mod previews;
pub(crate) mod values;
pub(crate) mod versions;

use serde::Serialize;

use super::engine::output_path;
use super::{Engine, Output};
use crate::blueprint::Resolved;

/// Embedded folder with the chart skeleton shared by every service, at the
/// chart's own path.
const CHART_TEMPLATES: &str = "charts/{service}";

/// Version of the generated charts; the image tag is the release version.
pub(crate) const CHART_VERSION: &str = "0.1.0";

/// Chart templates of the migration hook (Job, ServiceAccount,
/// ExternalSecret, NetworkPolicy) and their helpers: only the migrations
/// owner's chart has them. The Job runs the migrations image (`db/` on the
/// pinned Flyway image, `db/Dockerfile`).
const MIGRATION_TEMPLATES: &str = "templates/migrations-";
const MIGRATION_HELPERS: &str = "templates/_migrations.tpl";

fn is_migration_template(relative: &str) -> bool {
  relative.starts_with(MIGRATION_TEMPLATES) || relative == MIGRATION_HELPERS
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChartYaml {
  api_version: &'static str,
  name: String,
  description: String,
  #[serde(rename = "type")]
  kind: &'static str,
  version: &'static str,
  app_version: &'static str,
  kube_version: String,
}

fn yaml(value: &impl Serialize) -> String {
  crate::render::yaml::to_string(value)
}

pub(crate) fn render(
  resolved: &Resolved,
  engine: &Engine,
  out: &mut Output,
) -> Result<(), tera::Error> {
  for service in &resolved.services {
    let dir = output_path(CHART_TEMPLATES, Some(&service.name), None);
    out.add(
      format!("{dir}/Chart.yaml"),
      yaml(&ChartYaml {
        api_version: "v2",
        name: service.name.clone(),
        description: format!("{} of the {} platform", service.name, resolved.name),
        kind: "application",
        version: CHART_VERSION,
        app_version: CHART_VERSION,
        kube_version: format!(">= {}.0-0", resolved.kubernetes_version),
      }),
    );
    for (relative, text) in engine.texts_under(CHART_TEMPLATES) {
      // Validation guarantees the External Secrets add-on the Job relies on.
      if is_migration_template(&relative) && !service.runs_migrations {
        continue;
      }
      out.add(format!("{dir}/{relative}"), text);
    }
    out.add(
      format!("{dir}/values.yaml"),
      values::quote_env_for_helm(&yaml(&values::values(resolved, service))),
    );
    for environment in &service.environments {
      out.add(
        output_path(
          &format!("{CHART_TEMPLATES}/values-{{environment}}.yaml"),
          Some(&service.name),
          Some(&environment.environment),
        ),
        yaml(&values::env_values(resolved, service, environment)),
      );
    }
  }
  addons::render(resolved, engine, out)
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::blueprint;
  use crate::names;
  use serde::Deserialize;

  fn load(text: &str) -> Resolved {
    blueprint::load(text.as_bytes())
      .expect("test blueprints are valid")
      .resolved
  }

  fn builtin(name: &str) -> Resolved {
    let found = crate::builtin::all()
      .into_iter()
      .find(|b| b.name == name)
      .expect("built-in blueprint");
    load(found.text)
  }

  fn render_platform(resolved: &Resolved) -> Output {
    let mut out = Output::default();
    render(resolved, &Engine::new().unwrap(), &mut out).unwrap();
    out
  }

  /// Every target, as `oi-gen render` writes them.
  fn render_all(resolved: &Resolved) -> Output {
    crate::render::render(resolved, &Engine::new().unwrap()).unwrap()
  }

  fn file<'a>(out: &'a Output, path: &str) -> &'a str {
    &out
      .files
      .get(path)
      .unwrap_or_else(|| panic!("{path} not rendered"))
      .contents
  }

  fn parse(text: &str) -> yaml_serde::Value {
    yaml_serde::from_str(text).unwrap()
  }

  /// openinnovation with one line replaced.
  fn variant(from: &str, to: &str) -> Resolved {
    variant_of(&[(from, to)])
  }

  /// openinnovation with each `(from, to)` replaced.
  fn variant_of(replacements: &[(&str, &str)]) -> Resolved {
    let mut text = crate::builtin::all()
      .into_iter()
      .find(|b| b.name == "openinnovation")
      .unwrap()
      .text
      .to_string();
    for (from, to) in replacements {
      assert!(text.contains(from), "{from}");
      text = text.replace(from, to);
    }
    load(&text)
  }

  #[test]
  fn one_chart_per_service_with_values_per_environment() {
    let platform = builtin("acme-shop");
    let out = render_platform(&platform);
    for service in &platform.services {
      let dir = format!("charts/{}", service.name);
      for name in [
        "Chart.yaml",
        "values.yaml",
        "values.schema.json",
        "templates/_helpers.tpl",
        "templates/deployment.yaml",
        "templates/networkpolicy.yaml",
      ] {
        file(&out, &format!("{dir}/{name}"));
      }
      for environment in &platform.environments {
        file(&out, &format!("{dir}/values-{}.yaml", environment.name));
      }
    }
    let chart = parse(file(&out, "charts/catalog/Chart.yaml"));
    assert_eq!(chart["apiVersion"], "v2");
    assert_eq!(chart["type"], "application");
  }

  #[test]
  fn chart_templates_are_shipped_as_they_are() {
    let out = render_platform(&builtin("openinnovation"));
    let deployment = file(&out, "charts/backend/templates/deployment.yaml");
    assert!(deployment.contains("{{ include \"service.image\" . | quote }}"));
    let embedded = Engine::file("charts/{service}/templates/deployment.yaml").unwrap();
    assert!(deployment.ends_with(embedded));
    for (path, _) in Engine::files_under(CHART_TEMPLATES) {
      assert!(!path.ends_with(".tera"), "{path} would go through Tera");
    }
  }

  #[test]
  fn chart_templates_sit_at_their_output_path() {
    assert_eq!(
      output_path("charts/{service}/templates/hpa.yaml", Some("web"), None),
      "charts/web/templates/hpa.yaml"
    );
    assert_eq!(
      output_path(
        "charts/{service}/values-{environment}.yaml",
        Some("web"),
        Some("dev")
      ),
      "charts/web/values-dev.yaml"
    );
    assert_eq!(
      output_path("cluster/install.sh.tera", None, None),
      "cluster/install.sh"
    );
    // The migrations owner's chart has every embedded file, each at the path
    // of its template with the service substituted.
    let out = render_platform(&builtin("openinnovation"));
    for (relative, embedded) in Engine::files_under(CHART_TEMPLATES) {
      let template = format!("{CHART_TEMPLATES}/{relative}");
      let path = output_path(&template, Some("backend"), None);
      assert!(file(&out, &path).ends_with(embedded), "{template} → {path}");
    }
  }

  #[test]
  fn the_addons_follow_the_resolved_selection() {
    let resolved = builtin("openinnovation");
    assert!(resolved.addons.calico && resolved.addons.monitoring && resolved.addons.grafana);
    assert_eq!(
      resolved.addons.cert_manager.as_deref(),
      Some("platform@openinnovation.ai")
    );
    let out = render_platform(&resolved);
    let issuers = file(&out, "cluster/manifests/staging/cluster-issuers.yaml");
    assert_eq!(
      issuers
        .matches("email: platform@openinnovation.ai\n")
        .count(),
      2
    );

    // Without External Secrets (and so without secretEnv, migrations and
    // alert receivers): no store, and Grafana's credentials are made in the
    // cluster.
    let resolved = variant_of(&[
      ("externalSecrets: true", "externalSecrets: false"),
      (
        "        alerts:\n          slack:\n            channel: \"#platform-alerts\"\n",
        "",
      ),
      ("runsMigrations: true", "runsMigrations: false"),
      ("        DATABASE_URL: {database: url}\n", ""),
      ("        DATABASE_PASSWORD: {database: password}\n", ""),
      (
        "        ANALYTICS_KEY: {secret: openinnovation-ai/analytics, property: apiKey}\n",
        "",
      ),
      ("      secretEnv:\n", ""),
    ]);
    assert!(!resolved.addons.external_secrets);
    let out = render_platform(&resolved);
    assert!(!out.files.keys().any(|p| p.contains("external-secrets")));
    assert!(
      !out
        .files
        .contains_key("cluster/manifests/cluster-secret-store.yaml")
    );
    assert!(!out.files.keys().any(|p| p.ends_with("grafana-admin.yaml")));
    assert!(file(&out, "cluster/install.sh").contains("create secret generic grafana-admin"));
    let values = parse(file(&out, "charts/backend/values.yaml"));
    assert_eq!(values["secretEnv"], yaml_serde::Value::Sequence(vec![]));
    assert_eq!(values["database"]["enabled"], false);
  }

  #[test]
  fn values_come_from_the_blueprint() {
    let out = render_platform(&builtin("openinnovation"));
    let values = parse(file(&out, "charts/backend/values.yaml"));
    assert_eq!(values["containerPort"], 8080);
    assert_eq!(values["healthPath"], "/healthz");
    assert_eq!(values["resources"]["limits"]["memory"], "1Gi");
    assert_eq!(values["autoscaling"]["maxReplicas"], 10);
    assert_eq!(values["database"]["port"], 5432);
    assert_eq!(values["database"]["name"], "openinnovationaidb");
    assert_eq!(values["image"]["tag"], "", "the tag is set at deploy time");
    assert_eq!(values["migrations"]["owner"], true);
    let frontend = parse(file(&out, "charts/frontend/values.yaml"));
    assert_eq!(frontend["database"]["enabled"], false);
    assert_eq!(
      frontend["database"]["cidrs"],
      yaml_serde::Value::Sequence(vec![])
    );
  }

  /// Strings Helm's YAML 1.1 reads as booleans, nulls or numbers when
  /// plain: each stays a string in values.yaml.
  const YAML11_TRAPS: &[&str] = &[
    "yes", "no", "on", "off", "y", "n", "Y", "No", "ON", "true", "~", "null", "1e3", "0x1F", "012",
    "1_000", "1:20", ".5", "-1", "<<", "=", ".1u%.U'", "1'", "+a'b'c",
  ];

  /// Whether a YAML 1.1 reader takes the emitted scalar as a string: quoted,
  /// or plain and none of the 1.1 booleans, nulls and numbers.
  fn yaml11_string(emitted: &str) -> bool {
    let quoted = |q: char| emitted.len() >= 2 && emitted.starts_with(q) && emitted.ends_with(q);
    if quoted('\'') || quoted('"') {
      return true;
    }
    let lower = emitted.to_ascii_lowercase();
    let words = [
      "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", "", "<<", "=",
    ];
    !words.contains(&lower.as_str())
      && !emitted.starts_with(|c: char| c.is_ascii_digit() || "+-.".contains(c))
  }

  #[test]
  fn env_values_stay_strings_for_yaml_1_1() {
    let env: Vec<String> = YAML11_TRAPS
      .iter()
      .enumerate()
      .map(|(i, v)| {
        format!(
          "        V{i}: {}\n",
          yaml_serde::to_string(v).unwrap().trim_end()
        )
      })
      .collect();
    let resolved = variant(
      "        LOG_LEVEL: info\n",
      &format!("        LOG_LEVEL: info\n{}", env.concat()),
    );
    let out = render_platform(&resolved);
    let text = file(&out, "charts/backend/values.yaml");
    let values = parse(text);
    for (i, expected) in YAML11_TRAPS.iter().enumerate() {
      let key = format!("V{i}");
      assert_eq!(
        values["env"][key.as_str()],
        *expected,
        "{key} reads back as the string"
      );
      let line = text
        .lines()
        .find_map(|l| l.strip_prefix(&format!("  {key}: ")))
        .unwrap_or_else(|| panic!("{key} is written on one line:\n{text}"));
      assert!(
        yaml11_string(line),
        "`{expected}` is written as `{line}`, which YAML 1.1 reads as no string"
      );
    }
    assert!(
      text.contains("  LOG_LEVEL: info\n"),
      "safe values stay plain"
    );
  }

  #[test]
  fn variable_names_stay_strings_for_yaml_1_1() {
    let resolved = variant(
      "        LOG_LEVEL: info\n",
      "        LOG_LEVEL: info\n        ON: \"1\"\n        Y: plain\n",
    );
    let resolved = Resolved::new(&{
      let mut platform = resolved.platform.clone();
      let backend = &mut platform.spec.services[0];
      let reference = backend.secret_env.values().next().unwrap().clone();
      backend.secret_env.insert("NO".into(), reference);
      platform
    });
    let text = file(&render_platform(&resolved), "charts/backend/values.yaml").to_string();
    for line in ["  'ON': '1'\n", "  'Y': plain\n", "- name: 'NO'\n"] {
      assert!(text.contains(line), "`{line}` in:\n{text}");
    }
    let values = parse(&text);
    assert_eq!(values["env"]["ON"], "1");
    assert_eq!(values["env"]["Y"], "plain");
    assert!(
      values["secretEnv"]
        .as_sequence()
        .unwrap()
        .iter()
        .any(|entry| entry["name"] == "NO")
    );
  }

  #[test]
  fn environment_values_apply_overrides_and_hosts() {
    let out = render_platform(&builtin("openinnovation"));
    let staging = parse(file(&out, "charts/backend/values-staging.yaml"));
    assert_eq!(staging["replicaCount"], 1);
    assert_eq!(staging["autoscaling"]["minReplicas"], 1);
    assert_eq!(staging["podDisruptionBudget"]["enabled"], false);
    assert_eq!(
      staging["image"]["repository"],
      "openinnovation-ai/staging/backend"
    );
    assert_eq!(staging["expose"]["host"], "api.staging.openinnovation.ai");
    assert_eq!(
      staging["expose"]["gateway"]["sectionName"],
      "https-api.staging.openinnovation.ai"
    );
    let production = parse(file(&out, "charts/frontend/values-production.yaml"));
    assert_eq!(production["replicaCount"], 3);
    assert_eq!(production["podDisruptionBudget"]["enabled"], true);
    assert_eq!(production["expose"]["host"], "openinnovation.ai");
  }

  #[test]
  fn secret_env_maps_database_and_named_secrets() {
    let out = render_platform(&builtin("openinnovation"));
    let values = parse(file(&out, "charts/backend/values.yaml"));
    let secret_env = values["secretEnv"].as_sequence().unwrap();
    let url = secret_env
      .iter()
      .find(|e| e["name"] == "DATABASE_URL")
      .unwrap();
    assert_eq!(url["database"], "url");
    let frontend = parse(file(&out, "charts/frontend/values.yaml"));
    let key = &frontend["secretEnv"][0];
    assert_eq!(key["name"], "ANALYTICS_KEY");
    // The name inside the environment's scope, which each values file sets.
    assert_eq!(key["remoteRef"]["key"], "analytics");
    assert_eq!(key["remoteRef"]["property"], "apiKey");
    let staging = parse(file(&out, "charts/frontend/values-staging.yaml"));
    assert_eq!(
      staging["externalSecret"]["keyPrefix"],
      "openinnovation-ai/staging/"
    );
  }

  #[test]
  fn database_url_is_built_from_username_and_escaped_password() {
    let helpers = Engine::file("charts/{service}/templates/_helpers.tpl").unwrap();
    assert!(helpers.contains(
      "\"postgresql://%s:%s@%s:%v/%s?sslmode=require\" `{{ .db_username }}` `{{ .db_password | urlquery }}`"
    ));
    assert!(helpers.contains("property: username"));
    let secret = Engine::file("charts/{service}/templates/externalsecret.yaml").unwrap();
    assert!(secret.contains("apiVersion: external-secrets.io/v1\n"));
    assert!(secret.contains("engineVersion: v2"));
    // ESO's braces are Go raw strings inside Helm actions, never bare.
    for line in secret.lines().chain(helpers.lines()) {
      if line.contains(".db_password") || line.contains(".db_username") {
        assert!(line.contains("`{{ .db_"), "unescaped ESO template: {line}");
      }
    }
  }

  #[test]
  fn the_deploy_time_values_are_required() {
    let helpers = Engine::file("charts/{service}/templates/_helpers.tpl").unwrap();
    for value in [
      "image.registry",
      "image.tag",
      "externalSecret.keyPrefix",
      "database.credentialsKey",
    ] {
      assert!(
        helpers.contains(&format!("required \"{value} is required")),
        "{value}"
      );
    }
    assert!(helpers.contains("fail \"image.tag must name a release, not latest\""));
    // Only the migrations read the master secret, whose ARN RDS assigns.
    let hook = Engine::file("charts/{service}/templates/migrations-externalsecret.yaml").unwrap();
    assert!(hook.contains("required \"database.secretArn is required"));
    assert!(!helpers.contains("secretArn"));
  }

  #[test]
  fn addons_follow_the_blueprint() {
    let out = render_platform(&builtin("openinnovation"));
    let install = file(&out, "cluster/install.sh");
    assert!(install.contains("set -euo pipefail"));
    assert!(install.contains("chart calico tigera-operator tigera-operator v3.32.1"));
    assert!(install.contains("nginx-gateway-fabric 2.7.2"));
    assert!(!install.contains("ingress-nginx"));
    let calico = parse(file(&out, "cluster/addons/calico/values.yaml"));
    assert_eq!(calico["installation"]["cni"]["type"], "AmazonVPC");
    let eso = parse(file(&out, "cluster/addons/external-secrets/values.yaml"));
    assert_eq!(eso["serviceAccount"]["name"], names::ESO_SERVICE_ACCOUNT);
    let store = parse(file(&out, "cluster/manifests/cluster-secret-store.yaml"));
    assert_eq!(store["metadata"]["name"], names::SECRET_STORE);
    assert_eq!(store["spec"]["provider"]["aws"]["region"], "me-central-1");
    assert!(store["spec"]["provider"]["aws"].get("auth").is_none());
    let kps = parse(file(
      &out,
      "cluster/addons/kube-prometheus-stack/values.yaml",
    ));
    let spec = &kps["prometheus"]["prometheusSpec"];
    assert_eq!(spec["serviceMonitorSelectorNilUsesHelmValues"], false);
    assert_eq!(kps["grafana"]["admin"]["existingSecret"], "grafana-admin");

    let acme = render_platform(&builtin("acme-shop"));
    assert!(!acme.files.contains_key("cluster/addons/calico/values.yaml"));
    assert!(!file(&acme, "cluster/install.sh").contains("calico"));
    let autoscaler = parse(file(&acme, "cluster/addons/cluster-autoscaler/values.yaml"));
    assert_eq!(autoscaler["image"]["tag"], "v1.34.5");
    let dev = parse(file(
      &acme,
      "cluster/addons/cluster-autoscaler/values-dev.yaml",
    ));
    assert_eq!(dev["autoDiscovery"]["clusterName"], "acme-shop-dev");
  }

  #[test]
  fn install_order_puts_crds_and_operators_first() {
    let out = render_platform(&builtin("openinnovation"));
    let install = file(&out, "cluster/install.sh");
    let at = |needle: &str| {
      install
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} missing"))
    };
    assert!(at("gateway-api/v1.6.1/config/crd/standard/") < at("chart nginx-gateway-fabric"));
    assert!(at("gateway-api/v1.6.1/config/crd/standard/") < at("chart cert-manager"));
    assert!(at("chart_crds tigera-operator v3.32.1") < at("chart calico "));
    assert!(at("chart aws-load-balancer-controller") < at("chart nginx-gateway-fabric"));
    assert!(at("chart external-secrets") < at("cluster-secret-store.yaml"));
    assert!(at("chart cert-manager") < at("cluster-issuers.yaml"));
    assert!(at("grafana-admin.yaml") < at("chart kube-prometheus-stack"));
  }

  #[test]
  fn gateway_has_one_https_listener_per_host() {
    let out = render_platform(&builtin("acme-shop"));
    let text = file(&out, "cluster/manifests/staging/gateway.yaml");
    let gateway: yaml_serde::Value = yaml_serde::Deserializer::from_str(text)
      .next()
      .map(|doc| yaml_serde::Value::deserialize(doc).unwrap())
      .unwrap();
    let listeners = gateway["spec"]["listeners"].as_sequence().unwrap();
    let names: Vec<_> = listeners
      .iter()
      .map(|l| l["name"].as_str().unwrap())
      .collect();
    assert_eq!(
      names,
      [
        "http",
        "https-staging.shop.acme.example",
        "https-api.staging.shop.acme.example"
      ]
    );
    assert_eq!(
      gateway["metadata"]["annotations"]["cert-manager.io/cluster-issuer"],
      addons::ISSUER_PRODUCTION
    );
    assert!(text.contains("RequestRedirect"));
  }

  #[test]
  fn ingress_option_installs_ingress_nginx_with_a_warning() {
    let platform = variant("nginx: gateway", "nginx: ingress");
    let out = render_platform(&platform);
    let install = file(&out, "cluster/install.sh");
    assert!(install.contains("chart ingress-nginx ingress-nginx ingress-nginx 4.15.1"));
    assert!(install.contains("warn \"ingress-nginx is retired upstream"));
    assert!(!install.contains("gateway-api"));
    assert!(!out.files.keys().any(|p| p.ends_with("gateway.yaml")));
    let values = parse(file(&out, "charts/backend/values.yaml"));
    assert_eq!(values["expose"]["mode"], "ingress");
    assert_eq!(
      values["networkPolicy"]["ingressNamespaces"][0],
      "ingress-nginx"
    );
    let issuers = file(&out, "cluster/manifests/production/cluster-issuers.yaml");
    assert!(issuers.contains("dns01:\n        route53:\n          region: me-central-1\n"));
    assert!(!issuers.contains("http01"));
    let cert_manager = parse(file(&out, "cluster/addons/cert-manager/values.yaml"));
    assert_eq!(cert_manager["config"]["enableGatewayAPI"], false);
  }

  #[test]
  fn addons_that_are_off_produce_nothing() {
    let platform = load(&crate::builtin::without_monitoring(
      crate::builtin::get("openinnovation").unwrap().text,
    ));
    let out = render_platform(&platform);
    assert!(
      !out
        .files
        .keys()
        .any(|p| p.contains("kube-prometheus-stack"))
    );
    assert!(!out.files.keys().any(|p| p.ends_with("grafana-admin.yaml")));
    assert!(!file(&out, "cluster/install.sh").contains("monitoring"));
    let values = parse(file(&out, "charts/backend/values.yaml"));
    assert_eq!(values["metrics"]["serviceMonitor"]["enabled"], false);
  }

  /// The migration hook templates of a rendered chart, by file name.
  fn migration_templates<'a>(out: &'a Output, service: &str) -> Vec<(&'a str, &'a str)> {
    let prefix = format!("charts/{service}/{MIGRATION_TEMPLATES}");
    out
      .files
      .iter()
      .filter(|(path, _)| path.starts_with(&prefix))
      .map(|(path, file)| (path.rsplit('/').next().unwrap(), file.contents.as_str()))
      .collect()
  }

  /// The hook weight a migration template passes to `service.migrationsHook`.
  fn hook_weight(text: &str) -> i32 {
    let (_, rest) = text
      .split_once("include \"service.migrationsHook\" \"")
      .expect("a migration template is a hook");
    rest.split('"').next().unwrap().parse().unwrap()
  }

  #[test]
  fn only_the_migrations_owner_gets_the_migration_job() {
    let out = render_platform(&builtin("openinnovation"));
    let names: Vec<_> = migration_templates(&out, "backend")
      .into_iter()
      .map(|(name, _)| name)
      .collect();
    assert_eq!(
      names,
      [
        "migrations-externalsecret.yaml",
        "migrations-job.yaml",
        "migrations-networkpolicy.yaml",
        "migrations-roles-configmap.yaml",
        "migrations-serviceaccount.yaml",
      ]
    );
    assert!(migration_templates(&out, "frontend").is_empty());
    file(&out, "charts/backend/templates/_migrations.tpl");
    assert!(
      !out
        .files
        .contains_key("charts/frontend/templates/_migrations.tpl")
    );
    let backend = parse(file(&out, "charts/backend/values.yaml"));
    assert_eq!(backend["migrations"]["owner"], true);
    // The migrations image's repository is per environment, next to the
    // owner's image; its tag is the release's.
    assert_eq!(backend["migrations"]["image"]["repository"], "");
    for env in ["staging", "production"] {
      let values = parse(file(&out, &format!("charts/backend/values-{env}.yaml")));
      assert_eq!(
        values["migrations"]["image"]["repository"],
        format!("openinnovation-ai/{env}/backend-migrations").as_str()
      );
      let frontend = parse(file(&out, &format!("charts/frontend/values-{env}.yaml")));
      assert!(frontend.get("migrations").is_none(), "{env}");
    }
    assert_eq!(backend["migrations"]["backoffLimit"], 1);
    let frontend = parse(file(&out, "charts/frontend/values.yaml"));
    assert_eq!(
      yaml_serde::to_string(&frontend["migrations"]).unwrap(),
      "owner: false\n"
    );
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);

    // No database: no migration templates, no Job values, anywhere.
    let acme = render_platform(&builtin("acme-shop"));
    assert!(
      !acme
        .files
        .keys()
        .any(|p| p.contains("/templates/migrations-") || p.contains("/templates/_migrations"))
    );
    for (path, file) in &acme.files {
      if path.ends_with("/values.yaml") && path.starts_with("charts/") {
        assert_eq!(
          parse(&file.contents)["migrations"]["owner"],
          false,
          "{path}"
        );
        assert!(!file.contents.contains("flyway"), "{path}");
      }
    }
  }

  #[test]
  fn migration_hooks_exist_before_the_job_runs() {
    let out = render_platform(&builtin("openinnovation"));
    let templates = migration_templates(&out, "backend");
    let job = hook_weight(
      templates
        .iter()
        .find(|(name, _)| *name == "migrations-job.yaml")
        .unwrap()
        .1,
    );
    assert_eq!(job, 0);
    for (name, text) in &templates {
      assert!(
        text.contains("{{- if .Values.migrations.owner }}"),
        "{name}"
      );
      if *name != "migrations-job.yaml" {
        assert!(
          hook_weight(text) < job,
          "{name} must be created before the Job"
        );
      }
    }
    let helpers = file(&out, "charts/backend/templates/_migrations.tpl");
    assert!(helpers.contains("helm.sh/hook: pre-install,pre-upgrade\n"));
    assert!(helpers.contains("helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded\n"));
    let job = file(&out, "charts/backend/templates/migrations-job.yaml");
    // Everything the Job's pod names is one of the hook objects.
    assert!(job.contains("serviceAccountName: {{ include \"service.migrationsName\" . }}"));
    assert!(job.contains("restartPolicy: Never"));
    for key in [
      "backoffLimit",
      "activeDeadlineSeconds",
      "ttlSecondsAfterFinished",
    ] {
      assert!(
        job.contains(&format!("{key}: {{{{ .Values.migrations.{key} }}}}")),
        "{key}"
      );
    }
    let values = parse(file(&out, "charts/backend/values.yaml"));
    let deadline = values["migrations"]["activeDeadlineSeconds"]
      .as_u64()
      .unwrap();
    assert!(deadline < u64::from(values::HELM_TIMEOUT_SECONDS));
  }

  #[test]
  fn the_migration_job_reads_credentials_only_from_the_external_secret() {
    let out = render_platform(&builtin("openinnovation"));
    let job = file(&out, "charts/backend/templates/migrations-job.yaml");
    for (name, key) in [
      ("FLYWAY_URL", "flyway_url"),
      ("FLYWAY_USER", "db_username"),
      ("FLYWAY_PASSWORD", "db_password"),
      ("DATABASE_ROLES", "database_roles"),
    ] {
      let (_, after) = job.split_once(&format!("- name: {name}\n")).unwrap();
      let entry: String = after.lines().take(4).collect::<Vec<_>>().join("\n");
      assert!(entry.contains("secretKeyRef:"), "{name}: {entry}");
      assert!(entry.contains(&format!("key: {key}")), "{name}: {entry}");
    }
    let secret = file(
      &out,
      "charts/backend/templates/migrations-externalsecret.yaml",
    );
    // The master credentials (the migrations alone use them), the host, and
    // the passwords of the services' roles.
    assert!(secret.contains("key: {{ $arn | quote }}"));
    assert!(secret.contains("{{- include \"service.databaseHost\" . | nindent 4 }}"));
    assert!(secret.contains("{{- range $i, $role := .Values.migrations.roles }}"));
    assert!(secret.contains("kind: ClusterSecretStore"));
    for path in [
      "charts/backend/values.yaml",
      "charts/backend/values-staging.yaml",
      "charts/backend/values-production.yaml",
    ] {
      let text = file(&out, path);
      assert!(!text.contains("jdbc:"), "{path}");
      assert!(!text.contains("FLYWAY_"), "{path}");
      let migrations = yaml_serde::to_string(&parse(text)["migrations"]).unwrap();
      assert!(!migrations.to_lowercase().contains("password"), "{path}");
    }
  }

  /// The migrations ship as an image: built once per commit from `db/` on
  /// the pinned Flyway image, promoted with the service images, run by the
  /// Job from the environment's registry; nothing is copied into the chart.
  #[test]
  fn the_migrations_ship_as_an_image_built_once_and_promoted() {
    let out = render_all(&builtin("openinnovation"));
    let dockerfile = file(&out, "db/Dockerfile");
    let image = crate::render::workflows::flyway_image(crate::versions::Versions::builtin());
    assert!(dockerfile.contains(&format!("\nFROM {image}\n")));
    assert!(image.contains("@sha256:"));
    assert!(dockerfile.contains("COPY migrations/ /flyway/project/migrations/\n"));
    assert!(dockerfile.ends_with("USER 10001:10001\n"));
    let deploy = file(&out, ".github/workflows/deploy.yml");
    assert_eq!(deploy.matches("  build-backend-migrations:\n").count(), 1);
    assert!(deploy.contains("context: db\n"));
    assert!(deploy.contains("tags: ${{ steps.ecr.outputs.registry }}/openinnovation-ai/staging/backend-migrations:${{ github.sha }}\n"));
    assert!(deploy.contains("      - build-backend-migrations\n"));
    assert!(deploy.contains("SOURCE_REPOSITORY: openinnovation-ai/staging/backend-migrations\n"));
    assert!(deploy.contains(&format!("--timeout {}m", values::HELM_TIMEOUT_SECONDS / 60)));
    assert!(deploy.contains("JOB: backend-migrations\n"));
    let release = file(&out, ".github/workflows/release.yml");
    assert!(release.contains("REPOSITORY: openinnovation-ai/staging/backend-migrations\n"));
    for workflow in ["ci", "deploy", "release"] {
      let text = file(&out, &format!(".github/workflows/{workflow}.yml"));
      assert!(!text.contains("CHART_DB"), "{workflow}");
      assert!(!text.contains("charts/backend/db"), "{workflow}");
    }
    let job = file(&out, "charts/backend/templates/migrations-job.yaml");
    assert!(job.contains("image: {{ include \"service.migrationsImage\" . | quote }}"));
    // The only ConfigMap the Job mounts is the roles callback's: the
    // migrations themselves are in the image.
    assert_eq!(job.matches("configMap:").count(), 1);
    assert!(job.contains("name: {{ include \"service.migrationsName\" . }}-roles\n"));
    assert!(!job.contains("/flyway/project\n"));
    assert!(
      !out
        .files
        .contains_key("charts/backend/templates/migrations-configmap.yaml")
    );
    assert!(!file(&out, ".gitignore").contains("charts/*/db/"));

    // No database: no migrations image anywhere.
    let out = render_all(&builtin("acme-shop"));
    assert!(!out.files.contains_key("db/Dockerfile"));
    for (path, file) in &out.files {
      assert!(!file.contents.contains("-migrations"), "{path}");
    }
  }

  /// With an account per environment, each values file names its registry
  /// and the deploy passes only the image digest; without, the deploy passes
  /// the registry too.
  #[test]
  fn the_registry_is_in_the_values_when_the_account_is_known() {
    let out = render_all(&builtin("acme-shop"));
    for (env, account) in [
      ("dev", "111122223333"),
      ("staging", "111122223333"),
      ("production", "444455556666"),
    ] {
      let values = parse(file(&out, &format!("charts/catalog/values-{env}.yaml")));
      assert_eq!(
        values["image"]["registry"],
        format!("{account}.dkr.ecr.eu-west-1.amazonaws.com").as_str()
      );
    }
    let deploy = file(&out, ".github/workflows/deploy.yml");
    assert!(!deploy.contains("image.registry"));
    assert!(deploy.contains("--set-string image.digest=\"$DIGEST\""));
    assert!(!deploy.contains("image.tag"));

    let out = render_all(&builtin("openinnovation"));
    let values = parse(file(&out, "charts/backend/values-staging.yaml"));
    assert!(values["image"].get("registry").is_none());
    let deploy = file(&out, ".github/workflows/deploy.yml");
    assert!(deploy.contains("--set-string image.registry=\"$REGISTRY\""));
  }

  #[test]
  fn values_files_carry_the_generated_header() {
    let out = render_platform(&builtin("acme-shop"));
    for (path, file) in &out.files {
      if path.ends_with(".yaml") || path.ends_with(".tpl") || path.ends_with(".sh") {
        assert!(
          file
            .contents
            .lines()
            .take(2)
            .any(|l| l.contains("by oi-gen")),
          "{path}"
        );
      }
    }
  }

  /// The pods get HTTPS out (the AWS APIs) and the Pod Identity agent (their
  /// AWS credentials), but HTTPS to the VPC only where the AWS APIs are VPC
  /// endpoints in it, with `natGateways: none`.
  #[test]
  fn services_reach_the_aws_apis_and_their_credentials() {
    let policy = file(
      &render_platform(&builtin("openinnovation")),
      "charts/backend/templates/networkpolicy.yaml",
    )
    .to_string();
    for rule in [
      "cidr: 0.0.0.0/0",
      "port: 443",
      "port: 80",
      "networkPolicy.httpsExcept",
    ] {
      assert!(policy.contains(rule), "{rule}");
    }
    let with_nat = parse(file(
      &render_platform(&builtin("openinnovation")),
      "charts/backend/values.yaml",
    ));
    let without_nat = parse(file(
      &render_platform(&variant("natGateways: onePerAz", "natGateways: none")),
      "charts/backend/values.yaml",
    ));
    assert_eq!(
      with_nat["networkPolicy"]["httpsExcept"],
      parse("[10.0.0.0/16]")
    );
    assert_eq!(without_nat["networkPolicy"]["httpsExcept"], parse("[]"));
    for values in [with_nat, without_nat] {
      assert_eq!(
        values["networkPolicy"]["podIdentityAgent"],
        "169.254.170.23/32"
      );
    }
  }

  #[test]
  fn volumes_are_encrypted_gp3_with_the_environments_key() {
    let out = render_all(&builtin("openinnovation"));
    let class = parse(file(&out, "cluster/manifests/storage-class.yaml"));
    assert_eq!(class["provisioner"], "ebs.csi.aws.com");
    assert_eq!(class["parameters"]["type"], "gp3");
    assert_eq!(class["parameters"]["encrypted"], "true");
    assert_eq!(class["parameters"]["kmsKeyId"], "KMS_KEY_ARN");
    assert_eq!(class["volumeBindingMode"], "WaitForFirstConsumer");
    assert_eq!(class["allowVolumeExpansion"], true);
    assert_eq!(
      class["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"],
      "true"
    );
    // install.sh fills the placeholder with the key its alias names.
    let install = file(&out, "cluster/install.sh");
    assert!(install.contains(
      "--key-id \"alias/openinnovation-ai-$env\" \\\n  --query KeyMetadata.Arn --output text"
    ));
    assert!(
      install
        .contains("sed \"s|KMS_KEY_ARN|$kms_key_arn|\" \"$here/manifests/storage-class.yaml\"")
    );
    assert!(install.contains("storageclass.kubernetes.io/is-default-class=false"));
    // The storage class comes before every chart that could claim a volume.
    assert!(install.find("storage-class.yaml") < install.find("\nchart "));
    // The driver is an EKS add-on whose controller gets the role of storage.tf.
    let eks = file(&out, "infra/eks.tf");
    assert!(eks.contains("aws-ebs-csi-driver = {"));
    assert!(eks.contains("role_arn        = aws_iam_role.ebs_csi.arn"));
    assert!(eks.contains("service_account = \"ebs-csi-controller-sa\""));
    let storage = file(&out, "infra/storage.tf");
    assert!(storage.contains("service-role/AmazonEBSCSIDriverPolicy"));
    assert!(storage.contains("kms:GrantIsForAWSResource"));
    // install.sh runs with the Terraform role after an apply: the deploy role
    // needs nothing to find the key.
    assert!(!file(&out, "infra/iam.tf").contains("\"kms:DescribeKey\""));
  }

  #[test]
  fn monitoring_keeps_its_data_and_sends_alerts_to_the_receivers() {
    let out = render_all(&builtin("openinnovation"));
    let values = parse(file(
      &out,
      "cluster/addons/kube-prometheus-stack/values.yaml",
    ));
    let prometheus = &values["prometheus"]["prometheusSpec"];
    let claim = &prometheus["storageSpec"]["volumeClaimTemplate"]["spec"];
    assert_eq!(claim["resources"]["requests"]["storage"], "50Gi");
    assert_eq!(claim["storageClassName"], names::STORAGE_CLASS);
    assert_eq!(prometheus["retention"], "15d");
    assert_eq!(prometheus["retentionSize"], "42GB");
    let alertmanager = &values["alertmanager"];
    assert_eq!(
      alertmanager["alertmanagerSpec"]["storage"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]
        ["storage"],
      "5Gi"
    );
    assert_eq!(
      alertmanager["alertmanagerSpec"]["secrets"][0],
      "alertmanager-receivers"
    );
    let grafana = &values["grafana"];
    assert_eq!(grafana["persistence"]["size"], "10Gi");
    assert_eq!(grafana["persistence"]["type"], "sts");
    assert_eq!(grafana["securityContext"]["fsGroup"], 472);
    assert_eq!(grafana["initChownData"]["enabled"], false);
    assert_eq!(
      grafana["sidecar"]["dashboards"]["label"],
      "grafana_dashboard"
    );
    // The Slack receiver reads the webhook URL from the file of the key the
    // ExternalSecret writes, from the secret Terraform creates empty.
    let config = &alertmanager["config"];
    assert_eq!(config["route"]["receiver"], "platform");
    assert_eq!(config["receivers"][0]["name"], "null");
    let slack = &config["receivers"][1]["slack_configs"][0];
    assert_eq!(slack["channel"], "#platform-alerts");
    assert_eq!(
      slack["api_url_file"],
      "/etc/alertmanager/secrets/alertmanager-receivers/slack-webhook-url"
    );
    let receivers = parse(file(
      &out,
      "cluster/manifests/staging/alertmanager-receivers.yaml",
    ));
    assert_eq!(
      receivers["spec"]["data"][0]["secretKey"],
      "slack-webhook-url"
    );
    assert_eq!(
      receivers["spec"]["data"][0]["remoteRef"]["key"],
      "openinnovation-ai/staging/alertmanager/slack"
    );
    assert_eq!(
      receivers["spec"]["data"][0]["remoteRef"]["property"],
      "webhookUrl"
    );
    assert!(file(&out, "infra/secrets.tf").contains(
      "\"alertmanager/slack\" = \"openinnovation-ai/${var.environment}/alertmanager/slack\""
    ));
    assert!(
      file(&out, "cluster/check-secrets.sh")
        .contains("\"openinnovation-ai/$env/alertmanager/slack|you|webhookUrl\"")
    );
    let store = parse(file(&out, "cluster/manifests/cluster-secret-store.yaml"));
    assert_eq!(
      store["spec"]["conditions"][0]["namespaces"][1],
      "monitoring"
    );
    let install = file(&out, "cluster/install.sh");
    let synced = install
      .find("externalsecret/alertmanager-receivers")
      .unwrap();
    assert!(synced < install.find("chart kube-prometheus-stack").unwrap());
    assert!(install.contains("apply \"$here/manifests/alerts.yaml\""));
    // The gateway's data plane has no request metrics: pod and certificate
    // alerts only, no dashboards.
    let rules = file(&out, "cluster/manifests/alerts.yaml");
    assert!(rules.contains("PlatformPodCrashLooping"));
    assert!(rules.contains("certmanager_certificate_expiration_timestamp_seconds"));
    assert!(!rules.contains("nginx_ingress_controller"));
    assert!(!out.files.contains_key("cluster/manifests/dashboards.yaml"));
    let cert_manager = parse(file(&out, "cluster/addons/cert-manager/values.yaml"));
    assert_eq!(
      cert_manager["prometheus"]["servicemonitor"]["enabled"],
      true
    );
  }

  #[test]
  fn ingress_nginx_gets_request_alerts_and_a_dashboard_per_public_service() {
    let out = render_all(&variant("nginx: gateway", "nginx: ingress"));
    let rules = parse(file(&out, "cluster/manifests/alerts.yaml"));
    let services = rules["spec"]["groups"]
      .as_sequence()
      .unwrap()
      .iter()
      .find(|g| g["name"] == "platform-services")
      .expect("the request alerts");
    let errors = services["rules"][0]["expr"].as_str().unwrap();
    assert!(errors.contains(
      "nginx_ingress_controller_requests{ingress=~\"backend|frontend\", status=~\"5..\"}"
    ));
    assert!(errors.ends_with("> 0.05"));
    let latency = services["rules"][1]["expr"].as_str().unwrap();
    assert!(latency.contains("nginx_ingress_controller_request_duration_seconds_bucket"));
    let dashboards = file(&out, "cluster/manifests/dashboards.yaml");
    assert_eq!(dashboards.matches("kind: ConfigMap").count(), 2);
    let dashboard = parse(dashboards.split("---\n").next().unwrap());
    assert_eq!(dashboard["metadata"]["labels"]["grafana_dashboard"], "1");
    assert_eq!(dashboard["metadata"]["namespace"], "monitoring");
    let json: serde_json::Value =
      serde_json::from_str(dashboard["data"]["dashboard.json"].as_str().unwrap()).unwrap();
    assert_eq!(json["title"], "openinnovation-ai / backend");
    assert_eq!(json["panels"].as_array().unwrap().len(), 3);
    assert!(file(&out, "cluster/install.sh").contains("apply \"$here/manifests/dashboards.yaml\""));
    let controller = parse(file(&out, "cluster/addons/ingress-nginx/values.yaml"));
    assert_eq!(
      controller["controller"]["metrics"]["serviceMonitor"]["enabled"],
      true
    );
  }
}
