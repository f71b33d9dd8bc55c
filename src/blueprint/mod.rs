//! Loading a blueprint: bytes → YAML → typed model → semantic checks, with
//! every problem located by field path and line:column.

pub(crate) mod index;
pub(crate) mod instances;
pub(crate) mod migrate;
pub mod model;
pub(crate) mod network;
pub mod previews;
pub mod quota;
pub(crate) mod regions;
pub mod resolved;
pub(crate) mod validate;

use crate::diagnostic::{Diagnostic, Pos, suggest};
pub use model::Platform;
pub use resolved::Resolved;

/// Blueprints are small; anything past this is not one. 2 MiB holds about
/// 14,000 services written as `scripts/gen-blueprint` writes them (about 145
/// bytes each), so a platform of 10,000 services fits with room for longer
/// entries; there is no separate limit on services or environments.
pub const MAX_BYTES: usize = 2 * 1024 * 1024;

/// What the size limit means in services, for the message that reports it.
const LIMIT_HINT: &str = "2 MiB holds about 14,000 services of a few lines each; there is no separate limit on services or environments";

/// A blueprint that parsed and validated, with the warnings it raised.
#[derive(Debug)]
pub struct Loaded {
  pub platform: Platform,
  /// Defaults applied and derived facts decided: what rendering reads.
  pub resolved: Resolved,
  pub warnings: Vec<Diagnostic>,
}

/// The problem of a blueprint of `size` bytes, past [`MAX_BYTES`].
pub fn too_large(size: u64) -> Diagnostic {
  Diagnostic::error(
    "",
    format!("the blueprint is {size} bytes; the limit is {MAX_BYTES}"),
  )
  .with_hint(LIMIT_HINT)
}

/// The problem of a blueprint read from a pipe or a device that gave more
/// than [`MAX_BYTES`] (reading stops there).
pub fn too_large_stream() -> Diagnostic {
  Diagnostic::error(
    "",
    format!("the blueprint is larger than the limit of {MAX_BYTES} bytes; reading stopped there"),
  )
  .with_hint("a blueprint is a YAML file; check that the right file was given")
}

/// Parses and validates a blueprint. On failure returns every problem found,
/// sorted by position, warnings included.
pub fn load(bytes: &[u8]) -> Result<Loaded, Vec<Diagnostic>> {
  if bytes.len() > MAX_BYTES {
    return Err(vec![too_large(bytes.len() as u64)]);
  }
  let text = match std::str::from_utf8(bytes) {
    Ok(text) => text,
    Err(error) => {
      let valid = &bytes[..error.valid_up_to()];
      let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
      let col = valid.iter().rev().take_while(|b| **b != b'\n').count() + 1;
      return Err(vec![
        Diagnostic::error("", "the blueprint is not UTF-8 text")
          .at(Some(Pos { line, col }))
          .with_hint("a blueprint is a YAML file; check that the right file was given"),
      ]);
    }
  };
  if text.trim().is_empty() {
    return Err(vec![
      Diagnostic::error("", "the blueprint is empty")
        .at(Some(Pos { line: 1, col: 1 }))
        .with_hint("start from a built-in blueprint: `oi-gen init --from openinnovation`"),
    ]);
  }

  let (index, mut problems) = index::build(text);
  if !problems.is_empty() {
    return Err(problems);
  }

  let deserializer = yaml_serde::Deserializer::from_str(text);
  let platform: Platform = match serde_path_to_error::deserialize(deserializer) {
    Ok(platform) => platform,
    Err(error) => return Err(vec![type_error(&error, &index, text)]),
  };

  for mut diagnostic in validate::validate(&platform) {
    if diagnostic.pos.is_none() {
      diagnostic.pos = index.value(&diagnostic.path);
    }
    problems.push(diagnostic);
  }
  problems.sort_by_key(|d| d.pos);
  if problems.iter().any(Diagnostic::is_error) {
    Err(problems)
  } else {
    Ok(Loaded {
      resolved: Resolved::new(&platform),
      platform,
      warnings: problems,
    })
  }
}

