//! Names shared between targets: Terraform creates these resources, charts and
//! workflows refer to them. Change a name here and every target follows.

use crate::blueprint::Platform;
use crate::blueprint::model::{Environment, Service};

/// `<platform>-<env>`: the EKS cluster, and the prefix of every per-environment
/// cloud resource.
pub(crate) fn stack(platform: &Platform, environment: &Environment) -> String {
  format!("{}-{}", platform.name(), environment.name)
}

pub(crate) fn cluster(platform: &Platform, environment: &Environment) -> String {
  stack(platform, environment)
}

/// ECR repository of a service in an environment: `<platform>/<env>/<service>`.
/// Images are built once into the first environment's repository and copied,
/// digest unchanged, into the next one's on promotion.
pub(crate) fn ecr_repository(
  platform: &Platform,
  environment: &Environment,
  service: &Service,
) -> String {
  format!("{}/{}/{}", platform.name(), environment.name, service.name)
}

/// IAM role assumed by GitHub Actions jobs of one GitHub environment.
pub(crate) fn deploy_role(platform: &Platform, environment: &Environment) -> String {
  format!("{}-deploy", stack(platform, environment))
}

/// RDS instance identifier.
pub(crate) fn database_instance(platform: &Platform, environment: &Environment) -> String {
  format!("{}-postgres", stack(platform, environment))
}

/// S3 bucket holding one environment's Terraform state:
/// `[<prefix>-]<platform>-<env>[-<account>]-tfstate` (`spec.stateBuckets`).
/// Bucket names are global across AWS, so the prefix or the account id keeps
/// two platforms of the same name apart.
pub(crate) fn state_bucket(platform: &Platform, environment: &Environment) -> String {
  let settings = platform.spec.state_buckets.clone().unwrap_or_default();
  let mut name = String::new();
  if let Some(prefix) = settings.prefix.as_deref().filter(|p| !p.is_empty()) {
    name.push_str(prefix);
    name.push('-');
  }
  name.push_str(&stack(platform, environment));
  if settings.account == Some(true)
    && let Some(account) = environment.account_id()
  {
    name.push('-');
    name.push_str(&account);
  }
  name.push_str(STATE_BUCKET_SUFFIX);
  name
}

/// What every state bucket's name ends with.
pub(crate) const STATE_BUCKET_SUFFIX: &str = "-tfstate";
/// S3's limit on a bucket name.
pub(crate) const MAX_BUCKET_NAME: usize = 63;

/// Kubernetes namespace the services are deployed to.
pub(crate) fn app_namespace(platform: &Platform) -> String {
  platform.name().to_string()
}

/// Namespaces the platform's own namespace (its name) may not be: those of
/// Kubernetes itself and of the cluster add-ons, whose releases, policies and
/// secrets the services would share.
pub(crate) const RESERVED_NAMESPACES: &[&str] = &[
  "default",
  "kube-system",
  "kube-public",
  "kube-node-lease",
  "nginx-gateway",
  "ingress-nginx",
  "cert-manager",
  ESO_NAMESPACE,
  "monitoring",
  "tigera-operator",
  "calico-system",
  "calico-apiserver",
  "external-dns",
  "cosign-system",
  "argocd",
];

/// ClusterSecretStore that reads AWS Secrets Manager through Pod Identity.
pub(crate) const SECRET_STORE: &str = "aws-secrets-manager";
/// Namespace and service account of the External Secrets controller.
pub(crate) const ESO_NAMESPACE: &str = "external-secrets";
pub(crate) const ESO_SERVICE_ACCOUNT: &str = "external-secrets";
/// The EBS CSI controller's service account (the EKS add-on creates it in
/// `kube-system`); Terraform gives it its role through Pod Identity.
pub(crate) const EBS_CSI_SERVICE_ACCOUNT: &str = "ebs-csi-controller-sa";
/// The default StorageClass: encrypted gp3 volumes of the EBS CSI driver.
pub(crate) const STORAGE_CLASS: &str = "gp3";

