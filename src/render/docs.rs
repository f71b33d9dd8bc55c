//! The generated repository's `README.md`: what is where, how to bootstrap
//! and operate it, and an architecture diagram in Mermaid drawn from the
//! blueprint, so it is never out of date. The template lays the diagram
//! out; this module gives it the nodes and their labels.

use serde::Serialize;

use super::engine::output_path;
use super::{Engine, Output};
use crate::blueprint::Resolved;
use crate::blueprint::model::{NatGateways, NetworkPolicy, Nginx, ZoneSource};
use crate::blueprint::network::Cidr;

const README: &str = "README.md.tera";

#[derive(Serialize)]
struct ReadmeData {
  platform: String,
  domain: String,
  region: String,
  repository: String,
  branch: String,
  diagram: Diagram,
  environments: Vec<EnvironmentRow>,
  services: Vec<ServiceRow>,
  database: Option<String>,
  migrations_owner: Option<String>,
  first_environment: String,
  namespace: String,
  dns: DnsData,
  cert_manager: bool,
  /// The distinct AWS accounts, in promotion order, each with its
  /// environments (empty when the blueprint names none).
  accounts: Vec<AccountRow>,
  /// With External Secrets: the secrets Terraform creates.
  secrets: Option<ReadmeSecrets>,
  /// With a database: each service that uses it and its PostgreSQL role.
  database_roles: Vec<(String, String)>,
  /// `natGateways: none`: the private subnets need internet egress from
  /// elsewhere before the add-ons install.
  no_nat: bool,
  /// The README's node scaling section.
  node_scaling: NodeScaling,
  /// Where the drift job downloads oi-gen's release binaries from.
  oi_gen_releases: &'static str,
  /// The ranges that may reach the public EKS API (empty: private only).
  endpoint_public_cidrs: Vec<String>,
  /// The services with an AWS role of their own (spec.services[].aws):
  /// service → what it may use, as written.
  service_roles: Vec<(String, Vec<String>)>,
  /// `spec.delivery.github.reviewers` as the README names them (users as
  /// `@login`, teams as `@owner/slug`), empty when none are given.
  reviewers: String,
  reviewer_teams: bool,
  /// The supply chain: the severities the build's gate fails on (empty:
  /// it only reports), and the signatures' identity and issuer.
  gate: &'static [&'static str],
  signer_identity: String,
  signer_issuer: &'static str,
  /// The Security model: the deploy role's Kubernetes group, and the
  /// `namespace/name` of each add-on service account with a Pod Identity role.
  deployers_group: String,
  service_accounts: std::collections::BTreeMap<&'static str, String>,
  /// With monitoring: volumes, receivers, alerts.
  monitoring: Option<ReadmeMonitoring>,
  /// The namespace's ResourceQuota per environment and its LimitRange.
  quota: ReadmeQuota,
  /// `delivery.mode: argocd`: the argo-cd chart's version.
  argocd: Option<String>,
  /// `spec.delivery.previews`: the Previews section.
  previews: Option<ReadmePreviews>,
  /// `delivery.argocd.managed`: the EKS Argo CD capability instead.
  argocd_managed: Option<ReadmeManagedArgoCd>,
}

#[derive(Serialize)]
struct ReadmePreviews {
  environment: String,
  cluster: String,
  role: String,
  group: String,
  ttl_hours: u32,
  expire_days: u32,
  repository_prefix: String,
  /// Service → the tail of its preview host after `pr-<number>`.
  hosts: Vec<(String, String)>,
}

