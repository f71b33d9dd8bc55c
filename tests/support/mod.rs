//! What the integration tests share: running the binary and checking its
//! exact output, starting a repository, reading a tree.

pub(crate) mod output;
pub(crate) mod synth;

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A run of `oi-gen` to set up: arguments, folder and environment, always
/// without colour. `run` starts it.
///
/// ```ignore
/// Cli::new().args(["render", "--check"]).current_dir(&repo).run().code(0);
/// ```
pub(crate) struct Cli {
  command: Command,
  redactions: Vec<(String, String)>,
}

impl Default for Cli {
  fn default() -> Self {
    Self::new()
  }
}

impl Cli {
  /// `oi-gen` with no arguments, in the test's own folder.
  pub(crate) fn new() -> Self {
    let mut command = Command::new(env!("CARGO_BIN_EXE_oi-gen"));
    command.env("NO_COLOR", "1");
    Self {
      command,
      redactions: Vec::new(),
    }
  }

  /// Appends one argument.
  pub(crate) fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
    self.command.arg(arg);
    self
  }

  /// Appends arguments.
  pub(crate) fn args<I, S>(mut self, args: I) -> Self
  where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
  {
    self.command.args(args);
    self
  }

  /// Runs in `dir`.
  pub(crate) fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
    self.command.current_dir(dir);
    self
  }

  /// Sets an environment variable.
  pub(crate) fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
    self.command.env(key, value);
    self
  }

  /// Shows `path` (as given and canonical) as `placeholder` in the output,
  /// so that messages naming a temporary folder compare exactly.
  pub(crate) fn redact(mut self, path: impl AsRef<Path>, placeholder: &str) -> Self {
    let path = path.as_ref();
    let mut forms = vec![path.display().to_string()];
    if let Ok(canonical) = path.canonicalize() {
      forms.push(canonical.display().to_string());
    }
    for form in forms {
      self.redactions.push((form, placeholder.to_string()));
    }
    // Longer forms first, so that no form replaces part of another.
    self
      .redactions
      .sort_by_key(|(form, _)| std::cmp::Reverse(form.len()));
    self
  }

  /// Runs to the end and captures the outcome.
  #[track_caller]
  pub(crate) fn run(mut self) -> Outcome {
    let output = self.command.output().expect("oi-gen runs");
    let redact = |bytes: &[u8]| {
      let mut text = String::from_utf8_lossy(bytes).into_owned();
      for (form, placeholder) in &self.redactions {
        text = text.replace(form.as_str(), placeholder);
      }
      text
    };
    Outcome {
      code: output.status.code().expect("oi-gen exits with a code"),
      stdout: redact(&output.stdout),
      stderr: redact(&output.stderr),
    }
  }
}

/// What a finished run printed and how it exited, with redactions applied.
/// The assertions compare exactly and chain:
/// `.code(2).stdout("").stderr("error: …\n")`.
#[derive(Debug)]
pub(crate) struct Outcome {
  pub code: i32,
  pub stdout: String,
  pub stderr: String,
}

impl Outcome {
  /// Asserts the exit code.
  #[track_caller]
  pub(crate) fn code(&self, expected: i32) -> &Self {
    assert_eq!(
      self.code, expected,
      "exit code\n--- stdout\n{}--- stderr\n{}",
      self.stdout, self.stderr
    );
    self
  }

  /// Asserts the exact standard output.
  #[track_caller]
  pub(crate) fn stdout(&self, expected: impl AsRef<str>) -> &Self {
    same("stdout", &self.stdout, expected.as_ref(), &self.stderr);
    self
  }

  /// Asserts the exact standard error.
  #[track_caller]
  pub(crate) fn stderr(&self, expected: impl AsRef<str>) -> &Self {
    same("stderr", &self.stderr, expected.as_ref(), &self.stdout);
    self
  }
}

/// Fails with a line diff when `actual` is not exactly `expected`.
#[track_caller]
fn same(stream: &str, actual: &str, expected: &str, other: &str) {
  if actual != expected {
    let diff = similar::TextDiff::from_lines(expected, actual)
      .unified_diff()
      .header("expected", "actual")
      .to_string();
    panic!(
      "{stream} differs\n{diff}--- actual {stream}, verbatim\n{actual:?}\n--- the other stream\n{other}"
    );
  }
}

/// The diff `oi-gen` prints for `path` when `line` was appended by hand to
/// its rendered text `original`: the last three lines as context.
pub(crate) fn diff_of_an_appended_line(path: &str, original: &str, line: &str) -> String {
  let lines: Vec<&str> = original.lines().collect();
  let context = &lines[lines.len().saturating_sub(3)..];
  let start = lines.len() - context.len() + 1;
  let mut diff = format!(
    "--- a/{path} (on disk)\n+++ b/{path} (oi-gen)\n@@ -{start},{} +{start},{} @@\n",
    context.len() + 1,
    context.len()
  );
  for context_line in context {
    diff.push_str(&format!(" {context_line}\n"));
  }
  diff.push_str(&format!("-{line}\n"));
  diff
}

/// The diff `oi-gen` prints for `path` when the line `from` of its rendered
/// text was changed by hand to `to`: three lines of context either side.
pub(crate) fn diff_of_a_changed_line(path: &str, rendered: &str, from: &str, to: &str) -> String {
  let lines: Vec<&str> = rendered.lines().collect();
  let at = lines.iter().position(|line| *line == from).unwrap();
  let (first, last) = (at.saturating_sub(3), (at + 4).min(lines.len()));
  let mut diff = format!(
    "--- a/{path} (on disk)\n+++ b/{path} (oi-gen)\n@@ -{0},{1} +{0},{1} @@\n",
    first + 1,
    last - first
  );
  for (i, line) in lines.iter().enumerate().take(last).skip(first) {
    if i == at {
      diff.push_str(&format!("-{to}\n+{from}\n"));
    } else {
      diff.push_str(&format!(" {line}\n"));
    }
  }
  diff
}

