//! The cluster add-ons: per-add-on values under `cluster/addons/`, the
//! cluster-wide objects under `cluster/manifests/`, and `cluster/install.sh
//! <environment>`, which installs them in order at the pinned versions.

use serde::Serialize;

use super::manifests;
use super::versions::{
  self, AddonChart, CERT_MANAGER, CLUSTER_AUTOSCALER, CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
  EXTERNAL_SECRETS, INGRESS_NGINX, KUBE_PROMETHEUS_STACK, METRICS_SERVER, NGINX_GATEWAY_FABRIC,
  TIGERA_OPERATOR,
};
use crate::blueprint::Resolved;
use crate::blueprint::model::Nginx;
use crate::names;
use crate::render::{Engine, Output};

/// The template of `cluster/install.sh`.
const INSTALL_TEMPLATE: &str = "cluster/install.sh.tera";
/// The template of `cluster/check-secrets.sh`.
const CHECK_SECRETS_TEMPLATE: &str = "cluster/check-secrets.sh.tera";

/// The shared Gateway every HTTPRoute attaches to, in NGINX Gateway Fabric's
/// namespace (NGF provisions its NGINX data plane next to it).
pub(crate) const GATEWAY_NAME: &str = "public";
pub(crate) const GATEWAY_NAMESPACE: &str = NGINX_GATEWAY_FABRIC.namespace;
pub(crate) const GATEWAY_CLASS: &str = "nginx";
/// IngressClass of ingress-nginx.
pub(crate) const INGRESS_CLASS: &str = "nginx";
pub(crate) const ISSUER_PRODUCTION: &str = "letsencrypt-production";
pub(crate) const ISSUER_STAGING: &str = "letsencrypt-staging";
const ACME_PRODUCTION: &str = "https://acme-v02.api.letsencrypt.org/directory";
const ACME_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";
/// Secret with Grafana's `admin-user`/`admin-password`, synced from Secrets
/// Manager `<platform>/<env>/grafana-admin`.
pub(crate) const GRAFANA_ADMIN_SECRET: &str = "grafana-admin";

/// Printed by `install.sh`; validation warns about the same choice when the
/// blueprint is read.
pub(crate) const INGRESS_NGINX_WARNING: &str = "ingress-nginx is retired upstream (no fixes after March 2026); prefer nginx: gateway (NGINX Gateway Fabric)";

/// One step of `install.sh`, in order.
#[derive(Debug, Serialize)]
struct InstallStep {
  /// `crds`, `chart`, `manifests`, `namespace` or `grafana-fallback`.
  kind: &'static str,
  title: String,
  #[serde(skip_serializing_if = "Option::is_none")]
  release: Option<&'static str>,
  #[serde(skip_serializing_if = "Option::is_none")]
  namespace: Option<&'static str>,
  #[serde(skip_serializing_if = "Option::is_none")]
  chart: Option<&'static str>,
  #[serde(skip_serializing_if = "Option::is_none")]
  repository: Option<&'static str>,
  #[serde(skip_serializing_if = "Option::is_none")]
  version: Option<&'static str>,
  /// Values files relative to `cluster/`; `{env}` is the environment.
  values: Vec<String>,
  /// Manifests (files or folders relative to `cluster/`) or a URL.
  #[serde(skip_serializing_if = "Vec::is_empty")]
  apply: Vec<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  warning: Option<&'static str>,
  /// An ExternalSecret that must be synced before the next step.
  #[serde(skip_serializing_if = "Option::is_none")]
  wait_for: Option<WaitFor>,
}

#[derive(Debug, Serialize)]
struct WaitFor {
  namespace: &'static str,
  name: &'static str,
  /// The Secrets Manager secret it reads.
  remote: String,
}

