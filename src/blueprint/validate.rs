//! Semantic checks after parsing. Every problem is reported, not only the
//! first; each names the field path it is about.

use std::collections::HashMap;

use super::instances;
use super::model::{API_VERSION, KIND, Platform, SecretRef};
use super::network::{self, Cidr};
use super::regions;
use super::resolved::scalar_text;
use crate::diagnostic::{Diagnostic, suggest};
use crate::names;

/// EKS minor versions in standard support (the EKS release calendar: 1.34
/// until 2026-12-02, 1.35 until 2027-03-27, 1.36 after it).
pub(crate) const EKS_STANDARD: &[&str] = &["1.34", "1.35", "1.36"];
/// EKS minor versions in extended support (they cost more and end soon).
pub(crate) const EKS_EXTENDED: &[&str] = &["1.32", "1.33"];
use crate::names::{EKS_CLUSTER_ROLE_SUFFIX, EKS_NODE_ROLE_SUFFIX, IAM_NAME_PREFIX_MAX};
/// Longest `<platform>-<environment>`, the EKS cluster name: the tightest of
/// the names built from it is the cluster IAM role's prefix (the RDS
/// identifier, 63, the state bucket, 63, and the other roles, 64, leave room).
pub(crate) const MAX_STACK_NAME: usize = IAM_NAME_PREFIX_MAX - EKS_CLUSTER_ROLE_SUFFIX.len();
/// Longest node group name, from the node IAM role's prefix.
pub(crate) const MAX_NODE_GROUP_NAME: usize = IAM_NAME_PREFIX_MAX - EKS_NODE_ROLE_SUFFIX.len();
/// PostgreSQL majors RDS offers.
pub(crate) const POSTGRES_MAJORS: &[&str] = &["14", "15", "16", "17", "18"];

struct Checker<'a> {
  platform: &'a Platform,
  found: Vec<Diagnostic>,
}

pub(crate) fn validate(platform: &Platform) -> Vec<Diagnostic> {
  let mut checker = Checker {
    platform,
    found: Vec::new(),
  };
  checker.header();
  checker.aws();
  checker.network();
  checker.cluster();
  checker.database();
  checker.services();
  checker.environments();
  checker.delivery();
  checker.compliance();
  checker.owners();
  checker.cluster_admins();
  checker.aws_name_limits();
  checker.karpenter();
  checker.auto_mode();
  checker.egress();
  checker.accounts();
  checker.endpoint();
  checker.service_aws();
  checker.state_buckets();
  checker.reviewers();
  checker.versions();
  checker.eks_addon_pins();
  checker.quota();
  super::previews::validate(platform, &mut checker.found);
  deployable(platform, &mut checker.found);
  checker.found
}

impl Checker<'_> {
  /// `spec.environments[].overrides.quota`: quantities, and no amount below
  /// what the services request (or may use, for limits) at their most
  /// replicas; below the computed quota it warns (a deploy at the peak
  /// would wait for quota).
  fn quota(&mut self) {
    use super::quota::{self, Amounts};
    let p = self.platform;
    for (i, env) in p.spec.environments.iter().enumerate() {
      let Some(given) = env.overrides.as_ref().and_then(|o| o.quota.as_ref()) else {
        continue;
      };
      let path = format!("spec.environments[{i}].overrides.quota");
      let workloads = quota::workloads(p, env);
      let least = workloads.as_deref().map(quota::floor);
      let computed = workloads
        .as_deref()
        .map(|w| quota::computed(w, quota::runs_migrations(p)));
      for (kind, amounts) in [("requests", &given.requests), ("limits", &given.limits)] {
        let Some(amounts) = amounts else { continue };
        let pick = |a: &quota::NamespaceQuota| -> Amounts {
          if kind == "requests" {
            a.requests
          } else {
            a.limits
          }
        };
        let per_pod = |w: &quota::Workload| {
          if kind == "requests" {
            w.requests
          } else {
            w.limits
          }
        };
        for (resource, value) in [("cpu", &amounts.cpu), ("memory", &amounts.memory)] {
          let Some(value) = value else { continue };
          let at = format!("{path}.{kind}.{resource}");
          let (parsed, example) = if resource == "cpu" {
            (quota::cpu_millis(value), "`8` or `7500m`")
          } else {
            (quota::memory_bytes(value), "`16Gi`")
          };
          let Some(parsed) = parsed else {
            self.error(
              at,
              format!(
                "`{value}` is not a {} quantity such as {example}",
                if resource == "cpu" { "CPU" } else { "memory" }
              ),
            );
            continue;
          };
          let (Some(least), Some(computed), Some(workloads)) = (&least, &computed, &workloads)
          else {
            continue;
          };
          let (least, computed, text): (u64, u64, fn(u64) -> String) = if resource == "cpu" {
            (pick(least).cpu, pick(computed).cpu, quota::format_cpu)
          } else {
            (
              pick(least).memory,
              pick(computed).memory,
              quota::format_memory,
            )
          };
          if parsed < least {
            let terms: Vec<String> = workloads
              .iter()
              .map(|w| {
                let amount = if resource == "cpu" {
                  quota::format_cpu(per_pod(w).cpu)
                } else {
                  quota::format_memory(per_pod(w).memory)
                };
                format!("{} {} × {amount}", w.name, w.max_replicas)
              })
              .collect();
            self
              .error(
                at,
                format!(
                  "{kind}.{resource} `{value}` is below the `{}` the services' {kind} come to at their most replicas ({}); the namespace could not run them",
                  text(least),
                  terms.join(" + ")
                ),
              )
              .hint = Some(format!(
              "give at least `{}`, or leave it out for the computed `{}`",
              text(least),
              text(computed)
            ));
          } else if parsed < computed {
            self
              .warn(
                at,
                format!(
                  "{kind}.{resource} `{value}` is below the computed `{}`: a rolling update at the services' most replicas, the migration Job or a one-off pod would wait for quota",
                  text(computed)
                ),
              )
              .hint = Some(format!("leave it out for the computed `{}`", text(computed)));
          }
        }
      }
      if let Some(pods) = given.pods {
        let at = format!("{path}.pods");
        let least = least.as_ref().map_or(1, |l| l.pods.max(1));
        if pods < i64::try_from(least).unwrap_or(i64::MAX) {
          self
            .error(
              at,
              format!(
                "pods `{pods}` is below the {least} pods the services run at their most replicas"
              ),
            )
            .hint = Some(format!("give at least {least}, or leave it out"));
        } else if let Some(computed) = &computed
          && pods < i64::try_from(computed.pods).unwrap_or(i64::MAX)
        {
          self
            .warn(
              at,
              format!(
                "pods `{pods}` is below the computed {}: a rolling update at the services' most replicas, the migration Job or a one-off pod would wait for quota",
                computed.pods
              ),
            )
            .hint = Some(format!("leave it out for the computed {}", computed.pods));
        }
      }
    }
  }

  /// `spec.delivery.github.reviewers`: GitHub user names and team slugs,
  /// each once, at most 6 of each (GitHub's limit per environment).
  fn reviewers(&mut self) {
    let Some(reviewers) = &self.platform.spec.delivery.github.reviewers else {
      return;
    };
    let lists = [
      ("users", &reviewers.users, github_user as fn(&str) -> bool),
      ("teams", &reviewers.teams, github_team_slug),
    ];
    for (field, list, valid) in lists {
      let path = format!("spec.delivery.github.reviewers.{field}");
      if list.len() > MAX_REVIEWERS {
        self
          .error(
            &path,
            format!(
              "{} {field} listed; a GitHub environment takes at most {MAX_REVIEWERS}",
              list.len()
            ),
          )
          .hint = Some("list a team instead of its members".into());
      }
      let mut seen = HashMap::new();
      for (i, name) in list.iter().enumerate() {
        let at = format!("{path}[{i}]");
        if !valid(name) {
          let what = if field == "users" {
            "a GitHub user name (letters, digits and single '-', at most 39)"
          } else {
            "a GitHub team slug (lowercase letters, digits, '-' and '_')"
          };
          self.error(&at, format!("`{name}` is not {what}"));
        } else if let Some(first) = seen.insert(name.to_ascii_lowercase(), i) {
          self.error(
            &at,
            format!("`{name}` is listed twice (also at index {first})"),
          );
        }
      }
    }
  }

  /// `spec.stateBuckets`: the prefix is a DNS label S3 accepts at the start
  /// of a bucket name, `account: true` needs every environment's account,
  /// and every environment's state bucket name fits S3's 63 characters.
  fn state_buckets(&mut self) {
    let p = self.platform;
    let Some(settings) = &p.spec.state_buckets else {
      return;
    };
    if let Some(prefix) = &settings.prefix {
      self.label("spec.stateBuckets.prefix", prefix, names::MAX_BUCKET_NAME);
      if let Some(reserved) = S3_RESERVED_PREFIXES
        .iter()
        .find(|reserved| prefix.starts_with(*reserved))
      {
        self
          .error(
            "spec.stateBuckets.prefix",
            format!(
              "`{prefix}` starts with `{reserved}`, which S3 reserves for its own bucket names"
            ),
          )
          .hint = Some("choose another prefix".into());
      }
    }
    if settings.account == Some(true)
      && let Some((i, env)) = p
        .spec
        .environments
        .iter()
        .enumerate()
        .find(|(_, env)| env.account_id().is_none())
    {
      self
        .error(
          "spec.stateBuckets.account",
          format!(
            "the state bucket names take each environment's account, but `{}` (spec.environments[{i}]) has none",
            env.name
          ),
        )
        .hint = Some("give every environment its `account`, or set a `prefix` instead".into());
    }
  }

  /// `spec.cluster.admins` and each environment's `clusterAdmins`: IAM role
  /// or user ARNs, each once, and not the deploy role (it has its own access
  /// entry; EKS allows one per principal).
  fn cluster_admins(&mut self) {
    let p = self.platform;
    let mut lists = vec![(
      "spec.cluster.admins".to_string(),
      p.spec.cluster.admins.as_ref(),
      None,
    )];
    for (i, env) in p.spec.environments.iter().enumerate() {
      lists.push((
        format!("spec.environments[{i}].clusterAdmins"),
        env.cluster_admins.as_ref(),
        Some(env),
      ));
    }
    for (path, list, env) in lists {
      let Some(list) = list else { continue };
      let mut seen = HashMap::new();
      for (j, arn) in list.iter().enumerate() {
        let at = format!("{path}[{j}]");
        match iam_principal(arn) {
          Err(hint) => {
            self
              .error(
                &at,
                format!("`{arn}` is not the ARN of an IAM role or user"),
              )
              .hint = Some(hint);
            continue;
          }
          Ok((kind, name)) => {
            let environments: Vec<_> = match env {
              Some(env) => vec![env],
              None => p
                .spec
                .environments
                .iter()
                .filter(|e| e.cluster_admins.is_none())
                .collect(),
            };
            if let Some(env) = environments.iter().find(|e| {
              kind == "role" && name.rsplit('/').next() == Some(&crate::names::deploy_role(p, e))
            }) {
              self
                .error(
                  &at,
                  format!(
                    "`{arn}` is the deploy role of `{}`, which has cluster-admin access already",
                    env.name
                  ),
                )
                .hint = Some("list the roles of people here, not the deploy role".into());
            }
          }
        }
        if let Some(first) = seen.insert(arn.as_str(), j) {
          self.error(
            &at,
            format!("`{arn}` is listed twice (also at index {first})"),
          );
        }
      }
    }
  }

  /// Each environment's `account`: a quoted 12-digit AWS account id, given
  /// on every environment or on none (promotion across accounts needs to
  /// know both ends).
  fn accounts(&mut self) {
    let environments = &self.platform.spec.environments;
    let mut first_with: Option<usize> = None;
    for (i, env) in environments.iter().enumerate() {
      let at = format!("spec.environments[{i}].account");
      match &env.account {
        None => continue,
        Some(yaml_serde::Value::String(id)) if is_account_id(id) => {}
        Some(yaml_serde::Value::Number(n)) => {
          self
            .error(
              &at,
              format!(
                "the account id `{n}` is a number here; AWS account ids are 12-digit strings"
              ),
            )
            .hint = Some(match n.to_string() {
            digits if is_account_id(&digits) => format!("quote it: account: \"{digits}\""),
            _ => "quote the account's 12 digits, leading zeros included: account: \"012345678901\""
              .into(),
          });
        }
        Some(other) => {
          let text = scalar_text(other);
          self
            .error(&at, format!("`{text}` is not an AWS account id"))
            .hint =
            Some("write the 12 digits of the account, quoted: account: \"123456789012\"".into());
        }
      }
      first_with.get_or_insert(i);
    }
    let Some(with) = first_with else { return };
    for (i, env) in environments.iter().enumerate() {
      if env.account.is_none() {
        self
          .error(
            format!("spec.environments[{i}].name"),
            format!(
              "environment `{}` has no account, but `{}` (spec.environments[{with}]) has one",
              env.name, environments[with].name
            ),
          )
          .hint = Some(
          "give every environment its `account`, or leave it out everywhere (one AWS account)"
            .into(),
        );
      }
    }
  }

  /// Every AWS name of the render (`names::aws_names`) within its limit:
  /// one error per field that makes names too long, at that field, for the
  /// name it overflows most.
  fn aws_name_limits(&mut self) {
    let table = names::aws_names(self.platform);
    let mut worst: Vec<(String, &names::AwsName)> = Vec::new();
    for name in table.iter().filter(|name| name.overflow() > 0) {
      let Some(field) = name.fields.first() else {
        continue;
      };
      // One error per field and rule; the state buckets, one in all.
      let key = match &name.rule {
        names::NameRule::StateBucket => "state bucket".to_string(),
        rule => format!("{field} {}", rule.family()),
      };
      match worst.iter_mut().find(|(k, _)| *k == key) {
        Some((_, kept)) if kept.overflow() < name.overflow() => *kept = name,
        Some(_) => {}
        None => worst.push((key, name)),
      }
    }
    for (_, name) in worst {
      let field = name.fields[0].clone();
      let (message, hint) = too_long(name, self.platform);
      self.error(field, message).hint = Some(hint);
    }
  }

  /// `autoscaler: karpenter`: the managed node group the controller runs on
  /// is named `system`, so no node group (NodePool) may take that name.
  fn karpenter(&mut self) {
    if self.platform.autoscaler() != super::model::Autoscaler::Karpenter {
      return;
    }
    for (i, group) in self.platform.spec.cluster.node_groups.iter().enumerate() {
      if group.name == KARPENTER_SYSTEM_GROUP {
        self
          .error(
            format!("spec.cluster.nodeGroups[{i}].name"),
            format!(
              "with `autoscaler: karpenter` the node group `{KARPENTER_SYSTEM_GROUP}` is the managed node group the Karpenter controller runs on"
            ),
          )
          .hint = Some("rename this node group".into());
      }
    }
  }
}

