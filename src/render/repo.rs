//! Repository-wide files.

use super::{Engine, Output};

pub fn render(engine: &Engine, out: &mut Output) {
  out.managed(
    ".gitignore",
    engine.text("repo/gitignore").unwrap_or_default(),
  );
  out.managed(crate::schema::SCHEMA_PATH, crate::schema::json());
}