impl InstallStep {
  fn chart(chart: &AddonChart, title: &str, per_environment: bool) -> Self {
    let mut values = vec![format!("addons/{}/values.yaml", chart.release)];
    if per_environment {
      values.push(format!("addons/{}/values-{{env}}.yaml", chart.release));
    }
    Self {
      kind: "chart",
      title: title.to_string(),
      release: Some(chart.release),
      namespace: Some(chart.namespace),
      chart: Some(chart.chart),
      repository: chart.repository,
      version: Some(chart.version),
      values,
      apply: Vec::new(),
      warning: None,
      wait_for: None,
    }
  }

  fn other(kind: &'static str, title: &str, apply: Vec<String>) -> Self {
    Self {
      kind,
      title: title.to_string(),
      release: None,
      namespace: None,
      chart: None,
      repository: None,
      version: None,
      values: Vec::new(),
      apply,
      warning: None,
      wait_for: None,
    }
  }
}

#[derive(Serialize)]
struct InstallData {
  /// `check-secrets.sh` runs first.
  check_secrets: bool,
  platform: String,
  environments: Vec<String>,
  steps: Vec<InstallStep>,
}

fn yaml(value: &impl Serialize) -> String {
  yaml_serde::to_string(value).expect("plain data serializes")
}

/// Several documents, each serialized on its own, in one file.
fn documents(documents: &[String]) -> String {
  documents.join("---\n")
}

