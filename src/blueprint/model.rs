//! Typed model of the blueprint, schema `oi-gen.dev/v1alpha1`.
//!
//! Field names are the public interface (see `blueprints/openinnovation.yaml`).
//! Unknown keys are rejected; defaults live in the accessor methods so the
//! model keeps what the user wrote.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub const API_VERSION: &str = "oi-gen.dev/v1alpha1";
pub const KIND: &str = "Platform";

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Platform {
  /// Schema of this file: `oi-gen.dev/v1alpha1`.
  pub api_version: String,
  /// Always `Platform`.
  pub kind: String,
  /// Identity of the platform.
  pub metadata: Metadata,
  /// What the platform is made of.
  pub spec: Spec,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Metadata {
  /// DNS-1123 label (lowercase letters, digits, '-', at most 40 characters). Prefix of every cloud and cluster resource name.
  pub name: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Spec {
  /// Apex domain. Service hosts are names under it.
  pub domain: String,
  /// AWS account settings.
  pub aws: Aws,
  /// The VPC.
  pub network: Network,
  /// The EKS cluster.
  pub cluster: Cluster,
  /// optional: without a database there is no RDS, no Flyway and no `database:` secret references.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub database: Option<Database>,
  /// The services deployed to the cluster, each with its chart, image and ECR repository.
  pub services: Vec<Service>,
  /// Deployment stages, in promotion order. Each gets its own Terraform state, its own values per chart, and its own GitHub environment.
  pub environments: Vec<Environment>,
  /// How code reaches the environments.
  pub delivery: Delivery,
  /// optional: policy exceptions, each with a reason; oi-gen writes them into the Checkov and TFLint configs it renders.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub compliance: Option<Compliance>,
  /// optional: the Route53 hosted zone the hosts' records and the DNS-01 challenges go in (default: each environment creates its own zone).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub dns: Option<Dns>,
  /// optional: who reviews changes, written into `.github/CODEOWNERS`: GitHub users (`@name`) or teams (`@org/team`) per part of the repository. Without it there is no CODEOWNERS file.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub owners: Option<Owners>,
  /// optional: how the Terraform state buckets are named. Default `<platform>-<env>-tfstate`, which two AWS accounts or organisations with the same platform name would both claim in S3's global namespace.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub state_buckets: Option<StateBuckets>,
  /// optional: component → version, overriding oi-gen's pinned version of that component everywhere it renders (`oi-gen versions` lists the components and their kinds), for a release newer than the one oi-gen pins. Charts and tools take a release (`v1.22.0`, or `2.10.0` when the table's has no `v`); Terraform modules and providers a constraint (`~> 21.20`); images `<tag>@sha256:<digest>` and actions `vX.Y.Z@<commit SHA>`, since the outputs pin those (the Cluster Autoscaler image, set by tag in its chart's values, takes a tag); EKS managed add-ons (`vpc-cni`, `coredns`, `kube-proxy`, `eks-pod-identity-agent`, `aws-ebs-csi-driver`) a build `vX.Y.Z-eksbuild.N`, which replaces the table's build for every Kubernetes version. An override older than the table's is warned about.
  #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
  #[schemars(with = "std::collections::BTreeMap<String, String>")]
  pub versions: std::collections::BTreeMap<String, String>,
}

/// The code owners of the repository's parts, each a list of GitHub users
/// (`@name`) or teams (`@org/team`). A part without owners falls back to `default`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Owners {
  /// optional: owners of every file no other entry names.
  #[serde(default, skip_serializing_if = "Vec::is_empty")]
  pub default: Vec<String>,
  /// optional: owners of the Terraform (`infra/`) and the cluster add-ons (`cluster/`).
  #[serde(default, skip_serializing_if = "Vec::is_empty")]
  pub infra: Vec<String>,
  /// optional: owners of the Helm charts (`charts/`) and the migrations (`db/`).
  #[serde(default, skip_serializing_if = "Vec::is_empty")]
  pub charts: Vec<String>,
  /// optional: owners of the GitHub workflows and CODEOWNERS itself (`.github/`), and of `platform.yaml` and `.oi-gen/`.
  #[serde(default, skip_serializing_if = "Vec::is_empty")]
  pub workflows: Vec<String>,
}

/// The names of the Terraform state buckets: `[<prefix>-]<platform>-<env>[-<account>]-tfstate`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StateBuckets {
  /// optional: a DNS label put in front of every state bucket's name (your organisation, say), so the names are yours alone. The whole name stays within S3's 63 characters.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub prefix: Option<String>,
  /// optional, default false: put each environment's AWS account id (`spec.environments[].account`, needed on every environment) in its state bucket's name.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub account: Option<bool>,
}

