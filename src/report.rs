//! What `render --check`, a refused `render` and `upgrade` tell the user:
//! per-file status, diffs, a JSON report for tools, and GitHub annotations in
//! Actions.

use std::fmt::Write as _;

use serde::Serialize;

use crate::cli::Format;
use crate::error::{Error, Findings, Message};
use crate::merge;
use crate::migrations::Problem;
use crate::render::Ownership;
use crate::workspace::{Action, Plan, Step};

/// How a file stands against the blueprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Status {
  /// Conflict markers from an upgrade are still in the file.
  Conflict,
  /// A managed file changed by hand.
  Edited,
  /// The blueprint or oi-gen changed and the file was not re-rendered.
  Stale,
  /// A managed file is not on disk.
  Missing,
  /// A file the blueprint no longer produces.
  Orphaned,
  /// A migration file Flyway would refuse (name, duplicate version).
  InvalidMigration,
  /// A migration changed after the render that first saw it.
  EditedMigration,
}

/// A finding that is not about a generated file.
struct Finding {
  path: String,
  status: Status,
  message: String,
}

impl Finding {
  fn migration(problem: &Problem) -> Self {
    Finding {
      path: problem.path(),
      status: match problem {
        Problem::Edited { .. } => Status::EditedMigration,
        Problem::Name(_) | Problem::Duplicate { .. } => Status::InvalidMigration,
      },
      message: problem.to_string(),
    }
  }
}

impl Status {
  fn describe(self) -> &'static str {
    match self {
      Status::Conflict => "has unresolved conflict markers",
      Status::Edited => "was edited by hand",
      Status::Stale => "is out of date with the blueprint",
      Status::Missing => "is missing",
      Status::Orphaned => "is no longer produced by the blueprint",
      Status::InvalidMigration => "holds a migration Flyway refuses",
      Status::EditedMigration => "is a released migration that was edited",
    }
  }

  fn heading(self) -> &'static str {
    match self {
      Status::Conflict => "unresolved conflicts",
      Status::Edited => "edited by hand",
      Status::Stale => "out of date",
      Status::Missing => "missing",
      Status::Orphaned => "no longer produced by the blueprint",
      Status::InvalidMigration => "invalid migrations",
      Status::EditedMigration => "released migrations edited",
    }
  }
}

pub(crate) fn status(step: &Step) -> Option<Status> {
  match step.action {
    Action::Create if step.ownership == Ownership::Managed => Some(Status::Missing),
    Action::Update => Some(Status::Stale),
    Action::Edited | Action::Untracked => {
      let text = String::from_utf8_lossy(step.disk().unwrap_or_default());
      Some(if merge::has_markers(&text) {
        Status::Conflict
      } else {
        Status::Edited
      })
    }
    Action::Unresolved => Some(Status::Conflict),
    Action::Delete | Action::EditedOrphan => Some(Status::Orphaned),
    _ => None,
  }
}

#[derive(Serialize)]
struct JsonReport<'a> {
  clean: bool,
  root: String,
  files: Vec<ReportEntry<'a>>,
}

#[derive(Serialize)]
struct ReportEntry<'a> {
  path: &'a str,
  status: Status,
  #[serde(skip_serializing_if = "Option::is_none")]
  ownership: Option<Ownership>,
  #[serde(skip_serializing_if = "Option::is_none")]
  message: Option<&'a str>,
  #[serde(skip)]
  step: Option<&'a Step>,
}

