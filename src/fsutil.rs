//! File writes that cannot leave a half-written file or escape the output
//! folder.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::error::{Error, Op, UnsafePath};

/// An output folder. Generated paths are joined to it through
/// [`Root::resolve`], which refuses paths that climb out of it or pass
/// through a symbolic link; the folders already found to be real folders are
/// remembered, so each is looked at once per command, not once per file.
/// Clones share what was found.
#[derive(Debug, Clone)]
pub struct Root {
  path: PathBuf,
  /// Folders under `path` found to be folders, not links.
  checked: Rc<RefCell<HashSet<PathBuf>>>,
  /// Paths under `path` found not to exist: nothing below them is looked at.
  missing: Rc<RefCell<HashSet<PathBuf>>>,
  /// Relative folders each of whose parts is in `checked`: a file in one
  /// needs only its own name looked at.
  proven: Rc<RefCell<HashSet<String>>>,
}

impl Root {
  pub fn new(path: &Path) -> Self {
    Self {
      path: path.to_path_buf(),
      checked: Rc::default(),
      missing: Rc::default(),
      proven: Rc::default(),
    }
  }

  /// The folder as given.
  pub fn path(&self) -> &Path {
    &self.path
  }

  /// The same folder with nothing remembered: every folder is looked at
  /// again (before writing, in case the disk changed since planning).
  pub fn fresh(&self) -> Root {
    Root::new(&self.path)
  }

  /// Joins a relative generated path to the folder, refusing paths that
  /// climb out of it or pass through a symbolic link. The last part is
  /// looked at on every call; the folders above it once. Below a folder
  /// that does not exist nothing is looked at: it cannot hold a link.
  pub fn resolve(&self, relative: &str) -> Result<PathBuf, Error> {
    if !is_safe_relative(relative) {
      return Err(
        UnsafePath::Outside {
          relative: relative.to_string(),
        }
        .into(),
      );
    }
    let dir = relative.rsplit_once('/').map(|(dir, _)| dir);
    if let Some(dir) = dir
      && self.proven.borrow().contains(dir)
    {
      let path = self.path.join(relative);
      return match fs::symlink_metadata(&path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(
          UnsafePath::Link {
            relative: relative.to_string(),
            link: path,
          }
          .into(),
        ),
        _ => Ok(path),
      };
    }
    let mut path = self.path.clone();
    let mut parts = relative.split('/').peekable();
    // Whether every folder above the last part is known to be a folder.
    let mut folders = true;
    while let Some(part) = parts.next() {
      path.push(part);
      let last = parts.peek().is_none();
      if !last && self.checked.borrow().contains(&path) {
        continue;
      }
      if !last && self.missing.borrow().contains(&path) {
        parts.for_each(|part| path.push(part));
        folders = false;
        break;
      }
      match fs::symlink_metadata(&path) {
        Ok(meta) if meta.file_type().is_symlink() => {
          return Err(
            UnsafePath::Link {
              relative: relative.to_string(),
              link: path,
            }
            .into(),
          );
        }
        Ok(meta) if meta.is_dir() && !last => {
          self.checked.borrow_mut().insert(path.clone());
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound && !last => {
          self.missing.borrow_mut().insert(path.clone());
          parts.for_each(|part| path.push(part));
          folders = false;
          break;
        }
        _ if !last => folders = false,
        _ => {}
      }
    }
    if folders && let Some(dir) = dir {
      self.proven.borrow_mut().insert(dir.to_string());
    }
    Ok(path)
  }

  /// Whether a folder above `path` (a path [`Root::resolve`] gave) was
  /// found not to exist: then nothing below it needs to be opened.
  pub(crate) fn below_missing(&self, path: &Path) -> bool {
    let missing = self.missing.borrow();
    !missing.is_empty()
      && path
        .ancestors()
        .skip(1)
        .take_while(|dir| *dir != self.path && dir.starts_with(&self.path))
        .any(|dir| missing.contains(dir))
  }

  /// Reads a file under the folder (a path [`Root::resolve`] gave), `None`
  /// when it does not exist; below a missing folder nothing is opened.
  pub(crate) fn read_optional(&self, path: &Path) -> Result<Option<Vec<u8>>, Error> {
    if self.below_missing(path) {
      return Ok(None);
    }
    read_optional(path)
  }

  /// Creates the folder of `path` (a path [`Root::resolve`] gave) when it
  /// is not known to exist: one `mkdir` per missing folder, none for those
  /// already looked at.
  pub(crate) fn make_parent(&self, path: &Path) -> Result<(), Error> {
    let Some(dir) = path.parent() else {
      return Ok(());
    };
    if dir == self.path || self.checked.borrow().contains(dir) {
      return Ok(());
    }
    fs::create_dir_all(dir).map_err(Error::io(Op::Create, dir))?;
    let mut checked = self.checked.borrow_mut();
    let mut missing = self.missing.borrow_mut();
    for made in dir
      .ancestors()
      .take_while(|made| made.starts_with(&self.path) && *made != self.path)
    {
      missing.remove(made);
      checked.insert(made.to_path_buf());
    }
    Ok(())
  }
}

/// Reads a file, `None` when it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, Error> {
  match fs::read(path) {
    Ok(bytes) => Ok(Some(bytes)),
    Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
    Err(error) => Err(Error::io(Op::Read, path)(error)),
  }
}

