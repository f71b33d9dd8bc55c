//! One oi-gen at a time per repository: writers hold an exclusive lock on
//! `.oi-gen/run.lock`; a second one waits for the first to finish.

use std::fs::{self, File, OpenOptions};
use std::path::Path;

pub const RUN_LOCK: &str = ".oi-gen/run.lock";

/// Holds the repository until dropped.
pub struct Guard {
  _file: File,
}

pub fn acquire(root: &Path) -> std::io::Result<Guard> {
  let path = crate::fsutil::resolve(root, RUN_LOCK)?;
  if let Some(dir) = path.parent() {
    fs::create_dir_all(dir)?;
  }
  let file = OpenOptions::new()
    .create(true)
    .truncate(false)
    .write(true)
    .open(&path)?;
  match file.try_lock() {
    Ok(()) => {}
    Err(fs::TryLockError::WouldBlock) => {
      eprintln!("waiting: another oi-gen is writing to {}", root.display());
      file.lock()?;
    }
    Err(fs::TryLockError::Error(error)) => return Err(error),
  }
  Ok(Guard { _file: file })
}