/// GitHub environment whose jobs plan and apply `infra/` for an environment:
/// `<env>-infra`. It is kept apart from the deploy jobs' environment `<env>`,
/// because every job of a GitHub environment can assume every role that
/// trusts it, and the build and deploy jobs run the repository's code.
pub(crate) fn infra_environment(_platform: &Platform, environment: &Environment) -> String {
  format!("{}-infra", environment.name)
}

/// IAM role that Terraform runs as in the `<env>-infra` GitHub environment;
/// created by `infra/bootstrap/`, since the stack it applies cannot create it.
pub(crate) fn terraform_role(platform: &Platform, environment: &Environment) -> String {
  format!("{}-terraform", stack(platform, environment))
}

/// IAM role of the pull request plans of one environment: reads the
/// environment and its state (and takes the state lock), changes nothing.
/// Created by `infra/bootstrap/` next to the Terraform role.
pub(crate) fn terraform_plan_role(platform: &Platform, environment: &Environment) -> String {
  format!("{}-terraform-plan", stack(platform, environment))
}

/// IAM role of the image-build jobs: pushes to the ECR repositories of the
/// environment images are built in (the first one), nothing else.
pub(crate) fn build_role(platform: &Platform, environment: &Environment) -> String {
  format!("{}-build", stack(platform, environment))
}

/// Kubernetes group the deploy role is mapped to by its access entry; a
/// RoleBinding in each platform namespace grants it the custom resources
/// the charts create (which no EKS access policy covers).
pub(crate) fn deployers_group(platform: &Platform) -> String {
  format!("{}-deployers", platform.name())
}

/// The ECR registry host of an AWS account in a region:
/// `<account>.dkr.ecr.<region>.amazonaws.com` (`.amazonaws.com.cn` in the
/// China regions).
pub(crate) fn ecr_registry(account: &str, region: &str) -> String {
  let suffix = if region.starts_with("cn-") {
    "amazonaws.com.cn"
  } else {
    "amazonaws.com"
  };
  format!("{account}.dkr.ecr.{region}.{suffix}")
}

/// The OIDC issuer of GitHub Actions, in the certificates of keyless signatures.
pub(crate) const GITHUB_ACTIONS_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The certificate identity (SAN) of a keyless signature made by the Deploy
/// workflow of `repository` (`owner/name`) on `branch`.
pub(crate) fn signer_identity(repository: &str, branch: &str) -> String {
  format!("https://github.com/{repository}/.github/workflows/deploy.yml@refs/heads/{branch}")
}

/// ECR repository of the migrations image in an environment:
/// `<platform>/<env>/<owner>-migrations`, next to the owner's own image
/// (validation keeps `<owner>-migrations` free as a service name). Built once
/// into the first environment's and promoted like the service images.
pub(crate) fn migrations_repository(
  platform: &Platform,
  environment: &Environment,
  owner: &Service,
) -> String {
  format!(
    "{}-migrations",
    ecr_repository(platform, environment, owner)
  )
}

/// `<platform>/<env>/`: every Secrets Manager secret of one environment is
/// named under it, so environments that share an AWS account never share a
/// secret, and each environment's readers are limited to its own.
pub(crate) fn secret_scope(platform: &Platform, environment: &Environment) -> String {
  format!("{}/{}/", platform.name(), environment.name)
}

/// A `secret:` reference's name inside its environment's scope: the name as
/// the blueprint writes it, without a leading `<platform>/` (the scope holds
/// it already).
pub(crate) fn scoped_secret_key<'a>(platform: &Platform, secret: &'a str) -> &'a str {
  secret
    .strip_prefix(platform.name())
    .and_then(|rest| rest.strip_prefix('/'))
    .filter(|rest| !rest.is_empty())
    .unwrap_or(secret)
}

/// In-scope key of the secret with Grafana's admin credentials.
pub(crate) const GRAFANA_ADMIN_KEY: &str = "grafana-admin";

/// The secret with Grafana's admin credentials (JSON `username`, `password`),
/// generated by Terraform.
pub(crate) fn grafana_admin_secret(platform: &Platform, environment: &Environment) -> String {
  format!("{}{GRAFANA_ADMIN_KEY}", secret_scope(platform, environment))
}

