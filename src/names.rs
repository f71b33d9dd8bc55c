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

#[cfg(test)]
mod tests {
  use super::*;

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
