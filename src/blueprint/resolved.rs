//! Defaults and derived values, computed in one place for every target.
//! Call these only on a validated blueprint.

use super::model::{
  Autoscaler, CapacityType, Database, Egress, Environment, GateSeverity, NatGateways,
  NetworkPolicy, Nginx, NodeGroup, Platform, Protocol, ResourceAmounts, Service, Toggle,
  ZoneSource,
};
use super::network::{self, Cidr, SubnetPlan};
use super::regions;
use crate::names;
pub use crate::names::{AwsKind, AwsName, NameRule};

/// Every IPv4 address, the public EKS endpoint's default range.
pub const OPEN_TO_ALL: &str = "0.0.0.0/0";

impl Platform {
  pub fn name(&self) -> &str {
    &self.metadata.name
  }

  pub fn region(&self) -> &str {
    &self.spec.aws.region
  }

  /// The blueprint's zones, or the region's first three.
  pub fn zones(&self) -> Vec<String> {
    match &self.spec.aws.availability_zones {
      Some(zones) => zones.clone(),
      None => regions::default_zones(self.region()),
    }
  }

  /// The EKS minor version as written (`"1.35"`).
  pub fn kubernetes_version(&self) -> String {
    scalar_text(&self.spec.cluster.kubernetes_version)
  }

  /// Environment names in promotion order.
  pub fn environment_names(&self) -> Vec<String> {
    self
      .spec
      .environments
      .iter()
      .map(|e| e.name.clone())
      .collect()
  }

  pub fn nat_gateways(&self) -> NatGateways {
    self.spec.network.nat_gateways.unwrap_or_default()
  }

  pub fn zone_source(&self) -> ZoneSource {
    self
      .spec
      .dns
      .as_ref()
      .and_then(|dns| dns.zone)
      .unwrap_or_default()
  }

  /// The domain an environment's hosts are under: `<subdomain>.<domain>`,
  /// or the apex domain.
  pub fn environment_domain(&self, environment: &Environment) -> String {
    match &environment.subdomain {
      Some(sub) => format!("{sub}.{}", self.spec.domain),
      None => self.spec.domain.clone(),
    }
  }

  /// The ranges that may reach the public EKS API endpoint: every address
  /// by default, none when the endpoint is private.
  pub fn endpoint_public_cidrs(&self) -> Vec<String> {
    let endpoint = self.spec.cluster.endpoint.as_ref();
    if endpoint.and_then(|e| e.public) == Some(false) {
      return Vec::new();
    }
    endpoint
      .and_then(|e| e.public_access_cidrs.clone())
      .unwrap_or_else(|| vec![OPEN_TO_ALL.to_string()])
  }

  pub fn network_policy(&self) -> NetworkPolicy {
    self.spec.cluster.network_policy.unwrap_or_default()
  }

  /// `spec.cluster.compute: auto-mode`.
  pub fn auto_mode(&self) -> bool {
    self.spec.cluster.compute == Some(super::model::Compute::AutoMode)
  }

  /// Who scales the nodes: cluster-autoscaler when the field is absent.
  pub fn autoscaler(&self) -> Autoscaler {
    self.spec.cluster.autoscaler.unwrap_or_default()
  }

  pub fn nginx(&self) -> Nginx {
    self
      .spec
      .cluster
      .addons
      .as_ref()
      .and_then(|addons| addons.nginx)
      .unwrap_or_default()
  }

  /// The subnet plan: explicit lists where given, carved from the VPC range
  /// otherwise. `None` when the range cannot be parsed or carved.
  pub fn subnets(&self) -> Option<SubnetPlan> {
    let vpc: Cidr = self.spec.network.cidr.parse().ok()?;
    let zones = self.zones().len();
    let carved = network::carve(vpc, zones);
    let pick = |explicit: &Option<Vec<String>>, carved: Option<Vec<Cidr>>| match explicit {
      Some(list) => list
        .iter()
        .map(|c| c.parse().ok())
        .collect::<Option<Vec<Cidr>>>(),
      None => carved,
    };
    Some(SubnetPlan {
      public: pick(
        &self.spec.network.public_subnets,
        carved.as_ref().map(|p| p.public.clone()),
      )?,
      private: pick(
        &self.spec.network.private_subnets,
        carved.as_ref().map(|p| p.private.clone()),
      )?,
      database: pick(
        &self.spec.network.database_subnets,
        carved.as_ref().map(|p| p.database.clone()),
      )?,
    })
  }

  /// Services that own the migrations (at most one after validation).
  pub fn migrations_owner(&self) -> Option<&Service> {
    self.spec.services.iter().find(|s| s.runs_migrations)
  }

  pub fn branch(&self) -> &str {
    self
      .spec
      .delivery
      .github
      .branch
      .as_deref()
      .unwrap_or("main")
  }