/// Writes through a temporary file in the same folder and renames it into
/// place, so readers, and a run killed at any point, see the old file or the
/// new one, never a mix. Generated files are not flushed to the device one by
/// one (they can be rendered again); the lock and base are, with `durable`.
pub(crate) fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), Error> {
  write_file(path, contents, false)
}

/// `write_atomic`, flushed to the device before the rename.
pub(crate) fn write_durable(path: &Path, contents: &[u8]) -> Result<(), Error> {
  write_file(path, contents, true)
}

/// Durable writes of many files, each streamed by `fill`: each is written into its
/// temporary file by `fill` in turn, then, a batch at a time, the batch's
/// files are flushed to disk together (a flush waits on the disk, not the
/// processor, so flushing one after the other spends most of its time
/// waiting) and renamed into place. Each file is durable before it is
/// renamed, as with [`write_durable`]; on an error nothing more is
/// renamed and the temporary files not yet renamed are removed.
pub(crate) fn write_durable_all<T>(
  items: impl IntoIterator<Item = (PathBuf, T)>,
  mut fill: impl FnMut(&mut dyn Write, &T) -> io::Result<()>,
) -> Result<(), Error> {
  /// Files in flight at once: enough for the disk to take many flushes
  /// together, few enough to stay far below the limit of open files.
  const BATCH: usize = 64;
  let mut pending: Vec<(PathBuf, tempfile::NamedTempFile)> = Vec::with_capacity(BATCH);
  for (path, item) in items {
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    fs::create_dir_all(&dir).map_err(Error::io(Op::Create, &dir))?;
    let written = temporary_beside(&path, &dir)
      .and_then(|mut temp| {
        let mut out = io::BufWriter::with_capacity(1 << 16, temp.as_file_mut());
        fill(&mut out, &item)?;
        out.flush()?;
        drop(out);
        Ok(temp)
      })
      .map_err(Error::io(Op::Write, &path))?;
    pending.push((path, written));
    if pending.len() == BATCH {
      persist_durably(&mut pending)?;
    }
  }
  persist_durably(&mut pending)
}

/// Flushes `pending` to disk on several threads, then renames each into
/// place with the mode [`through_temporary`] gives.
fn persist_durably(pending: &mut Vec<(PathBuf, tempfile::NamedTempFile)>) -> Result<(), Error> {
  let threads = pending.len().clamp(1, 8);
  let chunk = pending.len().div_ceil(threads).max(1);
  let flushed: Vec<Result<(), Error>> = std::thread::scope(|scope| {
    let handles: Vec<_> = pending
      .chunks(chunk)
      .map(|part| {
        scope.spawn(move || {
          for (path, temp) in part {
            temp
              .as_file()
              .sync_all()
              .map_err(Error::io(Op::Write, path))?;
          }
          Ok(())
        })
      })
      .collect();
    handles
      .into_iter()
      .map(|handle| {
        handle
          .join()
          .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
      })
      .collect()
  });
  flushed.into_iter().collect::<Result<(), Error>>()?;
  for (path, temp) in pending.drain(..) {
    set_mode(temp.as_file(), false).map_err(Error::io(Op::Write, &path))?;
    temp
      .persist(&path)
      .map_err(|error| Error::io(Op::Write, &path)(error.error))?;
  }
  Ok(())
}

fn write_file(path: &Path, contents: &[u8], durable: bool) -> Result<(), Error> {
  let dir = path.parent().unwrap_or(Path::new("."));
  fs::create_dir_all(dir).map_err(Error::io(Op::Create, dir))?;
  write_through_temporary(path, dir, contents, durable).map_err(Error::io(Op::Write, path))
}