/// The managed Argo CD's runbook: how to reach it, who may do what.
#[derive(Serialize)]
struct ReadmeManagedArgoCd {
  /// The capability's name.
  name: &'static str,
  /// Identity Center's region.
  idc_region: String,
  /// (Argo CD role, ["group `<id>`" | "user `<id>`"]), in the order ADMIN,
  /// EDITOR, VIEWER.
  roles: Vec<(&'static str, Vec<String>)>,
}

/// The compute budget of the platform's namespace, as quantities.
#[derive(Serialize)]
struct ReadmeQuota {
  /// Environment → requests (cpu, memory), limits (cpu, memory), pods.
  environments: Vec<(String, [String; 5])>,
  default_requests: [String; 2],
  default_limits: [String; 2],
  max: [String; 2],
  /// The add-on traffic enters through.
  entry: &'static str,
}

impl ReadmeQuota {
  fn new(resolved: &Resolved) -> Self {
    let pair = |a: &crate::blueprint::quota::Amounts| [a.cpu_text(), a.memory_text()];
    let limits = &resolved.limit_range;
    Self {
      environments: resolved
        .environments
        .iter()
        .map(|env| {
          let q = &env.quota;
          (
            env.name.clone(),
            [
              q.requests.cpu_text(),
              q.requests.memory_text(),
              q.limits.cpu_text(),
              q.limits.memory_text(),
              q.pods.to_string(),
            ],
          )
        })
        .collect(),
      default_requests: pair(&limits.default_requests),
      default_limits: pair(&limits.default_limits),
      max: pair(&limits.max),
      entry: match resolved.addons.nginx {
        Nginx::Gateway => "NGINX Gateway Fabric",
        Nginx::Ingress => "ingress-nginx",
      },
    }
  }
}

/// Who scales the nodes, and with Karpenter its identities per environment.
#[derive(Serialize)]
struct NodeScaling {
  karpenter: bool,
  /// Environment → (controller role, node role, interruption queue).
  karpenter_names: Vec<(String, [String; 3])>,
  /// `compute: auto-mode`: EKS Auto Mode runs the nodes.
  auto_mode: bool,
}

impl NodeScaling {
  fn new(resolved: &Resolved) -> Self {
    let karpenter = resolved.autoscaler == crate::blueprint::model::Autoscaler::Karpenter;
    Self {
      karpenter,
      karpenter_names: resolved
        .environments
        .iter()
        .filter(|_| karpenter)
        .map(|env| {
          let stack = &env.names.stack;
          (
            env.name.clone(),
            [
              crate::names::karpenter_controller_role(stack),
              crate::names::karpenter_node_role(stack),
              crate::names::karpenter_queue(stack),
            ],
          )
        })
        .collect(),
      auto_mode: resolved.auto_mode,
    }
  }
}

#[derive(Serialize)]
struct ReadmeMonitoring {
  prometheus_gb: u32,
  alertmanager_gb: u32,
  grafana_gb: u32,
  retention: String,
  grafana: bool,
  /// Each receiver: its name, and per environment its secret and the command
  /// that fills it.
  receivers: Vec<ReadmeReceiver>,
  /// `e-mail, Slack and PagerDuty`.
  receiver_names: String,
  /// `nginx: ingress` with public services: request alerts and dashboards.
  request_alerts: bool,
  cert_manager: bool,
}

#[derive(Serialize)]
struct ReadmeReceiver {
  kind: &'static str,
  property: &'static str,
  what: &'static str,
  environments: Vec<(String, String, String)>,
}

/// The README's DNS step: what to delegate, and from where.
#[derive(Serialize)]
struct DnsData {
  /// Each environment creates its zone (`spec.dns.zone: create`).
  create: bool,
  zones: Vec<DnsZoneRow>,
}

#[derive(Serialize)]
struct DnsZoneRow {
  environment: String,
  zone: String,
  /// The environment's hosts are this name or under it.
  domain: String,
  /// The environment whose zone is this zone's parent (the apex zone),
  /// when the platform creates that zone too.
  parent_environment: Option<String>,
  /// The parent domain, when the zone is a subdomain.
  parent_domain: Option<String>,
}

#[derive(Serialize)]
struct AccountRow {
  id: String,
  environments: Vec<String>,
  /// Its ECR registry host.
  registry: String,
}

#[derive(Serialize)]
struct ReadmeSecrets {
  /// `<platform>/<env>/`, with `<env>` for the environment.
  scope: String,
  /// Grafana's generated admin secret, per environment.
  grafana: Vec<String>,
  /// The secrets the user fills, each per environment.
  user: Vec<ReadmeUserSecret>,
}

#[derive(Serialize)]
struct ReadmeUserSecret {
  services: Vec<String>,
  properties: Vec<String>,
  /// (environment, full name, `put-secret-value` command).
  environments: Vec<(String, String, String)>,
}

#[derive(Serialize)]
struct EnvironmentRow {
  name: String,
  approval: bool,
  cluster: String,
  state_bucket: String,
  deploy_role: String,
  infra_environment: String,
  account: Option<String>,
  registry: Option<String>,
}

#[derive(Serialize)]
struct ServiceRow {
  name: String,
  port: i64,
  hosts: Vec<String>,
  build: String,
}

/// What the architecture diagram shows, with Mermaid node ids.
#[derive(Serialize)]
struct Diagram {
  /// The VPC range as written.
  cidr: String,
  zones: Vec<Zone>,
  nat: &'static str,
  kubernetes_version: String,
  node_groups: Vec<NodeGroupNode>,
  /// The cluster's entry point.
  entry: &'static str,
  policy: &'static str,
  services: Vec<ServiceNode>,
  rds: Option<Rds>,
}

/// A zone and its subnets (empty where the plan has none for it).
#[derive(Serialize)]
struct Zone {
  id: String,
  name: String,
  public: String,
  private: String,
  database: String,
}

/// A node group with its sizes as the blueprint writes them.
#[derive(Serialize)]
struct NodeGroupNode {
  id: String,
  name: String,
  instance_types: Vec<String>,
  min: u32,
  max: u32,
}

#[derive(Serialize)]
struct ServiceNode {
  id: String,
  name: String,
  /// Its host in the last environment; `None` when it has no ingress.
  host: Option<String>,
  /// An edge from the entry point.
  ingress: bool,
  /// An edge to the database.
  database: bool,
}

#[derive(Serialize)]
struct Rds {
  version: String,
  name: String,
  multi_az: bool,
}

impl DnsData {
  fn new(resolved: &Resolved) -> Self {
    let apex = resolved
      .environments
      .iter()
      .find(|e| e.dns.zone == resolved.domain)
      .map(|e| e.name.clone());
    let create = resolved
      .environments
      .iter()
      .all(|e| e.dns.source == ZoneSource::Create);
    // The apex zone first: a subdomain's delegation goes into it.
    let mut environments: Vec<_> = resolved.environments.iter().collect();
    environments.sort_by_key(|e| e.dns.zone != resolved.domain);
    let zones = environments
      .into_iter()
      .map(|e| {
        let subdomain = e.dns.zone != resolved.domain;
        DnsZoneRow {
          environment: e.name.clone(),
          zone: e.dns.zone.clone(),
          domain: e.dns.domain.clone(),
          parent_environment: if subdomain { apex.clone() } else { None },
          parent_domain: subdomain.then(|| resolved.domain.clone()),
        }
      })
      .collect();
    Self { create, zones }
  }
}

pub(crate) fn render(
  resolved: &Resolved,
  engine: &Engine,
  out: &mut Output,
) -> Result<(), tera::Error> {
  let environments: Vec<EnvironmentRow> = resolved
    .environments
    .iter()
    .map(|env| EnvironmentRow {
      name: env.name.clone(),
      approval: env.approval,
      cluster: env.names.cluster.clone(),
      state_bucket: env.names.state_bucket.clone(),
      deploy_role: env.names.deploy_role.clone(),
      infra_environment: env.names.infra_environment.clone(),
      account: env.account.clone(),
      registry: env.registry.clone(),
    })
    .collect();
  let mut accounts: Vec<AccountRow> = Vec::new();
  for env in &resolved.environments {
    let (Some(account), Some(registry)) = (&env.account, &env.registry) else {
      continue;
    };
    match accounts.iter_mut().find(|a| &a.id == account) {
      Some(row) => row.environments.push(env.name.clone()),
      None => accounts.push(AccountRow {
        id: account.clone(),
        environments: vec![env.name.clone()],
        registry: registry.clone(),
      }),
    }
  }
  let services = resolved
    .services
    .iter()
    .map(|service| ServiceRow {
      name: service.name.clone(),
      port: service.port,
      hosts: service
        .environments
        .iter()
        .filter_map(|env| {
          let host = env.host.as_ref()?;
          let path = match service.ingress_path.as_deref() {
            None | Some("/") => "",
            Some(path) => path,
          };
          Some(format!("https://{host}{path} ({})", env.environment))
        })
        .collect(),
      build: service.build_context.clone(),
    })
    .collect();
  let data = ReadmeData {
    platform: resolved.name.clone(),
    domain: resolved.domain.clone(),
    region: resolved.region.clone(),
    repository: resolved.repository.clone(),
    branch: resolved.branch.clone(),
    diagram: Diagram::new(resolved),
    environments,
    services,
    database: resolved.database.as_ref().map(|db| db.name.clone()),
    migrations_owner: resolved.migrations_owner().map(|s| s.name.clone()),
    first_environment: resolved.first_environment().name.clone(),
    namespace: resolved.namespace.clone(),
    dns: DnsData::new(resolved),
    cert_manager: resolved.addons.cert_manager.is_some(),
    no_nat: resolved.nat_gateways == NatGateways::None,
    node_scaling: NodeScaling::new(resolved),
    oi_gen_releases: super::workflows::OI_GEN_RELEASES,
    endpoint_public_cidrs: resolved.endpoint_public_cidrs.clone(),
    service_roles: resolved
      .services
      .iter()
      .filter_map(|s| {
        let aws = s.service.aws.as_ref()?;
        let access = |a: crate::blueprint::model::Access| match a {
          crate::blueprint::model::Access::Read => "read",
          crate::blueprint::model::Access::Write => "write",
        };
        let used: Vec<String> = aws
          .s3
          .iter()
          .map(|b| format!("S3 `{}` ({})", b.bucket, access(b.access)))
          .chain(
            aws
              .sqs
              .iter()
              .map(|q| format!("SQS `{}` ({})", q.queue, access(q.access))),
          )
          .collect();
        (!used.is_empty()).then(|| (s.name.clone(), used))
      })
      .collect(),
    gate: resolved.vulnerability_gate.failing(),
    signer_identity: resolved.signer_identity.clone(),
    signer_issuer: crate::names::GITHUB_ACTIONS_ISSUER,
    deployers_group: crate::names::deployers_group(&resolved.platform),
    service_accounts: service_accounts(),
    monitoring: readme_monitoring(resolved),
    quota: ReadmeQuota::new(resolved),
    argocd: resolved.argocd().then(|| {
      resolved
        .versions
        .version(crate::render::charts::versions::ARGO_CD.component)
        .to_string()
    }),
    accounts,
    reviewers: readme_reviewers(resolved),
    reviewer_teams: !resolved.reviewers.teams.is_empty(),
    secrets: resolved
      .addons
      .external_secrets
      .then(|| ReadmeSecrets::new(resolved)),
    database_roles: resolved
      .services
      .iter()
      .filter(|s| s.uses_database && resolved.addons.external_secrets)
      .map(|s| (s.name.clone(), crate::names::database_role(&s.name)))
      .collect(),
    previews: resolved.previews.as_ref().map(|p| ReadmePreviews {
      environment: p.environment.clone(),
      cluster: resolved.first_environment().names.cluster.clone(),
      role: p.role.clone(),
      group: p.group.clone(),
      ttl_hours: p.ttl_hours,
      expire_days: p.ttl_hours.div_ceil(24) + 1,
      repository_prefix: p.repository_prefix.clone(),
      hosts: p.hosts.clone(),
    }),
    argocd_managed: resolved
      .managed_argocd
      .as_ref()
      .map(|managed| ReadmeManagedArgoCd {
        name: crate::names::ARGOCD_CAPABILITY,
        idc_region: managed.idc_region.clone(),
        roles: managed
          .role_mappings
          .iter()
          .map(|(role, identities)| {
            let identities = identities
              .iter()
              .map(|(id, kind)| {
                let kind = if *kind == "SSO_GROUP" {
                  "group"
                } else {
                  "user"
                };
                format!("{kind} `{id}`")
              })
              .collect();
            (*role, identities)
          })
          .collect(),
      }),
  };
  out.add(
    output_path(README, None, None),
    engine.render(README, &data)?,
  );
  Ok(())
}

/// The required reviewers as a sentence fragment: `@alice, @acme/platform`.
fn readme_reviewers(resolved: &Resolved) -> String {
  let owner = resolved
    .repository
    .split_once('/')
    .map_or("", |(owner, _)| owner);
  let users = resolved.reviewers.users.iter().map(|u| format!("`@{u}`"));
  let teams = resolved
    .reviewers
    .teams
    .iter()
    .map(|t| format!("`@{owner}/{t}`"));
  users.chain(teams).collect::<Vec<_>>().join(", ")
}

/// The add-on service accounts that get an AWS role through Pod Identity.
fn service_accounts() -> std::collections::BTreeMap<&'static str, String> {
  use super::charts::versions::{
    AWS_LOAD_BALANCER_CONTROLLER, AWS_LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT, CERT_MANAGER,
    CERT_MANAGER_SERVICE_ACCOUNT, CLUSTER_AUTOSCALER, CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
    EXTERNAL_DNS, EXTERNAL_DNS_SERVICE_ACCOUNT,
  };
  [
    (
      "external_secrets",
      format!(
        "{}/{}",
        crate::names::ESO_NAMESPACE,
        crate::names::ESO_SERVICE_ACCOUNT
      ),
    ),
    (
      "external_dns",
      format!("{}/{EXTERNAL_DNS_SERVICE_ACCOUNT}", EXTERNAL_DNS.namespace),
    ),
    (
      "cert_manager",
      format!("{}/{CERT_MANAGER_SERVICE_ACCOUNT}", CERT_MANAGER.namespace),
    ),
    (
      "load_balancer_controller",
      format!(
        "{}/{AWS_LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT}",
        AWS_LOAD_BALANCER_CONTROLLER.namespace
      ),
    ),
    (
      "cluster_autoscaler",
      format!(
        "{}/{CLUSTER_AUTOSCALER_SERVICE_ACCOUNT}",
        CLUSTER_AUTOSCALER.namespace
      ),
    ),
  ]
  .into_iter()
  .collect()
}

