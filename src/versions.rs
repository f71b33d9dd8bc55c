//! The version table: every version oi-gen pins in what it renders, read
//! once from `versions.toml` (embedded). The resolved model holds a copy
//! with the blueprint's `spec.versions` overrides applied; the render
//! targets read versions from there and nowhere else.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

/// The table as shipped.
const TABLE: &str = include_str!("../versions.toml");

static BUILTIN: LazyLock<Versions> = LazyLock::new(|| {
  let components: BTreeMap<String, Component> =
    toml::from_str(TABLE).unwrap_or_else(|e| panic!("versions.toml: {e}"));
  Versions {
    components,
    overridden: BTreeMap::new(),
  }
});

/// What a component is, which decides its fields and the format of a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
  Terraform,
  TerraformProvider,
  TerraformModule,
  TflintPlugin,
  Chart,
  Image,
  Crds,
  Action,
  Tool,
  PreCommit,
  Go,
  EksAddon,
}

impl Kind {
  pub fn as_str(self) -> &'static str {
    match self {
      Kind::Terraform => "terraform",
      Kind::TerraformProvider => "terraform-provider",
      Kind::TerraformModule => "terraform-module",
      Kind::TflintPlugin => "tflint-plugin",
      Kind::Chart => "chart",
      Kind::Image => "image",
      Kind::Crds => "crds",
      Kind::Action => "action",
      Kind::Tool => "tool",
      Kind::PreCommit => "pre-commit",
      Kind::Go => "go",
      Kind::EksAddon => "eks-addon",
    }
  }

  /// A version constraint (`~> 1.15`, `>= 6.28, < 7.0`) rather than one release.
  pub fn is_constraint(self) -> bool {
    matches!(
      self,
      Kind::Terraform | Kind::TerraformProvider | Kind::TerraformModule
    )
  }
}

/// One pinned component of the table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Component {
  pub kind: Kind,
  /// The release (or, for Terraform, the constraint) pinned.
  pub version: String,
  /// The upstream release page.
  pub source: String,
  /// `terraform-provider`: the registry address.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub provider: Option<String>,
  /// `terraform-module` and `go` modules: the module address.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub module: Option<String>,
  /// `tflint-plugin`: the ruleset's repository.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub plugin: Option<String>,
  /// `chart`: `oci://…` reference, or the chart's name in `repository`.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub chart: Option<String>,
  /// `chart`: a classic chart repository.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub repository: Option<String>,
  /// `image`: the image repository.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub image: Option<String>,
  /// `image`: `sha256:…` of the tag's multi-platform index.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub digest: Option<String>,
  /// `image`: the tag per Kubernetes minor version.
  #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
  pub by_kubernetes: BTreeMap<String, String>,
  /// `crds`: the address of each file, with `{version}` and `{name}`.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub url: Option<String>,
  /// `crds`: file name → sha256 of its bytes at the tag.
  #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
  pub files: BTreeMap<String, String>,
  /// `action`: `owner/repo`.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub action: Option<String>,
  /// `action`: the full commit SHA of the tag.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub sha: Option<String>,
  /// `eks-addon`: the EKS add-on's name (`aws eks describe-addon-versions`).
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub addon: Option<String>,
}

/// A remote manifest pinned by the sha256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct PinnedManifest {
  pub url: String,
  pub sha256: String,
}

impl Component {
  /// `image:tag@sha256:…`, or `image:tag` without a digest.
  pub fn image_reference(&self) -> String {
    let image = self.image.as_deref().unwrap_or_default();
    match &self.digest {
      Some(digest) => format!("{image}:{}@{digest}", self.version),
      None => format!("{image}:{}", self.version),
    }
  }

  /// The `uses:` value of an action: `owner/repo@<sha> # vX.Y.Z`.
  pub fn uses(&self) -> String {
    format!(
      "{}@{} # {}",
      self.action.as_deref().unwrap_or_default(),
      self.sha.as_deref().unwrap_or_default(),
      self.version
    )
  }

  /// The tag for a Kubernetes minor version: its own entry, else `version`.
  pub fn tag_for(&self, kubernetes_version: &str) -> &str {
    self
      .by_kubernetes
      .get(kubernetes_version)
      .map_or(self.version.as_str(), String::as_str)
  }