  /// The public host of a service in an environment, if it has ingress.
  pub fn host(&self, service: &Service, environment: &Environment) -> Option<String> {
    let ingress = service.ingress.as_ref()?;
    let mut parts = Vec::new();
    if ingress.host != "@" {
      parts.push(ingress.host.as_str());
    }
    if let Some(sub) = &environment.subdomain {
      parts.push(sub.as_str());
    }
    parts.push(&self.spec.domain);
    Some(parts.join("."))
  }
}

/// The blueprint with every default applied and every derived fact decided
/// once: what every render target reads. Built only from a validated
/// blueprint ([`crate::blueprint::load`] guarantees what this relies on).
#[derive(Debug, Clone)]
pub struct Resolved {
  /// The blueprint as written, for values passed through unchanged
  /// (environment variables, policy skips, the database name).
  pub platform: Platform,
  pub name: String,
  /// `spec.aws.region` without surrounding space.
  pub region: String,
  /// The blueprint's zones, or the region's first three.
  pub zones: Vec<String>,
  pub domain: String,
  /// The EKS minor version as written (`"1.35"`).
  pub kubernetes_version: String,
  /// `owner/name` of the GitHub repository.
  pub repository: String,
  /// The branch deploys run from.
  pub branch: String,
  /// Kubernetes namespace the services are deployed to.
  pub namespace: String,
  pub subnets: SubnetPlan,
  pub nat_gateways: NatGateways,
  pub network_policy: NetworkPolicy,
  pub addons: AddonSelection,
  pub database: Option<ResolvedDatabase>,
  pub node_groups: Vec<ResolvedNodeGroup>,
  /// In promotion order.
  pub environments: Vec<ResolvedEnvironment>,
  /// As the blueprint lists them.
  pub services: Vec<ResolvedService>,
  /// Position of each service in `services`, by name.
  service_index: std::collections::BTreeMap<String, usize>,
  /// The Secrets Manager secrets whose values only the user has (the
  /// `secret:` references of the services), each once, in service order;
  /// Terraform creates them empty in every environment.
  pub user_secrets: Vec<UserSecret>,
  /// Who scales the nodes (`spec.cluster.autoscaler`, default cluster-autoscaler).
  pub autoscaler: Autoscaler,
  /// The ranges that may reach the public EKS API endpoint; empty when the
  /// endpoint is private only (spec.cluster.endpoint).
  pub endpoint_public_cidrs: Vec<String>,
  /// `spec.delivery.github.reviewers` (empty lists when not given).
  pub reviewers: crate::blueprint::model::Reviewers,
  /// `spec.delivery.vulnerabilityGate.severity`, default critical.
  pub vulnerability_gate: GateSeverity,
  /// The certificate identity of the keyless signatures on the platform's
  /// images: the Deploy workflow on the main branch, which alone builds and
  /// signs (`https://github.com/<owner>/<name>/.github/workflows/deploy.yml@refs/heads/<branch>`).
  pub signer_identity: String,
  /// The version table with the blueprint's `spec.versions` overrides
  /// applied: every version the outputs carry is read from here.
  pub versions: crate::versions::Versions,
  /// Every AWS name the render creates, per environment, with its limit and
  /// the blueprint fields that make it (`names::aws_names`; validation
  /// checks each against its limit).
  pub aws_names: Vec<AwsName>,
  /// The LimitRange of the platform's namespace: defaults for a container
  /// that sets no requests or limits, and the most one may have.
  pub limit_range: super::quota::LimitRange,
  /// `spec.delivery.mode`, default actions.
  pub delivery_mode: crate::blueprint::model::DeliveryMode,
  /// `spec.cluster.compute: auto-mode`: EKS Auto Mode runs the nodes, the
  /// networking, storage and load balancing; no autoscaler, no node groups,
  /// none of the add-ons it replaces.
  pub auto_mode: bool,
  /// `spec.delivery.previews`, when on: a preview per pull request in the
  /// first environment's cluster.
  pub previews: Option<super::previews::ResolvedPreviews>,
  /// `spec.delivery.argocd.managed` with `mode: argocd`: the EKS managed
  /// Argo CD capability of each environment's cluster instead of the chart.
  pub managed_argocd: Option<ManagedArgoCd>,
}

/// The EKS Argo CD capability of every environment's cluster
/// (`infra/argocd.tf`), decided from `spec.delivery.argocd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedArgoCd {
  /// `identityCenter.instanceArn`.
  pub idc_instance_arn: String,
  /// `identityCenter.region`, default `spec.aws.region`.
  pub idc_region: String,
  /// The role mappings, in the order ADMIN, EDITOR, VIEWER, each role with
  /// identities only; each identity as (id, `SSO_GROUP` | `SSO_USER`).
  pub role_mappings: Vec<(&'static str, Vec<(String, &'static str)>)>,
}

