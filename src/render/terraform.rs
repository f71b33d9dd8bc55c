//! The Terraform target: `infra/`.
//!
//! One root module per platform, applied once per environment with that
//! environment's `environments/<env>.tfvars` and state (`<env>.s3.tfbackend`),
//! plus `infra/bootstrap/`, applied once per AWS account, which creates the
//! state buckets, the GitHub OIDC provider and each environment's Terraform
//! role: what `infra/` relies on and cannot create itself.
//!
//! The values come from the resolved blueprint; the choices left here are
//! Terraform's own (module versions, the VPC CNI configuration, the Checkov
//! skips). The templates lay the data out, and write HCL with the filters of
//! `render::hcl`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::charts::versions::{
  AWS_LOAD_BALANCER_CONTROLLER, AWS_LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT, AddonChart,
  CERT_MANAGER, CERT_MANAGER_SERVICE_ACCOUNT, EXTERNAL_DNS, EXTERNAL_DNS_SERVICE_ACCOUNT,
  KARPENTER, KARPENTER_SERVICE_ACCOUNT, POLICY_CONTROLLER, POLICY_CONTROLLER_SERVICE_ACCOUNT,
};
use super::engine::output_path;
use super::{Engine, Output};
use crate::blueprint::Resolved;
use crate::blueprint::model::{
  Autoscaler, CapacityType, Environment, NatGateways, NetworkPolicy, PolicySkip, ZoneSource,
};
use crate::blueprint::resolved::{EnvironmentNames, ResolvedEnvironment, Sizes};
use crate::blueprint::validate::KARPENTER_SYSTEM_GROUP;
use crate::names;

/// The registry modules, as the templates source them; their versions (and
/// the providers' and Terraform's) are components of the version table.
pub(crate) const VPC_MODULE: &str = "vpc";
pub(crate) const EKS_MODULE: &str = "eks";
/// Release tags as the environment deployment policies match them (GitHub's
/// fnmatch patterns): the vX.Y.Z tags the release workflow starts on.
pub(crate) const RELEASE_TAG_PATTERN: &str = "v*.*.*";
/// Days CloudWatch keeps the VPC flow logs, the EKS control plane logs and
/// the database's exported logs.
const LOG_RETENTION_DAYS: u32 = 365;
/// The address the GitHub OIDC provider is registered under, and its audience.
const GITHUB_OIDC_URL: &str = "https://token.actions.githubusercontent.com";
const GITHUB_AUDIENCE: &str = "sts.amazonaws.com";
/// Longest session of a Terraform role: an apply that creates a cluster and a
/// database, or the infrastructure tests (apply, check, destroy), outlast the
/// one-hour default.
pub(crate) const TERRAFORM_ROLE_SESSION_SECONDS: u32 = 3 * 3600;
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

/// State object key of every environment, inside the environment's bucket.
const STATE_KEY: &str = "infra/terraform.tfstate";

/// When a template is rendered.
#[derive(Clone, Copy)]
enum When {
  Always,
  /// The blueprint has a database.
  Database,
  /// The environment has Checkov skips of its own.
  EnvironmentSkips,
  /// External Secrets reads Secrets Manager.
  ExternalSecrets,
  /// `autoscaler: karpenter`.
  Karpenter,
  /// A service lists AWS resources (spec.services[].aws).
  ServiceAccess,
  /// Not `compute: auto-mode`: the cluster runs its own add-ons.
  NodeGroups,
  /// `spec.delivery.previews` is on.
  Previews,
  /// `spec.delivery.argocd.managed`: the EKS Argo CD capability.
  ManagedArgoCd,
}

/// Every template of `infra/`, by its path under `templates/`: the output
/// path is the same without `.tera` (see [`output_path`]). A template with
/// `{environment}` in its name is rendered once per environment.
const TEMPLATES: &[(&str, When)] = &[
  ("infra/versions.tf.tera", When::Always),
  ("infra/providers.tf.tera", When::Always),
  ("infra/variables.tf.tera", When::Always),
  ("infra/locals.tf.tera", When::Always),
  ("infra/kms.tf.tera", When::Always),
  ("infra/vpc.tf.tera", When::Always),
  ("infra/eks.tf.tera", When::Always),
  ("infra/storage.tf.tera", When::Always),
  ("infra/iam.tf.tera", When::Always),
  ("infra/karpenter.tf.tera", When::Karpenter),
  ("infra/ecr.tf.tera", When::Always),
  ("infra/rds.tf.tera", When::Database),
  ("infra/dns.tf.tera", When::Always),
  ("infra/load-balancer.tf.tera", When::NodeGroups),
  ("infra/admission.tf.tera", When::Always),
  ("infra/argocd.tf.tera", When::ManagedArgoCd),
  // The AWS Load Balancer Controller's IAM policy: upstream's
  // `docs/install/iam_policy.json` at the pinned release, unchanged.
  (
    "infra/policies/aws-load-balancer-controller.json.tera",
    When::NodeGroups,
  ),
  ("infra/outputs.tf.tera", When::Always),
  ("infra/secrets.tf.tera", When::ExternalSecrets),
  ("infra/service-access.tf.tera", When::ServiceAccess),
  ("infra/previews.tf.tera", When::Previews),
  ("infra/bootstrap/versions.tf.tera", When::Always),
  ("infra/bootstrap/variables.tf.tera", When::Always),
  ("infra/bootstrap/main.tf.tera", When::Always),
  ("infra/bootstrap/outputs.tf.tera", When::Always),
  ("infra/github/versions.tf.tera", When::Always),
  ("infra/github/variables.tf.tera", When::Always),
  ("infra/github/main.tf.tera", When::Always),
  ("infra/.checkov.yaml.tera", When::Always),
  ("infra/.tflint.hcl.tera", When::Always),
  ("infra/environments/{environment}.tfvars.tera", When::Always),
  (
    "infra/environments/{environment}.s3.tfbackend.tera",
    When::Always,
  ),
  (
    "infra/environments/{environment}.checkov.yaml.tera",
    When::EnvironmentSkips,
  ),
  // Native Terraform tests: each environment planned with the AWS provider
  // mocked (`terraform test` in infra/, no credentials).
  ("infra/tests/{environment}.tftest.hcl.tera", When::Always),
];

/// The context of every template.
#[derive(Serialize)]
struct TerraformData {
  platform: String,
  region: String,
  environments: Vec<String>,
  versions: Versions,
  names: Names,
  repository: String,
  github_oidc_url: &'static str,
  github_audience: &'static str,
  log_retention_days: u32,
  /// Service → its ECR repository in the environment applied to.
  ecr_repositories: Vec<(String, String)>,
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
  /// `networkPolicy: calico`: the node security group lets the control plane
  /// reach the Calico API server.
  calico: bool,
  /// With `natGateways: none`: the AWS services the nodes and pods reach
  /// through interface endpoints (S3 has a gateway endpoint).
  vpc_interface_endpoints: &'static [&'static str],
  database: Option<Database>,
  external_secrets: bool,
  /// `spec.dns.zone: create`: each environment creates its hosted zone;
  /// otherwise it looks up the existing one.
  dns_create: bool,
  /// cert-manager is on: its DNS-01 solver gets a role for the zone.
  cert_manager: bool,
  /// The service accounts of the add-ons that get an IAM role through EKS
  /// Pod Identity, as their values files name them.
  external_dns: PodIdentity,
  cert_manager_identity: PodIdentity,
  load_balancer_controller: PodIdentity,
  policy_controller: PodIdentity,
  /// The Secrets Manager secrets of the environment applied to (names as
  /// Terraform expressions).
  secrets: Secrets,
  /// `bootstrap/`, by environment: its state bucket, its Terraform role,
  /// and the subject its `<env>-infra` GitHub environment presents.
  state_buckets: Vec<(String, String)>,
  terraform_roles: Vec<(String, String)>,
  infra_subjects: Vec<(String, String)>,
  terraform_session_seconds: u32,
  terraform_admin_reason: &'static str,
  /// `.checkov.yaml` and `.tflint.hcl`.
  checkov_skips: Vec<SkipData>,
  tflint_skips: Vec<SkipData>,
  /// The blueprint names each environment's AWS account: environment →
  /// account, in promotion order (empty when it names none).
  environment_accounts: Vec<(String, String)>,
  /// The service whose migrations image has a repository of its own.
  migrations_owner: Option<String>,
  /// `autoscaler: karpenter`: the names `karpenter.tf` gives its roles and
  /// queue (the controller's values and the EC2NodeClasses name them too).
  karpenter: Option<KarpenterData>,
  /// The services with AWS access (spec.services[].aws): each gets a role.
  service_roles: Vec<ServiceRole>,
  /// `infra/github/`: the repository's GitHub environments.
  github: GitHubData,
  /// The branch that is delivered and applied.
  branch: String,
  /// `bootstrap/`, by environment: the read-only role of the pull request
  /// plans; and the subject those jobs present.
  terraform_plan_roles: Vec<(String, String)>,
  pull_request_subject: String,
  /// The state object's key in each environment's bucket.
  state_key: &'static str,
  /// The Kubernetes group of the deploy role, and the namespaces it may change.
  deployers_group: String,
  deploy_namespaces: Vec<String>,
  /// The deploy role's access entry: not with Argo CD, which applies the
  /// charts itself.
  deploy_cluster_access: bool,
  /// The environment the images are built in (the first).
  build_environment: String,
  /// The EBS CSI controller's service account (storage.tf, eks.tf).
  ebs_csi_service_account: &'static str,
  /// `compute: auto-mode`: EKS Auto Mode's compute, storage and load
  /// balancing; no managed node groups, no add-ons, no roles for them.
  auto_mode: bool,
  /// Auto Mode's nodes' IAM role (the EKS module creates it).
  auto_mode_node_role: String,
  /// The EKS managed add-ons, by name: the attributes that pin each
  /// (`addon_version` when the table has a build for the cluster's
  /// Kubernetes version, `most_recent`), as `[key, value]` pairs.
  eks_addons: BTreeMap<String, Vec<(&'static str, serde_json::Value)>>,
  /// `spec.delivery.previews`: what `previews.tf` creates.
  previews: Option<PreviewsData>,
  /// `spec.delivery.argocd.managed`: what `argocd.tf` configures.
  managed_argocd: Option<ManagedArgoCdData>,
  /// With Argo CD: the deploy role's group, which reads the Applications.
  argocd_readers_group: String,
}

/// `infra/previews.tf`: the preview role, its repositories and cluster access.
#[derive(Serialize)]
struct PreviewsData {
  environment: String,
  github_environment: &'static str,
  /// `repo:<owner>/<name>:environment:preview`.
  subject: String,
  ttl_hours: u32,
  /// Days a preview image is kept: the previews' lifetime, rounded up, and a day.
  expire_days: u32,
  repository_prefix: String,
  role: String,
  /// Key → repository name: the services, then the migrations image.
  repositories: Vec<(String, String)>,
  group: String,
  namespace_prefix: &'static str,
}

impl PreviewsData {
  fn new(resolved: &Resolved) -> Option<Self> {
    use crate::blueprint::previews;
    let p = resolved.previews.as_ref()?;
    let mut repositories: Vec<(String, String)> = resolved
      .services
      .iter()
      .map(|s| {
        (
          s.name.clone(),
          format!("{}/{}", p.repository_prefix, s.name),
        )
      })
      .collect();
    if let Some(owner) = resolved.migrations_owner() {
      let name = format!("{}-migrations", owner.name);
      repositories.push((name.clone(), format!("{}/{name}", p.repository_prefix)));
    }
    Some(PreviewsData {
      environment: p.environment.clone(),
      github_environment: previews::GITHUB_ENVIRONMENT,
      subject: format!(
        "repo:{}:environment:{}",
        resolved.repository,
        previews::GITHUB_ENVIRONMENT
      ),
      ttl_hours: p.ttl_hours,
      expire_days: p.ttl_hours.div_ceil(24) + 1,
      repository_prefix: p.repository_prefix.clone(),
      role: p.role.clone(),
      repositories,
      group: p.group.clone(),
      namespace_prefix: previews::NAMESPACE_PREFIX,
    })
  }
}

