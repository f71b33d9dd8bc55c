//! The actions the workflows use and the tools they install: components of
//! the version table (`versions.toml`), each action pinned to the full
//! commit SHA of its release tag there.

use crate::versions::Versions;

/// The templates' names of the actions (`uses.checkout` …), each with its
/// component.
pub(super) const ACTIONS: &[(&str, &str)] = &[
  ("checkout", "actions-checkout"),
  ("setup_buildx", "setup-buildx-action"),
  ("build_push", "build-push-action"),
  ("aws_credentials", "configure-aws-credentials"),
  ("ecr_login", "amazon-ecr-login"),
  ("setup_helm", "setup-helm"),
  ("setup_terraform", "setup-terraform"),
  ("setup_tflint", "setup-tflint"),
  ("upload_artifact", "upload-artifact"),
  ("download_artifact", "download-artifact"),
  ("cache", "actions-cache"),
  ("cosign_installer", "cosign-installer"),
];

/// The `uses:` values by the templates' names.
pub(super) fn uses(versions: &Versions) -> std::collections::BTreeMap<&'static str, String> {
  ACTIONS
    .iter()
    .map(|(key, component)| (*key, versions.get(component).uses()))
    .collect()
}

/// The Flyway image by tag and digest: CI runs the migrations with it, and
/// the migrations image is built on it.
pub(crate) fn flyway_image(versions: &Versions) -> String {
  versions.get("flyway").image_reference()
}

/// The base of the starter image seeded in each service's build context.
pub(crate) fn python_image(versions: &Versions) -> String {
  versions.get("python").image_reference()
}

/// The download address of oi-gen's GitHub releases (`<tag>/<asset>` under
/// it): the drift job installs the lock's version from there.
pub(crate) const OI_GEN_RELEASES: &str =
  concat!(env!("CARGO_PKG_REPOSITORY"), "/releases/download");

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn every_action_is_an_action_of_the_table() {
    for (key, component) in ACTIONS {
      let pin = Versions::builtin().get(component);
      assert_eq!(pin.kind, crate::versions::Kind::Action, "{key}");
      assert!(pin.version.starts_with('v') && pin.version.matches('.').count() == 2);
    }
  }
}
