//! GitOps delivery with Argo CD (`spec.delivery.mode: argocd`): the argo-cd
//! chart's values, each environment's AppProject and Applications (one per
//! service), and the image pins the workflows commit.
//!
//! Each environment's cluster runs its own Argo CD, installed by
//! `cluster/install.sh` with the other add-ons. Its Applications sync each
//! service's chart from this repository with the environment's values file
//! and the environment's image pin `deploy/<env>/images/<service>.yaml`,
//! which oi-gen seeds once and the Deploy and Release workflows rewrite (one
//! commit per promotion).

use serde::Serialize;

use super::manifests::{RoleRef, Subject};
use super::versions::ARGO_CD;
use crate::blueprint::Resolved;
use crate::blueprint::resolved::{ResolvedEnvironment, ResolvedService};

/// The AppProject and the Applications of one environment.
pub(crate) fn applications_path(environment: &str) -> String {
  format!("cluster/manifests/{environment}/applications.yaml")
}

/// The image pin of a service in an environment, relative to the repository.
pub(crate) fn image_pin_path(environment: &str, service: &str) -> String {
  format!("deploy/{environment}/images/{service}.yaml")
}

/// The in-cluster API server, the one destination of every Application.
pub(crate) const IN_CLUSTER: &str = "https://kubernetes.default.svc";

/// With the EKS managed capability, the name of the cluster Secret that
/// registers the local cluster by its ARN (the capability does not register
/// it, and does not know `https://kubernetes.default.svc`): the destination
/// of every Application (`cluster/manifests/argocd-capability.yaml`).
pub(crate) const LOCAL_CLUSTER: &str = "in-cluster";

/// Where an Application of this platform deploys: the in-cluster server
/// with the chart, the registered local cluster by name when managed.
fn destination(resolved: &Resolved) -> Destination {
  let managed = resolved.managed_argocd.is_some();
  Destination {
    name: managed.then_some(LOCAL_CLUSTER),
    namespace: resolved.namespace.clone(),
    server: (!managed).then_some(IN_CLUSTER),
  }
}

/// The HTTPS clone URL of the repository Argo CD reads.
pub(crate) fn repo_url(resolved: &Resolved) -> String {
  format!("https://github.com/{}.git", resolved.repository)
}

// The argo-cd chart's values (charts/argo-cd/values.yaml at argo-cd-10.1.1).
// Fields are in alphabetical order, the order of the keys in the file.

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ArgoCdValues {
  application_set: Replicas,
  configs: Configs,
  dex: Enabled,
  /// The objects' names without the release's prefix: `argocd-server`,
  /// `argocd-repo-server`, as Argo CD's own manifests name them.
  fullname_override: &'static str,
  global: Global,
  notifications: Enabled,
}

#[derive(Serialize)]
struct Replicas {
  replicas: u32,
}

#[derive(Serialize)]
struct Enabled {
  enabled: bool,
}

#[derive(Serialize)]
struct Configs {
  cm: ConfigMap,
  params: Params,
}

/// `argocd-cm`: the local admin stays (its password is the random one in
/// `argocd-initial-admin-secret`, never in the values), everything else that
/// opens access is off.
#[derive(Serialize)]
struct ConfigMap {
  #[serde(rename = "admin.enabled")]
  admin_enabled: bool,
  #[serde(rename = "exec.enabled")]
  exec_enabled: bool,
  #[serde(rename = "statusbadge.enabled")]
  statusbadge_enabled: bool,
  #[serde(rename = "users.anonymous.enabled")]
  users_anonymous_enabled: bool,
}

/// `argocd-cmd-params-cm`: the API server serves TLS itself.
#[derive(Serialize)]
struct Params {
  #[serde(rename = "server.insecure")]
  server_insecure: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Global {
  network_policy: ChartNetworkPolicy,
}

/// The chart's own NetworkPolicies, one per component, each letting in only
/// what that component serves.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChartNetworkPolicy {
  create: bool,
  default_deny_ingress: bool,
}

