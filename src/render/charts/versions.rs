//! The cluster add-ons: how each Helm release is installed. Their charts,
//! repositories and versions are components of the version table
//! (`versions.toml`, [`crate::versions`]), named by `component`.

/// A Helm chart installed by `cluster/install.sh`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AddonChart {
  /// Helm release name, also the folder under `cluster/addons/`.
  pub release: &'static str,
  /// Namespace the release is installed to.
  pub namespace: &'static str,
  /// Its component in the version table: chart, repository, version.
  pub component: &'static str,
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

/// The Gateway API standard-channel CRDs (a `crds` component), applied
/// server-side before NGINX Gateway Fabric and cert-manager.
pub(crate) const GATEWAY_API: &str = "gateway-api";

pub(crate) const NGINX_GATEWAY_FABRIC: AddonChart = AddonChart {
  release: "nginx-gateway-fabric",
  namespace: "nginx-gateway",
  component: "nginx-gateway-fabric",
  crds: ChartCrds::Folder,
};

/// Retired upstream in March 2026; installed only on request, with a warning.
pub(crate) const INGRESS_NGINX: AddonChart = AddonChart {
  release: "ingress-nginx",
  namespace: "ingress-nginx",
  component: "ingress-nginx",
  crds: ChartCrds::None,
};

pub(crate) const CERT_MANAGER: AddonChart = AddonChart {
  release: "cert-manager",
  namespace: "cert-manager",
  component: "cert-manager",
  crds: ChartCrds::Templates,
};

/// Bump (in `versions.toml`) together with the CRD schemas in
/// `tests/data/crd-schemas/`.
pub(crate) const EXTERNAL_SECRETS: AddonChart = AddonChart {
  release: "external-secrets",
  namespace: crate::names::ESO_NAMESPACE,
  component: "external-secrets",
  crds: ChartCrds::Templates,
};

pub(crate) const KUBE_PROMETHEUS_STACK: AddonChart = AddonChart {
  release: "kube-prometheus-stack",
  namespace: "monitoring",
  component: "kube-prometheus-stack",
  crds: ChartCrds::Folder,
};

/// Calico in policy-only mode on top of the VPC CNI.
pub(crate) const TIGERA_OPERATOR: AddonChart = AddonChart {
  release: "calico",
  namespace: "tigera-operator",
  component: "tigera-operator",
  crds: ChartCrds::Folder,
};

pub(crate) const METRICS_SERVER: AddonChart = AddonChart {
  release: "metrics-server",
  namespace: "kube-system",
  component: "metrics-server",
  crds: ChartCrds::None,
};

/// external-dns keeps the Route53 records of every host (Gateway API
/// HTTPRoutes or Ingresses) pointed at the load balancer.
pub(crate) const EXTERNAL_DNS: AddonChart = AddonChart {
  release: "external-dns",
  namespace: "external-dns",
  component: "external-dns",
  crds: ChartCrds::Folder,
};

/// The Sigstore policy controller: admits into the platform's namespace only
/// images signed by the repository's Deploy workflow (sigstore/helm-charts
/// `charts/policy-controller`). Bump (in `versions.toml`) together with the
/// ClusterImagePolicy schema in `tests/data/crd-schemas/`.
pub(crate) const POLICY_CONTROLLER: AddonChart = AddonChart {
  release: "policy-controller",
  namespace: "cosign-system",
  component: "policy-controller",
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
  component: "aws-load-balancer-controller",
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
  component: "cluster-autoscaler",
  crds: ChartCrds::None,
};

/// Karpenter launches the nodes of each node group (a NodePool and an
/// EC2NodeClass) with `autoscaler: karpenter`. Its CRDs are in the chart's
/// `crds/` folder (`charts/karpenter/Chart.yaml` of
/// aws/karpenter-provider-aws). Bump (in `versions.toml`) together with the
/// NodePool and EC2NodeClass schemas of the conformance suite.
pub(crate) const KARPENTER: AddonChart = AddonChart {
  release: "karpenter",
  namespace: "kube-system",
  component: "karpenter",
  crds: ChartCrds::Folder,
};

/// Argo CD, with `spec.delivery.mode: argocd`: it syncs the services' charts
/// from the repository. Its CRDs are templates (`templates/crds/`,
/// `crds.install: true`).
pub(crate) const ARGO_CD: AddonChart = AddonChart {
  release: "argo-cd",
  namespace: "argocd",
  component: "argo-cd",
  crds: ChartCrds::Templates,
};

/// Service account of the Karpenter controller (EKS Pod Identity).
pub(crate) const KARPENTER_SERVICE_ACCOUNT: &str = "karpenter";

/// Service account of the Cluster Autoscaler; its IAM role is bound to it
/// through EKS Pod Identity.
pub(crate) const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT: &str = "cluster-autoscaler";

/// The Cluster Autoscaler image (its tag per Kubernetes minor version).
pub(crate) const CLUSTER_AUTOSCALER_IMAGE: &str = "cluster-autoscaler-image";

#[cfg(test)]
mod tests {
  use super::*;
  use crate::blueprint::validate::{EKS_EXTENDED, EKS_STANDARD};

  /// Every add-on chart.
  const CHARTS: [AddonChart; 13] = [
    NGINX_GATEWAY_FABRIC,
    INGRESS_NGINX,
    CERT_MANAGER,
    EXTERNAL_SECRETS,
    KUBE_PROMETHEUS_STACK,
    TIGERA_OPERATOR,
    METRICS_SERVER,
    EXTERNAL_DNS,
    POLICY_CONTROLLER,
    AWS_LOAD_BALANCER_CONTROLLER,
    CLUSTER_AUTOSCALER,
    KARPENTER,
    ARGO_CD,
  ];

  #[test]
  fn every_chart_is_a_chart_of_the_version_table() {
    for chart in CHARTS {
      let component = crate::versions::Versions::builtin().get(chart.component);
      assert_eq!(
        component.kind,
        crate::versions::Kind::Chart,
        "{}",
        chart.component
      );
    }
  }

  #[test]
  fn no_platform_can_take_an_add_on_namespace() {
    for chart in CHARTS {
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
      let image = crate::versions::Versions::builtin().get(CLUSTER_AUTOSCALER_IMAGE);
      let tag = image
        .by_kubernetes
        .get(*minor)
        .unwrap_or_else(|| panic!("no image for {minor}"));
      assert!(tag.starts_with(&format!("v{minor}.")), "{tag}");
    }
  }
}