/// The Route53 hosted zone of the hosts.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Dns {
  /// create | existing (optional, default create). `create`: each environment's Terraform creates a public hosted zone for its domain (`spec.domain`, or `<subdomain>.<domain>`), to be delegated once from the registrar or the parent zone. `existing`: each environment looks up the public hosted zone named `spec.domain` in its AWS account and writes its records there.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub zone: Option<ZoneSource>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ZoneSource {
  #[default]
  Create,
  Existing,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Aws {
  /// AWS region, e.g. `me-central-1`. Every resource and workflow uses this one region.
  pub region: String,
  /// optional: default is the region's first three zones (`<region>a/b/c`). Every zone must belong to the region. Zone names map to zone IDs differently in each account: where one of them is a zone ID Amazon EKS does not support (use1-az3, usw1-az2, cac1-az3), the first plan of `infra/` stops with that reason before creating anything.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub availability_zones: Option<Vec<String>>,
  /// optional: EC2 instance types (`m9i.large`) or RDS instance classes (`db.m9g.large`) newer than oi-gen's table of existing ones, accepted as written. Any other unknown type is an error.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub new_instance_types: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Network {
  /// VPC range. Public, private and database subnets (one of each per zone) are carved from it unless given explicitly. Overlaps are an error.
  pub cidr: String,
  /// onePerAz | single | none (optional, default onePerAz).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub nat_gateways: Option<NatGateways>,
  /// optional: public subnets, one per zone, inside `cidr`.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub public_subnets: Option<Vec<String>>,
  /// optional: private subnets (nodes and pods), one per zone, inside `cidr`.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub private_subnets: Option<Vec<String>>,
  /// optional: database subnets, one per zone, inside `cidr`.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub database_subnets: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum NatGateways {
  #[default]
  OnePerAz,
  Single,
  None,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cluster {
  /// EKS Kubernetes minor version, quoted (`"1.35"`). Versions past the end of EKS extended support are an error; versions in extended support warn.
  // Kept as a YAML value so an unquoted `1.30` (read as the float 1.3) can be
  // reported with a precise hint by validation.
  #[schemars(with = "String")]
  pub kubernetes_version: yaml_serde::Value,
  /// EKS managed node groups.
  pub node_groups: Vec<NodeGroup>,
  /// calico | vpc-cni (optional, default vpc-cni): who enforces NetworkPolicy. calico installs Calico in policy-only mode on top of the VPC CNI.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub network_policy: Option<NetworkPolicy>,
  /// optional. Each add-on is on when present. `true` means "on, with defaults".
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub addons: Option<Addons>,
  /// optional: ARNs of the IAM roles or users (`arn:aws:iam::<account>:role/<name>`) that get cluster-admin access to the EKS API (an access entry with AmazonEKSClusterAdminPolicy) in every environment. Default none: only the deploy role reaches the cluster.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub admins: Option<Vec<String>>,
  /// karpenter | cluster-autoscaler (optional; absent means cluster-autoscaler, so blueprints written before the field render as they did; `oi-gen init` and the built-in blueprints write karpenter). `karpenter`: the Karpenter controller runs on a small managed `system` node group and launches the nodes of each node group through a NodePool and EC2NodeClass of the same name. `cluster-autoscaler`: each node group is an EKS managed node group that the Cluster Autoscaler scales between its minSize and maxSize.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub autoscaler: Option<Autoscaler>,
  /// optional: who may reach the EKS API. Default `{public: true, publicAccessCidrs: [0.0.0.0/0]}`: the public endpoint is open to every address (guarded by IAM and the access entries), so GitHub-hosted runners reach it; nodes always use the private endpoint.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub endpoint: Option<Endpoint>,
  /// node-groups | auto-mode (optional, default node-groups). `auto-mode`: EKS Auto Mode runs the nodes, and AWS runs the VPC CNI, kube-proxy, CoreDNS, the EBS CSI driver, the load balancer controller and the Pod Identity agent as part of the cluster; each node group becomes an Auto Mode NodePool (its instance types, capacity type and a CPU limit of maxSize nodes), on the built-in `default` NodeClass. Leave `autoscaler` out with it: Auto Mode scales the nodes itself.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub compute: Option<Compute>,
}

/// Who runs the cluster's nodes.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Compute {
  /// EKS managed node groups (or Karpenter's NodePools), scaled by `autoscaler`.
  #[default]
  NodeGroups,
  /// EKS Auto Mode: AWS launches, patches and replaces the nodes.
  AutoMode,
}

