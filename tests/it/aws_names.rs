//! Every AWS name the Terraform creates stays within its documented limit
//! when the blueprint's names are as long as validation allows: the
//! `<platform>-<environment>` stack of 29 characters, 40-character services,
//! 22-character node groups and `secret:` names up to Secrets Manager's
//! 512-character total. Names are read from the rendered HCL, with the
//! environment and the locals filled in, so a template that adds a longer
//! suffix fails here.

use std::collections::BTreeMap;

use hcl::{Body, Expression};
use oi_gen::blueprint;
use oi_gen::render::{self, Engine};

const PLATFORM: &str = "longname";
const LONG_ENV: &str = "preproduction-eu-one"; // 20: the stack is 29

fn blueprint_at_the_limits() -> String {
  let service = format!("s{}", "x".repeat(39));
  let group = format!("g{}", "y".repeat(21));
  let secret = format!("{PLATFORM}/{}", "k".repeat(480));
  format!(
    "apiVersion: oi-gen.dev/v1alpha1
kind: Platform
metadata:
  name: {PLATFORM}
spec:
  domain: long.example.net
  aws:
    region: ap-southeast-1
  network:
    cidr: 10.70.0.0/16
  cluster:
    kubernetesVersion: \"1.35\"
    nodeGroups:
      - name: {group}
        instanceTypes: [m7i.large]
        minSize: 2
        maxSize: 4
    addons:
      nginx: gateway
      certManager:
        acmeEmail: ops@long.example.net
      externalSecrets: true
      monitoring: true
  database:
    engine: postgres
    version: \"17\"
    instanceClass: db.t4g.medium
    storageGb: 20
    multiAz: false
    backupRetentionDays: 7
    name: app
  services:
    - name: {service}
      port: 8080
      replicas: 1
      ingress:
        host: api
      secretEnv:
        DATABASE_URL: {{database: url}}
        TOKEN: {{secret: {secret}, property: token}}
      runsMigrations: true
  environments:
    - name: {LONG_ENV}
      subdomain: pre
    - name: production
  delivery:
    github:
      repository: long/platform
      branch: main
"
  )
}

/// The limit of each named attribute, by resource type.
const LIMITS: &[(&str, &str, usize)] = &[
  ("aws_iam_role", "name", 64),
  ("aws_iam_role", "name_prefix", 38),
  ("aws_iam_policy", "name", 128),
  ("aws_iam_role_policy", "name", 128),
  ("aws_db_instance", "identifier", 63),
  ("aws_db_parameter_group", "name_prefix", 229),
  ("aws_db_subnet_group", "name", 255),
  ("aws_security_group", "name", 255),
  ("aws_s3_bucket", "bucket", 63),
  ("aws_kms_alias", "name", 256),
  ("aws_cloudwatch_log_group", "name", 512),
  ("aws_secretsmanager_secret", "name", 512),
  ("aws_ecr_repository", "name", 256),
];

/// A string attribute as its template text (`${...}` kept).
fn template(expr: &Expression) -> Option<String> {
  match expr {
    Expression::String(s) => Some(s.clone()),
    Expression::TemplateExpr(t) => Some(t.to_string()),
    _ => None,
  }
}

/// Fills in `${var.environment}` and the `${local.x}` of `locals`, until
/// nothing more changes.
fn fill(text: &str, environment: &str, locals: &BTreeMap<String, String>) -> String {
  let mut out = text.replace("${var.environment}", environment);
  for _ in 0..5 {
    let before = out.clone();
    for (name, value) in locals {
      out = out.replace(
        &format!("${{local.{name}}}"),
        &value.replace("${var.environment}", environment),
      );
    }
    if out == before {
      break;
    }
  }
  out
}

/// A name the rendered Terraform sets: where, the resource and attribute,
/// the environment, the name with the environment and locals filled in,
/// and its limit.
struct Found {
  path: String,
  kind: String,
  key: String,
  environment: String,
  name: String,
  limit: usize,
}

