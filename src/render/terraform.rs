//! The Terraform target: `infra/`.
//!
//! One root module per platform, applied once per environment with that
//! environment's `environments/<env>.tfvars` and state (`<env>.s3.tfbackend`),
//! plus `infra/bootstrap/`, applied once per AWS account, which creates the
//! state buckets, the GitHub OIDC provider and each environment's Terraform
//! role: what `infra/` relies on and cannot create itself.
//!
//! Every per-blueprint decision is made here; the templates only lay the data
//! out. `terraform fmt` aligns the `=` of adjacent attributes, so lists whose
//! keys come from the blueprint are aligned here (see [`align`]).

use serde::Serialize;

use super::{Engine, Output};
use crate::blueprint::Platform;
use crate::blueprint::model::{CapacityType, Environment, NatGateways, NetworkPolicy, PolicySkip};
use crate::names;

/// `required_version` of the root modules.
pub const TERRAFORM_REQUIRED: &str = "~> 1.15";
/// The hashicorp/aws provider: the floor both modules below need.
pub const AWS_PROVIDER: &str = ">= 6.28, < 7.0";
pub const VPC_MODULE: &str = "terraform-aws-modules/vpc/aws";
pub const VPC_MODULE_VERSION: &str = "~> 6.6";
pub const EKS_MODULE: &str = "terraform-aws-modules/eks/aws";
pub const EKS_MODULE_VERSION: &str = "~> 21.19";
/// TFLint and its AWS ruleset.
pub const TFLINT_REQUIRED: &str = ">= 0.64";
pub const TFLINT_AWS_RULESET: &str = "0.48.0";
/// Days CloudWatch keeps the VPC flow logs and the EKS control plane logs.
const LOG_RETENTION_DAYS: u32 = 365;
/// The address the GitHub OIDC provider is registered under, and its audience.
const GITHUB_OIDC_URL: &str = "https://token.actions.githubusercontent.com";
const GITHUB_AUDIENCE: &str = "sts.amazonaws.com";
/// Longest session of a Terraform role: an apply that creates a cluster and a
/// database, or the infrastructure tests (apply, check, destroy), outlast the
/// one-hour default.
pub const TERRAFORM_ROLE_SESSION_SECONDS: u32 = 3 * 3600;
/// Why each Terraform role has AdministratorAccess (the inline skip of
/// CKV_AWS_274 in `bootstrap/`). A policy scoped to the services would still
/// have to create IAM roles and attach policies to them, which is a way to any
/// permission; the boundary is who can assume the role.
const TERRAFORM_ADMIN_REASON: &str = "Terraform manages IAM, EKS, RDS and KMS of this \
  environment, and a role that creates IAM roles can grant any permission anyway; only jobs in \
  the protected <env>-infra GitHub environment, which requires reviewers, can assume it";

/// The Terraform expression of the environment a configuration is applied
/// to; resource names are built from it with the shared name functions, so
/// a disposable copy (`-var environment=…`) gets names of its own.
const ENVIRONMENT_EXPR: &str = "${var.environment}";

/// A Checkov check skipped for the whole of `infra/`, and why.
struct Skip {
  id: &'static str,
  reason: &'static str,
}

/// Checks oi-gen itself cannot pass, each for a stated reason. Everything
/// else is passed by the Terraform it renders. (The state buckets of
/// `bootstrap/` carry their few skips inline, on the bucket resource.)
const CHECKOV_SKIPS: &[Skip] = &[
  Skip {
    id: "CKV_TF_1",
    reason: "registry modules are pinned by version constraint and .terraform.lock.hcl, \
             not by git commit",
  },
  Skip {
    id: "CKV_AWS_38",
    reason: "the EKS API is public for GitHub-hosted runners, limited to \
             cluster_endpoint_public_access_cidrs, and needs IAM plus an access entry",
  },
  Skip {
    id: "CKV_AWS_39",
    reason: "the EKS public endpoint is on for GitHub-hosted runners (an empty \
             cluster_endpoint_public_access_cidrs turns it off)",
  },
];

/// The per-environment skip when the database runs in one zone.
const SINGLE_AZ_SKIP: Skip = Skip {
  id: "CKV_AWS_157",
  reason: "the database runs in one zone in this environment (multiAz: false)",
};

#[derive(Serialize)]
struct Data {
  platform: String,
  region: String,
  environments: Vec<String>,
  versions: Versions,
  names: Names,
  repository: String,
  github_oidc_url: &'static str,
  github_audience: &'static str,
  log_retention_days: u32,
  /// Aligned lines of the `locals` block, built here.
  tags: String,
  ecr_repositories: String,
  azs: Vec<String>,
  vpc_cidr: String,
  public_subnets: Vec<String>,
  private_subnets: Vec<String>,
  database_subnets: Vec<String>,
  nat: Nat,
  kubernetes_version: String,
  node_groups: Vec<NodeGroup>,
  /// `configuration_values` of the vpc-cni add-on, as an HCL expression.
  vpc_cni_configuration: &'static str,
  vpc_cni_comment: &'static str,
  database: Option<Database>,
  external_secrets: bool,
  state_buckets: String,
  /// `bootstrap/`: the Terraform role of each environment, and the subject
  /// its `<env>-infra` GitHub environment presents.
  terraform_roles: String,
  infra_subjects: String,
  terraform_session_seconds: u32,
  terraform_admin_reason: &'static str,
}