/// Who adds and removes the cluster's nodes.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Autoscaler {
  /// Karpenter launches the nodes of each node group (its NodePool) as pods need them.
  Karpenter,
  /// The Cluster Autoscaler scales the EKS managed node groups.
  #[default]
  ClusterAutoscaler,
}

/// The EKS API endpoint: `{public: true, publicAccessCidrs: [203.0.113.0/24]}`,
/// or `{public: false}` for the private endpoint only.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Endpoint {
  /// optional: whether the API has a public endpoint (default true). `false` keeps it private, reachable only from inside the VPC: GitHub-hosted runners cannot deploy then, a self-hosted runner in the VPC (or peered to it) must.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub public: Option<bool>,
  /// optional: IPv4 ranges allowed to reach the public endpoint (default `[0.0.0.0/0]`); only with a public endpoint.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub public_access_cidrs: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeGroup {
  /// Node group name (DNS-1123 label).
  pub name: String,
  /// EC2 instance types, e.g. `m7i.large`.
  pub instance_types: Vec<String>,
  /// Fewest nodes.
  pub min_size: u32,
  /// Most nodes.
  pub max_size: u32,
  /// optional: nodes at creation (default minSize).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub desired_size: Option<u32>,
  /// optional: root volume size in GB (default 50, at least 20).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub disk_size_gb: Option<u32>,
  /// optional: ON_DEMAND | SPOT (default ON_DEMAND).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub capacity_type: Option<CapacityType>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CapacityType {
  #[default]
  OnDemand,
  Spot,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkPolicy {
  Calico,
  #[default]
  VpcCni,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Addons {
  /// External access through NGINX (optional, default gateway): `gateway` is NGINX Gateway Fabric with Gateway API HTTPRoutes; `ingress` is the ingress-nginx controller with Ingress objects (retired upstream in March 2026: warns).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub nginx: Option<Nginx>,
  /// cert-manager with Let's Encrypt issuers.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub cert_manager: Option<Toggle<CertManager>>,
  /// External Secrets Operator reading AWS Secrets Manager.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub external_secrets: Option<Toggle<Empty>>,
  /// Prometheus, Alertmanager and Grafana.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub monitoring: Option<Toggle<Monitoring>>,
}

/// An add-on is on when present: `true` means "on, with defaults", a mapping
/// configures it, `false` turns it off.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum Toggle<T> {
  /// `true`: on with defaults; `false`: off.
  Enabled(bool),
  /// On, with these settings.
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

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Nginx {
  #[default]
  Gateway,
  Ingress,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CertManager {
  /// Let's Encrypt account e-mail.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub acme_email: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Monitoring {
  /// Install Grafana (default true).
  #[serde(default = "yes")]
  pub grafana: bool,
  /// Sizes of the persistent volumes (encrypted gp3) of Prometheus, Alertmanager and Grafana, in GB (optional: 50, 5 and 10).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub storage: Option<MonitoringStorage>,
  /// How long Prometheus keeps its samples, e.g. `15d` or `12h` (optional, default 15d); size `storage.prometheusGb` for it.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub retention: Option<String>,
  /// Where Alertmanager sends the alerts (optional: without it, alerts are only shown in Alertmanager and Grafana). Each receiver's credential is a Secrets Manager secret you fill (needs externalSecrets).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub alerts: Option<Alerts>,
}

impl Default for Monitoring {
  fn default() -> Self {
    Self {
      grafana: true,
      storage: None,
      retention: None,
      alerts: None,
    }
  }
}

/// Persistent volume sizes of the monitoring stack, in GB.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MonitoringStorage {
  /// Prometheus's volume (default 50).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub prometheus_gb: Option<u32>,
  /// Alertmanager's volume: silences and notification state (default 5).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub alertmanager_gb: Option<u32>,
  /// Grafana's volume: its database of users and dashboards made in the UI (default 10).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub grafana_gb: Option<u32>,
}

/// Alertmanager's receivers: every alert goes to each one given.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Alerts {
  /// E-mail through an SMTP relay; its password is secret `<platform>/<env>/alertmanager/email` (JSON: password).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub email: Option<EmailAlerts>,
  /// A Slack channel; its incoming webhook URL is secret `<platform>/<env>/alertmanager/slack` (JSON: webhookUrl).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub slack: Option<SlackAlerts>,
  /// PagerDuty (Events API v2); the integration's routing key is secret `<platform>/<env>/alertmanager/pagerduty` (JSON: routingKey).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub pagerduty: Option<Empty>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EmailAlerts {
  /// The address the alerts go to.
  pub to: String,
  /// The sender's address; also the SMTP user name unless `username` is given.
  pub from: String,
  /// The SMTP relay, `host:port` (STARTTLS is required).
  pub smarthost: String,
  /// The SMTP user name (optional, default `from`).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub username: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SlackAlerts {
  /// The channel, e.g. `#alerts` (the webhook's own channel when the app allows no override).
  pub channel: String,
}

