//! What `render --check` and `upgrade` tell the user: per-file status, diffs,
//! a JSON report for tools, and GitHub annotations in Actions.

use std::fmt::Write as _;

use serde::Serialize;

use crate::cli::Format;
use crate::merge;
use crate::render::Ownership;
use crate::run::Failure;
use crate::workspace::{Action, Plan, Step};

/// How a file stands against the blueprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
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
}

impl Status {
  fn describe(self) -> &'static str {
    match self {
      Status::Conflict => "has unresolved conflict markers",
      Status::Edited => "was edited by hand",
      Status::Stale => "is out of date with the blueprint",
      Status::Missing => "is missing",
      Status::Orphaned => "is no longer produced by the blueprint",
    }
  }

  fn heading(self) -> &'static str {
    match self {
      Status::Conflict => "unresolved conflicts",
      Status::Edited => "edited by hand",
      Status::Stale => "out of date",
      Status::Missing => "missing",
      Status::Orphaned => "no longer produced by the blueprint",
    }
  }
}

pub fn status(step: &Step) -> Option<Status> {
  match step.action {
    Action::Create if step.ownership == Ownership::Managed => Some(Status::Missing),
    Action::Update => Some(Status::Stale),
    Action::Edited | Action::Untracked => {
      let text = String::from_utf8_lossy(step.disk.as_deref().unwrap_or_default());
      Some(if merge::has_markers(&text) {
        Status::Conflict
      } else {
        Status::Edited
      })
    }
    Action::Delete | Action::EditedOrphan => Some(Status::Orphaned),
    _ => None,
  }
}

#[derive(Serialize)]
struct JsonReport<'a> {
  clean: bool,
  root: String,
  files: Vec<JsonFile<'a>>,
}

#[derive(Serialize)]
struct JsonFile<'a> {
  path: &'a str,
  status: Status,
  ownership: Ownership,
}

/// Reports drift; `Err` (exit 1) when any file differs from the render.
pub fn drift(plan: &Plan, format: Format) -> Result<(), Failure> {
  let mut found: Vec<(Status, &Step)> = plan
    .steps
    .iter()
    .filter_map(|step| status(step).map(|s| (s, step)))
    .collect();
  found.sort_by(|a, b| (a.0, &a.1.path).cmp(&(b.0, &b.1.path)));
  let root = plan.root.display().to_string();

  if std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true") {
    for (status, step) in &found {
      let file = plan.root.join(&step.path);
      println!(
        "::error file={},title=oi-gen drift::{} {}; run `oi-gen render` and commit the result",
        file.display(),
        step.path,
        status.describe()
      );
    }
  }

  if format == Format::Json {
    let report = JsonReport {
      clean: found.is_empty(),
      root,
      files: found
        .iter()
        .map(|(status, step)| JsonFile {
          path: &step.path,
          status: *status,
          ownership: step.ownership,
        })
        .collect(),
    };
    println!(
      "{}",
      serde_json::to_string_pretty(&report).expect("serializes")
    );
    return if found.is_empty() {
      Ok(())
    } else {
      Err(Failure::findings(String::new()))
    };
  }

  if found.is_empty() {
    println!("{} is up to date with the blueprint", display(&root));
    return Ok(());
  }
  let mut message = String::new();
  let mut current = None;
  for (status, step) in &found {
    if current != Some(*status) {
      let count = found.iter().filter(|(s, _)| s == status).count();
      let _ = writeln!(message, "{} ({count}):", status.heading());
      current = Some(*status);
    }
    let _ = writeln!(message, "  {}", step.path);
    if matches!(status, Status::Edited | Status::Stale | Status::Conflict) {
      message.push_str(&step.diff());
    }
  }
  let _ = writeln!(
    message,
    "error: {} file{} differ from the blueprint\n  = help: run `oi-gen render` to re-render (edited files need `--force`, or `oi-gen upgrade` to merge)",
    found.len(),
    if found.len() == 1 { "" } else { "s" }
  );
  Err(Failure::findings(message))
}

fn display(root: &str) -> &str {
  if root.is_empty() { "." } else { root }
}

/// The per-file plan of an upgrade; with `diffs`, the changes too.
pub fn upgrade_plan(plan: &Plan, diffs: bool) -> String {
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
