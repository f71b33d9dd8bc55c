//! The actions the workflows use, each pinned to the full commit SHA of its
//! release tag. A version bump changes this table only.

/// An action pinned to a release: `owner/repo`, commit SHA, tag.
pub(super) struct Pin {
  pub key: &'static str,
  pub action: &'static str,
  pub sha: &'static str,
  pub version: &'static str,
}

impl Pin {
  /// The `uses:` value with its version comment: `owner/repo@<sha> # vX.Y.Z`.
  pub(super) fn uses(&self) -> String {
    format!("{}@{} # {}", self.action, self.sha, self.version)
  }
}

pub(super) const PINS: &[Pin] = &[
  Pin {
    key: "checkout",
    action: "actions/checkout",
    sha: "3d3c42e5aac5ba805825da76410c181273ba90b1",
    version: "v7.0.1",
  },
  Pin {
    key: "setup_buildx",
    action: "docker/setup-buildx-action",
    sha: "37fe631027851001ddb9b187196cc803df7f5f0e",
    version: "v4.3.0",
  },
  Pin {
    key: "build_push",
    action: "docker/build-push-action",
    sha: "53b7df96c91f9c12dcc8a07bcb9ccacbed38856a",
    version: "v7.3.0",
  },
  Pin {
    key: "aws_credentials",
    action: "aws-actions/configure-aws-credentials",
    sha: "e6de054238d6b7531b4efff3b6587d9aade6a06c",
    version: "v6.2.3",
  },
  Pin {
    key: "ecr_login",
    action: "aws-actions/amazon-ecr-login",
    sha: "03f1aad4c6c7ffd436567f42f9384779290529bd",
    version: "v2.1.7",
  },
  Pin {
    key: "setup_helm",
    action: "azure/setup-helm",
    sha: "9bc31f4ebc9c6b171d7bfbaa5d006ae7abdb4310",
    version: "v5.0.1",
  },
  Pin {
    key: "setup_terraform",
    action: "hashicorp/setup-terraform",
    sha: "dfe3c3f87815947d99a8997f908cb6525fc44e9e",
    version: "v4.0.1",
  },
  Pin {
    key: "setup_tflint",
    action: "terraform-linters/setup-tflint",
    sha: "6e1e0642c0289bd619021bf6b34e3c08ed1e005a",
    version: "v6.3.0",
  },
  Pin {
    key: "upload_artifact",
    action: "actions/upload-artifact",
    sha: "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f",
    version: "v7.0.0",
  },
  // The apply job downloads the plan the plan job uploaded: v8.0.1.
  Pin {
    key: "download_artifact",
    action: "actions/download-artifact",
    sha: "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c",
    version: "v8.0.1",
  },
  Pin {
    key: "cache",
    action: "actions/cache",
    sha: "27d5ce7f107fe9357f9df03efb73ab90386fccae",
    version: "v5.0.5",
  },
  // sigstore/cosign-installer: installs the cosign release below and checks
  // its signature (https://github.com/sigstore/cosign-installer/releases).
  Pin {
    key: "cosign_installer",
    action: "sigstore/cosign-installer",
    sha: "6f9f17788090df1f26f669e9d70d6ae9567deba6",
    version: "v4.1.2",
  },
];

/// Tool versions installed by the workflows.
pub(super) const TERRAFORM: &str = "1.15.5";
pub(super) const TFLINT: &str = "v0.64.0";
pub(super) const HELM: &str = "v4.2.4";
pub(super) const CHECKOV: &str = "3.3.30";
/// cosign, keyless signing of the images (https://github.com/sigstore/cosign/releases;
/// v3.1.3 fixes GHSA-fx35-mq7g-6g98).
pub(super) const COSIGN: &str = "v3.1.3";
/// Flyway 13.0.0, by the digest of its multi-platform index (linux/amd64,
/// linux/arm64, linux/arm/v7; the `-alpine` variant is amd64 only): CI runs
/// the migrations with it, and the migrations image is built on it.
pub(crate) const FLYWAY_IMAGE: &str =
  "flyway/flyway:13.0.0@sha256:db6195c21e90872063ff257ec38edcb8d3c77259b25a7a8fee67189511079511";

/// The download address of oi-gen's GitHub releases (`<tag>/<asset>` under
/// it): the drift job installs the lock's version from there.
pub(crate) const OI_GEN_RELEASES: &str =
  concat!(env!("CARGO_PKG_REPOSITORY"), "/releases/download");

/// Python 3.14.7 on Debian trixie (`python:3.14-slim`), by the digest of its
/// multi-platform index (docker.io/library/python): the base of the starter
/// image seeded in each service's build context. The file is the user's
/// once written; Renovate proposes later digests there.
pub(crate) const PYTHON_IMAGE: &str =
  "python:3.14-slim@sha256:ce40764625a4ff50df3548277632e7f96c4e77fe75fa848aae9885476e7df5a4";

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn every_pin_is_a_full_sha_with_a_semver_tag() {
    for pin in PINS {
      assert_eq!(pin.sha.len(), 40, "{}", pin.action);
      assert!(
        pin
          .sha
          .bytes()
          .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
      );
      assert!(pin.version.starts_with('v') && pin.version.matches('.').count() == 2);
    }
  }
}
