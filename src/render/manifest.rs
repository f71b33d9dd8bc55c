//! The output manifest: one row per generated file (or family of files),
//! saying where it goes, when it is produced, who owns it and which blueprint
//! fields it comes from. Rendering takes ownership from it, `explain` answers
//! from it, and a test keeps it equal to what the targets produce.
//!
//! A row's `path` is the output path, with `{service}` and `{environment}`
//! standing for every service and every environment, a leading `{build}/`
//! for a service's build context (one or more folders), and a final `*` for
//! every file shipped under the matching folder of `templates/`. Templates
//! mirror the output tree: the template of `infra/vpc.tf` is
//! `templates/infra/vpc.tf.tera`, and a file without `.tera` is shipped as
//! it is.

use super::Ownership;
use crate::blueprint::Resolved;
use crate::blueprint::resolved::{ResolvedEnvironment, ResolvedService};

/// When a row produces its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
  Always,
  /// The blueprint has `spec.database`.
  Database,
  /// The service's chart runs the migrations.
  MigrationsOwner,
  /// A service's chart runs the migrations: the migrations image is built.
  MigrationsImage,
  /// The database runs in one zone in the environment.
  SingleAzDatabase,
  Calico,
  ExternalSecrets,
  /// `nginx: gateway` (NGINX Gateway Fabric).
  Gateway,
  /// `nginx: ingress` (ingress-nginx).
  Ingress,
  CertManager,
  Monitoring,
  /// Grafana is on and its admin secret comes from Secrets Manager.
  GrafanaFromSecrets,
  /// `autoscaler: karpenter`.
  Karpenter,
  /// `autoscaler: cluster-autoscaler` (also when the field is absent).
  ClusterAutoscaler,
  /// The service's build context is its own (the first service building
  /// from it) and outside the folders oi-gen generates: its starter code is
  /// seeded there.
  ServiceCode,
  /// The blueprint has `spec.owners`.
  Owners,
  /// A service lists AWS resources (spec.services[].aws): it gets a role.
  ServiceAccess,
  /// Monitoring has receivers, whose credentials come from Secrets Manager.
  AlertReceivers,
  /// Grafana is on with `nginx: ingress` and a service has ingress: its
  /// request dashboards.
  ServiceDashboards,
  /// `delivery.mode: argocd`.
  ArgoCd,
  /// `delivery.mode: argocd` with the argo-cd chart (no `argocd.managed`).
  ArgoCdChart,
  /// `delivery.argocd.managed`: the EKS Argo CD capability.
  ManagedArgoCd,
  /// `delivery.mode: actions` (also when the field is absent).
  ActionsDelivery,
  /// Not `compute: auto-mode`: the cluster runs its own load balancer
  /// controller.
  NodeGroups,
  /// `compute: auto-mode` (EKS Auto Mode).
  AutoMode,
  /// `spec.delivery.previews` is on.
  Previews,
}

/// Who owns a file once written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
  /// Rewritten by every render; a hand edit is drift.
  Managed,
  /// Managed, but the part between the user-section markers is the user's.
  ManagedWithUserSection,
  /// Created once while the folder holds no file, then the user's.
  SeededWhileEmpty(&'static str),
  /// Created once when missing, then the user's.
  Seeded,
  /// Created once while the file's own folder holds no file, then the
  /// user's: the starter code of a service's build context.
  SeededWhileFolderEmpty,
}

impl Owner {
  pub(crate) fn ownership(self) -> Ownership {
    match self {
      Owner::Managed | Owner::ManagedWithUserSection => Ownership::Managed,
      Owner::SeededWhileEmpty(_) | Owner::Seeded | Owner::SeededWhileFolderEmpty => {
        Ownership::Seeded
      }
    }
  }
}

/// One generated file, or one family of them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
  pub path: &'static str,
  pub when: When,
  pub owner: Owner,
  /// Blueprint fields the file is rendered from.
  pub from: &'static [&'static str],
}