fn yes() -> bool {
  true
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Database {
  /// Only `postgres` in v1alpha1.
  pub engine: DatabaseEngine,
  /// PostgreSQL major version, quoted (`"16"`).
  #[schemars(with = "String")]
  pub version: yaml_serde::Value,
  /// RDS instance class, e.g. `db.t4g.medium`.
  pub instance_class: String,
  /// Allocated storage in GB (at least 20).
  pub storage_gb: u32,
  /// Standby in a second zone.
  pub multi_az: bool,
  /// Days of automated backups (0–35).
  pub backup_retention_days: u32,
  /// Name of the database created in the instance.
  pub name: String,
  /// flyway (optional, default flyway): migration tool scaffolded under db/.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub migrations: Option<Migrations>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum DatabaseEngine {
  Postgres,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Migrations {
  #[default]
  Flyway,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Service {
  /// DNS-1123 label; also the chart, image and ECR repository name.
  pub name: String,
  /// Container port (1–65535).
  pub port: i64,
  /// Pod replicas; with autoscaling, the minimum.
  pub replicas: i64,
  /// optional: build context for the image, default `services/<name>`.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub build: Option<String>,
  /// optional: readiness/liveness HTTP path, default `/`.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub health_path: Option<String>,
  /// optional: without ingress the service is cluster-internal only.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub ingress: Option<Ingress>,
  /// optional: cpu/memory requests and limits, defaults 100m/128Mi and 500m/512Mi.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub resources: Option<Resources>,
  /// optional: horizontal autoscaling; replicas is then the minimum.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub autoscaling: Option<Autoscaling>,
  /// optional: plain environment variables.
  #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
  pub env: BTreeMap<String, String>,
  /// optional: environment variables read from AWS Secrets Manager through External Secrets. `{database: url}` is the connection URL of the service's own database role (`app_<service>`, created by the migrations of the service with runsMigrations); `{secret, property}` names a JSON key of a secret Terraform creates empty per environment.
  #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
  pub secret_env: BTreeMap<String, SecretRef>,
  /// optional: this service owns the Flyway migrations and runs them before each release (default false; at most one service).
  #[serde(default, skip_serializing_if = "std::ops::Not::not")]
  pub runs_migrations: bool,
  /// optional: the service's outbound traffic beyond the defaults. Its NetworkPolicy always lets out DNS, the platform's other services, the database (when it uses it) and the EKS Pod Identity agent, and by default HTTPS (TCP 443) to addresses outside the VPC; `https: false` drops that rule, `allow` adds destinations.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub egress: Option<Egress>,
  /// optional: AWS resources the service's pods may use. Each environment gets an IAM role for the service with exactly these permissions, assumed through EKS Pod Identity by the service's ServiceAccount in the platform's namespace only. Default none: no role, no AWS credentials.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub aws: Option<ServiceAws>,
}

/// The AWS resources a service may use: `{s3: [{bucket: uploads, access: write}], sqs: [{queue: jobs, access: read}]}`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceAws {
  /// optional: S3 buckets, each a bucket name (in the environment's account) or an ARN `arn:aws:s3:::<bucket>`. `read` lists the bucket and gets its objects (s3:ListBucket, s3:GetObject); `write` also puts and deletes objects (s3:PutObject, s3:DeleteObject).
  #[serde(default, skip_serializing_if = "Vec::is_empty")]
  pub s3: Vec<S3Access>,
  /// optional: SQS queues, each a queue name (in the environment's account and region) or an ARN `arn:aws:sqs:<region>:<account>:<queue>`. `read` consumes (sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility, sqs:GetQueueAttributes); `write` sends (sqs:SendMessage, sqs:GetQueueAttributes). List a queue with each access to do both.
  #[serde(default, skip_serializing_if = "Vec::is_empty")]
  pub sqs: Vec<SqsAccess>,
}

/// One S3 bucket and what the service may do with it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct S3Access {
  /// Bucket name (3–63 characters: lowercase letters, digits, `.` and `-`) or its ARN `arn:aws:s3:::<bucket>`.
  pub bucket: String,
  /// read | write.
  pub access: Access,
}

/// One SQS queue and what the service may do with it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SqsAccess {
  /// Queue name (1–80 characters: letters, digits, `-` and `_`, a FIFO queue ending in `.fifo`) or its ARN `arn:aws:sqs:<region>:<account>:<queue>`.
  pub queue: String,
  /// read | write.
  pub access: Access,
}