#[derive(Serialize)]
struct Versions {
  terraform: &'static str,
  aws: &'static str,
  vpc: &'static str,
  vpc_source: &'static str,
  eks: &'static str,
  eks_source: &'static str,
  tflint: &'static str,
  tflint_aws: &'static str,
}

/// Names shared with the charts and workflows, as Terraform expressions of
/// `var.environment`.
#[derive(Serialize)]
struct Names {
  stack: String,
  cluster: String,
  deploy_role: String,
  database_instance: String,
  /// `<platform>/*`: every ECR repository of the platform, all environments.
  ecr_platform_prefix: String,
  eso_namespace: &'static str,
  eso_service_account: &'static str,
  /// `repo:<owner>/<name>:environment:<env>`, the subject a deploy job presents.
  github_subject: String,
  /// Secrets Manager names the External Secrets controller may read.
  secret_prefix: String,
}

#[derive(Serialize)]
struct Nat {
  enable: bool,
  single: bool,
  one_per_az: bool,
}

#[derive(Serialize)]
struct NodeGroup {
  name: String,
  instance_types: Vec<String>,
  ami_type: &'static str,
  capacity_type: &'static str,
  disk_size: u32,
}

#[derive(Serialize)]
struct Database {
  engine_version: String,
  family: String,
  storage: u32,
  max_storage: u32,
  backup_retention_days: u32,
  name: String,
}

/// One environment's `.tfvars`.
#[derive(Serialize)]
struct EnvData {
  name: String,
  region: String,
  state_bucket: String,
  state_key: &'static str,
  node_groups: String,
  database: Option<EnvDatabase>,
}

#[derive(Serialize)]
struct EnvDatabase {
  instance_class: String,
  multi_az: bool,
}

#[derive(Serialize)]
struct SkipData {
  id: String,
  reason: String,
}

#[derive(Serialize)]
struct PolicyData {
  skips: Vec<SkipData>,
}

/// State object key of every environment, inside the environment's bucket.
const STATE_KEY: &str = "infra/terraform.tfstate";

/// Templates of `infra/` rendered for every blueprint, by output name.
const ROOT_FILES: &[&str] = &[
  "versions.tf",
  "providers.tf",
  "variables.tf",
  "locals.tf",
  "kms.tf",
  "vpc.tf",
  "eks.tf",
  "iam.tf",
  "ecr.tf",
  "outputs.tf",
];

const BOOTSTRAP_FILES: &[&str] = &["versions.tf", "variables.tf", "main.tf", "outputs.tf"];

pub fn render(platform: &Platform, engine: &Engine, out: &mut Output) -> Result<(), tera::Error> {
  let data = Data::new(platform);
  for file in ROOT_FILES {
    let text = engine.render(&format!("infra/{file}.tera"), &data)?;
    out.managed(format!("infra/{file}"), text);
  }
  if data.database.is_some() {
    let text = engine.render("infra/rds.tf.tera", &data)?;
    out.managed("infra/rds.tf", text);
  }
  for file in BOOTSTRAP_FILES {
    let text = engine.render(&format!("infra/bootstrap/{file}.tera"), &data)?;
    out.managed(format!("infra/bootstrap/{file}"), text);
  }

  for environment in &platform.spec.environments {
    let env = EnvData::new(platform, environment);
    let name = &environment.name;
    let tfvars = engine.render("infra/environments/{environment}.tfvars.tera", &env)?;
    out.managed(format!("infra/environments/{name}.tfvars"), tfvars);
    let backend = engine.render("infra/environments/{environment}.s3.tfbackend.tera", &env)?;
    out.managed(format!("infra/environments/{name}.s3.tfbackend"), backend);
    let skips = environment_checkov_skips(platform, environment);
    if !skips.is_empty() {
      let text = engine.render(
        "infra/environments/{environment}.checkov.yaml.tera",
        &PolicyData { skips },
      )?;
      out.managed(format!("infra/environments/{name}.checkov.yaml"), text);
    }
  }

  let checkov = engine.render(
    "infra/.checkov.yaml.tera",
    &PolicyData {
      skips: checkov_skips(platform),
    },
  )?;
  out.managed("infra/.checkov.yaml", checkov);
  let tflint = engine.render(
    "infra/.tflint.hcl.tera",
    &serde_json::json!({
      "versions": data.versions,
      "skips": tflint_skips(platform),
    }),
  )?;
  out.managed("infra/.tflint.hcl", tflint);
  Ok(())
}

