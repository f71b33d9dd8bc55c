//! The cluster add-ons: per-add-on values under `cluster/addons/`, the
//! cluster-wide objects under `cluster/manifests/`, and `cluster/install.sh
//! <environment>`, which installs them in order at the pinned versions.

use serde::Serialize;
use serde_json::{Value, json};

use super::values::{Addons, https_listener};
use super::versions::{
  self, AddonChart, CERT_MANAGER, CLUSTER_AUTOSCALER, CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
  EXTERNAL_SECRETS, INGRESS_NGINX, KUBE_PROMETHEUS_STACK, METRICS_SERVER, NGINX_GATEWAY_FABRIC,
  TIGERA_OPERATOR,
};
use crate::blueprint::Platform;
use crate::blueprint::model::{NetworkPolicy, Nginx};
use crate::names;
use crate::render::{Engine, Output};

/// The shared Gateway every HTTPRoute attaches to, in NGINX Gateway Fabric's
/// namespace (NGF provisions its NGINX data plane next to it).
pub const GATEWAY_NAME: &str = "public";
pub const GATEWAY_NAMESPACE: &str = NGINX_GATEWAY_FABRIC.namespace;
pub const GATEWAY_CLASS: &str = "nginx";
/// IngressClass of ingress-nginx.
pub const INGRESS_CLASS: &str = "nginx";
pub const ISSUER_PRODUCTION: &str = "letsencrypt-production";
pub const ISSUER_STAGING: &str = "letsencrypt-staging";
const ACME_PRODUCTION: &str = "https://acme-v02.api.letsencrypt.org/directory";
const ACME_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";
/// Secret with Grafana's `admin-user`/`admin-password`, synced from Secrets
/// Manager `<platform>/grafana-admin`.
pub const GRAFANA_ADMIN_SECRET: &str = "grafana-admin";

/// Printed by `install.sh`; validation warns about the same choice when the
/// blueprint is read.
pub const INGRESS_NGINX_WARNING: &str = "ingress-nginx is retired upstream (no fixes after March 2026); prefer nginx: gateway (NGINX Gateway Fabric)";

/// The add-ons a blueprint turns on.
#[derive(Debug, Clone)]
pub struct Selection {
  pub nginx: Nginx,
  pub cert_manager: Option<String>,
  pub external_secrets: bool,
  pub monitoring: bool,
  pub grafana: bool,
  pub calico: bool,
}

impl Selection {
  pub fn of(platform: &Platform) -> Self {
    let addons = platform.spec.cluster.addons.clone().unwrap_or_default();
    let monitoring = addons.monitoring.as_ref().and_then(|m| m.settings());
    let cert_manager = addons.cert_manager.as_ref().and_then(|c| c.settings());
    Self {
      nginx: platform.nginx(),
      cert_manager: cert_manager.map(|c| c.acme_email.unwrap_or_default()),
      external_secrets: Addons::of(platform).external_secrets,
      monitoring: monitoring.is_some(),
      grafana: monitoring.is_some_and(|m| m.grafana),
      calico: platform.network_policy() == NetworkPolicy::Calico,
    }
  }
}