/// The NodePools EKS Auto Mode creates itself (`compute_config.node_pools`):
/// no node group may take their names.
pub(crate) const AUTO_MODE_NODE_POOLS: [&str; 2] = ["general-purpose", "system"];

impl Checker<'_> {
  /// `compute: auto-mode`: Auto Mode scales the nodes, so no `autoscaler`;
  /// it enforces NetworkPolicy itself, so no Calico; a node group is a
  /// NodePool, which keeps no nodes running ahead of the pods (minSize,
  /// desiredSize are ignored: a warning each) and whose nodes' disks come
  /// from the `default` NodeClass (diskSizeGb ignored: a warning).
  fn auto_mode(&mut self) {
    if !self.platform.auto_mode() {
      return;
    }
    let cluster = &self.platform.spec.cluster;
    if cluster.autoscaler.is_some() {
      self
        .error(
          "spec.cluster.autoscaler",
          "with `compute: auto-mode` EKS Auto Mode launches and removes the nodes itself: no autoscaler runs",
        )
        .hint = Some("remove `autoscaler`, or remove `compute: auto-mode`".into());
    }
    if cluster.network_policy == Some(super::model::NetworkPolicy::Calico) {
      self
        .error(
          "spec.cluster.networkPolicy",
          "with `compute: auto-mode` EKS Auto Mode enforces NetworkPolicy on its nodes; Calico cannot run on them",
        )
        .hint = Some("use `networkPolicy: vpc-cni` (the default), or remove `compute: auto-mode`".into());
    }
    for (i, group) in cluster.node_groups.iter().enumerate() {
      let path = format!("spec.cluster.nodeGroups[{i}]");
      if AUTO_MODE_NODE_POOLS.contains(&group.name.as_str()) {
        self
          .error(
            format!("{path}.name"),
            format!(
              "with `compute: auto-mode` the NodePool `{}` is one of EKS Auto Mode's built-in node pools",
              group.name
            ),
          )
          .hint = Some("rename this node group".into());
      }
      if group.min_size > 0 {
        self
          .warn(
            format!("{path}.minSize"),
            "with `compute: auto-mode` a node group is a NodePool: Auto Mode launches nodes for pending pods and keeps none running ahead of them, so minSize is ignored",
          )
          .hint = Some("set `minSize: 0`".into());
      }
      if group.desired_size.is_some() {
        self
          .warn(
            format!("{path}.desiredSize"),
            "with `compute: auto-mode` a NodePool has no desired node count: desiredSize is ignored",
          )
          .hint = Some("remove `desiredSize`".into());
      }
      if group.disk_size_gb.is_some() {
        self
          .warn(
            format!("{path}.diskSizeGb"),
            "with `compute: auto-mode` the nodes' disks come from Auto Mode's `default` NodeClass: diskSizeGb is ignored",
          )
          .hint = Some("remove `diskSizeGb`".into());
      }
    }
    // An environment's sizes: only maxSize (the NodePool's CPU limit) applies.
    for (i, environment) in self.platform.spec.environments.iter().enumerate() {
      let Some(overrides) = environment
        .overrides
        .as_ref()
        .and_then(|o| o.node_groups.as_ref())
      else {
        continue;
      };
      let path = format!("spec.environments[{i}].overrides.nodeGroups");
      let mut ignored = vec![];
      if overrides.min_size.is_some_and(|n| n > 0) {
        ignored.push(format!("{path}.minSize"));
      }
      if overrides.desired_size.is_some() {
        ignored.push(format!("{path}.desiredSize"));
      }
      for (name, sizes) in &overrides.groups {
        if sizes.min_size.is_some_and(|n| n > 0) {
          ignored.push(format!("{path}.groups.{name}.minSize"));
        }
        if sizes.desired_size.is_some() {
          ignored.push(format!("{path}.groups.{name}.desiredSize"));
        }
      }
      for at in ignored {
        self
          .warn(
            at,
            "with `compute: auto-mode` only an environment's maxSize applies (the NodePool's CPU limit): minSize above 0 and desiredSize are ignored",
          )
          .hint = Some("leave only maxSize in the environment's overrides".into());
      }
    }
  }
}

/// The managed node group the Karpenter controller and the cluster's critical
/// add-ons run on, with `autoscaler: karpenter`.
pub(crate) const KARPENTER_SYSTEM_GROUP: &str = "system";

impl Checker<'_> {
  /// Each service's `egress.allow`: IPv4 ranges without host bits, ports
  /// 1–65535 (a list, when given, is not empty), a protocol only with ports.
  fn egress(&mut self) {
    for (i, service) in self.platform.spec.services.iter().enumerate() {
      let Some(egress) = &service.egress else {
        continue;
      };
      for (j, rule) in egress.allow.iter().enumerate() {
        let path = format!("spec.services[{i}].egress.allow[{j}]");
        if let Err(problem) = rule.cidr.parse::<Cidr>() {
          self.error(format!("{path}.cidr"), problem.to_string());
        }
        match &rule.ports {
          Some(ports) if ports.is_empty() => {
            self.error(format!("{path}.ports"), "ports is empty").hint =
              Some("list at least one port, or leave ports out for every port".into());
          }
          Some(ports) => {
            for (k, port) in ports.iter().enumerate() {
              if !(1..=65535).contains(port) {
                self.error(
                  format!("{path}.ports[{k}]"),
                  format!("port must be between 1 and 65535, got {port}"),
                );
              }
            }
          }
          None => {
            if rule.protocol.is_some() {
              self
                .error(
                  format!("{path}.protocol"),
                  "a protocol applies to ports, and this rule lists none",
                )
                .hint = Some(
                "list the ports, or leave protocol out to allow every port and protocol".into(),
              );
            }
          }
        }
      }
    }
  }
}

impl Checker<'_> {
  /// `spec.cluster.endpoint`: IPv4 ranges without host bits, each once, only
  /// with a public endpoint; a warning when every address may reach it.
  fn endpoint(&mut self) {
    let Some(endpoint) = &self.platform.spec.cluster.endpoint else {
      return;
    };
    let path = "spec.cluster.endpoint";
    let public = endpoint.public != Some(false);
    match &endpoint.public_access_cidrs {
      Some(cidrs) if !public => {
        self
          .error(
            format!("{path}.publicAccessCidrs"),
            format!(
              "a private endpoint has no public ranges, got {} of them",
              cidrs.len()
            ),
          )
          .hint = Some("leave publicAccessCidrs out, or set `public: true`".into());
      }
      Some(cidrs) if cidrs.is_empty() => {
        self
          .error(
            format!("{path}.publicAccessCidrs"),
            "publicAccessCidrs is empty",
          )
          .hint = Some(
          "list the ranges that may reach the API, or set `public: false` for a private endpoint"
            .into(),
        );
      }
      Some(cidrs) => {
        let mut seen = std::collections::BTreeMap::new();
        for (i, cidr) in cidrs.iter().enumerate() {
          let at = format!("{path}.publicAccessCidrs[{i}]");
          match cidr.parse::<Cidr>() {
            Err(problem) => {
              self.error(&at, problem.to_string());
            }
            Ok(parsed) => {
              if let Some(first) = seen.insert(parsed.to_string(), i) {
                self.error(
                  &at,
                  format!("`{cidr}` is listed twice (also at index {first})"),
                );
              } else if parsed.prefix == 0 {
                self.warn(&at, "the EKS API endpoint is open to every address on the internet (0.0.0.0/0); only IAM and the cluster's access entries guard it").hint =
                  Some("narrow it to your runners' and administrators' ranges, or set `public: false` with a self-hosted runner in the VPC".into());
              }
            }
          }
        }
      }
      None if public => {
        self.warn(path, "the EKS API endpoint is open to every address on the internet (0.0.0.0/0, the default of publicAccessCidrs); only IAM and the cluster's access entries guard it").hint =
          Some("list publicAccessCidrs: your runners' and administrators' ranges, or set `public: false` with a self-hosted runner in the VPC".into());
      }
      None => {}
    }
  }
}

