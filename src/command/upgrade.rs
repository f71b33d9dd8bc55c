//! `oi-gen upgrade`: migrates the blueprint to the current schema and
//! re-renders, three-way merging hand edits.

use std::path::Path;

use super::{Source, display_dir, output_dir};
use crate::blueprint::migrate;
use crate::error::{Error, Findings, Message, Op};
use crate::fsutil;
use crate::report::{self, plural};
use crate::ui::info;
use crate::workspace::{Mode, Purpose, Root};

pub(crate) fn run(file: &Path, dry_run: bool) -> Result<(), Error> {
  let source = Source::read(file)?;
  let (migrated, applied) =
    migrate::migrate(&source.text(), migrate::STEPS).map_err(|error| Error::Upgrade {
      name: source.name.clone(),
      error,
    })?;
  let migrated = Source::new(source.name.clone(), migrated.into_bytes());
  let loaded = migrated.load()?;
  let root = Root::new(&output_dir(file, None));
  let (_guard, previous) = super::lock_and_read(&root, !dry_run)?;
  let (plan, moved) = super::render_and_plan(
    &root,
    previous,
    &loaded,
    &migrated.bytes,
    Mode::Upgrade,
    Purpose::Apply,
  )?;
  // Files oi-gen never wrote are the user's: never merged into.
  report::unresolved(&plan, "upgrade")?;
  report::refusal(&plan, "upgrade", true)?;
  for step in &applied {
    info!("schema: {step}");
  }
  print!("{}", report::upgrade_plan(&plan, dry_run));
  for (old, new) in &moved {
    let verb = if dry_run { "would move" } else { "moves" };
    info!("template override: {verb} `{old}` to `{new}`");
  }
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
  move_overrides(&root, &moved)?;
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
  Err(report::conflict_findings(
    &conflicts,
    Message::new(format!(
      "{} file{} hold conflict markers (`<<<<<<< local` … `>>>>>>> oi-gen`)",
      conflicts.len(),
      plural(conflicts.len())
    ))
    .with_help("resolve them, then run `oi-gen render --check`"),
  ))
}

/// Moves template overrides from their old paths to the ones the templates
/// now have; one whose new path is taken stays where it is.
fn move_overrides(root: &Root, moved: &[(String, String)]) -> Result<(), Error> {
  for (old, new) in moved {
    let from = root.path().join(old);
    let to = root.path().join(new);
    if to.exists() {
      crate::ui::warn(format_args!(
        "`{new}` exists; `{old}` stays where it is and is ignored from now on"
      ));
      continue;
    }
    if let Some(parent) = to.parent() {
      std::fs::create_dir_all(parent).map_err(Error::io(Op::Create, parent))?;
    }
    std::fs::rename(&from, &to).map_err(Error::io(Op::Move, &from))?;
  }
  Ok(())
}
