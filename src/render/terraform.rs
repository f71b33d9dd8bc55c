//! The Terraform target: `infra/`.
//!
//! One root module per platform, applied once per environment with that
//! environment's `environments/<env>.tfvars` and state (`<env>.s3.tfbackend`),
//! plus `infra/bootstrap/`, applied once per AWS account, which creates the
//! state buckets and the GitHub OIDC provider that `infra/` relies on.
//!
//! Every per-blueprint decision is made here; the templates only lay the data
//! out. `terraform fmt` aligns the `=` of adjacent attributes, so lists whose
//! keys come from the blueprint are aligned here (see [`align`]).

use serde::Serialize;

use super::{Engine, Output, names};
use crate::blueprint::Platform;
use crate::blueprint::model::{CapacityType, Environment, NatGateways, NetworkPolicy, PolicySkip};

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
  vpc_cni_configuration: Option<String>,
  vpc_cni_comment: &'static str,
  database: Option<Database>,
  external_secrets: bool,
  state_buckets: String,
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
    let text = engine.render(&format!("terraform/{file}.tera"), &data)?;
    out.managed(format!("infra/{file}"), text);
  }
  if data.database.is_some() {
    let text = engine.render("terraform/rds.tf.tera", &data)?;
    out.managed("infra/rds.tf", text);
  }
  for file in BOOTSTRAP_FILES {
    let text = engine.render(&format!("terraform/bootstrap/{file}.tera"), &data)?;
    out.managed(format!("infra/bootstrap/{file}"), text);
  }

  for environment in &platform.spec.environments {
    let env = EnvData::new(platform, environment);
    let name = &environment.name;
    let tfvars = engine.render("terraform/environment.tfvars.tera", &env)?;
    out.managed(format!("infra/environments/{name}.tfvars"), tfvars);
    let backend = engine.render("terraform/environment.s3.tfbackend.tera", &env)?;
    out.managed(format!("infra/environments/{name}.s3.tfbackend"), backend);
    let skips = environment_checkov_skips(platform, environment);
    if !skips.is_empty() {
      let text = engine.render(
        "terraform/environment.checkov.yaml.tera",
        &PolicyData { skips },
      )?;
      out.managed(format!("infra/environments/{name}.checkov.yaml"), text);
    }
  }

  let checkov = engine.render(
    "terraform/checkov.yaml.tera",
    &PolicyData {
      skips: checkov_skips(platform),
    },
  )?;
  out.managed("infra/.checkov.yaml", checkov);
  let tflint = engine.render(
    "terraform/tflint.hcl.tera",
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
    let state_buckets = align(
      &platform
        .spec
        .environments
        .iter()
        .map(|e| (e.name.as_str(), quote(&names::state_bucket(platform, e))))
        .collect::<Vec<_>>(),
      4,
    );
    let (vpc_cni_configuration, vpc_cni_comment) = match platform.network_policy() {
      // The VPC CNI enforces NetworkPolicy itself.
      NetworkPolicy::VpcCni => (
        Some(r#"jsonencode({ enableNetworkPolicy = "true" })"#.to_string()),
        "# NetworkPolicy is enforced by the VPC CNI (networkPolicy: vpc-cni).",
      ),
      // Calico enforces it: the VPC CNI's own engine stays off, and aws-node
      // annotates pod IPs for Calico (Tigera's EKS guide).
      NetworkPolicy::Calico => (
        Some(r#"jsonencode({ env = { ANNOTATE_POD_IP = "true" } })"#.to_string()),
        "# NetworkPolicy is enforced by Calico (networkPolicy: calico); the VPC\n      \
         # CNI's own policy engine stays off, and aws-node annotates pod IPs for it.",
      ),
    };
    Data {
      platform: name.to_string(),
      region: platform.region().trim().to_string(),
      environments: platform
        .spec
        .environments
        .iter()
        .map(|e| e.name.clone())
        .collect(),
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
