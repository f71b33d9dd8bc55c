//! Every way a command can fail, the exit code it gives and how it is shown.
//!
//! Exit codes: 0 success, 1 findings (drift, refused changes, conflicts,
//! missing tools), 2 invalid input, usage, or a file operation that failed.
//! [`Error::render`] writes the `error:` and `  = help:` lines, in colour
//! when the [`Style`] says so; messages never carry their labels.

use std::fmt::{self, Write as _};
use std::io;
use std::path::{Path, PathBuf};

use crate::blueprint::migrate::MigrateError;
use crate::diagnostic::Diagnostic;
use crate::lock::LockError;
use crate::migrations::NewError;
use crate::ui::{Style, escape_controls};

/// The command did what it was asked.
pub const SUCCESS: i32 = 0;
/// The command found drift, refused to lose changes, or left conflicts.
pub const FINDINGS: i32 = 1;
/// Invalid input or usage, or a file operation failed.
pub const INVALID: i32 = 2;

/// A failed command.
#[derive(Debug)]
pub enum Error {
  /// The blueprint does not parse or validate.
  Blueprint(Invalid),
  /// Drift, changes refused, conflicts left, tools missing.
  Findings(Findings),
  /// Reading or writing a file failed.
  Io {
    op: Op,
    path: PathBuf,
    source: io::Error,
  },
  /// A generated path that would leave the output folder.
  UnsafePath(UnsafePath),
  /// The lock of the output folder cannot be used.
  Lock(LockError),
  /// The command cannot run as asked.
  Usage(Message),
  /// The repository's template overrides cannot be used.
  Template(TemplateError),
  /// A template failed to render.
  Render(tera::Error),
  /// The blueprint cannot be migrated to the current schema.
  Upgrade { name: String, error: MigrateError },
  /// No new database migration can be written.
  Migration(NewError),
  /// Writing to standard output failed.
  Stdout(io::Error),
}

/// A file operation, as named in messages (`cannot read …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
  /// Reading a file or listing a folder.
  Read,
  /// Writing a file (through a temporary one).
  Write,
  /// Creating a folder, or a file that must not exist yet.
  Create,
  /// Opening the run lock.
  Open,
  /// Taking the run lock.
  Lock,
  /// Removing a file.
  Remove,
  /// Moving a file.
  Move,
}

impl fmt::Display for Op {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(match self {
      Op::Read => "read",
      Op::Write => "write",
      Op::Create => "create",
      Op::Move => "move",
      Op::Open => "open",
      Op::Lock => "lock",
      Op::Remove => "remove",
    })
  }
}

/// A generated path refused before anything is read or written there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnsafePath {
  /// Absolute, or climbing out with `..`.
  Outside { relative: String },
  /// A part of the path is a symbolic link.
  Link { relative: String, link: PathBuf },
}

impl fmt::Display for UnsafePath {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      UnsafePath::Outside { relative } => {
        write!(f, "`{relative}` is not a path inside the output folder")
      }
      UnsafePath::Link { relative, link } => write!(
        f,
        "`{relative}` passes through the symbolic link `{}`; oi-gen does not follow links",
        link.display()
      ),
    }
  }
}

/// One message with an optional help line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
  pub text: String,
  pub help: Option<String>,
}

impl Message {
  pub fn new(text: impl Into<String>) -> Self {
    Self {
      text: text.into(),
      help: None,
    }
  }

  #[must_use]
  pub fn with_help(mut self, help: impl Into<String>) -> Self {
    self.help = Some(help.into());
    self
  }

  /// Appends `error: <text>` and `  = help: <help>`.
  fn render(&self, style: Style, out: &mut String) {
    let _ = writeln!(out, "{}: {}", style.error(), escape_controls(&self.text));
    if let Some(help) = &self.help {
      let _ = writeln!(out, "  = {}: {}", style.help(), escape_controls(help));
    }
  }
}

/// A blueprint that failed to load, with what is needed to point into it.
#[derive(Debug)]
pub struct Invalid {
  /// The name to show for the blueprint.
  pub name: String,
  /// The blueprint's text.
  pub text: String,
  /// Every problem found, warnings included.
  pub diagnostics: Vec<Diagnostic>,
}

