//! `.oi-gen/base.txt`: the exact text of every managed file as the last render
//! produced it, so `upgrade` can three-way merge hand edits without git
//! history. One file, length-prefixed entries, readable in a diff.

use std::collections::BTreeMap;

pub(crate) const BASE_PATH: &str = ".oi-gen/base.txt";
const HEADER: &str =
  "# Written by oi-gen: the last render of every managed file, for merges. Do not edit.\n";

/// Serializes `path → contents` as `=== <bytes> <path>` lines followed by the bytes.
pub(crate) fn encode(files: &BTreeMap<String, String>) -> String {
  let size: usize = files.iter().map(|(p, c)| p.len() + c.len() + 24).sum();
  let mut out = String::with_capacity(HEADER.len() + size);
  out.push_str(HEADER);
  for (path, contents) in files {
    out.push_str(&format!("=== {} {path}\n", contents.len()));
    out.push_str(contents);
    out.push('\n');
  }
  out
}

/// Parses what `encode` wrote; `None` when the text is damaged.
pub(crate) fn decode(text: &str) -> Option<BTreeMap<String, String>> {
  let mut rest = text.strip_prefix(HEADER)?;
  let mut files = BTreeMap::new();
  while !rest.is_empty() {
    let (line, after) = rest.split_once('\n')?;
    let (len, path) = line.strip_prefix("=== ")?.split_once(' ')?;
    let len: usize = len.parse().ok()?;
    let contents = after.get(..len)?;
    rest = after.get(len..)?.strip_prefix('\n')?;
    files.insert(path.to_string(), contents.to_string());
  }
  Some(files)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn round_trips_any_text() {
    let mut files = BTreeMap::new();
    files.insert("a/b.tf".to_string(), "x\n=== 3 fake\n".to_string());
    files.insert("c".to_string(), String::new());
    files.insert("d".to_string(), "no newline".to_string());
    assert_eq!(decode(&encode(&files)), Some(files));
  }

  #[test]
  fn rejects_damage() {
    assert_eq!(decode("nonsense"), None);
    let mut files = BTreeMap::new();
    files.insert("a".to_string(), "abc".to_string());
    let text = encode(&files);
    assert_eq!(decode(&text[..text.len() - 2]), None);
  }
}