impl Checker<'_> {
  /// Each service's `aws`: buckets and queues by valid name or ARN, each
  /// once, and a role name (`<name>-<environment>-<service>`) that fits IAM.
  fn service_aws(&mut self) {
    for (i, service) in self.platform.spec.services.iter().enumerate() {
      let Some(aws) = &service.aws else {
        continue;
      };
      let path = format!("spec.services[{i}].aws");
      if aws.s3.is_empty() && aws.sqs.is_empty() {
        self.error(&path, "aws lists no bucket and no queue").hint = Some(
          "list `s3` buckets or `sqs` queues, or leave aws out: the service then gets no AWS role"
            .into(),
        );
        continue;
      }
      let mut buckets = std::collections::BTreeMap::new();
      for (j, entry) in aws.s3.iter().enumerate() {
        let at = format!("{path}.s3[{j}].bucket");
        match s3_bucket(&entry.bucket) {
          Err((message, hint)) => {
            self.error(&at, message).hint = Some(hint.into());
          }
          Ok(bucket) => {
            if let Some(first) = buckets.insert(bucket.to_string(), j) {
              self
                .error(
                  &at,
                  format!("bucket `{bucket}` is listed twice (also at index {first})"),
                )
                .hint = Some("list each bucket once; `write` includes `read`".into());
            }
          }
        }
      }
      let mut queues = std::collections::BTreeMap::new();
      for (j, entry) in aws.sqs.iter().enumerate() {
        let at = format!("{path}.sqs[{j}].queue");
        match sqs_queue(&entry.queue) {
          Err((message, hint)) => {
            self.error(&at, message).hint = Some(hint.into());
          }
          Ok(queue) => {
            if let Some(first) = queues.insert((queue.to_string(), entry.access), j) {
              self.error(
                &at,
                format!(
                  "queue `{queue}` is listed twice with the same access (also at index {first})"
                ),
              );
            }
          }
        }
      }
      if let Some(egress) = &service.egress
        && egress.https == Some(false)
      {
        self.warn(format!("spec.services[{i}].egress.https"), "the service may use AWS resources (aws), but its NetworkPolicy lets out no HTTPS: the S3 and SQS APIs answer on TCP 443").hint =
          Some("let HTTPS out (leave `https` out), or `allow` the ranges where the AWS APIs answer for it".into());
      }
    }
  }
}

const PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];

/// An S3 bucket, as a name or `arn:<partition>:s3:::<bucket>`: its name, or
/// what is wrong and how to fix it.
fn s3_bucket(value: &str) -> Result<&str, (String, &'static str)> {
  const ARN: &str = "write a bucket name, or its ARN `arn:aws:s3:::<bucket>`";
  let name = match value.strip_prefix("arn:") {
    Some(rest) => {
      let parts: Vec<&str> = rest.splitn(5, ':').collect();
      let [partition, "s3", "", "", bucket] = parts[..] else {
        return Err((format!("`{value}` is not an S3 bucket ARN"), ARN));
      };
      if !PARTITIONS.contains(&partition) {
        return Err((format!("`{partition}` is not an AWS partition"), ARN));
      }
      if bucket.contains('/') {
        return Err((
          format!("`{value}` names objects, not a bucket"),
          "name the bucket: the access covers all of its objects",
        ));
      }
      bucket
    }
    None => value,
  };
  const RULES: &str = "bucket names have 3–63 characters: lowercase letters, digits, `.` and `-`, starting and ending with a letter or digit";
  let bad = |why: &str| {
    Err((
      format!("`{name}` is not a valid S3 bucket name: {why}"),
      RULES,
    ))
  };
  if !(3..=63).contains(&name.len()) {
    return bad("it must have 3 to 63 characters");
  }
  if !name
    .bytes()
    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
  {
    return bad("only lowercase letters, digits, `.` and `-` are allowed");
  }
  let edge = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
  if !edge(name.as_bytes()[0]) || !edge(name.as_bytes()[name.len() - 1]) {
    return bad("it must start and end with a letter or digit");
  }
  if name.contains("..") {
    return bad("two dots may not be adjacent");
  }
  if name.parse::<std::net::Ipv4Addr>().is_ok() {
    return bad("it may not look like an IP address");
  }
  if let Some(prefix) = ["xn--", "sthree-", "amzn-s3-demo-"]
    .iter()
    .find(|p| name.starts_with(**p))
  {
    return bad(&format!("the prefix `{prefix}` is reserved"));
  }
  if let Some(suffix) = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]
    .iter()
    .find(|p| name.ends_with(**p))
  {
    return bad(&format!("the suffix `{suffix}` is reserved"));
  }
  Ok(name)
}

/// An SQS queue, as a name or `arn:<partition>:sqs:<region>:<account>:<queue>`:
/// the value as written, or what is wrong and how to fix it.
fn sqs_queue(value: &str) -> Result<&str, (String, &'static str)> {
  const ARN: &str =
    "write a queue name, or its ARN `arn:aws:sqs:<region>:<12-digit account>:<queue>`";
  let name = match value.strip_prefix("arn:") {
    Some(rest) => {
      let parts: Vec<&str> = rest.splitn(5, ':').collect();
      let [partition, "sqs", region, account, queue] = parts[..] else {
        return Err((format!("`{value}` is not an SQS queue ARN"), ARN));
      };
      if !PARTITIONS.contains(&partition) {
        return Err((format!("`{partition}` is not an AWS partition"), ARN));
      }
      if region.is_empty()
        || !region
          .bytes()
          .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
      {
        return Err((format!("`{region}` is not an AWS region"), ARN));
      }
      if !is_account_id(account) {
        return Err((format!("`{account}` is not a 12-digit AWS account id"), ARN));
      }
      queue
    }
    None => value,
  };
  let base = name.strip_suffix(".fifo").unwrap_or(name);
  if name.is_empty()
    || name.len() > 80
    || base.is_empty()
    || !base
      .bytes()
      .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
  {
    return Err((
      format!("`{name}` is not a valid SQS queue name"),
      "queue names have 1–80 characters: letters, digits, `-` and `_`, a FIFO queue's ending in `.fifo`",
    ));
  }
  Ok(value)
}

/// An IAM role or user ARN, `arn:<partition>:iam::<account>:role|user/[path/]name`:
/// its kind and its path and name; otherwise a hint to fix it.
fn iam_principal(arn: &str) -> Result<(&str, &str), String> {
  const EXAMPLE: &str = "write `arn:aws:iam::<12-digit account>:role/<name>` (or `:user/<name>`)";
  let parts: Vec<&str> = arn.splitn(6, ':').collect();
  let [prefix, partition, service, region, account, resource] = parts[..] else {
    return Err(EXAMPLE.into());
  };
  if prefix != "arn" || !matches!(partition, "aws" | "aws-cn" | "aws-us-gov") {
    return Err(EXAMPLE.into());
  }
  let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
  if service == "sts"
    && account_ok
    && let Some(rest) = resource.strip_prefix("assumed-role/")
    && let Some((role, _session)) = rest.split_once('/')
  {
    return Err(format!(
      "that is a session of a role; write the role: `arn:{partition}:iam::{account}:role/{role}` (with its path, if it has one)"
    ));
  }
  if service != "iam" || !region.is_empty() || !account_ok {
    return Err(EXAMPLE.into());
  }
  let Some((kind, name)) = resource.split_once('/') else {
    return Err(EXAMPLE.into());
  };
  let name_ok = |n: &str| {
    !n.is_empty()
      && n.len() <= 64
      && n
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
  };
  let segments: Vec<&str> = name.split('/').collect();
  let last = segments.last().copied().unwrap_or_default();
  if !matches!(kind, "role" | "user")
    || !name_ok(last)
    || segments[..segments.len() - 1].iter().any(|s| !name_ok(s))
  {
    return Err(EXAMPLE.into());
  }
  Ok((kind, name))
}

