//! `.oi-gen/base.txt`: the exact text of every managed file as the last render
//! produced it, so `upgrade` can three-way merge hand edits without git
//! history. One file, length-prefixed entries, readable in a diff.
//!
//! A path may have more than one text: a render that changes a file keeps
//! the text it replaces next to the new one, so a run killed between writing
//! the base and the lock leaves a base that still holds what the old lock
//! records. Readers pick the text whose digest the lock records.

use std::collections::BTreeMap;

pub(crate) const BASE_PATH: &str = ".oi-gen/base.txt";
const HEADER: &str =
  "# Written by oi-gen: the last render of every managed file, for merges. Do not edit.\n";

/// The texts of each path, in the order written.
pub(crate) type Base = BTreeMap<String, Vec<String>>;

/// Serializes `path → texts` as `=== <bytes> <path>` lines, each followed
/// by the bytes.
pub(crate) fn encode(files: &Base) -> String {
  let size: usize = files
    .iter()
    .flat_map(|(path, texts)| texts.iter().map(move |text| path.len() + text.len() + 24))
    .sum();
  let mut out = String::with_capacity(HEADER.len() + size);
  out.push_str(HEADER);
  for (path, texts) in files {
    for contents in texts {
      out.push_str(&format!("=== {} {path}\n", contents.len()));
      out.push_str(contents);
      out.push('\n');
    }
  }
  out
}

/// Parses what `encode` wrote; `None` when the text is damaged.
pub(crate) fn decode(text: &str) -> Option<Base> {
  let mut rest = text.strip_prefix(HEADER)?;
  let mut files = Base::new();
  while !rest.is_empty() {
    let (line, after) = rest.split_once('\n')?;
    let (len, path) = line.strip_prefix("=== ")?.split_once(' ')?;
    let len: usize = len.parse().ok()?;
    let contents = after.get(..len)?;
    rest = after.get(len..)?.strip_prefix('\n')?;
    files
      .entry(path.to_string())
      .or_default()
      .push(contents.to_string());
  }
  Some(files)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn round_trips_any_text() {
    let mut files = Base::new();
    files.insert(
      "a/b.tf".to_string(),
      vec!["x\n=== 3 fake\n".to_string(), "y".to_string()],
    );
    files.insert("c".to_string(), vec![String::new()]);
    files.insert("d".to_string(), vec!["no newline".to_string()]);
    assert_eq!(decode(&encode(&files)), Some(files));
  }

  #[test]
  fn rejects_damage() {
    assert_eq!(decode("nonsense"), None);
    let mut files = Base::new();
    files.insert("a".to_string(), vec!["abc".to_string()]);
    let text = encode(&files);
    assert_eq!(decode(&text[..text.len() - 2]), None);
  }
}