/// Reports drift, the database migrations included; `Err` (exit 1) when any
/// file differs from the render or any finding stands.
pub(crate) fn drift(plan: &Plan, format: Format) -> Result<(), Error> {
  let findings: Vec<Finding> = plan
    .migration_problems()
    .iter()
    .chain(&plan.edited_migrations())
    .map(Finding::migration)
    .collect();
  let mut found: Vec<ReportEntry> = plan
    .steps
    .iter()
    .filter_map(|step| {
      status(step).map(|status| ReportEntry {
        path: &step.path,
        status,
        ownership: Some(step.ownership),
        message: None,
        step: Some(step),
      })
    })
    .chain(findings.iter().map(|f| ReportEntry {
      path: &f.path,
      status: f.status,
      ownership: None,
      message: Some(&f.message),
      step: None,
    }))
    .collect();
  found.sort_by(|a, b| (a.status, a.path).cmp(&(b.status, b.path)));
  let root = plan.root().display().to_string();

  if std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true") {
    for entry in &found {
      let file = plan.root().join(entry.path);
      let what = entry.message.unwrap_or_else(|| entry.status.describe());
      let fix = match entry.status {
        Status::Edited => {
          "run `oi-gen render` and commit the result, or `oi-gen keep` the file to record the edit as intended"
        }
        _ => "run `oi-gen render` and commit the result",
      };
      println!(
        "::error file={},title=oi-gen drift::{} {what}; {fix}",
        file.display(),
        entry.path,
      );
    }
  }

  if format == Format::Json {
    let clean = found.is_empty();
    let report = JsonReport {
      clean,
      root,
      files: found,
    };
    println!(
      "{}",
      serde_json::to_string_pretty(&report).expect("serializes")
    );
    return if clean {
      Ok(())
    } else {
      Err(Findings::default().into())
    };
  }

  if found.is_empty() {
    crate::ui::info!("{} is up to date with the blueprint", display(&root));
    return Ok(());
  }
  let mut listing = String::new();
  let mut current = None;
  for entry in &found {
    if current != Some(entry.status) {
      let count = found.iter().filter(|e| e.status == entry.status).count();
      let _ = writeln!(listing, "{} ({count}):", entry.status.heading());
      current = Some(entry.status);
    }
    match entry.message {
      Some(text) => {
        let _ = writeln!(listing, "  {}: {text}", entry.path);
      }
      None => {
        let _ = writeln!(listing, "  {}", entry.path);
      }
    }
    if let Some(step) = entry.step
      && matches!(
        entry.status,
        Status::Edited | Status::Stale | Status::Conflict
      )
    {
      listing.push_str(&step.diff());
    }
  }
  let summary = Message::new(format!(
    "{} finding{} against the blueprint",
    found.len(),
    plural(found.len())
  ))
  .with_help(
    "run `oi-gen render` to re-render (edited files need `--force`, or `oi-gen upgrade` to merge), or `oi-gen keep FILE…` to record an edit as intended",
  );
  Err(
    Findings {
      listing,
      problems: Vec::new(),
      summary: Some(summary),
    }
    .into(),
  )
}

/// Refuses to go on when hand edits would be lost; shows each one. With
/// `force`, only the files oi-gen never wrote refuse: `--force` overrides
/// oi-gen's protection of its own files, never the user's.
pub(crate) fn refusal(plan: &Plan, command: &str, force: bool) -> Result<(), Error> {
  let conflicts: Vec<_> = plan
    .blockers()
    .filter(|step| !force || step.action == Action::Untracked)
    .collect();
  if conflicts.is_empty() {
    return Ok(());
  }
  let problems = conflicts
    .iter()
    .map(|step| {
      let why = match step.action {
        Action::Edited => "was edited by hand since the last render",
        Action::Untracked => "exists and was not written by oi-gen",
        _ => "is no longer produced by the blueprint but was edited by hand",
      };
      let detail = if step.action == Action::EditedOrphan {
        String::new()
      } else {
        step.diff()
      };
      (format!("`{}` {why}", step.path), detail)
    })
    .collect();
  let summary = Message::new(format!(
    "{} file{} would lose changes; nothing was written",
    conflicts.len(),
    plural(conflicts.len())
  ))
  .with_help(refusal_help(&conflicts, command));
  Err(
    Findings {
      listing: String::new(),
      problems,
      summary: Some(summary),
    }
    .into(),
  )
}

/// Refuses to go on while managed files still hold the conflict markers of
/// an earlier upgrade: a render would overwrite the user's side, another
/// upgrade would take the markers for an edit.
pub(crate) fn unresolved(plan: &Plan, command: &str) -> Result<(), Error> {
  let files: Vec<&str> = plan
    .steps
    .iter()
    .filter(|step| step.action == Action::Unresolved)
    .map(|step| step.path.as_str())
    .collect();
  if files.is_empty() {
    return Ok(());
  }
  Err(conflict_findings(
    &files,
    Message::new(format!(
      "{} file{} still hold conflict markers from an earlier upgrade; nothing was written",
      files.len(),
      plural(files.len())
    ))
    .with_help(format!(
      "resolve them (keep the lines you want, delete the `<<<<<<< local`, `=======` and `>>>>>>> oi-gen` lines), then run `oi-gen {command}` again"
    )),
  ))
}