/// `write_atomic` into a folder that exists (after [`Root::make_parent`]).
/// A folder removed since is made again.
pub(crate) fn write_atomic_in_place(path: &Path, contents: &[u8]) -> Result<(), Error> {
  let dir = path.parent().unwrap_or(Path::new("."));
  match write_through_temporary(path, dir, contents, false) {
    Err(error) if error.kind() == io::ErrorKind::NotFound => write_file(path, contents, false),
    done => done.map_err(Error::io(Op::Write, path)),
  }
}

/// The writing part of `write_file`: temporary file, contents, mode, rename.
fn write_through_temporary(
  path: &Path,
  dir: &Path,
  contents: &[u8],
  durable: bool,
) -> io::Result<()> {
  through_temporary(path, dir, durable, |file| {
    file.write_all(contents)?;
    Ok(contents.starts_with(b"#!"))
  })
}

/// A temporary file in `dir` that `fill` writes (returning whether it is a
/// script, made executable), flushed with `durable`, then renamed to `path`.
/// On any error the temporary file is removed.
fn through_temporary(
  path: &Path,
  dir: &Path,
  durable: bool,
  fill: impl FnOnce(&mut fs::File) -> io::Result<bool>,
) -> io::Result<()> {
  let mut temp = temporary_beside(path, dir)?;
  let script = fill(temp.as_file_mut())?;
  if durable {
    temp.as_file().sync_all()?;
  }
  set_mode(temp.as_file(), script)?;
  temp.persist(path).map_err(|error| error.error)?;
  Ok(())
}

/// A temporary file in `dir` for `path`, named so that
/// [`sweep_temporaries`] finds it if a run is stopped before the rename.
fn temporary_beside(path: &Path, dir: &Path) -> io::Result<tempfile::NamedTempFile> {
  let name = path
    .file_name()
    .map(|n| n.to_string_lossy().into_owned())
    .unwrap_or_default();
  tempfile::Builder::new()
    .prefix(&format!(".{name}."))
    .suffix(TEMP_SUFFIX)
    .tempfile_in(dir)
}

/// The mode of a written file: executable for a script.
fn set_mode(file: &fs::File, script: bool) -> io::Result<()> {
  #[cfg(unix)]
  {
    use std::os::unix::fs::PermissionsExt;
    let mode = if script { 0o755 } else { 0o644 };
    file.set_permissions(fs::Permissions::from_mode(mode))?;
  }
  #[cfg(not(unix))]
  let _ = (file, script);
  Ok(())
}

/// Removes a file and then any folders it leaves empty, up to `root`.
pub(crate) fn remove(root: &Path, path: &Path) -> Result<(), Error> {
  fs::remove_file(path).map_err(Error::io(Op::Remove, path))?;
  let mut dir = path.parent();
  while let Some(current) = dir {
    if current == root || !current.starts_with(root) {
      break;
    }
    if fs::remove_dir(current).is_err() {
      break;
    }
    dir = current.parent();
  }
  Ok(())
}

/// Suffix of the temporary files `write_atomic` renames into place.
const TEMP_SUFFIX: &str = ".oi-gen-tmp";

/// Removes temporary files left by an interrupted run in the folders of
/// `paths` (callers hold the run lock, so no other run owns them).
pub(crate) fn sweep_temporaries<'a>(
  root: &Path,
  paths: impl Iterator<Item = &'a str>,
) -> Result<(), Error> {
  let mut dirs: Vec<PathBuf> = paths
    .map(|p| {
      root
        .join(p)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
    })
    .collect();
  dirs.push(root.join(".oi-gen"));
  dirs.push(root.join(crate::base::BASE_DIR));
  dirs.sort();
  dirs.dedup();
  for dir in dirs {
    let Ok(entries) = fs::read_dir(&dir) else {
      continue;
    };
    for entry in entries.flatten() {
      let name = entry.file_name();
      let name = name.to_string_lossy();
      if name.starts_with('.') && name.ends_with(TEMP_SUFFIX) {
        let path = entry.path();
        fs::remove_file(&path).map_err(Error::io(Op::Remove, &path))?;
      }
    }
  }
  Ok(())
}

