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
/// A streamed render ([`render_each`]) hands each file over as it is
/// produced instead, and keeps only the paths.
#[derive(Debug, Default)]
pub struct Output {
  pub files: BTreeMap<String, File>,
  /// Non-fatal notes for the user (e.g. a retired add-on was chosen).
  pub warnings: Vec<String>,
  /// Paths rendered without a row in the manifest: a bug, reported as an
  /// error by [`render`].
  pub(crate) unlisted: Vec<String>,
  /// Every path rendered, in the order rendered: for the checks of the
  /// whole render (a path rendered twice).
  pub(crate) paths: Vec<String>,
  /// Where a streamed render sends each file (the files then stay empty).
  sink: Option<std::sync::mpsc::SyncSender<(String, File)>>,
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
      contents: header::with_header(&path, contents.into(), ownership),
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
    match &self.sink {
      Some(sink) => {
        self.paths.push(path.clone());
        // The receiver is gone only when the consumer stopped early (it
        // failed): the render's own result still decides what is reported.
        let _ = sink.send((path, file));
      }
      None => {
        let previous = self.files.insert(path.clone(), file);
        debug_assert!(previous.is_none(), "{path} rendered twice");
      }
    }
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

/// Files rendered but not yet taken by the consumer of a streamed render:
/// enough to keep every core busy, few enough to keep memory flat.
const IN_FLIGHT: usize = 256;

/// Renders every target of the platform repository into memory: the files
/// sorted by path.
pub fn render(resolved: &Resolved, engine: &Engine) -> Result<Output, tera::Error> {
  let mut files = BTreeMap::new();
  let mut output = render_each(resolved, engine, |path, file| {
    files.insert(path, file);
  })?;
  output.files = files;
  Ok(output)
}

/// Renders every target of the platform repository, one thread per target,
/// handing each file to `each` (on the calling thread) as it is produced, in
/// no particular order. The returned output holds no files, only the
/// warnings (in target order) and the paths. It is an error, whatever the
/// order the targets finish in, when a target fails (the first in target
/// order is reported), when a path has no row in the manifest or is
/// rendered twice: a consumer must not write anything before this returns.
/// With the repository's template overrides the targets render one after
/// the other, so the watchdog knows which template is rendering.
pub fn render_each(
  resolved: &Resolved,
  engine: &Engine,
  each: impl FnMut(String, File),
) -> Result<Output, tera::Error> {
  render_targets(&TARGETS, !engine.has_overrides(), resolved, engine, each)
}

fn render_targets(
  targets: &[Target],
  parallel: bool,
  resolved: &Resolved,
  engine: &Engine,
  mut each: impl FnMut(String, File),
) -> Result<Output, tera::Error> {
  let (sink, arrivals) = std::sync::mpsc::sync_channel(IN_FLIGHT);
  let target = |render: &Target, sink: std::sync::mpsc::SyncSender<(String, File)>| {
    let mut out = Output {
      sink: Some(sink),
      ..Output::default()
    };
    let result = render(resolved, engine, &mut out);
    out.sink = None;
    result.map(|()| out)
  };
  let parts: Vec<Result<Output, tera::Error>> = std::thread::scope(|scope| {
    let handles: Vec<_> = if parallel {
      targets
        .iter()
        .map(|render| {
          let sink = sink.clone();
          scope.spawn(move || vec![target(render, sink)])
        })
        .collect()
    } else {
      let sink = sink.clone();
      vec![scope.spawn(move || {
        targets
          .iter()
          .map(|render| target(render, sink.clone()))
          .collect()
      })]
    };
    drop(sink);
    for (path, file) in arrivals {
      each(path, file);
    }
    handles
      .into_iter()
      .flat_map(|handle| {
        handle
          .join()
          .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
      })
      .collect()
  });
  let mut out = Output::default();
  for part in parts {
    let part = part?;
    out.warnings.extend(part.warnings);
    out.unlisted.extend(part.unlisted);
    out.paths.extend(part.paths);
  }
  if !out.unlisted.is_empty() {
    return Err(tera::Error::msg(format!(
      "no row in the output manifest for {}",
      out.unlisted.join(", ")
    )));
  }
  let mut sorted: Vec<&str> = out.paths.iter().map(String::as_str).collect();
  sorted.sort_unstable();
  let mut twice: Vec<&str> = sorted
    .windows(2)
    .filter(|pair| pair[0] == pair[1])
    .map(|pair| pair[0])
    .collect();
  if !twice.is_empty() {
    twice.dedup();
    return Err(tera::Error::msg(format!(
      "rendered more than once: {}",
      twice.join(", ")
    )));
  }
  Ok(out)
}

#[cfg(test)]
mod tests {
  use super::*;

