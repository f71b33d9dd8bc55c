//! The cluster add-ons: per-add-on values under `cluster/addons/`, the
//! cluster-wide objects under `cluster/manifests/`, and `cluster/install.sh
//! <environment>`, which installs them in order at the pinned versions.

use serde::Serialize;

use super::manifests;
use super::versions::{
  self, AWS_LOAD_BALANCER_CONTROLLER, AWS_LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT, AddonChart,
  CERT_MANAGER, CERT_MANAGER_SERVICE_ACCOUNT, CLUSTER_AUTOSCALER,
  CLUSTER_AUTOSCALER_SERVICE_ACCOUNT, ChartCrds, EXTERNAL_DNS, EXTERNAL_DNS_SERVICE_ACCOUNT,
  EXTERNAL_SECRETS, INGRESS_NGINX, KARPENTER, KARPENTER_SERVICE_ACCOUNT, KUBE_PROMETHEUS_STACK,
  METRICS_SERVER, NGINX_GATEWAY_FABRIC, POLICY_CONTROLLER, POLICY_CONTROLLER_SERVICE_ACCOUNT,
  TIGERA_OPERATOR,
};
use crate::blueprint::Resolved;
use crate::blueprint::model::{Autoscaler, Nginx};
use crate::blueprint::resolved::{EnvironmentDns, MonitoringSettings};
use crate::names;
use crate::render::{Engine, Output};
use crate::versions::{PinnedManifest, Versions};

/// The template of `cluster/install.sh`.
const INSTALL_TEMPLATE: &str = "cluster/install.sh.tera";
/// The default StorageClass, its KMS key filled in by `install.sh`.
const STORAGE_CLASS_MANIFEST: &str = "cluster/manifests/storage-class.yaml";
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
  chart: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  repository: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  version: Option<String>,
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
  /// `crds`: remote manifests, each checked against its sha256.
  #[serde(skip_serializing_if = "Vec::is_empty")]
  crds: Vec<PinnedManifest>,
  /// `include-namespace`: the namespace opted into the image admission.
  #[serde(skip_serializing_if = "Option::is_none")]
  target: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  label: Option<&'static str>,
}

#[derive(Debug, Serialize)]
struct WaitFor {
  namespace: &'static str,
  name: &'static str,
  /// The Secrets Manager secrets it reads.
  remote: String,
  /// The comment above the wait: who reads it, what it holds.
  note: Vec<String>,
}

impl InstallStep {
  fn chart(versions: &Versions, chart: &AddonChart, title: &str, per_environment: bool) -> Self {
    let pin = versions.get(chart.component);
    let mut values = vec![format!("addons/{}/values.yaml", chart.release)];
    if per_environment {
      values.push(format!("addons/{}/values-{{env}}.yaml", chart.release));
    }
    Self {
      kind: "chart",
      title: title.to_string(),
      release: Some(chart.release),
      namespace: Some(chart.namespace),
      chart: pin.chart.clone(),
      repository: pin.repository.clone(),
      version: Some(pin.version.clone()),
      values,
      apply: Vec::new(),
      warning: None,
      wait_for: None,
      crds: Vec::new(),
      target: None,
      label: None,
    }
  }

  /// `chart-crds`: the CRDs in the pinned chart's `crds/` folder, applied
  /// server-side (Helm installs those once and never upgrades them).
  fn chart_crds(versions: &Versions, chart: &AddonChart) -> Self {
    let mut step = Self::chart(versions, chart, "", false);
    step.kind = "chart-crds";
    step.title = format!(
      "CRDs of the {} chart {} (helm upgrade never updates them)",
      chart.release,
      versions.version(chart.component)
    );
    step.values = Vec::new();
    step
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
      crds: Vec::new(),
      target: None,
      label: None,
    }
  }
}

/// Adds a chart's steps: its CRDs first when Helm would not upgrade them.
fn push_chart(
  versions: &Versions,
  steps: &mut Vec<InstallStep>,
  chart: &AddonChart,
  title: &str,
  per_environment: bool,
) {
  if chart.crds == ChartCrds::Folder {
    steps.push(InstallStep::chart_crds(versions, chart));
  }
  steps.push(InstallStep::chart(versions, chart, title, per_environment));
}

#[derive(Serialize)]
struct InstallData {
  /// `check-secrets.sh` runs first.
  check_secrets: bool,
  platform: String,
  environments: Vec<String>,
  /// A step downloads pinned manifests (curl and sha256sum are needed).
  remote_crds: bool,
  steps: Vec<InstallStep>,
  region: String,
  /// The environment's KMS key by its alias (`infra/kms.tf`), with `$env`.
  kms_alias: String,
  kms_placeholder: &'static str,
  /// `spec.delivery.argocd.managed`: the names the capability's step reads.
  argocd_capability: Option<ArgoCdCapabilityData>,
}

/// What install.sh needs to register the cluster with its managed Argo CD.
#[derive(Serialize)]
struct ArgoCdCapabilityData {
  /// The environment's cluster, with `$env`.
  cluster: String,
  /// `aws eks describe-capability --capability-name`.
  name: &'static str,
  /// Its Applications' namespace, created here when the capability has not.
  namespace: &'static str,
  cluster_placeholder: &'static str,
  role_placeholder: &'static str,
}

fn yaml(value: &impl Serialize) -> String {
  crate::render::yaml::to_string(value)
}

/// Several documents, each serialized on its own, in one file.
fn documents(documents: &[String]) -> String {
  documents.join("---\n")
}

/// The custom resources the service charts create (API group, resource),
/// which the deploy role's group may manage in the platform's namespace: no
/// EKS access policy covers them.
pub(crate) fn deployer_custom_resources(resolved: &Resolved) -> Vec<(&'static str, &'static str)> {
  let selection = &resolved.addons;
  [
    (
      selection.external_secrets,
      ("external-secrets.io", "externalsecrets"),
    ),
    (
      selection.nginx == Nginx::Gateway,
      ("gateway.networking.k8s.io", "httproutes"),
    ),
    (
      selection.monitoring,
      ("monitoring.coreos.com", "servicemonitors"),
    ),
  ]
  .into_iter()
  .filter_map(|(on, resource)| on.then_some(resource))
  .collect()
}