pub(crate) fn render(
  resolved: &Resolved,
  engine: &Engine,
  out: &mut Output,
) -> Result<(), tera::Error> {
  let selection = &resolved.addons;
  let mut steps = Vec::new();

  if selection.nginx == Nginx::Gateway {
    steps.push(InstallStep::other(
      "crds",
      &format!("Gateway API {} standard CRDs", versions::GATEWAY_API),
      vec![versions::gateway_api_crds_url()],
    ));
  }

  if selection.calico {
    out.add(
      format!("cluster/addons/{}/values.yaml", TIGERA_OPERATOR.release),
      yaml(&CalicoValues::new()),
    );
    steps.push(InstallStep::chart(
      &TIGERA_OPERATOR,
      "Calico (policy only, on the VPC CNI)",
      false,
    ));
  }

  out.add(
    format!("cluster/addons/{}/values.yaml", METRICS_SERVER.release),
    yaml(&MetricsServerValues::new()),
  );
  steps.push(InstallStep::chart(&METRICS_SERVER, "metrics-server", false));

  out.add(
    format!("cluster/addons/{}/values.yaml", CLUSTER_AUTOSCALER.release),
    yaml(&ClusterAutoscalerValues::new(resolved)),
  );
  for environment in &resolved.environments {
    out.add(
      format!(
        "cluster/addons/{}/values-{}.yaml",
        CLUSTER_AUTOSCALER.release, environment.name
      ),
      yaml(&ClusterAutoscalerEnvValues {
        auto_discovery: AutoDiscovery {
          cluster_name: environment.names.cluster.clone(),
        },
      }),
    );
  }
  steps.push(InstallStep::chart(
    &CLUSTER_AUTOSCALER,
    "Cluster Autoscaler",
    true,
  ));

  if selection.external_secrets {
    out.add(
      format!("cluster/addons/{}/values.yaml", EXTERNAL_SECRETS.release),
      yaml(&ExternalSecretsValues::new()),
    );
    out.add(
      "cluster/manifests/cluster-secret-store.yaml",
      yaml(&manifests::cluster_secret_store(&resolved.region)),
    );
    steps.push(InstallStep::chart(
      &EXTERNAL_SECRETS,
      "External Secrets Operator",
      false,
    ));
    steps.push(InstallStep::other(
      "manifests",
      "ClusterSecretStore (AWS Secrets Manager through Pod Identity)",
      vec!["manifests/cluster-secret-store.yaml".into()],
    ));
  }

  match selection.nginx {
    Nginx::Gateway => {
      out.add(
        format!(
          "cluster/addons/{}/values.yaml",
          NGINX_GATEWAY_FABRIC.release
        ),
        yaml(&NginxGatewayFabricValues::new()),
      );
      steps.push(InstallStep::other(
        "crds",
        &format!(
          "NGINX Gateway Fabric {} CRDs (Helm never upgrades them)",
          NGINX_GATEWAY_FABRIC.version
        ),
        vec![format!(
          "https://raw.githubusercontent.com/nginx/nginx-gateway-fabric/v{}/deploy/crds.yaml",
          NGINX_GATEWAY_FABRIC.version
        )],
      ));
      steps.push(InstallStep::chart(
        &NGINX_GATEWAY_FABRIC,
        "NGINX Gateway Fabric",
        false,
      ));
    }
    Nginx::Ingress => {
      out.add(
        format!("cluster/addons/{}/values.yaml", INGRESS_NGINX.release),
        yaml(&IngressNginxValues::new(selection.monitoring)),
      );
      let mut step = InstallStep::chart(&INGRESS_NGINX, "ingress-nginx (retired upstream)", false);
      step.warning = Some(INGRESS_NGINX_WARNING);
      steps.push(step);
    }
  }

  if let Some(email) = &selection.cert_manager {
    out.add(
      format!("cluster/addons/{}/values.yaml", CERT_MANAGER.release),
      yaml(&CertManagerValues::new(selection.nginx)),
    );
    out.add(
      "cluster/manifests/cluster-issuers.yaml",
      documents(&[
        yaml(&manifests::cluster_issuer(
          ISSUER_STAGING,
          ACME_STAGING,
          email,
          selection.nginx,
        )),
        yaml(&manifests::cluster_issuer(
          ISSUER_PRODUCTION,
          ACME_PRODUCTION,
          email,
          selection.nginx,
        )),
      ]),
    );
    steps.push(InstallStep::chart(&CERT_MANAGER, "cert-manager", false));
    steps.push(InstallStep::other(
      "manifests",
      "Let's Encrypt ClusterIssuers",
      vec!["manifests/cluster-issuers.yaml".into()],
    ));
  }

  if selection.nginx == Nginx::Gateway {
    for environment in &resolved.environments {
      let hosts = resolved.hosts(&environment.name);
      out.add(
        format!("cluster/manifests/{}/gateway.yaml", environment.name),
        documents(&[
          yaml(&manifests::gateway(
            &resolved.namespace,
            &hosts,
            selection.cert_manager.is_some(),
          )),
          yaml(&manifests::redirect_route()),
        ]),
      );
    }
    steps.push(InstallStep::other(
      "manifests",
      "the shared Gateway and its HTTP to HTTPS redirect",
      vec!["manifests/{env}/gateway.yaml".into()],
    ));
  }

  if selection.monitoring {
    out.add(
      format!(
        "cluster/addons/{}/values.yaml",
        KUBE_PROMETHEUS_STACK.release
      ),
      yaml(&KubePrometheusStackValues::new(selection.grafana)),
    );
    let mut namespace = InstallStep::other("namespace", "monitoring namespace", Vec::new());
    namespace.namespace = Some(KUBE_PROMETHEUS_STACK.namespace);
    steps.push(namespace);
    if selection.grafana {
      if selection.external_secrets {
        for environment in &resolved.environments {
          out.add(
            format!("cluster/manifests/{}/grafana-admin.yaml", environment.name),
            yaml(&manifests::grafana_admin(&format!(
              "{}{}",
              environment.names.secret_scope,
              names::GRAFANA_ADMIN_KEY
            ))),
          );
        }
        let mut step = InstallStep::other(
          "manifests",
          "Grafana admin credentials from Secrets Manager",
          vec!["manifests/{env}/grafana-admin.yaml".into()],
        );
        step.wait_for = Some(WaitFor {
          namespace: KUBE_PROMETHEUS_STACK.namespace,
          name: GRAFANA_ADMIN_SECRET,
          remote: format!("{}{}", shell_scope(resolved), names::GRAFANA_ADMIN_KEY),
        });
        steps.push(step);
      } else {
        let mut fallback = InstallStep::other(
          "grafana-fallback",
          "Grafana admin credentials (random, kept in the cluster)",
          Vec::new(),
        );
        fallback.namespace = Some(KUBE_PROMETHEUS_STACK.namespace);
        steps.push(fallback);
      }
    }
    steps.push(InstallStep::chart(
      &KUBE_PROMETHEUS_STACK,
      "kube-prometheus-stack",
      false,
    ));
  }

  if selection.external_secrets {
    out.add(
      crate::render::engine::output_path(CHECK_SECRETS_TEMPLATE, None, None),
      engine.render(CHECK_SECRETS_TEMPLATE, &CheckSecretsData::new(resolved))?,
    );
  }

  let data = InstallData {
    check_secrets: selection.external_secrets,
    platform: resolved.name.clone(),
    environments: resolved
      .environments
      .iter()
      .map(|e| e.name.clone())
      .collect(),
    steps,
  };
  out.add(
    crate::render::engine::output_path(INSTALL_TEMPLATE, None, None),
    engine.render(INSTALL_TEMPLATE, &data)?,
  );
  Ok(())
}

