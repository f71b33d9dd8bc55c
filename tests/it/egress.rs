//! A service's `egress` field from the blueprint to its chart: validated,
//! resolved with its defaults, written into the chart's values (which its
//! NetworkPolicy template reads), and described by `oi-gen schema`.

use std::fs;

use yaml_serde::Value;

use crate::support::Cli;

const BASE: &str = include_str!("../../blueprints/openinnovation.yaml");

/// The openinnovation blueprint with `egress` added to the frontend service.
fn with_frontend_egress(egress: &str) -> String {
  let anchor = "    - name: frontend\n      port: 80\n";
  assert!(
    BASE.contains(anchor),
    "the frontend service of the blueprint"
  );
  BASE.replace(anchor, &format!("{anchor}{egress}"))
}

fn network_policy(repo: &std::path::Path, service: &str) -> Value {
  let text = fs::read_to_string(repo.join(format!("charts/{service}/values.yaml"))).unwrap();
  let values: Value = yaml_serde::from_str(&text).unwrap();
  values["networkPolicy"].clone()
}

fn parse(text: &str) -> Value {
  yaml_serde::from_str(text).unwrap()
}

#[test]
fn egress_reaches_the_chart_values_with_its_defaults() {
  let temp = tempfile::tempdir().unwrap();
  let blueprint = temp.path().join("platform.yaml");
  fs::write(
    &blueprint,
    with_frontend_egress(
      "      egress:\n        https: false\n        allow:\n          \
       - {cidr: 10.1.2.3/32, ports: [5432, 6432]}\n          \
       - {cidr: 10.9.0.0/16, ports: [514], protocol: UDP}\n          \
       - {cidr: 192.0.2.0/24}\n",
    ),
  )
  .unwrap();
  Cli::new()
    .args(["init", "--quiet", "repo", "--from"])
    .arg(&blueprint)
    .current_dir(temp.path())
    .run()
    .code(0)
    .stdout("");
  let repo = temp.path().join("repo");

  let frontend = network_policy(&repo, "frontend");
  assert_eq!(frontend["https"], Value::Bool(false));
  assert_eq!(
    frontend["egress"],
    parse(
      "- cidr: 10.1.2.3/32\n  ports:\n  - {port: 5432, protocol: TCP}\n  - {port: 6432, protocol: TCP}\n\
       - cidr: 10.9.0.0/16\n  ports:\n  - {port: 514, protocol: UDP}\n\
       - cidr: 192.0.2.0/24\n  ports: []\n"
    )
  );
  // The fixed rules stay.
  assert_eq!(
    frontend["podIdentityAgent"].as_str(),
    Some("169.254.170.23/32")
  );
  assert_eq!(frontend["httpsExcept"], parse("[10.0.0.0/16]"));

  // A service without `egress` keeps HTTPS out of the VPC and nothing more.
  let backend = network_policy(&repo, "backend");
  assert_eq!(backend["https"], Value::Bool(true));
  assert_eq!(backend["egress"], parse("[]"));

  // The chart's values schema accepts what the values hold, and the template
  // reads both keys.
  let schema: serde_json::Value = serde_json::from_str(
    &fs::read_to_string(repo.join("charts/frontend/values.schema.json")).unwrap(),
  )
  .unwrap();
  let properties = &schema["properties"]["networkPolicy"]["properties"];
  assert_eq!(properties["https"]["type"], "boolean");
  assert_eq!(
    properties["egress"]["items"]["properties"]["ports"]["items"]["properties"]["protocol"]["enum"],
    serde_json::json!(["TCP", "UDP"])
  );
  let template =
    fs::read_to_string(repo.join("charts/frontend/templates/networkpolicy.yaml")).unwrap();
  assert!(template.contains("{{- if .Values.networkPolicy.https }}"));
  assert!(template.contains("{{- range .Values.networkPolicy.egress }}"));

  // The render is stable: nothing drifts.
  Cli::new()
    .args(["render", "--check"])
    .current_dir(&repo)
    .run()
    .code(0);
}

#[test]
fn the_schema_describes_egress() {
  let outcome = Cli::new().arg("schema").run();
  outcome.code(0);
  let schema: serde_json::Value = serde_json::from_str(&outcome.stdout).unwrap();
  let defs = &schema["$defs"];
  assert!(
    defs["Service"]["properties"]["egress"]["description"]
      .as_str()
      .unwrap()
      .starts_with("optional: the service's outbound traffic beyond the defaults.")
  );
  assert_eq!(
    defs["EgressRule"]["required"],
    serde_json::json!(["cidr"]),
    "only cidr is required"
  );
  assert_eq!(
    defs["Protocol"]["enum"],
    serde_json::json!(["TCP", "UDP"]),
    "{}",
    defs["Protocol"]
  );
}