/// In-scope key of the database's connection details (host, port, name),
/// written by Terraform.
pub(crate) const DATABASE_KEY: &str = "database";

/// In-scope prefix of the Alertmanager receivers' credentials, which the
/// user fills: `alertmanager/email` (JSON `password`), `alertmanager/slack`
/// (`webhookUrl`), `alertmanager/pagerduty` (`routingKey`).
pub(crate) const ALERTMANAGER_KEY: &str = "alertmanager";

/// The receivers' credentials: in-scope key, JSON property, and the key of
/// the Kubernetes Secret Alertmanager reads it from as a file.
pub(crate) const ALERTMANAGER_EMAIL: (&str, &str, &str) =
  ("alertmanager/email", "password", "email-password");
pub(crate) const ALERTMANAGER_SLACK: (&str, &str, &str) =
  ("alertmanager/slack", "webhookUrl", "slack-webhook-url");
pub(crate) const ALERTMANAGER_PAGERDUTY: (&str, &str, &str) = (
  "alertmanager/pagerduty",
  "routingKey",
  "pagerduty-routing-key",
);

/// Whether a `secret:` reference's in-scope key names a secret oi-gen
/// creates itself.
pub(crate) fn reserved_secret_key(key: &str) -> bool {
  key == GRAFANA_ADMIN_KEY
    || key == DATABASE_KEY
    || key == ALERTMANAGER_KEY
    || key
      .strip_prefix(ALERTMANAGER_KEY)
      .is_some_and(|rest| rest.starts_with('/'))
    || key
      .strip_prefix(DATABASE_KEY)
      .is_some_and(|rest| rest.starts_with('/'))
}

/// In-scope key of a service's own database credentials (JSON `username`,
/// `password`): `database/<service>`, generated by Terraform.
pub(crate) fn database_role_key(service: &str) -> String {
  format!("{DATABASE_KEY}/{service}")
}

/// The PostgreSQL role a service connects as: `app_<service>`, `-` as `_`.
/// Never the master user, a `pg_` or `rds` role or `public`.
pub(crate) fn database_role(service: &str) -> String {
  format!("app_{}", service.replace('-', "_"))
}

/// The Karpenter controller's IAM role in an environment (`<stack>-karpenter`).
pub(crate) fn karpenter_controller_role(stack: &str) -> String {
  format!("{stack}-karpenter")
}

/// Kubernetes group the deploy role is mapped to with Argo CD: a Role in the
/// namespace `argocd` lets it read the Applications (and nothing else), so
/// a deploy waits for its environment's Argo CD before the next promotion.
pub(crate) fn argocd_readers_group(platform: &Platform) -> String {
  format!("{}-argocd-readers", platform.name())
}

/// The name of the EKS Argo CD capability of each cluster
/// (`spec.delivery.argocd.managed`).
pub(crate) const ARGOCD_CAPABILITY: &str = "argocd";

/// The IAM role of the EKS Argo CD capability (`<stack>-argocd`), which
/// `cluster/install.sh` grants the platform's namespace.
pub(crate) fn argocd_capability_role(stack: &str) -> String {
  format!("{stack}-argocd")
}

/// The IAM role of the nodes Karpenter launches (`<stack>-karpenter-node`),
/// which the EC2NodeClasses name.
pub(crate) fn karpenter_node_role(stack: &str) -> String {
  format!("{stack}-karpenter-node")
}

/// Karpenter's interruption queue (`<stack>-karpenter`), which its
/// controller's `settings.interruptionQueue` names.
pub(crate) fn karpenter_queue(stack: &str) -> String {
  format!("{stack}-karpenter")
}

/// Longest IAM role `name_prefix`: a 64-character name less the 26-character
/// unique suffix Terraform appends.
pub(crate) const IAM_NAME_PREFIX_MAX: usize = 38;
/// What the EKS module (v21) appends to the cluster name for the cluster IAM
/// role's `name_prefix` (`"${name}-cluster"` and the `-` separator).
pub(crate) const EKS_CLUSTER_ROLE_SUFFIX: &str = "-cluster-";
/// What its managed node group submodule appends to a node group's name for
/// the node IAM role's `name_prefix` (`"${name}-eks-node-group"` and `-`).
pub(crate) const EKS_NODE_ROLE_SUFFIX: &str = "-eks-node-group-";

