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
  /// Where the chart keeps its CRDs, which decides how they are upgraded.
  pub crds: ChartCrds,
}

/// How a chart ships its CustomResourceDefinitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChartCrds {
  /// None.
  None,
  /// In the chart's `crds/` folder (or a subchart's): Helm installs them once
  /// and never upgrades them, so `install.sh` applies them server-side from
  /// the pinned chart (`helm show crds`) before each `helm upgrade`.
  Folder,
  /// As templates, switched on in the values: each `helm upgrade` applies
  /// them with the release, before the objects that use them.
  Templates,
}

/// Gateway API standard-channel CRDs, applied server-side before NGINX
/// Gateway Fabric and cert-manager.
pub(crate) const GATEWAY_API: &str = "v1.6.1";

/// The files of `config/crd/standard/` at [`GATEWAY_API`] (what the release's
/// `standard-install.yaml` bundles), each with the sha256 of its bytes at that
/// tag: `install.sh` downloads, checks and applies them.
const GATEWAY_API_CRDS: &[(&str, &str)] = &[
  (
    "backendtlspolicies",
    "0d48c9e4b53dd9510cf615b9b1192d9d7afb07a1cc0498c9515627cb1c075419",
  ),
  (
    "gatewayclasses",
    "53710048ba26f8620eed59d5e51b157ecf040daf5c6eef31a4b991e0808c4be5",
  ),
  (
    "gateways",
    "25b885f5870b8fff1ae82efa2628b2761cef3745900c2aecf8fb76629a01255a",
  ),
  (
    "grpcroutes",
    "53a8d029da8f07e55d3fa58a5cf6de5950dab19fbb8d6a8082fb5e51ca5ef6fc",
  ),
  (
    "httproutes",
    "a424a0d6c953b162e71d1d97bb7e75012d8f1ac264e7274f2763d1b96ab39852",
  ),
  (
    "listenersets",
    "bf4d4b02564999b2558b96e31465129895db9b3a8adfb90adb9c80eac52a3a70",
  ),
  (
    "referencegrants",
    "8c645e9333cfa67790cc2a53e0c00076f88b2bd4230d2b49688c78bc34f9b2c3",
  ),
  (
    "tcproutes",
    "d5104d0cf30e924f5e3c9e2e76abd46876401c34ca33b9e79321523eee78c7f6",
  ),
  (
    "tlsroutes",
    "bb8b67926e5d9652cbfd2e19063b7c1d9e78806c9dd671608f57baef2f2e3bbb",
  ),
  (
    "udproutes",
    "4b80684c2bf8ef4b0a2a3ab45164ac9f96258fc69912645ff50ced595b0aa6de",
  ),
  // The ValidatingAdmissionPolicy that refuses a downgrade to older CRDs.
  (
    "vap_safeupgrades",
    "afb0ea1b3cc2e9344d93b0926fbe741aeb48ab4439f9f7b4b77b9ac94faf6c2e",
  ),
];

/// A remote manifest pinned by the sha256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct PinnedManifest {
  pub url: String,
  pub sha256: &'static str,
}

/// The Gateway API CRDs of [`GATEWAY_API`], by their raw URLs at the tag.
pub(crate) fn gateway_api_crds() -> Vec<PinnedManifest> {
  GATEWAY_API_CRDS
    .iter()
    .map(|(name, sha256)| PinnedManifest {
      url: format!(
        "https://raw.githubusercontent.com/kubernetes-sigs/gateway-api/{GATEWAY_API}/config/crd/standard/gateway.networking.k8s.io_{name}.yaml"
      ),
      sha256,
    })
    .collect()
}

pub(crate) const NGINX_GATEWAY_FABRIC: AddonChart = AddonChart {
  release: "nginx-gateway-fabric",
  namespace: "nginx-gateway",
  chart: "oci://ghcr.io/nginx/charts/nginx-gateway-fabric",
  repository: None,
  version: "2.7.2",
  crds: ChartCrds::Folder,
};

/// Retired upstream in March 2026; installed only on request, with a warning.
pub(crate) const INGRESS_NGINX: AddonChart = AddonChart {
  release: "ingress-nginx",
  namespace: "ingress-nginx",
  chart: "ingress-nginx",
  repository: Some("https://kubernetes.github.io/ingress-nginx"),
  version: "4.15.1",
  crds: ChartCrds::None,
};

pub(crate) const CERT_MANAGER: AddonChart = AddonChart {
  release: "cert-manager",
  namespace: "cert-manager",
  chart: "oci://quay.io/jetstack/charts/cert-manager",
  repository: None,
  version: "v1.21.2",
  crds: ChartCrds::Templates,
};

/// Bump together with the CRD schemas in `tests/data/crd-schemas/`.
pub(crate) const EXTERNAL_SECRETS: AddonChart = AddonChart {
  release: "external-secrets",
  namespace: crate::names::ESO_NAMESPACE,
  chart: "external-secrets",
  repository: Some("https://charts.external-secrets.io"),
  version: "2.9.0",
  crds: ChartCrds::Templates,
};

pub(crate) const KUBE_PROMETHEUS_STACK: AddonChart = AddonChart {
  release: "kube-prometheus-stack",
  namespace: "monitoring",
  chart: "oci://ghcr.io/prometheus-community/charts/kube-prometheus-stack",
  repository: None,
  version: "88.5.3",
  crds: ChartCrds::Folder,
};