impl Invalid {
  fn summary(&self) -> String {
    let errors = self.diagnostics.iter().filter(|d| d.is_error()).count();
    format!(
      "`{}` has {errors} problem{}; nothing was written",
      self.name,
      if errors == 1 { "" } else { "s" }
    )
  }
}

/// What a check found, or what stopped a command from losing changes.
#[derive(Debug, Default)]
pub struct Findings {
  /// Shown first, as it is: per-file listings and their diffs.
  pub listing: String,
  /// Per-file problems: each an `error:` line, then its detail (a diff or
  /// nothing).
  pub problems: Vec<(String, String)>,
  /// The closing `error:` line; `None` when the findings were reported on
  /// stdout (the JSON report).
  pub summary: Option<Message>,
}

impl Findings {
  /// Findings told by one message.
  pub fn message(message: Message) -> Self {
    Self {
      summary: Some(message),
      ..Self::default()
    }
  }
}

/// Why the template overrides of a repository cannot be used.
#[derive(Debug)]
pub enum TemplateError {
  /// An embedded template does not parse.
  Embedded(tera::Error),
  /// The overrides folder cannot be walked.
  Walk(walkdir::Error),
  /// A walked path is not under the overrides folder.
  Outside(std::path::StripPrefixError),
  /// An override cannot be read; `shown` names it.
  Read { shown: String, source: io::Error },
  /// An override does not parse; `shown` names it.
  Parse { shown: String, source: tera::Error },
  /// An override would recurse without end; `shown` names it.
  Recursive { shown: String, why: String },
}

impl fmt::Display for TemplateError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      TemplateError::Embedded(error) => f.write_str(&crate::render::engine_error_chain(error)),
      TemplateError::Walk(error) => write!(f, "{error}"),
      TemplateError::Outside(error) => write!(f, "{error}"),
      TemplateError::Read { shown, source } => write!(f, "{shown}: {source}"),
      TemplateError::Parse { shown, source } => {
        write!(f, "{shown}: {}", crate::render::engine_error_chain(source))
      }
      TemplateError::Recursive { shown, why } => write!(
        f,
        "{shown} {why}; rendering it would never end. Break the cycle"
      ),
    }
  }
}

impl std::error::Error for TemplateError {}

impl Error {
  /// `Error::Io` for a failed `op` on `path`, for `map_err`.
  pub fn io(op: Op, path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::Io {
      op,
      path: path.to_path_buf(),
      source,
    }
  }

  /// A usage error: one message.
  pub fn usage(text: impl Into<String>) -> Self {
    Error::Usage(Message::new(text))
  }

  /// The process exit code.
  pub fn exit_code(&self) -> i32 {
    match self {
      Error::Findings(_) => FINDINGS,
      Error::Blueprint(_)
      | Error::Io { .. }
      | Error::UnsafePath(_)
      | Error::Lock(_)
      | Error::Usage(_)
      | Error::Template(_)
      | Error::Render(_)
      | Error::Upgrade { .. }
      | Error::Migration(_)
      | Error::Stdout(_) => INVALID,
    }
  }

  /// The full report for stderr: located diagnostics, listings, and every
  /// `error:` line with its help, labels in `style`.
  pub fn render(&self, style: Style) -> String {
    let mut out = String::new();
    match self {
      Error::Blueprint(invalid) => {
        out.push_str(&crate::diagnostic::render_all(
          &invalid.diagnostics,
          &invalid.name,
          &invalid.text,
          style,
        ));
        Message::new(invalid.summary()).render(style, &mut out);
      }
      Error::Findings(findings) => {
        out.push_str(&escape_controls(&findings.listing));
        for (text, detail) in &findings.problems {
          Message::new(text.as_str()).render(style, &mut out);
          out.push_str(&escape_controls(detail));
        }
        if let Some(summary) = &findings.summary {
          summary.render(style, &mut out);
        }
        if out.is_empty() {
          // The report went to stdout; stderr has always had an empty line.
          out.push('\n');
        }
      }
      Error::Usage(message) => message.render(style, &mut out),
      other => Message::new(other.to_string()).render(style, &mut out),
    }
    out
  }
}

