//! `.oi-gen/lock.toml`: what the last render wrote, so later runs can tell a
//! hand edit from a stale file and never lose a user's change.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Op};
use crate::fsutil::Root;
use crate::render::Ownership;

mod canonical;

pub const LOCK_PATH: &str = ".oi-gen/lock.toml";
pub const FORMAT: u32 = 1;
const HEADER: &str = "# Written by oi-gen: what the last render wrote. Do not edit.\n";

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
  /// A hand edit recorded as intended with `oi-gen keep`.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub kept: Option<Kept>,
}

/// A customization: the file as the user keeps it, and the render it was
/// kept against. The drift check is clean while both still hold; when the
/// file or the render changes, the file is reported again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Kept {
  /// SHA-256 of the file as kept (without its user section).
  pub sha256: String,
  /// SHA-256 of the render it was kept against.
  pub render: String,
}

impl Lock {
  /// Reads the lock of an output folder; `None` when there is none.
  pub fn read(root: &Root) -> Result<Option<Lock>, Error> {
    let path = root.resolve(LOCK_PATH)?;
    let text = match std::fs::read_to_string(&path) {
      Ok(text) => text,
      Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
      Err(error) => return Err(Error::io(Op::Read, &path)(error)),
    };
    // The text oi-gen writes is read directly; anything else (an edited
    // lock, another layout) by the TOML parser.
    let lock = match canonical::parse(&text) {
      Some(lock) => lock,
      None => toml::from_str(&text).map_err(|error| LockError::Damaged {
        path: path.clone(),
        reason: error.message().to_string(),
      })?,
    };
    if lock.format != FORMAT {
      return Err(
        LockError::Format {
          path,
          found: lock.format,
        }
        .into(),
      );
    }
    Ok(Some(lock))
  }

  /// The lock as written to disk, with its header comment.
  pub fn to_toml(&self) -> String {
    canonical::write(self).unwrap_or_else(|| self.to_toml_slow())
  }

  /// [`Lock::to_toml`] through the TOML serializer, for a lock whose names
  /// or values need quoting [`canonical`] does not write.
  fn to_toml_slow(&self) -> String {
    let body = toml::to_string(self).expect("the lock serializes");
    format!("{HEADER}{body}")
  }
}

/// Why the lock of an output folder cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockError {
  /// Not TOML of the lock's shape; `reason` is the parser's.
  Damaged { path: PathBuf, reason: String },
  /// Written in a format this oi-gen does not read.
  Format { path: PathBuf, found: u32 },
}

impl fmt::Display for LockError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      LockError::Damaged { path, reason } => write!(
        f,
        "`{}` is damaged: {reason}; restore it from version control, or run `oi-gen render --rebuild-lock` to rebuild it from the base in `.oi-gen/base/` and the files (files changed by hand stay edits)",
        path.display()
      ),
      LockError::Format { path, found } => write!(
        f,
        "`{}` has format {found}, this oi-gen reads format {FORMAT}",
        path.display()
      ),
    }
  }
}

impl std::error::Error for LockError {}

/// The SHA-256 of `bytes`, in lowercase hex.
pub fn sha256(bytes: &[u8]) -> String {
  hex(&Sha256::digest(bytes).into())
}

/// A digest in lowercase hex.
pub(crate) fn hex(digest: &[u8; 32]) -> String {
  const DIGITS: &[u8; 16] = b"0123456789abcdef";
  let mut out = String::with_capacity(64);
  for byte in digest {
    out.push(char::from(DIGITS[usize::from(byte >> 4)]));
    out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
  }
  out
}

/// Whether `text` is the lowercase hex of `digest`.
pub(crate) fn is_hex_of(text: &str, digest: &[u8; 32]) -> bool {
  const DIGITS: &[u8; 16] = b"0123456789abcdef";
  text.len() == 64
    && text.as_bytes().chunks(2).zip(digest).all(|(pair, byte)| {
      pair[0] == DIGITS[usize::from(byte >> 4)] && pair[1] == DIGITS[usize::from(byte & 0xf)]
    })
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn hex_is_the_lowercase_digest() {
    assert_eq!(
      sha256(b"abc"),
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let digest: [u8; 32] = Sha256::digest(b"abc").into();
    assert!(is_hex_of(&sha256(b"abc"), &digest));
    assert!(!is_hex_of(&sha256(b"abd"), &digest));
    assert!(!is_hex_of("ba78", &digest));
  }
}
