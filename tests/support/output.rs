//! Rendering in process, for the tests that read the output as data.

use oi_gen::blueprint::{self, Resolved};
use oi_gen::render::{self, Engine, Output};

/// The resolved model of a blueprint text, which must be valid.
pub(crate) fn resolve(text: &str) -> Resolved {
  blueprint::load(text.as_bytes())
    .expect("the blueprint is valid")
    .resolved
}

/// The text of a built-in blueprint.
pub(crate) fn builtin_text(name: &str) -> &'static str {
  oi_gen::builtin::all()
    .into_iter()
    .find(|b| b.name == name)
    .expect("built-in blueprint")
    .text
}

/// The render of a resolved blueprint with the embedded templates.
pub(crate) fn render_resolved(resolved: &Resolved) -> Output {
  render::render(resolved, &Engine::new().unwrap()).expect("renders")
}

/// A blueprint text, resolved and rendered.
pub(crate) fn render_text(text: &str) -> (Resolved, Output) {
  let resolved = resolve(text);
  let output = render_resolved(&resolved);
  (resolved, output)
}

/// A built-in blueprint, resolved and rendered.
pub(crate) fn render_builtin(name: &str) -> (Resolved, Output) {
  render_text(builtin_text(name))
}

/// The contents of a rendered file, which must be rendered.
pub(crate) fn file<'a>(output: &'a Output, path: &str) -> &'a str {
  &output
    .files
    .get(path)
    .unwrap_or_else(|| panic!("{path} is not rendered"))
    .contents
}

/// A YAML document, which must parse.
pub(crate) fn yaml(text: &str) -> yaml_serde::Value {
  yaml_serde::from_str(text).unwrap()
}
