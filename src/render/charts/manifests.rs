//! The cluster-wide objects under `cluster/manifests/`, serialized from typed
//! structs: one struct family per kind. Fields are in alphabetical order, the
//! order of the keys in the manifests.

use serde::Serialize;

use super::addons::{
  GATEWAY_CLASS, GATEWAY_NAME, GATEWAY_NAMESPACE, GRAFANA_ADMIN_SECRET, ISSUER_PRODUCTION,
  RECEIVERS_SECRET,
};
use super::values::https_listener;
use super::versions::KUBE_PROMETHEUS_STACK;
use crate::blueprint::model::CapacityType;
use crate::blueprint::quota::{Amounts, LimitRange, NamespaceQuota};
use crate::blueprint::resolved::ResolvedNodeGroup;
use crate::names;

/// A Kubernetes object with its kind's `spec`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Manifest<Spec> {
  api_version: &'static str,
  kind: &'static str,
  metadata: Metadata,
  spec: Spec,
}

#[derive(Serialize)]
pub(super) struct Metadata {
  #[serde(skip_serializing_if = "Option::is_none")]
  annotations: Option<IssuerAnnotation>,
  name: String,
  #[serde(skip_serializing_if = "Option::is_none")]
  namespace: Option<&'static str>,
}

impl Metadata {
  fn cluster_wide(name: &str) -> Self {
    Self {
      annotations: None,
      name: name.to_string(),
      namespace: None,
    }
  }

  fn namespaced(name: &str, namespace: &'static str) -> Self {
    Self {
      annotations: None,
      name: name.to_string(),
      namespace: Some(namespace),
    }
  }
}

/// cert-manager issues the certificates of the annotated Gateway's listeners
/// from this ClusterIssuer.
#[derive(Serialize)]
pub(super) struct IssuerAnnotation {
  #[serde(rename = "cert-manager.io/cluster-issuer")]
  cluster_issuer: &'static str,
}

/// A reference by kind and name.
#[derive(Serialize)]
pub(super) struct KindRef {
  kind: &'static str,
  name: String,
}

#[derive(Serialize)]
pub(super) struct NameRef {
  name: String,
}

/// A route's (or an ACME solver's) attachment to a Gateway listener.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ParentRef {
  #[serde(skip_serializing_if = "Option::is_none")]
  kind: Option<&'static str>,
  name: &'static str,
  #[serde(skip_serializing_if = "Option::is_none")]
  namespace: Option<&'static str>,
  section_name: &'static str,
}

// ClusterSecretStore

#[derive(Serialize)]
pub(super) struct SecretStoreSpec {
  provider: SecretStoreProvider,
  conditions: Vec<StoreCondition>,
}

/// The namespaces whose ExternalSecrets the store serves.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StoreCondition {
  #[serde(skip_serializing_if = "Vec::is_empty")]
  namespaces: Vec<String>,
  #[serde(skip_serializing_if = "Vec::is_empty")]
  namespace_regexes: Vec<String>,
}

#[derive(Serialize)]
pub(super) struct SecretStoreProvider {
  aws: AwsSecretsManager,
}

#[derive(Serialize)]
pub(super) struct AwsSecretsManager {
  region: String,
  service: &'static str,
}

/// AWS Secrets Manager of the platform's region, through Pod Identity (no
/// `auth`: the operator's service account has the role), for the
/// ExternalSecrets of `namespaces` only: an ExternalSecret in any other
/// namespace cannot read the platform's secrets through it.
pub(super) fn cluster_secret_store(
  region: &str,
  namespaces: Vec<String>,
  previews: bool,
) -> Manifest<SecretStoreSpec> {
  let mut conditions = vec![StoreCondition {
    namespaces,
    namespace_regexes: Vec::new(),
  }];
  // With previews, their namespaces read the secrets the services and the
  // preview's database job read.
  if previews {
    conditions.push(StoreCondition {
      namespaces: Vec::new(),
      namespace_regexes: vec![super::previews::NAMESPACE_PATTERN.to_string()],
    });
  }
  Manifest {
    api_version: "external-secrets.io/v1",
    kind: "ClusterSecretStore",
    metadata: Metadata::cluster_wide(names::SECRET_STORE),
    spec: SecretStoreSpec {
      provider: SecretStoreProvider {
        aws: AwsSecretsManager {
          region: region.to_string(),
          service: "SecretsManager",
        },
      },
      conditions,
    },
  }
}

// ClusterIssuer