const fn row(path: &'static str, when: When, from: &'static [&'static str]) -> Row {
  Row {
    path,
    when,
    owner: Owner::Managed,
    from,
  }
}

const NAME: &str = "metadata.name";
const REGION: &str = "spec.aws.region";
const SERVICES: &str = "spec.services";
const ENVIRONMENTS: &str = "spec.environments";
const DELIVERY: &str = "spec.delivery";
const DATABASE: &str = "spec.database";
const ADDONS: &str = "spec.cluster.addons";
const CLUSTER: &str = "spec.cluster";
const NETWORK: &str = "spec.network";
const ZONES: &str = "spec.aws.availabilityZones";
const DOMAIN: &str = "spec.domain";
const GITHUB: &str = "spec.delivery.github";
const COMPLIANCE: &str = "spec.compliance";
const NODE_GROUPS: &str = "spec.cluster.nodeGroups";
const NETWORK_POLICY: &str = "spec.cluster.networkPolicy";
const SERVICE: &str = "spec.services[{service}]";
const ENVIRONMENT: &str = "spec.environments[{environment}]";
const DNS: &str = "spec.dns";
const AUTOSCALER: &str = "spec.cluster.autoscaler";
const OWNERS: &str = "spec.owners";
const DELIVERY_MODE: &str = "spec.delivery.mode";
const PREVIEWS: &str = "spec.delivery.previews";
const DELIVERY_ARGOCD: &str = "spec.delivery.argocd";

use When::{ActionsDelivery, ArgoCd, ArgoCdChart, ManagedArgoCd};
use When::{
  AlertReceivers, Always, AutoMode, Calico, CertManager, ClusterAutoscaler, Database,
  ExternalSecrets, Gateway, GrafanaFromSecrets, Ingress, Karpenter, MigrationsImage,
  MigrationsOwner, Monitoring, NodeGroups, Owners, ServiceAccess, ServiceCode, ServiceDashboards,
  SingleAzDatabase,
};

/// A row path starting with this stands for a service's build context
/// (`spec.services[].build`, one or more path segments).
pub(crate) const BUILD: &str = "{build}/";

/// Every file oi-gen generates. Order matters only where paths overlap: the
/// first matching row wins.
pub(crate) static ROWS: &[Row] = &[
  // The repository itself.
  row(".gitignore", Always, &[]),
  // The repository people expect: code owners, pre-commit hooks, Renovate
  // (limited to the files the user owns) and the everyday commands.
  row(".github/CODEOWNERS", Owners, &[OWNERS]),
  row(".pre-commit-config.yaml", Always, &[]),
  row("renovate.json", Always, &[]),
  row("Makefile", Always, &[ENVIRONMENTS, SERVICES]),
  // LF line endings in every checkout, as oi-gen writes them; the user's
  // once written, so a repository's own attributes are never refused.
  Row {
    path: ".gitattributes",
    when: Always,
    owner: Owner::Seeded,
    from: &[],
  },
  row(crate::schema::SCHEMA_PATH, Always, &[]),
  Row {
    path: "README.md",
    when: Always,
    owner: Owner::ManagedWithUserSection,
    from: &[
      NAME,
      REGION,
      DOMAIN,
      SERVICES,
      ENVIRONMENTS,
      DATABASE,
      ADDONS,
      DELIVERY,
    ],
  },
  // Terraform: the root module, applied once per environment.
  row("infra/versions.tf", Always, &[]),
  row("infra/providers.tf", Always, &[NAME, REGION, GITHUB]),
  row("infra/variables.tf", Always, &[NAME, REGION, ENVIRONMENTS]),
  row("infra/locals.tf", Always, &[NAME, GITHUB, SERVICES]),
  row("infra/kms.tf", Always, &[NAME]),
  row(
    "infra/vpc.tf",
    Always,
    &[NAME, NETWORK, ZONES, DATABASE, AUTOSCALER],
  ),
  row("infra/eks.tf", Always, &[NAME, CLUSTER]),
  row("infra/karpenter.tf", Karpenter, &[NAME, AUTOSCALER]),
  row("infra/storage.tf", Always, &[NAME]),
  row(
    "infra/iam.tf",
    Always,
    &[NAME, GITHUB, ENVIRONMENTS, ADDONS, AUTOSCALER],
  ),
  row("infra/ecr.tf", Always, &[NAME, SERVICES]),
  row("infra/rds.tf", Database, &[NAME, DATABASE]),
  row("infra/dns.tf", Always, &[NAME, DOMAIN, DNS, ADDONS]),
  row("infra/load-balancer.tf", NodeGroups, &[NAME, CLUSTER]),
  row("infra/admission.tf", Always, &[NAME, SERVICES]),
  row(
    "infra/policies/aws-load-balancer-controller.json",
    NodeGroups,
    &[CLUSTER],
  ),
  row("infra/outputs.tf", Always, &[NAME, DATABASE, DNS]),
  row(
    "infra/secrets.tf",
    ExternalSecrets,
    &[NAME, SERVICES, ADDONS, DATABASE],
  ),
  row("infra/service-access.tf", ServiceAccess, &[NAME, SERVICES]),
  row(
    "infra/previews.tf",
    When::Previews,
    &[NAME, PREVIEWS, SERVICES],
  ),
  row("infra/.checkov.yaml", Always, &[COMPLIANCE]),
  row("infra/.tflint.hcl", Always, &[COMPLIANCE]),
  row(
    "infra/environments/{environment}.tfvars",
    Always,
    &[ENVIRONMENT, REGION, NODE_GROUPS, DATABASE, DOMAIN, DNS],
  ),
  row(
    "infra/environments/{environment}.s3.tfbackend",
    Always,
    &[ENVIRONMENT, NAME, REGION],
  ),
  row(
    "infra/environments/{environment}.checkov.yaml",
    SingleAzDatabase,
    &[ENVIRONMENT, DATABASE],
  ),
  // Native Terraform tests: each environment planned with AWS mocked.
  row(
    "infra/tests/{environment}.tftest.hcl",
    Always,
    &[
      ENVIRONMENT,
      NAME,
      REGION,
      NODE_GROUPS,
      DATABASE,
      SERVICES,
      GITHUB,
    ],
  ),
  // Terraform: the per-account bootstrap.
  row("infra/bootstrap/versions.tf", Always, &[]),
  row("infra/bootstrap/variables.tf", Always, &[NAME, REGION]),
  row(
    "infra/bootstrap/main.tf",
    Always,
    &[NAME, GITHUB, ENVIRONMENTS],
  ),
  row("infra/bootstrap/outputs.tf", Always, &[ENVIRONMENTS]),
  // Terraform: the GitHub environments, applied by hand.
  row("infra/github/versions.tf", Always, &[GITHUB]),
  row("infra/github/variables.tf", Always, &[GITHUB, ENVIRONMENTS]),
  row("infra/github/main.tf", Always, &[GITHUB, ENVIRONMENTS]),
  // One Helm chart per service.
  row(
    "charts/{service}/Chart.yaml",
    Always,
    &[SERVICE, NAME, CLUSTER],
  ),
  row(
    "charts/{service}/values.yaml",
    Always,
    &[SERVICE, DATABASE, NETWORK, ADDONS],
  ),
  row(
    "charts/{service}/values-{environment}.yaml",
    Always,
    &[SERVICE, ENVIRONMENT, DOMAIN, ADDONS],
  ),
  row(
    "charts/{service}/templates/migrations-*",
    MigrationsOwner,
    &[SERVICE, DATABASE],
  ),
  row(
    "charts/{service}/templates/_migrations.tpl",
    MigrationsOwner,
    &[SERVICE, DATABASE],
  ),
  row("charts/{service}/*", Always, &[SERVICE]),
  // The cluster add-ons.
  row(
    "cluster/install.sh",
    Always,
    &[NAME, ENVIRONMENTS, ADDONS, NETWORK_POLICY],
  ),
  row(
    "cluster/addons/calico/values.yaml",
    Calico,
    &[NETWORK_POLICY],
  ),
  row("cluster/addons/metrics-server/values.yaml", Always, &[]),
  row(
    "cluster/addons/cluster-autoscaler/values.yaml",
    ClusterAutoscaler,
    &[REGION, AUTOSCALER],
  ),
  row(
    "cluster/addons/cluster-autoscaler/values-{environment}.yaml",
    ClusterAutoscaler,
    &[ENVIRONMENT, NAME, AUTOSCALER],
  ),
  row(
    "cluster/addons/karpenter/values.yaml",
    Karpenter,
    &[AUTOSCALER],
  ),
  row(
    "cluster/addons/karpenter/values-{environment}.yaml",
    Karpenter,
    &[ENVIRONMENT, NAME, AUTOSCALER],
  ),
  row(
    "cluster/manifests/{environment}/karpenter.yaml",
    Karpenter,
    &[ENVIRONMENT, NAME, AUTOSCALER, NODE_GROUPS, ZONES],
  ),
  row(
    "cluster/addons/external-secrets/values.yaml",
    ExternalSecrets,
    &[ADDONS],
  ),
  row(
    "cluster/check-secrets.sh",
    ExternalSecrets,
    &[NAME, REGION, SERVICES, ADDONS, DATABASE, ENVIRONMENTS],
  ),
  row("cluster/manifests/deployers.yaml", Always, &[NAME, ADDONS]),
  row(
    "cluster/manifests/previews.yaml",
    When::Previews,
    &[NAME, PREVIEWS, ENVIRONMENTS, GITHUB],
  ),
  row(
    "cluster/manifests/{environment}/quota.yaml",
    Always,
    &[NAME, SERVICES, DATABASE, ADDONS, ENVIRONMENT],
  ),
  row("cluster/manifests/storage-class.yaml", Always, &[CLUSTER]),
  // EKS Auto Mode: the NodePools of the node groups, and the switch that
  // turns on its NetworkPolicy enforcement.
  row(
    "cluster/manifests/{environment}/node-pools.yaml",
    AutoMode,
    &[ENVIRONMENT, CLUSTER, NODE_GROUPS, ZONES],
  ),
  row(
    "cluster/manifests/network-policy.yaml",
    AutoMode,
    &[CLUSTER],
  ),
  row(
    "cluster/manifests/cluster-secret-store.yaml",
    ExternalSecrets,
    &[ADDONS, REGION],
  ),
  row(
    "cluster/addons/nginx-gateway-fabric/values.yaml",
    Gateway,
    &[ADDONS],
  ),
  row(
    "cluster/addons/ingress-nginx/values.yaml",
    Ingress,
    &[ADDONS],
  ),
  row(
    "cluster/addons/cert-manager/values.yaml",
    CertManager,
    &[ADDONS],
  ),
  row(
    "cluster/manifests/{environment}/cluster-issuers.yaml",
    CertManager,
    &[ENVIRONMENT, DOMAIN, DNS, ADDONS, REGION],
  ),
  row(
    "cluster/addons/external-dns/values.yaml",
    Always,
    &[ADDONS, REGION],
  ),
  row(
    "cluster/addons/external-dns/values-{environment}.yaml",
    Always,
    &[ENVIRONMENT, NAME, DOMAIN, DNS],
  ),
  row("cluster/manifests/addon-network-policies.yaml", Always, &[]),
  row(
    "cluster/addons/aws-load-balancer-controller/values.yaml",
    NodeGroups,
    &[REGION, CLUSTER],
  ),
  row(
    "cluster/addons/aws-load-balancer-controller/values-{environment}.yaml",
    NodeGroups,
    &[ENVIRONMENT, NAME, CLUSTER],
  ),
  row(
    "cluster/manifests/{environment}/gateway.yaml",
    Gateway,
    &[ENVIRONMENT, SERVICES, DOMAIN, ADDONS],
  ),
  row(
    "cluster/addons/kube-prometheus-stack/values.yaml",
    Monitoring,
    &[ADDONS],
  ),
  row(
    "cluster/manifests/{environment}/grafana-admin.yaml",
    GrafanaFromSecrets,
    &[ADDONS, NAME, ENVIRONMENT],
  ),
  row("cluster/addons/policy-controller/values.yaml", Always, &[]),
  row(
    "cluster/manifests/{environment}/image-policy.yaml",
    Always,
    &[NAME, REGION, ENVIRONMENT, GITHUB],
  ),
  row(
    "cluster/manifests/{environment}/alertmanager-receivers.yaml",
    AlertReceivers,
    &[ADDONS, NAME, ENVIRONMENT],
  ),
  row(
    "cluster/manifests/alerts.yaml",
    Monitoring,
    &[ADDONS, SERVICES],
  ),
  row(
    "cluster/manifests/dashboards.yaml",
    ServiceDashboards,
    &[ADDONS, SERVICES],
  ),
  // GitOps delivery with Argo CD: its values, each environment's AppProject
  // and Applications, and the image pins the workflows commit (seeded once,
  // then the workflows' state, never drift).
  row(
    "cluster/addons/argo-cd/values.yaml",
    ArgoCdChart,
    &[DELIVERY_MODE, DELIVERY_ARGOCD],
  ),
  row(
    "cluster/manifests/{environment}/applications.yaml",
    ArgoCd,
    &[DELIVERY_MODE, ENVIRONMENT, SERVICES, NAME, GITHUB],
  ),
  row(
    "cluster/manifests/argocd-readers.yaml",
    ArgoCd,
    &[DELIVERY_MODE, NAME],
  ),
  // The EKS managed Argo CD capability instead of the chart: the capability
  // (Terraform), and what install.sh gives it in the cluster (the cluster
  // Secret it deploys through, its Kubernetes permissions).
  row("infra/argocd.tf", ManagedArgoCd, &[DELIVERY_ARGOCD, NAME]),
  row(
    "cluster/manifests/argocd-capability.yaml",
    ManagedArgoCd,
    &[DELIVERY_ARGOCD, NAME],
  ),
  Row {
    path: "deploy/{environment}/images/{service}.yaml",
    when: ArgoCd,
    owner: Owner::Seeded,
    from: &[DELIVERY_MODE, ENVIRONMENT, SERVICE],
  },
  // GitHub Actions.
  row(
    ".github/workflows/ci.yml",
    Always,
    &[SERVICES, DATABASE, DELIVERY],
  ),
  row(
    ".github/workflows/deploy.yml",
    Always,
    &[SERVICES, ENVIRONMENTS, DELIVERY, REGION],
  ),
  row(
    ".github/workflows/release.yml",
    Always,
    &[SERVICES, ENVIRONMENTS, DELIVERY, REGION],
  ),
  row(
    ".github/workflows/rollback.yml",
    ActionsDelivery,
    &[SERVICES, ENVIRONMENTS, DELIVERY, REGION],
  ),
  row(
    ".github/workflows/preview.yml",
    When::Previews,
    &[SERVICES, ENVIRONMENTS, PREVIEWS, DATABASE, REGION],
  ),
  row(
    ".github/workflows/terraform.yml",
    Always,
    &[ENVIRONMENTS, DELIVERY, REGION],
  ),
  row(
    ".github/workflows/infra-test.yml",
    Always,
    &[ENVIRONMENTS, DELIVERY, REGION],
  ),
  row("test/infra/go.mod", Always, &[]),
  row(
    "test/infra/infra_test.go",
    Always,
    &[NAME, NETWORK, CLUSTER, DATABASE],
  ),
  // Flyway.
  row("db/flyway.toml", Database, &[DATABASE, ENVIRONMENTS]),
  row("db/Dockerfile", MigrationsImage, &[DATABASE, SERVICES]),
  Row {
    path: "db/migrations/V1__baseline.sql",
    when: Database,
    owner: Owner::SeededWhileEmpty(crate::migrations::DIR),
    from: &[DATABASE],
  },
  // Starter code of each service, so the first push builds, deploys and
  // passes its probes: seeded while the build context holds no file.
  Row {
    path: "{build}/Dockerfile",
    when: ServiceCode,
    owner: Owner::SeededWhileFolderEmpty,
    from: &[SERVICE],
  },
  Row {
    path: "{build}/server.py",
    when: ServiceCode,
    owner: Owner::SeededWhileFolderEmpty,
    from: &[SERVICE],
  },
  Row {
    path: "{build}/.dockerignore",
    when: ServiceCode,
    owner: Owner::SeededWhileFolderEmpty,
    from: &[SERVICE],
  },
];

/// Whether a service's starter code is seeded: it is the first service
/// built from its context, and the context is not under a folder oi-gen
/// generates into (there the folder's own rows decide).
pub(crate) fn seeds_code(resolved: &Resolved, service: &ResolvedService) -> bool {
  let context = service.build_context.as_str();
  let first = context.split('/').next().unwrap_or_default();
  let generated = ROWS
    .iter()
    .filter(|row| !row.path.starts_with(BUILD))
    .filter_map(|row| row.path.split_once('/').map(|(top, _)| top))
    .any(|top| top == first);
  !generated
    && resolved
      .services
      .iter()
      .find(|s| s.build_context == service.build_context)
      .is_some_and(|s| s.name == service.name)
}

/// What a row's `{service}` and `{environment}` stand for in one file.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Item<'a> {
  pub service: Option<&'a ResolvedService>,
  pub environment: Option<&'a ResolvedEnvironment>,
}