/// Does the folder exist and hold at least one visible file (or, with
/// `or_folders`, a visible subfolder)?
pub(crate) fn has_files(dir: &Path, or_folders: bool) -> Result<bool, Error> {
  let found = || -> io::Result<bool> {
    match fs::read_dir(dir) {
      Ok(entries) => {
        for entry in entries {
          let entry = entry?;
          let kind = entry.file_type()?;
          if !entry.file_name().to_string_lossy().starts_with('.')
            && (kind.is_file() || (or_folders && kind.is_dir()))
          {
            return Ok(true);
          }
        }
        Ok(false)
      }
      Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
      Err(error) => Err(error),
    }
  };
  found().map_err(Error::io(Op::Read, dir))
}

/// Creates a file that must not exist yet, atomically: the name appears with
/// its full contents or not at all. The caller names the file in errors.
pub(crate) fn write_new(path: &Path, contents: &[u8]) -> io::Result<()> {
  let dir = path.parent().unwrap_or(Path::new("."));
  fs::create_dir_all(dir)?;
  let mut temp = tempfile::Builder::new()
    .prefix(".new.")
    .suffix(TEMP_SUFFIX)
    .tempfile_in(dir)?;
  temp.write_all(contents)?;
  temp.as_file().sync_all()?;
  temp.persist_noclobber(path).map_err(|error| error.error)?;
  Ok(())
}

/// A relative path that stays inside the output folder.
pub fn is_safe_relative(path: &str) -> bool {
  !path.is_empty()
    && !path.starts_with('/')
    && !path.contains('\\')
    && !path.contains(':')
    && path.split('/').next() != Some(".git")
    && path
      .split('/')
      .all(|part| !part.is_empty() && part != "." && part != "..")
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn resolve_refuses_climbing_out() {
    let root = Root::new(Path::new("repo"));
    assert_eq!(
      root.resolve("../x").unwrap_err().to_string(),
      "`../x` is not a path inside the output folder"
    );
    assert_eq!(root.resolve("a/b").unwrap(), Path::new("repo/a/b"));
  }

  /// Many files written durably: every one in place with its text and the
  /// usual mode, across batches; a failure part way renames nothing more
  /// and leaves no temporary file.
  #[test]
  fn many_files_are_written_durably_in_batches() {
    let temp = tempfile::tempdir().unwrap();
    let items: Vec<(PathBuf, usize)> = (0..150)
      .map(|n| (temp.path().join(format!("d{}/f{n}.txt", n % 3)), n))
      .collect();
    write_durable_all(items.clone(), |out, n| writeln!(out, "text {n}")).unwrap();
    for (path, n) in &items {
      assert_eq!(fs::read_to_string(path).unwrap(), format!("text {n}\n"));
      #[cfg(unix)]
      {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
          fs::metadata(path).unwrap().permissions().mode() & 0o777,
          0o644
        );
      }
    }
    let again = tempfile::tempdir().unwrap();
    let items: Vec<(PathBuf, usize)> = (0..150)
      .map(|n| (again.path().join(format!("f{n:03}.txt")), n))
      .collect();
    let error = write_durable_all(items, |out, n| {
      if *n == 100 {
        return Err(io::Error::other("disk full"));
      }
      write!(out, "{n}")
    })
    .unwrap_err()
    .to_string();
    assert!(error.contains("f100.txt"), "{error}");
    let mut names: Vec<String> = fs::read_dir(again.path())
      .unwrap()
      .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
      .collect();
    names.sort();
    // The first batch of 64 was in place before the failure; the files of
    // the batch it broke are not, and none is left half written.
    let expected: Vec<String> = (0..64).map(|n| format!("f{n:03}.txt")).collect();
    assert_eq!(names, expected);
  }

  #[cfg(unix)]
  #[test]
  fn resolve_refuses_links_even_after_the_folders_were_checked() {
    let temp = tempfile::tempdir().unwrap();
    let root = Root::new(temp.path());
    fs::create_dir_all(temp.path().join("a/b")).unwrap();
    assert!(root.resolve("a/b/file").is_ok());
    // `a` and `a/b` are remembered as folders; a link in the last part is
    // still found.
    std::os::unix::fs::symlink(temp.path(), temp.path().join("a/b/link")).unwrap();
    let error = root.resolve("a/b/link").unwrap_err().to_string();
    assert!(
      error.contains("passes through the symbolic link"),
      "{error}"
    );
    // A fresh root looks at every part again.
    fs::remove_dir_all(temp.path().join("a")).unwrap();
    std::os::unix::fs::symlink(temp.path(), temp.path().join("a")).unwrap();
    let error = root.fresh().resolve("a/b/file").unwrap_err().to_string();
    assert!(
      error.contains("passes through the symbolic link"),
      "{error}"
    );
  }
}