impl ArgoCdValues {
  pub(crate) fn new() -> Self {
    Self {
      // Applications are written out per service; no ApplicationSet.
      application_set: Replicas { replicas: 0 },
      configs: Configs {
        cm: ConfigMap {
          admin_enabled: true,
          exec_enabled: false,
          statusbadge_enabled: false,
          users_anonymous_enabled: false,
        },
        params: Params {
          server_insecure: false,
        },
      },
      // No SSO until you configure one (see the README): Dex stays off.
      dex: Enabled { enabled: false },
      fullname_override: "argocd",
      global: Global {
        network_policy: ChartNetworkPolicy {
          create: true,
          default_deny_ingress: true,
        },
      },
      notifications: Enabled { enabled: false },
    }
  }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Object<S> {
  api_version: &'static str,
  kind: &'static str,
  metadata: Metadata,
  spec: S,
}

#[derive(Serialize)]
struct Metadata {
  name: String,
  namespace: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProjectSpec {
  /// None: the charts create namespaced objects only.
  cluster_resource_whitelist: Vec<GroupKind>,
  description: String,
  destinations: Vec<Destination>,
  /// The managed capability requires it: the one namespace of its
  /// Applications.
  #[serde(skip_serializing_if = "Option::is_none")]
  source_namespaces: Option<Vec<&'static str>>,
  source_repos: Vec<String>,
}

#[derive(Serialize)]
struct GroupKind {
  group: String,
  kind: String,
}

#[derive(Serialize)]
struct Destination {
  #[serde(skip_serializing_if = "Option::is_none")]
  name: Option<&'static str>,
  namespace: String,
  #[serde(skip_serializing_if = "Option::is_none")]
  server: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApplicationSpec {
  destination: Destination,
  project: String,
  source: Source,
  #[serde(skip_serializing_if = "Option::is_none")]
  sync_policy: Option<SyncPolicy>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Source {
  helm: Helm,
  path: String,
  #[serde(rename = "repoURL")]
  repo_url: String,
  target_revision: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Helm {
  release_name: String,
  /// Relative to the chart's folder.
  value_files: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SyncPolicy {
  automated: Automated,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Automated {
  prune: bool,
  self_heal: bool,
}

/// The values files an Application passes to Helm, relative to its chart's
/// folder `charts/<service>/`: the environment's values, then its image pin.
pub(crate) fn value_files(environment: &str, service: &str) -> Vec<String> {
  vec![
    format!("values-{environment}.yaml"),
    format!("../../{}", image_pin_path(environment, service)),
  ]
}

/// The AppProject of the platform in one environment: this repository's
/// charts, into the platform's namespace of this cluster, nothing
/// cluster-wide.
fn project(resolved: &Resolved, environment: &ResolvedEnvironment) -> Object<ProjectSpec> {
  Object {
    api_version: "argoproj.io/v1alpha1",
    kind: "AppProject",
    metadata: Metadata {
      name: resolved.name.clone(),
      namespace: ARGO_CD.namespace,
    },
    spec: ProjectSpec {
      cluster_resource_whitelist: Vec::new(),
      description: format!(
        "The services of {} in {}, from {}",
        resolved.name, environment.name, resolved.repository
      ),
      destinations: vec![destination(resolved)],
      source_namespaces: resolved
        .managed_argocd
        .is_some()
        .then(|| vec![ARGO_CD.namespace]),
      source_repos: vec![repo_url(resolved)],
    },
  }
}

/// One service's Application in one environment: automated sync with
/// self-heal, or a manual sync where the environment waits for approval.
fn application(
  resolved: &Resolved,
  environment: &ResolvedEnvironment,
  service: &ResolvedService,
) -> Object<ApplicationSpec> {
  Object {
    api_version: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: Metadata {
      name: service.name.clone(),
      namespace: ARGO_CD.namespace,
    },
    spec: ApplicationSpec {
      destination: destination(resolved),
      project: resolved.name.clone(),
      source: Source {
        helm: Helm {
          release_name: service.name.clone(),
          value_files: value_files(&environment.name, &service.name),
        },
        path: format!("charts/{}", service.name),
        repo_url: repo_url(resolved),
        target_revision: resolved.branch.clone(),
      },
      sync_policy: (!environment.approval).then_some(SyncPolicy {
        automated: Automated {
          prune: true,
          self_heal: true,
        },
      }),
    },
  }
}

/// The documents of `cluster/manifests/<env>/applications.yaml`.
pub(crate) fn manifests(resolved: &Resolved, environment: &ResolvedEnvironment) -> Vec<String> {
  std::iter::once(yaml(&project(resolved, environment)))
    .chain(
      resolved
        .services
        .iter()
        .map(|service| yaml(&application(resolved, environment, service))),
    )
    .collect()
}

/// The first text of an image pin, before any promotion: no digest yet, so
/// the Application reports that the chart needs one until the first deploy
/// commits it. The workflows rewrite the whole file in this layout.
pub(crate) fn image_pin_seed(
  environment: &ResolvedEnvironment,
  service: &ResolvedService,
) -> String {
  let mut text = String::from(PIN_HEADER);
  text.push_str("image:\n");
  if environment.registry.is_none() {
    text.push_str("  registry: \"\"\n");
  }
  text.push_str("  digest: \"\"\n");
  if service.runs_migrations {
    text.push_str("migrations:\n  image:\n    digest: \"\"\ndatabase:\n  secretArn: \"\"\n");
  }
  text
}

/// The comment at the top of every image pin (the workflows write it too).
pub(crate) const PIN_HEADER: &str = "# The images Argo CD runs here, pinned by the Deploy and Release workflows:\n# one commit per promotion, reverted to roll back. Seeded once by oi-gen.\n";

fn yaml(value: &impl Serialize) -> String {
  crate::render::yaml::to_string(value)
}

/// `cluster/manifests/argocd-capability.yaml` (managed capability): the
/// cluster Secret that registers this cluster with its Argo CD, limited to
/// the platform's namespace and its AppProject, and the RoleBinding that
/// gives the capability's access entry (which EKS creates without any
/// Kubernetes permission) the charts' custom resources there, the Role of
/// `cluster/manifests/deployers.yaml`; `infra/argocd.tf` associates
/// AmazonEKSEditPolicy in that namespace for the rest. `cluster/install.sh` fills in the cluster's and the role's
/// ARNs, which only AWS knows.
pub(crate) fn capability_manifests(resolved: &Resolved) -> Vec<String> {
  let namespace = resolved.namespace.clone();
  let name = format!("{}-argocd", resolved.name);
  vec![
    yaml(&ClusterSecret {
      api_version: "v1",
      kind: "Secret",
      metadata: LabelledMetadata {
        labels: [("argocd.argoproj.io/secret-type", "cluster")].into(),
        name: LOCAL_CLUSTER,
        namespace: ARGO_CD.namespace,
      },
      string_data: ClusterSecretData {
        cluster_resources: "false",
        name: LOCAL_CLUSTER,
        namespaces: namespace.clone(),
        project: resolved.name.clone(),
        server: CLUSTER_ARN_PLACEHOLDER,
      },
      type_: "Opaque",
    }),
    yaml(&RoleBinding {
      api_version: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: NamespacedMetadata {
        name: name.clone(),
        namespace: namespace.clone(),
      },
      role_ref: RoleRef {
        api_group: "rbac.authorization.k8s.io",
        kind: "Role",
        name: crate::names::deployers_group(&resolved.platform),
      },
      subjects: vec![Subject {
        api_group: "rbac.authorization.k8s.io",
        kind: "Group",
        name: format!("eks-access-entry:{ROLE_ARN_PLACEHOLDER}"),
      }],
    }),
  ]
}

/// Filled in by `cluster/install.sh` with `aws eks describe-cluster`.
pub(crate) const CLUSTER_ARN_PLACEHOLDER: &str = "CLUSTER_ARN";
/// Filled in by `cluster/install.sh` with `aws eks describe-capability`.
pub(crate) const ROLE_ARN_PLACEHOLDER: &str = "ARGOCD_ROLE_ARN";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClusterSecret {
  api_version: &'static str,
  kind: &'static str,
  metadata: LabelledMetadata,
  string_data: ClusterSecretData,
  #[serde(rename = "type")]
  type_: &'static str,
}

#[derive(Serialize)]
struct LabelledMetadata {
  labels: std::collections::BTreeMap<&'static str, &'static str>,
  name: &'static str,
  namespace: &'static str,
}

/// Argo CD's cluster Secret: `namespaces` keeps Argo CD to the platform's
/// namespace (it watches nothing else, so it needs no cluster-wide read).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClusterSecretData {
  cluster_resources: &'static str,
  name: &'static str,
  namespaces: String,
  project: String,
  server: &'static str,
}

#[derive(Serialize)]
struct NamespacedMetadata {
  name: String,
  namespace: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RoleBinding {
  api_version: &'static str,
  kind: &'static str,
  metadata: NamespacedMetadata,
  role_ref: RoleRef,
  subjects: Vec<Subject>,
}

/// `cluster/manifests/argocd-readers.yaml`: what the deploy role's group may
/// do in the namespace `argocd`: read the Applications, so that a deploy
/// waits for its environment's Argo CD before the next promotion. Applied by
/// `cluster/install.sh` once the namespace exists.
pub(crate) fn readers_manifests(resolved: &Resolved) -> Vec<String> {
  let group = crate::names::argocd_readers_group(&resolved.platform);
  let metadata = || NamespacedMetadata {
    name: group.clone(),
    namespace: ARGO_CD.namespace.to_owned(),
  };
  vec![
    yaml(&Role {
      api_version: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: metadata(),
      rules: vec![Rule {
        api_groups: vec!["argoproj.io"],
        resources: vec!["applications"],
        verbs: vec!["get", "list", "watch"],
      }],
    }),
    yaml(&RoleBinding {
      api_version: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: metadata(),
      role_ref: RoleRef {
        api_group: "rbac.authorization.k8s.io",
        kind: "Role",
        name: group.clone(),
      },
      subjects: vec![Subject {
        api_group: "rbac.authorization.k8s.io",
        kind: "Group",
        name: group.clone(),
      }],
    }),
  ]
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Role {
  api_version: &'static str,
  kind: &'static str,
  metadata: NamespacedMetadata,
  rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
  api_groups: Vec<&'static str>,
  resources: Vec<&'static str>,
  verbs: Vec<&'static str>,
}
