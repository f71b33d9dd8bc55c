//! `oi-gen verify`: whether a rendered repository, as it is on disk (hand
//! edits included), still fits together. Each rule family reads the parts it
//! compares (Terraform through hcl-rs, YAML through a parser that keeps line
//! numbers, chart templates with their actions blanked) and reports located
//! findings; nothing is rendered from the blueprint and nothing is run.
//!
//! Rules, by id:
//! - `secret-created`: every Secrets Manager secret an ExternalSecret reads is
//!   created by an `aws_secretsmanager_secret` or declared user-provided by a
//!   `data "aws_secretsmanager_secret"`, template keys evaluated with each
//!   environment's values (`<externalSecret.keyPrefix><key>`; keys taken
//!   from deploy-time values, such as the RDS-managed secret's ARN, are not
//!   checked);
//! - `role-trusted`: every role a workflow job assumes exists in Terraform and
//!   trusts that job's GitHub environment (or, outside an environment, every
//!   branch, tag and pull request event the job runs on) in its `sub`
//!   condition;
//! - `ecr-repository`: every ECR repository a workflow pushes to exists;
//! - `pod-identity`: every Pod Identity association names the namespace and
//!   service account of an add-on or chart;
//! - `host-dns`, `host-issuer`: every host a chart exposes has a DNS source
//!   (external-dns or a Route53 record) and a certificate issuer that exists;
//! - `netpol-dns`, `netpol-database`: every NetworkPolicy lets its pods reach
//!   DNS and, for a chart that uses the database, the database port;
//! - `chart-values`: every `.Values` path a chart's templates read is set in
//!   `values.yaml` and each `values-<env>.yaml`;
//! - `namespace-quota`: in each environment, the charts' requests, limits
//!   and pods at their most replicas fit every ResourceQuota under
//!   `cluster/manifests/` that applies there;
//! - `argocd-source`, `argocd-destination`: every Argo CD Application syncs a
//!   chart of the repository with values files that exist, into the
//!   platform's namespace, which its AppProject allows;
//! - `parse`: a file the rules read does not parse.

mod argocd;
mod helm;
mod hosts;
mod network;
mod pod_identity;
mod quota;
mod repo;
mod roles;
mod secrets;
pub(crate) mod terraform;
mod values;
pub(crate) mod yaml;

use std::fmt;
use std::path::Path;

use crate::error::Error;

pub(crate) use repo::Repo;

/// One problem, located in the file it is found in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Finding {
  /// Path relative to the repository, with `/`.
  pub file: String,
  pub line: usize,
  pub rule: &'static str,
  pub message: String,
}

impl Finding {
  pub(crate) fn new(
    file: impl Into<String>,
    line: usize,
    rule: &'static str,
    message: impl Into<String>,
  ) -> Self {
    Self {
      file: file.into(),
      line,
      rule,
      message: message.into(),
    }
  }
}

impl fmt::Display for Finding {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(
      f,
      "{}:{}: {}: {}",
      self.file, self.line, self.rule, self.message
    )
  }
}

/// Reads the repository in `dir` and runs every rule; the findings come back
/// sorted by file, line, rule and message, without duplicates.
pub(crate) fn verify(dir: &Path) -> Result<Vec<Finding>, Error> {
  let repo = Repo::read(dir)?;
  Ok(check(&repo))
}

/// Runs every rule on a repository already read.
pub(crate) fn check(repo: &Repo) -> Vec<Finding> {
  let mut findings = repo.problems.clone();
  findings.extend(secrets::check(repo));
  findings.extend(roles::check_roles(repo));
  findings.extend(roles::check_ecr(repo));
  findings.extend(pod_identity::check(repo));
  findings.extend(hosts::check(repo));
  findings.extend(network::check(repo));
  findings.extend(values::check(repo));
  findings.extend(quota::check(repo));
  findings.extend(argocd::check(repo));
  findings.sort();
  findings.dedup();
  findings
}

/// `a`, `a and b`, `a, b and c`.
pub(crate) fn list(items: &[String]) -> String {
  match items {
    [] => String::new(),
    [one] => one.clone(),
    [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
  }
}