impl ManagedArgoCd {
  fn new(platform: &Platform) -> Option<Self> {
    let delivery = &platform.spec.delivery;
    if delivery.mode != Some(crate::blueprint::model::DeliveryMode::Argocd) {
      return None;
    }
    let argocd = delivery.argocd.as_ref()?;
    if argocd.managed != Some(true) {
      return None;
    }
    let idc = argocd.identity_center.as_ref()?;
    let rbac = argocd.rbac.clone().unwrap_or_default();
    let identities = |list: &[crate::blueprint::model::SsoIdentity]| {
      list
        .iter()
        .filter_map(|identity| match (&identity.group, &identity.user) {
          (Some(group), _) => Some((group.trim().to_owned(), "SSO_GROUP")),
          (None, Some(user)) => Some((user.trim().to_owned(), "SSO_USER")),
          (None, None) => None,
        })
        .collect::<Vec<_>>()
    };
    let role_mappings = [
      ("ADMIN", identities(&rbac.admin)),
      ("EDITOR", identities(&rbac.editor)),
      ("VIEWER", identities(&rbac.viewer)),
    ]
    .into_iter()
    .filter(|(_, ids)| !ids.is_empty())
    .collect();
    Some(Self {
      idc_instance_arn: idc.instance_arn.trim().to_owned(),
      idc_region: idc
        .region
        .as_deref()
        .map(str::trim)
        .unwrap_or(platform.region().trim())
        .to_owned(),
      role_mappings,
    })
  }
}

/// A secret the services read and the user fills, in every environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSecret {
  /// Its name inside an environment's scope (`names::scoped_secret_key`):
  /// `<platform>/<env>/<key>` in each environment.
  pub key: String,
  /// The JSON keys the services read from it, sorted.
  pub properties: Vec<String>,
  /// The services that read it, in blueprint order.
  pub services: Vec<String>,
}

/// The cluster add-ons a blueprint turns on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddonSelection {
  pub nginx: Nginx,
  /// On, with its ACME e-mail (empty when the blueprint gives none).
  pub cert_manager: Option<String>,
  pub external_secrets: bool,
  pub monitoring: bool,
  pub grafana: bool,
  pub calico: bool,
  /// With monitoring: its volumes, retention and receivers.
  pub monitoring_settings: MonitoringSettings,
}

/// Default volume sizes of the monitoring stack, in GB.
pub const PROMETHEUS_GB: u32 = 50;
pub const ALERTMANAGER_GB: u32 = 5;
pub const GRAFANA_GB: u32 = 10;
/// Default Prometheus retention.
pub const PROMETHEUS_RETENTION: &str = "15d";

/// The monitoring stack's settings after defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitoringSettings {
  pub prometheus_gb: u32,
  pub alertmanager_gb: u32,
  pub grafana_gb: u32,
  pub retention: String,
  pub email: Option<EmailReceiver>,
  /// The Slack channel.
  pub slack: Option<String>,
  pub pagerduty: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailReceiver {
  pub to: String,
  pub from: String,
  pub smarthost: String,
  /// The SMTP user name (`from` unless the blueprint gives one).
  pub username: String,
}

impl MonitoringSettings {
  /// Any receiver: Alertmanager reads their credentials from a Secret.
  pub fn has_receivers(&self) -> bool {
    self.email.is_some() || self.slack.is_some() || self.pagerduty
  }
}

#[derive(Debug, Clone)]
pub struct ResolvedDatabase {
  /// The engine major version as written (`"16"`).
  pub major_version: String,
  /// The parameter group family (`postgres16`).
  pub family: String,
  pub name: String,
  pub storage_gb: u32,
  /// Storage autoscaling ceiling: five times the allocation, at least 100 GB.
  pub max_storage_gb: u32,
  pub backup_retention_days: u32,
}

#[derive(Debug, Clone)]
pub struct ResolvedNodeGroup {
  pub name: String,
  pub instance_types: Vec<String>,
  pub capacity: CapacityType,
  pub disk_size_gb: u32,
  /// Graviton instance types run the ARM image.
  pub graviton: bool,
}

/// The sizes of one node group in one environment, overrides applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
  pub min: u32,
  pub desired: u32,
  pub max: u32,
}

#[derive(Debug, Clone)]
pub struct ResolvedEnvironment {
  /// The environment as written.
  pub environment: Environment,
  pub name: String,
  pub approval: bool,
  /// The environment promoted from (the one before it in promotion order).
  pub previous: Option<String>,
  pub names: EnvironmentNames,
  /// Per node group, in the blueprint's order.
  pub node_groups: Vec<(String, Sizes)>,
  /// Instance class and multi-AZ, overrides applied.
  pub database: Option<DatabaseInEnvironment>,
  /// IAM principals with cluster-admin access: the environment's
  /// `clusterAdmins`, else `spec.cluster.admins`, else none.
  pub cluster_admins: Vec<String>,
  /// The Route53 zone of the environment's hosts.
  pub dns: EnvironmentDns,
  /// The AWS account it lives in, when the blueprint says (every
  /// environment or none, after validation).
  pub account: Option<String>,
  /// Its ECR registry host, known when its account is.
  pub registry: Option<String>,
  /// The ResourceQuota of the platform's namespace here: computed from the
  /// services (`quota.rs`), `overrides.quota` applied.
  pub quota: super::quota::NamespaceQuota,
}

