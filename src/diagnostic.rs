//! Located problems in a blueprint, printed like a compiler would:
//! path, `file:line:column`, the source line and a caret.

use std::fmt::{self, Write as _};

use crate::ui::{Style, escape_controls};

/// A 1-based line and column in the blueprint source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
  pub line: usize,
  pub col: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
  Error,
  Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
  pub severity: Severity,
  /// Field path such as `spec.services[1].port`; empty for the whole document.
  pub path: String,
  pub message: String,
  pub hint: Option<String>,
  pub pos: Option<Pos>,
}

impl Diagnostic {
  pub fn error(path: impl Into<String>, message: impl Into<String>) -> Self {
    Self {
      severity: Severity::Error,
      path: path.into(),
      message: message.into(),
      hint: None,
      pos: None,
    }
  }

  pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Self {
    Self {
      severity: Severity::Warning,
      ..Self::error(path, message)
    }
  }

  #[must_use]
  pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
    self.hint = Some(hint.into());
    self
  }

  #[must_use]
  pub fn at(mut self, pos: Option<Pos>) -> Self {
    self.pos = pos;
    self
  }

  pub fn is_error(&self) -> bool {
    self.severity == Severity::Error
  }

  /// Renders the diagnostic with the offending source line, without colour.
  pub fn render(&self, file: &str, source: &str) -> String {
    self.render_styled(file, source, Style::PLAIN)
  }

  /// Renders the diagnostic with the offending source line, its labels in
  /// `style`.
  pub fn render_styled(&self, file: &str, source: &str, style: Style) -> String {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = String::new();
    self.render_into(file, &lines, style, &mut out);
    out
  }

  /// Appends the diagnostic to `out`, given the source already cut into
  /// lines (once for all the diagnostics of a blueprint).
  fn render_into(&self, file: &str, lines: &[&str], style: Style, out: &mut String) {
    let label = match self.severity {
      Severity::Error => style.error(),
      Severity::Warning => style.warning(),
    };
    let message = escape_controls(&self.message);
    if self.path.is_empty() {
      let _ = writeln!(out, "{label}: {message}");
    } else {
      let _ = writeln!(out, "{label}: {}: {message}", escape_controls(&self.path));
    }
    match self.pos {
      Some(pos) => {
        let _ = writeln!(
          out,
          "  --> {}:{}:{}",
          escape_controls(file),
          pos.line,
          pos.col
        );
        if let Some(text) = pos.line.checked_sub(1).and_then(|at| lines.get(at)) {
          let text: String = text.chars().take(200).collect();
          let number = pos.line.to_string();
          let pad = " ".repeat(number.len());
          // The caret sits under the column's character as printed, after
          // the escapes of the characters before it.
          let before: String = text.chars().take(pos.col.saturating_sub(1)).collect();
          let caret_pad: String = escape_controls(&before)
            .chars()
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
          let _ = writeln!(out, "{pad} |");
          let _ = writeln!(out, "{number} | {}", escape_controls(&text));
          let _ = writeln!(out, "{pad} | {caret_pad}^");
        }
      }
      None => {
        let _ = writeln!(out, "  --> {}", escape_controls(file));
      }
    }
    if let Some(hint) = &self.hint {
      let _ = writeln!(out, "  = {}: {}", style.help(), escape_controls(hint));
    }
  }
}

/// The most diagnostics printed for one blueprint; the rest are counted.
pub const MAX_SHOWN: usize = 50;

/// Renders the first [`MAX_SHOWN`] diagnostics, then how many more there
/// are; the source is cut into lines once, so the time is linear in the
/// size of the blueprint and the number of diagnostics.
pub fn render_all(diagnostics: &[Diagnostic], file: &str, source: &str, style: Style) -> String {
  let lines: Vec<&str> = source.lines().collect();
  let mut out = String::new();
  for diagnostic in diagnostics.iter().take(MAX_SHOWN) {
    diagnostic.render_into(file, &lines, style, &mut out);
  }
  let more = diagnostics.len().saturating_sub(MAX_SHOWN);
  if more > 0 {
    let _ = writeln!(
      out,
      "… and {more} more problem{}",
      if more == 1 { "" } else { "s" }
    );
  }
  out
}

impl fmt::Display for Diagnostic {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if self.path.is_empty() {
      write!(f, "{}", self.message)
    } else {
      write!(f, "{}: {}", self.path, self.message)
    }
  }
}

/// Closest candidate within a small edit distance, for "did you mean" hints.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
  candidates
    .into_iter()
    .map(|candidate| {
      (
        strsim::levenshtein(&word.to_lowercase(), &candidate.to_lowercase()),
        candidate,
      )
    })
    .filter(|(distance, candidate)| *distance <= 3.max(candidate.len() / 2) && *distance > 0)
    .min_by_key(|(distance, _)| *distance)
    .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn renders_source_line_and_caret() {
    let d = Diagnostic::error(
      "spec.services[0].port",
      "port must be between 1 and 65535, got `0`",
    )
    .at(Some(Pos { line: 2, col: 9 }));
    let text = d.render("platform.yaml", "spec:\n  port: 0\n");
    assert_eq!(
      text,
      "error: spec.services[0].port: port must be between 1 and 65535, got `0`\n  --> platform.yaml:2:9\n  |\n2 |   port: 0\n  |         ^\n"
    );
  }

  #[test]
  fn suggests_near_misses_only() {
    assert_eq!(suggest("replica", ["replicas", "port"]), Some("replicas"));
    assert_eq!(suggest("zzzzzzzz", ["replicas", "port"]), None);
  }
}