/// Every name of `LIMITS` the Terraform of `text` sets, in each of its
/// environments.
fn names_in_the_terraform(text: &str) -> (Vec<Found>, Vec<String>) {
  let loaded = blueprint::load(text.as_bytes()).expect("valid at the limits");
  let environments: Vec<String> = loaded
    .resolved
    .environments
    .iter()
    .map(|env| env.name.clone())
    .collect();
  let output = render::render(&loaded.resolved, &Engine::new().unwrap()).unwrap();
  let bodies: Vec<(String, Body)> = output
    .files
    .iter()
    .filter(|(path, _)| path.starts_with("infra/") && path.ends_with(".tf"))
    .map(|(path, file)| (path.clone(), hcl::parse(&file.contents).unwrap()))
    .collect();
  let mut locals = BTreeMap::new();
  for (_, body) in &bodies {
    for block in body.blocks().filter(|b| b.identifier() == "locals") {
      for attribute in block.body().attributes() {
        if let Some(text) = template(attribute.expr()) {
          locals.insert(attribute.key().to_string(), text);
        }
      }
    }
  }
  let mut found = Vec::new();
  let mut unresolved = Vec::new();
  for (path, body) in &bodies {
    for block in body.blocks().filter(|b| b.identifier() == "resource") {
      let kind = block.labels()[0].as_str();
      for &(_, key, limit) in LIMITS.iter().filter(|(k, _, _)| *k == kind) {
        let Some(text) = block
          .body()
          .attributes()
          .find(|a| a.key() == key)
          .and_then(|a| template(a.expr()))
        else {
          continue;
        };
        for environment in &environments {
          let name = fill(&text, environment, &locals);
          if name.contains("${") {
            unresolved.push(format!("{path}: {kind}.{key} = {name}"));
            continue;
          }
          found.push(Found {
            path: path.clone(),
            kind: kind.to_string(),
            key: key.to_string(),
            environment: environment.clone(),
            name,
            limit,
          });
        }
      }
    }
  }
  (found, unresolved)
}

#[test]
fn every_aws_name_fits_its_limit_at_the_longest_blueprint_names() {
  let (found, unresolved) = names_in_the_terraform(&blueprint_at_the_limits());
  for name in &found {
    assert!(
      name.name.len() <= name.limit,
      "{}: {} {} `{}` is {} characters; AWS allows {}",
      name.path,
      name.kind,
      name.key,
      name.name,
      name.name.len(),
      name.limit
    );
  }
  // The test reads real names, not nothing.
  assert!(
    found.len() >= 20,
    "only {} names checked; unresolved: {unresolved:#?}",
    found.len()
  );
}

/// The table of AWS names in the resolved model, which validation checks,
/// holds every name the rendered Terraform sets (but the fixed names of
/// inline policies, which no blueprint field makes), with the same limit,
/// for the built-in blueprints and the one at the limits.
#[test]
fn the_table_of_aws_names_holds_every_name_the_terraform_sets() {
  let mut texts = vec![blueprint_at_the_limits()];
  texts.extend(oi_gen::builtin::all().iter().map(|b| b.text.to_string()));
  let mut compared = 0;
  for text in &texts {
    let loaded = blueprint::load(text.as_bytes()).expect("valid");
    let table = &loaded.resolved.aws_names;
    let (found, _) = names_in_the_terraform(text);
    for name in found.iter().filter(|n| n.kind != "aws_iam_role_policy") {
      let entry = table
        .iter()
        .find(|entry| entry.environment == name.environment && entry.name == name.name);
      let Some(entry) = entry else {
        panic!(
          "{}: {}.{} `{}` ({}) is not in the table of AWS names",
          name.path, name.kind, name.key, name.name, name.environment
        );
      };
      assert_eq!(
        entry.kind.limit(),
        name.limit,
        "{}: the table's limit of `{}`",
        name.path,
        name.name
      );
      assert!(!entry.fields.is_empty(), "`{}` names its fields", name.name);
      compared += 1;
    }
  }
  assert!(compared >= 40, "only {compared} names compared");
}

