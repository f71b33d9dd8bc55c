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

/// The Kubernetes versions oi-gen accepts (validation: standard and
/// extended support), and those a built-in blueprint uses.
const KUBERNETES: &[&str] = &["1.32", "1.33", "1.34", "1.35", "1.36"];
const BUILTIN_KUBERNETES: &[&str] = &["1.34", "1.35"];

/// The default blueprint on another Kubernetes version, with `versions`
/// (lines of `spec.versions`, or empty).
fn on_kubernetes(version: &str, versions: &str) -> String {
  let text = BASE.replacen(
    "kubernetesVersion: \"1.35\"",
    &format!("kubernetesVersion: \"{version}\""),
    1,
  );
  if versions.is_empty() {
    text
  } else {
    format!("{text}  versions:\n{versions}")
  }
}

/// The entries of the EKS module's `addons` map in infra/eks.tf: add-on →
/// its block.
fn addon_blocks(eks: &str) -> std::collections::BTreeMap<String, String> {
  let start = eks.find("\n  addons = {\n").expect("an addons map") + 1;
  let body = &eks[start..];
  let body = &body[..body.find("\n  }\n").expect("the map ends")];
  let mut out = std::collections::BTreeMap::new();
  let mut current: Option<(String, String)> = None;
  for line in body.lines().skip(1) {
    if let Some(name) = line
      .strip_prefix("    ")
      .filter(|l| !l.starts_with(' ') && !l.starts_with('#'))
      .and_then(|l| l.strip_suffix(" = {"))
    {
      current = Some((name.to_string(), String::new()));
    } else if line == "    }" {
      let (name, block) = current.take().expect("a block was open");
      out.insert(name, block);
    } else if let Some((_, block)) = current.as_mut() {
      block.push_str(line);
      block.push('\n');
    }
  }
  out
}

/// The `addon_version` of a block, if it has one.
fn addon_version(block: &str) -> Option<String> {
  block.lines().find_map(|line| {
    let (key, value) = line.split_once('=')?;
    (key.trim() == "addon_version").then(|| value.trim().trim_matches('"').to_string())
  })
}

#[test]
fn every_eks_addon_runs_the_build_of_the_table_for_each_kubernetes_version() {
  let table = Versions::builtin();
  let addons: BTreeSet<&str> = table
    .eks_addons("1.35")
    .into_iter()
    .map(|(n, _)| n)
    .collect();
  assert_eq!(
    addons,
    BTreeSet::from([
      "aws-ebs-csi-driver",
      "coredns",
      "eks-pod-identity-agent",
      "kube-proxy",
      "vpc-cni"
    ])
  );
  for kubernetes in KUBERNETES {
    let text = on_kubernetes(kubernetes, "");
    let loaded = oi_gen::blueprint::load(text.as_bytes()).expect("valid");
    let pin_warning = loaded
      .warnings
      .iter()
      .find(|w| w.message.contains("pins no build of the EKS add-on"));
    let output = render_resolved(&loaded.resolved);
    let blocks = addon_blocks(file(&output, "infra/eks.tf"));
    // The map holds the add-ons of the table, and nothing else.
    assert_eq!(
      blocks.keys().map(String::as_str).collect::<BTreeSet<_>>(),
      addons,
      "{kubernetes}"
    );
    let mut unpinned = Vec::new();
    for (name, build) in table.eks_addons(kubernetes) {
      let block = &blocks[name];
      assert!(
        block.contains("most_recent"),
        "{kubernetes} {name}: {block}"
      );
      assert_eq!(
        addon_version(block).as_deref(),
        build,
        "{kubernetes} {name}: {block}"
      );
      match build {
        Some(build) => assert!(
          build.starts_with('v') && build.contains("-eksbuild."),
          "{build}"
        ),
        None => unpinned.push(name),
      }
    }
    // The versions the built-in blueprints use are pinned in full.
    if BUILTIN_KUBERNETES.contains(kubernetes) {
      assert_eq!(unpinned, Vec::<&str>::new(), "{kubernetes}");
    }
    // An add-on left to AWS's default is named in a located warning.
    match pin_warning {
      None => assert!(unpinned.is_empty(), "{kubernetes}: {unpinned:?}"),
      Some(w) => {
        assert_eq!(w.path, "spec.cluster.kubernetesVersion");
        assert!(w.pos.is_some());
        assert!(!unpinned.is_empty());
        for name in &unpinned {
          assert!(w.message.contains(&format!("`{name}`")), "{}", w.message);
        }
      }
    }
    assert_eq!(
      unexplained(&loaded.resolved, &output),
      Vec::<String>::new(),
      "{kubernetes}"
    );
  }
  // The table pins kube-proxy, whose build follows the Kubernetes minor,
  // for every version.
  for kubernetes in KUBERNETES {
    let build = table.get("kube-proxy").for_kubernetes(kubernetes).unwrap();
    assert!(build.starts_with(&format!("v{kubernetes}.")), "{build}");
  }
}

