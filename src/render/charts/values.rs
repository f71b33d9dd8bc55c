//! The values files of a service chart, serialized from typed structs:
//! `values.yaml` holds what every environment shares, `values-<env>.yaml`
//! only what differs.

use crate::blueprint::quota::{MIGRATION_LIMITS, MIGRATION_REQUESTS};
use std::collections::BTreeMap;

use serde::Serialize;

use super::addons::{GATEWAY_NAME, GATEWAY_NAMESPACE, INGRESS_CLASS, ISSUER_PRODUCTION};
use super::versions::{INGRESS_NGINX, KUBE_PROMETHEUS_STACK};
use crate::blueprint::Resolved;
use crate::blueprint::model::{DatabaseKey, NatGateways, Nginx, Protocol, ResourceAmounts};
use crate::blueprint::resolved::{ResolvedService, ServiceInEnvironment};
use crate::names;

/// PostgreSQL's port; RDS listens on it.
pub(crate) const DATABASE_PORT: u16 = 5432;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Values {
  pub image: Image,
  pub replica_count: i64,
  pub container_port: i64,
  pub service: ServicePort,
  pub health_path: String,
  pub resources: ResourcesValues,
  pub autoscaling: Autoscaling,
  pub pod_disruption_budget: Pdb,
  pub env: BTreeMap<String, String>,
  pub secret_env: Vec<SecretEnv>,
  pub external_secret: ExternalSecret,
  pub database: DatabaseValues,
  pub expose: Expose,
  pub network_policy: NetworkPolicyValues,
  pub metrics: Metrics,
  pub migrations: MigrationsValues,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Image {
  /// The ECR registry host: set per environment when the blueprint names
  /// its account, else at deploy time.
  pub registry: String,
  /// Set per environment: `<platform>/<env>/<service>`.
  pub repository: String,
  /// The release tag, set at deploy time; `digest` wins when set.
  pub tag: String,
  pub digest: String,
  pub pull_policy: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct ServicePort {
  pub port: i64,
}

#[derive(Debug, Serialize)]
pub(crate) struct ResourcesValues {
  pub requests: ResourceAmounts,
  pub limits: ResourceAmounts,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Autoscaling {
  pub enabled: bool,
  pub min_replicas: i64,
  pub max_replicas: i64,
  #[serde(rename = "targetCPUUtilizationPercentage")]
  pub target_cpu_utilization_percentage: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Pdb {
  pub enabled: bool,
  pub max_unavailable: i64,
}

/// One environment variable read from the ExternalSecret's target Secret.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SecretEnv {
  pub name: String,
  /// `url`, `password` or `username` of the database's managed credentials.
  #[serde(skip_serializing_if = "Option::is_none")]
  pub database: Option<DatabaseKey>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub remote_ref: Option<RemoteRef>,
}

#[derive(Debug, Serialize)]
pub(crate) struct RemoteRef {
  pub key: String,
  pub property: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExternalSecret {
  pub refresh_interval: String,
  pub secret_store: String,
  /// `<platform>/<env>/`, the environment's secret names start with it; set
  /// per environment. A `remoteRef.key` is the name after it.
  pub key_prefix: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DatabaseValues {
  pub enabled: bool,
  pub port: u16,
  pub name: String,
  /// ARN of the RDS-managed master user secret, set at deploy time; only
  /// the migration hook reads it.
  pub secret_arn: String,
  /// The service's own role and password, `database/<service>` after the
  /// environment's `externalSecret.keyPrefix` (empty when it uses no
  /// database).
  pub credentials_key: String,
  /// Host, port and name, `database` after the prefix (Terraform writes it).
  pub connection_key: String,
  /// The database subnets: the only egress to port 5432 the pods get.
  pub cidrs: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Expose {
  /// `gateway` (HTTPRoute), `ingress` (Ingress) or `none`.
  pub mode: String,
  /// Set per environment.
  pub host: String,
  pub path: String,
  pub gateway: GatewayRef,
  pub ingress: IngressValues,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GatewayRef {
  pub name: String,
  pub namespace: String,
  /// The Gateway's HTTPS listener of this host, set per environment.
  pub section_name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IngressValues {
  pub class_name: String,
  pub cluster_issuer: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NetworkPolicyValues {
  /// Namespaces whose pods may reach the service port: the NGINX data plane
  /// and Prometheus.
  pub ingress_namespaces: Vec<String>,
  /// The platform's other services may call this one, and it them.
  pub allow_same_namespace: bool,
  /// HTTPS (TCP 443) out to every address except these: the VPC range, so
  /// the pods reach the AWS APIs and the internet but nothing in the cluster
  /// on 443. Empty with `natGateways: none`, where the AWS APIs answer on VPC
  /// endpoints inside the VPC.
  pub https_except: Vec<String>,
  /// The EKS Pod Identity agent (TCP 80), which hands the pods their AWS
  /// credentials.
  pub pod_identity_agent: String,
  /// The HTTPS rule above is in the policy (the service's `egress.https`).
  pub https: bool,
  /// The service's `egress.allow`: more destinations.
  pub egress: Vec<EgressValues>,
}

/// One more destination: an IPv4 range and its ports (none: every port).
#[derive(Debug, Serialize)]
pub(crate) struct EgressValues {
  pub cidr: String,
  pub ports: Vec<EgressPort>,
}

#[derive(Debug, Serialize)]
pub(crate) struct EgressPort {
  pub port: u16,
  pub protocol: Protocol,
}

/// The link-local address the EKS Pod Identity agent serves credentials on
/// (`AWS_CONTAINER_CREDENTIALS_FULL_URI`, plain HTTP).
pub(crate) const POD_IDENTITY_AGENT: &str = "169.254.170.23/32";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Metrics {
  pub service_monitor: ServiceMonitor,
}

#[derive(Debug, Serialize)]
pub(crate) struct ServiceMonitor {
  pub enabled: bool,
  pub path: String,
  pub interval: String,
}

/// This service owns the database migrations: its chart runs Flyway in a
/// Job, a pre-install and pre-upgrade hook.
#[derive(Debug, Serialize)]
pub(crate) struct MigrationsValues {
  pub owner: bool,
  /// Only in the owner's values.
  #[serde(flatten)]
  pub job: Option<MigrationJob>,
}

/// The Flyway Job of the migrations owner.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MigrationJob {
  /// The migrations image (`db/` on the pinned Flyway image), in the
  /// service image's registry; its repository is set per environment.
  pub image: MigrationsImage,
  /// Retries of a failed run (Flyway migrations are transactional on
  /// PostgreSQL: a failed one leaves nothing behind).
  pub backoff_limit: u32,
  /// Bounds the run, the wait for the database Secret included; shorter than
  /// the deploy's `helm --timeout`, so the Job's own failure is reported.
  pub active_deadline_seconds: u32,
  /// A failed Job stays this long for its logs.
  pub ttl_seconds_after_finished: u32,
  pub resources: ResourcesValues,
  /// The PostgreSQL role of every service that uses the database, which the
  /// Job creates and keeps in step with its Secrets Manager password.
  pub roles: Vec<MigrationRole>,
}

#[derive(Debug, Serialize)]
pub(crate) struct MigrationRole {
  pub role: String,
  /// Its secret, after the environment's `externalSecret.keyPrefix`.
  pub key: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct MigrationsImage {
  pub repository: String,
  /// Wins over the service image's tag when set.
  pub digest: String,
}

/// `helm upgrade --timeout` of the deploy workflows, in seconds.
pub(crate) const HELM_TIMEOUT_SECONDS: u32 = 600;

impl MigrationJob {
  fn new(resolved: &Resolved) -> Self {
    Self {
      roles: resolved
        .services
        .iter()
        .filter(|s| s.uses_database)
        .map(|s| MigrationRole {
          role: names::database_role(&s.name),
          key: names::database_role_key(&s.name),
        })
        .collect(),
      image: MigrationsImage {
        repository: String::new(),
        digest: String::new(),
      },
      backoff_limit: 1,
      active_deadline_seconds: HELM_TIMEOUT_SECONDS - 120,
      ttl_seconds_after_finished: 86_400,
      // The namespace's ResourceQuota counts the Job at these amounts.
      resources: ResourcesValues {
        requests: ResourceAmounts {
          cpu: MIGRATION_REQUESTS.0.into(),
          memory: MIGRATION_REQUESTS.1.into(),
        },
        limits: ResourceAmounts {
          cpu: MIGRATION_LIMITS.0.into(),
          memory: MIGRATION_LIMITS.1.into(),
        },
      },
    }
  }
}

/// Whether the service's chart runs the migrations; the charts read
/// [`ResolvedService::runs_migrations`], decided once.
/// What `values-<env>.yaml` sets on top of `values.yaml`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EnvValues {
  pub environment: String,
  pub image: EnvImage,
  pub replica_count: i64,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub autoscaling: Option<EnvAutoscaling>,
  pub pod_disruption_budget: EnvPdb,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub expose: Option<EnvExpose>,
  /// Only in the migrations owner's values.
  #[serde(skip_serializing_if = "Option::is_none")]
  pub migrations: Option<EnvMigrations>,
  /// With External Secrets: where the environment's secrets are.
  #[serde(skip_serializing_if = "Option::is_none")]
  pub external_secret: Option<EnvExternalSecret>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EnvExternalSecret {
  pub key_prefix: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct EnvImage {
  /// The environment's ECR registry, when the blueprint names its account.
  #[serde(skip_serializing_if = "Option::is_none")]
  pub registry: Option<String>,
  pub repository: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct EnvMigrations {
  pub image: EnvMigrationsImage,
}

#[derive(Debug, Serialize)]
pub(crate) struct EnvMigrationsImage {
  /// `<platform>/<env>/<owner>-migrations`.
  pub repository: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EnvAutoscaling {
  pub min_replicas: i64,
  pub max_replicas: i64,
}

#[derive(Debug, Serialize)]
pub(crate) struct EnvPdb {
  pub enabled: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EnvExpose {
  pub host: String,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub gateway: Option<EnvGateway>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EnvGateway {
  pub section_name: String,
}

/// Name of the Gateway's HTTPS listener for a host (one per host: HTTP-01
/// cannot issue wildcards).
pub(crate) fn https_listener(host: &str) -> String {
  format!("https-{host}")
}

/// The values every environment shares.
pub(crate) fn values(resolved: &Resolved, service: &ResolvedService) -> Values {
  let addons = &resolved.addons;
  let mut ingress_namespaces = vec![match addons.nginx {
    Nginx::Gateway => GATEWAY_NAMESPACE.to_string(),
    Nginx::Ingress => INGRESS_NGINX.namespace.to_string(),
  }];
  if addons.monitoring {
    ingress_namespaces.push(KUBE_PROMETHEUS_STACK.namespace.to_string());
  }
  let secret_env = if addons.external_secrets {
    service
      .service
      .secret_env
      .iter()
      .map(|(name, reference)| SecretEnv {
        name: name.clone(),
        database: reference.database,
        remote_ref: match (&reference.secret, &reference.property) {
          (Some(key), Some(property)) => Some(RemoteRef {
            key: names::scoped_secret_key(&resolved.platform, key).to_string(),
            property: property.clone(),
          }),
          _ => None,
        },
      })
      .collect()
  } else {
    Vec::new()
  };
  Values {
    image: Image {
      registry: String::new(),
      repository: String::new(),
      tag: String::new(),
      digest: String::new(),
      pull_policy: "Always".into(),
    },
    replica_count: service.replicas,
    container_port: service.port,
    service: ServicePort { port: service.port },
    health_path: service.health_path.clone(),
    resources: ResourcesValues {
      requests: service.requests.clone(),
      limits: service.limits.clone(),
    },
    autoscaling: match &service.service.autoscaling {
      Some(scaling) => Autoscaling {
        enabled: true,
        min_replicas: service.replicas,
        max_replicas: scaling.max_replicas,
        target_cpu_utilization_percentage: scaling.target_cpu_percent.unwrap_or(70),
      },
      None => Autoscaling {
        enabled: false,
        min_replicas: service.replicas,
        max_replicas: service.replicas,
        target_cpu_utilization_percentage: 70,
      },
    },
    pod_disruption_budget: Pdb {
      enabled: service.replicas > 1,
      max_unavailable: 1,
    },
    env: service.service.env.clone(),
    secret_env,
    external_secret: ExternalSecret {
      refresh_interval: "1h".into(),
      secret_store: names::SECRET_STORE.into(),
      key_prefix: String::new(),
    },
    database: DatabaseValues {
      enabled: service.uses_database,
      port: DATABASE_PORT,
      name: resolved
        .database
        .as_ref()
        .map(|d| d.name.clone())
        .unwrap_or_default(),
      secret_arn: String::new(),
      credentials_key: if service.uses_database {
        names::database_role_key(&service.name)
      } else {
        String::new()
      },
      connection_key: names::DATABASE_KEY.into(),
      cidrs: if service.uses_database {
        resolved.database_cidrs()
      } else {
        Vec::new()
      },
    },
    expose: Expose {
      mode: match (&service.ingress_path, addons.nginx) {
        (None, _) => "none",
        (Some(_), Nginx::Gateway) => "gateway",
        (Some(_), Nginx::Ingress) => "ingress",
      }
      .into(),
      host: String::new(),
      path: service.ingress_path.as_deref().unwrap_or("/").to_string(),
      gateway: GatewayRef {
        name: GATEWAY_NAME.into(),
        namespace: GATEWAY_NAMESPACE.into(),
        section_name: String::new(),
      },
      ingress: IngressValues {
        class_name: INGRESS_CLASS.into(),
        cluster_issuer: ISSUER_PRODUCTION.into(),
      },
    },
    network_policy: NetworkPolicyValues {
      ingress_namespaces,
      allow_same_namespace: true,
      https_except: if resolved.nat_gateways == NatGateways::None {
        Vec::new()
      } else {
        vec![resolved.platform.spec.network.cidr.clone()]
      },
      pod_identity_agent: POD_IDENTITY_AGENT.into(),
      https: service.egress.https,
      egress: service
        .egress
        .allow
        .iter()
        .map(|rule| EgressValues {
          cidr: rule.cidr.clone(),
          ports: rule
            .ports
            .iter()
            .map(|&port| EgressPort {
              port,
              protocol: rule.protocol,
            })
            .collect(),
        })
        .collect(),
    },
    metrics: Metrics {
      service_monitor: ServiceMonitor {
        enabled: addons.monitoring,
        path: "/metrics".into(),
        interval: "30s".into(),
      },
    },
    migrations: MigrationsValues {
      owner: service.runs_migrations,
      job: service.runs_migrations.then(|| MigrationJob::new(resolved)),
    },
  }
}

/// What differs in `environment`.
pub(crate) fn env_values(
  resolved: &Resolved,
  service: &ResolvedService,
  environment: &ServiceInEnvironment,
) -> EnvValues {
  let replicas = environment.replicas;
  EnvValues {
    environment: environment.environment.clone(),
    image: EnvImage {
      registry: resolved
        .environment(&environment.environment)
        .and_then(|e| e.registry.clone()),
      repository: environment.image_repository.clone(),
    },
    replica_count: replicas,
    autoscaling: service
      .service
      .autoscaling
      .as_ref()
      .map(|scaling| EnvAutoscaling {
        min_replicas: replicas,
        max_replicas: scaling.max_replicas.max(replicas),
      }),
    pod_disruption_budget: EnvPdb {
      enabled: replicas > 1,
    },
    expose: environment.host.clone().map(|host| EnvExpose {
      gateway: (resolved.addons.nginx == Nginx::Gateway).then(|| EnvGateway {
        section_name: https_listener(&host),
      }),
      host,
    }),
    migrations: environment
      .migrations_repository
      .clone()
      .map(|repository| EnvMigrations {
        image: EnvMigrationsImage { repository },
      }),
    external_secret: resolved.addons.external_secrets.then(|| EnvExternalSecret {
      key_prefix: resolved
        .environment(&environment.environment)
        .map(|e| e.names.secret_scope.clone())
        .unwrap_or_default(),
    }),
  }
}

/// Helm reads values files as YAML 1.1, where plain `yes`, `no`, `on`,
/// `off`, `y`, `n`, `012`, `1_000` or `1:20` are booleans and numbers; the
/// YAML 1.2 emitter leaves them plain. Environment variable names and values
/// are strings, so every plain key and value under the top-level `env:`, and
/// every `name` under `secretEnv:`, that YAML 1.1 could read as something
/// else is single-quoted.
pub(crate) fn quote_env_for_helm(text: &str) -> String {
  let quoted = |scalar: &str| {
    if yaml11_reads_as_non_string(scalar) {
      // Single-quoted: a quote inside is written twice.
      format!("'{}'", scalar.replace('\'', "''"))
    } else {
      scalar.to_string()
    }
  };
  let mut out = String::with_capacity(text.len() + 16);
  let mut block = "";
  for line in text.split_inclusive('\n') {
    let body = line.strip_suffix('\n').unwrap_or(line);
    let newline = if line.ends_with('\n') { "\n" } else { "" };
    if !body.starts_with([' ', '-']) {
      block = if body == "env:" || body == "secretEnv:" {
        body
      } else {
        ""
      };
      out.push_str(line);
      continue;
    }
    match block {
      // `env:`: every key and value is a string.
      "env:" => match body
        .strip_prefix("  ")
        .and_then(|rest| rest.split_once(": "))
      {
        Some((key, value)) if !key.starts_with(' ') => {
          out.push_str(&format!("  {}: {}{newline}", quoted(key), quoted(value)));
        }
        _ => out.push_str(line),
      },
      // `secretEnv:`: each entry's `name` is a variable name.
      "secretEnv:" => match body.strip_prefix("- name: ") {
        Some(name) => out.push_str(&format!("- name: {}{newline}", quoted(name))),
        None => out.push_str(line),
      },
      _ => out.push_str(line),
    }
  }
  out
}

/// Whether a plain scalar might resolve to a non-string in YAML 1.1
/// (booleans, nulls, integers in any base, floats, sexagesimals, merge and
/// value keys). Errs towards quoting: a quoted string is always a string.
fn yaml11_reads_as_non_string(value: &str) -> bool {
  const WORDS: &[&str] = &[
    "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", "", "=", "<<",
  ];
  if value.starts_with(['\'', '"', '|', '>', '[', '{', '&', '*', '!']) {
    return false;
  }
  WORDS.contains(&value.to_ascii_lowercase().as_str())
    || value.starts_with(|c: char| c.is_ascii_digit() || "+-.".contains(c))
}
