//! Schema migrations of the blueprint, one function per version step, applied
//! by editing the YAML text in place so comments, key order and formatting
//! outside the changed keys survive.
//!
//! `oi-gen.dev/v1alpha1` is the first schema, so the list is empty. The next
//! schema change adds one `SchemaStep` to `STEPS`.

use std::fmt;

use super::index::{self, Located};
use super::model::API_VERSION;
use crate::diagnostic::Diagnostic;

/// Why an edit of the document failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
  /// The text is not YAML the index can read.
  Unreadable(Box<Diagnostic>),
  /// No node at the path.
  Missing(String),
  /// The node at the path is not a mapping key.
  NotAKey(String),
  /// A quoted key without its closing quote.
  UnterminatedKey,
}

impl fmt::Display for EditError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      EditError::Unreadable(problem) => write!(f, "{problem}"),
      EditError::Missing(path) => write!(f, "`{path}` is not in the blueprint"),
      EditError::NotAKey(path) => write!(f, "`{path}` is not a key"),
      EditError::UnterminatedKey => write!(f, "unterminated quoted key"),
    }
  }
}

impl std::error::Error for EditError {}

/// Why a blueprint cannot be migrated to the current schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrateError {
  /// No `apiVersion` to start from.
  NoApiVersion,
  /// No step starts at the declared version.
  NoStep { from: String, target: String },
  /// A step's edit failed.
  Step {
    from: &'static str,
    to: &'static str,
    error: EditError,
  },
  /// Updating `apiVersion` failed.
  Edit(EditError),
}

impl fmt::Display for MigrateError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      MigrateError::NoApiVersion => write!(f, "the blueprint has no apiVersion"),
      MigrateError::NoStep { from, target } => {
        write!(
          f,
          "no migration from `{from}`; this oi-gen reads `{target}`"
        )
      }
      MigrateError::Step { from, to, error } => write!(f, "migrating {from} to {to}: {error}"),
      MigrateError::Edit(error) => write!(f, "{error}"),
    }
  }
}

impl std::error::Error for MigrateError {}

/// One schema version step.
pub(crate) struct SchemaStep {
  pub from: &'static str,
  pub to: &'static str,
  /// Edits the document from `from`'s shape to `to`'s; `apiVersion` is
  /// updated by the runner.
  pub apply: fn(&mut Document) -> Result<(), EditError>,
}

/// The schema steps, oldest first, ending at [`API_VERSION`].
pub(crate) const STEPS: &[SchemaStep] = &[];

/// A YAML document edited as text through the positions of its nodes.
pub(crate) struct Document {
  text: String,
}

impl Document {
  pub(crate) fn new(text: &str) -> Self {
    Self {
      text: text.to_string(),
    }
  }