impl ReadmeSecrets {
  fn new(resolved: &Resolved) -> Self {
    let region = &resolved.region;
    Self {
      scope: format!("{}/<env>/", resolved.name),
      grafana: if resolved.addons.grafana {
        resolved
          .environments
          .iter()
          .map(|e| {
            format!(
              "{}{}",
              e.names.secret_scope,
              crate::names::GRAFANA_ADMIN_KEY
            )
          })
          .collect()
      } else {
        Vec::new()
      },
      user: resolved
        .user_secrets
        .iter()
        .map(|secret| {
          let json = secret
            .properties
            .iter()
            .map(|p| format!("\"{p}\":\"<{p}>\""))
            .collect::<Vec<_>>()
            .join(",");
          ReadmeUserSecret {
            services: secret.services.clone(),
            properties: secret.properties.clone(),
            environments: resolved
              .environments
              .iter()
              .map(|e| {
                let name = format!("{}{}", e.names.secret_scope, secret.key);
                let command = format!(
                  "aws secretsmanager put-secret-value --region {region} --secret-id {name} \
                   --secret-string '{{{json}}}'"
                );
                (e.name.clone(), name, command)
              })
              .collect(),
          }
        })
        .collect(),
    }
  }
}

/// A Mermaid node id: letters, digits and `_` only.
fn id(prefix: &str, name: &str) -> String {
  let clean: String = name
    .chars()
    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
    .collect();
  format!("{prefix}_{clean}")
}