/// Calico in policy-only mode on top of the VPC CNI.
pub(crate) const TIGERA_OPERATOR: AddonChart = AddonChart {
  release: "calico",
  namespace: "tigera-operator",
  chart: "tigera-operator",
  repository: Some("https://docs.tigera.io/calico/charts"),
  version: "v3.32.1",
  crds: ChartCrds::Folder,
};

pub(crate) const METRICS_SERVER: AddonChart = AddonChart {
  release: "metrics-server",
  namespace: "kube-system",
  chart: "metrics-server",
  repository: Some("https://kubernetes-sigs.github.io/metrics-server/"),
  version: "3.13.1",
  crds: ChartCrds::None,
};

/// external-dns keeps the Route53 records of every host (Gateway API
/// HTTPRoutes or Ingresses) pointed at the load balancer.
pub(crate) const EXTERNAL_DNS: AddonChart = AddonChart {
  release: "external-dns",
  namespace: "external-dns",
  chart: "external-dns",
  repository: Some("https://kubernetes-sigs.github.io/external-dns/"),
  version: "1.21.1",
  crds: ChartCrds::Folder,
};

/// The Sigstore policy controller: admits into the platform's namespace only
/// images signed by the repository's Deploy workflow
/// (sigstore/helm-charts `charts/policy-controller`, app v0.13.1). Bump
/// together with the ClusterImagePolicy schema in `tests/data/crd-schemas/`.
pub(crate) const POLICY_CONTROLLER: AddonChart = AddonChart {
  release: "policy-controller",
  namespace: "cosign-system",
  chart: "policy-controller",
  repository: Some("https://sigstore.github.io/helm-charts"),
  version: "0.10.6",
  crds: ChartCrds::Templates,
};

/// Service account of the policy controller's webhook; its IAM role (read
/// the environment's ECR repositories, where the signatures are) is bound to
/// it through EKS Pod Identity.
pub(crate) const POLICY_CONTROLLER_SERVICE_ACCOUNT: &str = "policy-controller-webhook";

/// Service account of external-dns; its IAM role (the hosted zone only) is
/// bound to it through EKS Pod Identity.
pub(crate) const EXTERNAL_DNS_SERVICE_ACCOUNT: &str = "external-dns";

/// The AWS Load Balancer Controller provisions the NLB in front of NGINX.
pub(crate) const AWS_LOAD_BALANCER_CONTROLLER: AddonChart = AddonChart {
  release: "aws-load-balancer-controller",
  namespace: "kube-system",
  chart: "aws-load-balancer-controller",
  repository: Some("https://aws.github.io/eks-charts"),
  version: "3.5.0",
  crds: ChartCrds::Folder,
};

/// Service account of the AWS Load Balancer Controller (EKS Pod Identity).
pub(crate) const AWS_LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT: &str =
  "aws-load-balancer-controller";

/// Service account of the cert-manager controller, whose DNS-01 solver
/// writes the challenge records through EKS Pod Identity.
pub(crate) const CERT_MANAGER_SERVICE_ACCOUNT: &str = "cert-manager";

/// Cluster Autoscaler scales the EKS managed node groups between their
/// `minSize` and `maxSize`, which it discovers from the groups' tags.
pub(crate) const CLUSTER_AUTOSCALER: AddonChart = AddonChart {
  release: "cluster-autoscaler",
  namespace: "kube-system",
  chart: "cluster-autoscaler",
  repository: Some("https://kubernetes.github.io/autoscaler"),
  version: "9.59.0",
  crds: ChartCrds::None,
};

/// Karpenter launches the nodes of each node group (a NodePool and an
/// EC2NodeClass) with `autoscaler: karpenter`. Its CRDs are in the chart's
/// `crds/` folder (`charts/karpenter/Chart.yaml` at tag v1.14.1 of
/// aws/karpenter-provider-aws). Bump together with the NodePool and
/// EC2NodeClass schemas of the conformance suite.
pub(crate) const KARPENTER: AddonChart = AddonChart {
  release: "karpenter",
  namespace: "kube-system",
  chart: "oci://public.ecr.aws/karpenter/karpenter",
  repository: None,
  version: "1.14.1",
  crds: ChartCrds::Folder,
};

/// Argo CD, with `spec.delivery.mode: argocd`: it syncs the services' charts
/// from the repository. Chart 10.1.1 of argoproj/argo-helm
/// (`charts/argo-cd/Chart.yaml`, appVersion v3.4.4), whose CRDs are
/// templates (`templates/crds/`, `crds.install: true`).
pub(crate) const ARGO_CD: AddonChart = AddonChart {
  release: "argo-cd",
  namespace: "argocd",
  chart: "argo-cd",
  repository: Some("https://argoproj.github.io/argo-helm"),
  version: "10.1.1",
  crds: ChartCrds::Templates,
};

/// Service account of the Karpenter controller (EKS Pod Identity).
pub(crate) const KARPENTER_SERVICE_ACCOUNT: &str = "karpenter";

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
  ("1.36", "v1.36.1"),
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
      EXTERNAL_DNS,
      AWS_LOAD_BALANCER_CONTROLLER,
      CLUSTER_AUTOSCALER,
      KARPENTER,
      ARGO_CD,
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