/// What a service may do with an AWS resource.
#[derive(
  Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Access {
  Read,
  Write,
}

/// Outbound traffic a service's NetworkPolicy lets out, on top of DNS, the
/// platform's other services, the database and the Pod Identity agent.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Egress {
  /// optional: HTTPS (TCP 443) to every address outside the VPC, where the AWS APIs and the internet answer (inside it too with `natGateways: none`, for the VPC endpoints); default true. `false` lets out only what `allow` lists.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub https: Option<bool>,
  /// optional: more destinations, each an IPv4 range with its ports.
  #[serde(default, skip_serializing_if = "Vec::is_empty")]
  pub allow: Vec<EgressRule>,
}

/// One more destination: `{cidr: 10.1.0.0/16, ports: [5432]}`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EgressRule {
  /// IPv4 range in CIDR notation, e.g. `10.1.0.0/16` (one address is `/32`).
  pub cidr: String,
  /// optional: destination ports (1–65535); without ports, every port and protocol.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub ports: Option<Vec<i64>>,
  /// optional: `TCP` or `UDP` for the ports, default `TCP`.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub protocol: Option<Protocol>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
  #[default]
  Tcp,
  Udp,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Ingress {
  /// Host under spec.domain (`api` → `api.<domain>`); `@` is the apex domain itself.
  pub host: String,
  /// optional: path prefix, default `/`.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub path: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Resources {
  /// Requested cpu and memory.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub requests: Option<ResourceAmounts>,
  /// cpu and memory limits.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub limits: Option<ResourceAmounts>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResourceAmounts {
  /// CPU quantity, e.g. `250m` or `"1"`.
  pub cpu: String,
  /// Memory quantity, e.g. `256Mi`.
  pub memory: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Autoscaling {
  /// Most replicas.
  pub max_replicas: i64,
  /// optional: average CPU utilisation to scale at (1–100, default 70).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub target_cpu_percent: Option<i64>,
}

/// `{database: url|password}` or `{secret: <name>, property: <key>}`; the
/// combination is checked by validation so the message can name the field.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretRef {
  /// `url`, `password` or `username` of the service's own database role.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub database: Option<DatabaseKey>,
  /// Secrets Manager secret name inside each environment: Terraform creates `<platform>/<environment>/<secret>` empty (a leading `<platform>/` is not repeated) and you fill it.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub secret: Option<String>,
  /// JSON key inside the secret.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub property: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum DatabaseKey {
  Url,
  Password,
  Username,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Environment {
  /// Environment name (DNS-1123 label); also the GitHub environment.
  pub name: String,
  /// optional: hosts become `<host>.<subdomain>.<domain>`; none for production.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub subdomain: Option<String>,
  /// Deploys wait for a required reviewer of the GitHub environment (default false).
  #[serde(default, skip_serializing_if = "std::ops::Not::not")]
  pub approval: bool,
  /// optional per-environment overrides.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub overrides: Option<Overrides>,
  /// optional: the cluster administrators of this environment (IAM role or user ARNs); replaces spec.cluster.admins here.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub cluster_admins: Option<Vec<String>>,
  /// optional: the 12-digit AWS account this environment lives in, quoted (`"123456789012"`). Set on every environment or on none: with accounts, each values file names its ECR registry, Terraform refuses to run in another account, and promotion across accounts gets ECR repository policies. Default none: every environment in one account, the one the workflows' `AWS_ACCOUNT_ID` names.
  // Kept as a YAML value so an unquoted id (read as a number, leading zeros
  // lost) can be reported with a precise hint by validation.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  #[schemars(with = "Option<String>")]
  pub account: Option<yaml_serde::Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Overrides {
  /// Replicas of every service in this environment.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub replicas: Option<i64>,
  /// Database settings in this environment.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub database: Option<DatabaseOverrides>,
  /// Node group sizes in this environment.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub node_groups: Option<NodeGroupOverrides>,
  /// optional: the ResourceQuota of the platform's namespace in this environment (`cluster/manifests/<env>/quota.yaml`). Each amount given replaces the one oi-gen computes from the services (every service at its most replicas plus a rolling update's surge, the migration Job and one spare pod); none may be below what the services request at their most replicas.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub quota: Option<QuotaOverrides>,
}

/// The namespace's ResourceQuota in one environment: `{requests: {cpu: "8"}, pods: 40}`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct QuotaOverrides {
  /// optional: the sum of the requests of the namespace's pods (`requests.cpu`, `requests.memory`).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub requests: Option<QuotaAmounts>,
  /// optional: the sum of the limits of the namespace's pods (`limits.cpu`, `limits.memory`).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub limits: Option<QuotaAmounts>,
  /// optional: the most pods the namespace runs at once.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub pods: Option<i64>,
}

/// CPU and memory of a quota, each optional.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct QuotaAmounts {
  /// optional: CPU quantity, e.g. `"8"` or `7500m`.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub cpu: Option<String>,
  /// optional: memory quantity, e.g. `16Gi`.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub memory: Option<String>,
}

