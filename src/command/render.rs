//! `oi-gen render`: renders the blueprint into its folder, or with `--check`
//! reports how the folder differs from the render.

use std::path::Path;

use super::{Source, display_dir, output_dir, render_output};
use crate::cli::Format;
use crate::error::Error;
use crate::migrations;
use crate::report;
use crate::ui::{self, info};
use crate::workspace::{Mode, Previous, Root};

pub(crate) fn run(
  file: &Path,
  out: Option<&Path>,
  check: bool,
  force: bool,
  rebuild_lock: bool,
  format: Format,
) -> Result<(), Error> {
  let source = Source::read(file)?;
  let loaded = source.load()?;
  let root = Root::new(&output_dir(file, out));
  let output = render_output(&loaded, root.path())?;
  let (_guard, plan) = if rebuild_lock {
    super::lock_and_plan_from(
      &root,
      true,
      |root| Previous::rebuild(root, &output),
      &loaded,
      &output,
      &source.bytes,
      Mode::Render,
    )?
  } else {
    super::lock_and_plan(&root, !check, &loaded, &output, &source.bytes, Mode::Render)?
  };
  if check {
    return report::drift(&plan, format);
  }
  report::unresolved(&plan, "render")?;
  report::refusal(&plan, "render", force)?;
  for problem in plan.migration_problems() {
    ui::warn(format_args!("{}: {problem}", migrations::DIR));
  }
  for problem in plan.edited_migrations() {
    ui::warn(format_args!("{}: {problem}", problem.path()));
  }
  let summary = plan.apply(force)?;
  info!(
    "rendered {}: {} created, {} updated, {} deleted, {} unchanged",
    display_dir(root.path()),
    summary.created,
    summary.updated,
    summary.deleted,
    summary.unchanged
  );
  Ok(())
}
