//! `oi-gen render`: renders the blueprint into its folder, or with `--check`
//! reports how the folder differs from the render.

use std::path::Path;

use super::{Source, display_dir, output_dir, render_output};
use crate::cli::Format;
use crate::error::Error;
use crate::migrations;
use crate::report;
use crate::ui::{self, info};
use crate::workspace::{self, Mode, Previous, Root};

pub(crate) fn run(
  file: &Path,
  out: Option<&Path>,
  check: bool,
  force: bool,
  rebuild_lock: bool,
  adopt: Option<&[std::path::PathBuf]>,
  format: Format,
) -> Result<(), Error> {
  let source = Source::read(file)?;
  let root = Root::new(&output_dir(file, out));
  // Paths named to `--adopt`, checked before anything is rendered.
  let adopt = adopt
    .map(|given| {
      given
        .iter()
        .map(|path| super::keep::relative_to(root.path(), path))
        .collect::<Result<Vec<_>, _>>()
    })
    .transpose()?;
  let loaded = source.load()?;
  let (_guard, mut plan) = if rebuild_lock {
    let output = render_output(&loaded, root.path())?;
    super::lock_and_plan_from(
      &root,
      true,
      Previous::rebuild,
      &loaded,
      output,
      &source.bytes,
      Mode::Render,
    )?
  } else {
    super::lock_render_and_plan(&root, !check, &loaded, &source.bytes, Mode::Render)?
  };
  if check {
    return report::drift(&plan, format);
  }
  report::unresolved(&plan, "render")?;
  let adopted = match &adopt {
    Some(only) => plan
      .adopt((!only.is_empty()).then_some(only.as_slice()))
      .map_err(report::not_adopted)?,
    None => Vec::new(),
  };
  report::refusal(&plan, "render", force)?;
  for problem in plan.migration_problems() {
    ui::warn(format_args!("{}: {problem}", migrations::DIR));
  }
  for problem in plan.edited_migrations() {
    ui::warn(format_args!("{}: {problem}", problem.path()));
  }
  let summary = plan.apply(force)?;
  for path in &adopted {
    info!(
      "adopted {path}: your file is saved as {}; what oi-gen renders is there now",
      workspace::orig_path(path)
    );
  }
  let adopted = if summary.adopted == 0 {
    String::new()
  } else {
    format!(", {} adopted", summary.adopted)
  };
  info!(
    "rendered {}: {} created, {} updated, {} deleted, {} unchanged{adopted}",
    display_dir(root.path()),
    summary.created,
    summary.updated,
    summary.deleted,
    summary.unchanged
  );
  Ok(())
}