/// Database settings of one environment.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DatabaseOverrides {
  /// RDS instance class in this environment.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub instance_class: Option<String>,
  /// Multi-AZ in this environment.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub multi_az: Option<bool>,
}

/// Node group sizes of one environment: `minSize`, `maxSize` and
/// `desiredSize` apply to every node group, and `groups` sets them for single
/// node groups by name, over the ones for every group.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeGroupOverrides {
  /// Fewest nodes in this environment.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub min_size: Option<u32>,
  /// Most nodes in this environment.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub max_size: Option<u32>,
  /// Nodes at creation in this environment.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub desired_size: Option<u32>,
  /// optional: sizes of single node groups in this environment, by the name
  /// of a group of `spec.cluster.nodeGroups`; they take precedence over the
  /// sizes above.
  #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
  pub groups: BTreeMap<String, NodeGroupSizes>,
}

/// Sizes of one node group in one environment.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeGroupSizes {
  /// Fewest nodes of this group in this environment.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub min_size: Option<u32>,
  /// Most nodes of this group in this environment.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub max_size: Option<u32>,
  /// Nodes of this group at creation in this environment.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub desired_size: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Delivery {
  /// The GitHub repository whose workflows deploy.
  pub github: GitHub,
  /// semver (optional, default semver): release tags vX.Y.Z build and promote images.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub versioning: Option<Versioning>,
  /// optional: the vulnerability gate of the build jobs. Default `{severity: critical}`: an image with a finding of that severity or above in its ECR scan is never signed, so the clusters refuse it.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub vulnerability_gate: Option<VulnerabilityGate>,
  /// actions | argocd (optional, default actions). `actions`: the Deploy and Release workflows run `helm upgrade` against each environment's cluster. `argocd`: Argo CD, installed in each cluster with the add-ons, syncs every service's chart from this repository; the workflows still build, sign and scan once, then promote by committing the image digest to `deploy/<env>/images/<service>.yaml` (pushed for environments without approval, a pull request where `approval: true`), and a rollback is a revert of that commit.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub mode: Option<DeliveryMode>,
  /// optional: a preview environment per pull request of this repository (never for a fork's), in the first environment's cluster: namespace `pr-<number>`, every service installed with `helm upgrade --install` from the Preview workflow in either delivery mode, hosts `pr-<number>-<host>` in that environment's zone, and a database of its own on that environment's RDS instance. Removed when the pull request closes, or by the hourly sweep after `ttlHours`.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub previews: Option<Previews>,
  /// optional, with `mode: argocd`: which Argo CD syncs the charts. Absent: Argo CD from its Helm chart in each cluster (`cluster/install.sh`). `{managed: true, identityCenter: ..., rbac: ...}`: the EKS managed Argo CD capability of each environment's cluster (`infra/argocd.tf`), run by AWS outside the cluster, signed in through IAM Identity Center.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub argocd: Option<ArgoCdDelivery>,
}

