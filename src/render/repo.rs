//! Repository-wide files.

use std::collections::BTreeMap;

use serde::Serialize;

use super::engine::output_path;
use super::{Engine, Output};
use crate::blueprint::Resolved;

/// The generated repository's ignore file. Kept as a template, so that git
/// does not apply it to the `templates/` folder itself.
const GITIGNORE: &str = ".gitignore.tera";

/// The line endings of checkouts, kept as a template for the same reason.
const GITATTRIBUTES: &str = ".gitattributes.tera";

/// The ignore file, the attributes file and the blueprint's JSON Schema,
/// the same for every blueprint.
pub(crate) fn render(
  resolved: &Resolved,
  engine: &Engine,
  out: &mut Output,
) -> Result<(), tera::Error> {
  let text = engine.render(GITIGNORE, &BTreeMap::<&str, &str>::new())?;
  out.add(output_path(GITIGNORE, None, None), text);
  let text = engine.render(GITATTRIBUTES, &BTreeMap::<&str, &str>::new())?;
  out.add(output_path(GITATTRIBUTES, None, None), text);
  out.add(crate::schema::SCHEMA_PATH, crate::schema::json());
  hygiene(resolved, engine, out)?;
  service_code(resolved, engine, out)
}

#[derive(Serialize)]
struct Hygiene<'a> {
  owners: Option<&'a crate::blueprint::model::Owners>,
  environments: Vec<&'a str>,
  services: Vec<&'a str>,
  /// The hooks' repositories, each pinned to the tag of a release (the
  /// `pre-commit` components of the version table).
  pre_commit_terraform: &'a str,
  actionlint: &'a str,
}

/// CODEOWNERS (with `spec.owners`), the pre-commit hooks, the Renovate
/// configuration and the Makefile.
fn hygiene(resolved: &Resolved, engine: &Engine, out: &mut Output) -> Result<(), tera::Error> {
  let data = Hygiene {
    owners: resolved.platform.spec.owners.as_ref(),
    environments: resolved
      .environments
      .iter()
      .map(|e| e.name.as_str())
      .collect(),
    services: resolved.services.iter().map(|s| s.name.as_str()).collect(),
    pre_commit_terraform: resolved.versions.version("pre-commit-terraform"),
    actionlint: resolved.versions.version("actionlint"),
  };
  let mut templates = vec![".pre-commit-config.yaml.tera", "Makefile.tera"];
  if data.owners.is_some() {
    templates.push(".github/CODEOWNERS.tera");
  }
  for template in templates {
    out.add(
      output_path(template, None, None),
      engine.render(template, &data)?,
    );
  }
  out.add(RENOVATE, renovate());
  Ok(())
}

const RENOVATE: &str = "renovate.json";

/// The Renovate configuration: dependency updates only in the files the
/// user owns (every path oi-gen manages is ignored: its next version brings
/// their updates), and oi-gen's own version in the lock, whose pull request
/// is finished with `oi-gen upgrade`.
fn renovate() -> String {
  let config = serde_json::json!({
    "$schema": "https://docs.renovatebot.com/renovate-schema.json",
    "extends": ["config:recommended"],
    "ignorePaths": managed_globs(),
    "customManagers": [{
      "customType": "regex",
      "description": "The oi-gen version the repository is rendered with (.oi-gen/lock.toml)",
      "managerFilePatterns": ["/^\\.oi-gen/lock\\.toml$/"],
      "matchStrings": ["(?m)^oi-gen = \"(?<currentValue>[^\"]+)\"$"],
      "depNameTemplate": "oi-gen",
      "datasourceTemplate": "crate",
    }],
    "packageRules": [{
      "matchDepNames": ["oi-gen"],
      "matchManagers": ["custom.regex"],
      "commitMessageTopic": "oi-gen",
      "prBodyNotes": [
        "This changes only the version in `.oi-gen/lock.toml`: the drift check fails until the files are upgraded. On this branch, install the new oi-gen and run `oi-gen upgrade --dry-run`, then `oi-gen upgrade`, and push the result (see \"Upgrading oi-gen\" in the README)."
      ],
    }],
  });
  let mut text = serde_json::to_string_pretty(&config).expect("a JSON value");
  text.push('\n');
  text
}

/// Globs of every path oi-gen manages, from the manifest: a placeholder is
/// any name, a final `*` any rest; a glob inside a folder already ignored
/// as a whole is left out.
pub(crate) fn managed_globs() -> Vec<String> {
  use super::manifest::{BUILD, Owner, ROWS};
  let mut globs: Vec<String> = ROWS
    .iter()
    .filter(|row| matches!(row.owner, Owner::Managed | Owner::ManagedWithUserSection))
    .filter(|row| !row.path.starts_with(BUILD))
    .map(|row| {
      let glob = row
        .path
        .replace("{service}", "*")
        .replace("{environment}", "*");
      match glob.strip_suffix("/*") {
        Some(folder) => format!("{folder}/**"),
        None => glob,
      }
    })
    .collect();
  globs.sort();
  globs.dedup();
  let folders: Vec<String> = globs
    .iter()
    .filter_map(|g| g.strip_suffix("**").map(str::to_string))
    .collect();
  globs.retain(|g| {
    !folders
      .iter()
      .any(|f| g.starts_with(f.as_str()) && !g.ends_with("/**"))
  });
  globs
}

/// The starter code of each service's build context (see the manifest rows
/// under `{build}/`).
const SERVICE_CODE: &[&str] = &[
  "{build}/Dockerfile.tera",
  "{build}/server.py.tera",
  "{build}/.dockerignore.tera",
];

#[derive(Serialize)]
struct ServiceCode<'a> {
  name: &'a str,
  port: i64,
  health_path: &'a str,
  branch: &'a str,
  python_image: String,
}

/// A minimal service that builds, listens on the service's port and
/// answers its health path: seeded while the build context holds no file.
fn service_code(resolved: &Resolved, engine: &Engine, out: &mut Output) -> Result<(), tera::Error> {
  for service in &resolved.services {
    if !super::manifest::seeds_code(resolved, service) {
      continue;
    }
    let data = ServiceCode {
      name: &service.name,
      port: service.port,
      health_path: &service.health_path,
      branch: &resolved.branch,
      python_image: super::workflows::python_image(&resolved.versions),
    };
    for template in SERVICE_CODE {
      let path = template
        .trim_end_matches(".tera")
        .replace("{build}", &service.build_context);
      out.add(path, engine.render(template, &data)?);
    }
  }
  Ok(())
}