impl When {
  /// Whether the row produces its file for `item`.
  pub(crate) fn holds(self, resolved: &Resolved, item: Item<'_>) -> bool {
    let addons = &resolved.addons;
    match self {
      Always => true,
      Database => resolved.database.is_some(),
      MigrationsOwner => item.service.is_some_and(|s| s.runs_migrations),
      MigrationsImage => resolved.migrations_owner().is_some(),
      SingleAzDatabase => item
        .environment
        .and_then(|e| e.database.as_ref())
        .is_some_and(|db| !db.multi_az),
      Calico => addons.calico,
      Karpenter => resolved.autoscaler == crate::blueprint::model::Autoscaler::Karpenter,
      ClusterAutoscaler => resolved.cluster_autoscaler(),
      NodeGroups => !resolved.auto_mode,
      AutoMode => resolved.auto_mode,
      ExternalSecrets => addons.external_secrets,
      Gateway => addons.nginx == crate::blueprint::model::Nginx::Gateway,
      Ingress => addons.nginx == crate::blueprint::model::Nginx::Ingress,
      CertManager => addons.cert_manager.is_some(),
      ServiceAccess => resolved.services.iter().any(|s| !s.aws.is_empty()),
      Monitoring => addons.monitoring,
      GrafanaFromSecrets => addons.monitoring && addons.grafana && addons.external_secrets,
      ServiceCode => item.service.is_some_and(|s| seeds_code(resolved, s)),
      Owners => resolved.platform.spec.owners.is_some(),
      AlertReceivers => {
        addons.monitoring && addons.external_secrets && addons.monitoring_settings.has_receivers()
      }
      ArgoCd => resolved.argocd(),
      ArgoCdChart => resolved.argocd() && resolved.managed_argocd.is_none(),
      ManagedArgoCd => resolved.managed_argocd.is_some(),
      ActionsDelivery => !resolved.argocd(),
      When::Previews => resolved.previews.is_some(),
      ServiceDashboards => {
        addons.monitoring
          && addons.grafana
          && addons.nginx == crate::blueprint::model::Nginx::Ingress
          && resolved.services.iter().any(|s| s.ingress_path.is_some())
      }
    }
  }
}