/// Preview environments per pull request (`spec.delivery.previews`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Previews {
  /// Whether pull requests get previews (optional, default true once `previews` is written).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub enabled: Option<bool>,
  /// Hours a preview lives after its last deploy before the sweep removes it (optional, default 72; 1 to 720).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub ttl_hours: Option<u32>,
}

/// `spec.delivery.argocd`: the EKS managed Argo CD capability.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ArgoCdDelivery {
  /// true | false (optional, default false): each environment's cluster gets the EKS Argo CD capability (Terraform, `infra/argocd.tf`) instead of the argo-cd chart; needs `identityCenter`.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub managed: Option<bool>,
  /// With `managed: true`: the IAM Identity Center instance Argo CD signs users in with (the capability has no local users).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub identity_center: Option<IdentityCenter>,
  /// With `managed: true`: who may do what in Argo CD, by Identity Center user or group id: `admin`, `editor`, `viewer` (Argo CD's three built-in roles of the capability). At least one identity.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub rbac: Option<ArgoCdRbac>,
}

/// The IAM Identity Center instance of the managed Argo CD.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IdentityCenter {
  /// The instance's ARN, `arn:aws:sso:::instance/ssoins-<16 characters>` (`aws sso-admin list-instances`).
  pub instance_arn: String,
  /// optional, default `spec.aws.region`: the region the Identity Center instance lives in.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub region: Option<String>,
}