  #[cfg_attr(
    not(test),
    expect(
      dead_code,
      reason = "edit API of schema steps: the current schema has none yet"
    )
  )]
  pub(crate) fn text(&self) -> &str {
    &self.text
  }

  fn entry(&self, path: &str) -> Result<Located, EditError> {
    let (index, mut problems) = index::build(&self.text);
    if !problems.is_empty() {
      return Err(EditError::Unreadable(Box::new(problems.swap_remove(0))));
    }
    index
      .entry(path)
      .ok_or_else(|| EditError::Missing(path.to_string()))
  }

  #[cfg_attr(
    not(test),
    expect(
      dead_code,
      reason = "edit API of schema steps: the current schema has none yet"
    )
  )]
  pub(crate) fn has(&self, path: &str) -> bool {
    self.entry(path).is_ok()
  }

  /// Renames the last key of `path`, keeping its value and comments.
  #[cfg_attr(
    not(test),
    expect(
      dead_code,
      reason = "edit API of schema steps: the current schema has none yet"
    )
  )]
  pub(crate) fn rename_key(&mut self, path: &str, new_key: &str) -> Result<(), EditError> {
    let entry = self.entry(path)?;
    let start = self.byte(
      entry
        .key_char
        .ok_or_else(|| EditError::NotAKey(path.to_string()))?,
    );
    let old_key = path.rsplit('.').next().unwrap_or(path);
    let rest = &self.text[start..];
    let len = if rest.starts_with(old_key) {
      old_key.len()
    } else {
      // A quoted key: up to the closing quote.
      let quote = rest.chars().next().unwrap_or('"');
      1 + rest[1..].find(quote).ok_or(EditError::UnterminatedKey)? + 1
    };
    self.text.replace_range(start..start + len, new_key);
    Ok(())
  }

  /// Replaces the scalar value at `path` with `new_value` (YAML text),
  /// keeping a trailing comment on the line.
  pub(crate) fn set_scalar(&mut self, path: &str, new_value: &str) -> Result<(), EditError> {
    let entry = self.entry(path)?;
    let start = self.byte(entry.value_char);
    let end = scalar_end(&self.text, start);
    self.text.replace_range(start..end, new_value);
    Ok(())
  }

  /// Removes a block mapping entry: the key's line and its indented value lines.
  #[cfg_attr(
    not(test),
    expect(
      dead_code,
      reason = "edit API of schema steps: the current schema has none yet"
    )
  )]
  pub(crate) fn remove_key(&mut self, path: &str) -> Result<(), EditError> {
    let entry = self.entry(path)?;
    let key = self.byte(
      entry
        .key_char
        .ok_or_else(|| EditError::NotAKey(path.to_string()))?,
    );
    let line_start = self.text[..key].rfind('\n').map_or(0, |i| i + 1);
    let indent = key - line_start;
    let mut end = self.text[key..]
      .find('\n')
      .map_or(self.text.len(), |i| key + i + 1);
    // Take the value's more-indented lines; blank lines only between them.
    let mut cursor = end;
    while cursor < self.text.len() {
      let line_end = self.text[cursor..]
        .find('\n')
        .map_or(self.text.len(), |i| cursor + i + 1);
      let line = &self.text[cursor..line_end];
      let content = line.trim_start();
      if content.trim().is_empty() {
        cursor = line_end;
        continue;
      }
      if line.len() - content.len() <= indent {
        break;
      }
      cursor = line_end;
      end = cursor;
    }
    self.text.replace_range(line_start..end, "");
    Ok(())
  }

  fn byte(&self, char_index: usize) -> usize {
    self
      .text
      .char_indices()
      .nth(char_index)
      .map_or(self.text.len(), |(byte, _)| byte)
  }
}

/// End of a scalar that starts at `start`: the closing quote, or the end of
/// the line before a comment or flow punctuation.
fn scalar_end(text: &str, start: usize) -> usize {
  let rest = &text[start..];
  let line = rest.split('\n').next().unwrap_or_default();
  if let Some(quote @ ('"' | '\'')) = line.chars().next() {
    let mut escaped = false;
    for (i, c) in line.char_indices().skip(1) {
      if quote == '"' && c == '\\' && !escaped {
        escaped = true;
        continue;
      }
      if c == quote && !escaped {
        return start + i + 1;
      }
      escaped = false;
    }
    return start + line.len();
  }
  let mut end = line.len();
  if let Some(i) = line.find(" #") {
    end = end.min(i);
  }
  if let Some(i) = line.find([',', ']', '}']) {
    end = end.min(i);
  }
  start + line[..end].trim_end().len()
}

/// The schema version a blueprint declares, read without validating it.
pub(crate) fn declared_version(text: &str) -> Option<String> {
  let (index, _) = index::build(text);
  let entry = index.entry("apiVersion")?;
  let doc = Document::new(text);
  let start = doc.byte(entry.value_char);
  let value = &text[start..scalar_end(text, start)];
  Some(value.trim_matches(['"', '\'']).to_string())
}

