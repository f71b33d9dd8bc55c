//! Defaults and derived values, computed in one place for every target.
//! Call these only on a validated blueprint.

use super::model::{
  CapacityType, Database, Environment, NatGateways, NetworkPolicy, Nginx, NodeGroup, Platform,
  ResourceAmounts, Service,
};
use super::network::{self, Cidr, SubnetPlan};
use super::regions;

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

  pub fn network_policy(&self) -> NetworkPolicy {
    self.spec.cluster.network_policy.unwrap_or_default()
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
  pub fn sizes_in(&self, environment: &Environment) -> (u32, u32, u32) {
    let o = environment
      .overrides
      .as_ref()
      .and_then(|o| o.node_groups.clone())
      .unwrap_or_default();
    let min = o.min_size.unwrap_or(self.min_size);
    let max = o.max_size.unwrap_or(self.max_size);
    let desired = o
      .desired_size
      .unwrap_or_else(|| self.desired().clamp(min, max.max(min)));
    (min, desired, max)
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
        cpu: "100m".into(),
        memory: "128Mi".into(),
      })
  }

  pub fn limits(&self) -> ResourceAmounts {
    self
      .resources
      .as_ref()
      .and_then(|r| r.limits.clone())
      .unwrap_or_else(|| ResourceAmounts {
        cpu: "500m".into(),
        memory: "512Mi".into(),
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
pub fn scalar_text(value: &serde_yaml_ng::Value) -> String {
  match value {
    serde_yaml_ng::Value::String(s) => s.clone(),
    serde_yaml_ng::Value::Number(n) => n.to_string(),
    other => serde_yaml_ng::to_string(other)
      .unwrap_or_default()
      .trim()
      .to_string(),
  }
}