impl Diagram {
  fn new(resolved: &Resolved) -> Self {
    let spec = &resolved.platform.spec;
    let plan = &resolved.subnets;
    let show = |list: &[Cidr], i: usize| list.get(i).map(ToString::to_string).unwrap_or_default();
    Self {
      cidr: spec.network.cidr.clone(),
      zones: resolved
        .zones
        .iter()
        .enumerate()
        .map(|(i, zone)| Zone {
          id: id("zone", zone),
          name: zone.clone(),
          public: show(&plan.public, i),
          private: show(&plan.private, i),
          database: show(&plan.database, i),
        })
        .collect(),
      nat: match resolved.nat_gateways {
        NatGateways::OnePerAz => "NAT gateway per zone",
        NatGateways::Single => "one NAT gateway",
        NatGateways::None => "no NAT gateway",
      },
      kubernetes_version: resolved.kubernetes_version.clone(),
      node_groups: spec
        .cluster
        .node_groups
        .iter()
        .map(|group| NodeGroupNode {
          id: id("ng", &group.name),
          name: group.name.clone(),
          instance_types: group.instance_types.clone(),
          min: group.min_size,
          max: group.max_size,
        })
        .collect(),
      entry: match resolved.addons.nginx {
        Nginx::Gateway => "NGINX Gateway Fabric<br/>Gateway API",
        Nginx::Ingress => "ingress-nginx",
      },
      policy: match resolved.network_policy {
        NetworkPolicy::Calico => "Calico (policy only)",
        NetworkPolicy::VpcCni => "VPC CNI network policy",
      },
      services: resolved
        .services
        .iter()
        .map(|service| ServiceNode {
          id: id("svc", &service.name),
          name: service.name.clone(),
          host: service.environments.last().and_then(|env| env.host.clone()),
          ingress: service.ingress_path.is_some(),
          database: service.uses_database,
        })
        .collect(),
      rds: resolved.database.as_ref().map(|db| Rds {
        version: db.major_version.clone(),
        name: db.name.clone(),
        multi_az: spec.database.as_ref().is_some_and(|d| d.multi_az),
      }),
    }
  }
}