/// The diff `oi-gen` prints for `path` when its text `on_disk` is to be
/// replaced with `rendered` as a whole: one hunk.
pub(crate) fn diff_of_a_replaced_file(path: &str, on_disk: &str, rendered: &str) -> String {
  let range = |text: &str| match text.lines().count() {
    1 => "1".to_string(),
    n => format!("1,{n}"),
  };
  let mut diff = format!(
    "--- a/{path} (on disk)\n+++ b/{path} (oi-gen)\n@@ -{} +{} @@\n",
    range(on_disk),
    range(rendered)
  );
  for line in on_disk.lines() {
    diff.push_str(&format!("-{line}\n"));
  }
  for line in rendered.lines() {
    diff.push_str(&format!("+{line}\n"));
  }
  diff
}

/// `oi-gen init repo --from NAME` in a new temporary folder; returns the
/// folder (keep it alive) and the repository.
pub(crate) fn init(name: &str) -> (tempfile::TempDir, PathBuf) {
  let temp = tempfile::tempdir().unwrap();
  Cli::new()
    .args(["init", "repo", "--from", name])
    .current_dir(temp.path())
    .run()
    .code(0);
  let repo = temp.path().join("repo");
  (temp, repo)
}

/// `oi-gen ARGS` in `dir`, to set up.
pub(crate) fn cli(dir: &Path, args: &[&str]) -> Cli {
  Cli::new().args(args).current_dir(dir)
}

/// Every file under `root`, relative, sorted, with contents.
pub(crate) fn tree(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
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

/// Number of files a render of the repository writes, from its lock.
pub(crate) fn generated_files(repo: &Path) -> usize {
  let lock: toml::Table = toml::from_str(&read(repo, ".oi-gen/lock.toml")).unwrap();
  lock["files"].as_table().unwrap().len()
}

/// A file of the repository, as text.
pub(crate) fn read(repo: &Path, path: &str) -> String {
  fs::read_to_string(repo.join(path)).unwrap()
}

/// Replaces the first `from` in a file of the repository with `to`.
pub(crate) fn edit(repo: &Path, path: &str, from: &str, to: &str) {
  let text = read(repo, path);
  assert!(text.contains(from), "`{from}` not in {path}");
  fs::write(repo.join(path), text.replacen(from, to, 1)).unwrap();
}

/// The shards of the base of a repository (`.oi-gen/base/`), by file name.
pub(crate) fn base_shards(repo: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
  match fs::read_dir(repo.join(".oi-gen/base")) {
    Ok(entries) => entries
      .map(|entry| {
        let entry = entry.unwrap();
        (
          entry.file_name().into_string().unwrap(),
          fs::read(entry.path()).unwrap(),
        )
      })
      .collect(),
    Err(_) => std::collections::BTreeMap::new(),
  }
}

/// Every text of the base of a repository, with its path, in the order of
/// its shards.
pub(crate) fn base_texts(repo: &Path) -> Vec<(String, String)> {
  let mut texts = Vec::new();
  for (name, bytes) in base_shards(repo) {
    let text = String::from_utf8(bytes).unwrap();
    let (header, mut rest) = text.split_once('\n').unwrap();
    assert!(header.starts_with("# Written by oi-gen"), "{name}");
    while !rest.is_empty() {
      let (line, after) = rest.split_once('\n').unwrap();
      let fields = line.strip_prefix("=== ").unwrap();
      let (len, fields) = fields.split_once(' ').unwrap();
      let (digests, path) = fields.split_once(' ').unwrap();
      let len: usize = len.parse().unwrap();
      let body = &after[..len];
      let whole = digests.split('+').next().unwrap();
      assert_eq!(
        whole,
        oi_gen::lock::sha256(body.as_bytes()),
        "{name}: {path}"
      );
      assert_eq!(&after[len..=len], "\n");
      texts.push((path.to_string(), body.to_string()));
      rest = &after[len + 1..];
    }
  }
  texts
}

/// Turns the base of a repository into the one file of oi-gen's earlier
/// versions, `.oi-gen/base.txt` (`=== <bytes> <path>` lines, each followed
/// by the text, sorted by path), as they wrote it.
pub(crate) fn to_old_base(repo: &Path) {
  let mut texts = base_texts(repo);
  texts.sort_by(|a, b| a.0.cmp(&b.0));
  let mut out =
    "# Written by oi-gen: the last render of every managed file, for merges. Do not edit.\n"
      .to_string();
  for (path, text) in texts {
    out.push_str(&format!("=== {} {path}\n{text}\n", text.len()));
  }
  fs::remove_dir_all(repo.join(".oi-gen/base")).unwrap();
  fs::write(repo.join(".oi-gen/base.txt"), out).unwrap();
}

/// Every file of the repository but the run lock, with its text.
pub(crate) fn snapshot(repo: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
  walkdir::WalkDir::new(repo)
    .into_iter()
    .filter_map(Result::ok)
    .filter(|e| e.file_type().is_file())
    .map(|e| {
      let path = e.path().strip_prefix(repo).unwrap().display().to_string();
      (path, fs::read(e.path()).unwrap())
    })
    .filter(|(path, _)| path != ".oi-gen/run.lock")
    .collect()
}