impl Checker<'_> {
  fn error(&mut self, path: impl Into<String>, message: impl Into<String>) -> &mut Diagnostic {
    self.found.push(Diagnostic::error(path, message));
    self.found.last_mut().expect("just pushed")
  }

  fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) -> &mut Diagnostic {
    self.found.push(Diagnostic::warning(path, message));
    self.found.last_mut().expect("just pushed")
  }

  fn label(&mut self, path: &str, value: &str, max: usize) {
    if let Err(problem) = dns_label(value, max) {
      self
        .error(path, format!("`{value}` is not a valid name: {problem}"))
        .hint = Some(
        "use lowercase letters, digits and '-', starting and ending with a letter or digit".into(),
      );
    }
  }

  fn header(&mut self) {
    let p = self.platform;
    if p.api_version != API_VERSION {
      let d = self.error(
        "apiVersion",
        format!("unsupported apiVersion `{}`", p.api_version),
      );
      d.hint = Some(if p.api_version.starts_with("oi-gen.dev/") {
        format!("this oi-gen reads `{API_VERSION}`; run `oi-gen upgrade` to migrate the blueprint")
      } else {
        format!("write `apiVersion: {API_VERSION}`")
      });
    }
    if p.kind != KIND {
      self
        .error("kind", format!("unsupported kind `{}`", p.kind))
        .hint = Some(format!("write `kind: {KIND}`"));
    }
    self.label("metadata.name", &p.metadata.name, 40);
    let name = p.metadata.name.as_str();
    if crate::names::RESERVED_NAMESPACES.contains(&name) || name.starts_with("kube-") {
      self
        .error(
          "metadata.name",
          format!("`{name}` is taken: the services are deployed to the namespace named after the platform, and `{name}` belongs to Kubernetes or a cluster add-on"),
        )
        .hint = Some("choose another name, e.g. your company or product name".into());
    }
    let domain = &p.spec.domain;
    if !is_domain(domain) {
      self
        .error(
          "spec.domain",
          format!("`{domain}` is not a valid domain name"),
        )
        .hint = Some("write a lowercase DNS name such as `example.com`".into());
    }
  }

  fn aws(&mut self) {
    let new_types = self
      .platform
      .spec
      .aws
      .new_instance_types
      .clone()
      .unwrap_or_default();
    for (i, value) in new_types.iter().enumerate() {
      let path = format!("spec.aws.newInstanceTypes[{i}]");
      let (syntax, known) = match value.strip_prefix("db.") {
        Some(class) => (is_instance_type(class), instances::rds(value).is_ok()),
        None => (is_instance_type(value), instances::ec2(value).is_ok()),
      };
      if !syntax {
        self
          .error(path, format!("`{value}` is not an instance type"))
          .hint = Some(
          "write an EC2 type as `<family>.<size>` (`m9i.large`), an RDS class as `db.<family>.<size>`".into(),
        );
      } else if known {
        self
          .warn(
            path,
            format!("`{value}` is known to oi-gen; it need not be listed"),
          )
          .hint = Some("remove it from `spec.aws.newInstanceTypes`".into());
      }
    }
    let region = &self.platform.spec.aws.region;
    if regions::zone_letters(region).is_none() {
      let known = regions::REGIONS.iter().map(|(name, _)| *name);
      let d = self.error(
        "spec.aws.region",
        format!("`{region}` is not an AWS region"),
      );
      if region.trim() != region {
        d.hint = Some(format!(
          "remove the surrounding whitespace: `{}`",
          region.trim()
        ));
      } else if let Some(best) = suggest(region, known) {
        d.hint = Some(format!("did you mean `{best}`?"));
      }
      return;
    }
    let Some(zones) = &self.platform.spec.aws.availability_zones else {
      return;
    };
    if zones.len() < 2 {
      self
        .error(
          "spec.aws.availabilityZones",
          format!(
            "{} listed; at least two zones are needed: EKS needs subnets in two zones and RDS a subnet group spanning two",
            if zones.is_empty() { "no zone" } else { "one zone" }
          ),
        )
        .hint = Some(format!(
        "list two or more zones of `{region}`, or leave availabilityZones out for the first three"
      ));
    }
    let mut seen = HashMap::new();
    for (i, zone) in zones.iter().enumerate() {
      let path = format!("spec.aws.availabilityZones[{i}]");
      if !regions::zone_in_region(zone, region) {
        let letters = regions::zone_letters(region).unwrap_or_default();
        let d = self.error(
          &path,
          format!("`{zone}` is not an availability zone of `{region}`"),
        );
        d.hint = Some(format!(
          "zones of `{region}` are {}",
          letters
            .chars()
            .map(|l| format!("`{region}{l}`"))
            .collect::<Vec<_>>()
            .join(", ")
        ));
      }
      if let Some(first) = seen.insert(zone.as_str(), i) {
        self.error(
          &path,
          format!("zone `{zone}` is listed twice (also at index {first})"),
        );
      }
    }
  }

  fn network(&mut self) {
    let net = &self.platform.spec.network;
    if net.nat_gateways == Some(super::model::NatGateways::None) {
      self
        .warn(
          "spec.network.natGateways",
          "with no NAT gateway the private subnets have no route to the internet: the VPC endpoints carry the AWS APIs that offer one, but not the cluster add-ons' images (quay.io, ghcr.io, registry.k8s.io, Docker Hub), Let's Encrypt or the Route 53 API",
        )
        .hint = Some(
        "give the private subnets internet egress another way before the first install (a transit gateway to a shared egress VPC, or a proxy), or use `single`".into(),
      );
    }
    let vpc = match net.cidr.parse::<Cidr>() {
      Ok(vpc) => vpc,
      Err(problem) => {
        self.error("spec.network.cidr", problem.to_string());
        return;
      }
    };
    if vpc.prefix < 16 || vpc.prefix > 28 {
      self.error(
        "spec.network.cidr",
        format!(
          "a VPC range must be between /16 and /28, got /{}",
          vpc.prefix
        ),
      );
      return;
    }
    let zones = self.platform.zones().len();
    let lists = [
      ("publicSubnets", &net.public_subnets),
      ("privateSubnets", &net.private_subnets),
      ("databaseSubnets", &net.database_subnets),
    ];
    let needs_carving = lists.iter().any(|(_, list)| list.is_none());
    if needs_carving && (vpc.prefix > network::MAX_CARVED_PREFIX || zones > network::MAX_ZONES) {
      self
        .error(
          "spec.network.cidr",
          format!(
            "subnets for {zones} zones cannot be carved from a /{}",
            vpc.prefix
          ),
        )
        .hint = Some(format!(
        "use a /{} or larger range, or list publicSubnets, privateSubnets and databaseSubnets",
        network::MAX_CARVED_PREFIX
      ));
      return;
    }
    // Every subnet, explicit or carved, with the path to report it at.
    let mut subnets: Vec<(Cidr, String, bool)> = Vec::new();
    for (field, list) in lists {
      let Some(list) = list else { continue };
      let list_path = format!("spec.network.{field}");
      if list.len() != zones {
        self.error(
          &list_path,
          format!(
            "{} subnets for {zones} zones; give one per zone",
            list.len()
          ),
        );
      }
      for (i, text) in list.iter().enumerate() {
        let path = format!("{list_path}[{i}]");
        match text.parse::<Cidr>() {
          Ok(cidr) if !vpc.contains(cidr) => {
            self.error(&path, format!("`{cidr}` is outside the VPC range `{vpc}`"));
          }
          Ok(cidr) => subnets.push((cidr, path, true)),
          Err(problem) => {
            self.error(&path, problem.to_string());
          }
        }
      }
    }
    if let Some(plan) = network::carve(vpc, zones).filter(|_| needs_carving) {
      let carved = [
        (&net.public_subnets, &plan.public, "public"),
        (&net.private_subnets, &plan.private, "private"),
        (&net.database_subnets, &plan.database, "database"),
      ];
      for (explicit, cidrs, kind) in carved {
        if explicit.is_none() {
          for cidr in cidrs {
            subnets.push((*cidr, format!("the carved {kind} subnet"), false));
          }
        }
      }
    }
    let ranges: Vec<(Cidr, usize)> = subnets.iter().enumerate().map(|(i, s)| (s.0, i)).collect();
    for (a, b) in network::overlaps(&ranges) {
      let (at, other) = if subnets[a].2 { (a, b) } else { (b, a) };
      let message = format!(
        "subnet `{}` overlaps `{}` ({})",
        subnets[at].0, subnets[other].0, subnets[other].1
      );
      let path = if subnets[at].2 {
        subnets[at].1.clone()
      } else {
        "spec.network".into()
      };
      self.error(path, message);
    }
  }

  fn cluster(&mut self) {
    let cluster = &self.platform.spec.cluster;
    match &cluster.kubernetes_version {
      yaml_serde::Value::String(version) => {
        if EKS_STANDARD.contains(&version.as_str()) {
        } else if EKS_EXTENDED.contains(&version.as_str()) {
          self
            .warn(
              "spec.cluster.kubernetesVersion",
              format!("Kubernetes {version} is in EKS extended support (extra cost, ends soon)"),
            )
            .hint = Some(format!(
            "plan the upgrade to `\"{}\"`",
            EKS_STANDARD[EKS_STANDARD.len() - 1]
          ));
        } else {
          self
            .error(
              "spec.cluster.kubernetesVersion",
              format!("Kubernetes `{version}` is not a supported EKS version"),
            )
            .hint = Some(format!(
            "supported: {}",
            EKS_EXTENDED
              .iter()
              .chain(EKS_STANDARD)
              .map(|v| format!("\"{v}\""))
              .collect::<Vec<_>>()
              .join(", ")
          ));
        }
      }
      yaml_serde::Value::Number(number) => {
        let d = self.error(
          "spec.cluster.kubernetesVersion",
          format!("the version must be a quoted string, got the number {number}"),
        );
        d.hint = Some(
          if number
            .as_f64()
            .is_some_and(|f| (f * 100.0).round() % 10.0 == 0.0)
            && number.is_f64()
          {
            format!(
              "YAML reads an unquoted {number} as a number, so `1.30` becomes 1.3; quote it: `\"{number}0\"`"
            )
          } else {
            format!("quote it: `\"{number}\"`")
          },
        );
      }
      other => {
        self.error(
          "spec.cluster.kubernetesVersion",
          format!(
            "expected a quoted version such as \"1.35\", got `{}`",
            scalar_text(other)
          ),
        );
      }
    }

    if cluster.node_groups.is_empty() {
      self.error(
        "spec.cluster.nodeGroups",
        "at least one node group is needed",
      );
    }
    let mut names = HashMap::new();
    for (i, group) in cluster.node_groups.iter().enumerate() {
      let path = format!("spec.cluster.nodeGroups[{i}]");
      self.label(&format!("{path}.name"), &group.name, 63);
      if let Some(first) = names.insert(group.name.as_str(), i) {
        self.error(
          format!("{path}.name"),
          format!(
            "node group `{}` is defined twice (also at index {first})",
            group.name
          ),
        );
      }
      if group.instance_types.is_empty() {
        self.error(
          format!("{path}.instanceTypes"),
          "at least one instance type is needed",
        );
      }
      for (j, instance) in group.instance_types.iter().enumerate() {
        if !is_instance_type(instance) {
          self
            .error(
              format!("{path}.instanceTypes[{j}]"),
              format!("`{instance}` is not an EC2 instance type"),
            )
            .hint = Some("write it as `<family>.<size>`, e.g. `m7i.large`".into());
        } else if !self.is_new_instance_type(instance) {
          self.known_type(
            &format!("{path}.instanceTypes[{j}]"),
            instance,
            "EC2 instance type",
            instances::ec2(instance),
          );
        }
      }
      self.sizes(
        &path,
        group.min_size,
        group.desired(),
        group.max_size,
        group.desired_size.is_some(),
      );
      if group.disk_size() < 20 {
        self.error(
          format!("{path}.diskSizeGb"),
          format!(
            "disk size must be at least 20 GB, got {}",
            group.disk_size()
          ),
        );
      } else if group.disk_size() > MAX_NODE_DISK_GB {
        self.error(
          format!("{path}.diskSizeGb"),
          format!(
            "disk size must be at most {MAX_NODE_DISK_GB} GB (the largest gp3 volume), got {}",
            group.disk_size()
          ),
        );
      }
    }
    let Some(addons) = &cluster.addons else {
      return;
    };
    if let Some(cm) = addons
      .cert_manager
      .as_ref()
      .and_then(super::model::Toggle::settings)
    {
      match cm.acme_email {
        Some(email) if !is_email(&email) => {
          self.error(
            "spec.cluster.addons.certManager.acmeEmail",
            format!("`{email}` is not an e-mail address"),
          );
        }
        None => {
          self.error(
            "spec.cluster.addons.certManager",
            "certManager needs an `acmeEmail` for the Let's Encrypt account",
          );
        }
        _ => {}
      }
    }
    if let Some(monitoring) = addons
      .monitoring
      .as_ref()
      .and_then(super::model::Toggle::settings)
    {
      self.monitoring(&monitoring);
    }
    if self.platform.nginx() == super::model::Nginx::Ingress {
      self
        .warn(
          "spec.cluster.addons.nginx",
          "ingress-nginx was retired upstream in March 2026 and gets no security fixes",
        )
        .hint = Some("use `nginx: gateway` (NGINX Gateway Fabric) for new clusters".into());
    }
  }

  /// `spec.cluster.addons.monitoring`: volume sizes, retention, receivers.
  fn monitoring(&mut self, monitoring: &super::model::Monitoring) {
    const PATH: &str = "spec.cluster.addons.monitoring";
    if let Some(storage) = &monitoring.storage {
      for (field, size) in [
        ("prometheusGb", storage.prometheus_gb),
        ("alertmanagerGb", storage.alertmanager_gb),
        ("grafanaGb", storage.grafana_gb),
      ] {
        if let Some(size) = size
          && !(1..=MAX_NODE_DISK_GB).contains(&size)
        {
          self.error(
            format!("{PATH}.storage.{field}"),
            format!(
              "a volume must be between 1 and {MAX_NODE_DISK_GB} GB (the largest gp3 volume), got {size}"
            ),
          );
        }
      }
    }
    if let Some(retention) = &monitoring.retention
      && !is_prometheus_duration(retention)
    {
      self
        .error(
          format!("{PATH}.retention"),
          format!("`{retention}` is not a Prometheus duration"),
        )
        .hint = Some("a number and a unit (ms, s, m, h, d, w, y), e.g. `15d`".into());
    }
    let Some(alerts) = &monitoring.alerts else {
      return;
    };
    if !external_secrets_on(self.platform) {
      self.error(
        format!("{PATH}.alerts"),
        "the receivers' credentials come from Secrets Manager: alerts need `externalSecrets`",
      );
    }
    if let Some(email) = &alerts.email {
      for (field, value) in [("to", &email.to), ("from", &email.from)] {
        if !is_email(value) {
          self.error(
            format!("{PATH}.alerts.email.{field}"),
            format!("`{value}` is not an e-mail address"),
          );
        }
      }
      let port_ok = email
        .smarthost
        .rsplit_once(':')
        .is_some_and(|(host, port)| {
          is_domain(&host.to_ascii_lowercase()) && port.parse::<u16>().is_ok_and(|p| p > 0)
        });
      if !port_ok {
        self.error(
          format!("{PATH}.alerts.email.smarthost"),
          format!(
            "`{}` is not an SMTP relay as host:port (e.g. email-smtp.eu-west-1.amazonaws.com:587)",
            email.smarthost
          ),
        );
      }
      if email
        .username
        .as_ref()
        .is_some_and(|u| u.is_empty() || u.contains(char::is_whitespace))
      {
        self.error(
          format!("{PATH}.alerts.email.username"),
          "the SMTP user name must be non-empty, without spaces",
        );
      }
    }
    if let Some(slack) = &alerts.slack
      && (slack.channel.trim_start_matches(['#', '@']).is_empty()
        || slack.channel.contains(char::is_whitespace))
    {
      self.error(
        format!("{PATH}.alerts.slack.channel"),
        format!(
          "`{}` is not a Slack channel (e.g. `#alerts`)",
          slack.channel
        ),
      );
    }
  }

  fn sizes(&mut self, path: &str, min: u32, desired: u32, max: u32, desired_given: bool) {
    if max == 0 {
      self.error(format!("{path}.maxSize"), "maxSize must be at least 1");
    }
    if min > max {
      self.error(
        format!("{path}.minSize"),
        format!("minSize ({min}) is larger than maxSize ({max})"),
      );
    } else if desired_given && (desired < min || desired > max) {
      self.error(
        format!("{path}.desiredSize"),
        format!("desiredSize ({desired}) must be between minSize ({min}) and maxSize ({max})"),
      );
    }
  }

  fn database(&mut self) {
    let Some(db) = &self.platform.spec.database else {
      return;
    };
    let version = scalar_text(&db.version);
    let major = version.split('.').next().unwrap_or_default();
    if !POSTGRES_MAJORS.contains(&major)
      || !version
        .split('.')
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
      self
        .error(
          "spec.database.version",
          format!("`{version}` is not a PostgreSQL version RDS offers"),
        )
        .hint = Some(format!("use one of {}", POSTGRES_MAJORS.join(", ")));
    }
    self.instance_class("spec.database.instanceClass", &db.instance_class);
    if db.storage_gb < 20 {
      self.error(
        "spec.database.storageGb",
        format!("storage must be at least 20 GB, got {}", db.storage_gb),
      );
    } else if db.storage_gb > 65536 {
      self.error(
        "spec.database.storageGb",
        format!("storage must be at most 65536 GB, got {}", db.storage_gb),
      );
    }
    if db.backup_retention_days > 35 {
      self.error(
        "spec.database.backupRetentionDays",
        format!(
          "backup retention must be between 0 and 35 days, got {}",
          db.backup_retention_days
        ),
      );
    }
    let name = &db.name;
    let valid = name.len() <= 63
      && name.starts_with(|c: char| c.is_ascii_alphabetic())
      && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
      self
        .error(
          "spec.database.name",
          format!("`{name}` is not a valid PostgreSQL database name"),
        )
        .hint = Some("start with a letter; use letters, digits and '_' (at most 63)".into());
    }
  }

  fn instance_class(&mut self, path: &str, class: &str) {
    let valid = class.strip_prefix("db.").is_some_and(is_instance_type);
    if !valid {
      self
        .error(path, format!("`{class}` is not an RDS instance class"))
        .hint = Some("write it as `db.<family>.<size>`, e.g. `db.t4g.medium`".into());
    } else if !self.is_new_instance_type(class) {
      self.known_type(
        path,
        class,
        "RDS instance class for PostgreSQL",
        instances::rds(class),
      );
    }
  }

  /// Listed in `spec.aws.newInstanceTypes`: newer than oi-gen's table.
  fn is_new_instance_type(&self, value: &str) -> bool {
    self
      .platform
      .spec
      .aws
      .new_instance_types
      .as_ref()
      .is_some_and(|types| types.iter().any(|t| t == value))
  }

  /// Reports a type the table does not know, with the nearest family.
  fn known_type(
    &mut self,
    path: &str,
    value: &str,
    what: &str,
    known: Result<(), instances::Unknown>,
  ) {
    let Err(unknown) = known else {
      return;
    };
    let family = value.strip_prefix("db.").unwrap_or(value);
    let (family, size) = family.split_once('.').unwrap_or((family, ""));
    let (message, hint) = match unknown {
      instances::Unknown::Family(nearest) => (
        format!("`{value}` is not an {what}: there is no `{family}` family"),
        match nearest {
          Some(near) => format!(
            "did you mean `{}{near}.{size}`? A family newer than oi-gen goes in `spec.aws.newInstanceTypes`",
            if value.starts_with("db.") { "db." } else { "" }
          ),
          None => "a type newer than oi-gen goes in `spec.aws.newInstanceTypes`".to_string(),
        },
      ),
      instances::Unknown::Size => (
        format!("`{value}` is not an {what}: `{size}` is not a size"),
        "sizes are nano, micro, small, medium, large, xlarge, <n>xlarge and metal; a type newer than oi-gen goes in `spec.aws.newInstanceTypes`".to_string(),
      ),
    };
    self.error(path, message).hint = Some(hint);
  }

  fn services(&mut self) {
    let p = self.platform;
    if p.spec.services.is_empty() {
      self.error("spec.services", "at least one service is needed");
    }
    let mut names = HashMap::new();
    let mut routes: HashMap<(String, String), usize> = HashMap::new();
    let mut owners = Vec::new();
    for (i, service) in p.spec.services.iter().enumerate() {
      let path = format!("spec.services[{i}]");
      self.label(&format!("{path}.name"), &service.name, 40);
      if let Some(first) = names.insert(service.name.as_str(), i) {
        self.error(
          format!("{path}.name"),
          format!(
            "service `{}` is defined twice (also at spec.services[{first}])",
            service.name
          ),
        );
      }
      if !(1..=65535).contains(&service.port) {
        self.error(
          format!("{path}.port"),
          format!("port must be between 1 and 65535, got {}", service.port),
        );
      }
      if service.replicas < 1 {
        self.error(
          format!("{path}.replicas"),
          format!("replicas must be at least 1, got {}", service.replicas),
        );
      }
      if let Some(build) = &service.build
        && !crate::fsutil::is_safe_relative(build)
      {
        self.error(
          format!("{path}.build"),
          format!("`{build}` must be a relative path inside the repository"),
        );
      }
      if let Some(health) = &service.health_path
        && !health.starts_with('/')
      {
        self.error(
          format!("{path}.healthPath"),
          format!("`{health}` must start with `/`"),
        );
      }
      if let Some(ingress) = &service.ingress {
        if ingress.host != "@" && !is_domain_or_label(&ingress.host) {
          self
            .error(
              format!("{path}.ingress.host"),
              format!("`{}` is not a host name", ingress.host),
            )
            .hint = Some(
            "write a name under spec.domain such as `api`, or `@` for the domain itself".into(),
          );
        }
        let route_path = service.ingress_path().unwrap_or("/").to_string();
        if !route_path.starts_with('/') {
          self.error(
            format!("{path}.ingress.path"),
            format!("`{route_path}` must start with `/`"),
          );
        }
        if let Some(first) = routes.insert((ingress.host.clone(), route_path.clone()), i) {
          self.error(
            format!("{path}.ingress"),
            format!(
              "host `{}` and path `{route_path}` are already routed to spec.services[{first}]",
              ingress.host
            ),
          );
        }
      }
      if let Some(resources) = &service.resources {
        for (kind, amounts) in [
          ("requests", &resources.requests),
          ("limits", &resources.limits),
        ] {
          let Some(amounts) = amounts else { continue };
          if !super::quota::is_quantity(&amounts.cpu) {
            self.error(
              format!("{path}.resources.{kind}.cpu"),
              format!(
                "`{}` is not a CPU quantity such as `250m` or `1`",
                amounts.cpu
              ),
            );
          }
          if !super::quota::is_quantity(&amounts.memory) {
            self.error(
              format!("{path}.resources.{kind}.memory"),
              format!(
                "`{}` is not a memory quantity such as `256Mi`",
                amounts.memory
              ),
            );
          }
        }
      }
      if let Some(scaling) = &service.autoscaling {
        if scaling.max_replicas < service.replicas.max(1) {
          self.error(
            format!("{path}.autoscaling.maxReplicas"),
            format!(
              "maxReplicas ({}) must be at least replicas ({})",
              scaling.max_replicas, service.replicas
            ),
          );
        }
        if let Some(cpu) = scaling.target_cpu_percent
          && !(1..=100).contains(&cpu)
        {
          self.error(
            format!("{path}.autoscaling.targetCpuPercent"),
            format!("targetCpuPercent must be between 1 and 100, got {cpu}"),
          );
        }
      }
      for name in service.env.keys() {
        if !is_env_name(name) {
          self.error(
            format!("{path}.env.{name}"),
            format!("`{name}` is not a valid environment variable name"),
          );
        }
      }
      if !service.secret_env.is_empty() && !external_secrets_on(p) {
        self
          .error(
            format!("{path}.secretEnv"),
            "secretEnv needs spec.cluster.addons.externalSecrets, which reads the values from AWS Secrets Manager",
          )
          .hint = Some("add `externalSecrets: true` under spec.cluster.addons".into());
      }
      for (name, reference) in &service.secret_env {
        let var_path = format!("{path}.secretEnv.{name}");
        if !is_env_name(name) {
          self.error(
            &var_path,
            format!("`{name}` is not a valid environment variable name"),
          );
        }
        if service.env.contains_key(name) {
          self.error(&var_path, format!("`{name}` is also set in env"));
        }
        self.secret_ref(&var_path, reference);
      }
      if service.runs_migrations {
        owners.push(i);
        if p.spec.database.is_none() {
          self.error(
            format!("{path}.runsMigrations"),
            "runsMigrations needs spec.database",
          );
        } else if !external_secrets_on(p) {
          self
            .error(
              format!("{path}.runsMigrations"),
              "runsMigrations needs spec.cluster.addons.externalSecrets: the migration Job reads the database credentials through it",
            )
            .hint = Some("add `externalSecrets: true` under spec.cluster.addons".into());
        }
      }
    }
    // The migration Job creates the services' own database roles: a
    // service that reads `{database: …}` needs a service that runs it.
    if owners.is_empty() && p.spec.database.is_some() {
      for (i, service) in p.spec.services.iter().enumerate() {
        for (name, reference) in &service.secret_env {
          if reference.database.is_some() {
            self
              .error(
                format!("spec.services[{i}].secretEnv.{name}.database"),
                "`database:` needs a service with `runsMigrations: true`: its migration Job creates each service's own database role",
              )
              .hint = Some("set `runsMigrations: true` on the service that owns db/".into());
          }
        }
      }
    }
    if let [_, rest @ ..] = owners.as_slice() {
      for i in rest {
        self.error(
          format!("spec.services[{i}].runsMigrations"),
          format!(
            "only one service can run the migrations; spec.services[{}] already does",
            owners[0]
          ),
        );
      }
    }
  }

  fn secret_ref(&mut self, path: &str, reference: &SecretRef) {
    match (&reference.database, &reference.secret, &reference.property) {
      (Some(_), None, None) => {
        if self.platform.spec.database.is_none() {
          self
            .error(
              format!("{path}.database"),
              "`database:` needs spec.database",
            )
            .hint = Some(
            "add spec.database, or read the value from a secret with `secret:` and `property:`"
              .into(),
          );
        }
      }
      (Some(_), Some(_), _) => {
        self.error(path, "give either `database:` or `secret:`, not both");
      }
      (Some(_), None, Some(_)) => {
        self.error(
          format!("{path}.property"),
          "`property:` goes with `secret:`, not `database:`",
        );
      }
      (None, Some(secret), property) => {
        if secret.is_empty() {
          self.error(format!("{path}.secret"), "the secret name is empty");
        } else {
          let key = crate::names::scoped_secret_key(self.platform, secret);
          if let Some(bad) = key
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "/_+=.@-".contains(*c)))
          {
            self
              .error(
                format!("{path}.secret"),
                format!("`{secret}` is not a Secrets Manager name: `{bad}` is not allowed"),
              )
              .hint = Some("use letters, digits and / _ + = . @ -".into());
          } else if crate::names::reserved_secret_key(key) {
            self
              .error(
                format!("{path}.secret"),
                format!(
                  "`{secret}` is a secret oi-gen creates itself (`<platform>/<environment>/{key}`)"
                ),
              )
              .hint = Some("give the secret another name".into());
          }
        }
        match property {
          None => {
            self
              .error(
                path,
                "`secret:` needs a `property:` naming the JSON key to read",
              )
              .hint = Some(format!("write `{{secret: {secret}, property: <key>}}`"));
          }
          Some(property) if property.is_empty() => {
            self.error(format!("{path}.property"), "the property is empty");
          }
          Some(_) => {}
        }
      }
      (None, None, _) => {
        self.error(
          path,
          "expected `{database: url|password|username}` or `{secret: <name>, property: <key>}`",
        );
      }
    }
  }

  fn environments(&mut self) {
    let p = self.platform;
    if p.spec.environments.is_empty() {
      self.error("spec.environments", "at least one environment is needed");
    }
    let mut names = HashMap::new();
    let mut subdomains = HashMap::new();
    for (i, env) in p.spec.environments.iter().enumerate() {
      let path = format!("spec.environments[{i}]");
      self.label(&format!("{path}.name"), &env.name, 20);
      if let Some(first) = names.insert(env.name.as_str(), i) {
        self.error(
          format!("{path}.name"),
          format!(
            "environment `{}` is defined twice (also at index {first})",
            env.name
          ),
        );
      }
      if let Some(sub) = &env.subdomain
        && !is_domain_or_label(sub)
      {
        self.error(
          format!("{path}.subdomain"),
          format!("`{sub}` is not a DNS name"),
        );
      }
      if let Some(first) = subdomains.insert(env.subdomain.clone(), i) {
        self.error(
          format!("{path}.subdomain"),
          format!(
            "environments {first} and {i} would share host names; give each its own subdomain"
          ),
        );
      }
      let Some(overrides) = &env.overrides else {
        continue;
      };
      if let Some(replicas) = overrides.replicas
        && replicas < 1
      {
        self.error(
          format!("{path}.overrides.replicas"),
          format!("replicas must be at least 1, got {replicas}"),
        );
      }
      if let Some(db) = &overrides.database {
        if p.spec.database.is_none() {
          self.error(
            format!("{path}.overrides.database"),
            "there is no spec.database to override",
          );
        }
        if let Some(class) = &db.instance_class {
          self.instance_class(&format!("{path}.overrides.database.instanceClass"), class);
        }
      }
      if let Some(node_groups) = &overrides.node_groups {
        let groups = &p.spec.cluster.node_groups;
        for name in node_groups.groups.keys() {
          if !groups.iter().any(|g| &g.name == name) {
            let known: Vec<String> = groups.iter().map(|g| format!("`{}`", g.name)).collect();
            self
              .error(
                format!("{path}.overrides.nodeGroups.groups.{name}"),
                format!("there is no node group `{name}` in spec.cluster.nodeGroups"),
              )
              .hint = Some(format!("node groups: {}", known.join(", ")));
          }
        }
        for group in groups {
          let (min, desired, max) = group.sizes_in(env);
          let given = group.desired_given_in(env);
          let at = if node_groups.groups.contains_key(&group.name) {
            format!("{path}.overrides.nodeGroups.groups.{}", group.name)
          } else {
            format!("{path}.overrides.nodeGroups")
          };
          let before = self.found.len();
          self.sizes(&at, min, desired, max, given);
          for d in &mut self.found[before..] {
            d.message = format!("{} (node group `{}`)", d.message, group.name);
          }
        }
      }
    }
  }

  fn delivery(&mut self) {
    let github = &self.platform.spec.delivery.github;
    if !is_repository(&github.repository) {
      self
        .error(
          "spec.delivery.github.repository",
          format!("`{}` is not a GitHub repository", github.repository),
        )
        .hint = Some("write it as `owner/name`".into());
    }
    if let Some(branch) = &github.branch {
      let valid = !branch.is_empty()
        && !branch.starts_with(['-', '/'])
        && !branch.ends_with(['/', '.'])
        && !branch.contains("..")
        && branch
          .bytes()
          .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b));
      if !valid {
        self.error(
          "spec.delivery.github.branch",
          format!("`{branch}` is not a branch name"),
        );
      }
    }
    self.managed_argocd();
  }

  /// `spec.delivery.argocd`: only with `mode: argocd`; `managed: true` needs
  /// an Identity Center instance and at least one role mapping, each
  /// identity exactly one group or user id.
  fn managed_argocd(&mut self) {
    let delivery = &self.platform.spec.delivery;
    let Some(argocd) = &delivery.argocd else {
      return;
    };
    if delivery.mode != Some(crate::blueprint::model::DeliveryMode::Argocd) {
      self
        .error(
          "spec.delivery.argocd",
          "`argocd` settings need `spec.delivery.mode: argocd`",
        )
        .hint = Some("add `mode: argocd`, or remove `argocd`".into());
      return;
    }
    if argocd.managed != Some(true) {
      for (field, set) in [
        ("identityCenter", argocd.identity_center.is_some()),
        ("rbac", argocd.rbac.is_some()),
      ] {
        if set {
          self
            .error(
              format!("spec.delivery.argocd.{field}"),
              format!("`{field}` configures the managed Argo CD capability only"),
            )
            .hint = Some("add `managed: true`, or remove it".into());
        }
      }
      return;
    }
    match &argocd.identity_center {
      None => {
        self
          .error(
            "spec.delivery.argocd",
            "the managed Argo CD capability needs `identityCenter` (it signs users in through IAM Identity Center only)",
          )
          .hint = Some(
          "add `identityCenter: {instanceArn: arn:aws:sso:::instance/ssoins-...}` (`aws sso-admin list-instances`)".into(),
        );
      }
      Some(idc) => {
        if !is_sso_instance_arn(&idc.instance_arn) {
          self
            .error(
              "spec.delivery.argocd.identityCenter.instanceArn",
              format!(
                "`{}` is not an IAM Identity Center instance ARN",
                idc.instance_arn
              ),
            )
            .hint = Some(
            "it looks like `arn:aws:sso:::instance/ssoins-1234567890abcdef` (`aws sso-admin list-instances`)".into(),
          );
        }
        if let Some(region) = &idc.region
          && regions::zone_letters(region).is_none()
        {
          self.error(
            "spec.delivery.argocd.identityCenter.region",
            format!("`{region}` is not an AWS region"),
          );
        }
      }
    }
    let rbac = argocd.rbac.clone().unwrap_or_default();
    let lists = [
      ("admin", &rbac.admin),
      ("editor", &rbac.editor),
      ("viewer", &rbac.viewer),
    ];
    if lists.iter().all(|(_, list)| list.is_empty()) {
      self
        .error(
          "spec.delivery.argocd",
          "the managed Argo CD capability maps no Identity Center identity to a role: nobody could sign in",
        )
        .hint = Some("add `rbac: {admin: [{group: <Identity Center group id>}]}`".into());
    }
    for (role, list) in lists {
      for (i, identity) in list.iter().enumerate() {
        let path = format!("spec.delivery.argocd.rbac.{role}[{i}]");
        match (&identity.group, &identity.user) {
          (Some(_), Some(_)) | (None, None) => {
            self
              .error(path, "an identity is exactly one of `group` or `user`")
              .hint = Some("write `- group: <id>` or `- user: <id>`".into());
          }
          (Some(id), None) | (None, Some(id)) => {
            let field = if identity.group.is_some() {
              "group"
            } else {
              "user"
            };
            if !is_identity_store_id(id) {
              self
                .error(
                  format!("{path}.{field}"),
                  format!("`{id}` is not an Identity Center {field} id"),
                )
                .hint = Some(format!(
                "use the id, not the name (`aws identitystore list-{field}s --identity-store-id <id>`)"
              ));
            }
          }
        }
      }
    }
  }

  fn compliance(&mut self) {
    let Some(compliance) = &self.platform.spec.compliance else {
      return;
    };
    let mut seen = HashMap::new();
    for (i, skip) in compliance.checkov_skips.iter().enumerate() {
      let path = format!("spec.compliance.checkovSkips[{i}]");
      if !is_checkov_id(&skip.id) {
        self
          .error(
            format!("{path}.id"),
            format!("`{}` is not a Checkov check id", skip.id),
          )
          .hint = Some("ids look like `CKV_AWS_144` or `CKV2_AWS_19`".into());
      }
      if skip.reason.trim().is_empty() {
        self
          .error(
            path.clone(),
            format!("the skip of `{}` needs a reason", skip.id),
          )
          .hint = Some("add `reason:` saying why the check does not apply".into());
      }
      if let Some(first) = seen.insert(skip.id.as_str(), i) {
        self.error(
          format!("{path}.id"),
          format!("`{}` is skipped twice (also at index {first})", skip.id),
        );
      }
    }
    for (i, skip) in compliance.tflint_skips.iter().enumerate() {
      let path = format!("spec.compliance.tflintSkips[{i}]");
      let valid = !skip.id.is_empty()
        && skip
          .id
          .bytes()
          .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
      if !valid {
        self
          .error(
            format!("{path}.id"),
            format!("`{}` is not a TFLint rule name", skip.id),
          )
          .hint = Some("rule names look like `aws_instance_invalid_type`".into());
      }
      if skip.reason.trim().is_empty() {
        self.error(path, format!("the skip of `{}` needs a reason", skip.id));
      }
    }
  }
}