impl Data {
  fn new(platform: &Platform) -> Self {
    let name = platform.name();
    let symbolic = Environment {
      name: ENVIRONMENT_EXPR.to_string(),
      subdomain: None,
      approval: false,
      overrides: None,
    };
    let subnets = platform.subnets();
    let (public, private, database_subnets) = match &subnets {
      Some(plan) => (
        plan.public.iter().map(ToString::to_string).collect(),
        plan.private.iter().map(ToString::to_string).collect(),
        plan.database.iter().map(ToString::to_string).collect(),
      ),
      None => (Vec::new(), Vec::new(), Vec::new()),
    };
    let database = platform.spec.database.as_ref().map(|db| {
      let major = db.major_version();
      let family_major = major.split('.').next().unwrap_or(&major).to_string();
      Database {
        family: format!("postgres{family_major}"),
        engine_version: major,
        storage: db.storage_gb,
        max_storage: db.storage_gb.saturating_mul(5).max(100),
        backup_retention_days: db.backup_retention_days,
        name: db.name.clone(),
      }
    });
    let nat = platform.nat_gateways();
    let repository = platform.spec.delivery.github.repository.clone();
    let tags = align(
      &[
        ("Platform", quote(name)),
        ("Environment", "var.environment".into()),
        ("Repository", quote(&repository)),
        ("ManagedBy", quote("terraform")),
      ],
      4,
    );
    let ecr_repositories = align(
      &platform
        .spec
        .services
        .iter()
        .map(|s| {
          (
            s.name.as_str(),
            quote(&names::ecr_repository(platform, &symbolic, s)),
          )
        })
        .collect::<Vec<_>>(),
      4,
    );
    let per_environment = |value: &dyn Fn(&Environment) -> String| {
      align(
        &platform
          .spec
          .environments
          .iter()
          .map(|e| (e.name.as_str(), quote(&value(e))))
          .collect::<Vec<_>>(),
        4,
      )
    };
    let state_buckets = per_environment(&|e| names::state_bucket(platform, e));
    let terraform_roles = per_environment(&|e| names::terraform_role(platform, e));
    let infra_subjects = per_environment(&|e| {
      format!(
        "repo:{repository}:environment:{}",
        names::infra_environment(platform, e)
      )
    });
    let (vpc_cni_configuration, vpc_cni_comment) = match platform.network_policy() {
      // The VPC CNI enforces NetworkPolicy itself.
      NetworkPolicy::VpcCni => (
        r#"jsonencode({ enableNetworkPolicy = "true" })"#,
        "# NetworkPolicy is enforced by the VPC CNI (networkPolicy: vpc-cni).",
      ),
      // Calico enforces it: the VPC CNI's own engine stays off, and aws-node
      // annotates pod IPs for Calico (Tigera's EKS guide).
      NetworkPolicy::Calico => (
        r#"jsonencode({ env = { ANNOTATE_POD_IP = "true" } })"#,
        "# NetworkPolicy is enforced by Calico (networkPolicy: calico); the VPC\n      \
         # CNI's own policy engine stays off, and aws-node annotates pod IPs for it.",
      ),
    };
    Data {
      platform: name.to_string(),
      region: platform.region().trim().to_string(),
      environments: platform.environment_names(),
      versions: Versions {
        terraform: TERRAFORM_REQUIRED,
        aws: AWS_PROVIDER,
        vpc: VPC_MODULE_VERSION,
        vpc_source: VPC_MODULE,
        eks: EKS_MODULE_VERSION,
        eks_source: EKS_MODULE,
        tflint: TFLINT_REQUIRED,
        tflint_aws: TFLINT_AWS_RULESET,
      },
      names: Names {
        stack: names::stack(platform, &symbolic),
        cluster: names::cluster(platform, &symbolic),
        deploy_role: names::deploy_role(platform, &symbolic),
        database_instance: names::database_instance(platform, &symbolic),
        ecr_platform_prefix: format!("{name}/*"),
        eso_namespace: names::ESO_NAMESPACE,
        eso_service_account: names::ESO_SERVICE_ACCOUNT,
        github_subject: format!("repo:{repository}:environment:{ENVIRONMENT_EXPR}"),
        secret_prefix: format!("{name}/*"),
      },
      repository,
      github_oidc_url: GITHUB_OIDC_URL,
      github_audience: GITHUB_AUDIENCE,
      log_retention_days: LOG_RETENTION_DAYS,
      tags,
      ecr_repositories,
      azs: platform.zones(),
      vpc_cidr: platform.spec.network.cidr.clone(),
      public_subnets: public,
      private_subnets: private,
      database_subnets: if database.is_some() {
        database_subnets
      } else {
        Vec::new()
      },
      nat: Nat {
        enable: nat != NatGateways::None,
        single: nat == NatGateways::Single,
        one_per_az: nat == NatGateways::OnePerAz,
      },
      kubernetes_version: platform.kubernetes_version(),
      node_groups: platform
        .spec
        .cluster
        .node_groups
        .iter()
        .map(|g| NodeGroup {
          name: g.name.clone(),
          ami_type: ami_type(&g.instance_types),
          instance_types: g.instance_types.clone(),
          capacity_type: match g.capacity() {
            CapacityType::OnDemand => "ON_DEMAND",
            CapacityType::Spot => "SPOT",
          },
          disk_size: g.disk_size(),
        })
        .collect(),
      vpc_cni_configuration,
      vpc_cni_comment,
      database,
      external_secrets: platform
        .spec
        .cluster
        .addons
        .as_ref()
        .and_then(|a| a.external_secrets.as_ref())
        .is_some_and(|t| t.settings().is_some()),
      state_buckets,
      terraform_roles,
      infra_subjects,
      terraform_session_seconds: TERRAFORM_ROLE_SESSION_SECONDS,
      terraform_admin_reason: TERRAFORM_ADMIN_REASON,
    }
  }
}

