//! Blueprints embedded in the binary.

use include_dir::{Dir, include_dir};

static BLUEPRINTS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/blueprints");

/// The blueprint `oi-gen init` starts from by default.
pub const DEFAULT: &str = "openinnovation";

pub struct Builtin {
  pub name: &'static str,
  pub text: &'static str,
}

impl Builtin {
  /// First line of the leading comment, as a one-line description.
  pub fn summary(&self) -> String {
    let comment: Vec<&str> = self
      .text
      .lines()
      .take_while(|line| line.starts_with('#'))
      .map(|line| line.trim_start_matches('#').trim())
      .collect();
    let text = comment.join(" ");
    let sentence = text.split(". ").next().unwrap_or_default();
    sentence.trim_end_matches('.').to_string()
  }
}

/// Every built-in blueprint, sorted by name.
pub fn all() -> Vec<Builtin> {
  let mut found: Vec<Builtin> = BLUEPRINTS
    .files()
    .filter_map(|file| {
      let name = file.path().file_name()?.to_str()?.strip_suffix(".yaml")?;
      Some(Builtin {
        name,
        text: file.contents_utf8()?,
      })
    })
    .collect();
  found.sort_by_key(|b| b.name);
  found
}

pub fn get(name: &str) -> Option<Builtin> {
  all().into_iter().find(|b| b.name == name)
}

/// A blueprint's text with its `monitoring:` add-on block (down to the next
/// blank line) replaced by `monitoring: false`: the tests' variant without
/// monitoring.
#[cfg(test)]
pub(crate) fn without_monitoring(text: &str) -> String {
  let start = text.find("      monitoring:").expect("a monitoring block");
  let end = start + text[start..].find("\n\n").expect("a blank line after it");
  format!("{}      monitoring: false{}", &text[..start], &text[end..])
}
