//! Terminal output: quiet and verbose levels, and colour only on a terminal
//! and never with `NO_COLOR`.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU8, Ordering};

static LEVEL: AtomicU8 = AtomicU8::new(1);

pub fn set_level(quiet: bool, verbose: bool) {
  let level = match (quiet, verbose) {
    (true, _) => 0,
    (_, true) => 2,
    _ => 1,
  };
  LEVEL.store(level, Ordering::Relaxed);
}

pub fn quiet() -> bool {
  LEVEL.load(Ordering::Relaxed) == 0
}

pub fn verbose() -> bool {
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

/// Colours the `error:`, `warning:` and `help:` labels of messages for stderr.
pub fn paint(text: &str) -> String {
  if !color_enabled() {
    return text.to_string();
  }
  let mut out = String::with_capacity(text.len() + 64);
  for line in text.split_inclusive('\n') {
    let painted = [
      ("error:", "\x1b[1;31merror\x1b[0m:"),
      ("warning:", "\x1b[1;33mwarning\x1b[0m:"),
      ("  = help:", "  = \x1b[1;36mhelp\x1b[0m:"),
    ]
    .iter()
    .find_map(|(label, colored)| {
      line
        .strip_prefix(label)
        .map(|rest| format!("{colored}{rest}"))
    });
    out.push_str(painted.as_deref().unwrap_or(line));
  }
  out
}
