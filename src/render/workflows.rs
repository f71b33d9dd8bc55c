//! The workflows target: `.github/workflows/` (CI, delivery, releases,
//! rollback, Terraform plan/apply, infrastructure tests) and the Terratest
//! suite in `test/infra/`, one file per template under the same folders of
//! `templates/`.
//!
//! Templates under `templates/.github/workflows/` write GitHub expressions
//! literally (`${{ github.sha }}`); [`protect_expressions`] keeps Tera away
//! from them.

mod actions;
mod expressions;

use std::collections::BTreeMap;

use serde::Serialize;

use super::engine::output_path;
use super::{Engine, Output, terraform};
use crate::blueprint::Resolved;
use crate::blueprint::resolved::ResolvedEnvironment;

pub(crate) use actions::{OI_GEN_RELEASES, flyway_image, python_image};
pub(crate) use expressions::protect as protect_expressions;

/// Where the workflows live in the generated repository.
const WORKFLOWS_DIR: &str = ".github/workflows";

/// Where the Terratest suite lives in the generated repository.
pub(crate) const TERRATEST_DIR: &str = "test/infra";

pub(crate) fn render(
  resolved: &Resolved,
  engine: &Engine,
  out: &mut Output,
) -> Result<(), tera::Error> {
  let data = WorkflowData::new(resolved);
  // The manifest decides which workflows a blueprint has (with Argo CD, no
  // rollback.yml: a rollback is a revert of an image pin's commit).
  let needed = super::manifest::templates(resolved);
  for dir in [WORKFLOWS_DIR, TERRATEST_DIR] {
    for template in Engine::templates_under(dir) {
      if !needed.contains(&template) {
        continue;
      }
      let text = engine.render(&template, &data)?;
      out.add(output_path(&template, None, None), tidy(text));
    }
  }
  Ok(())
}

/// Trailing spaces removed, blank-line runs collapsed, one final newline: the
/// templates can then lay out their loops for the reader. The lines move
/// down in the text's own buffer (the largest workflows are tens of
/// megabytes).
fn tidy(text: String) -> String {
  let mut bytes = text.into_bytes();
  let (mut read, mut written) = (0, 0);
  let mut blank = true;
  while read < bytes.len() {
    let end = bytes[read..]
      .iter()
      .position(|&b| b == b'\n')
      .map_or(bytes.len(), |at| read + at);
    // The line without its trailing whitespace (any Unicode space, as
    // `str::trim_end`).
    let kept = match bytes[read..end].last() {
      Some(last) if last.is_ascii() && !last.is_ascii_whitespace() => end - read,
      _ => std::str::from_utf8(&bytes[read..end]).map_or(end - read, |line| line.trim_end().len()),
    };
    if kept == 0 {
      if !blank {
        bytes[written] = b'\n';
        written += 1;
      }
      blank = true;
    } else {
      blank = false;
      bytes.copy_within(read..read + kept, written);
      written += kept;
      // A last line without its newline gets one.
      if written < bytes.len() {
        bytes[written] = b'\n';
      } else {
        bytes.push(b'\n');
      }
      written += 1;
    }
    read = end + 1;
  }
  bytes.truncate(written);
  while bytes.ends_with(b"\n\n") {
    bytes.pop();
  }
  String::from_utf8(bytes).expect("whole lines of a text are text")
}

