//! The version table: every version the outputs carry comes from it, a
//! blueprint can override a component (`spec.versions`), and
//! `oi-gen versions` lists what a blueprint pins.

use std::collections::BTreeSet;

use oi_gen::versions::{self, Versions};

use crate::support::output::*;
use crate::support::*;

/// Version-like tokens of the outputs that are not pins, each for a reason.
/// The blueprint's own Kubernetes version (and the charts' `kubeVersion`
/// floor built from it) is allowed per blueprint in the test below.
const NOT_PINS: &[(&str, &str)] = &[
  // The blueprint's JSON Schema: examples in the field docs (`1.35`,
  // `~> 21.20`), not versions the repository installs.
  (".oi-gen/schema.json", "*"),
  // The generated charts' own version (Chart.yaml `version`), not upstream's.
  ("charts/", "0.1.0"),
  // install.sh explains that EKS stopped marking gp2 the default StorageClass
  // from Kubernetes 1.30: a fact about EKS, not a pin.
  ("cluster/install.sh", "1.30"),
];

/// Every token a component of `table` may put in the output.
fn pinned_tokens(table: &Versions) -> BTreeSet<String> {
  let mut out = BTreeSet::new();
  for (_, component) in table.iter() {
    for text in component.pinned_strings() {
      out.extend(versions::tokens(text).into_iter().map(str::to_string));
      out.insert(text.trim_start_matches("sha256:").to_string());
    }
  }
  out
}

/// The tokens of a render that neither the table nor the allow-list explains.
fn unexplained(
  resolved: &oi_gen::blueprint::Resolved,
  output: &oi_gen::render::Output,
) -> Vec<String> {
  let pinned = pinned_tokens(&resolved.versions);
  let kubernetes = &resolved.kubernetes_version;
  // spec.cluster.kubernetesVersion, and `>= <it>.0-0` in Chart.yaml.
  let from_blueprint = [
    kubernetes.clone(),
    format!("v{kubernetes}"),
    format!("{kubernetes}.0-0"),
  ];
  let mut out = Vec::new();
  for (path, file) in &output.files {
    for token in versions::tokens(&file.contents) {
      let allowed = pinned.contains(token)
        || from_blueprint.iter().any(|t| t == token)
        || NOT_PINS
          .iter()
          .any(|(prefix, t)| (*t == token || *t == "*") && path.starts_with(prefix));
      if !allowed {
        out.push(format!("{path}: {token}"));
      }
    }
  }
  out
}

#[test]
fn every_version_in_the_output_of_every_builtin_blueprint_comes_from_the_table() {
  for builtin in oi_gen::builtin::all() {
    let (resolved, output) = render_builtin(builtin.name);
    let found = unexplained(&resolved, &output);
    assert!(
      found.is_empty(),
      "{}: versions not in versions.toml:\n{}",
      builtin.name,
      found.join("\n")
    );
  }
}

#[test]
fn a_version_that_is_not_in_the_table_is_reported() {
  let (resolved, mut output) = render_builtin("openinnovation");
  output.add(
    "cluster/extra.sh",
    "helm upgrade x oci://example/x --version 9.9.9\nuses: a/b@0123456789abcdef0123456789abcdef01234567\n",
  );
  assert_eq!(
    unexplained(&resolved, &output),
    [
      "cluster/extra.sh: 9.9.9",
      "cluster/extra.sh: 0123456789abcdef0123456789abcdef01234567"
    ]
  );
}

const BASE: &str = include_str!("../../blueprints/openinnovation.yaml");

const FLYWAY_DIGEST: &str =
  "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const CHECKOUT_SHA: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// The default blueprint with `spec.versions` set to `lines`.
fn with_versions(lines: &str) -> String {
  format!("{BASE}  versions:\n{lines}")
}

fn overrides() -> String {
  with_versions(&format!(
    "    cert-manager: v1.22.0\n    flyway: 13.1.0@{FLYWAY_DIGEST}\n    \
     actions-checkout: v7.0.2@{CHECKOUT_SHA}\n    eks: \"~> 21.20\"\n"
  ))
}