  /// The release pinned for a Kubernetes minor version, when the table
  /// knows one. An image pinned per version falls back to `version`; an
  /// EKS add-on build is compatible only with the versions listed, so it
  /// has none for another (an override, which clears the list, names one
  /// build for every version).
  pub fn for_kubernetes(&self, kubernetes_version: &str) -> Option<&str> {
    match self.kind {
      Kind::EksAddon if !self.by_kubernetes.is_empty() => self
        .by_kubernetes
        .get(kubernetes_version)
        .map(String::as_str),
      _ => Some(self.tag_for(kubernetes_version)),
    }
  }

  /// `crds`: each file by its address at the version, with its sha256.
  pub(crate) fn manifests(&self) -> Vec<PinnedManifest> {
    let url = self.url.as_deref().unwrap_or_default();
    self
      .files
      .iter()
      .map(|(name, sha256)| PinnedManifest {
        url: url
          .replace("{version}", &self.version)
          .replace("{name}", name),
        sha256: sha256.clone(),
      })
      .collect()
  }

  /// Every string of the entry that a rendered file may carry: the version,
  /// the per-Kubernetes tags, the SHA, the digest, the file checksums.
  pub fn pinned_strings(&self) -> Vec<&str> {
    let mut out = vec![self.version.as_str()];
    out.extend(self.by_kubernetes.values().map(String::as_str));
    out.extend(self.sha.as_deref());
    out.extend(self.digest.as_deref());
    out.extend(self.files.values().map(String::as_str));
    out
  }
}

/// The table, with the overrides of one blueprint when it has any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versions {
  components: BTreeMap<String, Component>,
  /// Component → the table's version it replaces.
  overridden: BTreeMap<String, String>,
}

impl Default for Versions {
  fn default() -> Self {
    Self::builtin().clone()
  }
}

impl Versions {
  /// The table as shipped.
  pub fn builtin() -> &'static Versions {
    &BUILTIN
  }

  /// A component by name.
  ///
  /// # Panics
  /// When the table has no such component: the renderers name only
  /// components of the table (a test renders every one).
  pub fn get(&self, name: &str) -> &Component {
    self
      .components
      .get(name)
      .unwrap_or_else(|| panic!("versions.toml has no component `{name}`"))
  }

  pub fn find(&self, name: &str) -> Option<&Component> {
    self.components.get(name)
  }

  /// A component's version.
  pub fn version(&self, name: &str) -> &str {
    &self.get(name).version
  }

  pub fn iter(&self) -> impl Iterator<Item = (&str, &Component)> {
    self.components.iter().map(|(k, v)| (k.as_str(), v))
  }

  pub fn names(&self) -> impl Iterator<Item = &str> {
    self.components.keys().map(String::as_str)
  }

  /// The EKS managed add-ons of the table (`eks-addon`), by add-on name,
  /// each with its build for a Kubernetes minor version: `None` where the
  /// table has none (the cluster then runs AWS's default build).
  pub fn eks_addons(&self, kubernetes_version: &str) -> Vec<(&str, Option<&str>)> {
    self
      .components
      .values()
      .filter(|c| c.kind == Kind::EksAddon)
      .map(|c| {
        (
          c.addon.as_deref().unwrap_or_default(),
          c.for_kubernetes(kubernetes_version),
        )
      })
      .collect()
  }

  /// The table's version a blueprint override replaced, if any.
  pub fn overridden(&self, name: &str) -> Option<&str> {
    self.overridden.get(name).map(String::as_str)
  }

  /// The table with a validated override applied (see
  /// [`parse_override`]).
  pub fn with_override(mut self, name: &str, value: &Override) -> Self {
    let Some(component) = self.components.get_mut(name) else {
      return self;
    };
    self
      .overridden
      .insert(name.to_string(), component.version.clone());
    component.version = value.version.clone();
    // An override names one release for every Kubernetes version.
    component.by_kubernetes.clear();
    if let Some(pin) = &value.pin {
      match component.kind {
        Kind::Image => component.digest = Some(pin.clone()),
        Kind::Action => component.sha = Some(pin.clone()),
        _ => {}
      }
    }
    self
  }
}

/// A version given in `spec.versions`, after its format was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
  pub version: String,
  /// The digest of an image, the commit SHA of an action.
  pub pin: Option<String>,
}