/// Where an environment's DNS records and DNS-01 challenges go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentDns {
  /// The hosted zone's name: the environment's domain when the environment
  /// creates its zone, `spec.domain` when it uses an existing one.
  pub zone: String,
  /// Every host of the environment is this name or under it; external-dns
  /// and the ACME solver are limited to it.
  pub domain: String,
  pub source: ZoneSource,
  /// TXT owner id of external-dns: the records this environment owns.
  pub owner: String,
}

impl EnvironmentDns {
  /// external-dns must look up the zone from a subdomain filter (an
  /// existing apex zone holding a subdomain environment's records).
  pub fn zone_is_parent(&self) -> bool {
    self.zone != self.domain
  }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseInEnvironment {
  pub instance_class: String,
  pub multi_az: bool,
}

/// Names of an environment's resources, from the shared naming functions.
#[derive(Debug, Clone)]
pub struct EnvironmentNames {
  pub stack: String,
  pub cluster: String,
  pub deploy_role: String,
  pub database_instance: String,
  pub state_bucket: String,
  pub infra_environment: String,
  pub terraform_role: String,
  /// The pull request plans' read-only role, and the image builds' role.
  pub terraform_plan_role: String,
  pub build_role: String,
  /// `<platform>/<env>/`, the prefix of the environment's secrets.
  pub secret_scope: String,
}

#[derive(Debug, Clone)]
pub struct ResolvedService {
  /// The service as written.
  pub service: Service,
  pub name: String,
  pub port: i64,
  pub replicas: i64,
  /// The folder its image is built from.
  pub build_context: String,
  pub health_path: String,
  /// The path it is exposed under, when it has ingress.
  pub ingress_path: Option<String>,
  pub requests: ResourceAmounts,
  pub limits: ResourceAmounts,
  /// It talks to the database (there is one, and it owns the migrations or
  /// reads a database secret).
  pub uses_database: bool,
  /// Its chart runs the migrations: it owns them, there is a database, and
  /// External Secrets can hand the Job the credentials.
  pub runs_migrations: bool,
  /// Per environment, in promotion order.
  pub environments: Vec<ServiceInEnvironment>,
  /// Its outbound traffic beyond DNS, the other services, the database and
  /// the Pod Identity agent.
  pub egress: ResolvedEgress,
  /// The AWS resources it may use (spec.services[].aws), each as a
  /// Terraform string; empty: it gets no role.
  pub aws: ServiceAwsAccess,
}

/// A service's AWS resources, as ARNs in Terraform string syntax (a name
/// becomes an ARN in the environment's partition, account and region).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceAwsAccess {
  pub s3: Vec<(String, super::model::Access)>,
  pub sqs: Vec<(String, super::model::Access)>,
}

impl ServiceAwsAccess {
  fn new(aws: Option<&super::model::ServiceAws>) -> Self {
    let Some(aws) = aws else {
      return Self::default();
    };
    Self {
      s3: aws
        .s3
        .iter()
        .map(|b| {
          let arn = if b.bucket.starts_with("arn:") {
            b.bucket.clone()
          } else {
            format!("arn:${{local.partition}}:s3:::{}", b.bucket)
          };
          (arn, b.access)
        })
        .collect(),
      sqs: aws
        .sqs
        .iter()
        .map(|q| {
          let arn = if q.queue.starts_with("arn:") {
            q.queue.clone()
          } else {
            format!(
              "arn:${{local.partition}}:sqs:${{var.region}}:${{local.account_id}}:{}",
              q.queue
            )
          };
          (arn, q.access)
        })
        .collect(),
    }
  }

  /// Whether the service gets a role.
  pub fn is_empty(&self) -> bool {
    self.s3.is_empty() && self.sqs.is_empty()
  }
}

/// A service's `egress`, with its defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedEgress {
  /// HTTPS (TCP 443) to addresses outside the VPC; on unless `https: false`.
  pub https: bool,
  /// `egress.allow`, in order.
  pub allow: Vec<EgressAllow>,
}

/// One destination of `egress.allow`.
#[derive(Debug, Clone, PartialEq)]
pub struct EgressAllow {
  /// The IPv4 range, in its canonical form.
  pub cidr: String,
  /// Destination ports; empty for every port and protocol.
  pub ports: Vec<u16>,
  /// The ports' protocol (TCP unless given).
  pub protocol: Protocol,
}