/// The EKS Argo CD capability of `infra/argocd.tf`.
#[derive(Serialize)]
struct ManagedArgoCdData {
  /// The capability's name (`aws eks describe-capability --capability-name`).
  name: &'static str,
  /// Its IAM role's name, fixed (no prefix): `cluster/install.sh` binds it.
  role: String,
  /// The namespace its Applications and AppProjects live in.
  namespace: &'static str,
  idc_instance_arn: String,
  idc_region: String,
  /// (role, [(id, type)]) in the order ADMIN, EDITOR, VIEWER.
  role_mappings: Vec<(&'static str, Vec<(String, &'static str)>)>,
  /// The namespace Argo CD deploys into, and the Role of the charts' custom
  /// resources there (`cluster/manifests/deployers.yaml`).
  platform_namespace: String,
  deployers_role: String,
}

#[derive(Serialize)]
struct KarpenterData {
  namespace: &'static str,
  service_account: &'static str,
  controller_role: String,
  node_role: String,
  queue: String,
}

/// A service's IAM role: who assumes it, and its policy's statements.
#[derive(Serialize)]
struct ServiceRole {
  service: String,
  namespace: String,
  statements: Vec<Statement>,
}

#[derive(Serialize)]
struct Statement {
  sid: &'static str,
  actions: &'static [&'static str],
  /// Terraform string literals (ARNs, with `${…}` interpolations).
  resources: Vec<String>,
}

const S3_LIST: &[&str] = &["s3:ListBucket"];
const S3_READ: &[&str] = &["s3:GetObject"];
const S3_WRITE: &[&str] = &["s3:DeleteObject", "s3:PutObject"];
const SQS_READ: &[&str] = &[
  "sqs:ChangeMessageVisibility",
  "sqs:DeleteMessage",
  "sqs:GetQueueAttributes",
  "sqs:ReceiveMessage",
];
const SQS_WRITE: &[&str] = &["sqs:GetQueueAttributes", "sqs:SendMessage"];

impl ServiceRole {
  /// The role of `service`, when it lists AWS resources: one statement per
  /// kind of access, each on exactly the resources listed with it.
  fn of(
    resolved: &Resolved,
    service: &crate::blueprint::resolved::ResolvedService,
  ) -> Option<Self> {
    use crate::blueprint::model::Access;
    let aws = &service.aws;
    if aws.is_empty() {
      return None;
    }
    let with = |list: &[(String, Access)], access: Option<Access>, suffix: &str| -> Vec<String> {
      list
        .iter()
        .filter(|(_, a)| access.is_none_or(|want| *a == want))
        .map(|(arn, _)| format!("{arn}{suffix}"))
        .collect()
    };
    let mut statements = vec![
      Statement {
        sid: "ListBuckets",
        actions: S3_LIST,
        resources: with(&aws.s3, None, ""),
      },
      Statement {
        sid: "ReadObjects",
        actions: S3_READ,
        resources: with(&aws.s3, None, "/*"),
      },
      Statement {
        sid: "WriteObjects",
        actions: S3_WRITE,
        resources: with(&aws.s3, Some(Access::Write), "/*"),
      },
      Statement {
        sid: "ConsumeQueues",
        actions: SQS_READ,
        resources: with(&aws.sqs, Some(Access::Read), ""),
      },
      Statement {
        sid: "SendToQueues",
        actions: SQS_WRITE,
        resources: with(&aws.sqs, Some(Access::Write), ""),
      },
    ];
    statements.retain(|s| !s.resources.is_empty());
    Some(ServiceRole {
      service: service.name.clone(),
      namespace: resolved.namespace.clone(),
      statements,
    })
  }
}

/// The GitHub environments `infra/github/` creates.
#[derive(Serialize)]
struct GitHubData {
  owner: String,
  name: String,
  branch: String,
  release_tag_pattern: &'static str,
  /// GitHub environment → `{ reviewers, release_only[, account] }`, in
  /// promotion order, each deploy environment before its `-infra` one.
  environments: Vec<(String, serde_json::Value)>,
  reviewer_users: Vec<String>,
  reviewer_teams: Vec<String>,
  /// `spec.delivery.previews`: the GitHub environment of the preview jobs,
  /// and the account of the environment they run in.
  previews: Option<GitHubPreviews>,
}

#[derive(Serialize)]
struct GitHubPreviews {
  environment: &'static str,
  runs_in: String,
  account: Option<String>,
}

impl GitHubData {
  fn new(resolved: &Resolved) -> Self {
    let (owner, name) = resolved
      .repository
      .split_once('/')
      .expect("validation makes the repository owner/name");
    let mut environments = Vec::new();
    for environment in &resolved.environments {
      let entry = |reviewers: bool, release_only: bool| {
        let mut object = serde_json::json!({
          "reviewers": reviewers,
          "release_only": release_only,
        });
        if let Some(account) = &environment.account {
          object["account"] = serde_json::Value::String(account.clone());
        }
        object
      };
      environments.push((environment.name.clone(), entry(environment.approval, true)));
      environments.push((
        environment.names.infra_environment.clone(),
        entry(true, false),
      ));
    }
    GitHubData {
      owner: owner.to_string(),
      name: name.to_string(),
      branch: resolved.branch.clone(),
      release_tag_pattern: RELEASE_TAG_PATTERN,
      environments,
      reviewer_users: resolved.reviewers.users.clone(),
      reviewer_teams: resolved.reviewers.teams.clone(),
      previews: resolved.previews.as_ref().map(|p| GitHubPreviews {
        environment: crate::blueprint::previews::GITHUB_ENVIRONMENT,
        runs_in: p.environment.clone(),
        account: resolved.first_environment().account.clone(),
      }),
    }
  }
}

#[derive(Serialize)]
struct Versions {
  terraform: String,
  aws: String,
  random: String,
  vpc: String,
  vpc_source: String,
  eks: String,
  eks_source: String,
  tflint: String,
  tflint_aws: String,
  github: String,
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
  /// `<platform>/<env>/`: the names of the environment's secrets.
  secret_scope: String,
  /// The image builds' role, and the subject of the build jobs (pushes to
  /// the delivered branch, no GitHub environment).
  build_role: String,
  build_subject: String,
}

/// What `secrets.tf` creates.
#[derive(Serialize)]
struct Secrets {
  /// Grafana's admin credentials, generated (Grafana reads them through
  /// External Secrets).
  grafana_admin: Option<String>,
  /// The secrets the user fills: in-scope key → full name.
  user: Vec<(String, String)>,
  /// Some secret has a generated password (the random provider is needed).
  random: bool,
  /// With a database: its connection secret and the services' roles.
  database: Option<DatabaseSecrets>,
}