#[derive(Serialize)]
struct WorkflowData {
  platform: String,
  region: String,
  branch: String,
  repository: String,
  namespace: String,
  /// Pinned `uses:` values by key (`uses.checkout` …).
  uses: BTreeMap<&'static str, String>,
  versions: Versions,
  services: Vec<ServiceData>,
  /// Services in deploy order: the migrations owner first.
  releases: Vec<Release>,
  environments: Vec<EnvData>,
  first: EnvData,
  database: bool,
  database_name: Option<String>,
  database_version: Option<String>,
  cidr: String,
  kubernetes_version: String,
  terratest_dir: &'static str,
  /// `role-duration-seconds` of the jobs that apply: the Terraform role's
  /// longest session.
  terraform_session_seconds: u32,
  /// The migrations image, when a service's chart runs the migrations.
  migrations: Option<MigrationsImage>,
  /// The ECR finding severities that fail the build (none: the gate only
  /// reports).
  gate: &'static [&'static str],
  /// The keyless signatures: the Deploy workflow's certificate identity and
  /// its issuer.
  signer: Signer,
  /// The blueprint names the AWS account of every environment.
  accounts: bool,
  /// `delivery.mode: argocd`: the deploys commit image pins for Argo CD.
  argocd: bool,
  /// The comment lines at the top of every image pin.
  pin_header: Vec<&'static str>,
  /// `spec.delivery.previews`: what the Preview workflow needs.
  previews: Option<PreviewData>,
}

/// `.github/workflows/preview.yml`.
#[derive(Serialize)]
struct PreviewData {
  /// The GitHub environment of its jobs, whose subject the preview role trusts.
  github_environment: &'static str,
  role: String,
  ttl_hours: u32,
  namespace_prefix: &'static str,
  /// The Kubernetes label every preview namespace carries.
  label: &'static str,
  /// The certificate identity of the preview images' signatures, up to the
  /// pull request's ref (`…/preview.yml@`).
  identity_prefix: String,
  /// The first environment's values file of each chart.
  values_environment: String,
  /// `nginx: gateway`: the routes attach to the Gateway's previews listener.
  gateway: bool,
  listener: &'static str,
  services: Vec<PreviewService>,
  /// The migrations image, built into the preview repository.
  migrations_repository: Option<String>,
  /// The preview images' signatures: this workflow on the pull request's ref.
  signer: Signer,
  secret_store: &'static str,
  /// The Secrets Manager secret with the database's host.
  connection_secret: String,
  database_cidrs: Vec<String>,
  database_port: u16,
}

#[derive(Serialize)]
struct PreviewService {
  name: String,
  context: String,
  /// Where a preview's own build goes.
  repository: String,
  /// The first environment's repository: the image a service the pull
  /// request does not change runs.
  main_repository: String,
  /// After `pr-<number>`, when it has ingress.
  host_tail: Option<String>,
}

/// The Gateway listener preview routes attach to.
pub(crate) const PREVIEW_LISTENER: &str = "https-previews";
/// The label of every preview namespace (its value `"true"`).
pub(crate) const PREVIEW_LABEL: &str = "oi-gen.dev/preview";

impl PreviewData {
  fn new(resolved: &Resolved) -> Option<Self> {
    use crate::blueprint::previews;
    let p = resolved.previews.as_ref()?;
    Some(PreviewData {
      github_environment: previews::GITHUB_ENVIRONMENT,
      role: p.role.clone(),
      ttl_hours: p.ttl_hours,
      namespace_prefix: previews::NAMESPACE_PREFIX,
      label: PREVIEW_LABEL,
      identity_prefix: format!(
        "https://github.com/{}/.github/workflows/preview.yml@",
        resolved.repository
      ),
      values_environment: p.environment.clone(),
      gateway: resolved.addons.nginx == crate::blueprint::model::Nginx::Gateway,
      listener: PREVIEW_LISTENER,
      services: resolved
        .services
        .iter()
        .map(|s| PreviewService {
          name: s.name.clone(),
          context: s.build_context.clone(),
          repository: format!("{}/{}", p.repository_prefix, s.name),
          main_repository: s.environments[0].image_repository.clone(),
          host_tail: p
            .hosts
            .iter()
            .find(|(name, _)| *name == s.name)
            .map(|(_, tail)| tail.clone()),
        })
        .collect(),
      migrations_repository: resolved
        .migrations_owner()
        .map(|owner| format!("{}/{}-migrations", p.repository_prefix, owner.name)),
      signer: Signer {
        identity: format!(
          "https://github.com/{}/.github/workflows/preview.yml@${{{{ github.ref }}}}",
          resolved.repository
        ),
        issuer: crate::names::GITHUB_ACTIONS_ISSUER,
      },
      secret_store: crate::names::SECRET_STORE,
      connection_secret: format!(
        "{}/{}/{}",
        resolved.name,
        p.environment,
        crate::names::DATABASE_KEY
      ),
      database_cidrs: resolved.database_cidrs(),
      database_port: super::charts::values::DATABASE_PORT,
    })
  }
}