fn readme_monitoring(resolved: &Resolved) -> Option<ReadmeMonitoring> {
  let addons = &resolved.addons;
  if !addons.monitoring {
    return None;
  }
  let settings = &addons.monitoring_settings;
  let receivers = if addons.external_secrets {
    [
      (
        settings.email.is_some(),
        "e-mail",
        crate::names::ALERTMANAGER_EMAIL,
        "the SMTP password",
      ),
      (
        settings.slack.is_some(),
        "Slack",
        crate::names::ALERTMANAGER_SLACK,
        "the incoming webhook URL",
      ),
      (
        settings.pagerduty,
        "PagerDuty",
        crate::names::ALERTMANAGER_PAGERDUTY,
        "the Events API v2 integration's routing key",
      ),
    ]
    .into_iter()
    .filter(|(on, ..)| *on)
    .map(|(_, kind, (key, property, _), what)| ReadmeReceiver {
      kind,
      property,
      what,
      environments: resolved
        .environments
        .iter()
        .map(|e| {
          let name = format!("{}{key}", e.names.secret_scope);
          let command = format!(
            "aws secretsmanager put-secret-value --region {} --secret-id {name} --secret-string '{{\"{property}\":\"<{property}>\"}}'",
            resolved.region
          );
          (e.name.clone(), name, command)
        })
        .collect(),
    })
    .collect()
  } else {
    Vec::new()
  };
  let kinds: Vec<&str> = receivers.iter().map(|r| r.kind).collect();
  let receiver_names = match kinds.split_last() {
    Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
    _ => kinds.join(""),
  };
  Some(ReadmeMonitoring {
    receiver_names,
    prometheus_gb: settings.prometheus_gb,
    alertmanager_gb: settings.alertmanager_gb,
    grafana_gb: settings.grafana_gb,
    retention: settings.retention.clone(),
    grafana: addons.grafana,
    receivers,
    request_alerts: addons.nginx == crate::blueprint::model::Nginx::Ingress
      && resolved.services.iter().any(|s| s.ingress_path.is_some()),
    cert_manager: addons.cert_manager.is_some(),
  })
}

