//! Flyway migration files in `db/migrations/`: Flyway's naming rules, the
//! next version for `oi-gen migration new`, and edits to released ones.
//! Migrations are the user's: oi-gen only reads them, and writes new ones
//! when asked.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::error::{Error, Op};
use crate::fsutil::Root;

/// Where migrations live, relative to the repository.
pub(crate) const DIR: &str = "db/migrations";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
  /// `V<version>__<description>.sql`
  Versioned(Vec<u64>),
  /// `R__<description>.sql`
  Repeatable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Migration {
  pub name: String,
  pub kind: Kind,
}

/// The Flyway rule a migration's file name breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
  /// Does not end in `.sql`.
  NotSql(String),
  /// Starts with neither `V<version>__` nor `R__`.
  Prefix(String),
  /// No `__` between the version and the description.
  NoSeparator(String),
  /// Nothing after `__`.
  NoDescription(String),
  /// `version` is not digits separated by `.` or `_`.
  Version { name: String, version: String },
  /// Undo and baseline migrations.
  PaidEdition(String),
}

impl fmt::Display for NameError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      NameError::NotSql(name) => write!(f, "`{name}` is not a .sql file"),
      NameError::Prefix(name) => write!(
        f,
        "`{name}` must start with `V<version>__` (versioned) or `R__` (repeatable)"
      ),
      NameError::NoSeparator(name) => write!(
        f,
        "`{name}` has no `__` between the version and the description"
      ),
      NameError::NoDescription(name) => write!(f, "`{name}` has no description after `__`"),
      NameError::Version { name, version } => write!(
        f,
        "`{name}`: `{version}` is not a version (digits separated by `.` or `_`)"
      ),
      NameError::PaidEdition(name) => write!(
        f,
        "`{name}`: undo (U) and baseline (B) migrations need a paid Flyway edition; write a new forward migration instead"
      ),
    }
  }
}

impl std::error::Error for NameError {}

/// Parses a file name; `Err` says which Flyway rule it breaks.
pub(crate) fn parse(name: &str) -> Result<Migration, NameError> {
  let owned = || name.to_string();
  let stem = name
    .strip_suffix(".sql")
    .ok_or_else(|| NameError::NotSql(owned()))?;
  if !stem.starts_with(['V', 'R', 'U', 'B']) {
    return Err(NameError::Prefix(owned()));
  }
  let (prefix, description) = stem
    .split_once("__")
    .ok_or_else(|| NameError::NoSeparator(owned()))?;
  if description.is_empty() || description.trim_matches(['_', '.', ' ']).is_empty() {
    return Err(NameError::NoDescription(owned()));
  }
  let kind = match prefix.chars().next() {
    Some('V') => {
      let version = &prefix[1..];
      let parts: Option<Vec<u64>> = version
        .split(['.', '_'])
        .map(|part| {
          (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse().ok())
            .flatten()
        })
        .collect();
      Kind::Versioned(parts.ok_or_else(|| NameError::Version {
        name: owned(),
        version: version.to_string(),
      })?)
    }
    Some('R') if prefix == "R" => Kind::Repeatable,
    Some('U' | 'B') => return Err(NameError::PaidEdition(owned())),
    _ => return Err(NameError::Prefix(owned())),
  };
  Ok(Migration {
    name: name.to_string(),
    kind,
  })
}

/// What Flyway would refuse in the migrations folder, or a released
/// migration that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
  /// A name Flyway refuses.
  Name(NameError),
  /// Two versioned migrations with the same version.
  Duplicate { name: String, first: String },
  /// Changed after the render that first saw it.
  Edited { name: String },
}

impl Problem {
  /// The path the problem is reported at: the folder, or the edited file.
  pub fn path(&self) -> String {
    match self {
      Problem::Edited { name } => format!("{DIR}/{name}"),
      _ => DIR.to_string(),
    }
  }
}

impl fmt::Display for Problem {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      Problem::Name(error) => write!(f, "{error}"),
      Problem::Duplicate { name, first } => {
        write!(f, "`{name}` has the same version as `{first}`")
      }
      Problem::Edited { name } => write!(
        f,
        "changed after it was released; Flyway will refuse its new checksum. Revert it and add a new migration, or, if every database already runs it as edited, accept it with `oi-gen keep {DIR}/{name}`"
      ),
    }
  }
}

/// Why `oi-gen migration new` cannot write a migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewError {
  /// Nothing is left of the description in snake case.
  EmptyDescription,
  /// The folder holds migrations Flyway refuses.
  Folder(Vec<Problem>),
  /// The next name is taken.
  Exists(String),
  /// The file name would be longer than file systems allow.
  TooLong { bytes: usize, over: usize },
}

/// The longest file name common file systems take (ext4, APFS, NTFS), in
/// bytes.
const MAX_NAME_BYTES: usize = 255;

impl fmt::Display for NewError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      NewError::EmptyDescription => {
        write!(f, "the description needs at least one letter or digit")
      }
      NewError::Folder(problems) => {
        let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
        write!(
          f,
          "fix the migrations folder first: {}",
          problems.join("; ")
        )
      }
      NewError::Exists(name) => write!(f, "`{name}` already exists"),
      NewError::TooLong { bytes, over } => write!(
        f,
        "the migration's file name would be {bytes} bytes, and file names are at most {MAX_NAME_BYTES}: shorten the description by {over} bytes or more"
      ),
    }
  }
}

impl std::error::Error for NewError {}

/// Versions compare numerically, ignoring trailing zero parts (`1.0` = `1`).
fn normalized(version: &[u64]) -> Vec<u64> {
  let mut v = version.to_vec();
  while v.len() > 1 && v.last() == Some(&0) {
    v.pop();
  }
  v
}