/// A generated path matched to its row, with the service and environment it
/// was expanded for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Match<'a> {
  pub row: &'static Row,
  pub item: Item<'a>,
}

impl Match<'_> {
  /// The row's blueprint fields, with the service and environment filled in
  /// (`spec.services[0] (backend)`).
  pub(crate) fn fields(&self, resolved: &Resolved) -> Vec<String> {
    self
      .row
      .from
      .iter()
      .map(|field| {
        let mut field = (*field).to_string();
        if let Some(service) = self.item.service {
          let i = resolved
            .services
            .iter()
            .position(|s| s.name == service.name)
            .unwrap_or_default();
          field = field.replace("[{service}]", &format!("[{i}] ({})", service.name));
        }
        if let Some(environment) = self.item.environment {
          let i = resolved
            .environments
            .iter()
            .position(|e| e.name == environment.name)
            .unwrap_or_default();
          field = field.replace("[{environment}]", &format!("[{i}] ({})", environment.name));
        }
        field
      })
      .collect()
  }
}

/// The row a generated path comes from, whether or not the blueprint
/// produces it today.
pub(crate) fn find<'a>(resolved: &'a Resolved, path: &str) -> Option<Match<'a>> {
  ROWS.iter().find_map(|row| {
    if let Some(rest) = row.path.strip_prefix(BUILD) {
      return resolved
        .services
        .iter()
        .find(|s| {
          path
            .strip_prefix(s.build_context.as_str())
            .and_then(|p| p.strip_prefix('/'))
            == Some(rest)
        })
        .map(|service| Match {
          row,
          item: Item {
            service: Some(service),
            environment: None,
          },
        });
    }
    let mut item = Item::default();
    let mut pattern = row.path.split('/');
    let mut parts = path.split('/');
    loop {
      match (pattern.next(), parts.next()) {
        (None, None) => break,
        (Some(want), Some(got)) if want.ends_with('*') => {
          if got.starts_with(want.trim_end_matches('*')) {
            break;
          }
          return None;
        }
        (Some(want), Some(got)) => {
          if !segment(resolved, want, got, &mut item) {
            return None;
          }
        }
        _ => return None,
      }
    }
    Some(Match { row, item })
  })
}

