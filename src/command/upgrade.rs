//! `oi-gen upgrade`: migrates the blueprint to the current schema and
//! re-renders, three-way merging hand edits.

use std::fmt::Write as _;
use std::path::Path;

use super::{Source, display_dir, output_dir, render_output};
use crate::blueprint::migrate;
use crate::error::{Error, Findings, Message};
use crate::fsutil;
use crate::report::{self, plural};
use crate::ui::info;
use crate::workspace::{Mode, Previous, Root};

pub fn run(file: &Path, dry_run: bool) -> Result<(), Error> {
  let source = Source::read(file)?;
  let (migrated, applied) =
    migrate::migrate(&source.text(), migrate::STEPS).map_err(|error| Error::Upgrade {
      name: source.name.clone(),
      error,
    })?;
  let migrated = Source::new(source.name.clone(), migrated.into_bytes());
  let loaded = migrated.load()?;
  let root = Root::new(&output_dir(file, None));
  let output = render_output(&loaded, root.path())?;
  let _guard = if dry_run {
    None
  } else {
    Some(crate::runlock::acquire(&root)?)
  };
  let previous = Previous::read(&root)?;
  let plan = super::plan(
    &root,
    previous,
    &loaded,
    &output,
    &migrated.bytes,
    Mode::Upgrade,
  )?;
  for step in &applied {
    info!("schema: {step}");
  }
  print!("{}", report::upgrade_plan(&plan, dry_run));
  let conflicts: Vec<String> = report::conflicts(&plan)
    .into_iter()
    .map(str::to_string)
    .collect();
  if dry_run {
    return if conflicts.is_empty() {
      Ok(())
    } else {
      Err(
        Findings::message(Message::new(format!(
          "{} file{} would get conflict markers",
          conflicts.len(),
          plural(conflicts.len())
        )))
        .into(),
      )
    };
  }
  if !applied.is_empty() {
    fsutil::write_atomic(file, &migrated.bytes)?;
  }
  let summary = plan.apply(false)?;
  info!(
    "upgraded {}: {} created, {} updated, {} merged, {} conflicts, {} deleted, {} kept",
    display_dir(root.path()),
    summary.created,
    summary.updated,
    summary.merged,
    summary.conflicts,
    summary.deleted,
    summary.kept
  );
  if conflicts.is_empty() {
    return Ok(());
  }
  let mut listing = String::new();
  for path in &conflicts {
    let _ = writeln!(listing, "conflict: {path}");
  }
  Err(
    Findings {
      listing,
      problems: Vec::new(),
      summary: Some(
        Message::new(format!(
          "{} file{} hold conflict markers (`<<<<<<< local` … `>>>>>>> oi-gen`)",
          conflicts.len(),
          plural(conflicts.len())
        ))
        .with_help("resolve them, then run `oi-gen render --check`"),
      ),
    }
    .into(),
  )
}