impl ResolvedEgress {
  fn new(egress: Option<&Egress>) -> Self {
    let egress = egress.cloned().unwrap_or_default();
    Self {
      https: egress.https.unwrap_or(true),
      allow: egress
        .allow
        .iter()
        .map(|rule| EgressAllow {
          cidr: rule
            .cidr
            .parse::<Cidr>()
            .map_or_else(|_| rule.cidr.clone(), |cidr| cidr.to_string()),
          ports: rule
            .ports
            .iter()
            .flatten()
            .filter_map(|port| u16::try_from(*port).ok())
            .collect(),
          protocol: rule.protocol.unwrap_or_default(),
        })
        .collect(),
    }
  }
}

#[derive(Debug, Clone)]
pub struct ServiceInEnvironment {
  pub environment: String,
  /// The ECR repository its image is kept in there.
  pub image_repository: String,
  pub replicas: i64,
  /// Its public host there, when it has ingress.
  pub host: Option<String>,
  /// The ECR repository of the migrations image there, when its chart runs
  /// the migrations.
  pub migrations_repository: Option<String>,
}

impl Platform {
  /// The cluster add-ons the blueprint turns on (also what validation
  /// checks `secretEnv` and `runsMigrations` against).
  pub fn addon_selection(&self) -> AddonSelection {
    let addons = self.spec.cluster.addons.clone().unwrap_or_default();
    let monitoring = addons.monitoring.as_ref().and_then(Toggle::settings);
    AddonSelection {
      nginx: addons.nginx.unwrap_or_default(),
      cert_manager: addons
        .cert_manager
        .as_ref()
        .and_then(Toggle::settings)
        .map(|c| c.acme_email.unwrap_or_default()),
      external_secrets: addons
        .external_secrets
        .as_ref()
        .and_then(Toggle::settings)
        .is_some(),
      monitoring: monitoring.is_some(),
      grafana: monitoring.as_ref().is_some_and(|m| m.grafana),
      calico: self.network_policy() == NetworkPolicy::Calico,
      monitoring_settings: monitoring_settings(monitoring.as_ref()),
    }
  }
}

impl Resolved {
  /// Whether Argo CD delivers the services (`spec.delivery.mode: argocd`).
  pub fn argocd(&self) -> bool {
    self.delivery_mode == crate::blueprint::model::DeliveryMode::Argocd
  }

  /// Whether the Cluster Autoscaler scales the node groups: the default
  /// `autoscaler`, but never with EKS Auto Mode, which scales its own nodes.
  pub fn cluster_autoscaler(&self) -> bool {
    !self.auto_mode && self.autoscaler == Autoscaler::ClusterAutoscaler
  }

  /// The environments' names, in promotion order.
  pub fn environment_names(&self) -> Vec<String> {
    self.environments.iter().map(|e| e.name.clone()).collect()
  }

