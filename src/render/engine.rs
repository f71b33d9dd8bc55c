//! The embedded templates: files ending in `.tera` go through Tera, registered
//! once per process; every other file is shipped as it is. The `.tera` files
//! are parsed when oi-gen is built (`build.rs`), and a run decodes the ones
//! it needs ([`codec`]); repository overrides are parsed by Tera at run time.

use std::collections::BTreeMap;
use std::path::Path;

use include_dir::{Dir, DirEntry, include_dir};
use serde::Serialize;
use tera::{Context, Tera};

static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// The embedded `.tera` templates, parsed by `build.rs` as
/// [`super::parse::template`] parses them and encoded by [`codec`]: a run
/// decodes the ones it needs instead of parsing them.
static COMPILED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/templates.bin"));

mod codec;

/// Repository-local templates that replace embedded ones of the same path.
pub const OVERRIDES_DIR: &str = ".oi-gen/templates";

pub struct Engine {
  /// One Tera per top-level template folder (`infra/`, `.github/`…):
  /// templates only refer to others in their folder.
  groups: BTreeMap<String, Tera>,
  /// Repository-local replacements, by template path.
  overrides: BTreeMap<String, String>,
  /// Overrides whose embedded counterpart no longer exists.
  pub stale_overrides: Vec<String>,
  /// Overrides found at a template's old path: (where it is, where it
  /// belongs). They apply; `oi-gen upgrade` moves them.
  pub moved_overrides: Vec<(String, String)>,
}

/// A template only other templates use (`_macros.tera`): never rendered to
/// a file of its own.
fn is_partial(path: &str) -> bool {
  path.ends_with(".tera")
    && path
      .rsplit('/')
      .next()
      .is_some_and(|name| name.starts_with('_'))
}

/// An empty Tera with what every template may use: no autoescaping, and
/// the HCL filters. Nothing reads the machine: Tera's `get_env` is replaced
/// by one that fails (`now` and `get_random` need Tera's `builtins`
/// feature, which is off), so a blueprint renders the same files anywhere.
fn new_tera() -> Tera {
  let mut tera = Tera::default();
  tera.autoescape_on(vec![]);
  super::hcl::register(&mut tera);
  tera.register_function(
    "get_env",
    |_: &std::collections::HashMap<String, tera::Value>| -> tera::Result<tera::Value> {
      Err(tera::Error::msg(NO_ENV))
    },
  );
  tera
}

/// Why `get_env` fails.
const NO_ENV: &str = "templates cannot read environment variables: a render reads only the blueprint, so it writes the same files on every machine; put the value in the blueprint";

/// The folder a template belongs to.
fn group_of(name: &str) -> &str {
  name.split('/').next().unwrap_or_default()
}