  fn acme() -> Resolved {
    let found = crate::builtin::all()
      .into_iter()
      .find(|b| b.name == "acme-shop")
      .expect("built-in blueprint");
    crate::blueprint::load(found.text.as_bytes())
      .expect("valid")
      .resolved
  }

  fn slow_failure(_: &Resolved, _: &Engine, out: &mut Output) -> Result<(), tera::Error> {
    out.add("README.md", "first\n");
    std::thread::sleep(std::time::Duration::from_millis(200));
    Err(tera::Error::msg("the first target failed"))
  }

  fn fast_failure(_: &Resolved, _: &Engine, out: &mut Output) -> Result<(), tera::Error> {
    out.add("infra/vpc.tf", "second\n");
    Err(tera::Error::msg("the second target failed"))
  }

  fn twice(_: &Resolved, _: &Engine, out: &mut Output) -> Result<(), tera::Error> {
    out.add("README.md", "again\n");
    Ok(())
  }

  fn fine(_: &Resolved, _: &Engine, out: &mut Output) -> Result<(), tera::Error> {
    out.add("README.md", "one\n");
    Ok(())
  }

  #[test]
  fn the_first_failing_target_is_reported_whatever_finishes_first() {
    let resolved = acme();
    let engine = Engine::new().unwrap();
    for parallel in [true, false] {
      let mut seen = Vec::new();
      let error = render_targets(
        &[slow_failure, fast_failure],
        parallel,
        &resolved,
        &engine,
        |path, _| seen.push(path),
      )
      .unwrap_err();
      assert_eq!(error.to_string(), "the first target failed");
      seen.sort();
      assert_eq!(seen, ["README.md", "infra/vpc.tf"]);
    }
  }

  #[test]
  fn a_path_rendered_by_two_targets_fails_the_render() {
    let resolved = acme();
    let engine = Engine::new().unwrap();
    let error = render_targets(&[fine, twice], true, &resolved, &engine, |_, _| {}).unwrap_err();
    assert_eq!(error.to_string(), "rendered more than once: README.md");
    assert!(render_targets(&[fine], true, &resolved, &engine, |_, _| {}).is_ok());
  }

  #[test]
  fn a_streamed_render_hands_over_every_file_once_and_keeps_none() {
    let resolved = acme();
    let engine = Engine::new().unwrap();
    let whole = render(&resolved, &engine).unwrap();
    let mut streamed = BTreeMap::new();
    let output = render_each(&resolved, &engine, |path, file| {
      assert!(streamed.insert(path, file).is_none());
    })
    .unwrap();
    assert!(output.files.is_empty());
    assert_eq!(output.paths.len(), whole.files.len());
    assert_eq!(streamed, whole.files);
    assert_eq!(output.warnings, whole.warnings);
  }

  #[test]
  fn rendered_texts_are_kept_at_their_size() {
    let resolved = acme();
    let whole = render(&resolved, &Engine::new().unwrap()).unwrap();
    for (path, file) in &whole.files {
      assert_eq!(file.contents.capacity(), file.contents.len(), "{path}");
    }
  }
}