/// Whether one path segment matches one pattern segment, noting the
/// service or environment it names.
fn segment<'a>(resolved: &'a Resolved, want: &str, got: &str, item: &mut Item<'a>) -> bool {
  for (placeholder, is_service) in [("{service}", true), ("{environment}", false)] {
    let Some((before, after)) = want.split_once(placeholder) else {
      continue;
    };
    let Some(name) = got
      .strip_prefix(before)
      .and_then(|rest| rest.strip_suffix(after))
    else {
      return false;
    };
    return if is_service {
      item.service = resolved.service(name);
      item.service.is_some()
    } else {
      item.environment = resolved.environment(name);
      item.environment.is_some()
    };
  }
  want == got
}

/// The row of a generated path, whatever its service and environment are
/// called.
pub(crate) fn row_of(path: &str) -> Option<&'static Row> {
  let index = &*ROW_INDEX;
  if let Some(row) = index.exact.get(path) {
    return Some(row);
  }
  let first = path.split('/').next().unwrap_or_default();
  let pattern = index.patterns.get(first).and_then(|rows| rows.find(path));
  // Then a file in some service's build context.
  pattern.or_else(|| {
    index.build.iter().copied().find(|row| {
      let rest = &row.path[BUILD.len()..];
      path
        .strip_suffix(rest)
        .is_some_and(|context| context.len() > 1 && context.ends_with('/'))
    })
  })
}

