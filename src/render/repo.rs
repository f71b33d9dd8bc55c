//! Repository-wide files.

use super::{Engine, Output};

pub fn render(out: &mut Output) {
  out.managed(
    ".gitignore",
    Engine::file("repo/gitignore").unwrap_or_default(),
  );
  out.managed(crate::schema::SCHEMA_PATH, crate::schema::json());
}