impl Checker<'_> {
  /// `spec.owners`: GitHub users (`@name`) or teams (`@org/team`), each once
  /// per list, and at least one owner somewhere.
  fn owners(&mut self) {
    let Some(owners) = &self.platform.spec.owners else {
      return;
    };
    let lists = [
      ("default", &owners.default),
      ("infra", &owners.infra),
      ("charts", &owners.charts),
      ("workflows", &owners.workflows),
    ];
    for (key, list) in lists {
      let mut seen = HashMap::new();
      for (i, owner) in list.iter().enumerate() {
        let path = format!("spec.owners.{key}[{i}]");
        if !is_code_owner(owner) {
          self
            .error(
              path.clone(),
              format!("`{owner}` is not a GitHub user or team"),
            )
            .hint = Some("write `@user` or `@org/team`".into());
        }
        if let Some(first) = seen.insert(owner.to_ascii_lowercase(), i) {
          self.error(
            path,
            format!("`{owner}` is listed twice (also at index {first})"),
          );
        }
      }
    }
    if lists.iter().all(|(_, list)| list.is_empty()) {
      self.error("spec.owners", "lists no owner").hint =
        Some("give `default:` (or leave `owners` out: no CODEOWNERS file)".into());
    }
  }
}

/// A GitHub user (`@name`: letters, digits and single hyphens, at most 39
/// characters) or team (`@org/team-slug`).
fn is_code_owner(value: &str) -> bool {
  let Some(name) = value.strip_prefix('@') else {
    return false;
  };
  let user = |s: &str| {
    !s.is_empty()
      && s.len() <= 39
      && !s.starts_with('-')
      && !s.ends_with('-')
      && !s.contains("--")
      && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
  };
  match name.split_once('/') {
    None => user(name),
    Some((org, team)) => {
      user(org)
        && !team.is_empty()
        && team.len() <= 100
        && team
          .bytes()
          .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    }
  }
}

