//! Repository-wide files.

use std::collections::BTreeMap;

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
  _resolved: &Resolved,
  engine: &Engine,
  out: &mut Output,
) -> Result<(), tera::Error> {
  let text = engine.render(GITIGNORE, &BTreeMap::<&str, &str>::new())?;
  out.add(output_path(GITIGNORE, None, None), text);
  let text = engine.render(GITATTRIBUTES, &BTreeMap::<&str, &str>::new())?;
  out.add(output_path(GITATTRIBUTES, None, None), text);
  out.add(crate::schema::SCHEMA_PATH, crate::schema::json());
  Ok(())
}