#[derive(Serialize)]
struct DatabaseSecrets {
  /// Host, port and database name.
  connection: String,
  /// Service → `{ role, secret }`, its PostgreSQL role and the secret of
  /// its password.
  roles: Vec<(String, Vec<(&'static str, String)>)>,
}

#[derive(Serialize)]
struct PodIdentity {
  namespace: &'static str,
  service_account: &'static str,
}

impl PodIdentity {
  fn of(chart: &AddonChart, service_account: &'static str) -> Self {
    Self {
      namespace: chart.namespace,
      service_account,
    }
  }
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
  /// The `system` group of `autoscaler: karpenter`: labelled and tainted for
  /// the Karpenter controller and the critical add-ons only.
  system: bool,
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

/// The context of a per-environment template: [`TerraformData`] and `environment`.
#[derive(Serialize)]
struct EnvContext<'a> {
  #[serde(flatten)]
  data: &'a TerraformData,
  environment: &'a EnvData,
}

/// One environment's `.tfvars`, state backend and Checkov skips.
#[derive(Serialize)]
struct EnvData {
  name: String,
  state_bucket: String,
  state_key: &'static str,
  /// Node group → its sizes (`min_size`, `desired_size`, `max_size`).
  node_groups: Vec<(String, [(&'static str, u32); 3])>,
  database: Option<EnvDatabase>,
  checkov_skips: Vec<SkipData>,
  /// IAM principals with cluster-admin access.
  cluster_admins: Vec<String>,
  /// The Route53 hosted zone of the environment's hosts.
  dns_zone: String,
  /// Its AWS account, when the blueprint names it.
  account: Option<String>,
  /// The previous environment's account, when it is another one: the deploy
  /// role copies the images from there on promotion.
  image_source_account: Option<String>,
  /// The next environment's deploy role, when it lives in another account:
  /// it copies this environment's images (account, role name).
  image_pull_roles: Vec<PullRole>,
  /// Ranges that may reach the public EKS API endpoint (empty: private).
  endpoint_public_cidrs: Vec<String>,
  /// The Terraform role it is applied with.
  terraform_role: String,
  /// The images are built into its repositories (the first environment).
  image_builds: bool,
  /// What `infra/tests/<env>.tftest.hcl` expects of its plan.
  test: EnvTest,
}

/// The values an environment's native Terraform test plans with (the mocked
/// account, when the blueprint names none) and the names it expects.
#[derive(Serialize)]
struct EnvTest {
  account: String,
  stack: String,
  cluster: String,
  deploy_role: String,
  build_role: String,
  database_instance: String,
  github_subject: String,
  build_subject: String,
}

/// The account the tests' mocked AWS provider reports when the blueprint
/// names none (the documentation account of AWS's examples).
const TEST_ACCOUNT: &str = "123456789012";

#[derive(Serialize)]
struct PullRole {
  account: String,
  role: String,
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

pub(crate) fn render(
  resolved: &Resolved,
  engine: &Engine,
  out: &mut Output,
) -> Result<(), tera::Error> {
  let data = TerraformData::new(resolved);
  let environments: Vec<EnvData> = resolved
    .environments
    .iter()
    .map(|e| EnvData::new(resolved, e))
    .collect();
  for &(template, when) in TEMPLATES {
    if template.contains("{environment}") {
      for environment in &environments {
        if when.holds(&data, Some(environment)) {
          let context = EnvContext {
            data: &data,
            environment,
          };
          let path = output_path(template, None, Some(&environment.name));
          out.add(path, engine.render(template, &context)?);
        }
      }
    } else if when.holds(&data, None) {
      out.add(
        output_path(template, None, None),
        engine.render(template, &data)?,
      );
    }
  }
  Ok(())
}

impl When {
  fn holds(self, data: &TerraformData, environment: Option<&EnvData>) -> bool {
    match self {
      Self::Always => true,
      Self::Database => data.database.is_some(),
      Self::EnvironmentSkips => environment.is_some_and(|e| !e.checkov_skips.is_empty()),
      Self::ExternalSecrets => data.external_secrets,
      Self::Karpenter => data.karpenter.is_some(),
      Self::ServiceAccess => !data.service_roles.is_empty(),
      Self::NodeGroups => !data.auto_mode,
      Self::Previews => data.previews.is_some(),
      Self::ManagedArgoCd => data.managed_argocd.is_some(),
    }
  }
}

/// The interface endpoints a VPC without NAT gateways needs for the nodes to
/// join the cluster and the platform to run: EC2 and STS (node bootstrap and
/// the VPC CNI), ECR (images; their layers come from S3's gateway endpoint),
/// EKS Auth (Pod Identity credentials), CloudWatch Logs and Secrets Manager
/// (External Secrets). The `com.amazonaws.<region>.` suffixes.
const VPC_INTERFACE_ENDPOINTS: &[&str] = &[
  "ec2",
  "ecr.api",
  "ecr.dkr",
  "eks-auth",
  "logs",
  "secretsmanager",
  "sts",
];

impl TerraformData {
  fn new(resolved: &Resolved) -> Self {
    let platform = &resolved.platform;
    let name = &resolved.name;
    let repository = &resolved.repository;
    let symbolic = Environment {
      name: ENVIRONMENT_EXPR.to_string(),
      subdomain: None,
      approval: false,
      overrides: None,
      cluster_admins: None,
      account: None,
    };
    let symbolic_names = EnvironmentNames::new(platform, &symbolic);
    let cidrs = |list: &[_]| list.iter().map(ToString::to_string).collect();
    let per_environment = |value: &dyn Fn(&ResolvedEnvironment) -> String| {
      resolved
        .environments
        .iter()
        .map(|e| (e.name.clone(), value(e)))
        .collect()
    };
    let (vpc_cni_configuration, vpc_cni_comment) = match resolved.network_policy {
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
    let nat = resolved.nat_gateways;
    TerraformData {
      platform: name.clone(),
      region: resolved.region.clone(),
      environments: resolved.environment_names(),
      versions: {
        let v = &resolved.versions;
        let eks = v.get(EKS_MODULE);
        let vpc = v.get(VPC_MODULE);
        Versions {
          terraform: v.version("terraform").to_string(),
          aws: v.version("aws").to_string(),
          random: v.version("random").to_string(),
          vpc: vpc.version.clone(),
          vpc_source: vpc.module.clone().unwrap_or_default(),
          eks: eks.version.clone(),
          eks_source: eks.module.clone().unwrap_or_default(),
          tflint: v.version("tflint-required").to_string(),
          tflint_aws: v.version("tflint-ruleset-aws").to_string(),
          github: v.version("github").to_string(),
        }
      },
      names: Names {
        stack: symbolic_names.stack.clone(),
        cluster: symbolic_names.cluster,
        deploy_role: symbolic_names.deploy_role,
        database_instance: symbolic_names.database_instance,
        ecr_platform_prefix: format!("{name}/*"),
        eso_namespace: names::ESO_NAMESPACE,
        eso_service_account: names::ESO_SERVICE_ACCOUNT,
        github_subject: format!("repo:{repository}:environment:{ENVIRONMENT_EXPR}"),
        secret_scope: symbolic_names.secret_scope.clone(),
        build_role: symbolic_names.build_role.clone(),
        build_subject: format!("repo:{repository}:ref:refs/heads/{}", resolved.branch),
      },
      repository: repository.clone(),
      github_oidc_url: GITHUB_OIDC_URL,
      github_audience: GITHUB_AUDIENCE,
      log_retention_days: LOG_RETENTION_DAYS,
      ecr_repositories: resolved
        .services
        .iter()
        .map(|s| {
          (
            s.name.clone(),
            names::ecr_repository(platform, &symbolic, &s.service),
          )
        })
        .chain(resolved.migrations_owner().map(|owner| {
          (
            format!("{}-migrations", owner.name),
            names::migrations_repository(platform, &symbolic, &owner.service),
          )
        }))
        .collect(),
      azs: resolved.zones.clone(),
      vpc_cidr: platform.spec.network.cidr.clone(),
      public_subnets: cidrs(&resolved.subnets.public),
      private_subnets: cidrs(&resolved.subnets.private),
      database_subnets: resolved.database_cidrs(),
      nat: Nat {
        enable: nat != NatGateways::None,
        single: nat == NatGateways::Single,
        one_per_az: nat == NatGateways::OnePerAz,
      },
      kubernetes_version: resolved.kubernetes_version.clone(),
      node_groups: managed_node_groups(resolved),
      vpc_cni_configuration,
      eks_addons: eks_addons(resolved),
      calico: resolved.network_policy == NetworkPolicy::Calico,
      vpc_interface_endpoints: VPC_INTERFACE_ENDPOINTS,
      vpc_cni_comment,
      database: resolved.database.as_ref().map(|db| Database {
        engine_version: db.major_version.clone(),
        family: db.family.clone(),
        storage: db.storage_gb,
        max_storage: db.max_storage_gb,
        backup_retention_days: db.backup_retention_days,
        name: db.name.clone(),
      }),
      external_secrets: resolved.addons.external_secrets,
      dns_create: resolved.platform.zone_source() == ZoneSource::Create,
      cert_manager: resolved.addons.cert_manager.is_some(),
      external_dns: PodIdentity::of(&EXTERNAL_DNS, EXTERNAL_DNS_SERVICE_ACCOUNT),
      cert_manager_identity: PodIdentity::of(&CERT_MANAGER, CERT_MANAGER_SERVICE_ACCOUNT),
      load_balancer_controller: PodIdentity::of(
        &AWS_LOAD_BALANCER_CONTROLLER,
        AWS_LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT,
      ),
      policy_controller: PodIdentity::of(&POLICY_CONTROLLER, POLICY_CONTROLLER_SERVICE_ACCOUNT),
      secrets: Secrets {
        random: resolved.addons.external_secrets
          && (resolved.addons.grafana
            || (resolved.database.is_some() && resolved.services.iter().any(|s| s.uses_database))),
        database: (resolved.database.is_some() && resolved.addons.external_secrets).then(|| {
          let scope = names::secret_scope(platform, &symbolic);
          DatabaseSecrets {
            connection: format!("{scope}{}", names::DATABASE_KEY),
            roles: resolved
              .services
              .iter()
              .filter(|s| s.uses_database)
              .map(|s| {
                (
                  s.name.clone(),
                  vec![
                    ("role", names::database_role(&s.name)),
                    (
                      "secret",
                      format!("{scope}{}", names::database_role_key(&s.name)),
                    ),
                  ],
                )
              })
              .collect(),
          }
        }),
        grafana_admin: (resolved.addons.grafana && resolved.addons.external_secrets)
          .then(|| names::grafana_admin_secret(platform, &symbolic)),
        user: resolved
          .user_secrets
          .iter()
          .map(|s| {
            (
              s.key.clone(),
              format!("{}{}", names::secret_scope(platform, &symbolic), s.key),
            )
          })
          .collect(),
      },
      state_buckets: per_environment(&|e| e.names.state_bucket.clone()),
      terraform_roles: per_environment(&|e| e.names.terraform_role.clone()),
      infra_subjects: per_environment(&|e| {
        format!(
          "repo:{repository}:environment:{}",
          e.names.infra_environment
        )
      }),
      terraform_session_seconds: TERRAFORM_ROLE_SESSION_SECONDS,
      terraform_admin_reason: TERRAFORM_ADMIN_REASON,
      checkov_skips: checkov_skips(resolved),
      tflint_skips: blueprint_skips(platform.spec.compliance.as_ref().map(|c| &c.tflint_skips)),
      environment_accounts: resolved
        .environments
        .iter()
        .filter_map(|e| Some((e.name.clone(), e.account.clone()?)))
        .collect(),
      migrations_owner: resolved.migrations_owner().map(|s| s.name.clone()),
      karpenter: (resolved.autoscaler == Autoscaler::Karpenter).then(|| KarpenterData {
        namespace: KARPENTER.namespace,
        service_account: KARPENTER_SERVICE_ACCOUNT,
        controller_role: names::karpenter_controller_role(&symbolic_names.stack),
        node_role: names::karpenter_node_role(&symbolic_names.stack),
        queue: names::karpenter_queue(&symbolic_names.stack),
      }),
      service_roles: resolved
        .services
        .iter()
        .filter_map(|service| ServiceRole::of(resolved, service))
        .collect(),
      github: GitHubData::new(resolved),
      branch: resolved.branch.clone(),
      terraform_plan_roles: per_environment(&|e| e.names.terraform_plan_role.clone()),
      pull_request_subject: format!("repo:{repository}:pull_request"),
      state_key: STATE_KEY,
      deployers_group: names::deployers_group(platform),
      deploy_namespaces: vec![resolved.namespace.clone()],
      deploy_cluster_access: !resolved.argocd(),
      build_environment: resolved.environments[0].name.clone(),
      ebs_csi_service_account: crate::names::EBS_CSI_SERVICE_ACCOUNT,
      auto_mode: resolved.auto_mode,
      auto_mode_node_role: format!("{}-eks-auto-node", symbolic_names.stack),
      previews: PreviewsData::new(resolved),
      managed_argocd: resolved
        .managed_argocd
        .as_ref()
        .map(|managed| ManagedArgoCdData {
          name: names::ARGOCD_CAPABILITY,
          role: names::argocd_capability_role(&symbolic_names.stack),
          namespace: crate::render::charts::versions::ARGO_CD.namespace,
          idc_instance_arn: managed.idc_instance_arn.clone(),
          idc_region: managed.idc_region.clone(),
          role_mappings: managed.role_mappings.clone(),
          platform_namespace: resolved.namespace.clone(),
          deployers_role: names::deployers_group(platform),
        }),
      argocd_readers_group: names::argocd_readers_group(platform),
    }
  }
}

/// The EKS managed node groups: the blueprint's node groups with the Cluster
/// Autoscaler; with Karpenter only the `system` group its controller runs
/// on, of the first node group's instance types, on demand.
fn managed_node_groups(resolved: &Resolved) -> Vec<NodeGroup> {
  if resolved.auto_mode {
    return Vec::new();
  }
  let ami_type = |graviton| {
    if graviton {
      "AL2023_ARM_64_STANDARD"
    } else {
      "AL2023_x86_64_STANDARD"
    }
  };
  if resolved.autoscaler == Autoscaler::Karpenter {
    return resolved
      .node_groups
      .first()
      .map(|first| NodeGroup {
        name: KARPENTER_SYSTEM_GROUP.to_string(),
        instance_types: first.instance_types.clone(),
        ami_type: ami_type(first.graviton),
        capacity_type: "ON_DEMAND",
        disk_size: first.disk_size_gb,
        system: true,
      })
      .into_iter()
      .collect();
  }
  resolved
    .node_groups
    .iter()
    .map(|g| NodeGroup {
      name: g.name.clone(),
      instance_types: g.instance_types.clone(),
      ami_type: ami_type(g.graviton),
      capacity_type: match g.capacity {
        CapacityType::OnDemand => "ON_DEMAND",
        CapacityType::Spot => "SPOT",
      },
      disk_size: g.disk_size_gb,
      system: false,
    })
    .collect()
}

/// The sizes of the `system` node group with Karpenter in every environment:
/// two nodes in two zones for the controller's two replicas and CoreDNS, one
/// more during a node replacement.
pub(crate) const KARPENTER_SYSTEM_SIZES: Sizes = Sizes {
  min: 2,
  desired: 2,
  max: 3,
};

/// Each managed node group's sizes in an environment.
fn environment_node_groups(
  resolved: &Resolved,
  environment: &ResolvedEnvironment,
) -> Vec<(String, Sizes)> {
  if resolved.auto_mode {
    Vec::new()
  } else if resolved.autoscaler == Autoscaler::Karpenter {
    vec![(KARPENTER_SYSTEM_GROUP.to_string(), KARPENTER_SYSTEM_SIZES)]
  } else {
    environment.node_groups.clone()
  }
}

impl EnvData {
  fn new(resolved: &Resolved, environment: &ResolvedEnvironment) -> Self {
    let next = resolved
      .environments
      .iter()
      .find(|e| e.previous.as_deref() == Some(environment.name.as_str()));
    EnvData {
      name: environment.name.clone(),
      state_bucket: environment.names.state_bucket.clone(),
      state_key: STATE_KEY,
      node_groups: environment_node_groups(resolved, environment)
        .iter()
        .map(|(group, sizes)| {
          (
            group.clone(),
            [
              ("min_size", sizes.min),
              ("desired_size", sizes.desired),
              ("max_size", sizes.max),
            ],
          )
        })
        .collect(),
      database: environment.database.as_ref().map(|db| EnvDatabase {
        instance_class: db.instance_class.clone(),
        multi_az: db.multi_az,
      }),
      checkov_skips: environment_checkov_skips(environment),
      cluster_admins: environment.cluster_admins.clone(),
      dns_zone: environment.dns.zone.clone(),
      account: environment.account.clone(),
      image_source_account: environment
        .promoted_from_account(resolved)
        .map(str::to_string),
      image_pull_roles: next
        .filter(|next| next.promoted_from_account(resolved).is_some())
        .and_then(|next| {
          Some(PullRole {
            account: next.account.clone()?,
            role: next.names.deploy_role.clone(),
          })
        })
        .into_iter()
        .collect(),
      endpoint_public_cidrs: resolved.endpoint_public_cidrs.clone(),
      terraform_role: environment.names.terraform_role.clone(),
      image_builds: environment.previous.is_none(),
      test: EnvTest {
        account: environment
          .account
          .clone()
          .unwrap_or_else(|| TEST_ACCOUNT.to_string()),
        stack: environment.names.stack.clone(),
        cluster: environment.names.cluster.clone(),
        deploy_role: environment.names.deploy_role.clone(),
        build_role: environment.names.build_role.clone(),
        database_instance: environment.names.database_instance.clone(),
        github_subject: format!(
          "repo:{}:environment:{}",
          resolved.repository, environment.name
        ),
        build_subject: format!(
          "repo:{}:ref:refs/heads/{}",
          resolved.repository, resolved.branch
        ),
      },
    }
  }
}

/// `infra/.checkov.yaml`: the blueprint's skips, then oi-gen's own, each id once.
fn checkov_skips(resolved: &Resolved) -> Vec<SkipData> {
  let compliance = resolved.platform.spec.compliance.as_ref();
  let mut skips = blueprint_skips(compliance.map(|c| &c.checkov_skips));
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
fn environment_checkov_skips(environment: &ResolvedEnvironment) -> Vec<SkipData> {
  let single_az = environment.database.as_ref().is_some_and(|db| !db.multi_az);
  let mut skips = Vec::new();
  if single_az {
    skips.push(SkipData {
      id: SINGLE_AZ_SKIP.id.to_string(),
      reason: SINGLE_AZ_SKIP.reason.to_string(),
    });
  }
  skips
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

/// Each EKS managed add-on's pinning attributes for `infra/eks.tf`: its
/// build for the cluster's Kubernetes version from the version table (with
/// `spec.versions` applied), or none, which leaves EKS's default build for
/// that version (`most_recent = false`); the add-ons created before the node
/// groups say so.
fn eks_addons(resolved: &Resolved) -> BTreeMap<String, Vec<(&'static str, serde_json::Value)>> {
  const BEFORE_COMPUTE: &[&str] = &["eks-pod-identity-agent", "vpc-cni"];
  resolved
    .versions
    .eks_addons(&resolved.kubernetes_version)
    .into_iter()
    .map(|(name, build)| {
      let mut attributes = Vec::new();
      if let Some(build) = build {
        attributes.push(("addon_version", serde_json::Value::from(build)));
      }
      attributes.push(("most_recent", serde_json::Value::Bool(false)));
      if BEFORE_COMPUTE.contains(&name) {
        attributes.push(("before_compute", serde_json::Value::Bool(true)));
      }
      (name.to_string(), attributes)
    })
    .collect()
}

#[cfg(test)]
mod tests {
  use std::collections::BTreeMap;

  use hcl::{Body, Expression, ObjectKey};
  use serde_json::Value as Json;

  use super::*;
  use crate::blueprint::{self, Platform, model::PolicySkip};

  /// A built-in blueprint as written; tests change it, then resolve it.
  fn builtin(name: &str) -> Platform {
    let builtin = crate::builtin::get(name).expect("built-in blueprint");
    blueprint::load(builtin.text.as_bytes())
      .expect("built-in blueprints are valid")
      .platform
  }

  fn render_infra(platform: &Platform) -> BTreeMap<String, String> {
    let engine = Engine::new().expect("templates parse");
    let mut out = Output::default();
    render(&Resolved::new(platform), &engine, &mut out).expect("infra renders");
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

  #[test]
  fn the_autoscaler_decides_the_node_groups_and_the_roles() {
    let mut platform = builtin("openinnovation");
    platform.spec.cluster.autoscaler = Some(Autoscaler::Karpenter);
    let karpenter = render_infra(&platform);
    platform.spec.cluster.autoscaler = None;
    let cluster_autoscaler = render_infra(&platform);

    let karpenter_tf = &karpenter["infra/karpenter.tf"];
    assert!(
      karpenter_tf.contains(r#"source  = "terraform-aws-modules/eks/aws//modules/karpenter""#)
    );
    assert!(karpenter_tf.contains(
      r#"node_iam_role_name            = "openinnovation-ai-${var.environment}-karpenter-node""#
    ));
    assert!(
      karpenter_tf.contains(r#"queue_name = "openinnovation-ai-${var.environment}-karpenter""#)
    );
    assert!(!karpenter["infra/iam.tf"].contains("cluster_autoscaler"));
    let eks = &karpenter["infra/eks.tf"];
    assert!(eks.contains("    system = {"), "{eks}");
    assert!(!eks.contains("    general = {"), "{eks}");
    assert!(eks.contains(r#""karpenter.sh/discovery" = local.cluster_name"#));
    assert!(karpenter["infra/vpc.tf"].contains(r#""karpenter.sh/discovery" = local.cluster_name"#));
    for environment in ["staging", "production"] {
      let tfvars = &karpenter[&format!("infra/environments/{environment}.tfvars")];
      assert!(
        tfvars.contains("system = { min_size = 2, desired_size = 2, max_size = 3 }"),
        "{tfvars}"
      );
    }

    assert!(!cluster_autoscaler.contains_key("infra/karpenter.tf"));
    assert!(
      cluster_autoscaler["infra/iam.tf"]
        .contains("resource \"aws_iam_role\" \"cluster_autoscaler\"")
    );
    assert!(cluster_autoscaler["infra/eks.tf"].contains("    general = {"));
    assert!(!cluster_autoscaler["infra/eks.tf"].contains("karpenter"));
    assert!(!cluster_autoscaler["infra/vpc.tf"].contains("karpenter"));
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
        // The state's own key, the one infra/bootstrap creates.
        let alias = format!("alias/{}-tfstate", platform.name());
        assert_eq!(attribute(backend, "kms_key_id"), alias);
        assert!(
          files["infra/bootstrap/main.tf"].contains(&format!("name          = \"{alias}\"\n")),
          "the bootstrap creates {alias}"
        );
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
            .map(hcl::BlockLabel::as_str)
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
      .find(|b| {
        b.identifier() == kind && b.labels().first().map(hcl::BlockLabel::as_str) == Some(label)
      })
      .unwrap_or_else(|| panic!("no {kind} {label}"))
  }

  #[test]
  fn environment_values_apply_the_overrides() {
    let mut platform = builtin("openinnovation");
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
    // With Karpenter the managed node group is `system`; the blueprint's
    // sizes reach the NodePools (cluster/manifests/<env>/karpenter.yaml).
    assert!(staging.contains("system = { min_size = 2, desired_size = 2, max_size = 3 }"));
    assert!(production.contains("system = { min_size = 2, desired_size = 2, max_size = 3 }"));
    platform.spec.cluster.autoscaler = None;
    let files = render_infra(&platform);
    let staging = &files["infra/environments/staging.tfvars"];
    let production = &files["infra/environments/production.tfvars"];
    assert!(staging.contains("general = { min_size = 1, desired_size = 2, max_size = 3 }"));
    assert!(production.contains("general = { min_size = 2, desired_size = 2, max_size = 5 }"));
  }

  /// The strings of a list attribute in an HCL file.
  fn string_list(text: &str, key: &str) -> Vec<String> {
    let body = parse(key, text);
    let attr = body
      .attributes()
      .find(|a| a.key() == key)
      .unwrap_or_else(|| panic!("no attribute {key}"));
    let Expression::Array(items) = attr.expr() else {
      panic!("{key} is a list");
    };
    items
      .iter()
      .map(|item| match item {
        Expression::String(s) => s.clone(),
        other => panic!("{key}: {other:?} is not a string"),
      })
      .collect()
  }

  /// A string or a quoted template (`"arn:${local.partition}:…"`) as
  /// written; any other expression as HCL (`local.account_id`).
  fn text(expr: &Expression) -> String {
    match expr {
      Expression::String(s) => s.clone(),
      Expression::TemplateExpr(template) => match &**template {
        hcl::TemplateExpr::QuotedString(s) => s.clone(),
        other => panic!("{other:?} is not a quoted string"),
      },
      other => hcl::format::to_string(other).expect("an expression formats"),
    }
  }

  /// The strings of `key` in `block` (a list, or one string).
  fn strings(block: &hcl::Block, key: &str) -> Vec<String> {
    let attr = block
      .body()
      .attributes()
      .find(|a| a.key() == key)
      .unwrap_or_else(|| panic!("no {key}"));
    match attr.expr() {
      Expression::Array(items) => items.iter().map(text).collect(),
      other => vec![text(other)],
    }
  }

  /// A service's `aws` becomes a role whose policy grants exactly the
  /// listed actions on exactly the listed resources, trusted only by Pod
  /// Identity for its ServiceAccount in the platform's namespace; services
  /// without `aws` get nothing.
  #[test]
  fn service_aws_access_becomes_a_least_privilege_role_per_service() {
    let platform = builtin("acme-shop");
    let files = render_infra(&platform);
    let body = parse("service-access.tf", &files["infra/service-access.tf"]);
    let roles: Vec<String> = body
      .blocks()
      .filter(|b| b.identifier() == "resource" && b.labels()[0].as_str() == "aws_iam_role")
      .map(|b| b.labels()[1].as_str().to_string())
      .collect();
    assert_eq!(roles, ["service_catalog", "service_checkout"]);

    let statements = |service: &str| -> Vec<(String, Vec<String>, Vec<String>)> {
      block(
        &body,
        "data",
        ["aws_iam_policy_document", &format!("service_{service}")],
      )
      .body()
      .blocks()
      .filter(|b| b.identifier() == "statement")
      .map(|b| {
        assert_eq!(strings(b, "effect"), ["Allow"]);
        (
          strings(b, "sid").remove(0),
          strings(b, "actions"),
          strings(b, "resources"),
        )
      })
      .collect()
    };
    let s = |v: &[&str]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
    let images = "arn:${local.partition}:s3:::acme-shop-catalog-images";
    assert_eq!(
      statements("catalog"),
      [
        ("ListBuckets".into(), s(&["s3:ListBucket"]), s(&[images])),
        (
          "ReadObjects".into(),
          s(&["s3:GetObject"]),
          s(&[&format!("{images}/*")])
        ),
        (
          "ConsumeQueues".into(),
          s(&[
            "sqs:ChangeMessageVisibility",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ReceiveMessage"
          ]),
          s(&["arn:${local.partition}:sqs:${var.region}:${local.account_id}:catalog-updates"])
        ),
      ]
    );
    let receipts = "arn:aws:s3:::acme-shop-receipts";
    assert_eq!(
      statements("checkout"),
      [
        ("ListBuckets".into(), s(&["s3:ListBucket"]), s(&[receipts])),
        (
          "ReadObjects".into(),
          s(&["s3:GetObject"]),
          s(&[&format!("{receipts}/*")])
        ),
        (
          "WriteObjects".into(),
          s(&["s3:DeleteObject", "s3:PutObject"]),
          s(&[&format!("{receipts}/*")])
        ),
        (
          "SendToQueues".into(),
          s(&["sqs:GetQueueAttributes", "sqs:SendMessage"]),
          s(&["arn:aws:sqs:eu-west-1:111122223333:orders.fifo"])
        ),
      ]
    );

    // Only the service's own ServiceAccount, in the platform's namespace, on
    // this cluster, through Pod Identity.
    let trust = block(
      &body,
      "data",
      ["aws_iam_policy_document", "service_catalog_trust"],
    );
    let statement = trust.body().blocks().next().expect("one statement");
    assert_eq!(
      strings(statement, "actions"),
      ["sts:AssumeRole", "sts:TagSession"]
    );
    let conditions: Vec<(String, Vec<String>)> = statement
      .body()
      .blocks()
      .filter(|b| b.identifier() == "condition")
      .map(|b| (strings(b, "variable").remove(0), strings(b, "values")))
      .collect();
    let namespace = crate::names::app_namespace(&platform);
    assert!(conditions.contains(&(
      "aws:RequestTag/kubernetes-namespace".into(),
      vec![namespace.clone()]
    )));
    assert!(conditions.contains(&(
      "aws:RequestTag/kubernetes-service-account".into(),
      s(&["catalog"])
    )));
    let association = block(
      &body,
      "resource",
      ["aws_eks_pod_identity_association", "service_catalog"],
    );
    assert_eq!(strings(association, "namespace"), [namespace]);
    assert_eq!(strings(association, "service_account"), ["catalog"]);

    // No `aws` anywhere: no file, no role.
    assert!(!render_infra(&builtin("openinnovation")).contains_key("infra/service-access.tf"));
  }

  /// `spec.cluster.endpoint` reaches every environment's
  /// `cluster_endpoint_public_access_cidrs`, which eks.tf turns into the
  /// module's public access switch and ranges: open by default, the listed
  /// ranges, or none (private only).
  #[test]
  fn the_endpoint_ranges_reach_the_tfvars_and_the_eks_module() {
    use crate::blueprint::model::Endpoint;
    let key = "cluster_endpoint_public_access_cidrs";
    let mut platform = builtin("openinnovation");
    let files = render_infra(&platform);
    assert_eq!(
      string_list(&files["infra/environments/staging.tfvars"], key),
      ["0.0.0.0/0"]
    );
    let eks = &files["infra/eks.tf"];
    assert!(eks.contains(
      "endpoint_public_access       = length(var.cluster_endpoint_public_access_cidrs) > 0"
    ));
    assert!(
      eks.contains("endpoint_public_access_cidrs = var.cluster_endpoint_public_access_cidrs")
    );
    assert!(eks.contains("endpoint_private_access      = true"));

    platform.spec.cluster.endpoint = Some(Endpoint {
      public: None,
      public_access_cidrs: Some(vec!["203.0.113.0/24".into(), "198.51.100.7/32".into()]),
    });
    let files = render_infra(&platform);
    for env in ["staging", "production"] {
      assert_eq!(
        string_list(&files[&format!("infra/environments/{env}.tfvars")], key),
        ["203.0.113.0/24", "198.51.100.7/32"]
      );
    }

    platform.spec.cluster.endpoint = Some(Endpoint {
      public: Some(false),
      public_access_cidrs: None,
    });
    let files = render_infra(&platform);
    let tfvars = &files["infra/environments/production.tfvars"];
    assert!(string_list(tfvars, key).is_empty());
    assert!(tfvars.contains("the endpoint is private"));
  }

  /// `spec.cluster.admins` reaches every environment's `cluster_admin_arns`
  /// unless the environment lists its own `clusterAdmins`; eks.tf makes each
  /// an access entry with cluster-admin next to the deploy role's.
  #[test]
  fn cluster_admins_reach_the_tfvars_and_the_access_entries() {
    let mut platform = builtin("openinnovation");
    let none = render_infra(&platform);
    assert!(
      string_list(
        &none["infra/environments/staging.tfvars"],
        "cluster_admin_arns"
      )
      .is_empty()
    );

    let team = "arn:aws:iam::123456789012:role/platform-admins";
    let oncall = "arn:aws:iam::123456789012:user/oncall";
    platform.spec.cluster.admins = Some(vec![team.into()]);
    platform.spec.environments[1].cluster_admins = Some(vec![oncall.into(), team.into()]);
    let files = render_infra(&platform);
    assert_eq!(
      string_list(
        &files["infra/environments/staging.tfvars"],
        "cluster_admin_arns"
      ),
      [team]
    );
    assert_eq!(
      string_list(
        &files["infra/environments/production.tfvars"],
        "cluster_admin_arns"
      ),
      [oncall, team]
    );

    let eks = parse("eks.tf", &files["infra/eks.tf"]);
    let module = block_labelled(&eks, "module", "eks");
    let entries = module
      .body()
      .attributes()
      .find(|a| a.key() == "access_entries")
      .expect("access_entries");
    let Expression::FuncCall(merge) = entries.expr() else {
      panic!("access_entries merges the deploy role and the administrators");
    };
    assert_eq!(merge.name.to_string(), "merge");
    let [Expression::Object(deploy), Expression::ForExpr(admins)] = &merge.args[..] else {
      panic!("merge(deploy, for arn in var.cluster_admin_arns ...)");
    };
    assert!(deploy.iter().any(|(k, _)| k.to_string() == "deploy"));
    assert_eq!(admins.collection_expr.to_string(), "var.cluster_admin_arns");
    let text = hcl::format::to_string(&admins.value_expr).expect("formats");
    assert!(text.contains("principal_arn = arn"), "{text}");
    assert!(text.contains("local.cluster_admin_policy_arn"), "{text}");
    assert!(text.contains("type = \"cluster\""), "{text}");
    // The administrators are the module's access entries, not resources beside it.
    assert!(!files["infra/eks.tf"].contains("aws_eks_access_entry"));
  }

  /// The sizes of each node group in an environment's `.tfvars`, by group.
  fn tfvars_sizes(text: &str) -> BTreeMap<String, [u64; 3]> {
    let body = parse("tfvars", text);
    let attr = body
      .attributes()
      .find(|a| a.key() == "node_groups")
      .expect("node_groups");
    let Expression::Object(groups) = attr.expr() else {
      panic!("node_groups is a map");
    };
    groups
      .iter()
      .map(|(name, sizes)| {
        let Expression::Object(sizes) = sizes else {
          panic!("{name} is an object");
        };
        let size = |key: &str| {
          sizes
            .iter()
            .find(|(k, _)| k.to_string() == key)
            .and_then(|(_, v)| match v {
              Expression::Number(n) => n.as_u64(),
              _ => None,
            })
            .unwrap_or_else(|| panic!("{name}.{key}"))
        };
        (
          name.to_string(),
          [size("min_size"), size("desired_size"), size("max_size")],
        )
      })
      .collect()
  }

  /// `overrides.nodeGroups` sizes every group, and its `groups` single ones
  /// by name, over those: acme-shop's dev lets the SPOT batch group scale to
  /// zero while the general group keeps one node.
  #[test]
  fn node_group_overrides_apply_by_group_name() {
    let mut platform = builtin("acme-shop");
    let files = render_infra(&platform);
    let dev = tfvars_sizes(&files["infra/environments/dev.tfvars"]);
    assert_eq!(dev["general"], [1, 2, 2]);
    assert_eq!(dev["batch"], [0, 0, 2]);
    let staging = tfvars_sizes(&files["infra/environments/staging.tfvars"]);
    assert_eq!(staging["general"], [2, 3, 6]);
    assert_eq!(staging["batch"], [0, 0, 4]);

    // A group's own entry wins field by field; the rest comes from the
    // sizes for every group, then from the group itself.
    let dev_env = &mut platform.spec.environments[0];
    let overrides = dev_env
      .overrides
      .as_mut()
      .and_then(|o| o.node_groups.as_mut())
      .expect("dev sizes its node groups");
    overrides.groups.insert(
      "general".into(),
      crate::blueprint::model::NodeGroupSizes {
        min_size: None,
        max_size: Some(5),
        desired_size: Some(4),
      },
    );
    overrides.groups.remove("batch");
    let files = render_infra(&platform);
    let dev = tfvars_sizes(&files["infra/environments/dev.tfvars"]);
    assert_eq!(dev["general"], [1, 4, 5]);
    assert_eq!(dev["batch"], [1, 1, 2]);
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

  /// The string value of an attribute of a block, as Terraform writes it.
  fn block_attr(block: &hcl::Block, key: &str) -> String {
    block
      .body()
      .attributes()
      .find(|a| a.key() == key)
      .map(|a| a.expr().to_string())
      .unwrap_or_else(|| panic!("{} has no {key}", block.identifier()))
  }

  /// RDS writes its exported logs into log groups of its own making, without
  /// a key and kept forever, unless they exist first: infra/ creates them,
  /// with the environment's key and the log retention of the other groups.
  #[test]
  fn database_log_groups_are_encrypted_kept_and_created_first() {
    let files = render_infra(&builtin("openinnovation"));
    let rds = parse("infra/rds.tf", &files["infra/rds.tf"]);
    let exports = rds
      .blocks()
      .filter(|b| b.identifier() == "locals")
      .find_map(|b| {
        b.body()
          .attributes()
          .find(|a| a.key() == "database_log_exports")
          .cloned()
      })
      .expect("local database_log_exports");
    let Expression::Array(exports) = exports.expr() else {
      panic!("database_log_exports is a list");
    };
    let exports: Vec<String> = exports
      .iter()
      .map(|e| e.to_string().trim_matches('"').to_string())
      .collect();
    assert_eq!(exports, ["postgresql", "upgrade"]);

    let groups = block(&rds, "resource", ["aws_cloudwatch_log_group", "database"]);
    assert_eq!(
      block_attr(groups, "for_each"),
      "toset(local.database_log_exports)"
    );
    assert_eq!(
      block_attr(groups, "name"),
      "\"/aws/rds/instance/${local.database_instance}/${each.key}\""
    );
    assert_eq!(
      block_attr(groups, "retention_in_days"),
      LOG_RETENTION_DAYS.to_string()
    );
    assert_eq!(block_attr(groups, "kms_key_id"), "aws_kms_key.main.arn");

    let instance = block(&rds, "resource", ["aws_db_instance", "main"]);
    assert_eq!(
      block_attr(instance, "enabled_cloudwatch_logs_exports"),
      "local.database_log_exports"
    );
    let depends_on = block_attr(instance, "depends_on");
    assert!(
      depends_on.contains("aws_cloudwatch_log_group.database"),
      "{depends_on}"
    );

    // The same retention as the VPC flow logs and the EKS control plane logs.
    let retention = format!("= {LOG_RETENTION_DAYS}\n");
    assert!(files["infra/vpc.tf"].contains(&retention));
    assert!(files["infra/eks.tf"].contains(&retention));

    // CloudWatch Logs may use the key for this account's log groups.
    let kms = &files["infra/kms.tf"];
    assert!(kms.contains("Principal = { Service = \"logs.${var.region}.amazonaws.com\" }"));
    assert!(kms.contains(
      "\"kms:EncryptionContext:aws:logs:arn\" = \"arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:*\""
    ));
  }

  /// Every workload role is a Pod Identity association: the EKS module makes
  /// no IAM OIDC provider for IRSA, and nothing refers to one.
  #[test]
  fn the_cluster_has_no_irsa_identity_provider() {
    for (_, files) in builtins() {
      let eks = parse("infra/eks.tf", &files["infra/eks.tf"]);
      let module = block_labelled(&eks, "module", "eks");
      assert_eq!(block_attr(module, "enable_irsa"), "false");
      for (path, text) in &files {
        assert!(!text.contains("module.eks.oidc_provider"), "{path}");
      }
      assert!(files["infra/iam.tf"].contains("resource \"aws_eks_pod_identity_association\""));
    }
  }

  /// The `environments` local of infra/github/main.tf: environment →
  /// (reviewers, release_only, account).
  fn github_environments(main: &str) -> Vec<(String, bool, bool, Option<String>)> {
    let body = parse("infra/github/main.tf", main);
    let locals = body
      .blocks()
      .find(|b| b.identifier() == "locals")
      .expect("a locals block");
    let Some(Expression::Object(map)) = locals
      .body()
      .attributes()
      .find(|a| a.key() == "environments")
      .map(|a| a.expr().clone())
    else {
      panic!("environments is an object");
    };
    map
      .iter()
      .map(|(key, value)| {
        let Expression::Object(fields) = value else {
          panic!("{key:?} is an object");
        };
        let field = |name: &str| {
          fields
            .iter()
            .find(|(k, _)| matches!(k, ObjectKey::Identifier(i) if i.as_str() == name))
            .map(|(_, v)| v.clone())
        };
        let flag = |name: &str| match field(name) {
          Some(Expression::Bool(b)) => b,
          other => panic!("{name} is {other:?}"),
        };
        let name = match key {
          ObjectKey::Identifier(i) => i.to_string(),
          ObjectKey::Expression(Expression::String(s)) => s.clone(),
          other => panic!("key {other:?}"),
        };
        let account = field("account").map(|a| match a {
          Expression::String(s) => s,
          other => panic!("account is {other:?}"),
        });
        (name, flag("reviewers"), flag("release_only"), account)
      })
      .collect()
  }

  #[test]
  fn github_environments_carry_the_protection_the_workflows_rely_on() {
    for (platform, files) in builtins() {
      let resolved = Resolved::new(&platform);
      let main = &files["infra/github/main.tf"];
      let found = github_environments(main);
      let mut expected = Vec::new();
      for e in &resolved.environments {
        expected.push((e.name.clone(), e.approval, true, e.account.clone()));
        expected.push((
          e.names.infra_environment.clone(),
          true,
          false,
          e.account.clone(),
        ));
      }
      assert_eq!(found, expected, "{}", resolved.name);
      let (_, repository) = resolved.repository.split_once('/').unwrap();
      assert!(main.contains(&format!("repository = \"{repository}\"\n")));
      assert!(main.contains(&format!("branch_pattern = \"{}\"\n", resolved.branch)));
      assert!(main.contains(&format!("tag_pattern = \"{RELEASE_TAG_PATTERN}\"\n")));
      assert!(main.contains("variable_name = \"AWS_ACCOUNT_ID\"\n"));
      let variables = &files["infra/github/variables.tf"];
      let accounts = resolved.environments.iter().any(|e| e.account.is_some());
      assert_eq!(
        variables.contains("variable \"aws_account_id\""),
        !accounts,
        "{}: without accounts, the one account is a variable",
        resolved.name
      );
      let value = if accounts {
        "each.value.account"
      } else {
        "var.aws_account_id"
      };
      assert!(
        main.contains(&format!("value         = {value}\n")),
        "{main}"
      );
      let versions = &files["infra/github/versions.tf"];
      let (owner, _) = resolved.repository.split_once('/').unwrap();
      assert!(versions.contains(&format!("owner = \"{owner}\"")));
      assert!(versions.contains(&format!(
        "version = \"{}\"",
        crate::versions::Versions::builtin().version("github")
      )));
    }
  }

  #[test]
  fn github_reviewers_come_from_the_blueprint() {
    let platform = builtin("acme-shop");
    let files = render_infra(&platform);
    let variables = parse(
      "infra/github/variables.tf",
      &files["infra/github/variables.tf"],
    );
    let default = |name: &str| {
      let block = variables
        .blocks()
        .find(|b| b.identifier() == "variable" && b.labels()[0].as_str() == name)
        .unwrap_or_else(|| panic!("variable {name}"));
      block
        .body()
        .attributes()
        .find(|a| a.key() == "default")
        .map(|a| match a.expr() {
          Expression::Array(items) => items
            .iter()
            .map(|item| match item {
              Expression::String(s) => s.clone(),
              other => panic!("{name}: {other:?}"),
            })
            .collect::<Vec<_>>(),
          other => panic!("{name} defaults to {other:?}"),
        })
        .unwrap()
    };
    assert_eq!(default("reviewer_teams"), ["platform-admins"]);
    assert_eq!(default("reviewer_users"), ["acme-release-bot"]);
    let mut none = builtin("openinnovation");
    none.spec.delivery.github.reviewers = None;
    let files = render_infra(&none);
    assert!(files["infra/github/variables.tf"].contains("  default     = []\n"));
    // The apply stops while an environment waits for a reviewer and none is given.
    assert!(files["infra/github/main.tf"].contains(
      "condition     = !each.value.reviewers || length(var.reviewer_users) + length(var.reviewer_teams) > 0"
    ));
  }

  #[test]
  fn the_state_is_written_with_its_key_over_tls_only() {
    for (platform, files) in builtins() {
      let main = &files["infra/bootstrap/main.tf"];
      let alias = format!("alias/{}-tfstate", platform.name());
      for needle in [
        "sid     = \"DenyInsecureTransport\"",
        "variable = \"aws:SecureTransport\"",
        "sid       = \"DenyObjectsNotEncryptedWithKms\"",
        "variable = \"s3:x-amz-server-side-encryption\"",
        "values   = [\"aws:kms\"]",
        "sid       = \"DenyObjectsEncryptedWithAnotherKey\"",
        "variable = \"s3:x-amz-server-side-encryption-aws-kms-key-id\"",
        "aws_kms_alias.state.name,",
        // The key's users are a list the roles add to.
        "state_key_users = distinct(concat(",
        "[for role in aws_iam_role.terraform : role.arn],",
        "Principal = { AWS = local.state_key_users }",
        "\"kms:ViaService\" = \"s3.${var.region}.amazonaws.com\"",
      ] {
        assert!(main.contains(needle), "{}: no `{needle}`", platform.name());
      }
      assert!(main.contains(&format!("name          = \"{alias}\"")));
      // The account administers the key but does not use it.
      let admin = main
        .split("Sid       = \"AccountAdministersTheKeyThroughIam\"")
        .nth(1)
        .and_then(|rest| rest.split("Resource = \"*\"").next())
        .expect("the administration statement");
      for usage in [
        "kms:*",
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:CreateGrant",
      ] {
        assert!(
          !admin.contains(usage),
          "{}: the account gets {usage}",
          platform.name()
        );
      }
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

  /// With Calico the node security group lets the cluster security group in
  /// on 5443, the Calico API server; with the VPC CNI nothing is added.
  #[test]
  fn calico_opens_its_api_server_port_to_the_control_plane() {
    let rules = |files: &BTreeMap<String, String>| {
      let body = parse("infra/eks.tf", &files["infra/eks.tf"]);
      block_labelled(&body, "module", "eks")
        .body()
        .attributes()
        .find(|a| a.key() == "node_security_group_additional_rules")
        .map(|a| a.expr().clone())
    };
    let calico = render_infra(&builtin("openinnovation"));
    let Some(Expression::Object(calico_rules)) = rules(&calico) else {
      panic!("no node_security_group_additional_rules with Calico");
    };
    let [(_, Expression::Object(rule))] = calico_rules.iter().collect::<Vec<_>>()[..] else {
      panic!("one rule expected");
    };
    let get = |key: &str| {
      rule
        .iter()
        .find(|(k, _)| k.to_string() == key)
        .map(|(_, v)| v.to_string())
        .unwrap_or_else(|| panic!("no {key}"))
    };
    assert_eq!(get("from_port"), "5443");
    assert_eq!(get("to_port"), "5443");
    assert_eq!(get("protocol"), r#""tcp""#);
    assert_eq!(get("type"), r#""ingress""#);
    assert_eq!(get("source_cluster_security_group"), "true");
    assert!(rules(&render_infra(&builtin("acme-shop"))).is_none());
  }

  /// Without NAT gateways the private subnets reach the AWS APIs through VPC
  /// endpoints: S3 as a gateway on the private route tables, the others as
  /// interface endpoints whose security group lets in HTTPS from the VPC only.
  /// With NAT gateways there are none.
  #[test]
  fn no_nat_gateways_means_vpc_endpoints() {
    let mut platform = builtin("acme-shop");
    platform.spec.network.nat_gateways = Some(NatGateways::None);
    let files = render_infra(&platform);
    let body = parse("infra/vpc.tf", &files["infra/vpc.tf"]);
    let attr = |block: &hcl::Block, key: &str| {
      block
        .body()
        .attributes()
        .find(|a| a.key() == key)
        .map(|a| a.expr().to_string())
        .unwrap_or_else(|| panic!("no {key}"))
    };
    let s3 = block(&body, "resource", ["aws_vpc_endpoint", "s3"]);
    assert_eq!(attr(s3, "vpc_endpoint_type"), r#""Gateway""#);
    assert_eq!(
      attr(s3, "route_table_ids"),
      "module.vpc.private_route_table_ids"
    );
    let interface = block(&body, "resource", ["aws_vpc_endpoint", "interface"]);
    assert_eq!(attr(interface, "vpc_endpoint_type"), r#""Interface""#);
    assert_eq!(attr(interface, "private_dns_enabled"), "true");
    assert_eq!(attr(interface, "subnet_ids"), "module.vpc.private_subnets");
    let listed = files["infra/vpc.tf"]
      .lines()
      .find_map(|line| line.trim().strip_prefix("interface_endpoints = "))
      .expect("the interface endpoint list");
    for service in [
      "ec2",
      "ecr.api",
      "ecr.dkr",
      "eks-auth",
      "logs",
      "secretsmanager",
      "sts",
    ] {
      assert!(listed.contains(&format!("\"{service}\"")), "{service}");
    }
    let https = block(
      &body,
      "resource",
      [
        "aws_vpc_security_group_ingress_rule",
        "vpc_endpoints_from_vpc",
      ],
    );
    assert_eq!(attr(https, "cidr_ipv4"), "local.vpc_cidr");
    assert_eq!(attr(https, "from_port"), "443");
    assert_eq!(attr(https, "to_port"), "443");
    assert!(files["infra/vpc.tf"].contains("enable_nat_gateway     = false"));

    for (platform, files) in builtins() {
      assert_eq!(
        files["infra/vpc.tf"].contains("aws_vpc_endpoint"),
        platform.spec.network.nat_gateways == Some(NatGateways::None),
        "{}",
        platform.metadata.name
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
      let yaml: yaml_serde::Value = yaml_serde::from_str(text).expect("valid YAML");
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
    assert!(tflint.contains(&format!(
      "version = \"{}\"",
      crate::versions::Versions::builtin().version("tflint-ruleset-aws")
    )));
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
    let ami_type = |instance_types: &[&str]| {
      let mut platform = builtin("acme-shop");
      for group in &mut platform.spec.cluster.node_groups {
        group.instance_types = instance_types.iter().map(ToString::to_string).collect();
      }
      let eks = parse("infra/eks.tf", &render_infra(&platform)["infra/eks.tf"]);
      let node_groups = block_labelled(&eks, "module", "eks")
        .body()
        .attributes()
        .find(|a| a.key() == "eks_managed_node_groups")
        .map(|a| a.expr().clone())
        .expect("node groups");
      let Expression::Object(groups) = node_groups else {
        panic!("node groups are a map");
      };
      let types: Vec<String> = groups
        .values()
        .map(|group| {
          let Expression::Object(group) = group else {
            panic!("a node group is an object");
          };
          group
            .iter()
            .find(|(k, _)| k.to_string() == "ami_type")
            .map(|(_, v)| v.to_string().trim_matches('"').to_string())
            .expect("ami_type")
        })
        .collect();
      assert!(!types.is_empty());
      assert!(types.iter().all(|t| *t == types[0]), "{types:?}");
      types[0].clone()
    };
    assert_eq!(ami_type(&["m7g.large"]), "AL2023_ARM_64_STANDARD");
    assert_eq!(ami_type(&["c7gn.xlarge"]), "AL2023_ARM_64_STANDARD");
    assert_eq!(ami_type(&["t4g.medium"]), "AL2023_ARM_64_STANDARD");
    assert_eq!(ami_type(&["m6i.large"]), "AL2023_x86_64_STANDARD");
    assert_eq!(ami_type(&["g5.xlarge"]), "AL2023_x86_64_STANDARD");
  }

  /// Templates mirror the output tree: each template of the list is
  /// embedded, and gives the file at its own path.
  #[test]
  fn templates_mirror_the_output_tree() {
    // With a service that uses AWS, so that every template renders.
    let mut platform = builtin("openinnovation");
    platform.spec.services[0].aws = Some(crate::blueprint::model::ServiceAws {
      s3: vec![crate::blueprint::model::S3Access {
        bucket: "uploads".into(),
        access: crate::blueprint::model::Access::Read,
      }],
      sqs: Vec::new(),
    });
    // And previews on.
    platform.spec.delivery.previews = Some(crate::blueprint::model::Previews {
      enabled: Some(true),
      ttl_hours: None,
    });
    // And the managed Argo CD capability, for infra/argocd.tf.
    platform.spec.delivery.mode = Some(crate::blueprint::model::DeliveryMode::Argocd);
    platform.spec.delivery.argocd = Some(crate::blueprint::model::ArgoCdDelivery {
      managed: Some(true),
      identity_center: Some(crate::blueprint::model::IdentityCenter {
        instance_arn: "arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6".into(),
        region: None,
      }),
      rbac: None,
    });
    let files = render_infra(&platform);
    for (template, _) in TEMPLATES {
      assert!(
        Engine::file(template).is_some(),
        "{template} is not embedded"
      );
      let path = output_path(template, None, Some("staging"));
      assert!(files.contains_key(&path), "{template} gives no {path}");
    }
    assert_eq!(
      files.len(),
      TEMPLATES.len() + 3,
      "three per-environment files of production: tfvars, backend, test"
    );
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
          // `<registry address>//modules/<name>` is a submodule of the release.
          let address = attr("source");
          let (registry, submodule) = address.split_once("//").unwrap_or((&address, ""));
          let source = registry.replace('/', "__");
          let floor = attr("version").trim_start_matches("~>").trim().to_string() + ".0";
          let file = data.join(&source).join(format!("{floor}.json"));
          let json: Json = serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
          let inputs = &json["modules"][submodule]["variables"];
          assert!(inputs.is_object(), "{path}: no inputs of {address}");
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

  /// One statement of an `aws_iam_policy_document`, as the test reads it.
  #[derive(Debug)]
  struct Statement {
    sid: String,
    effect: String,
    actions: Vec<String>,
    /// `resources` or `not_resources`, as HCL text.
    resources: String,
    not_resources: bool,
    /// (test, variable, values as HCL text).
    conditions: Vec<(String, String, String)>,
  }

  fn attr_text(body: &hcl::Body, key: &str) -> Option<String> {
    body
      .attributes()
      .find(|a| a.key() == key)
      .map(|a| match a.expr() {
        Expression::String(s) => s.clone(),
        other => expr_text(other),
      })
  }

  /// An expression as one line of HCL: lists as `[a, b]`.
  fn expr_text(expr: &Expression) -> String {
    match expr {
      Expression::Array(items) => format!(
        "[{}]",
        items.iter().map(expr_text).collect::<Vec<_>>().join(", ")
      ),
      other => squash(&hcl::format::to_string(other).expect("formats")),
    }
  }

  /// Whitespace runs as one space, none inside brackets.
  fn squash(text: &str) -> String {
    text
      .split_whitespace()
      .collect::<Vec<_>>()
      .join(" ")
      .replace("[ ", "[")
      .replace(" ]", "]")
      .replace(", ]", "]")
  }

  /// The statements of `data "aws_iam_policy_document" "<name>"` in a file.
  fn policy(text: &str, name: &str) -> Vec<Statement> {
    let body = parse(name, text);
    let doc = block(&body, "data", ["aws_iam_policy_document", name]);
    doc
      .body()
      .blocks()
      .filter(|b| b.identifier() == "statement")
      .map(|statement| {
        let body = statement.body();
        let actions = body
          .attributes()
          .find(|a| a.key() == "actions")
          .map(|a| match a.expr() {
            Expression::Array(items) => items
              .iter()
              .map(|item| match item {
                Expression::String(s) => s.clone(),
                other => panic!("{name}: action {other} is not a literal"),
              })
              .collect(),
            other => panic!("{name}: actions {other} is not a list"),
          })
          .unwrap_or_default();
        let not_resources = attr_text(body, "not_resources");
        Statement {
          sid: attr_text(body, "sid").unwrap_or_default(),
          effect: attr_text(body, "effect").unwrap_or_else(|| "Allow".into()),
          actions,
          not_resources: not_resources.is_some(),
          resources: not_resources
            .or_else(|| attr_text(body, "resources"))
            .unwrap_or_default(),
          conditions: body
            .blocks()
            .filter(|b| b.identifier() == "condition")
            .map(|c| {
              let get = |key: &str| attr_text(c.body(), key).expect("condition attribute");
              (get("test"), get("variable"), get("values"))
            })
            .collect(),
        }
      })
      .collect()
  }

  /// The only `sub` condition of a trust policy: (test, values as HCL).
  fn trusted_subject(statements: &[Statement]) -> (String, String) {
    assert_eq!(statements.len(), 1, "{statements:?}");
    let trust = &statements[0];
    assert_eq!(trust.effect, "Allow");
    assert_eq!(trust.actions, ["sts:AssumeRoleWithWebIdentity"]);
    let subs: Vec<_> = trust
      .conditions
      .iter()
      .filter(|(_, variable, _)| variable.ends_with(":sub"))
      .collect();
    assert_eq!(subs.len(), 1, "{statements:?}");
    assert!(
      trust
        .conditions
        .iter()
        .any(|(test, variable, values)| test == "StringEquals"
          && variable.ends_with(":aud")
          && values.contains(GITHUB_AUDIENCE))
    );
    (subs[0].0.clone(), subs[0].2.clone())
  }

  /// Actions that only read (or describe, list, log in to a registry).
  fn reads(action: &str) -> bool {
    let verb = action.split_once(':').map_or(action, |(_, verb)| verb);
    ["Get", "List", "Describe", "BatchGet", "BatchCheck"]
      .iter()
      .any(|prefix| verb.starts_with(prefix))
  }

  /// The plan role trusts pull requests only, reads with ReadOnlyAccess and
  /// its own state, and writes nothing but the state's lock file: no secret
  /// values, no other objects.
  #[test]
  fn plan_roles_read_and_take_the_lock_only() {
    for (platform, files) in builtins() {
      let repository = &platform.spec.delivery.github.repository;
      let main = &files["infra/bootstrap/main.tf"];
      let roles = local_map(main, "terraform_plan_roles");
      for env in &platform.spec.environments {
        assert_eq!(roles[&env.name], names::terraform_plan_role(&platform, env));
        assert_ne!(roles[&env.name], names::terraform_role(&platform, env));
      }
      let (test, values) = trusted_subject(&policy(main, "terraform_plan_trust"));
      assert_eq!(test, "StringEquals");
      assert_eq!(values, "[local.pull_request_subject]");
      assert!(main.contains(&format!(
        "pull_request_subject = \"repo:{repository}:pull_request\"\n"
      )));

      let body = parse("infra/bootstrap/main.tf", main);
      let attachment = block(
        &body,
        "resource",
        ["aws_iam_role_policy_attachment", "terraform_plan"],
      );
      let arn = attr_text(attachment.body(), "policy_arn").unwrap();
      let arn = arn.trim_matches('"');
      assert!(arn.ends_with(":iam::aws:policy/ReadOnlyAccess"), "{arn}");

      let statements = policy(main, "terraform_plan");
      let lock = format!("${{each.value.arn}}/{STATE_KEY}.tflock");
      for statement in statements.iter().filter(|s| s.effect == "Allow") {
        for action in &statement.actions {
          let writes_the_lock = ["s3:PutObject", "s3:DeleteObject"].contains(&action.as_str());
          let uses_the_state_key =
            ["kms:Decrypt", "kms:GenerateDataKey"].contains(&action.as_str());
          assert!(
            reads(action) || writes_the_lock || uses_the_state_key,
            "{}: {action}",
            statement.sid
          );
          if writes_the_lock {
            assert_eq!(statement.resources, format!("[\"{lock}\"]"), "{action}");
          }
          if uses_the_state_key {
            assert_eq!(statement.resources, "[aws_kms_key.state.arn]", "{action}");
          }
          assert!(!statement.resources.contains('*') || action == "s3:ListBucket");
        }
      }
      let denied: Vec<&str> = statements
        .iter()
        .filter(|s| s.effect == "Deny")
        .flat_map(|s| s.actions.iter().map(String::as_str))
        .collect();
      for action in [
        "secretsmanager:GetSecretValue",
        "ssm:GetParameter",
        "s3:GetObject",
      ] {
        assert!(denied.contains(&action), "{action} is not denied");
      }
      let other_objects = statements
        .iter()
        .find(|s| s.sid == "NoOtherObjects")
        .expect("objects outside the state bucket are denied");
      assert!(other_objects.not_resources);
      assert_eq!(other_objects.resources, "[\"${each.value.arn}/*\"]");
    }
  }

  /// The build role trusts pushes to the delivered branch, exists only in
  /// the first environment, and can only push to that environment's ECR
  /// repositories: no EKS, no secrets, no IAM.
  #[test]
  /// The preview role trusts the GitHub environment `preview` alone (never
  /// the pull request subject of the plan role), pushes only to the preview
  /// repositories, and edits only the namespaces `pr-*` of the cluster.
  fn the_preview_role_trusts_only_the_preview_environment() {
    let mut checked = 0;
    for (platform, files) in builtins() {
      let Some(previews) = platform.previews() else {
        assert!(!files.contains_key("infra/previews.tf"));
        continue;
      };
      checked += 1;
      let repository = &platform.spec.delivery.github.repository;
      let tf = &files["infra/previews.tf"];
      let (test, values) = trusted_subject(&policy(tf, "preview_trust"));
      assert_eq!(test, "StringEquals");
      assert_eq!(
        values,
        format!("[\"repo:{repository}:environment:preview\"]")
      );
      let plan = format!("repo:{repository}:pull_request");
      assert!(
        files["infra/bootstrap/main.tf"].contains(&format!("pull_request_subject = \"{plan}\""))
      );
      assert!(
        !values.contains(&plan),
        "the plan role's subject is not the preview role's"
      );
      for statement in policy(tf, "preview") {
        assert_eq!(statement.effect, "Allow");
        let pushes = statement.actions.iter().any(|a| a == "ecr:PutImage");
        if pushes {
          assert_eq!(
            statement.resources,
            "[for repository in aws_ecr_repository.preview : repository.arn]"
          );
        }
        for action in &statement.actions {
          assert!(
            action.starts_with("ecr:")
              || action == "eks:DescribeCluster"
              || action == "rds:DescribeDBInstances",
            "{action}"
          );
        }
      }
      assert!(tf.contains("namespaces = [\"pr-*\"]"), "{tf}");
      assert!(tf.contains(&format!("preview_role_name = \"{}\"", previews.role)));
      assert!(tf.contains("count = var.image_builds ? 1 : 0"));
    }
    assert!(checked >= 2);
  }

  #[test]
  fn the_build_role_only_pushes_images() {
    for (platform, files) in builtins() {
      let repository = &platform.spec.delivery.github.repository;
      let branch = Resolved::new(&platform).branch;
      let iam = &files["infra/iam.tf"];
      let (test, values) = trusted_subject(&policy(iam, "build_trust"));
      assert_eq!(test, "StringEquals");
      assert_eq!(
        values,
        format!("[\"repo:{repository}:ref:refs/heads/{branch}\"]")
      );
      for statement in policy(iam, "build") {
        assert_eq!(statement.effect, "Allow");
        for action in &statement.actions {
          assert!(action.starts_with("ecr:"), "{action}");
        }
        if statement.actions == ["ecr:GetAuthorizationToken"] {
          assert_eq!(statement.resources, "[\"*\"]");
        } else {
          assert_eq!(
            statement.resources,
            "[for repository in aws_ecr_repository.service : repository.arn]"
          );
        }
      }
      assert_eq!(
        local(&files, "infra/locals.tf", "build_role_name", "dev"),
        format!("{}-dev-build", platform.name())
      );
      for (i, env) in platform.spec.environments.iter().enumerate() {
        let tfvars = &files[&format!("infra/environments/{}.tfvars", env.name)];
        assert_eq!(
          tfvars.contains("image_builds = true"),
          i == 0,
          "{}",
          env.name
        );
      }
      // The build role is nowhere in the cluster's access entries.
      assert!(!files["infra/eks.tf"].contains("aws_iam_role.build"));
    }
  }

  /// The admin Terraform role trusts only its `<env>-infra` environment, and
  /// no trust policy in infra/ or bootstrap/ names an `-infra` environment
  /// but its own.
  #[test]
  fn the_admin_role_trusts_only_the_infra_environments() {
    for (_, files) in builtins() {
      let main = &files["infra/bootstrap/main.tf"];
      let (test, values) = trusted_subject(&policy(main, "terraform_trust"));
      assert_eq!(test, "StringEquals");
      assert_eq!(values, "[local.infra_subjects[each.key]]");
      for subject in local_map(main, "infra_subjects").values() {
        assert!(subject.ends_with("-infra"), "{subject}");
      }
      for (path, text) in &files {
        if path.ends_with(".tf") {
          assert!(
            !text.contains(":environment:${var.environment}-infra"),
            "{path}"
          );
        }
      }
      // The deploy role trusts the deploy jobs' environment, never `-infra`.
      let (_, values) = trusted_subject(&policy(&files["infra/iam.tf"], "deploy_trust"));
      assert!(
        values.ends_with(":environment:${var.environment}\"]"),
        "{values}"
      );
    }
  }

  /// The deploy role's cluster access is AmazonEKSEditPolicy scoped to the
  /// platform's namespace, plus its Kubernetes group; only the Terraform
  /// role and the administrators are cluster-wide. Its IAM policy reads,
  /// and writes only images.
  #[test]
  fn the_deploy_role_is_scoped_to_the_namespaces() {
    for (platform, files) in builtins() {
      let eks = parse("eks.tf", &files["infra/eks.tf"]);
      let module = block_labelled(&eks, "module", "eks");
      let entries = module
        .body()
        .attributes()
        .find(|a| a.key() == "access_entries")
        .expect("access_entries");
      let Expression::FuncCall(merge) = entries.expr() else {
        panic!("access_entries is a merge");
      };
      let Expression::Object(fixed) = &merge.args[0] else {
        panic!("the fixed entries first");
      };
      let entry = |key: &str| -> String {
        let (_, value) = fixed
          .iter()
          .find(|(k, _)| k.to_string() == key)
          .unwrap_or_else(|| panic!("no access entry {key}"));
        squash(&hcl::format::to_string(value).expect("formats"))
      };
      let terraform = entry("terraform");
      assert!(
        terraform.contains("local.terraform_role_arn"),
        "{terraform}"
      );
      assert!(terraform.contains("type = \"cluster\""), "{terraform}");
      let text = &files["infra/eks.tf"];
      if Resolved::new(&platform).argocd() {
        // Argo CD applies the charts: the deploy role only reads the
        // Applications, through its group's Role in `argocd`; no access
        // policy at all.
        let deploy = entry("deploy");
        assert_eq!(
          deploy,
          format!(
            "{{ principal_arn = aws_iam_role.deploy.arn kubernetes_groups = [\"{}\"] }}",
            names::argocd_readers_group(&platform)
          ),
          "{text}"
        );
        assert!(!text.contains("deploy_namespaces"), "{text}");
        assert!(!text.contains("AmazonEKSEditPolicy"), "{text}");
      } else {
        deploy_edits_only_its_namespace(&platform, &entry, text);
      }

      for statement in policy(&files["infra/iam.tf"], "deploy") {
        for action in &statement.actions {
          let pushes =
            action.starts_with("ecr:") && statement.sid == "PushToThisEnvironmentsRepositories";
          assert!(reads(action) || pushes, "{}: {action}", statement.sid);
          assert!(!action.starts_with("iam:") && !action.starts_with("eks:Update"));
        }
      }
    }
  }

  /// The deploy role's access entry: AmazonEKSEditPolicy on the platform's
  /// namespace and its Kubernetes group, nothing cluster-wide.
  fn deploy_edits_only_its_namespace(
    platform: &Platform,
    entry: &dyn Fn(&str) -> String,
    text: &str,
  ) {
    let deploy = entry("deploy");
    assert!(
      deploy.contains("principal_arn = aws_iam_role.deploy.arn"),
      "{deploy}"
    );
    assert!(
      deploy.contains(&format!(
        "kubernetes_groups = [\"{}\"]",
        names::deployers_group(platform)
      )),
      "{deploy}"
    );
    assert!(deploy.contains("type = \"namespace\""), "{deploy}");
    assert!(
      deploy.contains("namespaces = local.deploy_namespaces"),
      "{deploy}"
    );
    assert!(!deploy.contains("cluster"), "{deploy}");
    assert!(
      deploy.contains("local.namespace_edit_policy_arn"),
      "{deploy}"
    );
    assert!(text.contains(
        "namespace_edit_policy_arn = \"arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSEditPolicy\""
      ));
    assert!(text.contains(&format!(
      "deploy_namespaces = [\"{}\"]",
      names::app_namespace(platform)
    )));
  }

  /// The attributes of a body (a `.tfvars` file, a test's `variables` block)
  /// by name, each value in hcl-rs's canonical format.
  fn values(body: &Body) -> BTreeMap<String, String> {
    body
      .attributes()
      .map(|a| (a.key().to_string(), a.expr().to_string()))
      .collect()
  }

  #[test]
  fn each_environment_has_a_plan_test_with_the_values_of_its_tfvars() {
    for (platform, files) in builtins() {
      let resolved = Resolved::new(&platform);
      let tests: Vec<_> = files
        .keys()
        .filter(|path| path.starts_with("infra/tests/"))
        .collect();
      assert_eq!(tests.len(), resolved.environments.len(), "{tests:?}");
      for environment in &resolved.environments {
        let name = &environment.name;
        let path = format!("infra/tests/{name}.tftest.hcl");
        let test = parse(&path, &files[&path]);
        let tfvars_path = format!("infra/environments/{name}.tfvars");
        let tfvars = values(&parse(&tfvars_path, &files[&tfvars_path]));
        let variables = test
          .blocks()
          .find(|b| b.identifier() == "variables")
          .unwrap_or_else(|| panic!("{path} has no variables block"));
        let mut variables = values(variables.body());
        // A variable with a default the tfvars leave out: the test spells it.
        if variables.get("image_builds").map(String::as_str) == Some("false") {
          variables.remove("image_builds");
        }
        assert_eq!(
          variables, tfvars,
          "{path} plans with other values than {tfvars_path}"
        );

        // It mocks AWS and only plans.
        let mocks: Vec<_> = test
          .blocks()
          .filter(|b| b.identifier() == "mock_provider")
          .map(|b| b.labels()[0].as_str().to_string())
          .collect();
        assert_eq!(mocks, ["aws"], "{path}");
        let runs: Vec<_> = test.blocks().filter(|b| b.identifier() == "run").collect();
        assert_eq!(runs.len(), 1, "{path}");
        let command = runs[0]
          .body()
          .attributes()
          .find(|a| a.key() == "command")
          .map(|a| a.expr().to_string());
        assert_eq!(command.as_deref(), Some("plan"), "{path}");

        // The trust it expects is the one iam.tf writes.
        let subject = format!("repo:{}:environment:{name}", resolved.repository);
        assert!(
          files[&path].contains(&format!("toset([\"{subject}\"])")),
          "{path}"
        );
        assert!(
          files["infra/iam.tf"].contains(&format!(
            "repo:{}:environment:${{var.environment}}",
            resolved.repository
          )),
          "iam.tf"
        );
        if let Some(database) = &environment.database {
          assert!(
            files[&path].contains(&format!(
              "aws_db_instance.main.instance_class == \"{}\"",
              database.instance_class
            )),
            "{path}"
          );
        }
      }
    }
  }

  /// `spec.delivery.argocd.managed`: the EKS Argo CD capability of the
  /// pinned EKS release's submodule; its role keeps the submodule's trust
  /// policy (capabilities.eks.amazonaws.com only) and gets no permission.
  #[test]
  fn the_managed_argocd_capability_has_a_role_without_permissions() {
    use crate::blueprint::model::{ArgoCdDelivery, ArgoCdRbac, IdentityCenter, SsoIdentity};
    let mut platform = builtin("ledger");
    assert!(!render_infra(&platform).contains_key("infra/argocd.tf"));
    platform.spec.delivery.argocd = Some(ArgoCdDelivery {
      managed: Some(true),
      identity_center: Some(IdentityCenter {
        instance_arn: "arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6".into(),
        region: None,
      }),
      rbac: Some(ArgoCdRbac {
        admin: vec![SsoIdentity {
          group: Some("9067a1b2c3-a1b2c3d4-1234-5678-9abc-def012345678".into()),
          user: None,
        }],
        editor: Vec::new(),
        viewer: vec![SsoIdentity {
          group: None,
          user: Some("9067a1b2c3-c1b2c3d4-1234-5678-9abc-def012345678".into()),
        }],
      }),
    });
    let files = render_infra(&platform);
    let body = parse("infra/argocd.tf", &files["infra/argocd.tf"]);
    let module = block_labelled(&body, "module", "argocd").body();
    assert_eq!(
      attr_text(module, "source").as_deref(),
      Some("terraform-aws-modules/eks/aws//modules/capability")
    );
    assert_eq!(attr_text(module, "type").as_deref(), Some("ARGOCD"));
    assert_eq!(
      attr_text(module, "iam_role_name").as_deref(),
      Some(r#""ledger-${var.environment}-argocd""#)
    );
    assert_eq!(
      attr_text(module, "iam_role_use_name_prefix").as_deref(),
      Some("false")
    );
    // No permission and no other trust: none of the submodule's inputs that
    // add either is set.
    for input in [
      "iam_policy_statements",
      "iam_role_policies",
      "iam_role_arn",
      "create_iam_role",
      "iam_role_override_assume_policy_documents",
      "iam_role_source_assume_policy_documents",
    ] {
      assert!(attr_text(module, input).is_none(), "argocd.tf sets {input}");
    }
    let configuration = attr_text(module, "configuration").expect("configuration");
    for fact in [
      "arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6",
      // Identity Center defaults to the platform's region.
      "eu-central-1",
      "ADMIN",
      "9067a1b2c3-a1b2c3d4-1234-5678-9abc-def012345678",
      "SSO_GROUP",
      "VIEWER",
      "SSO_USER",
    ] {
      assert!(configuration.contains(fact), "{fact} in {configuration}");
    }
    assert!(
      !configuration.contains("EDITOR"),
      "no identities, no mapping"
    );
    // In the cluster: edit in the platform's namespace, nothing cluster-wide.
    let association = block(
      &body,
      "resource",
      ["aws_eks_access_policy_association", "argocd"],
    )
    .body();
    assert_eq!(
      attr_text(association, "principal_arn").as_deref(),
      Some("module.argocd.iam_role_arn")
    );
    let policy = attr_text(association, "policy_arn").expect("policy_arn");
    assert!(
      policy.ends_with(":cluster-access-policy/AmazonEKSEditPolicy\""),
      "{policy}"
    );
    let scope = association
      .blocks()
      .find(|b| b.identifier() == "access_scope")
      .expect("access_scope")
      .body();
    assert_eq!(attr_text(scope, "type").as_deref(), Some("namespace"));
    assert_eq!(
      attr_text(scope, "namespaces").as_deref(),
      Some(r#"["ledger"]"#)
    );
    block_labelled(&body, "output", "argocd_server_url");
  }
}
