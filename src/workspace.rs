//! Comparing a render with the output folder: what to create, update, delete
//! or leave alone, and which hand edits stand in the way. Planning reads the
//! disk and writes nothing; `apply` writes only after a plan without conflicts.

use std::path::{Path, PathBuf};

use similar::TextDiff;

use crate::fsutil;
use crate::lock::{self, Entry, Lock};
use crate::render::{File, Output, Ownership};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
  /// Missing on disk: written.
  Create,
  /// Out of date and not edited since the last render: rewritten.
  Update,
  /// Same bytes on disk.
  Unchanged,
  /// A seeded file that exists (or that the user deleted): left alone.
  Keep,
  /// No longer produced and not edited: removed.
  Delete,
  /// Edited by hand since the last render (or never written by oi-gen).
  Edited,
  /// Exists, but oi-gen never wrote it.
  Untracked,
  /// No longer produced, but edited by hand: kept unless forced.
  EditedOrphan,
}

#[derive(Debug)]
pub struct Step {
  pub path: String,
  pub action: Action,
  pub ownership: Ownership,
  /// What the render wants on disk (none for deletions).
  pub new: Option<String>,
  /// What is on disk now.
  pub disk: Option<Vec<u8>>,
}

impl Step {
  pub fn is_conflict(&self) -> bool {
    matches!(
      self.action,
      Action::Edited | Action::Untracked | Action::EditedOrphan
    )
  }

  /// Does this step mean the folder has drifted from the blueprint?
  pub fn is_drift(&self) -> bool {
    match self.action {
      Action::Unchanged | Action::Keep => false,
      Action::Create => self.ownership == Ownership::Managed,
      _ => true,
    }
  }

  /// Unified diff from the disk to the render.
  pub fn diff(&self) -> String {
    let old = self
      .disk
      .as_deref()
      .map(String::from_utf8_lossy)
      .unwrap_or_default();
    let new = self.new.as_deref().unwrap_or_default();
    TextDiff::from_lines(old.as_ref(), new)
      .unified_diff()
      .context_radius(3)
      .header(
        &format!("a/{} (on disk)", self.path),
        &format!("b/{} (rendered)", self.path),
      )
      .to_string()
  }
}

pub struct Plan {
  pub root: PathBuf,
  pub steps: Vec<Step>,
  pub lock: Lock,
  pub lock_changed: bool,
}

/// Plans writing `output` into `root`, given the lock of the last render.
pub fn plan(
  root: &Path,
  output: &Output,
  previous: Option<&Lock>,
  blueprint_sha256: &str,
) -> std::io::Result<Plan> {
  let empty = Lock::default();
  let previous_lock = previous.unwrap_or(&empty);
  let mut steps = Vec::new();
  let mut lock = Lock {
    format: lock::FORMAT,
    oi_gen: env!("CARGO_PKG_VERSION").to_string(),
    blueprint_sha256: blueprint_sha256.to_string(),
    files: Default::default(),
  };

  for (path, file) in &output.files {
    let disk = fsutil::read_optional(&fsutil::resolve(root, path)?)?;
    let recorded = previous_lock.files.get(path);
    let action = decide(file, disk.as_deref(), recorded);
    let written_hash = match (&action, &disk) {
      (Action::Keep, Some(bytes)) => {
        Some(recorded.map_or_else(|| lock::sha256(bytes), |e| e.sha256.clone()))
      }
      (Action::Keep, None) => recorded.map(|e| e.sha256.clone()),
      (Action::Edited | Action::Untracked, _) => recorded.map(|e| e.sha256.clone()),
      _ => Some(lock::sha256(file.contents.as_bytes())),
    };
    if let Some(sha256) = written_hash {
      lock.files.insert(
        path.clone(),
        Entry {
          sha256,
          ownership: file.ownership,
        },
      );
    }
    steps.push(Step {
      path: path.clone(),
      action,
      ownership: file.ownership,
      new: Some(file.contents.clone()),
      disk,
    });
  }

  for (path, entry) in &previous_lock.files {
    if output.files.contains_key(path) {
      continue;
    }
    if entry.ownership == Ownership::Seeded {
      // The user's now; oi-gen forgets it.
      continue;
    }
    let disk = fsutil::read_optional(&fsutil::resolve(root, path)?)?;
    let Some(bytes) = disk else { continue };
    let action = if lock::sha256(&bytes) == entry.sha256 {
      Action::Delete
    } else {
      lock.files.insert(path.clone(), entry.clone());
      Action::EditedOrphan
    };
    steps.push(Step {
      path: path.clone(),
      action,
      ownership: entry.ownership,
      new: None,
      disk: Some(bytes),
    });
  }

  let lock_changed = previous != Some(&lock);
  Ok(Plan {
    root: root.to_path_buf(),
    steps,
    lock,
    lock_changed,
  })
}

fn decide(file: &File, disk: Option<&[u8]>, recorded: Option<&Entry>) -> Action {
  let Some(disk) = disk else {
    return match (file.ownership, recorded) {
      // A seeded file the user deleted stays deleted.
      (Ownership::Seeded, Some(_)) => Action::Keep,
      _ => Action::Create,
    };
  };
  if file.ownership == Ownership::Seeded {
    return Action::Keep;
  }
  if disk == file.contents.as_bytes() {
    return Action::Unchanged;
  }
  match recorded {
    Some(entry) if entry.sha256 == lock::sha256(disk) => Action::Update,
    Some(_) => Action::Edited,
    None => Action::Untracked,
  }
}

impl Plan {
  pub fn conflicts(&self) -> impl Iterator<Item = &Step> {
    self.steps.iter().filter(|s| s.is_conflict())
  }

  /// Writes the plan. With `force`, edited files are overwritten and edited
  /// orphans removed; without it the caller must have checked for conflicts.
  pub fn apply(&mut self, force: bool) -> std::io::Result<Summary> {
    let mut summary = Summary::default();
    // Check every path before the first write, so a bad one writes nothing.
    let lock_path = fsutil::resolve(&self.root, lock::LOCK_PATH)?;
    let paths = self
      .steps
      .iter()
      .map(|step| fsutil::resolve(&self.root, &step.path))
      .collect::<std::io::Result<Vec<_>>>()?;
    for (step, path) in self.steps.iter().zip(paths) {
      let action = match (&step.action, force) {
        (Action::Edited | Action::Untracked, true) => &Action::Update,
        (Action::EditedOrphan, true) => &Action::Delete,
        (action, _) => action,
      };
      match action {
        Action::Create | Action::Update => {
          let contents = step.new.as_deref().unwrap_or_default();
          fsutil::write_atomic(&path, contents.as_bytes())?;
          if *action == Action::Create {
            summary.created += 1;
          } else {
            summary.updated += 1;
          }
          self.lock.files.insert(
            step.path.clone(),
            Entry {
              sha256: lock::sha256(contents.as_bytes()),
              ownership: step.ownership,
            },
          );
        }
        Action::Delete => {
          fsutil::remove(&self.root, &path)?;
          self.lock.files.remove(&step.path);
          summary.deleted += 1;
        }
        Action::Unchanged | Action::Keep => summary.unchanged += 1,
        Action::Edited | Action::Untracked | Action::EditedOrphan => summary.kept += 1,
      }
    }
    let text = self.lock.to_toml();
    if fsutil::read_optional(&lock_path)?.as_deref() != Some(text.as_bytes()) {
      fsutil::write_atomic(&lock_path, text.as_bytes())?;
    }
    Ok(summary)
  }
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
  pub created: usize,
  pub updated: usize,
  pub deleted: usize,
  pub unchanged: usize,
  pub kept: usize,
}