/// Checks the format of an override of `component`: a problem in words when
/// it does not fit the kind.
pub fn parse_override(component: &Component, value: &str) -> Result<Override, String> {
  let value = value.trim();
  match component.kind {
    Kind::Crds => Err(
      "CRD bundles are pinned by the sha256 of each file, which an override cannot give; \
       they change with a release of oi-gen"
        .to_string(),
    ),
    // The Cluster Autoscaler's image is set by tag in its chart's values,
    // with no digest to pin: it takes a tag.
    Kind::Image if component.digest.is_none() => {
      if is_tag(value) {
        Ok(Override {
          version: value.to_string(),
          pin: None,
        })
      } else {
        Err(format!("`{value}` is not an image tag"))
      }
    }
    Kind::Image => {
      let Some((tag, digest)) = value.split_once('@') else {
        return Err(format!(
          "an image override needs its digest with the tag (`<tag>@sha256:<64 hex>`), \
           since the outputs pin images by digest; got `{value}`"
        ));
      };
      if !is_tag(tag) {
        return Err(format!("`{tag}` is not an image tag"));
      }
      let hex = digest.strip_prefix("sha256:").unwrap_or("");
      if !is_hex(hex, 64) {
        return Err(format!(
          "`{digest}` is not a digest (`sha256:` and 64 lowercase hex digits)"
        ));
      }
      Ok(Override {
        version: tag.to_string(),
        pin: Some(digest.to_string()),
      })
    }
    Kind::EksAddon => {
      if is_eks_build(value) {
        Ok(Override {
          version: value.to_string(),
          pin: None,
        })
      } else {
        Err(format!(
          "`{value}` is not an EKS add-on version (`vX.Y.Z-eksbuild.N`, as \
           `aws eks describe-addon-versions` lists them)"
        ))
      }
    }
    Kind::Action => {
      let Some((tag, sha)) = value.split_once('@') else {
        return Err(format!(
          "an action override needs the commit SHA of its tag (`vX.Y.Z@<40 hex>`), \
           since the workflows pin actions by commit; got `{value}`"
        ));
      };
      if !is_release(tag, true) {
        return Err(format!("`{tag}` is not a release tag (`vX.Y.Z`)"));
      }
      if !is_hex(sha, 40) {
        return Err(format!(
          "`{sha}` is not a full commit SHA (40 lowercase hex digits)"
        ));
      }
      Ok(Override {
        version: tag.to_string(),
        pin: Some(sha.to_string()),
      })
    }
    kind if kind.is_constraint() => {
      if is_constraint(value) {
        Ok(Override {
          version: value.to_string(),
          pin: None,
        })
      } else {
        Err(format!(
          "`{value}` is not a version constraint (`~> 1.2`, `>= 1.2, < 2.0`)"
        ))
      }
    }
    _ => {
      // A release in the table's own style: with a leading `v` when the
      // table's has one.
      let v = component.version.starts_with('v');
      if is_release(value, v) {
        Ok(Override {
          version: value.to_string(),
          pin: None,
        })
      } else if v {
        Err(format!("`{value}` is not a release (`vX.Y.Z`)"))
      } else {
        Err(format!("`{value}` is not a release (`X.Y.Z`, no `v`)"))
      }
    }
  }
}