/// Migrates `text` to the newest schema of `steps`. Returns the new text and
/// the steps applied (`from → to`); unchanged text when already current.
pub(crate) fn migrate(
  text: &str,
  steps: &[SchemaStep],
) -> Result<(String, Vec<String>), MigrateError> {
  let target = steps.last().map_or(API_VERSION, |s| s.to);
  let mut version = declared_version(text).ok_or(MigrateError::NoApiVersion)?;
  let mut doc = Document::new(text);
  let mut applied = Vec::new();
  while version != target {
    let step = steps
      .iter()
      .find(|s| s.from == version)
      .ok_or_else(|| MigrateError::NoStep {
        from: version.clone(),
        target: target.to_string(),
      })?;
    (step.apply)(&mut doc).map_err(|error| MigrateError::Step {
      from: step.from,
      to: step.to,
      error,
    })?;
    let quoted = if doc.text[..].contains(&format!("apiVersion: \"{version}\"")) {
      format!("\"{}\"", step.to)
    } else {
      step.to.to_string()
    };
    doc
      .set_scalar("apiVersion", &quoted)
      .map_err(MigrateError::Edit)?;
    applied.push(format!("{} → {}", step.from, step.to));
    version = step.to.to_string();
  }
  Ok((doc.text, applied))
}

#[cfg(test)]
mod tests {
  use super::*;

  const BLUEPRINT: &str = include_str!("../../blueprints/openinnovation.yaml");

  /// A schema step that exists only here: v1alpha1 → v1alpha2 renames
  /// `delivery.versioning` to `delivery.releaseScheme`, moves
  /// `natGateways: onePerAz` to `perZone`, and drops `database.migrations`.
  fn to_v1alpha2(doc: &mut Document) -> Result<(), EditError> {
    doc.rename_key("spec.delivery.versioning", "releaseScheme")?;
    if doc.has("spec.network.natGateways") {
      doc.set_scalar("spec.network.natGateways", "perZone")?;
    }
    if doc.has("spec.database.migrations") {
      doc.remove_key("spec.database.migrations")?;
    }
    Ok(())
  }

  const TEST_STEPS: &[SchemaStep] = &[SchemaStep {
    from: "oi-gen.dev/v1alpha1",
    to: "oi-gen.dev/v1alpha2",
    apply: to_v1alpha2,
  }];

  #[test]
  fn the_real_list_ends_at_the_current_version() {
    let (text, applied) = migrate(BLUEPRINT, STEPS).unwrap();
    assert_eq!(text, BLUEPRINT);
    assert!(applied.is_empty());
  }

  #[test]
  fn a_schema_step_keeps_comments_and_formatting() {
    let (text, applied) = migrate(BLUEPRINT, TEST_STEPS).unwrap();
    assert_eq!(applied, ["oi-gen.dev/v1alpha1 → oi-gen.dev/v1alpha2"]);
    assert!(text.contains("apiVersion: oi-gen.dev/v1alpha2\n"));
    assert!(text.contains("    releaseScheme: semver\n"));
    assert!(text.contains("    natGateways: perZone\n"));
    assert!(!text.contains("migrations: flyway"));
    // Everything else is byte for byte the same: compare line by line.
    let changed: Vec<_> = similar::TextDiff::from_lines(BLUEPRINT, &text)
      .iter_all_changes()
      .filter(|c| c.tag() != similar::ChangeTag::Equal)
      .map(|c| format!("{}{}", c.tag(), c.value()))
      .collect();
    assert_eq!(
      changed,
      [
        "-apiVersion: oi-gen.dev/v1alpha1\n",
        "+apiVersion: oi-gen.dev/v1alpha2\n",
        "-    natGateways: onePerAz\n",
        "+    natGateways: perZone\n",
        "-    migrations: flyway\n",
        "-    versioning: semver\n",
        "+    releaseScheme: semver\n",
      ]
    );
  }

  #[test]
  fn unknown_versions_are_refused() {
    let text = BLUEPRINT.replace("oi-gen.dev/v1alpha1", "oi-gen.dev/v9");
    let error = migrate(&text, TEST_STEPS).unwrap_err();
    assert_eq!(
      error.to_string(),
      "no migration from `oi-gen.dev/v9`; this oi-gen reads `oi-gen.dev/v1alpha2`"
    );
  }

  #[test]
  fn set_scalar_keeps_trailing_comments_and_quotes() {
    let mut doc = Document::new("a:\n  b: \"x\"   # note\n  c: [1, 2]\n");
    doc.set_scalar("a.b", "\"y\"").unwrap();
    doc.set_scalar("a.c[1]", "3").unwrap();
    assert_eq!(doc.text(), "a:\n  b: \"y\"   # note\n  c: [1, 3]\n");
  }
}
