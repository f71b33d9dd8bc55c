//! The cluster-wide objects under `cluster/manifests/`, serialized from typed
//! structs: one struct family per kind. Fields are in alphabetical order, the
//! order of the keys in the manifests.

use serde::Serialize;

use super::addons::{
  GATEWAY_CLASS, GATEWAY_NAME, GATEWAY_NAMESPACE, GRAFANA_ADMIN_SECRET, ISSUER_PRODUCTION,
};
use super::values::https_listener;
use super::versions::KUBE_PROMETHEUS_STACK;
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
pub(super) struct StoreCondition {
  namespaces: Vec<String>,
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
) -> Manifest<SecretStoreSpec> {
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
      conditions: vec![StoreCondition { namespaces }],
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
  match_labels: NamespaceName,
}

#[derive(Serialize)]
pub(super) struct NamespaceName {
  #[serde(rename = "kubernetes.io/metadata.name")]
  name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListenerTls {
  certificate_refs: Vec<KindRef>,
  mode: &'static str,
}

/// The shared Gateway: an HTTP listener for redirects,
/// and one HTTPS listener per host, its certificate issued by cert-manager.
/// Only routes in the application namespace attach to the HTTPS listeners.
pub(super) fn gateway(
  app_namespace: &str,
  hosts: &[String],
  cert_manager: bool,
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
          match_labels: NamespaceName {
            name: app_namespace.to_string(),
          },
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
      listeners: std::iter::once(http).chain(https).collect(),
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
  Manifest {
    api_version: "external-secrets.io/v1",
    kind: "ExternalSecret",
    metadata: Metadata::namespaced(GRAFANA_ADMIN_SECRET, KUBE_PROMETHEUS_STACK.namespace),
    spec: ExternalSecretSpec {
      data: vec![
        key("admin-user", "username"),
        key("admin-password", "password"),
      ],
      refresh_interval: "1h",
      secret_store_ref: KindRef {
        kind: "ClusterSecretStore",
        name: names::SECRET_STORE.to_string(),
      },
      target: SecretTarget {
        creation_policy: "Owner",
        name: GRAFANA_ADMIN_SECRET,
      },
    },
  }
}

/// `cluster/manifests/deployers.yaml`: the platform's namespace, and what
/// the deploy role's Kubernetes group may do in it beyond its access policy
/// (AmazonEKSEditPolicy, which covers no custom resources): the custom
/// resources the service charts create. Applied by `install.sh` with
/// cluster-admin, never by the deploy.
pub(super) fn deployers(
  namespace: &str,
  group: &str,
  custom_resources: &[(&'static str, &'static str)],
) -> Vec<String> {
  let metadata = |name: &str| ObjectMeta {
    name: name.to_string(),
    namespace: Some(namespace.to_string()),
  };
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
      },
      rest: Rest::None {},
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

fn to_yaml(value: &impl Serialize) -> String {
  yaml_serde::to_string(value).expect("plain data serializes")
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
struct RoleRef {
  api_group: &'static str,
  kind: &'static str,
  name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Subject {
  api_group: &'static str,
  kind: &'static str,
  name: String,
}