pub(crate) fn render(
  resolved: &Resolved,
  engine: &Engine,
  out: &mut Output,
) -> Result<(), tera::Error> {
  let selection = &resolved.addons;
  let mut steps = Vec::new();

  out.add(
    STORAGE_CLASS_MANIFEST,
    yaml(&manifests::storage_class(resolved.auto_mode)),
  );
  steps.push(InstallStep::other(
    "storage-class",
    &format!(
      "the default StorageClass {} (gp3, encrypted with the environment's KMS key)",
      names::STORAGE_CLASS
    ),
    vec![STORAGE_CLASS_MANIFEST.trim_start_matches("cluster/").into()],
  ));

  if resolved.auto_mode {
    auto_mode(resolved, out, &mut steps);
  }

  // The monitoring CRDs come first: ingress-nginx and cert-manager create
  // their ServiceMonitors with their releases.
  if selection.monitoring {
    steps.push(InstallStep::chart_crds(
      &resolved.versions,
      &KUBE_PROMETHEUS_STACK,
    ));
  }

  if selection.nginx == Nginx::Gateway {
    let mut step = InstallStep::other(
      "crds",
      &format!(
        "Gateway API {} standard CRDs",
        resolved.versions.version(versions::GATEWAY_API)
      ),
      Vec::new(),
    );
    step.crds = resolved.versions.get(versions::GATEWAY_API).manifests();
    steps.push(step);
  }

  if resolved.autoscaler == Autoscaler::Karpenter {
    karpenter(resolved, out, &mut steps);
  }

  if selection.calico {
    out.add(
      format!("cluster/addons/{}/values.yaml", TIGERA_OPERATOR.release),
      yaml(&CalicoValues::new()),
    );
    push_chart(
      &resolved.versions,
      &mut steps,
      &TIGERA_OPERATOR,
      "Calico (policy only, on the VPC CNI)",
      false,
    );
  }

  out.add(
    format!("cluster/addons/{}/values.yaml", METRICS_SERVER.release),
    yaml(&MetricsServerValues::new()),
  );
  steps.push(InstallStep::chart(
    &resolved.versions,
    &METRICS_SERVER,
    "metrics-server",
    false,
  ));

  if resolved.cluster_autoscaler() {
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
      &resolved.versions,
      &CLUSTER_AUTOSCALER,
      "Cluster Autoscaler",
      true,
    ));
  }

  if selection.external_secrets {
    out.add(
      format!("cluster/addons/{}/values.yaml", EXTERNAL_SECRETS.release),
      yaml(&ExternalSecretsValues::new()),
    );
    out.add(
      "cluster/manifests/cluster-secret-store.yaml",
      yaml(&manifests::cluster_secret_store(
        &resolved.region,
        std::iter::once(resolved.namespace.clone())
          .chain(
            (selection.grafana
              || (selection.monitoring && selection.monitoring_settings.has_receivers()))
            .then(|| KUBE_PROMETHEUS_STACK.namespace.to_string()),
          )
          .collect(),
        resolved.previews.is_some(),
      )),
    );
    steps.push(InstallStep::chart(
      &resolved.versions,
      &EXTERNAL_SECRETS,
      "External Secrets Operator (its CRDs are templates, upgraded with the release)",
      false,
    ));
    steps.push(InstallStep::other(
      "manifests",
      "ClusterSecretStore (AWS Secrets Manager through Pod Identity)",
      vec!["manifests/cluster-secret-store.yaml".into()],
    ));
  }

  if !resolved.auto_mode {
    load_balancer_controller(resolved, out, &mut steps);
  }

  match selection.nginx {
    Nginx::Gateway => {
      out.add(
        format!(
          "cluster/addons/{}/values.yaml",
          NGINX_GATEWAY_FABRIC.release
        ),
        yaml(&NginxGatewayFabricValues::new(resolved.auto_mode)),
      );
      push_chart(
        &resolved.versions,
        &mut steps,
        &NGINX_GATEWAY_FABRIC,
        "NGINX Gateway Fabric",
        false,
      );
    }
    Nginx::Ingress => {
      out.add(
        format!("cluster/addons/{}/values.yaml", INGRESS_NGINX.release),
        yaml(&IngressNginxValues::new(
          selection.monitoring,
          resolved.auto_mode,
        )),
      );
      let mut step = InstallStep::chart(
        &resolved.versions,
        &INGRESS_NGINX,
        "ingress-nginx (retired upstream)",
        false,
      );
      step.warning = Some(INGRESS_NGINX_WARNING);
      steps.push(step);
    }
  }

  out.add(
    format!("cluster/addons/{}/values.yaml", EXTERNAL_DNS.release),
    yaml(&ExternalDnsValues::new(&resolved.region, selection.nginx)),
  );
  for environment in &resolved.environments {
    out.add(
      format!(
        "cluster/addons/{}/values-{}.yaml",
        EXTERNAL_DNS.release, environment.name
      ),
      yaml(&ExternalDnsEnvValues::new(
        &environment.dns,
        &resolved
          .environments
          .iter()
          .filter(|other| other.name != environment.name)
          .map(|other| &other.dns)
          .collect::<Vec<_>>(),
      )),
    );
  }
  push_chart(
    &resolved.versions,
    &mut steps,
    &EXTERNAL_DNS,
    "external-dns (Route53 records of the hosts)",
    true,
  );
  out.add(
    "cluster/manifests/addon-network-policies.yaml",
    documents(&manifests::addon_ingress_deny(&[EXTERNAL_DNS.namespace])),
  );
  steps.push(InstallStep::other(
    "manifests",
    "no inbound traffic to the external-dns namespace",
    vec!["manifests/addon-network-policies.yaml".into()],
  ));

  if let Some(email) = &selection.cert_manager {
    out.add(
      format!("cluster/addons/{}/values.yaml", CERT_MANAGER.release),
      yaml(&CertManagerValues::new(
        selection.nginx,
        selection.monitoring,
      )),
    );
    for environment in &resolved.environments {
      let issuer = |name: &str, server| {
        yaml(&manifests::cluster_issuer(
          name,
          server,
          email,
          &resolved.region,
          &environment.dns.domain,
        ))
      };
      out.add(
        format!(
          "cluster/manifests/{}/cluster-issuers.yaml",
          environment.name
        ),
        documents(&[
          issuer(ISSUER_STAGING, ACME_STAGING),
          issuer(ISSUER_PRODUCTION, ACME_PRODUCTION),
        ]),
      );
    }
    steps.push(InstallStep::chart(
      &resolved.versions,
      &CERT_MANAGER,
      "cert-manager (its CRDs are templates, upgraded with the release)",
      false,
    ));
    steps.push(InstallStep::other(
      "manifests",
      "Let's Encrypt ClusterIssuers (DNS-01 on Route53)",
      vec!["manifests/{env}/cluster-issuers.yaml".into()],
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
            resolved
              .previews
              .as_ref()
              .filter(|p| p.environment == environment.name)
              .map(|_| environment.dns.domain.as_str()),
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
      yaml(&KubePrometheusStackValues::new(
        selection.grafana,
        &selection.monitoring_settings,
      )),
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
        let remote = format!("{}{}", shell_scope(resolved), names::GRAFANA_ADMIN_KEY);
        step.wait_for = Some(WaitFor {
          namespace: KUBE_PROMETHEUS_STACK.namespace,
          name: GRAFANA_ADMIN_SECRET,
          note: vec![
            "Grafana reads its admin credentials from Secrets Manager secret".into(),
            format!("{remote} (JSON with `username` and `password`), which"),
            "Terraform generates.".into(),
          ],
          remote,
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
    let settings = &selection.monitoring_settings;
    if settings.has_receivers() && selection.external_secrets {
      let receivers: Vec<_> = [
        (settings.email.is_some(), names::ALERTMANAGER_EMAIL),
        (settings.slack.is_some(), names::ALERTMANAGER_SLACK),
        (settings.pagerduty, names::ALERTMANAGER_PAGERDUTY),
      ]
      .into_iter()
      .filter_map(|(on, receiver)| on.then_some(receiver))
      .collect();
      for environment in &resolved.environments {
        out.add(
          format!(
            "cluster/manifests/{}/alertmanager-receivers.yaml",
            environment.name
          ),
          yaml(&manifests::alertmanager_receivers(
            &environment.names.secret_scope,
            &receivers,
          )),
        );
      }
      let mut step = InstallStep::other(
        "manifests",
        "Alertmanager receivers' credentials from Secrets Manager",
        vec!["manifests/{env}/alertmanager-receivers.yaml".into()],
      );
      let scope = shell_scope(resolved);
      step.wait_for = Some(WaitFor {
        namespace: KUBE_PROMETHEUS_STACK.namespace,
        name: RECEIVERS_SECRET,
        remote: receivers
          .iter()
          .map(|(key, _, _)| format!("{scope}{key}"))
          .collect::<Vec<_>>()
          .join(", "),
        note: std::iter::once(
          "Alertmanager reads its receivers' credentials from these secrets, which".to_string(),
        )
        .chain(std::iter::once("you fill (see the README):".to_string()))
        .chain(
          receivers
            .iter()
            .map(|(key, property, _)| format!("  {scope}{key} (JSON with `{property}`)")),
        )
        .collect(),
      });
      steps.push(step);
    }
    steps.push(InstallStep::chart(
      &resolved.versions,
      &KUBE_PROMETHEUS_STACK,
      "kube-prometheus-stack",
      false,
    ));
    out.add(
      "cluster/manifests/alerts.yaml",
      yaml(&super::monitoring::alerts(resolved)),
    );
    let dashboards: Vec<String> = super::monitoring::dashboards(resolved)
      .iter()
      .map(yaml)
      .collect();
    let mut apply = vec!["manifests/alerts.yaml".to_string()];
    if !dashboards.is_empty() {
      out.add("cluster/manifests/dashboards.yaml", documents(&dashboards));
      apply.push("manifests/dashboards.yaml".into());
    }
    steps.push(InstallStep::other(
      "manifests",
      "the platform's alert rules and dashboards",
      apply,
    ));
  }

  // The services' namespace and what the deploy role's group may do there
  // (the deploy itself cannot create namespaces or grant anything).
  let custom_resources = deployer_custom_resources(resolved);
  out.add(
    "cluster/manifests/deployers.yaml",
    documents(&manifests::deployers(
      &resolved.namespace,
      &resolved.kubernetes_version,
      &names::deployers_group(&resolved.platform),
      &custom_resources,
    )),
  );
  steps.push(InstallStep::other(
    "manifests",
    &format!(
      "the {} namespace and the deploy role's access to its custom resources",
      resolved.namespace
    ),
    vec!["manifests/deployers.yaml".into()],
  ));
  for environment in &resolved.environments {
    out.add(
      format!("cluster/manifests/{}/quota.yaml", environment.name),
      documents(&manifests::namespace_quota(
        &resolved.namespace,
        &environment.quota,
        &resolved.limit_range,
      )),
    );
  }
  steps.push(InstallStep::other(
    "manifests",
    &format!(
      "the {} namespace's ResourceQuota and LimitRange",
      resolved.namespace
    ),
    vec!["manifests/{env}/quota.yaml".into()],
  ));
  // Image admission, last: the platform's namespace admits only images of
  // its environment's registry signed by the Deploy workflow. The policy
  // exists before the namespace opts in.
  out.add(
    format!("cluster/addons/{}/values.yaml", POLICY_CONTROLLER.release),
    yaml(&PolicyControllerValues::new()),
  );
  for environment in &resolved.environments {
    out.add(
      format!("cluster/manifests/{}/image-policy.yaml", environment.name),
      yaml(&manifests::cluster_image_policy(
        &format!("{}-images", resolved.name),
        image_glob(resolved, environment),
        names::GITHUB_ACTIONS_ISSUER,
        resolved.signer_identity.clone(),
      )),
    );
  }
  steps.push(InstallStep::chart(
    &resolved.versions,
    &POLICY_CONTROLLER,
    "Sigstore policy controller (its CRDs are templates, upgraded with the release)",
    false,
  ));
  steps.push(InstallStep::other(
    "manifests",
    "the ClusterImagePolicy: only images signed by the Deploy workflow",
    vec!["manifests/{env}/image-policy.yaml".into()],
  ));
  let mut include = InstallStep::other(
    "include-namespace",
    &format!(
      "the {} namespace admits only signed images",
      resolved.namespace
    ),
    Vec::new(),
  );
  include.target = Some(resolved.namespace.clone());
  include.label = Some(manifests::POLICY_INCLUDE_LABEL);
  steps.push(include);
  if let Some(previews) = &resolved.previews {
    let objects = super::previews::manifests(resolved, previews, &custom_resources);
    let texts: Vec<String> = objects.iter().map(yaml).collect();
    out.add("cluster/manifests/previews.yaml", documents(&texts));
    steps.push(InstallStep::other(
      "manifests",
      "the preview role's access to the namespaces pr-<digits>, and the preview images' admission",
      vec!["manifests/previews.yaml".into()],
    ));
  }

  if resolved.argocd() {
    argo_cd(resolved, out, &mut steps);
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
    environments: resolved.environment_names(),
    remote_crds: steps.iter().any(|step| !step.crds.is_empty()),
    steps,
    region: resolved.region.clone(),
    kms_alias: format!("alias/{}-$env", resolved.name),
    kms_placeholder: manifests::KMS_KEY_ARN_PLACEHOLDER,
    argocd_capability: resolved
      .managed_argocd
      .is_some()
      .then(|| ArgoCdCapabilityData {
        cluster: format!("{}-$env", resolved.name),
        name: crate::names::ARGOCD_CAPABILITY,
        namespace: versions::ARGO_CD.namespace,
        cluster_placeholder: super::argocd::CLUSTER_ARN_PLACEHOLDER,
        role_placeholder: super::argocd::ROLE_ARN_PLACEHOLDER,
      }),
  };
  out.add(
    crate::render::engine::output_path(INSTALL_TEMPLATE, None, None),
    engine.render(INSTALL_TEMPLATE, &data)?,
  );
  Ok(())
}

/// `delivery.mode: argocd`: Argo CD, last, once the platform's namespace
/// admits only signed images; then each environment's AppProject and
/// Applications, and the image pins they read, seeded once.
fn argo_cd(resolved: &Resolved, out: &mut Output, steps: &mut Vec<InstallStep>) {
  use super::argocd;
  if resolved.managed_argocd.is_some() {
    // AWS runs Argo CD (infra/argocd.tf): no chart, no namespace of ours.
    out.add(
      "cluster/manifests/argocd-capability.yaml".to_string(),
      documents(&argocd::capability_manifests(resolved)),
    );
    steps.push(InstallStep::other(
      "argocd-capability",
      &format!(
        "the managed Argo CD: this cluster registered by its ARN, its access to the namespace {} only",
        resolved.namespace
      ),
      vec!["manifests/argocd-capability.yaml".into()],
    ));
  } else {
    out.add(
      format!("cluster/addons/{}/values.yaml", versions::ARGO_CD.release),
      yaml(&argocd::ArgoCdValues::new()),
    );
    steps.push(InstallStep::chart(
      &resolved.versions,
      &versions::ARGO_CD,
      "Argo CD (its CRDs are templates, upgraded with the release)",
      false,
    ));
  }
  out.add(
    "cluster/manifests/argocd-readers.yaml".to_string(),
    documents(&argocd::readers_manifests(resolved)),
  );
  steps.push(InstallStep::other(
    "manifests",
    "the deploy role's read access to the Argo CD Applications",
    vec!["manifests/argocd-readers.yaml".into()],
  ));
  for environment in &resolved.environments {
    out.add(
      argocd::applications_path(&environment.name),
      documents(&argocd::manifests(resolved, environment)),
    );
    for service in &resolved.services {
      out.add(
        argocd::image_pin_path(&environment.name, &service.name),
        argocd::image_pin_seed(environment, service),
      );
    }
  }
  steps.push(InstallStep::other(
    "manifests",
    "the AppProject and the services' Argo CD Applications",
    vec!["manifests/{env}/applications.yaml".into()],
  ));
}

/// The AWS Load Balancer Controller (not with EKS Auto Mode, which runs its
/// own): the NLB in front of NGINX.
fn load_balancer_controller(resolved: &Resolved, out: &mut Output, steps: &mut Vec<InstallStep>) {
  out.add(
    format!(
      "cluster/addons/{}/values.yaml",
      AWS_LOAD_BALANCER_CONTROLLER.release
    ),
    yaml(&LoadBalancerControllerValues::new(&resolved.region)),
  );
  for environment in &resolved.environments {
    out.add(
      format!(
        "cluster/addons/{}/values-{}.yaml",
        AWS_LOAD_BALANCER_CONTROLLER.release, environment.name
      ),
      yaml(&LoadBalancerControllerEnvValues {
        cluster_name: environment.names.cluster.clone(),
        vpc_tags: VpcTags {
          name: environment.names.stack.clone(),
        },
      }),
    );
  }
  push_chart(
    &resolved.versions,
    steps,
    &AWS_LOAD_BALANCER_CONTROLLER,
    "AWS Load Balancer Controller (the NLB in front of NGINX)",
    true,
  );
}

/// EKS Auto Mode: the NodePools of the node groups (per environment, their
/// sizes may differ) and the ConfigMap that turns on its NetworkPolicy
/// enforcement, first of the add-ons.
fn auto_mode(resolved: &Resolved, out: &mut Output, steps: &mut Vec<InstallStep>) {
  for environment in &resolved.environments {
    let docs: Vec<String> = resolved
      .node_groups
      .iter()
      .zip(&environment.node_groups)
      .map(|(group, (_, sizes))| {
        yaml(&manifests::auto_mode_node_pool(
          group,
          sizes.max,
          &resolved.zones,
        ))
      })
      .collect();
    out.add(
      format!("cluster/manifests/{}/node-pools.yaml", environment.name),
      documents(&docs),
    );
  }
  out.add(
    "cluster/manifests/network-policy.yaml",
    yaml(&manifests::auto_mode_network_policy()),
  );
  steps.push(InstallStep::other(
    "manifests",
    "EKS Auto Mode: NetworkPolicy enforcement on, and the NodePools of the node groups",
    vec![
      "manifests/network-policy.yaml".into(),
      "manifests/{env}/node-pools.yaml".into(),
    ],
  ));
}

/// `autoscaler: karpenter`: the controller's values, each environment's
/// NodePools and EC2NodeClasses, and their steps, first of the add-ons: the
/// `system` node group takes only critical add-ons, so every other add-on
/// waits for the nodes Karpenter launches.
fn karpenter(resolved: &Resolved, out: &mut Output, steps: &mut Vec<InstallStep>) {
  out.add(
    format!("cluster/addons/{}/values.yaml", KARPENTER.release),
    yaml(&KarpenterValues::new(&resolved.region)),
  );
  for environment in &resolved.environments {
    out.add(
      format!(
        "cluster/addons/{}/values-{}.yaml",
        KARPENTER.release, environment.name
      ),
      yaml(&KarpenterEnvValues {
        settings: KarpenterSettings {
          cluster_name: environment.names.cluster.clone(),
          interruption_queue: names::karpenter_queue(&environment.names.stack),
        },
      }),
    );
    let mut docs = Vec::new();
    for (group, (_, sizes)) in resolved.node_groups.iter().zip(&environment.node_groups) {
      docs.push(yaml(&manifests::ec2_node_class(
        group,
        &names::karpenter_node_role(&environment.names.stack),
        &environment.names.cluster,
      )));
      docs.push(yaml(&manifests::node_pool(
        group,
        sizes.max,
        &resolved.zones,
      )));
    }
    out.add(
      format!("cluster/manifests/{}/karpenter.yaml", environment.name),
      documents(&docs),
    );
  }
  push_chart(
    &resolved.versions,
    steps,
    &KARPENTER,
    "Karpenter (launches the nodes of the node groups)",
    true,
  );
  steps.push(InstallStep::other(
    "manifests",
    "the NodePools and EC2NodeClasses of the node groups",
    vec!["manifests/{env}/karpenter.yaml".into()],
  ));
}

/// The images of an environment's ECR repositories (`<platform>/<env>/…`)
/// in its registry: the account's when the blueprint names it, else any
/// account of the region (the signature still has to be the Deploy
/// workflow's).
fn image_glob(
  resolved: &Resolved,
  environment: &crate::blueprint::resolved::ResolvedEnvironment,
) -> String {
  let registry = environment
    .registry
    .clone()
    .unwrap_or_else(|| names::ecr_registry("*", &resolved.region));
  format!("{registry}/{}/{}/**", resolved.name, environment.name)
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
      environments: resolved.environment_names(),
      secrets,
    }
  }
}

// The add-on values, one struct family per add-on. Fields are in alphabetical
// order, the order of the keys in the values files.

/// The policy controller: its webhook's service account (ECR read through
/// Pod Identity, infra/admission.tf) and a no-match policy of deny, so an
/// image no ClusterImagePolicy covers is refused in the opted-in namespaces.
#[derive(Serialize)]
struct PolicyControllerValues {
  webhook: PolicyControllerWebhook,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PolicyControllerWebhook {
  config_data: PolicyControllerConfig,
  service_account: ServiceAccount,
}

#[derive(Serialize)]
struct PolicyControllerConfig {
  #[serde(rename = "no-match-policy")]
  no_match_policy: &'static str,
}

impl PolicyControllerValues {
  fn new() -> Self {
    Self {
      webhook: PolicyControllerWebhook {
        config_data: PolicyControllerConfig {
          no_match_policy: "deny",
        },
        service_account: ServiceAccount {
          create: true,
          name: POLICY_CONTROLLER_SERVICE_ACCOUNT,
        },
      },
    }
  }
}

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

/// The `loadBalancerClass` of Services the AWS Load Balancer Controller
/// provisions a Network Load Balancer for.
pub(crate) const NLB_CLASS: &str = "service.k8s.aws/nlb";
/// The `loadBalancerClass` of EKS Auto Mode's own load balancing (AWS's
/// "Use Service Annotations to configure Network Load Balancers"); it takes
/// the same target type and scheme annotations.
pub(crate) const AUTO_MODE_NLB_CLASS: &str = "eks.amazonaws.com/nlb";

fn nlb_class(auto_mode: bool) -> &'static str {
  if auto_mode {
    AUTO_MODE_NLB_CLASS
  } else {
    NLB_CLASS
  }
}

/// The AWS Load Balancer Controller's NLB settings: internet-facing, with
/// the NGINX pods themselves as targets.
#[derive(Serialize)]
struct NlbAnnotations {
  #[serde(rename = "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type")]
  target_type: &'static str,
  #[serde(rename = "service.beta.kubernetes.io/aws-load-balancer-scheme")]
  scheme: &'static str,
}

const NLB: NlbAnnotations = NlbAnnotations {
  target_type: "ip",
  scheme: "internet-facing",
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
  tag: String,
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
        tag: resolved
          .versions
          .get(versions::CLUSTER_AUTOSCALER_IMAGE)
          .tag_for(&resolved.kubernetes_version)
          .to_string(),
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

/// The Karpenter controller: two replicas (the chart's PodDisruptionBudget
/// keeps one up) on the `system` node group, whose taint the chart
/// tolerates.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KarpenterValues {
  controller: KarpenterController,
  node_selector: std::collections::BTreeMap<&'static str, &'static str>,
  pod_disruption_budget: KarpenterPdb,
  replicas: u32,
  service_account: ServiceAccount,
}

#[derive(Serialize)]
struct KarpenterController {
  /// The region, which the pods cannot read from the instance metadata.
  env: Vec<EnvVar>,
  resources: ContainerResources,
}

#[derive(Serialize)]
struct ContainerResources {
  limits: ResourceList,
  requests: ResourceList,
}

#[derive(Serialize)]
struct ResourceList {
  #[serde(skip_serializing_if = "Option::is_none")]
  cpu: Option<&'static str>,
  memory: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KarpenterPdb {
  max_unavailable: u32,
  name: &'static str,
}

impl KarpenterValues {
  fn new(region: &str) -> Self {
    Self {
      controller: KarpenterController {
        env: vec![EnvVar {
          name: "AWS_REGION",
          value: region.to_string(),
        }],
        resources: ContainerResources {
          limits: ResourceList {
            cpu: None,
            memory: "1Gi",
          },
          requests: ResourceList {
            cpu: Some("500m"),
            memory: "1Gi",
          },
        },
      },
      node_selector: [("karpenter.sh/controller", "true")].into(),
      pod_disruption_budget: KarpenterPdb {
        max_unavailable: 1,
        name: KARPENTER.release,
      },
      replicas: 2,
      service_account: ServiceAccount {
        create: true,
        name: KARPENTER_SERVICE_ACCOUNT,
      },
    }
  }
}

/// `values-<env>.yaml` of Karpenter: its cluster and interruption queue.
#[derive(Serialize)]
struct KarpenterEnvValues {
  settings: KarpenterSettings,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KarpenterSettings {
  cluster_name: String,
  interruption_queue: String,
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
  load_balancer_class: &'static str,
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
  fn new(auto_mode: bool) -> Self {
    Self {
      nginx: NginxDataPlane {
        service: NginxService {
          external_traffic_policy: "Local",
          load_balancer_class: nlb_class(auto_mode),
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
  load_balancer_class: &'static str,
}

impl IngressNginxValues {
  fn new(monitoring: bool, auto_mode: bool) -> Self {
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
          load_balancer_class: nlb_class(auto_mode),
        },
      },
    }
  }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CertManagerValues {
  config: ControllerConfiguration,
  crds: CertManagerCrds,
  /// Its metrics (certificate expiry, readiness), scraped with monitoring.
  prometheus: CertManagerPrometheus,
  /// The controller's, bound to the DNS-01 role through EKS Pod Identity.
  service_account: ServiceAccount,
}

/// The CRDs are chart templates: installed and upgraded with the release,
/// and kept if the release is ever uninstalled.
#[derive(Serialize)]
struct CertManagerCrds {
  enabled: bool,
  keep: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ControllerConfiguration {
  api_version: &'static str,
  #[serde(rename = "enableGatewayAPI")]
  enable_gateway_api: bool,
  kind: &'static str,
}

#[derive(Serialize)]
struct CertManagerPrometheus {
  enabled: bool,
  servicemonitor: Enabled,
}

impl CertManagerValues {
  fn new(nginx: Nginx, monitoring: bool) -> Self {
    Self {
      prometheus: CertManagerPrometheus {
        enabled: true,
        servicemonitor: Enabled {
          enabled: monitoring,
        },
      },
      config: ControllerConfiguration {
        api_version: "controller.config.cert-manager.io/v1alpha1",
        enable_gateway_api: nginx == Nginx::Gateway,
        kind: "ControllerConfiguration",
      },
      crds: CertManagerCrds {
        enabled: true,
        keep: true,
      },
      service_account: ServiceAccount {
        create: true,
        name: CERT_MANAGER_SERVICE_ACCOUNT,
      },
    }
  }
}

/// external-dns: the Route53 records of every host, from the HTTPRoutes (or
/// Ingresses) and the load balancer's address in their Gateway's (or their
/// own) status.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalDnsValues {
  env: Vec<EnvVar>,
  extra_args: ExternalDnsArgs,
  /// `sync`: records of removed hosts are deleted too (only those whose TXT
  /// owner record is this environment's).
  policy: &'static str,
  provider: ExternalDnsProvider,
  registry: &'static str,
  service_account: ServiceAccount,
  sources: Vec<&'static str>,
}

#[derive(Serialize)]
struct EnvVar {
  name: &'static str,
  value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ExternalDnsArgs {
  #[serde(skip_serializing_if = "Option::is_none")]
  aws_zone_match_parent: Option<bool>,
  #[serde(skip_serializing_if = "Option::is_none")]
  aws_zone_type: Option<&'static str>,
}

#[derive(Serialize)]
struct ExternalDnsProvider {
  name: &'static str,
}

/// The external-dns source of the hosts: Gateway API HTTPRoutes, or Ingresses.
pub(crate) fn external_dns_source(nginx: Nginx) -> &'static str {
  match nginx {
    Nginx::Gateway => "gateway-httproute",
    Nginx::Ingress => "ingress",
  }
}

impl ExternalDnsValues {
  fn new(region: &str, nginx: Nginx) -> Self {
    Self {
      env: vec![EnvVar {
        name: "AWS_DEFAULT_REGION",
        value: region.to_string(),
      }],
      extra_args: ExternalDnsArgs {
        aws_zone_match_parent: None,
        aws_zone_type: Some("public"),
      },
      policy: "sync",
      provider: ExternalDnsProvider { name: "aws" },
      registry: "txt",
      service_account: ServiceAccount {
        create: true,
        name: EXTERNAL_DNS_SERVICE_ACCOUNT,
      },
      sources: vec![external_dns_source(nginx)],
    }
  }
}

/// `values-<env>.yaml` of external-dns: the environment's domain, and the
/// owner id that marks the records it may change.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalDnsEnvValues {
  domain_filters: Vec<String>,
  /// The domains of the environments below this one's (the apex's
  /// `staging.<domain>`): neither their zones nor their records are this
  /// environment's, and its role could not read them.
  #[serde(skip_serializing_if = "Vec::is_empty")]
  exclude_domains: Vec<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  extra_args: Option<ExternalDnsArgs>,
  txt_owner_id: String,
}

impl ExternalDnsEnvValues {
  fn new(dns: &EnvironmentDns, others: &[&EnvironmentDns]) -> Self {
    let below = format!(".{}", dns.domain);
    Self {
      domain_filters: vec![dns.domain.clone()],
      exclude_domains: others
        .iter()
        .filter(|other| other.domain.ends_with(&below))
        .map(|other| other.domain.clone())
        .collect(),
      // A subdomain's records in an existing apex zone: the filter must
      // find the zone from the subdomain.
      extra_args: dns.zone_is_parent().then_some(ExternalDnsArgs {
        aws_zone_match_parent: Some(true),
        aws_zone_type: None,
      }),
      txt_owner_id: dns.owner.clone(),
    }
  }
}

/// The AWS Load Balancer Controller. Its Service mutating webhook stays off:
/// the NGINX Service names the NLB class itself, and no other Service
/// creation waits on the controller.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LoadBalancerControllerValues {
  enable_service_mutator_webhook: bool,
  region: String,
  service_account: ServiceAccount,
}

impl LoadBalancerControllerValues {
  fn new(region: &str) -> Self {
    Self {
      enable_service_mutator_webhook: false,
      region: region.to_string(),
      service_account: ServiceAccount {
        create: true,
        name: AWS_LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT,
      },
    }
  }
}

/// `values-<env>.yaml`: the cluster, and its VPC found by its Name tag (the
/// pods cannot reach the instance metadata service).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LoadBalancerControllerEnvValues {
  cluster_name: String,
  vpc_tags: VpcTags,
}

#[derive(Serialize)]
struct VpcTags {
  #[serde(rename = "Name")]
  name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KubePrometheusStackValues {
  alertmanager: AlertmanagerValues,
  grafana: GrafanaValues,
  // EKS runs the control plane: these components cannot be scraped.
  kube_controller_manager: Enabled,
  kube_etcd: Enabled,
  kube_proxy: Enabled,
  kube_scheduler: Enabled,
  prometheus: Prometheus,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AlertmanagerValues {
  alertmanager_spec: AlertmanagerSpec,
  /// Merged into the chart's default configuration: the receivers, and the
  /// route to them (the chart's own routes, Watchdog to `null`, stay).
  #[serde(skip_serializing_if = "Option::is_none")]
  config: Option<AlertmanagerConfig>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AlertmanagerSpec {
  /// Mounted at `/etc/alertmanager/secrets/<name>/`.
  #[serde(skip_serializing_if = "Vec::is_empty")]
  secrets: Vec<&'static str>,
  storage: StorageSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StorageSpec {
  volume_claim_template: VolumeClaimTemplate,
}

#[derive(Serialize)]
struct VolumeClaimTemplate {
  spec: ClaimSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClaimSpec {
  access_modes: Vec<&'static str>,
  resources: ClaimResources,
  storage_class_name: &'static str,
}

#[derive(Serialize)]
struct ClaimResources {
  requests: StorageRequest,
}

#[derive(Serialize)]
struct StorageRequest {
  storage: String,
}

impl StorageSpec {
  fn gb(size: u32) -> Self {
    Self {
      volume_claim_template: VolumeClaimTemplate {
        spec: ClaimSpec {
          access_modes: vec!["ReadWriteOnce"],
          resources: ClaimResources {
            requests: StorageRequest {
              storage: format!("{size}Gi"),
            },
          },
          storage_class_name: names::STORAGE_CLASS,
        },
      },
    }
  }
}

#[derive(Serialize)]
struct AlertmanagerConfig {
  receivers: Vec<Receiver>,
  route: Route,
}

#[derive(Serialize)]
struct Route {
  receiver: &'static str,
}

/// The receiver every alert goes to.
const RECEIVER: &str = "platform";
/// The Secret with the receivers' credentials, synced from Secrets Manager.
pub(crate) const RECEIVERS_SECRET: &str = "alertmanager-receivers";

#[derive(Serialize)]
struct Receiver {
  #[serde(skip_serializing_if = "Vec::is_empty")]
  email_configs: Vec<EmailConfig>,
  name: &'static str,
  #[serde(skip_serializing_if = "Vec::is_empty")]
  pagerduty_configs: Vec<PagerdutyConfig>,
  #[serde(skip_serializing_if = "Vec::is_empty")]
  slack_configs: Vec<SlackConfig>,
}

#[derive(Serialize)]
struct EmailConfig {
  auth_password_file: String,
  auth_username: String,
  from: String,
  require_tls: bool,
  send_resolved: bool,
  smarthost: String,
  to: String,
}

#[derive(Serialize)]
struct PagerdutyConfig {
  routing_key_file: String,
  send_resolved: bool,
}

#[derive(Serialize)]
struct SlackConfig {
  api_url_file: String,
  channel: String,
  send_resolved: bool,
}

/// The file Alertmanager reads a key of the receivers' Secret from.
fn receiver_file(key: &str) -> String {
  format!("/etc/alertmanager/secrets/{RECEIVERS_SECRET}/{key}")
}

impl AlertmanagerConfig {
  fn new(settings: &MonitoringSettings) -> Option<Self> {
    if !settings.has_receivers() {
      return None;
    }
    let receiver = Receiver {
      email_configs: settings
        .email
        .iter()
        .map(|email| EmailConfig {
          auth_password_file: receiver_file(names::ALERTMANAGER_EMAIL.2),
          auth_username: email.username.clone(),
          from: email.from.clone(),
          require_tls: true,
          send_resolved: true,
          smarthost: email.smarthost.clone(),
          to: email.to.clone(),
        })
        .collect(),
      name: RECEIVER,
      pagerduty_configs: settings
        .pagerduty
        .then(|| PagerdutyConfig {
          routing_key_file: receiver_file(names::ALERTMANAGER_PAGERDUTY.2),
          send_resolved: true,
        })
        .into_iter()
        .collect(),
      slack_configs: settings
        .slack
        .iter()
        .map(|channel| SlackConfig {
          api_url_file: receiver_file(names::ALERTMANAGER_SLACK.2),
          channel: channel.clone(),
          send_resolved: true,
        })
        .collect(),
    };
    // The chart's routes send Watchdog to `null`; it must stay defined.
    let null = Receiver {
      email_configs: Vec::new(),
      name: "null",
      pagerduty_configs: Vec::new(),
      slack_configs: Vec::new(),
    };
    Some(Self {
      receivers: vec![null, receiver],
      route: Route { receiver: RECEIVER },
    })
  }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GrafanaValues {
  /// Only when Grafana is on.
  #[serde(skip_serializing_if = "Option::is_none")]
  admin: Option<GrafanaAdmin>,
  enabled: bool,
  /// The volume's ownership comes from `fsGroup`; the chart's root init
  /// container that would chown it stays off.
  #[serde(skip_serializing_if = "Option::is_none")]
  init_chown_data: Option<Enabled>,
  #[serde(skip_serializing_if = "Option::is_none")]
  persistence: Option<GrafanaPersistence>,
  #[serde(skip_serializing_if = "Option::is_none")]
  security_context: Option<GrafanaSecurityContext>,
  #[serde(skip_serializing_if = "Option::is_none")]
  sidecar: Option<GrafanaSidecar>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GrafanaAdmin {
  existing_secret: &'static str,
  password_key: &'static str,
  user_key: &'static str,
}

/// A StatefulSet with its own volume (a Deployment's rolling update would
/// wait on the ReadWriteOnce volume of the pod it replaces).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GrafanaPersistence {
  access_modes: Vec<&'static str>,
  enabled: bool,
  size: String,
  storage_class_name: &'static str,
  #[serde(rename = "type")]
  kind: &'static str,
}

/// Grafana's user and group (472, the image's): the volume is mounted
/// group-owned by 472.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GrafanaSecurityContext {
  fs_group: u32,
  fs_group_change_policy: &'static str,
  run_as_group: u32,
  run_as_non_root: bool,
  run_as_user: u32,
}

/// The sidecar loads every ConfigMap labelled `grafana_dashboard: "1"`, in
/// any namespace (the platform's dashboards in `cluster/manifests/`).
#[derive(Serialize)]
struct GrafanaSidecar {
  dashboards: SidecarDashboards,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SidecarDashboards {
  enabled: bool,
  label: &'static str,
  label_value: &'static str,
  search_namespace: &'static str,
}

/// The label (value "1") of the dashboards' ConfigMaps.
pub(crate) const DASHBOARD_LABEL: &str = "grafana_dashboard";

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
  retention: String,
  /// Older samples go before the volume fills: 85% of it.
  retention_size: String,
  rule_selector_nil_uses_helm_values: bool,
  scrape_config_selector_nil_uses_helm_values: bool,
  service_monitor_selector_nil_uses_helm_values: bool,
  storage_spec: StorageSpec,
}

/// Grafana's user and group in its image.
const GRAFANA_UID: u32 = 472;

impl KubePrometheusStackValues {
  fn new(grafana: bool, settings: &MonitoringSettings) -> Self {
    let off = || Enabled { enabled: false };
    Self {
      alertmanager: AlertmanagerValues {
        alertmanager_spec: AlertmanagerSpec {
          secrets: if settings.has_receivers() {
            vec![RECEIVERS_SECRET]
          } else {
            Vec::new()
          },
          storage: StorageSpec::gb(settings.alertmanager_gb),
        },
        config: AlertmanagerConfig::new(settings),
      },
      grafana: GrafanaValues {
        admin: grafana.then_some(GrafanaAdmin {
          existing_secret: GRAFANA_ADMIN_SECRET,
          password_key: "admin-password",
          user_key: "admin-user",
        }),
        enabled: grafana,
        init_chown_data: grafana.then(off),
        persistence: grafana.then(|| GrafanaPersistence {
          access_modes: vec!["ReadWriteOnce"],
          enabled: true,
          size: format!("{}Gi", settings.grafana_gb),
          storage_class_name: names::STORAGE_CLASS,
          kind: "sts",
        }),
        security_context: grafana.then_some(GrafanaSecurityContext {
          fs_group: GRAFANA_UID,
          fs_group_change_policy: "OnRootMismatch",
          run_as_group: GRAFANA_UID,
          run_as_non_root: true,
          run_as_user: GRAFANA_UID,
        }),
        sidecar: grafana.then_some(GrafanaSidecar {
          dashboards: SidecarDashboards {
            enabled: true,
            label: DASHBOARD_LABEL,
            label_value: "1",
            search_namespace: "ALL",
          },
        }),
      },
      kube_controller_manager: off(),
      kube_etcd: off(),
      kube_proxy: off(),
      kube_scheduler: off(),
      prometheus: Prometheus {
        prometheus_spec: PrometheusSpec {
          pod_monitor_selector_nil_uses_helm_values: false,
          probe_selector_nil_uses_helm_values: false,
          retention: settings.retention.clone(),
          retention_size: format!("{}GB", (settings.prometheus_gb * 85 / 100).max(1)),
          rule_selector_nil_uses_helm_values: false,
          scrape_config_selector_nil_uses_helm_values: false,
          service_monitor_selector_nil_uses_helm_values: false,
          storage_spec: StorageSpec::gb(settings.prometheus_gb),
        },
      },
    }
  }
}