/// A kind of AWS name, with the limit AWS puts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AwsKind {
  /// `aws_iam_role.name`: 64 (IAM quotas).
  IamRole,
  /// `aws_iam_role.name_prefix` (or a module's `use_name_prefix`): 38, the
  /// 64 of a name less the 26 characters Terraform appends.
  IamRoleNamePrefix,
  /// `aws_iam_policy.name`: 128.
  IamPolicy,
  /// `aws_eks_cluster.name`: 100.
  EksCluster,
  /// `aws_eks_node_group.node_group_name_prefix`: 63 less 26.
  EksNodeGroupPrefix,
  /// `aws_db_instance.identifier`: 63.
  RdsInstance,
  /// `aws_db_parameter_group.name_prefix`: 255 less 26.
  RdsParameterGroupPrefix,
  /// `aws_db_instance.final_snapshot_identifier`: 255.
  RdsFinalSnapshot,
  /// `aws_db_subnet_group.name`: 255.
  RdsSubnetGroup,
  /// `aws_s3_bucket.bucket`: 63.
  S3Bucket,
  /// `aws_ecr_repository.name`: 256.
  EcrRepository,
  /// `aws_secretsmanager_secret.name`: 512.
  Secret,
  /// `aws_kms_alias.name`: 256.
  KmsAlias,
  /// `aws_cloudwatch_log_group.name`: 512.
  LogGroup,
  /// `aws_sqs_queue.name`: 80.
  SqsQueue,
  /// `aws_security_group.name`: 255.
  SecurityGroup,
}

impl AwsKind {
  /// The longest name AWS accepts.
  pub fn limit(self) -> usize {
    match self {
      AwsKind::IamRole => 64,
      AwsKind::IamRoleNamePrefix => IAM_NAME_PREFIX_MAX,
      AwsKind::IamPolicy => 128,
      AwsKind::EksCluster => 100,
      AwsKind::EksNodeGroupPrefix => 63 - 26,
      AwsKind::RdsInstance | AwsKind::S3Bucket => 63,
      AwsKind::RdsParameterGroupPrefix => 255 - 26,
      AwsKind::RdsFinalSnapshot | AwsKind::RdsSubnetGroup | AwsKind::SecurityGroup => 255,
      AwsKind::EcrRepository | AwsKind::KmsAlias => 256,
      AwsKind::Secret | AwsKind::LogGroup => 512,
      AwsKind::SqsQueue => 80,
    }
  }

  /// What the name is, for messages.
  pub fn describe(self) -> &'static str {
    match self {
      AwsKind::IamRole => "IAM role name",
      AwsKind::IamRoleNamePrefix => "IAM role name prefix",
      AwsKind::IamPolicy => "IAM policy name",
      AwsKind::EksCluster => "EKS cluster name",
      AwsKind::EksNodeGroupPrefix => "EKS node group name prefix",
      AwsKind::RdsInstance => "RDS instance identifier",
      AwsKind::RdsParameterGroupPrefix => "RDS parameter group name prefix",
      AwsKind::RdsFinalSnapshot => "RDS final snapshot identifier",
      AwsKind::RdsSubnetGroup => "RDS subnet group name",
      AwsKind::S3Bucket => "S3 bucket name",
      AwsKind::EcrRepository => "ECR repository name",
      AwsKind::Secret => "Secrets Manager secret name",
      AwsKind::KmsAlias => "KMS alias",
      AwsKind::LogGroup => "CloudWatch log group name",
      AwsKind::SqsQueue => "SQS queue name",
      AwsKind::SecurityGroup => "security group name",
    }
  }
}

/// Which rule of the blueprint a name is checked under, for the message
/// validation gives when it is too long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameRule {
  /// Built from `<platform>-<environment>` (the stack), whose tightest name
  /// is the EKS cluster IAM role's prefix.
  Stack { stack: String },
  /// Built from a node group's name.
  NodeGroup { group: String },
  /// A service's own AWS role.
  ServiceRole,
  /// A `secret:` reference, by its in-scope key.
  Secret { key: String },
  /// A Terraform state bucket.
  StateBucket,
  /// Any other.
  Other,
}