#[derive(Serialize)]
struct Signer {
  identity: String,
  issuer: &'static str,
}

/// The migrations image: built from `db/` once per commit into the first
/// environment's registry, promoted like the service images.
#[derive(Serialize)]
struct MigrationsImage {
  /// `<owner>-migrations`: the build job is `build-<name>`.
  name: String,
  owner: String,
  /// ECR repository in the first environment, where the image is built.
  first_repository: String,
}

#[derive(Serialize)]
struct Versions {
  terraform: String,
  tflint: String,
  helm: String,
  checkov: String,
  flyway_image: String,
  /// Where the drift job downloads oi-gen's release binaries from.
  oi_gen_releases: &'static str,
  cosign: String,
  /// `test/infra/go.mod`: the Go toolchain and the modules.
  go: String,
  terratest: String,
  testify: String,
}

#[derive(Serialize)]
struct ServiceData {
  name: String,
  context: String,
  /// ECR repository in the first environment, where the image is built.
  first_repository: String,
}

#[derive(Serialize)]
struct Release {
  service: String,
  uses_database: bool,
  migrations: bool,
}

#[derive(Clone, Serialize)]
struct EnvData {
  name: String,
  approval: bool,
  /// The deploy role, assumed by the jobs of the GitHub environment `name`.
  role: String,
  /// The GitHub environment of the Terraform jobs, and the role they assume.
  infra_environment: String,
  terraform_role: String,
  /// The read-only role of the pull request plans, and the image builds'
  /// role (used in the first environment only).
  terraform_plan_role: String,
  build_role: String,
  /// Its AWS account, when the blueprint names it: the jobs outside any
  /// GitHub environment (plans, builds) name it in the role ARN; without it
  /// they read the repository variable AWS_ACCOUNT_ID.
  account: Option<String>,
  /// `<resource>.<group>` of each custom resource the charts create, which
  /// the deploy role may create once the add-ons are installed.
  custom_resources: Vec<String>,
  cluster: String,
  database_instance: Option<String>,
  state_bucket: String,
  /// The environment images are promoted from.
  previous: Option<String>,
  images: Vec<Image>,
  /// Its ECR registry host, when the blueprint names its account (the
  /// values files then hold it, and the deploy does not pass it).
  registry: Option<String>,
  /// `cluster/check-secrets.sh` exists (External Secrets is on).
  check_secrets: bool,
  /// The migration hook needs the RDS master secret's ARN.
  reads_master_secret: bool,
  /// With Argo CD, an environment that pins by pushing and has a next one:
  /// its deploy waits until its Applications run the new digests, synced
  /// and healthy, so the next environment is promoted only then.
  argocd_wait: bool,
}

#[derive(Clone, Serialize)]
struct Image {
  service: String,
  repository: String,
  /// The same image in the previous environment.
  source_repository: Option<String>,
}

