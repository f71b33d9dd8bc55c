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
    let lock: Lock = match read_written(&text) {
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
    let body = toml::to_string(self).expect("the lock serializes");
    format!("# Written by oi-gen: what the last render wrote. Do not edit.\n{body}")
  }
}

/// The lock as [`Lock::to_toml`] writes it, read line by line: the TOML
/// parser builds a document many times the size of a large lock. `None` for
/// anything else (a lock edited or written differently, damaged or not),
/// which the TOML parser then reads, with its errors: what this accepts, it
/// reads as the TOML parser does.
fn read_written(text: &str) -> Option<Lock> {
  /// A basic string without escapes or control characters, then the rest.
  fn string(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('"')?;
    let end = rest.find('"')?;
    let inside = &rest[..end];
    let plain = !inside
      .chars()
      .any(|c| c == '\\' || (c.is_control() && c != '\t'));
    plain.then_some((inside, &rest[end + 1..]))
  }
  /// A bare or quoted key, then the rest.
  fn key(line: &str) -> Option<(&str, &str)> {
    if line.starts_with('"') {
      return string(line);
    }
    let end = line
      .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
      .unwrap_or(line.len());
    (end > 0).then(|| line.split_at(end))
  }
  /// `key = "value"`, or `key = 123` (`None` for the string then).
  fn pair(line: &str) -> Option<(&str, Result<&str, u32>)> {
    let (name, rest) = key(line)?;
    let value = rest.strip_prefix(" = ")?;
    if value.starts_with('"') {
      let (value, rest) = string(value)?;
      return rest.is_empty().then_some((name, Ok(value)));
    }
    let number =
      value.bytes().all(|b| b.is_ascii_digit()) && (value == "0" || !value.starts_with('0'));
    Some((name, Err(number.then(|| value.parse().ok()).flatten()?)))
  }
  /// A table header's keys.
  fn header(line: &str) -> Option<Vec<&str>> {
    let mut rest = line.strip_prefix('[')?.strip_suffix(']')?;
    let mut keys = Vec::with_capacity(3);
    loop {
      let (name, after) = key(rest)?;
      keys.push(name);
      if after.is_empty() {
        return Some(keys);
      }
      rest = after.strip_prefix('.')?;
    }
  }
  /// One file's entry as it is read.
  #[derive(Default)]
  struct Partial {
    sha256: Option<String>,
    ownership: Option<Ownership>,
    kept: Option<(Option<String>, Option<String>)>,
  }
  fn entry(partial: Partial) -> Option<Entry> {
    let kept = match partial.kept {
      Some((sha256, render)) => Some(Kept {
        sha256: sha256?,
        render: render?,
      }),
      None => None,
    };
    Some(Entry {
      sha256: partial.sha256?,
      ownership: partial.ownership?,
      kept,
    })
  }
  /// Sets a value once: a key given twice is the TOML parser's to refuse.
  fn once(slot: &mut Option<String>, value: &str) -> Option<()> {
    slot.is_none().then(|| *slot = Some(value.to_string()))
  }
  enum Table {
    Top,
    /// `[files]`, written when there are none.
    Files,
    File,
    Kept,
    Migrations,
  }
  let mut lock = Lock::default();
  let (mut format, mut oi_gen, mut blueprint) = (None, None, None);
  let mut table = Table::Top;
  let mut current: Option<(String, Partial)> = None;
  let (mut files_seen, mut migrations_seen) = (false, false);
  for line in text.split('\n') {
    if line.is_empty() {
      continue;
    }
    if line.starts_with('#') {
      if line.chars().any(|c| c.is_control() && c != '\t') {
        return None;
      }
      continue;
    }
    if line.starts_with('[') {
      let keys = header(line)?;
      match keys.as_slice() {
        ["files", path, "kept"] => {
          let (at, partial) = current.as_mut()?;
          if at != path || partial.kept.is_some() || !matches!(table, Table::File) {
            return None;
          }
          partial.kept = Some((None, None));
          table = Table::Kept;
          continue;
        }
        ["files", path] => {
          if let Some((at, partial)) = current.take() {
            lock.files.insert(at, entry(partial)?);
          }
          if lock.files.contains_key(*path) {
            return None;
          }
          current = Some(((*path).to_string(), Partial::default()));
          table = Table::File;
        }
        ["files"] if !files_seen && lock.files.is_empty() && current.is_none() => {
          files_seen = true;
          table = Table::Files;
        }
        ["migrations"] if !migrations_seen => {
          if let Some((at, partial)) = current.take() {
            lock.files.insert(at, entry(partial)?);
          }
          migrations_seen = true;
          table = Table::Migrations;
        }
        _ => return None,
      }
      continue;
    }
    let (name, value) = pair(line)?;
    match (&table, name, value) {
      (Table::Top, "format", Err(number)) if format.is_none() => format = Some(number),
      (Table::Top, "oi-gen", Ok(value)) => once(&mut oi_gen, value)?,
      (Table::Top, "blueprint-sha256", Ok(value)) => once(&mut blueprint, value)?,
      (Table::File, "sha256", Ok(value)) => once(&mut current.as_mut()?.1.sha256, value)?,
      (Table::File, "ownership", Ok(value)) => {
        let partial = &mut current.as_mut()?.1;
        if partial.ownership.is_some() {
          return None;
        }
        partial.ownership = Some(match value {
          "managed" => Ownership::Managed,
          "seeded" => Ownership::Seeded,
          _ => return None,
        });
      }
      (Table::Kept, "sha256", Ok(value)) => {
        once(&mut current.as_mut()?.1.kept.as_mut()?.0, value)?;
      }
      (Table::Kept, "render", Ok(value)) => {
        once(&mut current.as_mut()?.1.kept.as_mut()?.1, value)?;
      }
      (Table::Migrations, name, Ok(value)) => {
        if lock
          .migrations
          .insert(name.to_string(), value.to_string())
          .is_some()
        {
          return None;
        }
      }
      _ => return None,
    }
  }
  if let Some((at, partial)) = current.take() {
    lock.files.insert(at, entry(partial)?);
  }
  lock.format = format?;
  lock.oi_gen = oi_gen?;
  lock.blueprint_sha256 = blueprint?;
  Some(lock)
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
        "`{}` is damaged: {reason}; restore it from version control, or run `oi-gen render --rebuild-lock` to rebuild it from `.oi-gen/base.txt` and the files (files changed by hand stay edits)",
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

  fn entry(sha256: &str, ownership: Ownership, kept: Option<(&str, &str)>) -> Entry {
    Entry {
      sha256: sha256.to_string(),
      ownership,
      kept: kept.map(|(sha256, render)| Kept {
        sha256: sha256.to_string(),
        render: render.to_string(),
      }),
    }
  }

  #[test]
  fn a_lock_as_written_is_read_without_the_toml_parser_as_the_toml_parser_reads_it() {
    let mut lock = Lock {
      format: FORMAT,
      oi_gen: "0.1.0".into(),
      blueprint_sha256: sha256(b"blueprint"),
      files: BTreeMap::new(),
      migrations: BTreeMap::new(),
    };
    assert_eq!(read_written(&lock.to_toml()), Some(lock.clone()));
    for (path, value) in [
      ("Makefile", entry("aa", Ownership::Managed, None)),
      (
        "infra/vpc.tf",
        entry("bb", Ownership::Managed, Some(("cc", "dd"))),
      ),
      ("db/V1__x.sql", entry("ee", Ownership::Seeded, None)),
      (
        "docs/ünïcode and space.md",
        entry("ff", Ownership::Managed, None),
      ),
      ("a-b_c", entry("00", Ownership::Seeded, Some(("11", "22")))),
    ] {
      lock.files.insert(path.to_string(), value);
    }
    lock
      .migrations
      .insert("V1__baseline.sql".into(), "ab".into());
    lock.migrations.insert("V2__next.sql".into(), "cd".into());
    let text = lock.to_toml();
    assert_eq!(read_written(&text), Some(lock.clone()));
    assert_eq!(toml::from_str::<Lock>(&text).unwrap(), lock);
    // What needs escapes is the TOML parser's.
    lock.files.insert(
      "odd \"quoted\\ path".into(),
      entry("aa", Ownership::Managed, None),
    );
    let text = lock.to_toml();
    assert_eq!(read_written(&text), None);
    assert_eq!(toml::from_str::<Lock>(&text).unwrap(), lock);
  }

  #[test]
  fn anything_but_a_lock_as_written_is_left_to_the_toml_parser() {
    let top = "format = 1\noi-gen = \"0.1.0\"\nblueprint-sha256 = \"ab\"\n";
    assert!(read_written(top).is_some());
    for text in [
      // Missing or repeated keys, unknown keys and tables.
      "format = 1\noi-gen = \"0.1.0\"\n".to_string(),
      format!("{top}format = 1\n"),
      format!("{top}extra = \"x\"\n"),
      format!("{top}[files.a]\nsha256 = \"x\"\n"),
      format!("{top}[files.a]\nsha256 = \"x\"\nsha256 = \"y\"\nownership = \"managed\"\n"),
      format!("{top}[files.a]\nsha256 = \"x\"\nownership = \"mine\"\n"),
      format!("{top}[files.a]\nsha256 = \"x\"\nownership = \"seeded\"\n[files.a]\n"),
      format!("{top}[files.a]\nsha256 = \"x\"\nownership = \"seeded\"\n[files.b.kept]\n"),
      format!(
        "{top}[files.a]\nsha256 = \"x\"\nownership = \"seeded\"\n[files.a.kept]\nsha256 = \"y\"\n"
      ),
      format!("{top}[files]\n[files]\n"),
      format!("{top}[files]\na = \"x\"\n"),
      format!("{top}[other]\n"),
      format!("{top}[[files]]\n"),
      // Other spellings TOML reads alike, or refuses.
      "format = 01\noi-gen = \"0.1.0\"\nblueprint-sha256 = \"ab\"\n".to_string(),
      "format=1\noi-gen = \"0.1.0\"\nblueprint-sha256 = \"ab\"\n".to_string(),
      " format = 1\noi-gen = \"0.1.0\"\nblueprint-sha256 = \"ab\"\n".to_string(),
      "format = 1 # one\noi-gen = \"0.1.0\"\nblueprint-sha256 = \"ab\"\n".to_string(),
      "format = 1\noi-gen = '0.1.0'\nblueprint-sha256 = \"ab\"\n".to_string(),
      "format = 1\noi-gen = \"0.1.0\r\"\nblueprint-sha256 = \"ab\"\n".to_string(),
      "format = 1\r\noi-gen = \"0.1.0\"\nblueprint-sha256 = \"ab\"\n".to_string(),
      "format = 99999999999\noi-gen = \"0.1.0\"\nblueprint-sha256 = \"ab\"\n".to_string(),
    ] {
      assert_eq!(read_written(&text), None, "{text}");
    }
  }

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