#[test]
fn an_eks_addon_override_pins_one_build_for_every_kubernetes_version() {
  let over = "    vpc-cni: v1.22.9-eksbuild.1\n    eks-pod-identity-agent: v1.3.11-eksbuild.1\n";
  for kubernetes in ["1.33", "1.35"] {
    let text = on_kubernetes(kubernetes, over);
    let loaded = oi_gen::blueprint::load(text.as_bytes()).expect("valid");
    let output = render_resolved(&loaded.resolved);
    let blocks = addon_blocks(file(&output, "infra/eks.tf"));
    assert_eq!(
      addon_version(&blocks["vpc-cni"]).as_deref(),
      Some("v1.22.9-eksbuild.1")
    );
    assert_eq!(
      addon_version(&blocks["eks-pod-identity-agent"]).as_deref(),
      Some("v1.3.11-eksbuild.1")
    );
    assert_eq!(unexplained(&loaded.resolved, &output), Vec::<String>::new());
    let warnings: Vec<&str> = loaded
      .warnings
      .iter()
      .filter(|w| w.message.contains("EKS add-on"))
      .map(|w| w.message.as_str())
      .collect();
    if kubernetes == "1.33" {
      // The override pins the Pod Identity agent; the EBS CSI driver is
      // still AWS's default there.
      assert_eq!(
        warnings,
        [
          "oi-gen pins no build of the EKS add-on(s) `aws-ebs-csi-driver` for Kubernetes 1.33: they run AWS's default build for it, which may change between plans"
        ]
      );
    } else {
      assert_eq!(warnings, Vec::<&str>::new());
    }
  }
  // `oi-gen versions` shows the override and the table's build it replaces.
  let temp = tempfile::tempdir().unwrap();
  std::fs::write(
    temp.path().join("platform.yaml"),
    on_kubernetes("1.35", over),
  )
  .unwrap();
  let outcome = Cli::new()
    .args(["versions", "--format", "json"])
    .current_dir(temp.path())
    .run();
  outcome.code(0).stderr("");
  let json: serde_json::Value = serde_json::from_str(&outcome.stdout).unwrap();
  let cni = json
    .as_array()
    .unwrap()
    .iter()
    .find(|c| c["component"] == "vpc-cni")
    .expect("listed");
  assert_eq!(cni["kind"], "eks-addon");
  assert_eq!(cni["version"], "v1.22.9-eksbuild.1");
  assert_eq!(cni["overrides"], "v1.21.2-eksbuild.2");
  assert_eq!(cni["files"], serde_json::json!(["infra/eks.tf"]));
  let proxy = json
    .as_array()
    .unwrap()
    .iter()
    .find(|c| c["component"] == "kube-proxy")
    .expect("listed");
  assert_eq!(proxy["version"], "v1.35.3-eksbuild.13");
}