/// An environment's secret scope in the scripts, which hold the environment
/// in `$env`: `<platform>/$env/`.
fn shell_scope(resolved: &Resolved) -> String {
  format!("{}/$env/", resolved.name)
}

/// `cluster/check-secrets.sh`: every secret of an environment, each with the
/// JSON keys it must hold and whether Terraform generates its value.
#[derive(Serialize)]
struct CheckSecretsData {
  platform: String,
  region: String,
  environments: Vec<String>,
  secrets: Vec<CheckedSecret>,
}

#[derive(Serialize)]
struct CheckedSecret {
  /// Its name, with `$env` for the environment.
  name: String,
  /// Who writes the value: `terraform` or `you`.
  filled_by: &'static str,
  /// The JSON keys of its value.
  properties: Vec<String>,
}

impl CheckSecretsData {
  fn new(resolved: &Resolved) -> Self {
    let scope = shell_scope(resolved);
    let mut secrets = Vec::new();
    if resolved.addons.grafana {
      secrets.push(CheckedSecret {
        name: format!("{scope}{}", names::GRAFANA_ADMIN_KEY),
        filled_by: "terraform",
        properties: vec!["password".into(), "username".into()],
      });
    }
    if resolved.database.is_some() {
      secrets.push(CheckedSecret {
        name: format!("{scope}{}", names::DATABASE_KEY),
        filled_by: "terraform",
        properties: vec!["dbname".into(), "host".into(), "port".into()],
      });
      for service in resolved.services.iter().filter(|s| s.uses_database) {
        secrets.push(CheckedSecret {
          name: format!("{scope}{}", names::database_role_key(&service.name)),
          filled_by: "terraform",
          properties: vec!["password".into(), "username".into()],
        });
      }
    }
    for secret in &resolved.user_secrets {
      secrets.push(CheckedSecret {
        name: format!("{scope}{}", secret.key),
        filled_by: "you",
        properties: secret.properties.clone(),
      });
    }
    Self {
      platform: resolved.name.clone(),
      region: resolved.region.clone(),
      environments: resolved
        .environments
        .iter()
        .map(|e| e.name.clone())
        .collect(),
      secrets,
    }
  }
}

// The add-on values, one struct family per add-on. Fields are in alphabetical
// order, the order of the keys in the values files.

/// A `{ enabled: … }` switch.
#[derive(Serialize)]
struct Enabled {
  enabled: bool,
}

#[derive(Serialize)]
struct ServiceAccount {
  create: bool,
  name: &'static str,
}

/// The annotation that makes the AWS load balancer controller (or the
/// in-tree provider) create an NLB.
#[derive(Serialize)]
struct NlbAnnotations {
  #[serde(rename = "service.beta.kubernetes.io/aws-load-balancer-type")]
  load_balancer_type: &'static str,
}

const NLB: NlbAnnotations = NlbAnnotations {
  load_balancer_type: "nlb",
};