impl NameRule {
  /// The rule's name, one per variant.
  pub fn family(&self) -> &'static str {
    match self {
      NameRule::Stack { .. } => "stack",
      NameRule::NodeGroup { .. } => "node group",
      NameRule::ServiceRole => "service role",
      NameRule::Secret { .. } => "secret",
      NameRule::StateBucket => "state bucket",
      NameRule::Other => "other",
    }
  }
}

/// One AWS name the render creates, in one environment, with the blueprint
/// fields that make it: the first is where validation points when the name
/// is too long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsName {
  pub kind: AwsKind,
  /// The environment it is created in.
  pub environment: String,
  pub name: String,
  /// Field paths of the blueprint that make the name, the one to shorten
  /// first.
  pub fields: Vec<String>,
  pub rule: NameRule,
}

impl AwsName {
  /// Characters past the limit, or 0.
  pub fn overflow(&self) -> usize {
    self.name.len().saturating_sub(self.kind.limit())
  }
}

/// Every AWS name the render creates, per environment, each with its limit
/// (its kind) and the fields that drive it. Validation checks each against
/// its limit; `tests/it/aws_names.rs` checks the table holds every name the
/// rendered Terraform sets. The names of the database, of the autoscaler,
/// of a service's AWS access and of the migrations image are listed only
/// when the blueprint has them; the add-ons' roles and secrets always (each
/// is the stack plus a short suffix, within its limit whenever the stack is,
/// so listing one the render leaves out refuses nothing). The load
/// balancers are named by the AWS Load Balancer Controller, not here.
pub(crate) fn aws_names(platform: &Platform) -> Vec<AwsName> {
  let mut out = Vec::new();
  let autoscaler = platform.autoscaler();
  for (i, environment) in platform.spec.environments.iter().enumerate() {
    let env_field = format!("spec.environments[{i}].name");
    let stack = stack(platform, environment);
    let of_stack = |out: &mut Vec<AwsName>, kind: AwsKind, name: String| {
      out.push(AwsName {
        kind,
        environment: environment.name.clone(),
        name,
        fields: vec![env_field.clone(), "metadata.name".to_string()],
        rule: NameRule::Stack {
          stack: stack.clone(),
        },
      });
    };
    // The tightest first: the cluster IAM role's prefix.
    of_stack(
      &mut out,
      AwsKind::IamRoleNamePrefix,
      format!("{stack}{EKS_CLUSTER_ROLE_SUFFIX}"),
    );
    of_stack(
      &mut out,
      AwsKind::EksCluster,
      cluster(platform, environment),
    );
    of_stack(
      &mut out,
      AwsKind::LogGroup,
      format!("/aws/eks/{stack}/cluster"),
    );
    of_stack(&mut out, AwsKind::KmsAlias, format!("alias/{stack}"));
    of_stack(&mut out, AwsKind::RdsSubnetGroup, stack.clone());
    of_stack(
      &mut out,
      AwsKind::SecurityGroup,
      format!("{stack}-vpc-endpoints"),
    );
    for role in [
      deploy_role(platform, environment),
      terraform_role(platform, environment),
      terraform_plan_role(platform, environment),
      format!("{stack}-external-secrets"),
      format!("{stack}-external-dns"),
      format!("{stack}-cert-manager"),
      format!("{stack}-policy-controller"),
      format!("{stack}-load-balancer"),
      format!("{stack}-ebs-csi"),
    ] {
      of_stack(&mut out, AwsKind::IamRole, role);
    }
    if i == 0 {
      of_stack(
        &mut out,
        AwsKind::IamRole,
        build_role(platform, environment),
      );
      if let Some(previews) = platform.previews() {
        of_stack(&mut out, AwsKind::IamRole, previews.role);
      }
    }
    of_stack(
      &mut out,
      AwsKind::IamPolicy,
      format!("{stack}-load-balancer-controller"),
    );
    match autoscaler {
      crate::blueprint::model::Autoscaler::Karpenter => {
        of_stack(
          &mut out,
          AwsKind::IamRole,
          karpenter_controller_role(&stack),
        );
        of_stack(&mut out, AwsKind::IamRole, karpenter_node_role(&stack));
        of_stack(&mut out, AwsKind::SqsQueue, karpenter_queue(&stack));
      }
      crate::blueprint::model::Autoscaler::ClusterAutoscaler => {
        of_stack(
          &mut out,
          AwsKind::IamRole,
          format!("{stack}-cluster-autoscaler"),
        );
      }
    }
    if platform.spec.database.is_some() {
      let db = database_instance(platform, environment);
      of_stack(&mut out, AwsKind::RdsInstance, db.clone());
      of_stack(&mut out, AwsKind::RdsParameterGroupPrefix, format!("{db}-"));
      // `-final-` and 8 characters of a random id.
      of_stack(
        &mut out,
        AwsKind::RdsFinalSnapshot,
        format!("{db}-final-xxxxxxxx"),
      );
      of_stack(&mut out, AwsKind::IamRole, format!("{db}-monitoring"));
      for log in ["postgresql", "upgrade"] {
        of_stack(
          &mut out,
          AwsKind::LogGroup,
          format!("/aws/rds/instance/{db}/{log}"),
        );
      }
      of_stack(
        &mut out,
        AwsKind::Secret,
        format!("{}{DATABASE_KEY}", secret_scope(platform, environment)),
      );
    }
    of_stack(
      &mut out,
      AwsKind::Secret,
      grafana_admin_secret(platform, environment),
    );
    for (key, _, _) in [
      ALERTMANAGER_EMAIL,
      ALERTMANAGER_SLACK,
      ALERTMANAGER_PAGERDUTY,
    ] {
      of_stack(
        &mut out,
        AwsKind::Secret,
        format!("{}{key}", secret_scope(platform, environment)),
      );
    }

    let groups = platform.spec.cluster.node_groups.iter().enumerate();
    let system = (autoscaler == crate::blueprint::model::Autoscaler::Karpenter)
      .then(|| (None, "system".to_string()));
    for (field, group) in groups
      .map(|(j, group)| {
        (
          Some(format!("spec.cluster.nodeGroups[{j}].name")),
          group.name.clone(),
        )
      })
      .chain(system)
    {
      let fields: Vec<String> = field.into_iter().collect();
      for (kind, name) in [
        (
          AwsKind::IamRoleNamePrefix,
          format!("{group}{EKS_NODE_ROLE_SUFFIX}"),
        ),
        (AwsKind::EksNodeGroupPrefix, format!("{group}-")),
      ] {
        out.push(AwsName {
          kind,
          environment: environment.name.clone(),
          name,
          fields: fields.clone(),
          rule: NameRule::NodeGroup {
            group: group.clone(),
          },
        });
      }
    }

    for (k, service) in platform.spec.services.iter().enumerate() {
      let service_field = format!("spec.services[{k}].name");
      let fields = vec![
        service_field.clone(),
        env_field.clone(),
        "metadata.name".to_string(),
      ];
      let mut repositories = vec![ecr_repository(platform, environment, service)];
      if service.runs_migrations {
        repositories.push(migrations_repository(platform, environment, service));
      }
      if i == 0
        && let Some(previews) = platform.previews()
      {
        let prefix = &previews.repository_prefix;
        repositories.push(format!("{prefix}/{}", service.name));
        if service.runs_migrations {
          repositories.push(format!("{prefix}/{}-migrations", service.name));
        }
      }
      for name in repositories {
        out.push(AwsName {
          kind: AwsKind::EcrRepository,
          environment: environment.name.clone(),
          name,
          fields: fields.clone(),
          rule: NameRule::Other,
        });
      }
      if service.aws.is_some() {
        out.push(AwsName {
          kind: AwsKind::IamRole,
          environment: environment.name.clone(),
          name: format!("{stack}-{}", service.name),
          fields: fields.clone(),
          rule: NameRule::ServiceRole,
        });
      }
      if platform.spec.database.is_some() && uses_database(service) {
        out.push(AwsName {
          kind: AwsKind::Secret,
          environment: environment.name.clone(),
          name: format!(
            "{}{}",
            secret_scope(platform, environment),
            database_role_key(&service.name)
          ),
          fields: fields.clone(),
          rule: NameRule::Other,
        });
      }
      for (variable, reference) in &service.secret_env {
        let Some(secret) = reference.secret.as_deref().filter(|s| !s.is_empty()) else {
          continue;
        };
        let key = scoped_secret_key(platform, secret);
        out.push(AwsName {
          kind: AwsKind::Secret,
          environment: environment.name.clone(),
          name: format!("{}{key}", secret_scope(platform, environment)),
          fields: vec![
            format!("spec.services[{k}].secretEnv.{variable}.secret"),
            env_field.clone(),
            "metadata.name".to_string(),
          ],
          rule: NameRule::Secret {
            key: key.to_string(),
          },
        });
      }
    }

    let prefix = platform
      .spec
      .state_buckets
      .as_ref()
      .and_then(|settings| settings.prefix.as_ref());
    let mut fields = Vec::new();
    if prefix.is_some() {
      fields.push("spec.stateBuckets.prefix".to_string());
    }
    fields.extend([env_field.clone(), "metadata.name".to_string()]);
    out.push(AwsName {
      kind: AwsKind::S3Bucket,
      environment: environment.name.clone(),
      name: state_bucket(platform, environment),
      fields,
      rule: NameRule::StateBucket,
    });
    of_stack(
      &mut out,
      AwsKind::KmsAlias,
      format!("alias/{}-tfstate", platform.name()),
    );
  }
  out
}