#[derive(Serialize)]
pub(super) struct IssuerSpec {
  acme: Acme,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Acme {
  #[serde(skip_serializing_if = "Option::is_none")]
  email: Option<String>,
  private_key_secret_ref: NameRef,
  server: &'static str,
  solvers: Vec<Solver>,
}

/// A DNS-01 solver for the names under one domain.
#[derive(Serialize)]
pub(super) struct Solver {
  dns01: Dns01,
  selector: SolverSelector,
}

/// DNS-01 on Route53: cert-manager writes `_acme-challenge` TXT records in
/// the environment's hosted zone with its Pod Identity role, so the apex
/// gets a certificate too, and none waits for the load balancer.
#[derive(Serialize)]
pub(super) struct Dns01 {
  route53: Route53,
}

#[derive(Serialize)]
pub(super) struct Route53 {
  region: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SolverSelector {
  dns_zones: Vec<String>,
}

/// A Let's Encrypt ClusterIssuer for the names under `domain`; `email` may
/// be empty.
pub(super) fn cluster_issuer(
  name: &str,
  server: &'static str,
  email: &str,
  region: &str,
  domain: &str,
) -> Manifest<IssuerSpec> {
  Manifest {
    api_version: "cert-manager.io/v1",
    kind: "ClusterIssuer",
    metadata: Metadata::cluster_wide(name),
    spec: IssuerSpec {
      acme: Acme {
        email: (!email.is_empty()).then(|| email.to_string()),
        private_key_secret_ref: NameRef {
          name: format!("{name}-account"),
        },
        server,
        solvers: vec![Solver {
          dns01: Dns01 {
            route53: Route53 {
              region: region.to_string(),
            },
          },
          selector: SolverSelector {
            dns_zones: vec![domain.to_string()],
          },
        }],
      },
    },
  }
}

// Gateway

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GatewaySpec {
  gateway_class_name: &'static str,
  listeners: Vec<Listener>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Listener {
  allowed_routes: AllowedRoutes,
  #[serde(skip_serializing_if = "Option::is_none")]
  hostname: Option<String>,
  name: String,
  port: u16,
  protocol: &'static str,
  #[serde(skip_serializing_if = "Option::is_none")]
  tls: Option<ListenerTls>,
}

#[derive(Serialize)]
pub(super) struct AllowedRoutes {
  namespaces: RouteNamespaces,
}

/// `Same` (the Gateway's namespace) or `Selector`.
#[derive(Serialize)]
pub(super) struct RouteNamespaces {
  from: &'static str,
  #[serde(skip_serializing_if = "Option::is_none")]
  selector: Option<NamespaceSelector>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct NamespaceSelector {
  match_labels: std::collections::BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListenerTls {
  certificate_refs: Vec<KindRef>,
  mode: &'static str,
}

/// The shared Gateway: an HTTP listener for redirects,
/// and one HTTPS listener per host, its certificate issued by cert-manager.
/// Only routes in the application namespace attach to the HTTPS listeners;
/// with `previews` (the environment's domain), one more listener for every
/// name one label under it, its wildcard certificate issued by cert-manager
/// (DNS-01), takes the routes of the preview namespaces only.
pub(super) fn gateway(
  app_namespace: &str,
  hosts: &[String],
  cert_manager: bool,
  previews: Option<&str>,
) -> Manifest<GatewaySpec> {
  let http = Listener {
    allowed_routes: AllowedRoutes {
      namespaces: RouteNamespaces {
        from: "Same",
        selector: None,
      },
    },
    hostname: None,
    name: "http".into(),
    port: 80,
    protocol: "HTTP",
    tls: None,
  };
  let https = hosts.iter().map(|host| Listener {
    allowed_routes: AllowedRoutes {
      namespaces: RouteNamespaces {
        from: "Selector",
        selector: Some(NamespaceSelector {
          match_labels: [(
            "kubernetes.io/metadata.name".to_string(),
            app_namespace.to_string(),
          )]
          .into(),
        }),
      },
    },
    hostname: Some(host.clone()),
    name: https_listener(host),
    port: 443,
    protocol: "HTTPS",
    tls: Some(ListenerTls {
      certificate_refs: vec![KindRef {
        kind: "Secret",
        name: format!("tls-{host}"),
      }],
      mode: "Terminate",
    }),
  });
  let previews = previews.map(|domain| Listener {
    allowed_routes: AllowedRoutes {
      namespaces: RouteNamespaces {
        from: "Selector",
        selector: Some(NamespaceSelector {
          match_labels: [(
            crate::render::workflows::PREVIEW_LABEL.to_string(),
            "true".to_string(),
          )]
          .into(),
        }),
      },
    },
    hostname: Some(format!("*.{domain}")),
    name: crate::render::workflows::PREVIEW_LISTENER.into(),
    port: 443,
    protocol: "HTTPS",
    tls: Some(ListenerTls {
      certificate_refs: vec![KindRef {
        kind: "Secret",
        name: "tls-previews".into(),
      }],
      mode: "Terminate",
    }),
  });
  let mut metadata = Metadata::namespaced(GATEWAY_NAME, GATEWAY_NAMESPACE);
  if cert_manager {
    metadata.annotations = Some(IssuerAnnotation {
      cluster_issuer: ISSUER_PRODUCTION,
    });
  }
  Manifest {
    api_version: "gateway.networking.k8s.io/v1",
    kind: "Gateway",
    metadata,
    spec: GatewaySpec {
      gateway_class_name: GATEWAY_CLASS,
      listeners: std::iter::once(http).chain(https).chain(previews).collect(),
    },
  }
}

// HTTPRoute

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct HttpRouteSpec {
  parent_refs: Vec<ParentRef>,
  rules: Vec<RouteRule>,
}

#[derive(Serialize)]
pub(super) struct RouteRule {
  filters: Vec<RouteFilter>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RouteFilter {
  request_redirect: RequestRedirect,
  #[serde(rename = "type")]
  kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RequestRedirect {
  scheme: &'static str,
  status_code: u16,
}

/// Every plain-HTTP request is redirected to HTTPS.
pub(super) fn redirect_route() -> Manifest<HttpRouteSpec> {
  Manifest {
    api_version: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: Metadata::namespaced("https-redirect", GATEWAY_NAMESPACE),
    spec: HttpRouteSpec {
      parent_refs: vec![ParentRef {
        kind: None,
        name: GATEWAY_NAME,
        namespace: None,
        section_name: "http",
      }],
      rules: vec![RouteRule {
        filters: vec![RouteFilter {
          request_redirect: RequestRedirect {
            scheme: "https",
            status_code: 301,
          },
          kind: "RequestRedirect",
        }],
      }],
    },
  }
}

// ExternalSecret

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ExternalSecretSpec {
  data: Vec<SecretData>,
  refresh_interval: &'static str,
  secret_store_ref: KindRef,
  target: SecretTarget,
}

/// One key of the target Secret, read from a Secrets Manager JSON property.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SecretData {
  remote_ref: RemoteRef,
  secret_key: &'static str,
}

#[derive(Serialize)]
pub(super) struct RemoteRef {
  key: String,
  property: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SecretTarget {
  creation_policy: &'static str,
  name: &'static str,
}

/// Grafana's admin credentials, synced from the Secrets Manager secret
/// `remote` (JSON with `username` and `password`).
pub(super) fn grafana_admin(remote: &str) -> Manifest<ExternalSecretSpec> {
  let key = |secret_key, property| SecretData {
    remote_ref: RemoteRef {
      key: remote.to_string(),
      property,
    },
    secret_key,
  };
  monitoring_secret(
    GRAFANA_ADMIN_SECRET,
    vec![
      key("admin-user", "username"),
      key("admin-password", "password"),
    ],
  )
}

/// An ExternalSecret of the monitoring namespace: the Secret `name`, owned by
/// it, with `data` from the platform's ClusterSecretStore, refreshed hourly.
fn monitoring_secret(name: &'static str, data: Vec<SecretData>) -> Manifest<ExternalSecretSpec> {
  Manifest {
    api_version: "external-secrets.io/v1",
    kind: "ExternalSecret",
    metadata: Metadata::namespaced(name, KUBE_PROMETHEUS_STACK.namespace),
    spec: ExternalSecretSpec {
      data,
      refresh_interval: "1h",
      secret_store_ref: KindRef {
        kind: "ClusterSecretStore",
        name: names::SECRET_STORE.to_string(),
      },
      target: SecretTarget {
        creation_policy: "Owner",
        name,
      },
    },
  }
}

/// The credentials of Alertmanager's receivers: each `(in-scope key, JSON
/// property, Secret key)` of `receivers`, read from `<scope><key>` into the
/// Secret Alertmanager mounts.
pub(super) fn alertmanager_receivers(
  scope: &str,
  receivers: &[(&'static str, &'static str, &'static str)],
) -> Manifest<ExternalSecretSpec> {
  monitoring_secret(
    RECEIVERS_SECRET,
    receivers
      .iter()
      .map(|(key, property, secret_key)| SecretData {
        remote_ref: RemoteRef {
          key: format!("{scope}{key}"),
          property,
        },
        secret_key,
      })
      .collect(),
  )
}

// StorageClass

/// Replaced by `install.sh` with the ARN of the environment's KMS key
/// (`infra/kms.tf`), which Terraform knows only once it is created.
pub(crate) const KMS_KEY_ARN_PLACEHOLDER: &str = "KMS_KEY_ARN";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StorageClass {
  api_version: &'static str,
  kind: &'static str,
  metadata: StorageClassMetadata,
  allow_volume_expansion: bool,
  parameters: EbsParameters,
  provisioner: &'static str,
  reclaim_policy: &'static str,
  volume_binding_mode: &'static str,
}

#[derive(Serialize)]
pub(super) struct StorageClassMetadata {
  annotations: DefaultClassAnnotation,
  name: &'static str,
}

#[derive(Serialize)]
pub(super) struct DefaultClassAnnotation {
  #[serde(rename = "storageclass.kubernetes.io/is-default-class")]
  is_default_class: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct EbsParameters {
  encrypted: &'static str,
  kms_key_id: &'static str,
  #[serde(rename = "type")]
  kind: &'static str,
}

/// The cluster's default StorageClass: gp3 volumes of the EBS CSI driver,
/// encrypted with the environment's key, created in the zone of the pod that
/// first uses them, and growable in place. Volumes are deleted with their
/// claims.
pub(super) fn storage_class(auto_mode: bool) -> StorageClass {
  StorageClass {
    api_version: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: StorageClassMetadata {
      annotations: DefaultClassAnnotation {
        is_default_class: "true",
      },
      name: names::STORAGE_CLASS,
    },
    allow_volume_expansion: true,
    parameters: EbsParameters {
      encrypted: "true",
      kms_key_id: KMS_KEY_ARN_PLACEHOLDER,
      kind: "gp3",
    },
    // EKS Auto Mode's own block storage provisioner, or the EBS CSI driver
    // add-on's.
    provisioner: if auto_mode {
      "ebs.csi.eks.amazonaws.com"
    } else {
      "ebs.csi.aws.com"
    },
    reclaim_policy: "Delete",
    volume_binding_mode: "WaitForFirstConsumer",
  }
}

/// `cluster/manifests/deployers.yaml`: the platform's namespace, and what
/// the deploy role's Kubernetes group may do in it beyond its access policy
/// (AmazonEKSEditPolicy, which covers no custom resources): the custom
/// resources the service charts create. Applied by `install.sh` with
/// cluster-admin, never by the deploy.
pub(super) fn deployers(
  namespace: &str,
  kubernetes_version: &str,
  group: &str,
  custom_resources: &[(&'static str, &'static str)],
) -> Vec<String> {
  let metadata = |name: &str| ObjectMeta {
    name: name.to_string(),
    namespace: Some(namespace.to_string()),
    labels: None,
  };
  // Pod Security Admission: every pod of the namespace must meet the
  // `restricted` standard of the cluster's Kubernetes version (the charts
  // do: non-root, no privilege escalation, all capabilities dropped,
  // RuntimeDefault seccomp); audit and warn name any that does not.
  let version = format!("v{kubernetes_version}");
  let mut labels = std::collections::BTreeMap::new();
  for mode in ["enforce", "audit", "warn"] {
    labels.insert(
      format!("pod-security.kubernetes.io/{mode}"),
      "restricted".to_string(),
    );
    labels.insert(
      format!("pod-security.kubernetes.io/{mode}-version"),
      version.clone(),
    );
  }
  let rules = custom_resources
    .iter()
    .map(|(api_group, resource)| PolicyRule {
      api_groups: vec![api_group],
      resources: vec![resource],
      verbs: vec![
        "create", "delete", "get", "list", "patch", "update", "watch",
      ],
    })
    .collect();
  vec![
    to_yaml(&Object {
      api_version: "v1",
      kind: "Namespace",
      metadata: ObjectMeta {
        name: namespace.to_string(),
        namespace: None,
        labels: Some(labels),
      },
      rest: Rest::None {},
    }),
    // Nothing reaches or leaves a pod of the namespace unless a policy of its
    // own allows it: each service's and each migrations Job's NetworkPolicy
    // opens exactly what it needs (DNS, its database, HTTPS, the gateway,
    // Prometheus).
    to_yaml(&Object {
      api_version: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: metadata(DEFAULT_DENY),
      rest: Rest::NetworkPolicy {
        spec: DenyAll {
          pod_selector: std::collections::BTreeMap::new(),
          policy_types: vec!["Ingress", "Egress"],
        },
      },
    }),
    to_yaml(&Object {
      api_version: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: metadata(group),
      rest: Rest::Role { rules },
    }),
    to_yaml(&Object {
      api_version: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: metadata(group),
      rest: Rest::RoleBinding {
        role_ref: RoleRef {
          api_group: "rbac.authorization.k8s.io",
          kind: "Role",
          name: group.to_string(),
        },
        subjects: vec![Subject {
          api_group: "rbac.authorization.k8s.io",
          kind: "Group",
          name: group.to_string(),
        }],
      },
    }),
  ]
}

/// `cluster/manifests/<env>/quota.yaml`: the compute budget of the
/// platform's namespace in one environment. The ResourceQuota is computed in
/// `blueprint/quota.rs` (every service at its most replicas plus a rolling
/// update's 25% surge, the migration Job and one spare pod, or the
/// blueprint's `overrides.quota`); it allows no LoadBalancer or NodePort
/// Service, so traffic enters only through the shared gateway. The LimitRange
/// gives a container that sets no requests or limits a service's defaults
/// (the ResourceQuota rejects a pod without them) and caps a container at
/// the largest limits the charts set.
pub(super) fn namespace_quota(
  namespace: &str,
  quota: &NamespaceQuota,
  limits: &LimitRange,
) -> Vec<String> {
  let metadata = |name: &str| ObjectMeta {
    name: name.to_string(),
    namespace: Some(namespace.to_string()),
    labels: None,
  };
  let amounts = |a: &Amounts| ContainerAmounts {
    cpu: a.cpu_text(),
    memory: a.memory_text(),
  };
  vec![
    to_yaml(&Object {
      api_version: "v1",
      kind: "ResourceQuota",
      metadata: metadata(QUOTA_NAME),
      rest: Rest::ResourceQuota {
        spec: QuotaSpec {
          hard: QuotaHard {
            limits_cpu: quota.limits.cpu_text(),
            limits_memory: quota.limits.memory_text(),
            pods: quota.pods.to_string(),
            requests_cpu: quota.requests.cpu_text(),
            requests_memory: quota.requests.memory_text(),
            services_loadbalancers: "0",
            services_nodeports: "0",
          },
        },
      },
    }),
    to_yaml(&Object {
      api_version: "v1",
      kind: "LimitRange",
      metadata: metadata(QUOTA_NAME),
      rest: Rest::LimitRange {
        spec: LimitRangeSpec {
          limits: vec![LimitRangeItem {
            default: amounts(&limits.default_limits),
            default_request: amounts(&limits.default_requests),
            max: amounts(&limits.max),
            kind: "Container",
          }],
        },
      },
    }),
  ]
}

/// The name of the namespace's ResourceQuota and LimitRange.
pub(crate) const QUOTA_NAME: &str = "compute";

#[derive(Serialize)]
struct QuotaSpec {
  hard: QuotaHard,
}

#[derive(Serialize)]
struct QuotaHard {
  #[serde(rename = "limits.cpu")]
  limits_cpu: String,
  #[serde(rename = "limits.memory")]
  limits_memory: String,
  pods: String,
  #[serde(rename = "requests.cpu")]
  requests_cpu: String,
  #[serde(rename = "requests.memory")]
  requests_memory: String,
  #[serde(rename = "services.loadbalancers")]
  services_loadbalancers: &'static str,
  #[serde(rename = "services.nodeports")]
  services_nodeports: &'static str,
}

#[derive(Serialize)]
struct LimitRangeSpec {
  limits: Vec<LimitRangeItem>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LimitRangeItem {
  default: ContainerAmounts,
  default_request: ContainerAmounts,
  max: ContainerAmounts,
  #[serde(rename = "type")]
  kind: &'static str,
}

#[derive(Serialize)]
struct ContainerAmounts {
  cpu: String,
  memory: String,
}

/// `cluster/manifests/addon-network-policies.yaml`: a NetworkPolicy per
/// add-on namespace whose inbound traffic is checked against the add-on's
/// pinned chart, denying every pod there all ingress its own policies do not
/// allow (egress stays open: the add-ons call AWS and the internet). Today
/// only external-dns: chart 1.21.1 runs one container whose only port is
/// 7979 (`http`: metrics and the kubelet's probes), its ServiceMonitor is
/// off and no webhook calls it, so nothing needs to reach it.
pub(super) fn addon_ingress_deny(namespaces: &[&str]) -> Vec<String> {
  namespaces
    .iter()
    .map(|namespace| {
      to_yaml(&Object {
        api_version: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: ObjectMeta {
          name: DEFAULT_DENY_INGRESS.to_string(),
          namespace: Some((*namespace).to_string()),
          labels: None,
        },
        rest: Rest::NetworkPolicy {
          spec: DenyAll {
            pod_selector: std::collections::BTreeMap::new(),
            policy_types: vec!["Ingress"],
          },
        },
      })
    })
    .collect()
}

/// The NetworkPolicy that denies an add-on namespace's pods all inbound
/// traffic.
pub(crate) const DEFAULT_DENY_INGRESS: &str = "default-deny-ingress";

fn to_yaml(value: &impl Serialize) -> String {
  crate::render::yaml::to_string(value)
}

/// A Kubernetes object without a `spec` (Namespace, Role, RoleBinding).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Object {
  api_version: &'static str,
  kind: &'static str,
  metadata: ObjectMeta,
  #[serde(flatten)]
  rest: Rest,
}

#[derive(Serialize)]
struct ObjectMeta {
  name: String,
  #[serde(skip_serializing_if = "Option::is_none")]
  namespace: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  labels: Option<std::collections::BTreeMap<String, String>>,
}

/// The NetworkPolicy that denies every pod of the platform's namespace all
/// traffic its own policies do not allow.
pub(crate) const DEFAULT_DENY: &str = "default-deny";

/// A NetworkPolicy spec that selects every pod and allows nothing.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DenyAll {
  pod_selector: std::collections::BTreeMap<String, String>,
  policy_types: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Rest {
  None {},
  Role {
    rules: Vec<PolicyRule>,
  },
  RoleBinding {
    #[serde(rename = "roleRef")]
    role_ref: RoleRef,
    subjects: Vec<Subject>,
  },
  NetworkPolicy {
    spec: DenyAll,
  },
  ResourceQuota {
    spec: QuotaSpec,
  },
  LimitRange {
    spec: LimitRangeSpec,
  },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PolicyRule {
  api_groups: Vec<&'static str>,
  resources: Vec<&'static str>,
  verbs: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RoleRef {
  pub(super) api_group: &'static str,
  pub(super) kind: &'static str,
  pub(super) name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Subject {
  pub(super) api_group: &'static str,
  pub(super) kind: &'static str,
  pub(super) name: String,
}

/// A Karpenter EC2NodeClass: how the nodes of one node group are launched
/// (`autoscaler: karpenter`).
pub(super) fn ec2_node_class(
  group: &ResolvedNodeGroup,
  node_role: &str,
  cluster: &str,
) -> Manifest<Ec2NodeClassSpec> {
  let discovery = || DiscoveryTerm {
    tags: [(KARPENTER_DISCOVERY_TAG, cluster.to_string())].into(),
  };
  Manifest {
    api_version: "karpenter.k8s.aws/v1",
    kind: "EC2NodeClass",
    metadata: Metadata::cluster_wide(&group.name),
    spec: Ec2NodeClassSpec {
      ami_selector_terms: vec![AmiSelectorTerm {
        alias: KARPENTER_AMI_ALIAS,
      }],
      block_device_mappings: vec![BlockDeviceMapping {
        device_name: "/dev/xvda",
        ebs: BlockDevice {
          delete_on_termination: true,
          encrypted: true,
          volume_size: format!("{}Gi", group.disk_size_gb),
          volume_type: "gp3",
        },
      }],
      metadata_options: MetadataOptions {
        http_endpoint: "enabled",
        http_put_response_hop_limit: 1,
        http_tokens: "required",
      },
      role: node_role.to_string(),
      security_group_selector_terms: vec![discovery()],
      subnet_selector_terms: vec![discovery()],
    },
  }
}

/// The tag Karpenter finds the node subnets and security group by; its value
/// is the cluster name (`vpc.tf`, `eks.tf`).
pub(crate) const KARPENTER_DISCOVERY_TAG: &str = "karpenter.sh/discovery";
/// The AMI of the Karpenter nodes: the newest EKS-optimized Amazon Linux 2023
/// image for the cluster's Kubernetes version (x86 or Arm, by instance type).
/// A new image is drift: Karpenter replaces the nodes, within the NodePool's
/// disruption budget.
const KARPENTER_AMI_ALIAS: &str = "al2023@latest";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Ec2NodeClassSpec {
  ami_selector_terms: Vec<AmiSelectorTerm>,
  block_device_mappings: Vec<BlockDeviceMapping>,
  metadata_options: MetadataOptions,
  role: String,
  security_group_selector_terms: Vec<DiscoveryTerm>,
  subnet_selector_terms: Vec<DiscoveryTerm>,
}

#[derive(Serialize)]
struct AmiSelectorTerm {
  alias: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BlockDeviceMapping {
  device_name: &'static str,
  ebs: BlockDevice,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BlockDevice {
  delete_on_termination: bool,
  encrypted: bool,
  volume_size: String,
  volume_type: &'static str,
}

/// IMDSv2 only, one hop: pods cannot read the node's credentials.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MetadataOptions {
  http_endpoint: &'static str,
  http_put_response_hop_limit: u32,
  http_tokens: &'static str,
}

#[derive(Serialize)]
struct DiscoveryTerm {
  tags: std::collections::BTreeMap<&'static str, String>,
}

/// A Karpenter NodePool: the instance types, capacity type and zones of one
/// node group, its EC2NodeClass, and a CPU limit of `maxSize` nodes of its
/// largest type.
pub(super) fn node_pool(
  group: &ResolvedNodeGroup,
  max_nodes: u32,
  zones: &[String],
) -> Manifest<NodePoolSpec> {
  node_pool_of_class(
    group,
    max_nodes,
    zones,
    NodeClassRef {
      group: "karpenter.k8s.aws",
      kind: "EC2NodeClass",
      name: group.name.clone(),
    },
  )
}

/// An EKS Auto Mode NodePool: the same as Karpenter's, on Auto Mode's
/// built-in `default` NodeClass (`eks.amazonaws.com/v1`), which the
/// cluster's built-in node pools keep in place.
pub(super) fn auto_mode_node_pool(
  group: &ResolvedNodeGroup,
  max_nodes: u32,
  zones: &[String],
) -> Manifest<NodePoolSpec> {
  node_pool_of_class(
    group,
    max_nodes,
    zones,
    NodeClassRef {
      group: "eks.amazonaws.com",
      kind: "NodeClass",
      name: "default".to_string(),
    },
  )
}

fn node_pool_of_class(
  group: &ResolvedNodeGroup,
  max_nodes: u32,
  zones: &[String],
  node_class_ref: NodeClassRef,
) -> Manifest<NodePoolSpec> {
  let requirement = |key, values: Vec<String>| Requirement {
    key,
    operator: "In",
    values,
  };
  let cpu = group
    .instance_types
    .iter()
    .map(|t| vcpus(t))
    .collect::<Option<Vec<u32>>>()
    .and_then(|counts| counts.into_iter().max())
    .map(|largest| (largest * max_nodes).to_string());
  Manifest {
    api_version: "karpenter.sh/v1",
    kind: "NodePool",
    metadata: Metadata::cluster_wide(&group.name),
    spec: NodePoolSpec {
      disruption: Disruption {
        consolidate_after: "1m",
        consolidation_policy: "WhenEmptyOrUnderutilized",
      },
      limits: cpu.map(|cpu| Limits { cpu }),
      template: NodeClaimTemplate {
        spec: NodeClaimSpec {
          expire_after: "720h",
          node_class_ref,
          requirements: vec![
            requirement(
              "node.kubernetes.io/instance-type",
              group.instance_types.clone(),
            ),
            requirement(
              "karpenter.sh/capacity-type",
              vec![
                match group.capacity {
                  CapacityType::OnDemand => "on-demand",
                  CapacityType::Spot => "spot",
                }
                .to_string(),
              ],
            ),
            requirement("topology.kubernetes.io/zone", zones.to_vec()),
          ],
        },
      },
    },
  }
}

/// vCPUs of an instance type from its size: `large` 2, `xlarge` 4,
/// `<n>xlarge` 4n, the sizes below `large` at most 2; `metal` sizes differ
/// by family (none).
pub(crate) fn vcpus(instance_type: &str) -> Option<u32> {
  let size = instance_type.split_once('.')?.1;
  match size {
    "nano" | "micro" | "small" | "medium" | "large" => Some(2),
    "xlarge" => Some(4),
    _ => size
      .strip_suffix("xlarge")
      .and_then(|n| n.parse::<u32>().ok())
      .map(|n| n * 4),
  }
}

#[derive(Serialize)]
pub(super) struct NodePoolSpec {
  disruption: Disruption,
  #[serde(skip_serializing_if = "Option::is_none")]
  limits: Option<Limits>,
  template: NodeClaimTemplate,
}

/// Empty and underused nodes are consolidated a minute after they become so.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Disruption {
  consolidate_after: &'static str,
  consolidation_policy: &'static str,
}

#[derive(Serialize)]
struct Limits {
  cpu: String,
}

#[derive(Serialize)]
struct NodeClaimTemplate {
  spec: NodeClaimSpec,
}

/// Nodes are replaced after 30 days at the latest.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NodeClaimSpec {
  expire_after: &'static str,
  node_class_ref: NodeClassRef,
  requirements: Vec<Requirement>,
}

#[derive(Serialize)]
struct NodeClassRef {
  group: &'static str,
  kind: &'static str,
  name: String,
}

#[derive(Serialize)]
struct Requirement {
  key: &'static str,
  operator: &'static str,
  values: Vec<String>,
}

/// The label that opts a namespace into the policy controller's admission.
pub(crate) const POLICY_INCLUDE_LABEL: &str = "policy.sigstore.dev/include";
/// The public Sigstore instance: Fulcio issues the signing certificates,
/// Rekor logs the signatures.
const FULCIO_URL: &str = "https://fulcio.sigstore.dev";
const REKOR_URL: &str = "https://rekor.sigstore.dev";

/// ClusterImagePolicy (policy.sigstore.dev/v1beta1): in the opted-in
/// namespaces, an image of `glob` runs only with a keyless signature by
/// `identity` (issued to `issuer`); an image no policy matches is refused
/// (the controller's no-match policy is deny).
pub(super) fn cluster_image_policy(
  name: &str,
  glob: String,
  issuer: &'static str,
  identity: String,
) -> Manifest<ImagePolicySpec> {
  Manifest {
    api_version: "policy.sigstore.dev/v1beta1",
    kind: "ClusterImagePolicy",
    metadata: Metadata::cluster_wide(name),
    spec: ImagePolicySpec {
      authorities: vec![Authority {
        ctlog: UrlRef { url: REKOR_URL },
        keyless: Keyless {
          identities: vec![Identity {
            issuer,
            subject: identity,
          }],
          url: FULCIO_URL,
        },
        name: "deploy-workflow",
      }],
      images: vec![ImageGlob { glob }],
      mode: "enforce",
    },
  }
}

#[derive(Serialize)]
pub(super) struct ImagePolicySpec {
  authorities: Vec<Authority>,
  images: Vec<ImageGlob>,
  mode: &'static str,
}

#[derive(Serialize)]
pub(super) struct ImageGlob {
  glob: String,
}

#[derive(Serialize)]
pub(super) struct Authority {
  ctlog: UrlRef,
  keyless: Keyless,
  name: &'static str,
}

#[derive(Serialize)]
pub(super) struct UrlRef {
  url: &'static str,
}

#[derive(Serialize)]
pub(super) struct Keyless {
  identities: Vec<Identity>,
  url: &'static str,
}

#[derive(Serialize)]
pub(super) struct Identity {
  issuer: &'static str,
  subject: String,
}
/// EKS Auto Mode enforces NetworkPolicy only once this ConfigMap turns its
/// Network Policy Controller on (AWS's "Use Network Policies with EKS Auto
/// Mode"): the platform's default-deny policies rely on it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct NetworkPolicyConfig {
  api_version: &'static str,
  kind: &'static str,
  metadata: Metadata,
  data: NetworkPolicyConfigData,
}

#[derive(Serialize)]
struct NetworkPolicyConfigData {
  #[serde(rename = "enable-network-policy-controller")]
  enable: &'static str,
}

pub(super) fn auto_mode_network_policy() -> NetworkPolicyConfig {
  NetworkPolicyConfig {
    api_version: "v1",
    kind: "ConfigMap",
    metadata: Metadata::namespaced("amazon-vpc-cni", "kube-system"),
    data: NetworkPolicyConfigData { enable: "true" },
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn an_addon_namespace_denies_ingress_and_leaves_egress_open() {
    let docs = addon_ingress_deny(&["external-dns"]);
    assert_eq!(
      docs,
      [
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: default-deny-ingress\n  namespace: external-dns\nspec:\n  podSelector: {}\n  policyTypes:\n  - Ingress\n"
      ]
    );
  }

  #[test]
  fn the_quota_and_limit_range_carry_the_computed_amounts() {
    use crate::blueprint::quota::{Amounts, LimitRange, NamespaceQuota};
    let quota = NamespaceQuota {
      requests: Amounts::parse("3650m", "3968Mi").unwrap(),
      limits: Amounts::parse("15", "15Gi").unwrap(),
      pods: 17,
    };
    let limits = LimitRange {
      default_requests: Amounts::parse("100m", "128Mi").unwrap(),
      default_limits: Amounts::parse("500m", "512Mi").unwrap(),
      max: Amounts::parse("1", "1Gi").unwrap(),
    };
    let docs = namespace_quota("shop", &quota, &limits);
    assert!(
      docs[0].contains(
        "  hard:\n    limits.cpu: '15'\n    limits.memory: 15Gi\n    pods: '17'\n    requests.cpu: 3650m\n    requests.memory: 3968Mi\n    services.loadbalancers: '0'\n    services.nodeports: '0'\n"
      ),
      "{}",
      docs[0]
    );
    assert!(docs[1].contains("kind: LimitRange\n"), "{}", docs[1]);
    assert!(
      docs[1].contains("    max:\n      cpu: '1'\n      memory: 1Gi\n    type: Container\n"),
      "{}",
      docs[1]
    );
  }

  #[test]
  fn the_platform_namespace_is_restricted_and_denies_by_default() {
    let docs = deployers("shop", "1.35", "shop-deployers", &[]);
    let namespace = &docs[0];
    for mode in ["enforce", "audit", "warn"] {
      assert!(
        namespace.contains(&format!("pod-security.kubernetes.io/{mode}: restricted\n")),
        "{namespace}"
      );
      assert!(
        namespace.contains(&format!(
          "pod-security.kubernetes.io/{mode}-version: v1.35\n"
        )),
        "{namespace}"
      );
    }
    let deny = &docs[1];
    assert!(deny.contains("kind: NetworkPolicy\n"), "{deny}");
    assert!(deny.contains("namespace: shop\n"), "{deny}");
    assert!(deny.contains("podSelector: {}\n"), "{deny}");
    assert!(deny.contains("- Ingress\n  - Egress\n"), "{deny}");
    assert!(
      !deny.contains("ingress:") && !deny.contains("egress:"),
      "{deny}"
    );
  }

  #[test]
  fn vcpus_follow_the_size() {
    assert_eq!(vcpus("m6i.large"), Some(2));
    assert_eq!(vcpus("t3.medium"), Some(2));
    assert_eq!(vcpus("c7g.xlarge"), Some(4));
    assert_eq!(vcpus("r6i.16xlarge"), Some(64));
    assert_eq!(vcpus("m6i.metal"), None);
    assert_eq!(vcpus("m7i.metal-24xl"), None);
  }

  fn group(instance_types: &[&str], capacity: CapacityType) -> ResolvedNodeGroup {
    ResolvedNodeGroup {
      name: "batch".into(),
      instance_types: instance_types.iter().map(ToString::to_string).collect(),
      capacity,
      disk_size_gb: 80,
      graviton: false,
    }
  }

  #[test]
  fn a_node_pool_is_limited_to_max_size_nodes_of_its_largest_type() {
    let zones = vec!["me-central-1a".to_string()];
    let pool = node_pool(
      &group(&["m6i.large", "m6i.2xlarge"], CapacityType::Spot),
      4,
      &zones,
    );
    let text = yaml_serde::to_string(&pool).unwrap();
    assert!(text.contains("limits:\n    cpu: '32'\n"), "{text}");
    assert!(text.contains("- spot\n"), "{text}");
    assert!(text.contains("name: batch\n"), "{text}");
    let metal = node_pool(&group(&["m6i.metal"], CapacityType::OnDemand), 4, &zones);
    let text = yaml_serde::to_string(&metal).unwrap();
    assert!(!text.contains("limits"), "{text}");
    assert!(text.contains("- on-demand\n"), "{text}");
  }

  #[test]
  fn an_ec2_node_class_finds_its_cluster_by_the_discovery_tag() {
    let class = ec2_node_class(
      &group(&["m6i.large"], CapacityType::OnDemand),
      "acme-dev-karpenter-node",
      "acme-dev",
    );
    let text = yaml_serde::to_string(&class).unwrap();
    assert!(text.contains("role: acme-dev-karpenter-node\n"), "{text}");
    assert_eq!(
      text.matches("karpenter.sh/discovery: acme-dev\n").count(),
      2,
      "{text}"
    );
    assert!(text.contains("volumeSize: 80Gi\n"), "{text}");
    assert!(text.contains("httpTokens: required\n"), "{text}");
  }
}
