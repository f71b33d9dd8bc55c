//! The embedded templates: files ending in `.tera` go through Tera, registered
//! once per process; every other file is shipped as it is.

use include_dir::{Dir, DirEntry, include_dir};
use serde::Serialize;
use tera::{Context, Tera};

static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

pub struct Engine {
  tera: Tera,
}

impl Engine {
  /// Parses every embedded `.tera` template.
  pub fn new() -> Result<Self, tera::Error> {
    let mut tera = Tera::default();
    tera.autoescape_on(vec![]);
    let mut sources = Vec::new();
    collect(&TEMPLATES, &mut sources);
    tera.add_raw_templates(sources)?;
    Ok(Self { tera })
  }

  /// Renders `templates/<name>` with a context serialized from `data`.
  pub fn render(&self, name: &str, data: &impl Serialize) -> Result<String, tera::Error> {
    self.tera.render(name, &Context::from_serialize(data)?)
  }

  /// An embedded file shipped as it is.
  pub fn file(name: &str) -> Option<&'static str> {
    TEMPLATES
      .get_file(name)
      .and_then(|file| file.contents_utf8())
  }

  /// Embedded files under `dir` (not templates), as (path relative to `dir`, contents).
  pub fn files_under(dir: &str) -> Vec<(String, &'static str)> {
    let mut found = Vec::new();
    if let Some(root) = TEMPLATES.get_dir(dir) {
      walk(root, &mut found);
    }
    found
      .into_iter()
      .filter(|(path, _)| !path.ends_with(".tera"))
      .filter_map(|(path, contents)| {
        let rel = path.strip_prefix(dir)?.trim_start_matches('/').to_string();
        Some((rel, contents))
      })
      .collect()
  }
}

fn walk(dir: &'static Dir<'static>, found: &mut Vec<(String, &'static str)>) {
  for entry in dir.entries() {
    match entry {
      DirEntry::Dir(sub) => walk(sub, found),
      DirEntry::File(file) => {
        if let Some(text) = file.contents_utf8() {
          found.push((file.path().to_string_lossy().replace('\\', "/"), text));
        }
      }
    }
  }
  found.sort();
}

fn collect(dir: &'static Dir<'static>, sources: &mut Vec<(String, String)>) {
  let mut all = Vec::new();
  walk(dir, &mut all);
  sources.extend(
    all
      .into_iter()
      .filter(|(path, _)| path.ends_with(".tera"))
      .map(|(path, text)| {
        // Workflow templates keep GitHub's `${{ }}` literal.
        let text = if path.starts_with("workflows/") {
          super::workflows::protect_expressions(text)
        } else {
          text.to_string()
        };
        (path, text)
      }),
  );
}