/// The rows by exact path, and the others by their first path segment, in
/// table order: one render looks up every file it writes.
struct RowIndex {
  exact: std::collections::HashMap<&'static str, &'static Row>,
  patterns: std::collections::HashMap<&'static str, Patterns>,
  /// The rows under a build context, whatever its folder.
  build: Vec<&'static Row>,
}

/// The pattern rows under one first segment: by the file name they end in
/// when it is fixed, the others apart; each with its place in the table, so
/// a lookup finds the first row that fits, as a scan of the table would.
#[derive(Default)]
struct Patterns {
  by_name: std::collections::HashMap<&'static str, Vec<(usize, &'static Row)>>,
  others: Vec<(usize, &'static Row)>,
}

impl Patterns {
  fn add(&mut self, at: usize, row: &'static Row) {
    let name = row.path.rsplit('/').next().unwrap_or_default();
    // A `*` anywhere ends the comparison there: such a row may fit any
    // file name.
    if row.path.contains('*') || name.contains('{') {
      self.others.push((at, row));
    } else {
      self.by_name.entry(name).or_default().push((at, row));
    }
  }

  fn find(&self, path: &str) -> Option<&'static Row> {
    let fits = |(_, row): &&(usize, &'static Row)| loose_match(row.path, path);
    let name = path.rsplit('/').next().unwrap_or_default();
    let named = self
      .by_name
      .get(name)
      .and_then(|rows| rows.iter().find(fits));
    let other = self.others.iter().find(fits);
    match (named, other) {
      (Some(a), Some(b)) => Some(if a.0 < b.0 { a.1 } else { b.1 }),
      (a, b) => a.or(b).map(|(_, row)| *row),
    }
  }
}

