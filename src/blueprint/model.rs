//! Typed model of the blueprint, schema `oi-gen.dev/v1alpha1`.
//!
//! Field names are the public interface (see `blueprints/openinnovation.yaml`).
//! Unknown keys are rejected; defaults live in the accessor methods so the
//! model keeps what the user wrote.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub const API_VERSION: &str = "oi-gen.dev/v1alpha1";
pub const KIND: &str = "Platform";

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Platform {
  pub api_version: String,
  pub kind: String,
  pub metadata: Metadata,
  pub spec: Spec,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Metadata {
  pub name: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Spec {
  pub domain: String,
  pub aws: Aws,
  pub network: Network,
  pub cluster: Cluster,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub database: Option<Database>,
  pub services: Vec<Service>,
  pub environments: Vec<Environment>,
  pub delivery: Delivery,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub compliance: Option<Compliance>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Aws {
  pub region: String,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub availability_zones: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Network {
  pub cidr: String,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub nat_gateways: Option<NatGateways>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub public_subnets: Option<Vec<String>>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub private_subnets: Option<Vec<String>>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub database_subnets: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub enum NatGateways {
  #[default]
  OnePerAz,
  Single,
  None,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cluster {
  /// Kept as a YAML value so an unquoted `1.30` (read as the float 1.3) can be
  /// reported with a precise hint by validation.
  pub kubernetes_version: serde_yaml_ng::Value,
  pub node_groups: Vec<NodeGroup>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub network_policy: Option<NetworkPolicy>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub addons: Option<Addons>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeGroup {
  pub name: String,
  pub instance_types: Vec<String>,
  pub min_size: u32,
  pub max_size: u32,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub desired_size: Option<u32>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub disk_size_gb: Option<u32>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub capacity_type: Option<CapacityType>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CapacityType {
  #[default]
  OnDemand,
  Spot,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkPolicy {
  Calico,
  #[default]
  VpcCni,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Addons {
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub nginx: Option<Nginx>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub cert_manager: Option<Toggle<CertManager>>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub external_secrets: Option<Toggle<Empty>>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub monitoring: Option<Toggle<Monitoring>>,
}

/// An add-on is on when present: `true` means "on, with defaults", a mapping
/// configures it, `false` turns it off.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Toggle<T> {
  Enabled(bool),
  Config(T),
}

impl<T: Default + Clone> Toggle<T> {
  /// The add-on's settings when it is on.
  pub fn settings(&self) -> Option<T> {
    match self {
      Toggle::Enabled(true) => Some(T::default()),
      Toggle::Enabled(false) => None,
      Toggle::Config(config) => Some(config.clone()),
    }
  }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub enum Nginx {
  #[default]
  Gateway,
  Ingress,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CertManager {
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub acme_email: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Monitoring {
  #[serde(default = "yes")]
  pub grafana: bool,
}

impl Default for Monitoring {
  fn default() -> Self {
    Self { grafana: true }
  }
}

fn yes() -> bool {
  true
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Database {
  pub engine: DatabaseEngine,
  pub version: serde_yaml_ng::Value,
  pub instance_class: String,
  pub storage_gb: u32,
  pub multi_az: bool,
  pub backup_retention_days: u32,
  pub name: String,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub migrations: Option<Migrations>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum DatabaseEngine {
  Postgres,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub enum Migrations {
  #[default]
  Flyway,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Service {
  pub name: String,
  pub port: i64,
  pub replicas: i64,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub build: Option<String>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub health_path: Option<String>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub ingress: Option<Ingress>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub resources: Option<Resources>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub autoscaling: Option<Autoscaling>,
  #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
  pub env: BTreeMap<String, String>,
  #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
  pub secret_env: BTreeMap<String, SecretRef>,
  #[serde(default, skip_serializing_if = "std::ops::Not::not")]
  pub runs_migrations: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Ingress {
  pub host: String,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub path: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Resources {
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub requests: Option<ResourceAmounts>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub limits: Option<ResourceAmounts>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResourceAmounts {
  pub cpu: String,
  pub memory: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Autoscaling {
  pub max_replicas: i64,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub target_cpu_percent: Option<i64>,
}

/// `{database: url|password}` or `{secret: <name>, property: <key>}`; the
/// combination is checked by validation so the message can name the field.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretRef {
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub database: Option<DatabaseKey>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub secret: Option<String>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub property: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum DatabaseKey {
  Url,
  Password,
  Username,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Environment {
  pub name: String,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub subdomain: Option<String>,
  #[serde(default, skip_serializing_if = "std::ops::Not::not")]
  pub approval: bool,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub overrides: Option<Overrides>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Overrides {
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub replicas: Option<i64>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub database: Option<DatabaseOverrides>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub node_groups: Option<NodeGroupOverrides>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DatabaseOverrides {
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub instance_class: Option<String>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub multi_az: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeGroupOverrides {
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub min_size: Option<u32>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub max_size: Option<u32>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub desired_size: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Delivery {
  pub github: GitHub,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub versioning: Option<Versioning>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GitHub {
  pub repository: String,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub branch: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub enum Versioning {
  #[default]
  Semver,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Compliance {
  #[serde(default, skip_serializing_if = "Vec::is_empty")]
  pub checkov_skips: Vec<PolicySkip>,
  #[serde(default, skip_serializing_if = "Vec::is_empty")]
  pub tflint_skips: Vec<PolicySkip>,
}

/// A policy exception: a check or rule id and why it does not apply.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicySkip {
  pub id: String,
  #[serde(default)]
  pub reason: String,
}