/// One step of `install.sh`, in order.
#[derive(Debug, Serialize)]
struct Step {
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

impl Step {
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
  platform: String,
  environments: Vec<String>,
  steps: Vec<Step>,
}

fn yaml(value: &impl Serialize) -> String {
  serde_yaml_ng::to_string(value).expect("plain data serializes")
}

/// Several documents in one file.
fn documents(values: &[Value]) -> String {
  values.iter().map(yaml).collect::<Vec<_>>().join("---\n")
}

pub fn render(platform: &Platform, engine: &Engine, out: &mut Output) -> Result<(), tera::Error> {
  let selection = Selection::of(platform);
  let mut steps = Vec::new();

  if selection.nginx == Nginx::Gateway {
    steps.push(Step::other(
      "crds",
      &format!("Gateway API {} standard CRDs", versions::GATEWAY_API),
      vec![versions::gateway_api_crds_url()],
    ));
  }

  if selection.calico {
    out.managed(
      format!("cluster/addons/{}/values.yaml", TIGERA_OPERATOR.release),
      yaml(&calico_values()),
    );
    steps.push(Step::chart(
      &TIGERA_OPERATOR,
      "Calico (policy only, on the VPC CNI)",
      false,
    ));
  }

  out.managed(
    format!("cluster/addons/{}/values.yaml", METRICS_SERVER.release),
    yaml(&metrics_server_values()),
  );
  steps.push(Step::chart(&METRICS_SERVER, "metrics-server", false));

  out.managed(
    format!("cluster/addons/{}/values.yaml", CLUSTER_AUTOSCALER.release),
    yaml(&cluster_autoscaler_values(platform)),
  );
  for environment in &platform.spec.environments {
    out.managed(
      format!(
        "cluster/addons/{}/values-{}.yaml",
        CLUSTER_AUTOSCALER.release, environment.name
      ),
      yaml(&json!({
        "autoDiscovery": { "clusterName": names::cluster(platform, environment) },
      })),
    );
  }
  steps.push(Step::chart(&CLUSTER_AUTOSCALER, "Cluster Autoscaler", true));

  if selection.external_secrets {
    out.managed(
      format!("cluster/addons/{}/values.yaml", EXTERNAL_SECRETS.release),
      yaml(&external_secrets_values()),
    );
    out.managed(
      "cluster/manifests/cluster-secret-store.yaml",
      yaml(&cluster_secret_store(platform)),
    );
    steps.push(Step::chart(
      &EXTERNAL_SECRETS,
      "External Secrets Operator",
      false,
    ));
    steps.push(Step::other(
      "manifests",
      "ClusterSecretStore (AWS Secrets Manager through Pod Identity)",
      vec!["manifests/cluster-secret-store.yaml".into()],
    ));
  }

  match selection.nginx {
    Nginx::Gateway => {
      out.managed(
        format!(
          "cluster/addons/{}/values.yaml",
          NGINX_GATEWAY_FABRIC.release
        ),
        yaml(&nginx_gateway_fabric_values()),
      );
      steps.push(Step::other(
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
      steps.push(Step::chart(
        &NGINX_GATEWAY_FABRIC,
        "NGINX Gateway Fabric",
        false,
      ));
    }
    Nginx::Ingress => {
      out.managed(
        format!("cluster/addons/{}/values.yaml", INGRESS_NGINX.release),
        yaml(&ingress_nginx_values(selection.monitoring)),
      );
      let mut step = Step::chart(&INGRESS_NGINX, "ingress-nginx (retired upstream)", false);
      step.warning = Some(INGRESS_NGINX_WARNING);
      steps.push(step);
    }
  }

  if let Some(email) = &selection.cert_manager {
    out.managed(
      format!("cluster/addons/{}/values.yaml", CERT_MANAGER.release),
      yaml(&cert_manager_values(selection.nginx)),
    );
    out.managed(
      "cluster/manifests/cluster-issuers.yaml",
      documents(&[
        cluster_issuer(ISSUER_STAGING, ACME_STAGING, email, selection.nginx),
        cluster_issuer(ISSUER_PRODUCTION, ACME_PRODUCTION, email, selection.nginx),
      ]),
    );
    steps.push(Step::chart(&CERT_MANAGER, "cert-manager", false));
    steps.push(Step::other(
      "manifests",
      "Let's Encrypt ClusterIssuers",
      vec!["manifests/cluster-issuers.yaml".into()],
    ));
  }

  if selection.nginx == Nginx::Gateway {
    for environment in &platform.spec.environments {
      let hosts = hosts(platform, environment);
      out.managed(
        format!("cluster/manifests/{}/gateway.yaml", environment.name),
        documents(&[
          gateway(platform, &hosts, selection.cert_manager.is_some()),
          redirect_route(),
        ]),
      );
    }
    steps.push(Step::other(
      "manifests",
      "the shared Gateway and its HTTP to HTTPS redirect",
      vec!["manifests/{env}/gateway.yaml".into()],
    ));
  }

  if selection.monitoring {
    out.managed(
      format!(
        "cluster/addons/{}/values.yaml",
        KUBE_PROMETHEUS_STACK.release
      ),
      yaml(&kube_prometheus_stack_values(selection.grafana)),
    );
    let mut namespace = Step::other("namespace", "monitoring namespace", Vec::new());
    namespace.namespace = Some(KUBE_PROMETHEUS_STACK.namespace);
    steps.push(namespace);
    if selection.grafana {
      if selection.external_secrets {
        out.managed(
          "cluster/manifests/grafana-admin.yaml",
          yaml(&grafana_admin(platform)),
        );
        let mut step = Step::other(
          "manifests",
          "Grafana admin credentials from Secrets Manager",
          vec!["manifests/grafana-admin.yaml".into()],
        );
        step.wait_for = Some(WaitFor {
          namespace: KUBE_PROMETHEUS_STACK.namespace,
          name: GRAFANA_ADMIN_SECRET,
          remote: grafana_secret_name(platform),
        });
        steps.push(step);
      } else {
        let mut fallback = Step::other(
          "grafana-fallback",
          "Grafana admin credentials (random, kept in the cluster)",
          Vec::new(),
        );
        fallback.namespace = Some(KUBE_PROMETHEUS_STACK.namespace);
        steps.push(fallback);
      }
    }
    steps.push(Step::chart(
      &KUBE_PROMETHEUS_STACK,
      "kube-prometheus-stack",
      false,
    ));
  }

  let data = InstallData {
    platform: platform.name().to_string(),
    environments: platform.environment_names(),
    steps,
  };
  out.managed(
    "cluster/install.sh",
    engine.render("cluster/install.sh.tera", &data)?,
  );
  Ok(())
}

/// Public hosts of an environment, each once, in service order.
pub fn hosts(
  platform: &Platform,
  environment: &crate::blueprint::model::Environment,
) -> Vec<String> {
  let mut hosts: Vec<String> = Vec::new();
  for service in &platform.spec.services {
    if let Some(host) = platform.host(service, environment)
      && !hosts.contains(&host)
    {
      hosts.push(host);
    }
  }
  hosts
}

fn calico_values() -> Value {
  json!({
    "installation": {
      "kubernetesProvider": "EKS",
      "cni": { "type": "AmazonVPC" },
    },
  })
}

fn metrics_server_values() -> Value {
  json!({
    "replicas": 2,
    "podDisruptionBudget": { "enabled": true, "maxUnavailable": 1 },
  })
}

fn cluster_autoscaler_values(platform: &Platform) -> Value {
  let image = versions::cluster_autoscaler_image(&platform.kubernetes_version());
  json!({
    "cloudProvider": "aws",
    "awsRegion": platform.region(),
    "image": { "tag": image.unwrap_or("") },
    "rbac": {
      "serviceAccount": { "create": true, "name": CLUSTER_AUTOSCALER_SERVICE_ACCOUNT },
    },
    "extraArgs": {
      "balance-similar-node-groups": true,
      "expander": "least-waste",
      "skip-nodes-with-system-pods": false,
    },
  })
}

fn external_secrets_values() -> Value {
  json!({
    "installCRDs": true,
    "serviceAccount": { "create": true, "name": names::ESO_SERVICE_ACCOUNT },
  })
}

fn nginx_gateway_fabric_values() -> Value {
  json!({
    "nginxGateway": {
      "gatewayClassName": GATEWAY_CLASS,
      "productTelemetry": { "enable": false },
    },
    "nginx": {
      "service": {
        "type": "LoadBalancer",
        "externalTrafficPolicy": "Local",
        "patches": [{
          "type": "StrategicMerge",
          "value": {
            "metadata": {
              "annotations": { "service.beta.kubernetes.io/aws-load-balancer-type": "nlb" },
            },
          },
        }],
      },
    },
  })
}

fn ingress_nginx_values(monitoring: bool) -> Value {
  json!({
    "controller": {
      "ingressClassResource": { "name": INGRESS_CLASS, "default": false },
      "ingressClass": INGRESS_CLASS,
      "allowSnippetAnnotations": false,
      "service": {
        "externalTrafficPolicy": "Local",
        "annotations": { "service.beta.kubernetes.io/aws-load-balancer-type": "nlb" },
      },
      "metrics": { "enabled": monitoring, "serviceMonitor": { "enabled": monitoring } },
    },
  })
}

fn cert_manager_values(nginx: Nginx) -> Value {
  json!({
    "crds": { "enabled": true },
    "config": {
      "apiVersion": "controller.config.cert-manager.io/v1alpha1",
      "kind": "ControllerConfiguration",
      "enableGatewayAPI": nginx == Nginx::Gateway,
    },
  })
}

fn kube_prometheus_stack_values(grafana: bool) -> Value {
  let mut grafana_values = json!({ "enabled": grafana });
  if grafana {
    grafana_values = json!({
      "enabled": true,
      "admin": {
        "existingSecret": GRAFANA_ADMIN_SECRET,
        "userKey": "admin-user",
        "passwordKey": "admin-password",
      },
    });
  }
  json!({
    "prometheus": {
      "prometheusSpec": {
        "serviceMonitorSelectorNilUsesHelmValues": false,
        "podMonitorSelectorNilUsesHelmValues": false,
        "ruleSelectorNilUsesHelmValues": false,
        "probeSelectorNilUsesHelmValues": false,
        "scrapeConfigSelectorNilUsesHelmValues": false,
        "retention": "15d",
      },
    },
    "grafana": grafana_values,
    // EKS runs the control plane: these components cannot be scraped.
    "kubeControllerManager": { "enabled": false },
    "kubeScheduler": { "enabled": false },
    "kubeEtcd": { "enabled": false },
    "kubeProxy": { "enabled": false },
  })
}

pub fn cluster_secret_store(platform: &Platform) -> Value {
  json!({
    "apiVersion": "external-secrets.io/v1",
    "kind": "ClusterSecretStore",
    "metadata": { "name": names::SECRET_STORE },
    "spec": {
      "provider": {
        "aws": { "service": "SecretsManager", "region": platform.region() },
      },
    },
  })
}

fn cluster_issuer(name: &str, server: &str, email: &str, nginx: Nginx) -> Value {
  let solver = match nginx {
    Nginx::Gateway => json!({
      "http01": {
        "gatewayHTTPRoute": {
          "parentRefs": [{
            "name": GATEWAY_NAME,
            "namespace": GATEWAY_NAMESPACE,
            "kind": "Gateway",
            "sectionName": "http",
          }],
        },
      },
    }),
    Nginx::Ingress => json!({
      "http01": { "ingress": { "ingressClassName": INGRESS_CLASS } },
    }),
  };
  let mut acme = json!({
    "server": server,
    "privateKeySecretRef": { "name": format!("{name}-account") },
    "solvers": [solver],
  });
  if !email.is_empty() {
    acme["email"] = json!(email);
  }
  json!({
    "apiVersion": "cert-manager.io/v1",
    "kind": "ClusterIssuer",
    "metadata": { "name": name },
    "spec": { "acme": acme },
  })
}

/// The shared Gateway: an HTTP listener for redirects and ACME challenges,
/// and one HTTPS listener per host, its certificate issued by cert-manager.
fn gateway(platform: &Platform, hosts: &[String], cert_manager: bool) -> Value {
  let app_namespace = names::app_namespace(platform);
  let mut listeners = vec![json!({
    "name": "http",
    "protocol": "HTTP",
    "port": 80,
    "allowedRoutes": { "namespaces": { "from": "Same" } },
  })];
  for host in hosts {
    listeners.push(json!({
      "name": https_listener(host),
      "hostname": host,
      "protocol": "HTTPS",
      "port": 443,
      "tls": {
        "mode": "Terminate",
        "certificateRefs": [{ "kind": "Secret", "name": format!("tls-{host}") }],
      },
      "allowedRoutes": {
        "namespaces": {
          "from": "Selector",
          "selector": { "matchLabels": { "kubernetes.io/metadata.name": app_namespace } },
        },
      },
    }));
  }
  let mut metadata = json!({ "name": GATEWAY_NAME, "namespace": GATEWAY_NAMESPACE });
  if cert_manager {
    metadata["annotations"] = json!({ "cert-manager.io/cluster-issuer": ISSUER_PRODUCTION });
  }
  json!({
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "Gateway",
    "metadata": metadata,
    "spec": { "gatewayClassName": GATEWAY_CLASS, "listeners": listeners },
  })
}

/// Every plain-HTTP request is redirected to HTTPS; cert-manager's exact-path
/// challenge routes outrank it.
fn redirect_route() -> Value {
  json!({
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "HTTPRoute",
    "metadata": { "name": "https-redirect", "namespace": GATEWAY_NAMESPACE },
    "spec": {
      "parentRefs": [{ "name": GATEWAY_NAME, "sectionName": "http" }],
      "rules": [{
        "filters": [{
          "type": "RequestRedirect",
          "requestRedirect": { "scheme": "https", "statusCode": 301 },
        }],
      }],
    },
  })
}

fn grafana_admin(platform: &Platform) -> Value {
  json!({
    "apiVersion": "external-secrets.io/v1",
    "kind": "ExternalSecret",
    "metadata": { "name": GRAFANA_ADMIN_SECRET, "namespace": KUBE_PROMETHEUS_STACK.namespace },
    "spec": {
      "refreshInterval": "1h",
      "secretStoreRef": { "kind": "ClusterSecretStore", "name": names::SECRET_STORE },
      "target": { "name": GRAFANA_ADMIN_SECRET, "creationPolicy": "Owner" },
      "data": [
        {
          "secretKey": "admin-user",
          "remoteRef": { "key": grafana_secret_name(platform), "property": "username" },
        },
        {
          "secretKey": "admin-password",
          "remoteRef": { "key": grafana_secret_name(platform), "property": "password" },
        },
      ],
    },
  })
}

/// The Secrets Manager secret holding Grafana's admin credentials (JSON with
/// `username` and `password`), under the platform's prefix that External
/// Secrets may read.
pub fn grafana_secret_name(platform: &Platform) -> String {
  format!("{}/grafana-admin", platform.name())
}