fn external_secrets_on(platform: &Platform) -> bool {
  platform.addon_selection().external_secrets
}

/// Why a value is not a DNS-1123 label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LabelError {
  /// Nothing to check.
  Empty,
  /// Longer than the limit it carries.
  TooLong(usize),
  /// A character outside lowercase letters, digits and `-`.
  NotAllowed(char),
  /// Starts or ends with `-`.
  Edge,
}

impl std::fmt::Display for LabelError {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    match self {
      LabelError::Empty => write!(f, "it is empty"),
      LabelError::TooLong(max) => write!(f, "it is longer than {max} characters"),
      LabelError::NotAllowed(c) => write!(f, "`{c}` is not allowed"),
      LabelError::Edge => write!(f, "it must start and end with a letter or digit"),
    }
  }
}

impl std::error::Error for LabelError {}

/// DNS-1123 label of at most `max` characters.
pub(crate) fn dns_label(value: &str, max: usize) -> Result<(), LabelError> {
  if value.is_empty() {
    return Err(LabelError::Empty);
  }
  if value.len() > max {
    return Err(LabelError::TooLong(max));
  }
  if let Some(c) = value
    .chars()
    .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
  {
    return Err(LabelError::NotAllowed(c));
  }
  if value.starts_with('-') || value.ends_with('-') {
    return Err(LabelError::Edge);
  }
  Ok(())
}