/// Whether a service reads the database (its `secretEnv` names it).
fn uses_database(service: &Service) -> bool {
  service
    .secret_env
    .values()
    .any(|reference| reference.database.is_some())
}

#[cfg(test)]
mod tests {
  use super::*;

  /// The built-in platform's table: per environment, the tightest name
  /// first, every kind it renders, every name within its limit, and each
  /// name made by a field of the blueprint but the Karpenter `system` group.
  #[test]
  fn the_table_lists_every_kind_per_environment() {
    let text = crate::builtin::get("openinnovation").unwrap().text;
    let loaded = crate::blueprint::load(text.as_bytes()).unwrap();
    let table = &loaded.resolved.aws_names;
    for environment in &loaded.resolved.environments {
      let names: Vec<&AwsName> = table
        .iter()
        .filter(|name| name.environment == environment.name)
        .collect();
      assert_eq!(names[0].kind, AwsKind::IamRoleNamePrefix);
      assert_eq!(
        names[0].name,
        format!("openinnovation-ai-{}-cluster-", environment.name)
      );
      for kind in [
        AwsKind::IamRole,
        AwsKind::IamRoleNamePrefix,
        AwsKind::IamPolicy,
        AwsKind::EksCluster,
        AwsKind::EksNodeGroupPrefix,
        AwsKind::RdsInstance,
        AwsKind::RdsParameterGroupPrefix,
        AwsKind::RdsFinalSnapshot,
        AwsKind::RdsSubnetGroup,
        AwsKind::S3Bucket,
        AwsKind::EcrRepository,
        AwsKind::Secret,
        AwsKind::KmsAlias,
        AwsKind::LogGroup,
        AwsKind::SqsQueue,
        AwsKind::SecurityGroup,
      ] {
        assert!(names.iter().any(|name| name.kind == kind), "{kind:?}");
      }
      for name in &names {
        assert_eq!(name.overflow(), 0, "{name:?}");
        assert!(
          !name.fields.is_empty() || name.name.starts_with("system-"),
          "{name:?}"
        );
      }
    }
  }

  #[test]
  fn registries_follow_the_partition_of_the_region() {
    assert_eq!(
      ecr_registry("111122223333", "eu-west-1"),
      "111122223333.dkr.ecr.eu-west-1.amazonaws.com"
    );
    assert_eq!(
      ecr_registry("111122223333", "us-gov-west-1"),
      "111122223333.dkr.ecr.us-gov-west-1.amazonaws.com"
    );
    assert_eq!(
      ecr_registry("111122223333", "cn-north-1"),
      "111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn"
    );
  }
}