static ROW_INDEX: std::sync::LazyLock<RowIndex> = std::sync::LazyLock::new(|| {
  let mut index = RowIndex {
    exact: std::collections::HashMap::new(),
    patterns: std::collections::HashMap::new(),
    build: Vec::new(),
  };
  for (at, row) in ROWS.iter().enumerate() {
    if row.path.starts_with(BUILD) {
      index.build.push(row);
    } else if row.path.contains(['{', '*']) {
      let first = row.path.split('/').next().unwrap_or_default();
      index.patterns.entry(first).or_default().add(at, row);
    } else {
      index.exact.entry(row.path).or_insert(row);
    }
  }
  index
});

/// Whether `path` fits the row path `pattern`, a placeholder standing for
/// any name and a final `*` for any rest.
fn loose_match(pattern: &str, path: &str) -> bool {
  let mut pattern = pattern.split('/');
  let mut parts = path.split('/');
  loop {
    match (pattern.next(), parts.next()) {
      (None, None) => return true,
      (Some(want), Some(got)) if want.ends_with('*') => {
        return got.starts_with(want.trim_end_matches('*'));
      }
      (Some(want), Some(got)) => {
        if !loose_segment(want, got) {
          return false;
        }
      }
      _ => return false,
    }
  }
}

/// Whether a segment matches, a placeholder standing for any name.
fn loose_segment(want: &str, got: &str) -> bool {
  let Some(open) = want.find('{') else {
    return want == got;
  };
  let close = want[open..]
    .find('}')
    .map_or(want.len(), |end| open + end + 1);
  let (before, after) = (&want[..open], &want[close..]);
  got.len() > before.len() + after.len() && got.starts_with(before) && got.ends_with(after)
}

/// The row of a path the blueprint produces today.
#[cfg(test)]
pub(crate) fn produced<'a>(resolved: &'a Resolved, path: &str) -> Option<Match<'a>> {
  find(resolved, path).filter(|m| m.row.when.holds(resolved, m.item))
}

/// The templates a blueprint renders: those of the rows it produces at
/// least one file of (a row's template is at its path plus `.tera`).
pub(crate) fn templates(resolved: &Resolved) -> std::collections::BTreeSet<String> {
  ROWS
    .iter()
    .filter(|row| !row.path.ends_with('*'))
    .filter(|row| items(resolved, row).any(|item| row.when.holds(resolved, item)))
    .map(|row| format!("{}.tera", row.path))
    .collect()
}

/// Every service and environment a row's placeholders stand for.
fn items<'a>(resolved: &'a Resolved, row: &Row) -> impl Iterator<Item = Item<'a>> + 'a {
  let services: Vec<Option<&ResolvedService>> =
    if row.path.contains("{service}") || row.path.starts_with(BUILD) {
      resolved.services.iter().map(Some).collect()
    } else {
      vec![None]
    };
  let environments: Vec<Option<&ResolvedEnvironment>> = if row.path.contains("{environment}") {
    resolved.environments.iter().map(Some).collect()
  } else {
    vec![None]
  };
  services.into_iter().flat_map(move |service| {
    environments
      .clone()
      .into_iter()
      .map(move |environment| Item {
        service,
        environment,
      })
  })
}

