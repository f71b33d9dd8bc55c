//! Pinned versions of the cluster add-ons: one table, so a bump is a data
//! change. Each pin is the newest release read at its tag; check the tags
//! again before a release of oi-gen.

/// A Helm chart installed by `cluster/install.sh`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AddonChart {
  /// Helm release name, also the folder under `cluster/addons/`.
  pub release: &'static str,
  /// Namespace the release is installed to.
  pub namespace: &'static str,
  /// `oci://…` reference, or the chart name in `repository`.
  pub chart: &'static str,
  /// Classic chart repository, when the chart is not an OCI artifact.
  pub repository: Option<&'static str>,
  pub version: &'static str,
}

/// Gateway API standard-channel CRDs, applied server-side before NGINX
/// Gateway Fabric and cert-manager.
pub(crate) const GATEWAY_API: &str = "v1.6.1";

pub(crate) fn gateway_api_crds_url() -> String {
  format!(
    "https://github.com/kubernetes-sigs/gateway-api/releases/download/{GATEWAY_API}/standard-install.yaml"
  )
}

pub(crate) const NGINX_GATEWAY_FABRIC: AddonChart = AddonChart {
  release: "nginx-gateway-fabric",
  namespace: "nginx-gateway",
  chart: "oci://ghcr.io/nginx/charts/nginx-gateway-fabric",
  repository: None,
  version: "2.7.2",
};

/// Retired upstream in March 2026; installed only on request, with a warning.
pub(crate) const INGRESS_NGINX: AddonChart = AddonChart {
  release: "ingress-nginx",
  namespace: "ingress-nginx",
  chart: "ingress-nginx",
  repository: Some("https://kubernetes.github.io/ingress-nginx"),
  version: "4.15.1",
};

pub(crate) const CERT_MANAGER: AddonChart = AddonChart {
  release: "cert-manager",
  namespace: "cert-manager",
  chart: "oci://quay.io/jetstack/charts/cert-manager",
  repository: None,
  version: "v1.21.1",
};

/// Bump together with the CRD schemas in `tests/data/crd-schemas/`.
pub(crate) const EXTERNAL_SECRETS: AddonChart = AddonChart {
  release: "external-secrets",
  namespace: crate::names::ESO_NAMESPACE,
  chart: "external-secrets",
  repository: Some("https://charts.external-secrets.io"),
  version: "2.9.0",
};

pub(crate) const KUBE_PROMETHEUS_STACK: AddonChart = AddonChart {
  release: "kube-prometheus-stack",
  namespace: "monitoring",
  chart: "oci://ghcr.io/prometheus-community/charts/kube-prometheus-stack",
  repository: None,
  version: "88.5.3",
};

/// Calico in policy-only mode on top of the VPC CNI.
pub(crate) const TIGERA_OPERATOR: AddonChart = AddonChart {
  release: "calico",
  namespace: "tigera-operator",
  chart: "tigera-operator",
  repository: Some("https://docs.tigera.io/calico/charts"),
  version: "v3.32.1",
};

pub(crate) const METRICS_SERVER: AddonChart = AddonChart {
  release: "metrics-server",
  namespace: "kube-system",
  chart: "metrics-server",
  repository: Some("https://kubernetes-sigs.github.io/metrics-server/"),
  version: "3.13.1",
};

/// Cluster Autoscaler scales the EKS managed node groups between their
/// `minSize` and `maxSize`, which it discovers from the groups' tags.
pub(crate) const CLUSTER_AUTOSCALER: AddonChart = AddonChart {
  release: "cluster-autoscaler",
  namespace: "kube-system",
  chart: "cluster-autoscaler",
  repository: Some("https://kubernetes.github.io/autoscaler"),
  version: "9.59.0",
};

/// Service account of the Cluster Autoscaler; its IAM role is bound to it
/// through EKS Pod Identity.
pub(crate) const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT: &str = "cluster-autoscaler";

/// Cluster Autoscaler releases follow the Kubernetes minor version: the
/// newest patch of each minor EKS offers.
const CLUSTER_AUTOSCALER_IMAGES: &[(&str, &str)] = &[
  ("1.32", "v1.32.7"),
  ("1.33", "v1.33.6"),
  ("1.34", "v1.34.5"),
  ("1.35", "v1.35.2"),
];

/// The Cluster Autoscaler image tag for a Kubernetes minor version.
pub(crate) fn cluster_autoscaler_image(kubernetes_version: &str) -> Option<&'static str> {
  CLUSTER_AUTOSCALER_IMAGES
    .iter()
    .find(|(minor, _)| *minor == kubernetes_version)
    .map(|(_, tag)| *tag)
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::blueprint::validate::{EKS_EXTENDED, EKS_STANDARD};

  #[test]
  fn no_platform_can_take_an_add_on_namespace() {
    for chart in [
      NGINX_GATEWAY_FABRIC,
      INGRESS_NGINX,
      CERT_MANAGER,
      EXTERNAL_SECRETS,
      KUBE_PROMETHEUS_STACK,
      TIGERA_OPERATOR,
      METRICS_SERVER,
      CLUSTER_AUTOSCALER,
    ] {
      assert!(
        crate::names::RESERVED_NAMESPACES.contains(&chart.namespace),
        "{}",
        chart.namespace
      );
    }
  }

  #[test]
  fn every_supported_kubernetes_version_has_an_autoscaler_image() {
    for minor in EKS_STANDARD.iter().chain(EKS_EXTENDED) {
      let tag = cluster_autoscaler_image(minor).unwrap_or_else(|| panic!("no image for {minor}"));
      assert!(tag.starts_with(&format!("v{minor}.")), "{tag}");
    }
  }
}
