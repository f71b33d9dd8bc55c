//! The workflows target: `.github/workflows/` (CI, delivery, releases,
//! rollback, Terraform plan/apply, infrastructure tests) and the Terratest
//! suite in `test/infra/`.
//!
//! Templates under `templates/workflows/` write GitHub expressions literally
//! (`${{ github.sha }}`); [`protect_expressions`] keeps Tera away from them.

mod actions;
mod expressions;

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Engine, Output, terraform};
use crate::blueprint::Platform;
use crate::blueprint::model::{Environment, Service};
use crate::names;

pub(crate) use actions::FLYWAY_IMAGE;
pub use expressions::protect as protect_expressions;

/// The generated workflows: template name and output file name.
const WORKFLOWS: &[&str] = &[
  "ci",
  "deploy",
  "release",
  "rollback",
  "terraform",
  "infra-test",
];

/// Where the Terratest suite lives in the generated repository.
pub const TERRATEST_DIR: &str = "test/infra";

pub fn render(platform: &Platform, engine: &Engine, out: &mut Output) -> Result<(), tera::Error> {
  let data = Data::new(platform);
  for name in WORKFLOWS {
    let text = engine.render(&format!("workflows/{name}.yml.tera"), &data)?;
    out.managed(format!(".github/workflows/{name}.yml"), tidy(&text));
  }
  for (template, file) in [
    ("terratest/go.mod.tera", "go.mod"),
    ("terratest/infra_test.go.tera", "infra_test.go"),
  ] {
    let text = engine.render(template, &data)?;
    out.managed(format!("{TERRATEST_DIR}/{file}"), tidy(&text));
  }
  Ok(())
}

/// Trailing spaces removed, blank-line runs collapsed, one final newline: the
/// templates can then lay out their loops for the reader.
fn tidy(text: &str) -> String {
  let mut out = String::with_capacity(text.len());
  let mut blank = true;
  for line in text.lines() {
    let line = line.trim_end();
    if line.is_empty() {
      if !blank {
        out.push('\n');
      }
      blank = true;
      continue;
    }
    blank = false;
    out.push_str(line);
    out.push('\n');
  }
  while out.ends_with("\n\n") {
    out.pop();
  }
  out
}

#[derive(Serialize)]
struct Data {
  platform: String,
  region: String,
  branch: String,
  repository: String,
  namespace: String,
  oi_gen_version: &'static str,
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
}

#[derive(Serialize)]
struct Versions {
  terraform: &'static str,
  tflint: &'static str,
  helm: &'static str,
  checkov: &'static str,
  flyway_image: &'static str,
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
  cluster: String,
  database_instance: Option<String>,
  state_bucket: String,
  /// The environment images are promoted from.
  previous: Option<String>,
  images: Vec<Image>,
}

#[derive(Clone, Serialize)]
struct Image {
  service: String,
  repository: String,
  /// The same image in the previous environment.
  source_repository: Option<String>,
}

impl Data {
  fn new(platform: &Platform) -> Self {
    let spec = &platform.spec;
    let environments: Vec<EnvData> = spec
      .environments
      .iter()
      .enumerate()
      .map(|(i, env)| {
        let previous = i.checked_sub(1).map(|p| &spec.environments[p]);
        EnvData::new(platform, env, previous)
      })
      .collect();
    let first_env = &spec.environments[0];
    Self {
      platform: platform.name().to_string(),
      region: platform.region().trim().to_string(),
      branch: platform.branch().to_string(),
      repository: spec.delivery.github.repository.clone(),
      namespace: names::app_namespace(platform),
      oi_gen_version: env!("CARGO_PKG_VERSION"),
      uses: actions::PINS.iter().map(|p| (p.key, p.uses())).collect(),
      versions: Versions {
        terraform: actions::TERRAFORM,
        tflint: actions::TFLINT,
        helm: actions::HELM,
        checkov: actions::CHECKOV,
        flyway_image: actions::FLYWAY_IMAGE,
      },
      services: spec
        .services
        .iter()
        .map(|s| ServiceData {
          name: s.name.clone(),
          context: s.build_context(),
          first_repository: names::ecr_repository(platform, first_env, s),
        })
        .collect(),
      releases: deploy_order(platform)
        .into_iter()
        .map(|s| Release {
          service: s.name.clone(),
          uses_database: spec.database.is_some() && s.uses_database(),
          migrations: super::charts::values::runs_migrations(platform, s),
        })
        .collect(),
      first: environments[0].clone(),
      environments,
      database: spec.database.is_some(),
      database_name: spec.database.as_ref().map(|d| d.name.clone()),
      database_version: spec.database.as_ref().map(|d| d.major_version()),
      cidr: spec.network.cidr.clone(),
      kubernetes_version: platform.kubernetes_version(),
      terratest_dir: TERRATEST_DIR,
      terraform_session_seconds: terraform::TERRAFORM_ROLE_SESSION_SECONDS,
    }
  }
}

impl EnvData {
  fn new(platform: &Platform, env: &Environment, previous: Option<&Environment>) -> Self {
    Self {
      name: env.name.clone(),
      approval: env.approval,
      role: names::deploy_role(platform, env),
      infra_environment: names::infra_environment(platform, env),
      terraform_role: names::terraform_role(platform, env),
      cluster: names::cluster(platform, env),
      database_instance: platform
        .spec
        .database
        .as_ref()
        .map(|_| names::database_instance(platform, env)),
      state_bucket: names::state_bucket(platform, env),
      previous: previous.map(|p| p.name.clone()),
      images: platform
        .spec
        .services
        .iter()
        .map(|s| Image {
          service: s.name.clone(),
          repository: names::ecr_repository(platform, env, s),
          source_repository: previous.map(|p| names::ecr_repository(platform, p, s)),
        })
        .collect(),
    }
  }
}

/// Services in deploy order: the owner of the migrations first (its chart
/// runs them as a pre-upgrade hook), then the others as the blueprint lists
/// them.
fn deploy_order(platform: &Platform) -> Vec<&Service> {
  let services = &platform.spec.services;
  let owner = services.iter().filter(|s| s.runs_migrations);
  let others = services.iter().filter(|s| !s.runs_migrations);
  owner.chain(others).collect()
}

#[cfg(test)]
mod tests;