/// Findings listing files that hold conflict markers, a `conflict:` line
/// each, then `summary`.
pub(crate) fn conflict_findings(files: &[impl AsRef<str>], summary: Message) -> Error {
  let mut listing = String::new();
  for path in files {
    let _ = writeln!(listing, "conflict: {}", path.as_ref());
  }
  Findings {
    listing,
    problems: Vec::new(),
    summary: Some(summary),
  }
  .into()
}

/// What to do about refused files: `--force` for oi-gen's own edited files,
/// moving aside for files oi-gen never wrote.
fn refusal_help(refused: &[&Step], command: &str) -> String {
  let untracked = refused
    .iter()
    .filter(|step| step.action == Action::Untracked)
    .count();
  if untracked == 0 {
    format!(
      "move the changes into platform.yaml, record them as intended with `oi-gen keep FILE…`, or run `oi-gen {command} --force` to overwrite them"
    )
  } else if untracked == refused.len() {
    let them = if untracked == 1 { "it" } else { "them" };
    let adopt = match command {
      "render" => format!(
        ", or run `oi-gen render --adopt` to take {them} over (each is saved as FILE.orig first)"
      ),
      "upgrade" => format!(
        ", or take {them} over with `oi-gen render --adopt` (each is saved as FILE.orig first)"
      ),
      _ => String::new(),
    };
    format!(
      "oi-gen never overwrites a file it did not write, even with `--force`: move {them} aside, then run `oi-gen {command}` again{adopt}"
    )
  } else {
    format!(
      "move the changes into platform.yaml, record them as intended with `oi-gen keep FILE…`, or run `oi-gen {command} --force` to overwrite the edited files; oi-gen never overwrites a file it did not write: move those aside, or take them over with `oi-gen render --adopt` (each is saved as FILE.orig first)"
    )
  }
}

/// Refuses a `render --adopt` that names a file that does not collide, or
/// that cannot save a file aside; nothing is written.
pub(crate) fn not_adopted(refused: Vec<(String, crate::workspace::NotAdopted)>) -> Error {
  let count = refused.len();
  Findings {
    listing: String::new(),
    problems: refused
      .into_iter()
      .map(|(path, why)| (format!("`{path}` {why}"), String::new()))
      .collect(),
    summary: Some(
      Message::new(format!(
        "{count} file{} cannot be adopted; nothing was written",
        plural(count)
      ))
      .with_help(
        "`--adopt` takes over only the files a plain `oi-gen render` lists as not written by oi-gen",
      ),
    ),
  }
  .into()
}

/// The paths an upgrade wrote, or would write, with conflict markers.
pub(crate) fn conflicts(plan: &Plan) -> Vec<&str> {
  plan
    .steps
    .iter()
    .filter(|s| s.action == Action::Conflict)
    .map(|s| s.path.as_str())
    .collect()
}

/// `""` for one, `"s"` for any other count.
pub(crate) fn plural(n: usize) -> &'static str {
  if n == 1 { "" } else { "s" }
}

fn display(root: &str) -> &str {
  if root.is_empty() { "." } else { root }
}

/// The per-file plan of an upgrade; with `diffs`, the changes too.
pub(crate) fn upgrade_plan(plan: &Plan, diffs: bool) -> String {
  let mut out = String::new();
  for step in &plan.steps {
    let (verb, note) = match step.action {
      Action::Create => ("create", ""),
      Action::Update => ("update", ""),
      Action::Merge => ("merge", " (your edits carried over)"),
      Action::Conflict => ("conflict", " (your edits and oi-gen's collide)"),
      Action::Delete => ("delete", ""),
      Action::EditedOrphan => ("keep", " (no longer produced, but edited by you)"),
      Action::KeepDeleted if step.ownership == Ownership::Managed => ("keep", " (deleted by you)"),
      _ => continue,
    };
    let _ = writeln!(out, "{verb:<8} {}{note}", step.path);
    if diffs
      && matches!(
        step.action,
        Action::Update | Action::Merge | Action::Conflict
      )
    {
      out.push_str(&step.diff());
    }
  }
  out
}