fn is_domain_or_label(value: &str) -> bool {
  value.len() <= 253 && value.split('.').all(|label| dns_label(label, 63).is_ok())
}

fn is_domain(value: &str) -> bool {
  is_domain_or_label(value) && value.contains('.')
}

/// A Prometheus duration as `--storage.tsdb.retention.time` takes it: one
/// number (not zero) and a unit.
fn is_prometheus_duration(value: &str) -> bool {
  let digits = value.trim_end_matches(|c: char| c.is_ascii_alphabetic());
  let unit = &value[digits.len()..];
  !digits.is_empty()
    && digits.chars().all(|c| c.is_ascii_digit())
    && digits.parse::<u64>().is_ok_and(|n| n > 0)
    && ["ms", "s", "m", "h", "d", "w", "y"].contains(&unit)
}

fn is_email(value: &str) -> bool {
  let Some((local, domain)) = value.rsplit_once('@') else {
    return false;
  };
  !local.is_empty()
    && !local.contains(char::is_whitespace)
    && !local.contains('@')
    && is_domain(&domain.to_ascii_lowercase())
}

fn is_repository(value: &str) -> bool {
  let Some((owner, name)) = value.split_once('/') else {
    return false;
  };
  let owner_ok = !owner.is_empty()
    && owner.len() <= 39
    && !owner.starts_with('-')
    && owner
      .bytes()
      .all(|b| b.is_ascii_alphanumeric() || b == b'-');
  let name_ok = !name.is_empty()
    && name.len() <= 100
    && name != "."
    && name != ".."
    && name
      .bytes()
      .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
  owner_ok && name_ok
}

/// `<family>.<size>` such as `m6i.large`, `c7gn.16xlarge`, `u-6tb1.metal`.
fn is_instance_type(value: &str) -> bool {
  let Some((family, size)) = value.split_once('.') else {
    return false;
  };
  let family_ok = family.starts_with(|c: char| c.is_ascii_lowercase())
    && family
      .bytes()
      .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
  let size_ok = !size.is_empty()
    && size
      .bytes()
      .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
  family_ok && size_ok && family.bytes().any(|b| b.is_ascii_digit())
}

/// A 12-digit AWS account id.
pub(crate) fn is_account_id(value: &str) -> bool {
  value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit())
}

