//! File writes that cannot leave a half-written file or escape the output
//! folder.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Joins a relative generated path to the output folder, refusing paths that
/// climb out of it or pass through a symbolic link.
pub fn resolve(root: &Path, relative: &str) -> io::Result<PathBuf> {
  if !crate::render::is_safe_relative(relative) {
    return Err(io::Error::new(
      io::ErrorKind::InvalidInput,
      format!("`{relative}` is not a path inside the output folder"),
    ));
  }
  let mut path = root.to_path_buf();
  for part in relative.split('/') {
    path.push(part);
    if let Ok(meta) = fs::symlink_metadata(&path)
      && meta.file_type().is_symlink()
    {
      return Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
          "`{relative}` passes through the symbolic link `{}`; oi-gen does not follow links",
          path.display()
        ),
      ));
    }
  }
  Ok(path)
}

/// Reads a file, `None` when it does not exist.
pub fn read_optional(path: &Path) -> io::Result<Option<Vec<u8>>> {
  match fs::read(path) {
    Ok(bytes) => Ok(Some(bytes)),
    Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
    Err(error) => Err(error),
  }
}

/// Writes through a temporary file in the same folder and renames it into
/// place, so readers, and a run killed at any point, see the old file or the
/// new one, never a mix. Generated files are not flushed to the device one by
/// one (they can be rendered again); the lock and base are, with `durable`.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
  write_file(path, contents, false)
}

/// `write_atomic`, flushed to the device before the rename.
pub fn write_durable(path: &Path, contents: &[u8]) -> io::Result<()> {
  write_file(path, contents, true)
}

fn write_file(path: &Path, contents: &[u8], durable: bool) -> io::Result<()> {
  let dir = path.parent().unwrap_or(Path::new("."));
  fs::create_dir_all(dir)?;
  let name = path
    .file_name()
    .map(|n| n.to_string_lossy().into_owned())
    .unwrap_or_default();
  let mut temp = tempfile::Builder::new()
    .prefix(&format!(".{name}."))
    .suffix(TEMP_SUFFIX)
    .tempfile_in(dir)?;
  temp.write_all(contents)?;
  if durable {
    temp.as_file().sync_all()?;
  }
  #[cfg(unix)]
  {
    use std::os::unix::fs::PermissionsExt;
    let mode = if contents.starts_with(b"#!") {
      0o755
    } else {
      0o644
    };
    temp
      .as_file()
      .set_permissions(fs::Permissions::from_mode(mode))?;
  }
  temp.persist(path).map_err(|error| error.error)?;
  Ok(())
}

/// Removes a file and then any folders it leaves empty, up to `root`.
pub fn remove(root: &Path, path: &Path) -> io::Result<()> {
  fs::remove_file(path)?;
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
pub fn sweep_temporaries<'a>(root: &Path, paths: impl Iterator<Item = &'a str>) -> io::Result<()> {
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
        fs::remove_file(entry.path())?;
      }
    }
  }
  Ok(())
}

/// Does the folder exist and hold at least one visible file?
pub fn has_files(dir: &Path) -> io::Result<bool> {
  match fs::read_dir(dir) {
    Ok(entries) => {
      for entry in entries {
        let entry = entry?;
        if !entry.file_name().to_string_lossy().starts_with('.') && entry.file_type()?.is_file() {
          return Ok(true);
        }
      }
      Ok(false)
    }
    Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
    Err(error) => Err(error),
  }
}

/// Creates a file that must not exist yet, atomically: the name appears with
/// its full contents or not at all.
pub fn write_new(path: &Path, contents: &[u8]) -> io::Result<()> {
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