#[test]
fn an_override_applies_everywhere_the_component_renders() {
  let (resolved, output) = render_text(&overrides());
  let install = file(&output, "cluster/install.sh");
  assert!(
    install.contains("oci://quay.io/jetstack/charts/cert-manager v1.22.0"),
    "{install}"
  );
  let flyway = format!("flyway/flyway:13.1.0@{FLYWAY_DIGEST}");
  assert!(file(&output, "db/Dockerfile").contains(&format!("FROM {flyway}\n")));
  assert!(file(&output, ".github/workflows/ci.yml").contains(&flyway));
  let checkout = format!("actions/checkout@{CHECKOUT_SHA} # v7.0.2");
  assert!(file(&output, ".github/workflows/deploy.yml").contains(&checkout));
  assert!(file(&output, "infra/eks.tf").contains("version = \"~> 21.20\""));
  // Nothing of the replaced pins is left anywhere.
  let table = Versions::builtin();
  for (path, f) in &output.files {
    for old in [
      table.get("flyway").digest.as_deref().unwrap(),
      table.get("actions-checkout").sha.as_deref().unwrap(),
      "\"~> 21.19\"",
      "cert-manager v1.21.2",
    ] {
      assert!(!f.contents.contains(old), "{path} still has {old}");
    }
  }
  // The overridden render is explained by the table it was rendered with.
  assert_eq!(unexplained(&resolved, &output), Vec::<String>::new());
  assert_eq!(
    resolved.versions.overridden("cert-manager"),
    Some("v1.21.2")
  );
}

#[test]
fn an_older_override_is_rendered_with_a_warning() {
  let text = with_versions("    kube-prometheus-stack: 80.0.0\n");
  let loaded = oi_gen::blueprint::load(text.as_bytes()).expect("valid");
  let warnings: Vec<String> = loaded
    .warnings
    .iter()
    .map(|w| format!("{}: {}", w.path, w.message))
    .collect();
  assert_eq!(
    warnings,
    [
      "spec.versions.kube-prometheus-stack: `80.0.0` is older than the `88.5.3` oi-gen pins for `kube-prometheus-stack`"
    ]
  );
  let output = render_resolved(&loaded.resolved);
  assert!(file(&output, "cluster/install.sh").contains(" 80.0.0"));
}

#[test]
fn versions_lists_what_the_blueprint_pins_and_where() {
  let temp = tempfile::tempdir().unwrap();
  std::fs::write(temp.path().join("platform.yaml"), overrides()).unwrap();
  let outcome = Cli::new().args(["versions"]).current_dir(temp.path()).run();
  outcome.code(0).stderr("");
  let text = &outcome.stdout;
  assert!(
    text.contains("cert-manager                  chart               v1.22.0 (spec.versions; oi-gen pins v1.21.2)\n"),
    "{text}"
  );
  assert!(
    text.contains(&format!("pin:     {FLYWAY_DIGEST}\n")),
    "{text}"
  );
  assert!(
    text.contains("used in: .pre-commit-config.yaml\n"),
    "{text}"
  );

  let outcome = Cli::new()
    .args(["versions", "-f", "platform.yaml", "--format", "json"])
    .current_dir(temp.path())
    .run();
  outcome.code(0).stderr("");
  let json: serde_json::Value = serde_json::from_str(&outcome.stdout).unwrap();
  let flyway = json
    .as_array()
    .unwrap()
    .iter()
    .find(|c| c["component"] == "flyway")
    .expect("flyway is listed");
  assert_eq!(flyway["kind"], "image");
  assert_eq!(flyway["version"], "13.1.0");
  assert_eq!(flyway["overrides"], "13.0.0");
  assert_eq!(flyway["pin"], FLYWAY_DIGEST);
  assert_eq!(
    flyway["files"],
    serde_json::json!([".github/workflows/ci.yml", "db/Dockerfile"])
  );
  // Every component the render carries is listed, and nothing else.
  let listed: BTreeSet<&str> = json
    .as_array()
    .unwrap()
    .iter()
    .map(|c| c["component"].as_str().unwrap())
    .collect();
  assert!(listed.contains("gateway-api") && listed.contains("terratest"));
  assert!(!listed.contains("ingress-nginx"), "{listed:?}");
}

#[test]
fn an_image_set_by_tag_takes_a_tag_for_every_kubernetes_version() {
  let text = format!(
    "{}  versions:\n    cluster-autoscaler-image: v1.34.9\n",
    builtin_text("acme-shop")
  );
  let (resolved, output) = render_text(&text);
  let values = yaml(file(
    &output,
    "cluster/addons/cluster-autoscaler/values.yaml",
  ));
  assert_eq!(values["image"]["tag"], "v1.34.9");
  assert_eq!(unexplained(&resolved, &output), Vec::<String>::new());
}
