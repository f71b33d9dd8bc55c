//! Rendering: a validated blueprint becomes an in-memory set of files. Nothing
//! here touches the disk, so `render`, `render --check` and `upgrade` share
//! one render.

pub(crate) mod charts;
pub(crate) mod docs;
pub(crate) mod engine;
pub(crate) mod flyway;
pub(crate) mod hcl;
pub(crate) mod header;
pub(crate) mod layout;
pub(crate) mod manifest;
pub(crate) mod parse;
pub(crate) mod recursion;
pub(crate) mod repo;
pub(crate) mod terraform;
pub(crate) mod workflows;
pub(crate) mod yaml;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::blueprint::Resolved;
pub use crate::fsutil::is_safe_relative;
pub use engine::{Engine, OVERRIDES_DIR, error_chain as engine_error_chain, templates_parsed};

/// Who owns a generated file after it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Ownership {
  /// Regenerated on every render; a hand edit is drift.
  Managed,
  /// Written once when missing, then the user's.
  Seeded,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
  pub contents: String,
  pub ownership: Ownership,
  /// For a seeded file: a folder that, when it holds any file, means the
  /// user has taken over and the file is not created.
  pub seed_unless: Option<String>,
  /// A subfolder in `seed_unless` counts too: the folder is the user's as
  /// soon as it holds anything (a service's build context).
  pub seed_unless_any: bool,
  /// The part between the user-section markers is the user's: a render
  /// keeps what is on disk there.
  pub user_section: bool,
}

pub const USER_SECTION_BEGIN: &str = "<!-- oi-gen:begin user section -->";
pub const USER_SECTION_END: &str = "<!-- oi-gen:end user section -->";

/// The text with the inside of its user section left out.
pub fn strip_user_section(text: &str) -> std::borrow::Cow<'_, str> {
  let Some(start) = text
    .find(USER_SECTION_BEGIN)
    .map(|i| i + USER_SECTION_BEGIN.len())
  else {
    return text.into();
  };
  match text[start..].find(USER_SECTION_END) {
    Some(len) => format!("{}{}", &text[..start], &text[start + len..]).into(),
    None => text.into(),
  }
}

/// `rendered` with its user section replaced by the one in `disk`, when both
/// have one.
pub fn keep_user_section(rendered: &str, disk: &str) -> Option<String> {
  let section = |text: &str| {
    let start = text.find(USER_SECTION_BEGIN)? + USER_SECTION_BEGIN.len();
    let end = start + text[start..].find(USER_SECTION_END)?;
    Some((start, end))
  };
  let (r_start, r_end) = section(rendered)?;
  let (d_start, d_end) = section(disk)?;
  Some(format!(
    "{}{}{}",
    &rendered[..r_start],
    &disk[d_start..d_end],
    &rendered[r_end..]
  ))
}

/// The rendered repository: relative `/`-separated paths to contents, sorted.
#[derive(Debug, Default)]
pub struct Output {
  pub files: BTreeMap<String, File>,
  /// Non-fatal notes for the user (e.g. a retired add-on was chosen).
  pub warnings: Vec<String>,
  /// Paths rendered without a row in the manifest: a bug, reported as an
  /// error by [`render`].
  pub(crate) unlisted: Vec<String>,
}

impl Output {
  /// Adds a generated file. Its owner comes from its row in the
  /// [`manifest`]; the generated-file header is added here, once, by file
  /// type.
  pub fn add(&mut self, path: impl Into<String>, contents: impl Into<String>) {
    let path = path.into();
    debug_assert!(is_safe_relative(&path), "unsafe output path {path}");
    let owner = match manifest::row_of(&path) {
      Some(row) => row.owner,
      None => {
        self.unlisted.push(path.clone());
        manifest::Owner::Managed
      }
    };
    let ownership = owner.ownership();
    let file = File {
      contents: header::with_header(&path, &contents.into(), ownership),
      ownership,
      seed_unless: match owner {
        manifest::Owner::SeededWhileEmpty(dir) => Some(dir.to_string()),
        manifest::Owner::SeededWhileFolderEmpty => {
          path.rsplit_once('/').map(|(dir, _)| dir.to_string())
        }
        _ => None,
      },
      seed_unless_any: owner == manifest::Owner::SeededWhileFolderEmpty,
      user_section: owner == manifest::Owner::ManagedWithUserSection,
    };
    let previous = self.files.insert(path.clone(), file);
    debug_assert!(previous.is_none(), "{path} rendered twice");
  }
}

/// One render target: writes its files into the output.
type Target = fn(&Resolved, &Engine, &mut Output) -> Result<(), tera::Error>;

/// The targets, in the order their warnings and errors are reported.
const TARGETS: [Target; 6] = [
  repo::render,
  terraform::render,
  charts::render,
  workflows::render,
  flyway::render,
  docs::render,
];

/// Renders every target of the platform repository, one thread per target
/// (the output is the same whatever the order they finish in: files are
/// sorted by path, warnings and the first error come in target order). With
/// the repository's template overrides the targets render one after the
/// other, so the watchdog knows which template is rendering.
pub fn render(resolved: &Resolved, engine: &Engine) -> Result<Output, tera::Error> {
  let target = |render: &Target| {
    let mut out = Output::default();
    render(resolved, engine, &mut out).map(|()| out)
  };
  let parts: Vec<Result<Output, tera::Error>> = if engine.has_overrides() {
    TARGETS.iter().map(target).collect()
  } else {
    std::thread::scope(|scope| {
      let handles: Vec<_> = TARGETS
        .iter()
        .map(|render| scope.spawn(move || target(render)))
        .collect();
      handles
        .into_iter()
        .map(|handle| {
          handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
        .collect()
    })
  };
  let mut out = Output::default();
  for part in parts {
    let part = part?;
    for (path, file) in part.files {
      let previous = out.files.insert(path.clone(), file);
      debug_assert!(previous.is_none(), "{path} rendered twice");
    }
    out.warnings.extend(part.warnings);
    out.unlisted.extend(part.unlisted);
  }
  if !out.unlisted.is_empty() {
    return Err(tera::Error::msg(format!(
      "no row in the output manifest for {}",
      out.unlisted.join(", ")
    )));
  }
  Ok(out)
}