fn is_hex(text: &str, len: usize) -> bool {
  text.len() == len
    && text
      .bytes()
      .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `X.Y[.Z][-pre]`, with a leading `v` exactly when `v` is set.
fn is_release(text: &str, v: bool) -> bool {
  let Some(rest) = (if v {
    text.strip_prefix('v')
  } else {
    (!text.starts_with('v')).then_some(text)
  }) else {
    return false;
  };
  let core = rest.split(['-', '+']).next().unwrap_or("");
  let parts: Vec<&str> = core.split('.').collect();
  (2..=3).contains(&parts.len())
    && parts
      .iter()
      .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    && rest[core.len()..]
      .bytes()
      .all(|b| b.is_ascii_alphanumeric() || b"-+.".contains(&b))
}

/// An EKS add-on build: `vX.Y.Z-eksbuild.N`.
fn is_eks_build(text: &str) -> bool {
  let Some((release, build)) = text.split_once("-eksbuild.") else {
    return false;
  };
  release.split('.').count() == 3
    && is_release(release, true)
    && !build.is_empty()
    && build.bytes().all(|b| b.is_ascii_digit())
}

/// An image tag: Docker's `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn is_tag(text: &str) -> bool {
  !text.is_empty()
    && text.len() <= 128
    && !text.starts_with(['.', '-'])
    && text
      .bytes()
      .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// A Terraform constraint: operators and releases, comma-separated.
fn is_constraint(text: &str) -> bool {
  !text.is_empty()
    && text.split(',').all(|part| {
      let part = part.trim();
      let version = ["~>", ">=", "<=", "!=", ">", "<", "="]
        .iter()
        .find_map(|op| part.strip_prefix(op))
        .unwrap_or(part)
        .trim();
      is_release(version, false)
    })
}

/// Compares two releases by their numbers (`v1.2.10` after `v1.2.9`);
/// `None` when either is not a release (constraints, image tags).
pub fn compare(a: &str, b: &str) -> Option<std::cmp::Ordering> {
  fn numbers(text: &str) -> Option<Vec<u64>> {
    let core = text.trim_start_matches('v').split(['-', '+']).next()?;
    core.split('.').map(|p| p.parse().ok()).collect()
  }
  Some(numbers(a)?.cmp(&numbers(b)?))
}

/// The version-like tokens of a text: releases (`1.2`, `v1.2.3`, with a
/// pre-release or build suffix), 40-digit commit SHAs and 64-digit
/// digests. A dotted number with four parts is an IPv4 address, not a
/// version, and is left out.
pub fn tokens(text: &str) -> Vec<&str> {
  let bytes = text.as_bytes();
  let mut out = Vec::new();
  let mut i = 0;
  let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
  while i < bytes.len() {
    let start = i;
    if word(bytes[i]) && (i == 0 || !word(bytes[i - 1])) {
      let mut end = i;
      while end < bytes.len() && word(bytes[end]) {
        end += 1;
      }
      let run = &text[start..end];
      if (run.len() == 40 || run.len() == 64) && is_hex(run, run.len()) {
        out.push(run);
        i = end;
        continue;
      }
    }
    let digits_start = if bytes[i] == b'v'
      && i + 1 < bytes.len()
      && bytes[i + 1].is_ascii_digit()
      && (i == 0 || !word(bytes[i - 1]))
    {
      i + 1
    } else if bytes[i].is_ascii_digit() && (i == 0 || !(word(bytes[i - 1]) || bytes[i - 1] == b'.'))
    {
      i
    } else {
      i += 1;
      continue;
    };
    let mut end = digits_start;
    let mut parts = 1;
    while end < bytes.len() {
      if bytes[end].is_ascii_digit() {
        end += 1;
      } else if bytes[end] == b'.' && end + 1 < bytes.len() && bytes[end + 1].is_ascii_digit() {
        parts += 1;
        end += 1;
      } else {
        break;
      }
    }
    // A suffix: `-0`, `-rc.1`, `-slim`.
    if parts >= 2 && end < bytes.len() && bytes[end] == b'-' {
      let mut suffix = end + 1;
      while suffix < bytes.len() && (bytes[suffix].is_ascii_alphanumeric() || bytes[suffix] == b'.')
      {
        suffix += 1;
      }
      if suffix > end + 1 && bytes[suffix - 1] != b'.' {
        end = suffix;
      }
    }
    if (2..=3).contains(&parts) && (end >= bytes.len() || !word(bytes[end])) {
      out.push(&text[start..end]);
    }
    i = end.max(start + 1);
  }
  out
}

/// What a blueprint pins: each component its outputs carry, with the files
/// it appears in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Usage {
  pub component: String,
  pub kind: Kind,
  /// As rendered (the tag for the blueprint's Kubernetes version, for an
  /// image pinned per version).
  pub version: String,
  /// The table's version, when `spec.versions` overrides it.
  #[serde(skip_serializing_if = "Option::is_none")]
  pub overrides: Option<String>,
  /// The digest of an image, the commit SHA of an action.
  #[serde(skip_serializing_if = "Option::is_none")]
  pub pin: Option<String>,
  pub source: String,
  /// Output paths, sorted.
  pub files: Vec<String>,
}