  /// Resolves a validated blueprint.
  ///
  /// # Panics
  /// When the blueprint's network cannot be planned, which validation rules
  /// out.
  pub fn new(platform: &Platform) -> Self {
    let addons = platform.addon_selection();
    let mut user_secrets = user_secrets(platform, addons.external_secrets);
    user_secrets.extend(receiver_secrets(&addons));
    let database = platform.spec.database.as_ref().map(|db| {
      let major_version = db.major_version();
      let family_major = major_version.split('.').next().unwrap_or(&major_version);
      ResolvedDatabase {
        family: format!("postgres{family_major}"),
        major_version: major_version.clone(),
        name: db.name.clone(),
        storage_gb: db.storage_gb,
        max_storage_gb: db.storage_gb.saturating_mul(5).max(100),
        backup_retention_days: db.backup_retention_days,
      }
    });
    let environments = platform
      .spec
      .environments
      .iter()
      .enumerate()
      .map(|(i, environment)| ResolvedEnvironment {
        environment: environment.clone(),
        name: environment.name.clone(),
        approval: environment.approval,
        previous: i
          .checked_sub(1)
          .map(|p| platform.spec.environments[p].name.clone()),
        names: EnvironmentNames::new(platform, environment),
        node_groups: platform
          .spec
          .cluster
          .node_groups
          .iter()
          .map(|g| {
            let (min, desired, max) = g.sizes_in(environment);
            (g.name.clone(), Sizes { min, desired, max })
          })
          .collect(),
        database: platform.spec.database.as_ref().map(|db| {
          let (instance_class, multi_az) = db.in_environment(environment);
          DatabaseInEnvironment {
            instance_class,
            multi_az,
          }
        }),
        cluster_admins: environment
          .cluster_admins
          .clone()
          .or_else(|| platform.spec.cluster.admins.clone())
          .unwrap_or_default(),
        dns: {
          let domain = platform.environment_domain(environment);
          let source = platform.zone_source();
          EnvironmentDns {
            zone: match source {
              ZoneSource::Create => domain.clone(),
              ZoneSource::Existing => platform.spec.domain.clone(),
            },
            domain,
            source,
            owner: names::stack(platform, environment),
          }
        },
        account: environment.account_id(),
        registry: environment
          .account_id()
          .map(|account| names::ecr_registry(&account, platform.region().trim())),
        quota: super::quota::in_environment(
          &super::quota::workloads(platform, environment)
            .expect("validation guarantees the services' quantities"),
          super::quota::runs_migrations(platform),
          environment,
        ),
      })
      .collect();
    let services: Vec<ResolvedService> = platform
      .spec
      .services
      .iter()
      .map(|service| {
        let runs_migrations =
          service.runs_migrations && platform.spec.database.is_some() && addons.external_secrets;
        ResolvedService {
          service: service.clone(),
          name: service.name.clone(),
          port: service.port,
          replicas: service.replicas,
          build_context: service.build_context(),
          health_path: service.health_path().to_string(),
          ingress_path: service.ingress_path().map(str::to_string),
          requests: service.requests(),
          limits: service.limits(),
          uses_database: platform.spec.database.is_some() && service.uses_database(),
          runs_migrations,
          environments: platform
            .spec
            .environments
            .iter()
            .map(|environment| ServiceInEnvironment {
              environment: environment.name.clone(),
              image_repository: names::ecr_repository(platform, environment, service),
              replicas: service.replicas_in(environment),
              host: platform.host(service, environment),
              migrations_repository: runs_migrations
                .then(|| names::migrations_repository(platform, environment, service)),
            })
            .collect(),
          egress: ResolvedEgress::new(service.egress.as_ref()),
          aws: ServiceAwsAccess::new(service.aws.as_ref()),
        }
      })
      .collect();
    Self {
      name: platform.name().to_string(),
      region: platform.region().trim().to_string(),
      zones: platform.zones(),
      domain: platform.spec.domain.clone(),
      kubernetes_version: platform.kubernetes_version(),
      repository: platform.spec.delivery.github.repository.clone(),
      branch: platform.branch().to_string(),
      namespace: names::app_namespace(platform),
      subnets: platform
        .subnets()
        .expect("validation guarantees a subnet plan"),
      nat_gateways: platform.nat_gateways(),
      network_policy: platform.network_policy(),
      addons,
      database,
      node_groups: platform
        .spec
        .cluster
        .node_groups
        .iter()
        .map(|g| ResolvedNodeGroup {
          name: g.name.clone(),
          instance_types: g.instance_types.clone(),
          capacity: g.capacity(),
          disk_size_gb: g.disk_size(),
          graviton: is_graviton(&g.instance_types),
        })
        .collect(),
      environments,
      service_index: services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), i))
        .collect(),
      services,
      user_secrets,
      autoscaler: platform.autoscaler(),
      endpoint_public_cidrs: platform.endpoint_public_cidrs(),
      reviewers: platform
        .spec
        .delivery
        .github
        .reviewers
        .clone()
        .unwrap_or_default(),
      vulnerability_gate: platform
        .spec
        .delivery
        .vulnerability_gate
        .as_ref()
        .and_then(|gate| gate.severity)
        .unwrap_or_default(),
      signer_identity: names::signer_identity(
        &platform.spec.delivery.github.repository,
        platform.branch(),
      ),
      versions: versions(platform),
      aws_names: names::aws_names(platform),
      limit_range: super::quota::limit_range(platform),
      delivery_mode: platform.spec.delivery.mode.unwrap_or_default(),
      auto_mode: platform.auto_mode(),
      previews: platform.previews(),
      managed_argocd: ManagedArgoCd::new(platform),
      platform: platform.clone(),
    }
  }

  /// The service of that name.
  pub fn service(&self, name: &str) -> Option<&ResolvedService> {
    self.service_index.get(name).map(|&i| &self.services[i])
  }

  pub fn environment(&self, name: &str) -> Option<&ResolvedEnvironment> {
    self.environments.iter().find(|e| e.name == name)
  }

  pub fn first_environment(&self) -> &ResolvedEnvironment {
    &self.environments[0]
  }

  /// The service that owns the migrations and runs them, if any.
  pub fn migrations_owner(&self) -> Option<&ResolvedService> {
    self.services.iter().find(|s| s.runs_migrations)
  }

  /// Services in deploy order: the owner of the migrations first (its chart
  /// runs them as a pre-upgrade hook), then the others as listed.
  pub fn deploy_order(&self) -> Vec<&ResolvedService> {
    let owner = self.services.iter().filter(|s| s.service.runs_migrations);
    let others = self.services.iter().filter(|s| !s.service.runs_migrations);
    owner.chain(others).collect()
  }

  /// The database subnets, when there is a database.
  pub fn database_cidrs(&self) -> Vec<String> {
    if self.database.is_some() {
      self
        .subnets
        .database
        .iter()
        .map(ToString::to_string)
        .collect()
    } else {
      Vec::new()
    }
  }
}

impl Environment {
  /// `account` as written, when it is a string (validation makes it 12 digits).
  pub fn account_id(&self) -> Option<String> {
    match &self.account {
      Some(yaml_serde::Value::String(id)) => Some(id.clone()),
      _ => None,
    }
  }
}