#[cfg(test)]
mod tests {
  use super::*;

  /// The structural rules a Mermaid flowchart must follow here: balanced
  /// subgraphs, unique ids, edges between declared nodes or subgraphs.
  pub(super) fn check(diagram: &str) -> Result<(), String> {
    let mut lines = diagram.lines();
    if lines.next() != Some("flowchart TB") {
      return Err("must start with `flowchart TB`".into());
    }
    let mut depth = 0usize;
    let mut declared = std::collections::BTreeSet::new();
    let mut edges = Vec::new();
    for line in lines {
      let line = line.trim();
      if let Some(rest) = line.strip_prefix("subgraph ") {
        depth += 1;
        let name = rest.split('[').next().unwrap_or_default();
        if !declared.insert(name.to_string()) {
          return Err(format!("`{name}` declared twice"));
        }
      } else if line == "end" {
        depth = depth.checked_sub(1).ok_or("`end` without `subgraph`")?;
      } else if line.contains("-->") {
        let parts: Vec<&str> = line.split("-->").collect();
        let from = parts[0].trim();
        let to = parts[1].split('|').next_back().unwrap_or_default().trim();
        edges.push((from.to_string(), to.to_string()));
      } else {
        let name: String = line
          .chars()
          .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
          .collect();
        if name.is_empty() || line[name.len()..].is_empty() {
          return Err(format!("cannot read `{line}`"));
        }
        let rest = &line[name.len()..];
        let balanced = rest.matches('[').count() == rest.matches(']').count()
          && rest.matches('(').count() == rest.matches(')').count()
          && rest.matches('"').count() % 2 == 0;
        if !balanced {
          return Err(format!("unbalanced shape in `{line}`"));
        }
        if !declared.insert(name.clone()) {
          return Err(format!("`{name}` declared twice"));
        }
      }
    }
    if depth != 0 {
      return Err("unclosed subgraph".into());
    }
    for (from, to) in edges {
      for node in [&from, &to] {
        if !declared.contains(node) {
          return Err(format!("edge uses undeclared `{node}`"));
        }
      }
    }
    Ok(())
  }