/// Calico in policy-only mode on top of the VPC CNI.
#[derive(Serialize)]
struct CalicoValues {
  installation: CalicoInstallation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CalicoInstallation {
  cni: CalicoCni,
  kubernetes_provider: &'static str,
}

#[derive(Serialize)]
struct CalicoCni {
  #[serde(rename = "type")]
  kind: &'static str,
}

impl CalicoValues {
  fn new() -> Self {
    Self {
      installation: CalicoInstallation {
        cni: CalicoCni { kind: "AmazonVPC" },
        kubernetes_provider: "EKS",
      },
    }
  }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MetricsServerValues {
  pod_disruption_budget: PodDisruptionBudget,
  replicas: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PodDisruptionBudget {
  enabled: bool,
  max_unavailable: u32,
}

impl MetricsServerValues {
  fn new() -> Self {
    Self {
      pod_disruption_budget: PodDisruptionBudget {
        enabled: true,
        max_unavailable: 1,
      },
      replicas: 2,
    }
  }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClusterAutoscalerValues {
  aws_region: String,
  cloud_provider: &'static str,
  extra_args: ClusterAutoscalerArgs,
  image: ImageTag,
  rbac: Rbac,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ClusterAutoscalerArgs {
  balance_similar_node_groups: bool,
  expander: &'static str,
  skip_nodes_with_system_pods: bool,
}

#[derive(Serialize)]
struct ImageTag {
  tag: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rbac {
  service_account: ServiceAccount,
}

impl ClusterAutoscalerValues {
  fn new(resolved: &Resolved) -> Self {
    Self {
      aws_region: resolved.region.clone(),
      cloud_provider: "aws",
      extra_args: ClusterAutoscalerArgs {
        balance_similar_node_groups: true,
        expander: "least-waste",
        skip_nodes_with_system_pods: false,
      },
      image: ImageTag {
        tag: versions::cluster_autoscaler_image(&resolved.kubernetes_version).unwrap_or(""),
      },
      rbac: Rbac {
        service_account: ServiceAccount {
          create: true,
          name: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
        },
      },
    }
  }
}

/// `values-<env>.yaml` of the Cluster Autoscaler: the cluster whose node
/// groups it discovers.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClusterAutoscalerEnvValues {
  auto_discovery: AutoDiscovery,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AutoDiscovery {
  cluster_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalSecretsValues {
  #[serde(rename = "installCRDs")]
  install_crds: bool,
  service_account: ServiceAccount,
}

impl ExternalSecretsValues {
  fn new() -> Self {
    Self {
      install_crds: true,
      service_account: ServiceAccount {
        create: true,
        name: names::ESO_SERVICE_ACCOUNT,
      },
    }
  }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NginxGatewayFabricValues {
  /// The NGINX data plane NGF provisions for the Gateway.
  nginx: NginxDataPlane,
  /// The NGF control plane.
  nginx_gateway: NginxGatewayControl,
}

#[derive(Serialize)]
struct NginxDataPlane {
  service: NginxService,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NginxService {
  external_traffic_policy: &'static str,
  patches: Vec<ServicePatch>,
  #[serde(rename = "type")]
  kind: &'static str,
}

#[derive(Serialize)]
struct ServicePatch {
  #[serde(rename = "type")]
  kind: &'static str,
  value: PatchValue,
}

#[derive(Serialize)]
struct PatchValue {
  metadata: PatchMetadata,
}

#[derive(Serialize)]
struct PatchMetadata {
  annotations: NlbAnnotations,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NginxGatewayControl {
  gateway_class_name: &'static str,
  product_telemetry: ProductTelemetry,
}

#[derive(Serialize)]
struct ProductTelemetry {
  enable: bool,
}

impl NginxGatewayFabricValues {
  fn new() -> Self {
    Self {
      nginx: NginxDataPlane {
        service: NginxService {
          external_traffic_policy: "Local",
          patches: vec![ServicePatch {
            kind: "StrategicMerge",
            value: PatchValue {
              metadata: PatchMetadata { annotations: NLB },
            },
          }],
          kind: "LoadBalancer",
        },
      },
      nginx_gateway: NginxGatewayControl {
        gateway_class_name: GATEWAY_CLASS,
        product_telemetry: ProductTelemetry { enable: false },
      },
    }
  }
}

#[derive(Serialize)]
struct IngressNginxValues {
  controller: IngressNginxController,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IngressNginxController {
  allow_snippet_annotations: bool,
  ingress_class: &'static str,
  ingress_class_resource: IngressClassResource,
  metrics: ControllerMetrics,
  service: ControllerService,
}

#[derive(Serialize)]
struct IngressClassResource {
  default: bool,
  name: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ControllerMetrics {
  enabled: bool,
  service_monitor: Enabled,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ControllerService {
  annotations: NlbAnnotations,
  external_traffic_policy: &'static str,
}

impl IngressNginxValues {
  fn new(monitoring: bool) -> Self {
    Self {
      controller: IngressNginxController {
        allow_snippet_annotations: false,
        ingress_class: INGRESS_CLASS,
        ingress_class_resource: IngressClassResource {
          default: false,
          name: INGRESS_CLASS,
        },
        metrics: ControllerMetrics {
          enabled: monitoring,
          service_monitor: Enabled {
            enabled: monitoring,
          },
        },
        service: ControllerService {
          annotations: NLB,
          external_traffic_policy: "Local",
        },
      },
    }
  }
}

#[derive(Serialize)]
struct CertManagerValues {
  config: ControllerConfiguration,
  crds: Enabled,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ControllerConfiguration {
  api_version: &'static str,
  #[serde(rename = "enableGatewayAPI")]
  enable_gateway_api: bool,
  kind: &'static str,
}

impl CertManagerValues {
  fn new(nginx: Nginx) -> Self {
    Self {
      config: ControllerConfiguration {
        api_version: "controller.config.cert-manager.io/v1alpha1",
        enable_gateway_api: nginx == Nginx::Gateway,
        kind: "ControllerConfiguration",
      },
      crds: Enabled { enabled: true },
    }
  }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KubePrometheusStackValues {
  grafana: GrafanaValues,
  // EKS runs the control plane: these components cannot be scraped.
  kube_controller_manager: Enabled,
  kube_etcd: Enabled,
  kube_proxy: Enabled,
  kube_scheduler: Enabled,
  prometheus: Prometheus,
}

#[derive(Serialize)]
struct GrafanaValues {
  /// Only when Grafana is on.
  #[serde(skip_serializing_if = "Option::is_none")]
  admin: Option<GrafanaAdmin>,
  enabled: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GrafanaAdmin {
  existing_secret: &'static str,
  password_key: &'static str,
  user_key: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Prometheus {
  prometheus_spec: PrometheusSpec,
}

/// Prometheus selects every ServiceMonitor, PodMonitor, rule, probe and
/// scrape config, not only the chart's own.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PrometheusSpec {
  pod_monitor_selector_nil_uses_helm_values: bool,
  probe_selector_nil_uses_helm_values: bool,
  retention: &'static str,
  rule_selector_nil_uses_helm_values: bool,
  scrape_config_selector_nil_uses_helm_values: bool,
  service_monitor_selector_nil_uses_helm_values: bool,
}

impl KubePrometheusStackValues {
  fn new(grafana: bool) -> Self {
    let off = || Enabled { enabled: false };
    Self {
      grafana: GrafanaValues {
        admin: grafana.then_some(GrafanaAdmin {
          existing_secret: GRAFANA_ADMIN_SECRET,
          password_key: "admin-password",
          user_key: "admin-user",
        }),
        enabled: grafana,
      },
      kube_controller_manager: off(),
      kube_etcd: off(),
      kube_proxy: off(),
      kube_scheduler: off(),
      prometheus: Prometheus {
        prometheus_spec: PrometheusSpec {
          pod_monitor_selector_nil_uses_helm_values: false,
          probe_selector_nil_uses_helm_values: false,
          retention: "15d",
          rule_selector_nil_uses_helm_values: false,
          scrape_config_selector_nil_uses_helm_values: false,
          service_monitor_selector_nil_uses_helm_values: false,
        },
      },
    }
  }
}