/// `spec.stateBuckets`: at the longest prefix validation allows, the longest
/// state bucket name (longest stack, an account id) is S3's 63 characters,
/// and it is what the backend file and the bootstrap name; one character more
/// is refused at the prefix, the field that makes it too long.
#[test]
fn the_state_bucket_name_fits_s3_at_the_longest_prefix() {
  let with = |prefix: &str| {
    blueprint_at_the_limits()
      .replace(
        &format!("    - name: {LONG_ENV}\n      subdomain: pre\n    - name: production\n"),
        &format!(
          "    - name: {LONG_ENV}\n      subdomain: pre\n      account: \"123456789012\"\n    - name: production\n      account: \"210987654321\"\n"
        ),
      )
      .replace(
        "  domain: long.example.net\n",
        &format!("  domain: long.example.net\n  stateBuckets:\n    prefix: {prefix}\n    account: true\n"),
      )
  };
  // longname-preproduction-eu-one (29) + -123456789012 (13) + -tfstate (8) = 50
  let longest = format!("p{}", "q".repeat(11));
  let loaded = blueprint::load(with(&longest).as_bytes()).expect("valid at the limit");
  let output = render::render(&loaded.resolved, &Engine::new().unwrap()).unwrap();
  let bucket = format!("{longest}-{PLATFORM}-{LONG_ENV}-123456789012-tfstate");
  assert_eq!(bucket.len(), 63);
  let backend = &output.files[&format!("infra/environments/{LONG_ENV}.s3.tfbackend")].contents;
  assert!(
    backend.contains(&format!("bucket       = \"{bucket}\"")),
    "{backend}"
  );
  let bootstrap = &output.files["infra/bootstrap/main.tf"].contents;
  assert!(bootstrap.contains(&format!("\"{bucket}\"")), "{bootstrap}");

  let errors = blueprint::load(with(&format!("{longest}x")).as_bytes()).expect_err("64 characters");
  let problems: Vec<String> = errors
    .iter()
    .filter(|d| d.is_error())
    .map(|d| format!("{}: {}", d.path, d.message))
    .collect();
  assert_eq!(
    problems,
    vec![format!(
      "spec.stateBuckets.prefix: the state bucket of `{LONG_ENV}`, `{longest}x-{PLATFORM}-{LONG_ENV}-123456789012-tfstate`, is 64 characters; S3 allows 63 for a bucket name"
    )]
  );
}

/// EKS refuses cluster subnets in three zone IDs, and which zone IDs the
/// blueprint's zone names stand for is known only in the account: every
/// built-in's `infra/eks.tf` reads the zones of `local.azs` and stops the
/// plan on any of the three, before the VPC is created.
#[test]
fn the_plan_refuses_zones_whose_ids_eks_does_not_support() {
  for builtin in oi_gen::builtin::all() {
    let loaded = blueprint::load(builtin.text.as_bytes()).expect("valid");
    let rendered = render::render(&loaded.resolved, &Engine::new().unwrap()).unwrap();
    let eks = &rendered.files.get("infra/eks.tf").expect("eks.tf").contents;
    let body: Body = hcl::parse(eks).unwrap();
    let zones = body
      .blocks()
      .find(|b| {
        b.identifier() == "data"
          && b
            .labels()
            .iter()
            .map(hcl::BlockLabel::as_str)
            .collect::<Vec<_>>()
            == ["aws_availability_zones", "cluster"]
      })
      .unwrap_or_else(|| panic!("{}: no zone lookup in infra/eks.tf", builtin.name));
    let text = hcl::to_string(&zones.body).unwrap();
    assert!(text.contains("local.azs"), "{}: {text}", builtin.name);
    let condition = zones
      .body
      .blocks()
      .find(|b| b.identifier() == "lifecycle")
      .and_then(|l| l.body.blocks().find(|b| b.identifier() == "postcondition"))
      .and_then(|p| p.body.attributes().find(|a| a.key() == "condition"))
      .map(|a| a.expr().to_string())
      .unwrap_or_else(|| panic!("{}: no postcondition: {text}", builtin.name));
    for id in ["use1-az3", "usw1-az2", "cac1-az3"] {
      assert!(
        condition.contains(&format!("\"{id}\"")),
        "{}: {condition}",
        builtin.name
      );
    }
    assert!(condition.contains("self.zone_ids"), "{condition}");
  }
}
