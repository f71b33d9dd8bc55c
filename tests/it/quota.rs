//! The ResourceQuota and LimitRange of the platform's namespace
//! (`cluster/manifests/<env>/quota.yaml`): computed from the services,
//! overridden per environment in `overrides.quota`, validated against the
//! services at their most replicas, and checked by `oi-gen verify`.

use yaml_serde::Value;

use crate::support::*;

/// The documents of an environment's quota file.
fn quota(repo: &std::path::Path, env: &str) -> (Value, Value) {
  let text = read(repo, &format!("cluster/manifests/{env}/quota.yaml"));
  let mut docs = text
    .split("\n---\n")
    .map(|doc| yaml_serde::from_str::<Value>(doc).unwrap());
  (docs.next().unwrap(), docs.next().unwrap())
}

fn hard(quota: &Value, key: &str) -> String {
  quota["spec"]["hard"][key].as_str().unwrap().to_string()
}

const PRODUCTION: &str = "    - name: production\n      # deploys wait for a required reviewer of the GitHub environment\n      approval: true\n";

#[test]
fn an_override_replaces_the_amounts_it_gives_in_its_environment_only() {
  let (_temp, repo) = init("openinnovation");
  let (staging_before, _) = quota(&repo, "staging");
  let (production_before, limit_range) = quota(&repo, "production");
  // Computed: backend 10 pods + 3 surge at 250m, frontend 3 + 1 at 100m,
  // the Flyway Job 100m, a spare pod 100m.
  assert_eq!(hard(&production_before, "requests.cpu"), "3850m");
  assert_eq!(hard(&production_before, "pods"), "19");
  assert_eq!(hard(&production_before, "services.loadbalancers"), "0");
  let item = &limit_range["spec"]["limits"][0];
  assert_eq!(item["type"].as_str(), Some("Container"));
  assert_eq!(item["defaultRequest"]["cpu"].as_str(), Some("100m"));
  assert_eq!(item["max"]["memory"].as_str(), Some("1Gi"));

  edit(
    &repo,
    "platform.yaml",
    PRODUCTION,
    &format!(
      "{PRODUCTION}      overrides:\n        quota:\n          requests: {{cpu: \"6\"}}\n          limits: {{memory: 20Gi}}\n          pods: 40\n"
    ),
  );
  cli(&repo, &["render"]).run().code(0).stderr("");
  let (production, _) = quota(&repo, "production");
  assert_eq!(hard(&production, "requests.cpu"), "6");
  assert_eq!(hard(&production, "limits.memory"), "20Gi");
  assert_eq!(hard(&production, "pods"), "40");
  // What the override leaves out stays computed.
  assert_eq!(
    hard(&production, "requests.memory"),
    hard(&production_before, "requests.memory")
  );
  assert_eq!(quota(&repo, "staging").0, staging_before);
  cli(&repo, &["verify"])
    .run()
    .code(0)
    .stdout(". fits together: no findings\n");
}

#[test]
fn an_override_below_the_services_at_their_most_replicas_is_a_located_error() {
  let (_temp, repo) = init("openinnovation");
  edit(
    &repo,
    "platform.yaml",
    PRODUCTION,
    &format!("{PRODUCTION}      overrides:\n        quota:\n          requests: {{cpu: 2500m}}\n"),
  );
  let line = read(&repo, "platform.yaml")
    .lines()
    .position(|l| l.contains("requests: {cpu: 2500m}"))
    .unwrap()
    + 1;
  let outcome = cli(&repo, &["render"]).run();
  outcome.code(2).stdout("");
  let stderr = &outcome.stderr;
  assert!(
    stderr.starts_with(
      "error: spec.environments[1].overrides.quota.requests.cpu: requests.cpu `2500m` is below the `2800m` the services' requests come to at their most replicas (backend 10 × 250m + frontend 3 × 100m); the namespace could not run them\n"
    ),
    "{stderr}"
  );
  assert!(
    stderr.contains(&format!("platform.yaml:{line}:27\n")),
    "{stderr}"
  );
  assert!(
    stderr.contains("= help: give at least `2800m`, or leave it out for the computed `3850m`\n"),
    "{stderr}"
  );
}

#[test]
fn an_override_between_the_floor_and_the_computed_quota_warns() {
  let (_temp, repo) = init("openinnovation");
  edit(
    &repo,
    "platform.yaml",
    PRODUCTION,
    &format!("{PRODUCTION}      overrides:\n        quota:\n          pods: 14\n"),
  );
  let outcome = cli(&repo, &["render"]).run();
  outcome.code(0);
  assert!(
    outcome.stderr.starts_with(
      "warning: spec.environments[1].overrides.quota.pods: pods `14` is below the computed 19: a rolling update at the services' most replicas, the migration Job or a one-off pod would wait for quota\n"
    ),
    "{}",
    outcome.stderr
  );
  assert_eq!(hard(&quota(&repo, "production").0, "pods"), "14");
}

#[test]
fn the_install_script_applies_each_environments_quota_after_the_namespace() {
  let (_temp, repo) = init("openinnovation");
  let install = read(&repo, "cluster/install.sh");
  let namespace = install
    .find("apply \"$here/manifests/deployers.yaml\"")
    .unwrap();
  let quota = install
    .find("apply \"$here/manifests/$env/quota.yaml\"")
    .unwrap();
  assert!(namespace < quota);
}

#[test]
fn the_schema_describes_the_quota_override() {
  let outcome = cli(std::path::Path::new("."), &["schema"]).run();
  outcome.code(0);
  let schema: serde_json::Value = serde_json::from_str(&outcome.stdout).unwrap();
  let defs = &schema["$defs"];
  assert!(
    defs["Overrides"]["properties"]["quota"]["description"]
      .as_str()
      .unwrap()
      .starts_with("optional: the ResourceQuota of the platform's namespace")
  );
  assert_eq!(
    defs["QuotaAmounts"]["properties"]["cpu"]["type"],
    serde_json::json!(["string", "null"])
  );
}