/// The capability's role mappings: Identity Center identities per Argo CD role.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ArgoCdRbac {
  /// optional: full access (Applications of every project, settings, clusters, repositories).
  #[serde(default, skip_serializing_if = "Vec::is_empty")]
  pub admin: Vec<SsoIdentity>,
  /// optional: updates projects and their roles; sees Applications only through project roles.
  #[serde(default, skip_serializing_if = "Vec::is_empty")]
  pub editor: Vec<SsoIdentity>,
  /// optional: read-only; sees Applications only through project roles.
  #[serde(default, skip_serializing_if = "Vec::is_empty")]
  pub viewer: Vec<SsoIdentity>,
}

/// One Identity Center identity: exactly one of `group` or `user`, its id
/// (not its name), as `aws identitystore list-groups` / `list-users` show it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SsoIdentity {
  /// An Identity Center group id.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub group: Option<String>,
  /// An Identity Center user id.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub user: Option<String>,
}

/// How the services reach the clusters.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryMode {
  /// The Deploy and Release workflows run `helm upgrade` in each environment.
  #[default]
  Actions,
  /// Argo CD syncs the charts from the repository; the workflows commit the image digests.
  Argocd,
}

/// The build's vulnerability gate, on the ECR scan of the pushed image.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VulnerabilityGate {
  /// critical | high | medium | low | none (optional, default critical): the build fails when the scan finds a vulnerability of this severity or above; `none` reports the findings and fails on none.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub severity: Option<GateSeverity>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum GateSeverity {
  #[default]
  Critical,
  High,
  Medium,
  Low,
  None,
}

impl GateSeverity {
  /// The ECR finding severities that fail the gate, most severe first.
  pub fn failing(self) -> &'static [&'static str] {
    const ORDER: [&str; 4] = ["CRITICAL", "HIGH", "MEDIUM", "LOW"];
    match self {
      GateSeverity::Critical => &ORDER[..1],
      GateSeverity::High => &ORDER[..2],
      GateSeverity::Medium => &ORDER[..3],
      GateSeverity::Low => &ORDER[..],
      GateSeverity::None => &[],
    }
  }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GitHub {
  /// owner/name of the repository whose workflows may assume the AWS deploy role through GitHub's OIDC provider (no static keys).
  pub repository: String,
  /// Main branch (optional, default main).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub branch: Option<String>,
  /// optional: the required reviewers `infra/github/` gives the GitHub environments that wait for one (every `<env>-infra`, and `<env>` where `approval: true`). GitHub takes at most 6 users and 6 teams. Default none: the apply of `infra/github/` stops and asks for them while any environment needs a reviewer.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub reviewers: Option<Reviewers>,
}

/// Required reviewers of the GitHub environments.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Reviewers {
  /// GitHub user names (at most 6).
  #[serde(default, skip_serializing_if = "Vec::is_empty")]
  pub users: Vec<String>,
  /// Team slugs of the repository's organisation (at most 6).
  #[serde(default, skip_serializing_if = "Vec::is_empty")]
  pub teams: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Versioning {
  #[default]
  Semver,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Compliance {
  /// Checkov checks to skip, each with a reason.
  #[serde(default, skip_serializing_if = "Vec::is_empty")]
  pub checkov_skips: Vec<PolicySkip>,
  /// TFLint rules to disable, each with a reason.
  #[serde(default, skip_serializing_if = "Vec::is_empty")]
  pub tflint_skips: Vec<PolicySkip>,
}

/// A policy exception: a check or rule id and why it does not apply.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicySkip {
  /// Check or rule id, e.g. `CKV_AWS_144`.
  pub id: String,
  /// Why the check does not apply (required).
  #[serde(default)]
  pub reason: String,
}