fn is_env_name(value: &str) -> bool {
  value.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
    && value
      .bytes()
      .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn is_checkov_id(value: &str) -> bool {
  let Some(rest) = value
    .strip_prefix("CKV_")
    .or_else(|| value.strip_prefix("CKV2_"))
  else {
    return false;
  };
  let Some((group, number)) = rest.rsplit_once('_') else {
    return false;
  };
  !group.is_empty()
    && group
      .bytes()
      .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    && !number.is_empty()
    && number.bytes().all(|b| b.is_ascii_digit())
}

/// Checks that what an accepted blueprint renders can deploy: names the
/// Kubernetes API takes, counts that fit its int32 fields, requests within
/// limits, host names DNS can hold, and strings free of control characters.
fn deployable(platform: &Platform, found: &mut Vec<Diagnostic>) {
  service_names_deployable(platform, found);
  counts_fit_int32(platform, found);
  requests_within_limits(platform, found);
  hosts_fit_dns(platform, found);
  no_control_characters(platform, found);
}

/// The longest Secrets Manager secret name.
/// Required reviewers GitHub takes per environment, of users and of teams each.
const MAX_REVIEWERS: usize = 6;

/// A GitHub user name: letters, digits and single hyphens, not at either end,
/// at most 39 characters.
fn github_user(name: &str) -> bool {
  !name.is_empty()
    && name.len() <= 39
    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    && !name.starts_with('-')
    && !name.ends_with('-')
    && !name.contains("--")
}

/// A GitHub team slug: lowercase letters, digits, '-' and '_'.
fn github_team_slug(slug: &str) -> bool {
  !slug.is_empty()
    && slug.len() <= 255
    && slug
      .bytes()
      .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Bucket name prefixes S3 keeps for itself.
const S3_RESERVED_PREFIXES: &[&str] = &["xn--", "sthree-", "amzn-s3-demo-"];

/// The largest gp3 EBS volume, in GB.
const MAX_NODE_DISK_GB: u32 = 16_384;

/// Largest value of a Kubernetes int32 field such as `replicas`.
const INT32_MAX: i64 = 2_147_483_647;

fn service_names_deployable(platform: &Platform, found: &mut Vec<Diagnostic>) {
  let services = &platform.spec.services;
  for (i, service) in services.iter().enumerate() {
    if service.name.starts_with(|c: char| c.is_ascii_digit()) {
      found.push(
        Diagnostic::error(
          format!("spec.services[{i}].name"),
          format!(
            "`{}` must start with a lowercase letter: a Kubernetes Service name is a DNS-1035 label",
            service.name
          ),
        )
        .with_hint("start the name with a letter, e.g. `web-{name}`".replace("{name}", &service.name)),
      );
    }
  }
  for (owner_at, owner) in services
    .iter()
    .enumerate()
    .filter(|(_, s)| s.runs_migrations)
  {
    let base: String = owner.name.chars().take(52).collect();
    let derived = format!("{}-migrations", base.trim_end_matches('-'));
    for (i, service) in services.iter().enumerate() {
      if i != owner_at && service.name == derived {
        found.push(
          Diagnostic::error(
            format!("spec.services[{i}].name"),
            format!(
              "`{derived}` is the name of the migration Job, ServiceAccount, NetworkPolicy, ExternalSecret and image (its ECR repository) of `{}` (spec.services[{owner_at}], which runs the migrations)",
              owner.name
            ),
          )
          .with_hint(format!("choose a name other than `{derived}`")),
        );
      }
    }
  }
}

fn counts_fit_int32(platform: &Platform, found: &mut Vec<Diagnostic>) {
  let mut check = |path: String, field: &str, value: i64| {
    if value > INT32_MAX {
      found.push(Diagnostic::error(
        path,
        format!("{field} must be at most {INT32_MAX} (a Kubernetes int32), got {value}"),
      ));
    }
  };
  for (i, service) in platform.spec.services.iter().enumerate() {
    let path = format!("spec.services[{i}]");
    check(format!("{path}.replicas"), "replicas", service.replicas);
    if let Some(scaling) = &service.autoscaling {
      check(
        format!("{path}.autoscaling.maxReplicas"),
        "maxReplicas",
        scaling.max_replicas,
      );
    }
  }
  for (i, env) in platform.spec.environments.iter().enumerate() {
    if let Some(replicas) = env.overrides.as_ref().and_then(|o| o.replicas) {
      check(
        format!("spec.environments[{i}].overrides.replicas"),
        "replicas",
        replicas,
      );
    }
  }
}

fn requests_within_limits(platform: &Platform, found: &mut Vec<Diagnostic>) {
  for (i, service) in platform.spec.services.iter().enumerate() {
    let (requests, limits) = (service.requests(), service.limits());
    let given = service.resources.as_ref();
    let requests_given = given.is_some_and(|r| r.requests.is_some());
    let limits_given = given.is_some_and(|r| r.limits.is_some());
    let cpu: fn(&str) -> Option<u64> = super::quota::cpu_millis;
    let memory: fn(&str) -> Option<u64> = super::quota::memory_bytes;
    for (kind, request, limit, amount) in [
      ("cpu", &requests.cpu, &limits.cpu, cpu),
      ("memory", &requests.memory, &limits.memory, memory),
    ] {
      let (Some(r), Some(l)) = (amount(request), amount(limit)) else {
        continue;
      };
      if r > l {
        let at = if requests_given { "requests" } else { "limits" };
        let limit_text = if limits_given {
          format!("`{limit}`")
        } else {
          format!("`{limit}` (the default limit)")
        };
        let request_text = if requests_given {
          format!("`{request}`")
        } else {
          format!("`{request}` (the default request)")
        };
        found.push(
          Diagnostic::error(
            format!("spec.services[{i}].resources.{at}.{kind}"),
            format!(
              "the {kind} request {request_text} is above the {kind} limit {limit_text}; Kubernetes refuses a request above its limit"
            ),
          )
          .with_hint(format!(
            "request at most the limit, or raise resources.limits.{kind}"
          )),
        );
      }
    }
  }
}

fn hosts_fit_dns(platform: &Platform, found: &mut Vec<Diagnostic>) {
  // Each label is checked where it is written (host, subdomain, domain);
  // only their sum, the whole name, can still be too long.
  for (i, service) in platform.spec.services.iter().enumerate() {
    let longest = platform
      .spec
      .environments
      .iter()
      .filter_map(|env| Some((platform.host(service, env)?, env)))
      .max_by_key(|(host, _)| host.len());
    let Some((host, env)) = longest.filter(|(host, _)| host.len() > 253) else {
      continue;
    };
    found.push(
      Diagnostic::error(
        format!("spec.services[{i}].ingress.host"),
        format!(
          "the host `{host}` (environment `{}`) is {} characters; a DNS name holds at most 253",
          env.name,
          host.len()
        ),
      )
      .with_hint("shorten the host, the environment's subdomain or spec.domain"),
    );
  }
}

/// Strings holding NUL or another control character (tab and newline
/// aside) cannot reach Terraform, Helm or a shell intact.
fn no_control_characters(platform: &Platform, found: &mut Vec<Diagnostic>) {
  fn walk(value: &yaml_serde::Value, path: &str, found: &mut Vec<Diagnostic>) {
    match value {
      yaml_serde::Value::String(text) => {
        if let Some(c) = text
          .chars()
          .find(|c| c.is_control() && *c != '\n' && *c != '\t')
        {
          found.push(
            Diagnostic::error(
              path,
              format!(
                "the value holds the control character U+{:04X}; only printable text, tabs and newlines are allowed",
                c as u32
              ),
            )
            .with_hint("remove the escape (such as `\\0` or `\\x01`) from the quoted string"),
          );
        }
      }
      yaml_serde::Value::Sequence(items) => {
        for (i, item) in items.iter().enumerate() {
          walk(item, &format!("{path}[{i}]"), found);
        }
      }
      yaml_serde::Value::Mapping(map) => {
        for (key, item) in map {
          let key = match key {
            yaml_serde::Value::String(k) => k.clone(),
            other => scalar_text(other),
          };
          let at = if path.is_empty() {
            key.clone()
          } else {
            format!("{path}.{key}")
          };
          if key.chars().any(char::is_control) {
            found.push(Diagnostic::error(
              path,
              "a key holds a control character; only printable text is allowed",
            ));
          }
          walk(item, &at, found);
        }
      }
      yaml_serde::Value::Tagged(tagged) => walk(&tagged.value, path, found),
      _ => {}
    }
  }
  if let Ok(value) = yaml_serde::to_value(platform) {
    walk(&value, "", found);
  }
}

impl Checker<'_> {
  /// `spec.versions`: each key a component of the version table, each
  /// value in the format of its kind; an override older than the table's
  /// release is allowed, with a warning.
  fn versions(&mut self) {
    let table = crate::versions::Versions::builtin();
    for (name, value) in &self.platform.spec.versions {
      let path = format!("spec.versions.{name}");
      let Some(component) = table.find(name) else {
        let d = self.error(path, format!("`{name}` is not a component oi-gen pins"));
        d.hint = Some(match crate::diagnostic::suggest(name, table.names()) {
          Some(best) => format!("did you mean `{best}`? `oi-gen versions` lists the components"),
          None => "`oi-gen versions` lists the components".into(),
        });
        continue;
      };
      match crate::versions::parse_override(component, value) {
        Err(problem) => {
          self
            .error(
              path,
              format!("`{name}` (kind {}): {problem}", component.kind.as_str()),
            )
            .hint = Some(format!(
            "oi-gen pins `{}`; write a release in the same form (see {})",
            component.version, component.source
          ));
        }
        Ok(over) => {
          let kubernetes = self.platform.kubernetes_version();
          let Some(pinned) = component.for_kubernetes(&kubernetes) else {
            continue;
          };
          if crate::versions::compare(&over.version, pinned) == Some(std::cmp::Ordering::Less) {
            self
              .warn(
                path,
                format!(
                  "`{}` is older than the `{pinned}` oi-gen pins for `{name}`",
                  over.version
                ),
              )
              .hint = Some("remove the override unless you need the older release".into());
          }
        }
      }
    }
  }
}

impl Checker<'_> {
  /// The EKS managed add-ons (not with Auto Mode, which runs its own): one
  /// the version table has no build for at the blueprint's Kubernetes
  /// version, and `spec.versions` does not pin, runs AWS's default build for
  /// that version. That build is compatible, so it is a warning, not an
  /// error: the plan just does not pin it.
  fn eks_addon_pins(&mut self) {
    let kubernetes = self.platform.kubernetes_version();
    let supported = EKS_STANDARD
      .iter()
      .chain(EKS_EXTENDED)
      .any(|v| *v == kubernetes);
    if !supported || self.platform.auto_mode() {
      return;
    }
    let unpinned: Vec<&str> = crate::versions::Versions::builtin()
      .eks_addons(&kubernetes)
      .into_iter()
      .filter(|(name, build)| build.is_none() && !self.platform.spec.versions.contains_key(*name))
      .map(|(name, _)| name)
      .collect();
    let Some(first) = unpinned.first() else {
      return;
    };
    let list = unpinned
      .iter()
      .map(|name| format!("`{name}`"))
      .collect::<Vec<_>>()
      .join(", ");
    self
      .warn(
        "spec.cluster.kubernetesVersion",
        format!(
          "oi-gen pins no build of the EKS add-on(s) {list} for Kubernetes {kubernetes}: \
           they run AWS's default build for it, which may change between plans"
        ),
      )
      .hint = Some(format!(
      "pin one with `spec.versions.{first}: vX.Y.Z-eksbuild.N` (`aws eks describe-addon-versions \
       --addon-name {first} --kubernetes-version {kubernetes}` lists the builds)"
    ));
  }
}

/// The error for an AWS name past its limit: the message and the hint.
fn too_long(name: &names::AwsName, platform: &Platform) -> (String, String) {
  let len = name.name.len();
  let limit = name.kind.limit();
  match &name.rule {
    names::NameRule::Stack { stack } if name.kind == names::AwsKind::IamRoleNamePrefix => (
      format!(
        "`{stack}` (platform and environment) is {} characters; at most {MAX_STACK_NAME} fit: the EKS module names the cluster IAM role with the prefix `{stack}{EKS_CLUSTER_ROLE_SUFFIX}`, and IAM allows {IAM_NAME_PREFIX_MAX} characters for a name prefix",
        stack.len()
      ),
      "shorten metadata.name or the environment name".into(),
    ),
    names::NameRule::NodeGroup { group } => (
      format!(
        "node group name `{group}` is {} characters; at most {MAX_NODE_GROUP_NAME} fit: the EKS module names its IAM role with the prefix `{group}{EKS_NODE_ROLE_SUFFIX}`, and IAM allows {IAM_NAME_PREFIX_MAX} characters for a name prefix",
        group.len()
      ),
      format!("shorten it to {MAX_NODE_GROUP_NAME} characters or fewer"),
    ),
    names::NameRule::ServiceRole => (
      format!(
        "the service's AWS role in `{}` would be named `{}`, {len} characters; IAM allows {limit}",
        name.environment, name.name
      ),
      "shorten the service, platform or environment name".into(),
    ),
    names::NameRule::Secret { key } => (
      format!(
        "the secret's name in its environment, `<platform>/<environment>/{key}`, would be {len} characters; Secrets Manager allows {limit}"
      ),
      "shorten the secret name".into(),
    ),
    names::NameRule::StateBucket => {
      let over = name.overflow();
      let prefix = platform
        .spec
        .state_buckets
        .as_ref()
        .and_then(|settings| settings.prefix.as_ref());
      let hint = match prefix {
        Some(prefix) if prefix.len() > over => format!(
          "shorten the prefix to {} characters or fewer",
          prefix.len() - over
        ),
        Some(_) => "leave the prefix out, or shorten metadata.name or the environment name".into(),
        None => "shorten metadata.name or the environment name".into(),
      };
      (
        format!(
          "the state bucket of `{}`, `{}`, is {len} characters; S3 allows {limit} for a bucket name",
          name.environment, name.name
        ),
        hint,
      )
    }
    names::NameRule::Stack { .. } | names::NameRule::Other => (
      format!(
        "the {} `{}` (environment `{}`) is {len} characters; AWS allows {limit}",
        name.kind.describe(),
        name.name,
        name.environment
      ),
      format!("shorten {}", name.fields.join(" or ")),
    ),
  }
}

/// `arn:<partition>:sso:::instance/ssoins-<16 letters and digits>`.
fn is_sso_instance_arn(arn: &str) -> bool {
  let Some(rest) = arn.strip_prefix("arn:") else {
    return false;
  };
  let Some((partition, rest)) = rest.split_once(':') else {
    return false;
  };
  let Some(id) = rest.strip_prefix("sso:::instance/ssoins-") else {
    return false;
  };
  partition.starts_with("aws")
    && partition
      .bytes()
      .all(|b| b.is_ascii_lowercase() || b == b'-')
    && id.len() == 16
    && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// An identity store user or group id: letters, digits and '-', as AWS's
/// `([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-...` ids are, at most 47 characters.
fn is_identity_store_id(id: &str) -> bool {
  !id.is_empty()
    && id.len() <= 47
    && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
    && !id.starts_with('-')
    && !id.ends_with('-')
}