impl EnvData {
  fn new(platform: &Platform, environment: &Environment) -> Self {
    let node_groups = platform
      .spec
      .cluster
      .node_groups
      .iter()
      .map(|g| {
        let (min, desired, max) = g.sizes_in(environment);
        (
          g.name.as_str(),
          format!("{{ min_size = {min}, desired_size = {desired}, max_size = {max} }}"),
        )
      })
      .collect::<Vec<_>>();
    EnvData {
      name: environment.name.clone(),
      region: platform.region().trim().to_string(),
      state_bucket: names::state_bucket(platform, environment),
      state_key: STATE_KEY,
      node_groups: align(&node_groups, 2),
      database: platform.spec.database.as_ref().map(|db| {
        let (instance_class, multi_az) = db.in_environment(environment);
        EnvDatabase {
          instance_class,
          multi_az,
        }
      }),
    }
  }
}

/// The EKS AMI for a node group's instance types: Graviton families (a `g`
/// right after the generation digit: `m7g`, `c7gn`, `t4g`) run the ARM image.
fn ami_type(instance_types: &[String]) -> &'static str {
  let graviton = instance_types.first().is_some_and(|t| {
    let family = t.split('.').next().unwrap_or_default();
    let after_digits = family
      .trim_start_matches(|c: char| c.is_ascii_lowercase())
      .trim_start_matches(|c: char| c.is_ascii_digit());
    family
      .chars()
      .next()
      .is_some_and(|c| c.is_ascii_lowercase())
      && family.chars().any(|c| c.is_ascii_digit())
      && after_digits.starts_with('g')
  });
  if graviton {
    "AL2023_ARM_64_STANDARD"
  } else {
    "AL2023_x86_64_STANDARD"
  }
}

/// `infra/.checkov.yaml`: the blueprint's skips, then oi-gen's own, each id once.
fn checkov_skips(platform: &Platform) -> Vec<SkipData> {
  let mut skips = blueprint_skips(platform.spec.compliance.as_ref().map(|c| &c.checkov_skips));
  for skip in CHECKOV_SKIPS {
    if !skips.iter().any(|s| s.id == skip.id) {
      skips.push(SkipData {
        id: skip.id.to_string(),
        reason: skip.reason.to_string(),
      });
    }
  }
  skips
}

/// Skips that hold in one environment only: a single-zone database.
fn environment_checkov_skips(platform: &Platform, environment: &Environment) -> Vec<SkipData> {
  let single_az = platform
    .spec
    .database
    .as_ref()
    .is_some_and(|db| !db.in_environment(environment).1);
  let mut skips = Vec::new();
  if single_az {
    skips.push(SkipData {
      id: SINGLE_AZ_SKIP.id.to_string(),
      reason: SINGLE_AZ_SKIP.reason.to_string(),
    });
  }
  skips
}

fn tflint_skips(platform: &Platform) -> Vec<SkipData> {
  blueprint_skips(platform.spec.compliance.as_ref().map(|c| &c.tflint_skips))
}

fn blueprint_skips(skips: Option<&Vec<PolicySkip>>) -> Vec<SkipData> {
  let mut out: Vec<SkipData> = Vec::new();
  for skip in skips.into_iter().flatten() {
    let id = skip.id.trim();
    if id.is_empty() || out.iter().any(|s| s.id == id) {
      continue;
    }
    out.push(SkipData {
      id: id.to_string(),
      reason: one_line(&skip.reason),
    });
  }
  out
}

