//! The template paths of oi-gen 0.1, before templates mirrored the output
//! tree. Overrides in `.oi-gen/templates/` at an old path still apply, with
//! a deprecation warning, and `oi-gen upgrade` moves them to the new path.

/// Old folder or file → new one, the first match winning. A folder maps
/// every file under it.
const MOVES: &[(&str, &str)] = &[
  ("terraform/checkov.yaml.tera", "infra/.checkov.yaml.tera"),
  ("terraform/tflint.hcl.tera", "infra/.tflint.hcl.tera"),
  (
    "terraform/environment.tfvars.tera",
    "infra/environments/{environment}.tfvars.tera",
  ),
  (
    "terraform/environment.s3.tfbackend.tera",
    "infra/environments/{environment}.s3.tfbackend.tera",
  ),
  (
    "terraform/environment.checkov.yaml.tera",
    "infra/environments/{environment}.checkov.yaml.tera",
  ),
  ("terraform/", "infra/"),
  ("workflows/macros.tera", ".github/workflows/_macros.tera"),
  ("workflows/", ".github/workflows/"),
  ("terratest/", "test/infra/"),
  ("docs/README.md.tera", "README.md.tera"),
  ("flyway/flyway.toml.tera", "db/flyway.toml.tera"),
  (
    "flyway/V1__baseline.sql.tera",
    "db/migrations/V1__baseline.sql.tera",
  ),
  ("repo/gitignore", ".gitignore.tera"),
  ("charts/service/", "charts/{service}/"),
];

/// The current path of a template known by its old path, if it has one.
pub(crate) fn moved(old: &str) -> Option<String> {
  MOVES.iter().find_map(|(from, to)| {
    if from.ends_with('/') {
      old.strip_prefix(from).map(|rest| format!("{to}{rest}"))
    } else {
      (old == *from).then(|| (*to).to_string())
    }
  })
}

#[cfg(test)]
mod tests {
  use super::moved;
  use crate::render::Engine;

  #[test]
  fn every_old_template_path_moves_to_an_embedded_template() {
    for old in [
      "terraform/vpc.tf.tera",
      "terraform/bootstrap/main.tf.tera",
      "terraform/checkov.yaml.tera",
      "terraform/tflint.hcl.tera",
      "terraform/environment.tfvars.tera",
      "terraform/environment.s3.tfbackend.tera",
      "terraform/environment.checkov.yaml.tera",
      "workflows/ci.yml.tera",
      "workflows/macros.tera",
      "terratest/infra_test.go.tera",
      "docs/README.md.tera",
      "flyway/flyway.toml.tera",
      "flyway/V1__baseline.sql.tera",
      "repo/gitignore",
      "charts/service/templates/deployment.yaml",
      "charts/service/values.schema.json",
    ] {
      let new = moved(old).unwrap_or_else(|| panic!("{old} has no new path"));
      assert!(
        Engine::file(&new).is_some(),
        "{old} → {new} is not embedded"
      );
    }
    assert_eq!(moved("cluster/install.sh.tera"), None);
    assert_eq!(moved("infra/vpc.tf.tera"), None);
  }
}