impl WorkflowData {
  fn new(resolved: &Resolved) -> Self {
    let environments: Vec<EnvData> = resolved
      .environments
      .iter()
      .enumerate()
      .map(|(i, env)| EnvData::new(resolved, i, env))
      .collect();
    Self {
      platform: resolved.name.clone(),
      region: resolved.region.clone(),
      branch: resolved.branch.clone(),
      repository: resolved.repository.clone(),
      namespace: resolved.namespace.clone(),
      uses: actions::uses(&resolved.versions),
      versions: {
        let v = &resolved.versions;
        Versions {
          terraform: v.version("terraform-cli").to_string(),
          tflint: v.version("tflint").to_string(),
          helm: v.version("helm").to_string(),
          checkov: v.version("checkov").to_string(),
          flyway_image: actions::flyway_image(v),
          oi_gen_releases: actions::OI_GEN_RELEASES,
          cosign: v.version("cosign").to_string(),
          go: v.version("go").to_string(),
          terratest: v.version("terratest").to_string(),
          testify: v.version("testify").to_string(),
        }
      },
      services: resolved
        .services
        .iter()
        .map(|s| ServiceData {
          name: s.name.clone(),
          context: s.build_context.clone(),
          first_repository: s.environments[0].image_repository.clone(),
        })
        .collect(),
      releases: resolved
        .deploy_order()
        .into_iter()
        .map(|s| Release {
          service: s.name.clone(),
          uses_database: s.uses_database,
          migrations: s.runs_migrations,
        })
        .collect(),
      first: environments[0].clone(),
      environments,
      database: resolved.database.is_some(),
      database_name: resolved.database.as_ref().map(|d| d.name.clone()),
      database_version: resolved.database.as_ref().map(|d| d.major_version.clone()),
      cidr: resolved.platform.spec.network.cidr.clone(),
      kubernetes_version: resolved.kubernetes_version.clone(),
      terratest_dir: TERRATEST_DIR,
      terraform_session_seconds: terraform::TERRAFORM_ROLE_SESSION_SECONDS,
      accounts: resolved.environments.iter().all(|e| e.account.is_some()),
      migrations: resolved.migrations_owner().and_then(|owner| {
        Some(MigrationsImage {
          name: format!("{}-migrations", owner.name),
          owner: owner.name.clone(),
          first_repository: owner.environments[0].migrations_repository.clone()?,
        })
      }),
      gate: resolved.vulnerability_gate.failing(),
      signer: Signer {
        identity: resolved.signer_identity.clone(),
        issuer: crate::names::GITHUB_ACTIONS_ISSUER,
      },
      argocd: resolved.argocd(),
      pin_header: crate::render::charts::argocd::PIN_HEADER
        .lines()
        .map(|line| line.trim_start_matches("# "))
        .collect(),
      previews: PreviewData::new(resolved),
    }
  }
}

impl EnvData {
  /// The `index`th environment in promotion order.
  fn new(resolved: &Resolved, index: usize, env: &ResolvedEnvironment) -> Self {
    let names = &env.names;
    Self {
      name: env.name.clone(),
      approval: env.approval,
      role: names.deploy_role.clone(),
      infra_environment: names.infra_environment.clone(),
      terraform_role: names.terraform_role.clone(),
      terraform_plan_role: names.terraform_plan_role.clone(),
      build_role: names.build_role.clone(),
      account: env.account.clone(),
      custom_resources: super::charts::addons::deployer_custom_resources(resolved)
        .into_iter()
        .map(|(group, resource)| format!("{resource}.{group}"))
        .collect(),
      cluster: names.cluster.clone(),
      database_instance: resolved
        .database
        .as_ref()
        .map(|_| names.database_instance.clone()),
      state_bucket: names.state_bucket.clone(),
      previous: env.previous.clone(),
      images: resolved
        .services
        .iter()
        .map(|s| Image {
          service: s.name.clone(),
          repository: s.environments[index].image_repository.clone(),
          source_repository: index
            .checked_sub(1)
            .map(|p| s.environments[p].image_repository.clone()),
        })
        .chain(resolved.migrations_owner().and_then(|owner| {
          Some(Image {
            service: format!("{}-migrations", owner.name),
            repository: owner.environments[index].migrations_repository.clone()?,
            source_repository: index
              .checked_sub(1)
              .and_then(|p| owner.environments[p].migrations_repository.clone()),
          })
        }))
        .collect(),
      registry: env.registry.clone(),
      check_secrets: resolved.addons.external_secrets,
      reads_master_secret: resolved.database.is_some() && resolved.migrations_owner().is_some(),
      argocd_wait: resolved.argocd() && !env.approval && index + 1 < resolved.environments.len(),
    }
  }
}

#[cfg(test)]
mod tests;
