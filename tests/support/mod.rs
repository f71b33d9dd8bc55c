//! What the integration tests share: running the binary, starting a
//! repository, reading a tree.
// Each test binary uses its own part of this module.
#![allow(dead_code)]

pub mod synth;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One finished run of `oi-gen`.
pub struct Run {
  pub code: i32,
  pub stdout: String,
  pub stderr: String,
}

/// Runs `oi-gen ARGS` in `dir`, without colour.
pub fn oi_gen(dir: &Path, args: &[&str]) -> Run {
  let output = Command::new(env!("CARGO_BIN_EXE_oi-gen"))
    .args(args)
    .current_dir(dir)
    .env("NO_COLOR", "1")
    .output()
    .expect("oi-gen runs");
  Run {
    code: output.status.code().expect("exit code"),
    stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
    stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
  }
}

/// `oi-gen init repo --from NAME` in a new temporary folder; returns the
/// folder (keep it alive) and the repository.
pub fn init(name: &str) -> (tempfile::TempDir, PathBuf) {
  let temp = tempfile::tempdir().unwrap();
  let run = oi_gen(temp.path(), &["init", "repo", "--from", name]);
  assert_eq!(run.code, 0, "{}", run.stderr);
  let repo = temp.path().join("repo");
  (temp, repo)
}

/// Every file under `root`, relative, sorted, with contents.
pub fn tree(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
  let mut files: Vec<_> = walkdir::WalkDir::new(root)
    .into_iter()
    .filter_map(Result::ok)
    .filter(|e| e.file_type().is_file())
    .map(|e| {
      let relative = e.path().strip_prefix(root).unwrap().to_path_buf();
      (relative, fs::read(e.path()).unwrap())
    })
    .collect();
  files.sort();
  files
}

pub fn read(repo: &Path, path: &str) -> String {
  fs::read_to_string(repo.join(path)).unwrap()
}

/// Replaces the first `from` in a file of the repository with `to`.
pub fn edit(repo: &Path, path: &str, from: &str, to: &str) {
  let text = read(repo, path);
  assert!(text.contains(from), "`{from}` not in {path}");
  fs::write(repo.join(path), text.replacen(from, to, 1)).unwrap();
}