/// The files of the migrations folder, sorted by name.
pub(crate) fn list(root: &Path) -> Result<Vec<String>, Error> {
  let dir = root.join(DIR);
  let failed = Error::io(Op::Read, &dir);
  let entries = match std::fs::read_dir(&dir) {
    Ok(entries) => entries,
    Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
    Err(error) => return Err(failed(error)),
  };
  let mut names = Vec::new();
  for entry in entries {
    let entry = entry.map_err(Error::io(Op::Read, &dir))?;
    if entry
      .file_type()
      .map_err(Error::io(Op::Read, &entry.path()))?
      .is_file()
    {
      let name = entry.file_name().to_string_lossy().into_owned();
      if !name.starts_with('.') {
        names.push(name);
      }
    }
  }
  names.sort();
  Ok(names)
}

/// The migrations on disk with their SHA-256, by name.
pub(crate) fn checksums(root: &Root) -> Result<BTreeMap<String, String>, Error> {
  let mut found = BTreeMap::new();
  for name in list(root.path())? {
    let path = root.resolve(&format!("{DIR}/{name}"))?;
    let bytes = std::fs::read(&path).map_err(Error::io(Op::Read, &path))?;
    // Flyway's checksum ignores line endings, and so does this one.
    let bytes = crate::workspace::lf_unless(bytes, false);
    found.insert(name, crate::lock::sha256(&bytes));
  }
  Ok(found)
}

/// Every problem Flyway would refuse: bad names and duplicate versions.
pub(crate) fn problems(names: &[String]) -> Vec<Problem> {
  let mut found = Vec::new();
  let mut versions: BTreeMap<Vec<u64>, &str> = BTreeMap::new();
  for name in names {
    if !name.ends_with(".sql") {
      continue;
    }
    match parse(name) {
      Ok(Migration {
        kind: Kind::Versioned(version),
        ..
      }) => {
        if let Some(first) = versions.insert(normalized(&version), name) {
          found.push(Problem::Duplicate {
            name: name.clone(),
            first: first.to_string(),
          });
        }
      }
      Ok(_) => {}
      Err(problem) => found.push(Problem::Name(problem)),
    }
  }
  found
}

/// `add users table!` → `add_users_table`.
pub(crate) fn snake_case(description: &str) -> String {
  let mut out = String::new();
  for c in description.chars() {
    if c.is_alphanumeric() {
      out.extend(c.to_lowercase());
    } else if !out.ends_with('_') && !out.is_empty() {
      out.push('_');
    }
  }
  out.trim_end_matches('_').to_string()
}

/// The file name of the next versioned migration: one past the highest
/// major version in the folder.
pub(crate) fn next_name(names: &[String], description: &str) -> Result<String, NewError> {
  let description = snake_case(description);
  if description.is_empty() {
    return Err(NewError::EmptyDescription);
  }
  let problems = problems(names);
  if !problems.is_empty() {
    return Err(NewError::Folder(problems));
  }
  let highest = names
    .iter()
    .filter_map(|n| parse(n).ok())
    .filter_map(|m| match m.kind {
      Kind::Versioned(v) => v.first().copied(),
      Kind::Repeatable => None,
    })
    .max()
    .unwrap_or(0);
  let next = highest + 1;
  let name = format!("V{next}__{description}.sql");
  if name.len() > MAX_NAME_BYTES {
    return Err(NewError::TooLong {
      bytes: name.len(),
      over: name.len() - MAX_NAME_BYTES,
    });
  }
  if names.iter().any(|n| n == &name) {
    return Err(NewError::Exists(name));
  }
  Ok(name)
}

#[cfg(test)]
mod tests {
  use super::*;

  fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(std::string::ToString::to_string).collect()
  }

  #[test]
  fn flyway_naming_rules() {
    assert!(parse("V1__baseline.sql").is_ok());
    assert!(parse("V1.2_3__x.sql").is_ok());
    assert!(parse("R__views.sql").is_ok());
    assert_eq!(
      parse("V1_baseline.sql").unwrap_err().to_string(),
      "`V1_baseline.sql` has no `__` between the version and the description"
    );
    assert!(
      parse("V1a__x.sql")
        .unwrap_err()
        .to_string()
        .contains("is not a version")
    );
    assert!(
      parse("U2__undo.sql")
        .unwrap_err()
        .to_string()
        .contains("paid Flyway edition")
    );
    assert!(
      parse("V3__.sql")
        .unwrap_err()
        .to_string()
        .contains("no description")
    );
    assert!(
      parse("add_users.sql")
        .unwrap_err()
        .to_string()
        .contains("must start with")
    );
  }

  #[test]
  fn duplicate_versions_are_found_numerically() {
    let found = problems(&names(&[
      "V1.0__b.sql",
      "V1__a.sql",
      "V2__c.sql",
      "README.md",
    ]));
    let found: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(found, ["`V1__a.sql` has the same version as `V1.0__b.sql`"]);
  }

  #[test]
  fn next_version_and_description() {
    assert_eq!(
      next_name(
        &names(&["V1__baseline.sql", "V7.1__x.sql", "R__v.sql"]),
        "Add users table!"
      )
      .unwrap(),
      "V8__add_users_table.sql"
    );
    assert_eq!(
      next_name(&[], "  Élan -- vital  ").unwrap(),
      "V1__élan_vital.sql"
    );
    assert!(next_name(&[], "!!!").is_err());
    assert!(
      next_name(&names(&["V1__a.sql", "V1__b.sql"]), "c")
        .unwrap_err()
        .to_string()
        .starts_with("fix the migrations folder first")
    );
  }
}