#[test]
fn an_eks_addon_override_takes_an_eks_build() {
  for value in [
    "v1.22.9",
    "1.22.9-eksbuild.1",
    "v1.22.9-eksbuild.",
    "v1.22-eksbuild.1",
  ] {
    let text = on_kubernetes("1.35", &format!("    vpc-cni: {value}\n"));
    let Err(errors) = oi_gen::blueprint::load(text.as_bytes()) else {
      panic!("{value} was accepted")
    };
    let error = errors.iter().find(|d| d.is_error()).expect("an error");
    assert_eq!(error.path, "spec.versions.vpc-cni", "{value}");
    assert!(error.pos.is_some(), "{value}");
    assert_eq!(
      error.message,
      format!(
        "`vpc-cni` (kind eks-addon): `{value}` is not an EKS add-on version (`vX.Y.Z-eksbuild.N`, as `aws eks describe-addon-versions` lists them)"
      )
    );
  }
}

#[test]
fn auto_mode_renders_no_eks_addon_and_warns_of_none() {
  let text = builtin_text("harbor").replacen(
    "kubernetesVersion: \"1.35\"",
    "kubernetesVersion: \"1.33\"",
    1,
  );
  let loaded = oi_gen::blueprint::load(text.as_bytes()).expect("valid");
  assert!(
    loaded
      .warnings
      .iter()
      .all(|w| !w.message.contains("EKS add-on")),
    "{:?}",
    loaded.warnings
  );
  let output = render_resolved(&loaded.resolved);
  let eks = file(&output, "infra/eks.tf");
  assert!(!eks.contains("addon_version") && !eks.contains("\n  addons = {"));
}

#[test]
fn versions_all_lists_the_whole_table_without_a_blueprint() {
  // An empty folder: `--all` reads no platform.yaml.
  let temp = tempfile::tempdir().unwrap();
  let outcome = Cli::new()
    .args(["versions", "--all"])
    .current_dir(temp.path())
    .run();
  outcome.code(0).stderr("");
  let text = &outcome.stdout;
  let table = Versions::builtin();
  // One block per component, each starting at column 0 with its kind.
  let heads: Vec<&str> = text.lines().filter(|l| !l.starts_with(' ')).collect();
  assert_eq!(heads.len(), table.names().count());
  for ((name, c), head) in table.iter().zip(&heads) {
    let words: Vec<&str> = head.split_whitespace().collect();
    assert_eq!(words[..2], [name, c.kind.as_str()], "{head}");
  }
  assert!(
    text.contains("                              1.35:    v1.35.3-eksbuild.13\n"),
    "{text}"
  );
  insta::with_settings!({snapshot_path => "../../snapshots", prepend_module_to_snapshot => false}, {
    insta::assert_snapshot!("versions-all", text);
  });

  let outcome = Cli::new()
    .args(["versions", "--all", "--format", "json"])
    .current_dir(temp.path())
    .run();
  outcome.code(0).stderr("");
  let json: serde_json::Value = serde_json::from_str(&outcome.stdout).unwrap();
  let entries = json.as_array().unwrap();
  assert_eq!(entries.len(), table.names().count());
  for (entry, (name, c)) in entries.iter().zip(table.iter()) {
    assert_eq!(entry["component"], name);
    assert_eq!(entry["kind"], c.kind.as_str());
    assert_eq!(entry["version"], c.version.as_str());
    assert_eq!(entry["source"], c.source.as_str());
  }
  let proxy = entries
    .iter()
    .find(|e| e["component"] == "kube-proxy")
    .unwrap();
  assert_eq!(proxy["addon"], "kube-proxy");
  assert_eq!(proxy["by-kubernetes"]["1.32"], "v1.32.13-eksbuild.16");
  let checkout = entries
    .iter()
    .find(|e| e["component"] == "actions-checkout")
    .unwrap();
  assert_eq!(
    checkout["sha"],
    table.get("actions-checkout").sha.as_deref().unwrap()
  );

  // A blueprint and --all exclude each other.
  Cli::new()
    .args(["versions", "--all", "-f", "platform.yaml"])
    .current_dir(temp.path())
    .run()
    .code(2);
}