/// A row's path with its placeholders filled in.
#[cfg(test)]
pub(crate) fn expand(path: &str, service: Option<&str>, environment: Option<&str>) -> String {
  let mut out = path.to_string();
  if let Some(service) = service {
    out = out.replace("{service}", service);
  }
  if let Some(environment) = environment {
    out = out.replace("{environment}", environment);
  }
  out
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::render::{Engine, Output};

  /// The built-in blueprints, and variants that turn the other choices on.
  fn blueprints() -> Vec<(String, Resolved)> {
    let mut texts = Vec::new();
    for builtin in crate::builtin::all() {
      texts.push((builtin.name.to_string(), builtin.text.to_string()));
    }
    let default = crate::builtin::get(crate::builtin::DEFAULT).unwrap().text;
    texts.push((
      "ingress, no NAT".into(),
      default
        .replace("nginx: gateway", "nginx: ingress")
        .replace("natGateways: onePerAz", "natGateways: none"),
    ));
    texts.push((
      "vpc-cni, no monitoring".into(),
      crate::builtin::without_monitoring(default)
        .replace("networkPolicy: calico", "networkPolicy: vpc-cni"),
    ));
    texts
      .into_iter()
      .map(|(name, text)| {
        let loaded =
          crate::blueprint::load(text.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        (name, loaded.resolved)
      })
      .collect()
  }

  fn render(resolved: &Resolved) -> Output {
    crate::render::render(resolved, &Engine::new().unwrap()).unwrap()
  }

  #[test]
  fn every_generated_file_is_produced_by_its_row() {
    for (name, resolved) in blueprints() {
      for path in render(&resolved).files.keys() {
        let found = produced(&resolved, path)
          .unwrap_or_else(|| panic!("{name}: `{path}` is not produced by any row"));
        let loose = row_of(path).expect("a row");
        assert!(std::ptr::eq(found.row, loose), "{name}: {path}");
        assert!(std::ptr::eq(loose, scan(path).unwrap()), "{name}: {path}");
      }
    }
  }

  /// The row of `path` by a scan of the whole table, as the index must
  /// find it.
  fn scan(path: &str) -> Option<&'static Row> {
    let first = path.split('/').next().unwrap_or_default();
    ROWS
      .iter()
      .find(|row| {
        !row.path.starts_with(BUILD)
          && (row.path == path
            || (row.path.contains(['{', '*'])
              && row.path.split('/').next() == Some(first)
              && loose_match(row.path, path)))
      })
      .or_else(|| {
        ROWS.iter().find(|row| {
          row.path.starts_with(BUILD)
            && path
              .strip_suffix(&row.path[BUILD.len()..])
              .is_some_and(|context| context.len() > 1 && context.ends_with('/'))
        })
      })
  }

  /// Paths that no built-in produces find the same row, or none, through
  /// the index as through a scan of the table.
  #[test]
  fn the_row_index_finds_what_a_scan_finds() {
    let mut paths: Vec<String> = ROWS
      .iter()
      .map(|row| {
        row
          .path
          .replace("{service}", "x")
          .replace("{environment}", "e")
          .replace('*', "y")
      })
      .collect();
    paths.extend(
      [
        "charts/a/templates/extra.yaml",
        "charts/a/b/c/d",
        "infra/x.tf",
        "cluster/manifests/e/other.yaml",
        "services/s/Dockerfile",
        "services/s/sub/Dockerfile",
        "README.md",
        "nope/file",
        ".github/workflows/x.yml",
      ]
      .map(String::from),
    );
    for path in &paths {
      let indexed = row_of(path).map(|row| row.path);
      assert_eq!(indexed, scan(path).map(|row| row.path), "{path}");
    }
  }

  #[test]
  fn a_path_without_a_row_fails_the_render() {
    let mut out = Output::default();
    out.add("infra/unlisted.tf", "");
    assert_eq!(out.unlisted, ["infra/unlisted.tf"]);
    assert!(row_of("charts/web/values-staging.yaml").is_some());
    assert!(row_of("infra/environments/.tfvars").is_none());
    assert_eq!(
      row_of("db/migrations/V1__baseline.sql").map(|r| r.owner),
      Some(Owner::SeededWhileEmpty(crate::migrations::DIR))
    );
  }

  #[test]
  fn every_row_that_holds_is_generated() {
    for (name, resolved) in blueprints() {
      let output = render(&resolved);
      for row in ROWS {
        for item in items(&resolved, row) {
          {
            let path = expand(
              &row.path.replace(
                "{build}",
                item.service.map_or("", |s| s.build_context.as_str()),
              ),
              item.service.map(|s| s.name.as_str()),
              item.environment.map(|e| e.name.as_str()),
            );
            let present = match path.strip_suffix('*') {
              Some(prefix) => output.files.keys().any(|p| p.starts_with(prefix)),
              None => output.files.contains_key(&path),
            };
            assert_eq!(
              present,
              row.when.holds(&resolved, item),
              "{name}: `{path}` ({:?})",
              row.when
            );
          }
        }
      }
    }
  }

  #[test]
  fn explain_fields_name_the_service_and_environment() {
    let (_, resolved) = blueprints().remove(0);
    let service = &resolved.services[1].name;
    let environment = &resolved.environments[1].name;
    let path = format!("charts/{service}/values-{environment}.yaml");
    let found = produced(&resolved, &path).expect("a row");
    assert_eq!(
      found.fields(&resolved)[..2],
      [
        format!("spec.services[1] ({service})"),
        format!("spec.environments[1] ({environment})"),
      ]
    );
    assert!(produced(&resolved, "charts/nope/values.yaml").is_none());
    assert!(produced(&resolved, "infra/nope.tf").is_none());
  }
}