/// Turns a serde error into a located diagnostic with a "did you mean" hint.
fn type_error(
  error: &serde_path_to_error::Error<yaml_serde::Error>,
  index: &index::PositionIndex,
  text: &str,
) -> Diagnostic {
  let mut path = error.path().to_string();
  if path == "." {
    path.clear();
  }
  let inner = error.inner();
  let mut message = inner.to_string();
  // yaml_serde appends its own location; we print ours.
  if let Some(cut) = message.find(" at line ") {
    message.truncate(cut);
  }
  // A reader error (such as a control character) names a byte offset, and
  // its mark points elsewhere: locate the offset itself.
  let mut at_offset = None;
  if let Some(cut) = message.find(" at position ")
    && let Ok(offset) = message[cut + " at position ".len()..]
      .trim()
      .parse::<usize>()
  {
    at_offset = pos_of_offset(text, offset);
    message.truncate(cut);
  }
  // ... and its own path prefix; we print ours.
  if let Some((prefix, rest)) = message.split_once(": ")
    && !prefix.contains(' ')
    && (prefix == path || prefix.contains('.') || prefix.contains('['))
  {
    message = rest.to_string();
  }

  if let Some((field, expected)) = unknown_field(&message) {
    let field_path = if path.is_empty() {
      field.clone()
    } else if path == field || path.ends_with(&format!(".{field}")) {
      path.clone()
    } else {
      format!("{path}.{field}")
    };
    let mut diagnostic = Diagnostic::error(&field_path, format!("unknown field `{field}`"));
    diagnostic.pos = index.key(&field_path);
    let candidates: Vec<&str> = expected.iter().map(String::as_str).collect();
    diagnostic.hint = Some(match suggest(&field, candidates.iter().copied()) {
      Some(best) => format!("did you mean `{best}`?"),
      None => format!("expected one of {}", quoted(&expected)),
    });
    return diagnostic;
  }

  let pos = at_offset.or_else(|| index.value(&path)).or_else(|| {
    inner.location().map(|location| Pos {
      line: location.line(),
      col: location.column(),
    })
  });
  let mut diagnostic = Diagnostic::error(path, message.clone()).at(pos);
  if message.starts_with("missing field") {
    diagnostic.hint =
      Some("add the field; see `oi-gen init --from openinnovation` for an example".into());
  } else if let Some(variants) = message.strip_prefix("unknown variant ") {
    diagnostic.hint = variant_hint(variants);
  }
  diagnostic
}

/// The line and column (in characters, from 1) of byte `offset` of `text`.
fn pos_of_offset(text: &str, offset: usize) -> Option<Pos> {
  let before = text.get(..offset)?;
  let line_start = before.rfind('\n').map_or(0, |at| at + 1);
  Some(Pos {
    line: before.matches('\n').count() + 1,
    col: before[line_start..].chars().count() + 1,
  })
}

/// Parses serde's "unknown field `x`, expected one of `a`, `b`" message.
fn unknown_field(message: &str) -> Option<(String, Vec<String>)> {
  let rest = message.strip_prefix("unknown field `")?;
  let (field, rest) = rest.split_once('`')?;
  let expected = rest
    .split('`')
    .skip(1)
    .step_by(2)
    .map(str::to_string)
    .collect();
  Some((field.to_string(), expected))
}

fn variant_hint(message: &str) -> Option<String> {
  let mut parts = message.split('`').skip(1).step_by(2);
  let given = parts.next()?;
  let expected: Vec<String> = parts.map(str::to_string).collect();
  match suggest(given, expected.iter().map(String::as_str)) {
    Some(best) => Some(format!("did you mean `{best}`?")),
    None => Some(format!("expected one of {}", quoted(&expected))),
  }
}

fn quoted(words: &[String]) -> String {
  words
    .iter()
    .map(|w| format!("`{w}`"))
    .collect::<Vec<_>>()
    .join(", ")
}