impl ResolvedEnvironment {
  /// The previous environment's account, when images are promoted into this
  /// one from another AWS account.
  pub fn promoted_from_account<'a>(&self, resolved: &'a Resolved) -> Option<&'a str> {
    let previous = resolved.environment(self.previous.as_deref()?)?;
    match (&previous.account, &self.account) {
      (Some(from), Some(to)) if from != to => Some(from.as_str()),
      _ => None,
    }
  }
}

impl ResolvedService {
  pub fn in_environment(&self, environment: &str) -> Option<&ServiceInEnvironment> {
    self
      .environments
      .iter()
      .find(|e| e.environment == environment)
  }
}

impl EnvironmentNames {
  /// The names of `environment`; a symbolic environment (named by a
  /// Terraform expression) gives names as expressions.
  pub fn new(platform: &Platform, environment: &Environment) -> Self {
    Self {
      stack: names::stack(platform, environment),
      cluster: names::cluster(platform, environment),
      deploy_role: names::deploy_role(platform, environment),
      database_instance: names::database_instance(platform, environment),
      state_bucket: names::state_bucket(platform, environment),
      infra_environment: names::infra_environment(platform, environment),
      terraform_role: names::terraform_role(platform, environment),
      terraform_plan_role: names::terraform_plan_role(platform, environment),
      build_role: names::build_role(platform, environment),
      secret_scope: names::secret_scope(platform, environment),
    }
  }
}

fn monitoring_settings(monitoring: Option<&super::model::Monitoring>) -> MonitoringSettings {
  let storage = monitoring
    .and_then(|m| m.storage.clone())
    .unwrap_or_default();
  let alerts = monitoring
    .and_then(|m| m.alerts.clone())
    .unwrap_or_default();
  MonitoringSettings {
    prometheus_gb: storage.prometheus_gb.unwrap_or(PROMETHEUS_GB),
    alertmanager_gb: storage.alertmanager_gb.unwrap_or(ALERTMANAGER_GB),
    grafana_gb: storage.grafana_gb.unwrap_or(GRAFANA_GB),
    retention: monitoring
      .and_then(|m| m.retention.clone())
      .unwrap_or_else(|| PROMETHEUS_RETENTION.to_string()),
    email: alerts.email.map(|e| EmailReceiver {
      username: e.username.unwrap_or_else(|| e.from.clone()),
      to: e.to,
      from: e.from,
      smarthost: e.smarthost,
    }),
    slack: alerts.slack.map(|s| s.channel),
    pagerduty: alerts.pagerduty.is_some(),
  }
}

/// The credentials of Alertmanager's receivers: secrets the user fills, read
/// by Alertmanager's ExternalSecret (validation requires External Secrets).
fn receiver_secrets(addons: &AddonSelection) -> Vec<UserSecret> {
  let settings = &addons.monitoring_settings;
  if !addons.monitoring || !addons.external_secrets {
    return Vec::new();
  }
  [
    (settings.email.is_some(), names::ALERTMANAGER_EMAIL),
    (settings.slack.is_some(), names::ALERTMANAGER_SLACK),
    (settings.pagerduty, names::ALERTMANAGER_PAGERDUTY),
  ]
  .into_iter()
  .filter(|(on, _)| *on)
  .map(|(_, (key, property, _))| UserSecret {
    key: key.to_string(),
    properties: vec![property.to_string()],
    services: vec!["alertmanager".to_string()],
  })
  .collect()
}

/// The `secret:` references of the services, merged by secret.
fn user_secrets(platform: &Platform, external_secrets: bool) -> Vec<UserSecret> {
  let mut secrets: Vec<UserSecret> = Vec::new();
  if !external_secrets {
    return secrets;
  }
  for service in &platform.spec.services {
    for reference in service.secret_env.values() {
      let (Some(secret), Some(property)) = (&reference.secret, &reference.property) else {
        continue;
      };
      let key = names::scoped_secret_key(platform, secret).to_string();
      let at = match secrets.iter().position(|s| s.key == key) {
        Some(at) => at,
        None => {
          secrets.push(UserSecret {
            key,
            properties: Vec::new(),
            services: Vec::new(),
          });
          secrets.len() - 1
        }
      };
      let entry = &mut secrets[at];
      if !entry.properties.contains(property) {
        entry.properties.push(property.clone());
        entry.properties.sort();
      }
      if !entry.services.contains(&service.name) {
        entry.services.push(service.name.clone());
      }
    }
  }
  secrets
}

/// Graviton families (a `g` right after the generation digit: `m7g`,
/// `c7gn`, `t4g`), judged by the first instance type.
fn is_graviton(instance_types: &[String]) -> bool {
  instance_types.first().is_some_and(|t| {
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
  })
}

impl NodeGroup {
  pub fn desired(&self) -> u32 {
    self.desired_size.unwrap_or(self.min_size)
  }

