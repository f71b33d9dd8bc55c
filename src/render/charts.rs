//! The charts target: one hardened Helm chart per service under
//! `charts/<service>/`, and the cluster add-ons under `cluster/`.
//!
//! Chart templates do not depend on the blueprint: they are shipped as they
//! are, so Helm's `{{ }}` never meets our template engine. What the blueprint
//! decides lives in the values files, serialized from typed structs.

pub mod addons;
pub mod values;
pub mod versions;

use serde::Serialize;

use super::{Engine, Output};
use crate::blueprint::Platform;

/// Embedded folder with the chart skeleton shared by every service.
const CHART_TEMPLATES: &str = "charts/service";

/// Version of the generated charts; the image tag is the release version.
pub const CHART_VERSION: &str = "0.1.0";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChartYaml {
  api_version: &'static str,
  name: String,
  description: String,
  #[serde(rename = "type")]
  kind: &'static str,
  version: &'static str,
  app_version: &'static str,
  kube_version: String,
}

fn yaml(value: &impl Serialize) -> String {
  serde_yaml_ng::to_string(value).expect("plain data serializes")
}

pub fn render(platform: &Platform, engine: &Engine, out: &mut Output) -> Result<(), tera::Error> {
  for service in &platform.spec.services {
    let dir = format!("charts/{}", service.name);
    out.managed(
      format!("{dir}/Chart.yaml"),
      yaml(&ChartYaml {
        api_version: "v2",
        name: service.name.clone(),
        description: format!("{} of the {} platform", service.name, platform.name()),
        kind: "application",
        version: CHART_VERSION,
        app_version: CHART_VERSION,
        kube_version: format!(">= {}.0-0", platform.kubernetes_version()),
      }),
    );
    for (relative, text) in engine.texts_under(CHART_TEMPLATES) {
      out.managed(format!("{dir}/{relative}"), text);
    }
    out.managed(
      format!("{dir}/values.yaml"),
      yaml(&values::values(platform, service)),
    );
    for environment in &platform.spec.environments {
      out.managed(
        format!("{dir}/values-{}.yaml", environment.name),
        yaml(&values::env_values(platform, service, environment)),
      );
    }
  }
  addons::render(platform, engine, out)
}
