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

/// The credentials of Alertmanager's receivers: each `(in-scope key, JSON
/// property, Secret key)` of `receivers`, read from `<scope><key>` into the
/// Secret Alertmanager mounts.
pub(super) fn alertmanager_receivers(
  scope: &str,
  receivers: &[(&'static str, &'static str, &'static str)],
) -> Manifest<ExternalSecretSpec> {
  Manifest {
    api_version: "external-secrets.io/v1",
    kind: "ExternalSecret",
    metadata: Metadata::namespaced(RECEIVERS_SECRET, KUBE_PROMETHEUS_STACK.namespace),
    spec: ExternalSecretSpec {
      data: receivers
        .iter()
        .map(|(key, property, secret_key)| SecretData {
          remote_ref: RemoteRef {
            key: format!("{scope}{key}"),
            property,
          },
          secret_key,
        })
        .collect(),
      refresh_interval: "1h",
      secret_store_ref: KindRef {
        kind: "ClusterSecretStore",
        name: names::SECRET_STORE.to_string(),
      },
      target: SecretTarget {
        creation_policy: "Owner",
        name: RECEIVERS_SECRET,
      },
    },
  }
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
pub(super) fn storage_class() -> StorageClass {
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
    provisioner: "ebs.csi.aws.com",
    reclaim_policy: "Delete",
    volume_binding_mode: "WaitForFirstConsumer",
  }
}