  /// The Mermaid block of a rendered README.
  fn diagram(readme: &str) -> &str {
    let start = readme.find("```mermaid\n").expect("a Mermaid block") + "```mermaid\n".len();
    let len = readme[start..].find("```").expect("a closed Mermaid block");
    &readme[start..start + len]
  }

  #[test]
  fn every_builtin_diagram_is_well_formed() {
    let engine = Engine::new().unwrap();
    for builtin in crate::builtin::all() {
      let resolved = crate::blueprint::load(builtin.text.as_bytes())
        .unwrap()
        .resolved;
      let mut out = Output::default();
      render(&resolved, &engine, &mut out).unwrap();
      let text = diagram(&out.files["README.md"].contents);
      check(text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", builtin.name));
      for service in &resolved.services {
        assert!(text.contains(&id("svc", &service.name)), "{}", service.name);
      }
    }
  }

  #[test]
  fn the_structural_check_catches_mistakes() {
    assert!(check("flowchart TB\n  subgraph a[\"x\"]\n").is_err());
    assert!(check("flowchart TB\n  a[\"x\"]\n  a --> b\n").is_err());
    assert!(check("flowchart TB\n  a[\"x\"\n").is_err());
    assert!(check("flowchart TB\n  a[\"x\"]\n  b[\"y\"]\n  a -->|label| b\n").is_ok());
  }
}
