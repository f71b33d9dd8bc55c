//! `.oi-gen/base.txt`: the exact text of every managed file as the last render
//! produced it, so `upgrade` can three-way merge hand edits without git
//! history. One file, length-prefixed entries, readable in a diff.
//!
//! A path may have more than one text: a render that changes a file keeps
//! the text it replaces next to the new one, so a run killed between writing
//! the base and the lock leaves a base that still holds what the old lock
//! records. Readers pick the text whose digest the lock records.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

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

/// The base as read from disk: its text, and where each path's texts are
/// in it. Reading indexes the entries without copying them, so a render
/// pays only for the texts it looks at.
#[derive(Debug, Default)]
pub(crate) struct Stored {
  text: String,
  entries: HashMap<String, Vec<Range<usize>>>,
}

impl Stored {
  /// Indexes what `encode` wrote; `None` when the text is damaged.
  pub(crate) fn new(text: String) -> Option<Stored> {
    let mut entries: HashMap<String, Vec<Range<usize>>> = HashMap::new();
    if !text.starts_with(HEADER) {
      return None;
    }
    let mut at = HEADER.len();
    while at < text.len() {
      let rest = &text[at..];
      let (line, _) = rest.split_once('\n')?;
      let (len, path) = line.strip_prefix("=== ")?.split_once(' ')?;
      let len: usize = len.parse().ok()?;
      let start = at + line.len() + 1;
      let end = start.checked_add(len)?;
      text.get(start..end)?;
      if text.as_bytes().get(end) != Some(&b'\n') {
        return None;
      }
      entries
        .entry(path.to_string())
        .or_default()
        .push(start..end);
      at = end + 1;
    }
    Some(Stored { text, entries })
  }

  /// The texts of `path`, in the order written.
  pub(crate) fn get(&self, path: &str) -> Option<impl Iterator<Item = &str> + Clone> {
    let ranges = self.entries.get(path)?;
    Some(ranges.iter().map(|range| &self.text[range.clone()]))
  }

  /// Whether the base holds `text` for `path`.
  pub(crate) fn holds(&self, path: &str, text: &str) -> bool {
    self
      .get(path)
      .is_some_and(|mut texts| texts.any(|stored| stored == text))
  }
}

/// Parses what `encode` wrote; `None` when the text is damaged.
#[cfg(test)]
pub(crate) fn decode(text: &str) -> Option<Base> {
  let stored = Stored::new(text.to_string())?;
  let mut files = Base::new();
  for path in stored.entries.keys() {
    let texts = stored.get(path)?.map(str::to_string).collect();
    files.insert(path.clone(), texts);
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