impl fmt::Display for Error {
  /// The message, without labels, located diagnostics or listings.
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      Error::Blueprint(invalid) => f.write_str(&invalid.summary()),
      Error::Findings(findings) => match &findings.summary {
        Some(summary) => f.write_str(&summary.text),
        None => f.write_str("findings against the blueprint"),
      },
      Error::Io { op, path, source } => {
        write!(f, "cannot {op} `{}`: {source}", path.display())
      }
      Error::UnsafePath(unsafe_path) => write!(f, "{unsafe_path}"),
      Error::Lock(error) => write!(f, "{error}"),
      Error::Usage(message) => f.write_str(&message.text),
      Error::Template(error) => write!(f, "template override: {error}"),
      Error::Render(error) => write!(
        f,
        "rendering failed: {}",
        crate::render::engine_error_chain(error)
      ),
      Error::Upgrade { name, error } => write!(f, "{name}: {error}"),
      Error::Migration(error) => write!(f, "{error}"),
      Error::Stdout(error) => write!(f, "cannot write to standard output: {error}"),
    }
  }
}

impl std::error::Error for Error {
  fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
    match self {
      Error::Io { source, .. } | Error::Stdout(source) => Some(source),
      Error::Template(error) => Some(error),
      Error::Render(error) => Some(error),
      Error::Upgrade { error, .. } => Some(error),
      Error::Migration(error) => Some(error),
      Error::Lock(error) => Some(error),
      _ => None,
    }
  }
}

impl From<UnsafePath> for Error {
  fn from(error: UnsafePath) -> Self {
    Error::UnsafePath(error)
  }
}

impl From<LockError> for Error {
  fn from(error: LockError) -> Self {
    Error::Lock(error)
  }
}

impl From<TemplateError> for Error {
  fn from(error: TemplateError) -> Self {
    Error::Template(error)
  }
}

impl From<NewError> for Error {
  fn from(error: NewError) -> Self {
    Error::Migration(error)
  }
}

impl From<Findings> for Error {
  fn from(findings: Findings) -> Self {
    Error::Findings(findings)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  const COLOUR: Style = Style::COLOUR;

  #[test]
  fn renders_labels_in_one_place() {
    let error = Error::Usage(Message::new("`x` is missing").with_help("add it"));
    assert_eq!(
      error.render(Style::PLAIN),
      "error: `x` is missing\n  = help: add it\n"
    );
    assert_eq!(
      error.render(COLOUR),
      "\x1b[1;31merror\x1b[0m: `x` is missing\n  = \x1b[1;36mhelp\x1b[0m: add it\n"
    );
    assert_eq!(error.to_string(), "`x` is missing");
    assert_eq!(error.exit_code(), INVALID);
  }

  #[test]
  fn findings_exit_1_and_list_before_their_summary() {
    let findings = Error::Findings(Findings {
      listing: "stale (1):\n  a\n".into(),
      problems: vec![("`b` was edited".into(), "-x\n+y\n".into())],
      summary: Some(Message::new("2 findings")),
    });
    assert_eq!(findings.exit_code(), FINDINGS);
    assert_eq!(
      findings.render(Style::PLAIN),
      "stale (1):\n  a\nerror: `b` was edited\n-x\n+y\nerror: 2 findings\n"
    );
    assert_eq!(Error::from(Findings::default()).render(Style::PLAIN), "\n");
  }

  #[test]
  fn a_failed_file_operation_names_the_path() {
    let error = Error::io(Op::Create, Path::new("out/.oi-gen"))(io::Error::new(
      io::ErrorKind::NotADirectory,
      "Not a directory",
    ));
    assert_eq!(
      error.render(Style::PLAIN),
      "error: cannot create `out/.oi-gen`: Not a directory\n"
    );
    assert_eq!(error.exit_code(), INVALID);
  }
}
