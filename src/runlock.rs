//! One oi-gen at a time per repository: writers hold an exclusive lock on
//! `.oi-gen/run.lock`; a second one waits for the first to finish. Readers
//! (`render --check`) hold a shared lock, so they never compare against a
//! render half written.

use std::fs::{self, File, OpenOptions};

use crate::error::{Error, Op};
use crate::fsutil::Root;

pub(crate) const RUN_LOCK: &str = ".oi-gen/run.lock";

/// Holds the repository until dropped.
pub(crate) struct Guard {
  _file: Option<File>,
}

/// Takes the run lock of `root`, waiting while another oi-gen holds it.
pub(crate) fn acquire(root: &Root) -> Result<Guard, Error> {
  let path = root.resolve(RUN_LOCK)?;
  if let Some(dir) = path.parent() {
    fs::create_dir_all(dir).map_err(Error::io(Op::Create, dir))?;
  }
  let file = OpenOptions::new()
    .create(true)
    .truncate(false)
    .write(true)
    .open(&path)
    .map_err(Error::io(Op::Open, &path))?;
  match file.try_lock() {
    Ok(()) => {}
    Err(fs::TryLockError::WouldBlock) => {
      eprintln!(
        "waiting: another oi-gen is writing to {}",
        root.path().display()
      );
      file.lock().map_err(Error::io(Op::Lock, &path))?;
    }
    Err(fs::TryLockError::Error(error)) => return Err(Error::io(Op::Lock, &path)(error)),
  }
  Ok(Guard { _file: Some(file) })
}

/// Takes the run lock of `root` shared, for a command that only reads,
/// waiting while a writer holds it. Creates nothing: without a run lock no
/// oi-gen has written there.
pub(crate) fn acquire_shared(root: &Root) -> Result<Guard, Error> {
  let path = root.resolve(RUN_LOCK)?;
  let file = match File::open(&path) {
    Ok(file) => file,
    Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Guard { _file: None }),
    Err(error) => return Err(Error::io(Op::Open, &path)(error)),
  };
  match file.try_lock_shared() {
    Ok(()) => {}
    Err(fs::TryLockError::WouldBlock) => {
      eprintln!(
        "waiting: another oi-gen is writing to {}",
        root.path().display()
      );
      file.lock_shared().map_err(Error::io(Op::Lock, &path))?;
    }
    Err(fs::TryLockError::Error(error)) => return Err(Error::io(Op::Lock, &path)(error)),
  }
  Ok(Guard { _file: Some(file) })
}