  pub fn disk_size(&self) -> u32 {
    self.disk_size_gb.unwrap_or(50)
  }

  pub fn capacity(&self) -> CapacityType {
    self.capacity_type.unwrap_or_default()
  }

  /// Sizes in an environment: (min, desired, max) with its overrides applied.
  /// A size of this group's own entry under `groups` wins over one for every
  /// group, which wins over the group's own.
  pub fn sizes_in(&self, environment: &Environment) -> (u32, u32, u32) {
    let o = environment
      .overrides
      .as_ref()
      .and_then(|o| o.node_groups.clone())
      .unwrap_or_default();
    let own = o.groups.get(&self.name).cloned().unwrap_or_default();
    let min = own.min_size.or(o.min_size).unwrap_or(self.min_size);
    let max = own.max_size.or(o.max_size).unwrap_or(self.max_size);
    let desired = own
      .desired_size
      .or(o.desired_size)
      .unwrap_or_else(|| self.desired().clamp(min, max.max(min)));
    (min, desired, max)
  }

  /// Whether an environment sets this group's desired size itself.
  pub fn desired_given_in(&self, environment: &Environment) -> bool {
    environment
      .overrides
      .as_ref()
      .and_then(|o| o.node_groups.as_ref())
      .is_some_and(|o| {
        o.desired_size.is_some()
          || o
            .groups
            .get(&self.name)
            .is_some_and(|g| g.desired_size.is_some())
      })
  }
}

impl Database {
  /// The engine major version as written (`"16"`).
  pub fn major_version(&self) -> String {
    scalar_text(&self.version)
  }

  /// Instance class and multi-AZ in an environment, overrides applied.
  pub fn in_environment(&self, environment: &Environment) -> (String, bool) {
    let o = environment
      .overrides
      .as_ref()
      .and_then(|o| o.database.clone())
      .unwrap_or_default();
    (
      o.instance_class
        .unwrap_or_else(|| self.instance_class.clone()),
      o.multi_az.unwrap_or(self.multi_az),
    )
  }
}

impl Service {
  pub fn build_context(&self) -> String {
    self
      .build
      .clone()
      .unwrap_or_else(|| format!("services/{}", self.name))
  }

  pub fn health_path(&self) -> &str {
    self.health_path.as_deref().unwrap_or("/")
  }

  pub fn ingress_path(&self) -> Option<&str> {
    self
      .ingress
      .as_ref()
      .map(|i| i.path.as_deref().unwrap_or("/"))
  }

  pub fn requests(&self) -> ResourceAmounts {
    self
      .resources
      .as_ref()
      .and_then(|r| r.requests.clone())
      .unwrap_or_else(|| ResourceAmounts {
        cpu: super::quota::DEFAULT_REQUESTS.0.into(),
        memory: super::quota::DEFAULT_REQUESTS.1.into(),
      })
  }

  pub fn limits(&self) -> ResourceAmounts {
    self
      .resources
      .as_ref()
      .and_then(|r| r.limits.clone())
      .unwrap_or_else(|| ResourceAmounts {
        cpu: super::quota::DEFAULT_LIMITS.0.into(),
        memory: super::quota::DEFAULT_LIMITS.1.into(),
      })
  }

  /// Replicas in an environment, overrides applied.
  pub fn replicas_in(&self, environment: &Environment) -> i64 {
    environment
      .overrides
      .as_ref()
      .and_then(|o| o.replicas)
      .unwrap_or(self.replicas)
  }

  pub fn uses_database(&self) -> bool {
    self.runs_migrations || self.secret_env.values().any(|r| r.database.is_some())
  }
}

/// A scalar's text: strings as they are, numbers as YAML printed them.
pub fn scalar_text(value: &yaml_serde::Value) -> String {
  match value {
    yaml_serde::Value::String(s) => s.clone(),
    yaml_serde::Value::Number(n) => n.to_string(),
    other => yaml_serde::to_string(other)
      .unwrap_or_default()
      .trim()
      .to_string(),
  }
}

// What the charts and cluster add-ons read.
impl Resolved {
  /// Public hosts of an environment, each once, in service order: one HTTPS
  /// listener of the shared Gateway each.
  pub fn hosts(&self, environment: &str) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for service in &self.services {
      if let Some(host) = service
        .in_environment(environment)
        .and_then(|e| e.host.clone())
        && !hosts.contains(&host)
      {
        hosts.push(host);
      }
    }
    hosts
  }
}

/// The version table with `spec.versions` applied (validation has checked
/// every override; one that does not parse is left out).
fn versions(platform: &Platform) -> crate::versions::Versions {
  let mut table = crate::versions::Versions::builtin().clone();
  for (name, value) in &platform.spec.versions {
    let Some(component) = table.find(name) else {
      continue;
    };
    if let Ok(value) = crate::versions::parse_override(component, value) {
      table = table.with_override(name, &value);
    }
  }
  table
}