/// A reason as one comment line.
fn one_line(text: &str) -> String {
  text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An HCL string literal. Blueprint values are validated names and ranges,
/// so only `"` and `\` need escaping; `${` is kept, it is how names refer to
/// `var.environment`.
fn quote(text: &str) -> String {
  format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Adjacent `key = value` lines, `=` aligned the way `terraform fmt` does,
/// each indented by `indent` spaces, without a final newline.
fn align<K: AsRef<str>>(entries: &[(K, String)], indent: usize) -> String {
  let keys: Vec<String> = entries.iter().map(|(k, _)| hcl_key(k.as_ref())).collect();
  let width = keys.iter().map(|k| k.chars().count()).max().unwrap_or(0);
  keys
    .iter()
    .zip(entries)
    .map(|(key, (_, value))| format!("{:indent$}{key:<width$} = {value}", ""))
    .collect::<Vec<_>>()
    .join("\n")
}

/// An object key: a bare identifier when HCL allows one, quoted otherwise.
fn hcl_key(key: &str) -> String {
  let identifier = key
    .chars()
    .next()
    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
    && key
      .chars()
      .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
  if identifier {
    key.to_string()
  } else {
    quote(key)
  }
}

#[cfg(test)]
mod tests {
  use std::collections::BTreeMap;

  use hcl::{Body, Expression, ObjectKey};
  use serde_json::Value as Json;

  use super::*;
  use crate::blueprint::{self, model::PolicySkip};

  fn builtin(name: &str) -> Platform {
    let builtin = crate::builtin::get(name).expect("built-in blueprint");
    blueprint::load(builtin.text.as_bytes())
      .expect("built-in blueprints are valid")
      .platform
  }

  fn render_infra(platform: &Platform) -> BTreeMap<String, String> {
    let engine = Engine::new().expect("templates parse");
    let mut out = Output::default();
    render(platform, &engine, &mut out).expect("infra renders");
    out
      .files
      .into_iter()
      .map(|(path, file)| (path, file.contents))
      .collect()
  }

  fn builtins() -> Vec<(Platform, BTreeMap<String, String>)> {
    crate::builtin::all()
      .into_iter()
      .map(|b| {
        let platform = builtin(b.name);
        let files = render_infra(&platform);
        (platform, files)
      })
      .collect()
  }

  fn parse(path: &str, text: &str) -> Body {
    hcl::parse(text).unwrap_or_else(|e| panic!("{path} does not parse with hcl-rs: {e}"))
  }

  /// The literal value of `key = "..."` (or a bare value) in an HCL file.
  fn attribute(text: &str, key: &str) -> String {
    let body = parse(key, text);
    let attr = body
      .attributes()
      .find(|a| a.key() == key)
      .unwrap_or_else(|| panic!("no attribute {key}"));
    match attr.expr() {
      Expression::String(s) => s.clone(),
      other => other.to_string(),
    }
  }

  /// A local value of locals.tf (string or template), with the environment
  /// filled in.
  fn local(files: &BTreeMap<String, String>, file: &str, key: &str, env: &str) -> String {
    let body = parse(file, &files[file]);
    for block in body.blocks().filter(|b| b.identifier() == "locals") {
      if let Some(attr) = block.body().attributes().find(|a| a.key() == key) {
        let text = match attr.expr() {
          Expression::String(s) => s.clone(),
          Expression::TemplateExpr(t) => t.to_string().trim_matches('"').to_string(),
          other => panic!("{key} is not a string: {other}"),
        };
        return text.replace(ENVIRONMENT_EXPR, env);
      }
    }
    panic!("no local {key} in {file}");
  }

  #[test]
  fn every_hcl_file_parses_with_hcl_rs() {
    for (_, files) in builtins() {
      let hcl_files: Vec<_> = files
        .iter()
        .filter(|(path, _)| {
          [".tf", ".tfvars", ".tfbackend", ".hcl"]
            .iter()
            .any(|ext| path.ends_with(ext))
        })
        .collect();
      assert!(hcl_files.len() >= 15);
      for (path, text) in hcl_files {
        parse(path, text);
      }
    }
  }

  #[test]
  fn names_match_the_shared_name_functions() {
    for (platform, files) in builtins() {
      for env in &platform.spec.environments {
        let e = &env.name;
        let locals = "infra/locals.tf";
        assert_eq!(
          local(&files, locals, "cluster_name", e),
          names::cluster(&platform, env)
        );
        assert_eq!(
          local(&files, locals, "deploy_role_name", e),
          names::deploy_role(&platform, env)
        );
        let backend = &files[&format!("infra/environments/{e}.s3.tfbackend")];
        assert_eq!(
          attribute(backend, "bucket"),
          names::state_bucket(&platform, env)
        );
        assert_eq!(attribute(backend, "use_lockfile"), "true");
        assert_eq!(attribute(backend, "encrypt"), "true");
        for service in &platform.spec.services {
          let repository = names::ecr_repository(&platform, env, service);
          let templated = repository.replace(&format!("/{e}/"), &format!("/{ENVIRONMENT_EXPR}/"));
          assert!(
            files["infra/locals.tf"].contains(&format!("\"{templated}\"")),
            "{repository}"
          );
        }
        if platform.spec.database.is_some() {
          assert_eq!(
            local(&files, "infra/rds.tf", "database_instance", e),
            names::database_instance(&platform, env)
          );
        }
        let bootstrap = &files["infra/bootstrap/main.tf"];
        assert!(bootstrap.contains(&format!("\"{}\"", names::state_bucket(&platform, env))));
      }
      let iam = &files["infra/iam.tf"];
      assert!(iam.contains(&format!("namespace       = \"{}\"", names::ESO_NAMESPACE)));
      assert!(iam.contains(&format!(
        "service_account = \"{}\"",
        names::ESO_SERVICE_ACCOUNT
      )));
    }
  }

  /// A map in a `locals` block of a file, as key → literal string.
  fn local_map(text: &str, key: &str) -> BTreeMap<String, String> {
    let body = parse(key, text);
    let attr = body
      .blocks()
      .filter(|b| b.identifier() == "locals")
      .find_map(|b| b.body().attributes().find(|a| a.key() == key).cloned())
      .unwrap_or_else(|| panic!("no local {key}"));
    let Expression::Object(object) = attr.expr() else {
      panic!("{key} is not a map");
    };
    object
      .iter()
      .map(|(k, v)| {
        let Expression::String(value) = v else {
          panic!("{key}.{k} is not a string");
        };
        (k.to_string(), value.clone())
      })
      .collect()
  }

  /// The resource or data block `<kind> "<type>" "<name>"` of a file.
  fn block<'a>(body: &'a Body, kind: &str, labels: [&str; 2]) -> &'a hcl::Block {
    body
      .blocks()
      .find(|b| {
        b.identifier() == kind
          && b
            .labels()
            .iter()
            .map(|l| l.as_str())
            .eq(labels.iter().copied())
      })
      .unwrap_or_else(|| panic!("no {kind} {labels:?}"))
  }

  #[test]
  fn terraform_roles_trust_only_the_infra_environments() {
    for (platform, files) in builtins() {
      let repository = &platform.spec.delivery.github.repository;
      let main = &files["infra/bootstrap/main.tf"];
      let roles = local_map(main, "terraform_roles");
      let subjects = local_map(main, "infra_subjects");
      assert_eq!(roles.len(), platform.spec.environments.len());
      for env in &platform.spec.environments {
        let e = &env.name;
        assert_eq!(roles[e], names::terraform_role(&platform, env));
        assert_eq!(
          roles[e],
          format!("{}-terraform", names::stack(&platform, env))
        );
        let infra = names::infra_environment(&platform, env);
        assert_eq!(infra, format!("{e}-infra"));
        assert_eq!(
          subjects[e],
          format!("repo:{repository}:environment:{infra}")
        );
        // Never the deploy jobs' subject.
        assert_ne!(subjects[e], format!("repo:{repository}:environment:{e}"));
      }

      let body = parse("infra/bootstrap/main.tf", main);
      let trust = block(
        &body,
        "data",
        ["aws_iam_policy_document", "terraform_trust"],
      );
      let statement = trust
        .body()
        .blocks()
        .find(|b| b.identifier() == "statement")
        .expect("one statement");
      let conditions: BTreeMap<String, (String, String)> = statement
        .body()
        .blocks()
        .filter(|b| b.identifier() == "condition")
        .map(|c| {
          let get = |key: &str| {
            c.body()
              .attributes()
              .find(|a| a.key() == key)
              .map(|a| a.expr().to_string())
              .unwrap_or_else(|| panic!("condition without {key}"))
          };
          (
            get("variable").trim_matches('"').to_string(),
            (get("test").trim_matches('"').to_string(), get("values")),
          )
        })
        .collect();
      let aud = &conditions["token.actions.githubusercontent.com:aud"];
      assert_eq!(aud.0, "StringEquals");
      assert!(
        aud.1.contains(&format!("\"{GITHUB_AUDIENCE}\"")),
        "{}",
        aud.1
      );
      let sub = &conditions["token.actions.githubusercontent.com:sub"];
      assert_eq!(sub.0, "StringEquals");
      assert!(
        sub.1.contains("local.infra_subjects[each.key]"),
        "{}",
        sub.1
      );
      assert_eq!(conditions.len(), 2);

      let role = block(&body, "resource", ["aws_iam_role", "terraform"]);
      let role = |key: &str| {
        role
          .body()
          .attributes()
          .find(|a| a.key() == key)
          .map(|a| a.expr().to_string())
          .unwrap_or_else(|| panic!("the role has no {key}"))
      };
      assert_eq!(role("name"), "local.terraform_roles[each.key]");
      assert_eq!(
        role("for_each"),
        "data.aws_iam_policy_document.terraform_trust"
      );
      assert_eq!(
        role("max_session_duration"),
        TERRAFORM_ROLE_SESSION_SECONDS.to_string()
      );
    }
  }

  /// The Terraform roles come from bootstrap/: infra/ is applied with them
  /// and cannot create them. Their AdministratorAccess carries its reasoned
  /// skip inline, on that one resource only.
  #[test]
  fn terraform_roles_live_in_bootstrap_with_their_one_reasoned_skip() {
    for (_, files) in builtins() {
      for (path, text) in &files {
        let in_bootstrap = path.starts_with("infra/bootstrap/");
        assert_eq!(
          text.contains("resource \"aws_iam_role\" \"terraform\""),
          in_bootstrap && path.ends_with("/main.tf"),
          "{path}"
        );
        assert!(
          in_bootstrap || !text.contains("AdministratorAccess"),
          "{path}"
        );
        assert!(!text.contains("CKV_AWS_274") || in_bootstrap, "{path}");
      }
      let main = &files["infra/bootstrap/main.tf"];
      assert_eq!(main.matches("AdministratorAccess").count(), 1);
      assert_eq!(main.matches("CKV_AWS_274").count(), 1);
      let attachment = main
        .split("resource \"aws_iam_role_policy_attachment\" \"terraform\" {\n")
        .nth(1)
        .expect("the attachment");
      let skip = attachment.lines().next().unwrap().trim();
      let reason = skip
        .strip_prefix("# checkov:skip=CKV_AWS_274:")
        .expect("the skip is the attachment's first line");
      for needed in [
        "IAM",
        "EKS",
        "RDS",
        "KMS",
        "<env>-infra",
        "requires reviewers",
      ] {
        assert!(reason.contains(needed), "{reason}");
      }
      assert!(attachment.contains("policy/AdministratorAccess\""));
      let outputs = &files["infra/bootstrap/outputs.tf"];
      assert!(outputs.contains("output \"terraform_role_arns\""));
    }
  }

  /// What the Terratest suite reads from infra/.
  #[test]
  fn infra_has_what_terratest_needs() {
    for (_, files) in builtins() {
      let variables = parse("infra/variables.tf", &files["infra/variables.tf"]);
      block_labelled(&variables, "variable", "environment");
      let outputs = parse("infra/outputs.tf", &files["infra/outputs.tf"]);
      for output in ["vpc_id", "cluster_name"] {
        block_labelled(&outputs, "output", output);
      }
    }
  }

  fn block_labelled<'a>(body: &'a Body, kind: &str, label: &str) -> &'a hcl::Block {
    body
      .blocks()
      .find(|b| b.identifier() == kind && b.labels().first().map(|l| l.as_str()) == Some(label))
      .unwrap_or_else(|| panic!("no {kind} {label}"))
  }

  #[test]
  fn environment_values_apply_the_overrides() {
    let platform = builtin("openinnovation");
    let files = render_infra(&platform);
    let staging = &files["infra/environments/staging.tfvars"];
    let production = &files["infra/environments/production.tfvars"];
    assert_eq!(attribute(staging, "environment"), "staging");
    assert_eq!(attribute(staging, "region"), "me-central-1");
    assert_eq!(
      attribute(staging, "database_instance_class"),
      "db.t4g.small"
    );
    assert_eq!(attribute(staging, "database_multi_az"), "false");
    assert_eq!(
      attribute(production, "database_instance_class"),
      "db.t4g.medium"
    );
    assert_eq!(attribute(production, "database_multi_az"), "true");
    assert!(staging.contains("general = { min_size = 1, desired_size = 2, max_size = 3 }"));
    assert!(production.contains("general = { min_size = 2, desired_size = 2, max_size = 5 }"));
  }

  #[test]
  fn a_single_zone_database_is_skipped_in_its_environment_only() {
    let files = render_infra(&builtin("openinnovation"));
    let staging = &files["infra/environments/staging.checkov.yaml"];
    assert!(staging.contains("- CKV_AWS_157"));
    assert!(!files.contains_key("infra/environments/production.checkov.yaml"));
    assert!(!files["infra/.checkov.yaml"].contains("CKV_AWS_157"));
  }

  #[test]
  fn no_database_means_no_database_terraform() {
    let platform = builtin("acme-shop");
    assert!(platform.spec.database.is_none());
    let files = render_infra(&platform);
    assert!(!files.contains_key("infra/rds.tf"));
    for (path, text) in &files {
      assert!(!text.contains("aws_db_instance"), "{path}");
      assert!(!text.contains("database_"), "{path}");
      assert!(!path.ends_with(".checkov.yaml") || path == "infra/.checkov.yaml");
    }
  }

  #[test]
  fn network_policy_engines_are_never_both_on() {
    let calico = render_infra(&builtin("openinnovation"));
    let vpc_cni = render_infra(&builtin("acme-shop"));
    assert!(!calico["infra/eks.tf"].contains("enableNetworkPolicy"));
    assert!(calico["infra/eks.tf"].contains("ANNOTATE_POD_IP"));
    assert!(vpc_cni["infra/eks.tf"].contains(r#"enableNetworkPolicy = "true""#));
    for files in [&calico, &vpc_cni] {
      assert!(files["infra/eks.tf"].contains("eks-pod-identity-agent"));
      assert!(
        files["infra/eks.tf"].contains(r#"authentication_mode                      = "API""#)
      );
    }
  }

  #[test]
  fn every_checkov_skip_has_a_reason() {
    let mut platform = builtin("openinnovation");
    platform
      .spec
      .compliance
      .get_or_insert_with(Default::default)
      .checkov_skips
      .push(PolicySkip {
        id: "CKV_AWS_999".into(),
        reason: "a reason\n  over two lines".into(),
      });
    let files = render_infra(&platform);
    for (path, text) in files.iter().filter(|(p, _)| p.ends_with(".checkov.yaml")) {
      let lines: Vec<&str> = text
        .lines()
        .skip_while(|line| *line != "skip-check:")
        .collect();
      let mut ids = 0;
      for (i, line) in lines.iter().enumerate() {
        if let Some(id) = line.trim().strip_prefix("- ") {
          ids += 1;
          let reason = lines[i - 1].trim();
          assert!(
            reason.starts_with("# ") && reason.len() > 10,
            "{path}: {id} has no reason"
          );
        }
      }
      assert!(ids > 0, "{path}");
      let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).expect("valid YAML");
      assert!(yaml["skip-check"].is_sequence(), "{path}");
    }
    let base = &files["infra/.checkov.yaml"];
    assert!(base.contains("  # a reason over two lines\n  - CKV_AWS_999\n"));
    assert!(base.contains("  - CKV_TF_1\n"));
    // The blueprint's own skip is listed once.
    assert_eq!(base.matches("- CKV_AWS_144").count(), 1);
  }

  #[test]
  fn tflint_skips_become_disabled_rules() {
    let mut platform = builtin("acme-shop");
    platform
      .spec
      .compliance
      .get_or_insert_with(Default::default)
      .tflint_skips
      .push(PolicySkip {
        id: "aws_instance_invalid_type".into(),
        reason: "new instance types".into(),
      });
    let files = render_infra(&platform);
    let tflint = &files["infra/.tflint.hcl"];
    assert!(tflint.contains(
      "# new instance types\nrule \"aws_instance_invalid_type\" {\n  enabled = false\n}\n"
    ));
    assert!(tflint.contains(&format!("version = \"{TFLINT_AWS_RULESET}\"")));
    parse("infra/.tflint.hcl", tflint);
  }

  #[test]
  fn nat_gateways_follow_the_blueprint() {
    let mut platform = builtin("acme-shop");
    let vpc = &render_infra(&platform)["infra/vpc.tf"];
    assert!(vpc.contains("  single_nat_gateway     = true\n"));
    platform.spec.network.nat_gateways = Some(NatGateways::None);
    let vpc = &render_infra(&platform)["infra/vpc.tf"];
    assert!(vpc.contains("  enable_nat_gateway     = false\n"));
    assert!(vpc.contains("  one_nat_gateway_per_az = false\n"));
  }

  #[test]
  fn graviton_node_groups_run_the_arm_image() {
    assert_eq!(ami_type(&["m7g.large".into()]), "AL2023_ARM_64_STANDARD");
    assert_eq!(ami_type(&["c7gn.xlarge".into()]), "AL2023_ARM_64_STANDARD");
    assert_eq!(ami_type(&["t4g.medium".into()]), "AL2023_ARM_64_STANDARD");
    assert_eq!(ami_type(&["m6i.large".into()]), "AL2023_x86_64_STANDARD");
    assert_eq!(ami_type(&["g5.xlarge".into()]), "AL2023_x86_64_STANDARD");
    assert_eq!(ami_type(&[]), "AL2023_x86_64_STANDARD");
  }

  #[test]
  fn aligned_lines_look_like_terraform_fmt() {
    let lines = align(
      &[
        ("a", "1".to_string()),
        ("long-key", "2".into()),
        ("x.y", "3".into()),
      ],
      2,
    );
    assert_eq!(lines, "  a        = 1\n  long-key = 2\n  \"x.y\"    = 3");
  }

  /// Every module argument, and every literal key inside an object-typed
  /// input, is an input of the pinned release (the lists used by the
  /// conformance check).
  #[test]
  fn module_arguments_are_inputs_of_the_pinned_releases() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
      .join("scripts/conformance/terraform-modules");
    for (_, files) in builtins() {
      for (path, text) in files.iter().filter(|(p, _)| p.ends_with(".tf")) {
        for block in parse(path, text)
          .blocks()
          .filter(|b| b.identifier() == "module")
        {
          let attr = |key: &str| {
            block
              .body()
              .attributes()
              .find(|a| a.key() == key)
              .map(|a| a.expr().to_string().trim_matches('"').to_string())
              .expect("source and version")
          };
          let source = attr("source").replace('/', "__");
          let floor = attr("version").trim_start_matches("~>").trim().to_string() + ".0";
          let file = data.join(&source).join(format!("{floor}.json"));
          let json: Json = serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
          let inputs = &json["modules"][""]["variables"];
          for attr in block.body().attributes() {
            let key = attr.key();
            if ["source", "version"].contains(&key) {
              continue;
            }
            let input = &inputs[key];
            assert!(
              input.is_object(),
              "{path}: {key} is not an input of {source}"
            );
            check_object_keys(attr.expr(), &input["type"], &format!("{path}: {key}"));
          }
        }
      }
    }
  }

  fn check_object_keys(expr: &Expression, kind: &Json, at: &str) {
    let Expression::Object(object) = expr else {
      return;
    };
    if let Some(item) = kind.get("map") {
      for (key, value) in object {
        check_object_keys(value, item, &format!("{at}.{key}"));
      }
    } else if let Some(attributes) = kind.get("object") {
      for (key, value) in object {
        let name = match key {
          ObjectKey::Identifier(id) => id.to_string(),
          ObjectKey::Expression(Expression::String(s)) => s.clone(),
          ObjectKey::Expression(other) => other.to_string(),
          _ => key.to_string(),
        };
        let attribute = &attributes[&name];
        assert!(attribute.is_object(), "{at}: {name} is not an attribute");
        check_object_keys(value, &attribute["type"], &format!("{at}.{name}"));
      }
    }
  }
}