thread_local! {
  /// How many embedded templates this thread has had loaded (decoded from
  /// their compiled form: what parsing them was before it moved to the
  /// build).
  static PARSED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many embedded templates the calling thread has had loaded so far:
/// tests check that commands which render nothing load nothing.
#[doc(hidden)]
pub fn templates_parsed() -> usize {
  PARSED.with(std::cell::Cell::get)
}

impl Engine {
  /// Loads every embedded `.tera` template.
  pub fn new() -> Result<Self, tera::Error> {
    Self::load(|_| true)
  }

  /// Loads the embedded templates `wanted` keeps (and the partials of
  /// their folders) from their compiled form.
  fn load(wanted: impl Fn(&str) -> bool) -> Result<Self, tera::Error> {
    let index = codec::index(COMPILED).map_err(|damaged| tera::Error::msg(damaged.to_string()))?;
    let mut grouped: BTreeMap<&str, Vec<(&str, &[u8])>> = BTreeMap::new();
    for (name, encoded) in index {
      grouped
        .entry(group_of(name))
        .or_default()
        .push((name, encoded));
    }
    grouped.retain(|_, templates| {
      templates.retain(|(name, _)| is_partial(name) || wanted(name));
      templates.iter().any(|(name, _)| !is_partial(name))
    });
    PARSED.with(|parsed| parsed.set(parsed.get() + grouped.values().map(Vec::len).sum::<usize>()));
    let mut groups = BTreeMap::new();
    for (group, templates) in grouped {
      let mut tera = new_tera();
      for (name, encoded) in templates {
        let template = codec::decode(encoded)
          .map_err(|damaged| tera::Error::msg(format!("Failed to load '{name}': {damaged}")))?;
        tera.templates.insert(name.to_string(), template);
      }
      tera.build_inheritance_chains()?;
      tera.check_macro_files()?;
      groups.insert(group.to_string(), tera);
    }
    Ok(Self {
      groups,
      overrides: BTreeMap::new(),
      stale_overrides: Vec::new(),
      moved_overrides: Vec::new(),
    })
  }

  /// The templates a blueprint needs (the output manifest knows which),
  /// with the repository's overrides from `<root>/.oi-gen/templates/`
  /// layered on top. An override at a template's path from before
  /// templates mirrored the output tree still applies, and is reported in
  /// [`Engine::moved_overrides`].
  pub fn for_render(
    resolved: &crate::blueprint::Resolved,
    root: &Path,
  ) -> Result<Self, crate::error::TemplateError> {
    use crate::error::TemplateError;
    let needed = super::manifest::templates(resolved);
    let mut engine = Self::load(|path| needed.contains(path)).map_err(TemplateError::Embedded)?;
    let dir = root.join(OVERRIDES_DIR);
    if !dir.is_dir() {
      return Ok(engine);
    }
    for entry in walkdir::WalkDir::new(&dir).sort_by_file_name() {
      let entry = entry.map_err(TemplateError::Walk)?;
      if !entry.file_type().is_file() {
        continue;
      }
      let found = entry
        .path()
        .strip_prefix(&dir)
        .map_err(TemplateError::Outside)?
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/");
      let shown = format!("{OVERRIDES_DIR}/{found}");
      let relative = if TEMPLATES.get_file(&found).is_some() {
        found
      } else {
        match super::layout::moved(&found).filter(|new| TEMPLATES.get_file(new).is_some()) {
          Some(new) => {
            engine
              .moved_overrides
              .push((shown.clone(), format!("{OVERRIDES_DIR}/{new}")));
            new
          }
          None => {
            engine.stale_overrides.push(shown);
            continue;
          }
        }
      };
      let text = std::fs::read_to_string(entry.path()).map_err(|source| TemplateError::Read {
        shown: shown.clone(),
        source,
      })?;
      if relative.ends_with(".tera") && (is_partial(&relative) || needed.contains(&relative)) {
        engine
          .groups
          .entry(group_of(&relative).to_string())
          .or_insert_with(new_tera)
          .add_raw_template(&relative, &super::parse::prepare(&relative, &text))
          .map_err(|source| TemplateError::Parse {
            shown: shown.clone(),
            source,
          })?;
      }
      engine.overrides.insert(relative, text);
    }
    // Refuse overrides that would recurse until the stack overflows.
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    walk_templates(&TEMPLATES, &mut texts);
    for (name, text) in &engine.overrides {
      texts.insert(name.clone(), text.clone());
    }
    let names = engine.overrides.keys().cloned().collect();
    if let Some((name, why)) = super::recursion::check(&texts, &names) {
      return Err(TemplateError::Recursive {
        shown: format!("{OVERRIDES_DIR}/{name}"),
        why,
      });
    }
    Ok(engine)
  }

  /// The repository's overrides in use, as shown in messages.
  pub fn override_paths(&self) -> Vec<String> {
    self
      .overrides
      .keys()
      .map(|name| format!("{OVERRIDES_DIR}/{name}"))
      .collect()
  }

  /// A file shipped as it is, honouring the repository's overrides.
  pub fn text(&self, name: &str) -> Option<&str> {
    match self.overrides.get(name) {
      Some(text) => Some(text),
      None => Self::file(name),
    }
  }

  /// Files under `dir` shipped as they are (not templates), honouring the
  /// repository's overrides, as (path relative to `dir`, contents).
  pub fn texts_under(&self, dir: &str) -> Vec<(String, &str)> {
    Self::files_under(dir)
      .into_iter()
      .map(|(relative, embedded)| {
        let full = format!("{dir}/{relative}");
        let text = self.overrides.get(&full).map_or(embedded, String::as_str);
        (relative, text)
      })
      .collect()
  }

  /// Renders `templates/<name>` with a context serialized from `data`.
  pub fn render(&self, name: &str, data: &impl Serialize) -> Result<String, tera::Error> {
    let tera = self
      .groups
      .get(group_of(name))
      .ok_or_else(|| tera::Error::template_not_found(name))?;
    let context = Context::from_serialize(data)?;
    if self.overrides.is_empty() {
      return tera.render(name, &context);
    }
    // With overrides, the watchdog knows what is rendering since when.
    set_rendering(Some((std::time::Instant::now(), name.to_string())));
    let rendered = tera.render(name, &context);
    set_rendering(None);
    rendered.map_err(|error| self.name_the_override(name, error))
  }

  /// An override's `get_env` call, named: the template rendering if it is
  /// overridden and calls it, else the overrides of its folder that do.
  fn name_the_override(&self, name: &str, error: tera::Error) -> tera::Error {
    if !error_chain(&error).contains(NO_ENV) {
      return error;
    }
    let calls =
      |path: &String, text: &String| group_of(path) == group_of(name) && text.contains("get_env");
    let mut callers: Vec<&String> = self
      .overrides
      .iter()
      .filter(|(p, t)| p.as_str() == name && calls(p, t))
      .map(|(p, _)| p)
      .collect();
    if callers.is_empty() {
      callers = self
        .overrides
        .iter()
        .filter(|(p, t)| calls(p, t))
        .map(|(p, _)| p)
        .collect();
    }
    let shown: Vec<String> = callers
      .iter()
      .map(|p| format!("`{OVERRIDES_DIR}/{p}`"))
      .collect();
    tera::Error::msg(format!(
      "{} calls `get_env` (rendering `{name}`): {NO_ENV}",
      shown.join(", ")
    ))
  }

  /// Whether the repository overrides any template.
  pub fn has_overrides(&self) -> bool {
    !self.overrides.is_empty()
  }
}

/// The template being rendered, and since when, while overrides are in use.
static RENDERING: std::sync::Mutex<Option<(std::time::Instant, String)>> =
  std::sync::Mutex::new(None);

fn set_rendering(now: Option<(std::time::Instant, String)>) {
  if let Ok(mut current) = RENDERING.lock() {
    *current = now;
  }
}

/// The longest one template may take to render: far more than any render
/// of the embedded templates takes, for the largest blueprint.
pub(crate) const RENDER_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// The template that has been rendering for longer than [`RENDER_BUDGET`].
pub(crate) fn overrun() -> Option<String> {
  let current = RENDERING.lock().ok()?;
  let (since, name) = current.as_ref()?;
  (since.elapsed() > RENDER_BUDGET).then(|| name.clone())
}

impl Engine {
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

/// Every embedded `.tera` template, by name, with its text.
fn walk_templates(dir: &'static Dir<'static>, found: &mut BTreeMap<String, String>) {
  for entry in dir.entries() {
    match entry {
      DirEntry::Dir(sub) => walk_templates(sub, found),
      DirEntry::File(file) => {
        let name = file.path().to_string_lossy().into_owned();
        if let (true, Some(text)) = (name.ends_with(".tera"), file.contents_utf8()) {
          found.insert(name, text.to_string());
        }
      }
    }
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

/// Every embedded `.tera` template as Tera parses it (after
/// [`super::parse::prepare`]).
#[cfg(test)]
pub(crate) fn embedded_sources() -> Vec<(String, String)> {
  let mut all = Vec::new();
  walk(&TEMPLATES, &mut all);
  all
    .into_iter()
    .filter(|(path, _)| path.ends_with(".tera"))
    .map(|(path, text)| {
      let text = super::parse::prepare(&path, text);
      (path, text)
    })
    .collect()
}

/// Every embedded `.tera` template as the binary loads it, decoded from
/// its compiled form, by name.
#[cfg(test)]
pub(crate) fn compiled() -> Vec<(String, tera::Template)> {
  codec::index(COMPILED)
    .unwrap()
    .into_iter()
    .map(|(name, encoded)| (name.to_string(), codec::decode(encoded).unwrap()))
    .collect()
}

/// One template encoded as `build.rs` encodes it.
#[cfg(test)]
pub(crate) fn encode(template: &tera::Template) -> Vec<u8> {
  let encoded = codec::encode_all(&[(template.name.clone(), template.clone())]);
  let index = codec::index(&encoded).unwrap();
  index[0].1.to_vec()
}

/// Decodes one template as the binary does, the error as text.
#[cfg(test)]
pub(crate) fn decode(encoded: &[u8]) -> Result<tera::Template, String> {
  codec::decode(encoded).map_err(|damaged| damaged.to_string())
}

/// Encodes and decodes templates as `build.rs` and the binary do.
#[cfg(test)]
pub(crate) fn round_trip(templates: &[(String, tera::Template)]) -> Vec<(String, tera::Template)> {
  let encoded = codec::encode_all(templates);
  codec::index(&encoded)
    .unwrap()
    .into_iter()
    .map(|(name, encoded)| (name.to_string(), codec::decode(encoded).unwrap()))
    .collect()
}

impl Engine {
  /// The embedded templates under `dir` that render to a file, as full
  /// template paths, sorted: partials (`_*.tera`) are left out.
  pub fn templates_under(dir: &str) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(root) = TEMPLATES.get_dir(dir) {
      walk(root, &mut found);
    }
    found
      .into_iter()
      .map(|(path, _)| path)
      .filter(|path| {
        let file = path.rsplit('/').next().unwrap_or_default();
        path.ends_with(".tera") && !file.starts_with('_')
      })
      .collect()
  }
}

/// The output path of a template: its path under `templates/` without
/// `.tera`, with the `{service}` and `{environment}` placeholders of its file
/// and folder names filled in (`infra/environments/{environment}.tfvars.tera`
/// gives `infra/environments/staging.tfvars`).
pub(crate) fn output_path(
  template: &str,
  service: Option<&str>,
  environment: Option<&str>,
) -> String {
  let mut path = template
    .strip_suffix(".tera")
    .unwrap_or(template)
    .to_string();
  for (placeholder, value) in [("{service}", service), ("{environment}", environment)] {
    if let Some(value) = value {
      path = path.replace(placeholder, value);
    }
  }
  path
}

/// A Tera error with its causes, which carry the useful detail.
pub fn error_chain(error: &tera::Error) -> String {
  crate::render::parse::error_chain(error)
}

#[cfg(test)]
mod output_path_tests {
  use super::output_path;

  #[test]
  fn the_output_path_is_the_template_path_with_its_placeholders_filled_in() {
    assert_eq!(output_path("infra/vpc.tf.tera", None, None), "infra/vpc.tf");
    assert_eq!(
      output_path(
        "infra/environments/{environment}.tfvars.tera",
        None,
        Some("staging")
      ),
      "infra/environments/staging.tfvars"
    );
    assert_eq!(
      output_path(
        "charts/{service}/values-{environment}.yaml.tera",
        Some("api"),
        Some("prod")
      ),
      "charts/api/values-prod.yaml"
    );
    assert_eq!(output_path("repo/gitignore", None, None), "repo/gitignore");
  }
}
