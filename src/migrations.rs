//! Flyway migration files in `db/migrations/`: Flyway's naming rules, the
//! next version for `oi-gen migration new`, and edits to released ones.
//! Migrations are the user's: oi-gen only reads them, and writes new ones
//! when asked.

use std::collections::BTreeMap;
use std::path::Path;

/// Where migrations live, relative to the repository.
pub const DIR: &str = "db/migrations";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
  /// `V<version>__<description>.sql`
  Versioned(Vec<u64>),
  /// `R__<description>.sql`
  Repeatable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
  pub name: String,
  pub kind: Kind,
}

/// Parses a file name; `Err` says which Flyway rule it breaks.
pub fn parse(name: &str) -> Result<Migration, String> {
  let stem = name
    .strip_suffix(".sql")
    .ok_or_else(|| format!("`{name}` is not a .sql file"))?;
  if !stem.starts_with(['V', 'R', 'U', 'B']) {
    return Err(format!(
      "`{name}` must start with `V<version>__` (versioned) or `R__` (repeatable)"
    ));
  }
  let (prefix, description) = stem
    .split_once("__")
    .ok_or_else(|| format!("`{name}` has no `__` between the version and the description"))?;
  if description.is_empty() || description.trim_matches(['_', '.', ' ']).is_empty() {
    return Err(format!("`{name}` has no description after `__`"));
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
      Kind::Versioned(parts.ok_or_else(|| {
        format!("`{name}`: `{version}` is not a version (digits separated by `.` or `_`)")
      })?)
    }
    Some('R') if prefix == "R" => Kind::Repeatable,
    Some('U') | Some('B') => {
      return Err(format!(
        "`{name}`: undo (U) and baseline (B) migrations need a paid Flyway edition; write a new forward migration instead"
      ));
    }
    _ => {
      return Err(format!(
        "`{name}` must start with `V<version>__` (versioned) or `R__` (repeatable)"
      ));
    }
  };
  Ok(Migration {
    name: name.to_string(),
    kind,
  })
}

/// Versions compare numerically, ignoring trailing zero parts (`1.0` = `1`).
fn normalized(version: &[u64]) -> Vec<u64> {
  let mut v = version.to_vec();
  while v.len() > 1 && v.last() == Some(&0) {
    v.pop();
  }
  v
}

/// The `.sql` files of the migrations folder, sorted by name.
pub fn list(root: &Path) -> std::io::Result<Vec<String>> {
  let dir = root.join(DIR);
  let entries = match std::fs::read_dir(&dir) {
    Ok(entries) => entries,
    Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
    Err(error) => return Err(error),
  };
  let mut names = Vec::new();
  for entry in entries {
    let entry = entry?;
    if entry.file_type()?.is_file() {
      let name = entry.file_name().to_string_lossy().into_owned();
      if !name.starts_with('.') {
        names.push(name);
      }
    }
  }
  names.sort();
  Ok(names)
}

/// Every problem Flyway would refuse: bad names and duplicate versions.
pub fn problems(names: &[String]) -> Vec<String> {
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
          found.push(format!("`{name}` has the same version as `{first}`"));
        }
      }
      Ok(_) => {}
      Err(problem) => found.push(problem),
    }
  }
  found
}

/// `add users table!` → `add_users_table`.
pub fn snake_case(description: &str) -> String {
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
pub fn next_name(names: &[String], description: &str) -> Result<String, String> {
  let description = snake_case(description);
  if description.is_empty() {
    return Err("the description needs at least one letter or digit".into());
  }
  let problems = problems(names);
  if !problems.is_empty() {
    return Err(format!(
      "fix the migrations folder first: {}",
      problems.join("; ")
    ));
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
  if names.iter().any(|n| n == &name) {
    return Err(format!("`{name}` already exists"));
  }
  Ok(name)
}

#[cfg(test)]
mod tests {
  use super::*;

  fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
  }

  #[test]
  fn flyway_naming_rules() {
    assert!(parse("V1__baseline.sql").is_ok());
    assert!(parse("V1.2_3__x.sql").is_ok());
    assert!(parse("R__views.sql").is_ok());
    assert_eq!(
      parse("V1_baseline.sql").unwrap_err(),
      "`V1_baseline.sql` has no `__` between the version and the description"
    );
    assert!(
      parse("V1a__x.sql")
        .unwrap_err()
        .contains("is not a version")
    );
    assert!(
      parse("U2__undo.sql")
        .unwrap_err()
        .contains("paid Flyway edition")
    );
    assert!(parse("V3__.sql").unwrap_err().contains("no description"));
    assert!(
      parse("add_users.sql")
        .unwrap_err()
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
        .starts_with("fix the migrations folder first")
    );
  }
}