impl Versions {
  /// The components the rendered `files` (path → text) carry, in table
  /// order; an overridden component is listed even where nothing renders
  /// it. A file carries a component when it holds its commit SHA, its
  /// digest or a checksum of its files, else its constraint in quotes (the
  /// way Terraform writes it), else its version as a token.
  pub fn usage<'a>(
    &self,
    kubernetes_version: &str,
    files: impl IntoIterator<Item = (&'a str, &'a str)>,
  ) -> Vec<Usage> {
    let files: Vec<(&str, &str, std::collections::BTreeSet<&str>)> = files
      .into_iter()
      .map(|(path, text)| (path, text, tokens(text).into_iter().collect()))
      .collect();
    let mut out = Vec::new();
    for (name, c) in self.iter() {
      let Some(version) = c.for_kubernetes(kubernetes_version) else {
        continue;
      };
      let used: Vec<String> = files
        .iter()
        .filter(|(_, text, tokens)| {
          if let Some(sha) = c.sha.as_deref().or(c.digest.as_deref()) {
            text.contains(sha)
          } else if !c.files.is_empty() {
            c.files.values().any(|sha| text.contains(sha.as_str()))
          } else if c.kind.is_constraint() {
            text.contains(&format!("\"{version}\""))
          } else {
            tokens.contains(version)
          }
        })
        .map(|(path, _, _)| (*path).to_string())
        .collect();
      let overrides = self.overridden(name).map(str::to_string);
      if used.is_empty() && overrides.is_none() {
        continue;
      }
      out.push(Usage {
        component: name.to_string(),
        kind: c.kind,
        version: version.to_string(),
        overrides,
        pin: c.sha.clone().or_else(|| c.digest.clone()),
        source: c.source.clone(),
        files: used,
      });
    }
    out
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn the_table_parses_and_every_entry_has_the_fields_of_its_kind() {
    let table = Versions::builtin();
    assert!(table.names().count() > 40);
    for (name, c) in table.iter() {
      assert!(c.source.starts_with("https://"), "{name}: {}", c.source);
      let ok = match c.kind {
        Kind::TerraformProvider => c.provider.is_some(),
        Kind::TerraformModule => c.module.is_some(),
        Kind::TflintPlugin => c.plugin.is_some(),
        Kind::Chart => c.chart.is_some(),
        Kind::Image => c.image.is_some(),
        Kind::Crds => c.url.is_some() && !c.files.is_empty(),
        Kind::Action => c.action.is_some() && c.sha.is_some(),
        // A build per Kubernetes version, each in the form EKS lists.
        Kind::EksAddon => {
          c.addon.is_some()
            && !c.by_kubernetes.is_empty()
            && std::iter::once(&c.version)
              .chain(c.by_kubernetes.values())
              .all(|v| is_eks_build(v))
        }
        Kind::Terraform | Kind::Tool | Kind::PreCommit | Kind::Go => true,
      };
      assert!(ok, "{name} lacks a field of its kind");
      if let Some(sha) = &c.sha {
        assert!(is_hex(sha, 40), "{name}");
        assert!(is_release(&c.version, true), "{name}");
      }
      if let Some(digest) = &c.digest {
        assert!(is_hex(digest.trim_start_matches("sha256:"), 64), "{name}");
      }
      for sha in c.files.values() {
        assert!(is_hex(sha, 64), "{name}");
      }
      if c.kind.is_constraint() {
        assert!(is_constraint(&c.version), "{name}: {}", c.version);
      }
    }
  }

  #[test]
  fn eks_addon_builds_cover_the_kubernetes_versions_validation_accepts() {
    use crate::blueprint::validate::{EKS_EXTENDED, EKS_STANDARD};
    let accepted: Vec<&str> = EKS_EXTENDED.iter().chain(EKS_STANDARD).copied().collect();
    let table = Versions::builtin();
    for (name, c) in table.iter().filter(|(_, c)| c.kind == Kind::EksAddon) {
      // No build for a version validation refuses, and `version` is the
      // newest version's.
      for kubernetes in c.by_kubernetes.keys() {
        assert!(
          accepted.contains(&kubernetes.as_str()),
          "{name}: {kubernetes}"
        );
      }
      let newest = EKS_STANDARD[EKS_STANDARD.len() - 1];
      assert_eq!(c.by_kubernetes.get(newest), Some(&c.version), "{name}");
      // Every version in standard support has a build.
      for kubernetes in EKS_STANDARD {
        assert!(
          c.for_kubernetes(kubernetes).is_some(),
          "{name}: {kubernetes}"
        );
      }
    }
    // The add-ons every node-group cluster needs to come up are pinned on
    // every version oi-gen accepts.
    for name in ["coredns", "kube-proxy", "vpc-cni"] {
      for kubernetes in &accepted {
        assert!(
          table.get(name).for_kubernetes(kubernetes).is_some(),
          "{name}: {kubernetes}"
        );
      }
    }
  }

  #[test]
  fn tokens_are_versions_shas_and_digests_but_not_addresses() {
    let text = "uses: a/b@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1\n\
      version = \">= 6.28, < 7.0\" cidr 10.0.0.0/16 kubeVersion: '>= 1.35.0-0' \
      python:3.14-slim@sha256:ce40764625a4ff50df3548277632e7f96c4e77fe75fa848aae9885476e7df5a4 \
      x1.2 go 1.24 s3.amazonaws.com";
    assert_eq!(
      tokens(text),
      [
        "3d3c42e5aac5ba805825da76410c181273ba90b1",
        "v7.0.1",
        "6.28",
        "7.0",
        "1.35.0-0",
        "3.14-slim",
        "ce40764625a4ff50df3548277632e7f96c4e77fe75fa848aae9885476e7df5a4",
        "1.24",
      ]
    );
  }

  #[test]
  fn overrides_are_checked_against_the_kind() {
    let table = Versions::builtin();
    let chart = table.get("cert-manager");
    assert_eq!(parse_override(chart, "v1.22.0").unwrap().version, "v1.22.0");
    assert!(
      parse_override(chart, "1.22.0")
        .unwrap_err()
        .contains("vX.Y.Z")
    );
    let plain = table.get("external-secrets");
    assert!(parse_override(plain, "v2.10.0").is_err());
    assert!(parse_override(plain, "2.10.0").is_ok());
    let image = table.get("flyway");
    assert!(
      parse_override(image, "13.1.0")
        .unwrap_err()
        .contains("digest")
    );
    let digest = format!("13.1.0@sha256:{}", "a".repeat(64));
    assert_eq!(
      parse_override(image, &digest).unwrap().pin.as_deref(),
      Some(format!("sha256:{}", "a".repeat(64)).as_str())
    );
    let action = table.get("actions-checkout");
    assert!(
      parse_override(action, "v7.0.2")
        .unwrap_err()
        .contains("SHA")
    );
    assert!(parse_override(action, &format!("v7.0.2@{}", "b".repeat(40))).is_ok());
    assert!(parse_override(table.get("gateway-api"), "v1.7.0").is_err());
    let by_tag = table.get("cluster-autoscaler-image");
    assert_eq!(parse_override(by_tag, "v1.36.2").unwrap().pin, None);
    assert!(parse_override(by_tag, "v1.36.2 x").is_err());
    let addon = table.get("coredns");
    assert_eq!(
      parse_override(addon, "v1.13.3-eksbuild.2").unwrap(),
      Override {
        version: "v1.13.3-eksbuild.2".into(),
        pin: None
      }
    );
    for bad in [
      "v1.13.3",
      "1.13.3-eksbuild.2",
      "v1.13.3-eksbuild.x",
      "v1.13-eksbuild.2",
    ] {
      assert!(
        parse_override(addon, bad).unwrap_err().contains("eksbuild"),
        "{bad}"
      );
    }
    // A build is compatible with the Kubernetes versions listed only; an
    // override names one for all.
    assert_eq!(addon.for_kubernetes("1.31"), None);
    assert_eq!(addon.for_kubernetes("1.35"), Some("v1.13.2-eksbuild.4"));
    let over = parse_override(addon, "v1.13.3-eksbuild.2").unwrap();
    let overridden = table.clone().with_override("coredns", &over);
    assert_eq!(
      overridden.get("coredns").for_kubernetes("1.31"),
      Some("v1.13.3-eksbuild.2")
    );
    let module = table.get("eks");
    assert!(parse_override(module, "~> 21.20").is_ok());
    assert!(parse_override(module, "21.20").is_ok());
    assert!(parse_override(module, "~> latest").is_err());
  }

  #[test]
  fn an_override_replaces_the_version_everywhere_and_remembers_the_old() {
    let over = Override {
      version: "v1.37.0".into(),
      pin: None,
    };
    let table = Versions::builtin()
      .clone()
      .with_override("cluster-autoscaler-image", &over);
    let image = table.get("cluster-autoscaler-image");
    assert_eq!(image.tag_for("1.34"), "v1.37.0");
    assert_eq!(
      table.overridden("cluster-autoscaler-image"),
      Some("v1.36.1")
    );
    assert_eq!(
      compare("v1.2.10", "v1.2.9"),
      Some(std::cmp::Ordering::Greater)
    );
    assert_eq!(compare("~> 1.2", "1.2"), None);
  }
}
