//! `oi-gen keep FILE…`: records hand edits of generated files as intended
//! customizations, so the drift check is clean while they stay as kept, and
//! accepts the new checksum of an edited released migration.

use std::path::{Component, Path};

use super::{Source, output_dir};
use crate::error::{Error, Findings, Message};
use crate::report::plural;
use crate::ui::info;
use crate::workspace::{Keeping, Mode, Root};

pub(crate) fn run(file: &Path, files: &[std::path::PathBuf]) -> Result<(), Error> {
  let source = Source::read(file)?;
  let loaded = source.load()?;
  let root = Root::new(&output_dir(file, None));
  let paths = files
    .iter()
    .map(|given| relative_to(root.path(), given))
    .collect::<Result<Vec<_>, _>>()?;
  let (_guard, plan) =
    super::lock_render_and_plan(&root, true, &loaded, &source.bytes, Mode::Render)?;
  let outcomes = plan.keep(&paths)?;
  let refused: Vec<(String, String)> = outcomes
    .iter()
    .filter_map(|(path, outcome)| {
      outcome
        .as_ref()
        .err()
        .map(|why| (format!("`{path}` {why}"), String::new()))
    })
    .collect();
  if !refused.is_empty() {
    let count = refused.len();
    return Err(
      Findings {
        listing: String::new(),
        problems: refused,
        summary: Some(
          Message::new(format!(
            "{count} file{} cannot be kept; nothing was recorded",
            plural(count)
          ))
          .with_help("`oi-gen render --check` lists the edited files"),
        ),
      }
      .into(),
    );
  }
  for (path, outcome) in &outcomes {
    match outcome {
      Ok(Keeping::Customization) => info!(
        "kept {path}: the drift check accepts it until it or its render changes; `oi-gen upgrade` merges it forward"
      ),
      Ok(Keeping::Already) => info!("kept {path}: already recorded"),
      Ok(Keeping::Migration) => info!(
        "kept {path}: its new checksum is accepted; run `flyway repair` on every database that ran the old one"
      ),
      Err(_) => {}
    }
  }
  Ok(())
}

/// `given` (relative to the current folder, or absolute) as a path inside
/// the repository at `root`, with `/` separators.
pub(crate) fn relative_to(root: &Path, given: &Path) -> Result<String, Error> {
  let outside = || {
    Error::usage(format!(
      "`{}` is not inside the repository at `{}`",
      given.display(),
      super::display_dir(root)
    ))
  };
  let absolute = std::path::absolute(given).map_err(|_| outside())?;
  let root = std::path::absolute(root).map_err(|_| outside())?;
  let relative = absolute.strip_prefix(&root).map_err(|_| outside())?;
  let mut parts = Vec::new();
  for component in relative.components() {
    match component {
      Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
      Component::CurDir => {}
      _ => return Err(outside()),
    }
  }
  if parts.is_empty() {
    return Err(outside());
  }
  Ok(parts.join("/"))
}
