//! Terminal output: quiet and verbose levels, and colour only on a terminal
//! and never with `NO_COLOR`.

use std::io::{IsTerminal, Write as _};
use std::sync::atomic::{AtomicU8, Ordering};

static LEVEL: AtomicU8 = AtomicU8::new(1);

pub(crate) fn set_level(quiet: bool, verbose: bool) {
  let level = match (quiet, verbose) {
    (true, _) => 0,
    (_, true) => 2,
    _ => 1,
  };
  LEVEL.store(level, Ordering::Relaxed);
}

pub(crate) fn quiet() -> bool {
  LEVEL.load(Ordering::Relaxed) == 0
}

pub(crate) fn verbose() -> bool {
  LEVEL.load(Ordering::Relaxed) >= 2
}

/// Progress and summaries: hidden by `--quiet`.
macro_rules! info {
  ($($arg:tt)*) => {
    if !$crate::ui::quiet() {
      println!($($arg)*);
    }
  };
}

/// Per-file detail: shown with `--verbose`.
macro_rules! detail {
  ($($arg:tt)*) => {
    if $crate::ui::verbose() {
      println!($($arg)*);
    }
  };
}

pub(crate) use {detail, info};

fn color_enabled() -> bool {
  std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// How the `error`, `warning` and `help` labels of messages look: coloured
/// on a terminal without `NO_COLOR`, plain otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
  color: bool,
}

impl Style {
  /// No colour: for text that is not going to a terminal.
  pub const PLAIN: Style = Style { color: false };

  /// Colour, whatever the terminal.
  #[cfg(test)]
  pub const COLOUR: Style = Style { color: true };

  /// The style of what is written to stderr.
  pub fn stderr() -> Style {
    Style {
      color: color_enabled(),
    }
  }

  fn label(self, label: &'static str, code: &str) -> String {
    if self.color {
      format!("\x1b[{code}m{label}\x1b[0m")
    } else {
      label.to_string()
    }
  }

  /// The `error` label.
  pub fn error(self) -> String {
    self.label("error", "1;31")
  }

  /// The `warning` label.
  pub fn warning(self) -> String {
    self.label("warning", "1;33")
  }

  /// The `help` label.
  pub fn help(self) -> String {
    self.label("help", "1;36")
  }
}

/// Prints `warning: <message>` to stderr.
pub(crate) fn warn(message: impl std::fmt::Display) {
  let _ = writeln!(
    std::io::stderr().lock(),
    "{}: {}",
    Style::stderr().warning(),
    escape_controls(&message.to_string())
  );
}

/// `text` safe to print on a terminal: every control character but tab and
/// newline (escape sequences, bell, NUL, carriage return) written as
/// `\u{..}`, so input can never move the cursor, retitle the window or
/// hide text.
pub(crate) fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
  let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
  if !text.chars().any(unsafe_char) {
    return std::borrow::Cow::Borrowed(text);
  }
  let mut out = String::with_capacity(text.len() + 8);
  for c in text.chars() {
    if unsafe_char(c) {
      out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
    } else {
      out.push(c);
    }
  }
  std::borrow::Cow::Owned(out)
}

/// Writes text to stderr as it is (rendered diagnostics, error reports).
pub(crate) fn eprint_raw(text: &str) {
  let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
