//! `.oi-gen/lock.toml`: what the last render wrote, so later runs can tell a
//! hand edit from a stale file and never lose a user's change.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::render::Ownership;

pub const LOCK_PATH: &str = ".oi-gen/lock.toml";
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Lock {
  pub format: u32,
  /// oi-gen version that wrote the files.
  pub oi_gen: String,
  /// SHA-256 of the blueprint the files were rendered from.
  pub blueprint_sha256: String,
  #[serde(default)]
  pub files: BTreeMap<String, Entry>,
  /// SHA-256 of each database migration seen by the last render: a migration
  /// edited after that is reported by `render --check`.
  #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
  pub migrations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Entry {
  pub sha256: String,
  pub ownership: Ownership,
}

impl Lock {
  /// Reads the lock of an output folder; a missing lock is an empty one.
  pub fn read(dir: &Path) -> Result<Option<Lock>, String> {
    let path = crate::fsutil::resolve(dir, LOCK_PATH).map_err(|e| e.to_string())?;
    let text = match std::fs::read_to_string(&path) {
      Ok(text) => text,
      Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
      Err(error) => return Err(format!("cannot read `{}`: {error}", path.display())),
    };
    let lock: Lock = toml::from_str(&text).map_err(|error| {
      format!(
        "`{}` is damaged: {}; restore it from version control, or delete it and run `oi-gen render --force`",
        path.display(),
        error.message()
      )
    })?;
    if lock.format != FORMAT {
      return Err(format!(
        "`{}` has format {}, this oi-gen reads format {FORMAT}",
        path.display(),
        lock.format
      ));
    }
    Ok(Some(lock))
  }

  pub fn to_toml(&self) -> String {
    let body = toml::to_string(self).expect("the lock serializes");
    format!("# Written by oi-gen: what the last render wrote. Do not edit.\n{body}")
  }
}

pub fn sha256(bytes: &[u8]) -> String {
  let digest = Sha256::digest(bytes);
  let mut out = String::with_capacity(64);
  for byte in digest {
    out.push_str(&format!("{byte:02x}"));
  }
  out
}
