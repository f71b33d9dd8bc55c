//! A `field path → line:column` index of a YAML document, built from a parser
//! that keeps positions, so that every problem found after deserializing can
//! still point at the line it comes from. It also catches what serde cannot
//! locate: syntax errors, duplicate keys and several documents in one file.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use crate::diagnostic::{Diagnostic, Pos};

/// Where a node starts, and for mapping values where their key starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Located {
  pub key: Option<Pos>,
  pub value: Pos,
  /// Character offsets of the key and the value in the source.
  pub key_char: Option<usize>,
  pub value_char: usize,
}

#[derive(Debug, Default)]
pub(crate) struct PositionIndex {
  entries: HashMap<String, Located>,
}

impl PositionIndex {
  /// Position of the value at `path`, or of its closest located ancestor.
  pub(crate) fn value(&self, path: &str) -> Option<Pos> {
    self.lookup(path).map(|entry| entry.value)
  }

  /// Position of the key at `path` (the value for sequence items).
  pub(crate) fn key(&self, path: &str) -> Option<Pos> {
    self
      .lookup(path)
      .map(|entry| entry.key.unwrap_or(entry.value))
  }

  /// The exact entry at `path`, without falling back to an ancestor.
  pub(crate) fn entry(&self, path: &str) -> Option<Located> {
    self.entries.get(path).copied()
  }

  fn lookup(&self, path: &str) -> Option<Located> {
    let mut path = path;
    loop {
      if let Some(entry) = self.entries.get(path) {
        return Some(*entry);
      }
      path = parent(path)?;
    }
  }
}

fn parent(path: &str) -> Option<&str> {
  if path.is_empty() {
    return None;
  }
  let cut = path.rfind(['.', '[']).unwrap_or(0);
  Some(&path[..cut])
}

enum Frame {
  Map {
    path: String,
    pending_key: Option<(String, Pos, usize)>,
    seen: HashMap<String, Pos>,
  },
  Seq {
    path: String,
    next: usize,
  },
}

struct Builder {
  index: PositionIndex,
  stack: Vec<Frame>,
  documents: usize,
  problems: Vec<Diagnostic>,
  /// The bytes added by expanding aliases, so far.
  aliased: usize,
  /// The size of the document with every alias expanded, so far: the bytes
  /// of its scalars and one per node.
  expanded: usize,
  /// The expanded size of each anchored node, by anchor id.
  anchored: HashMap<usize, usize>,
  /// The anchored collections still open: anchor id, `expanded` at their
  /// start, and their depth.
  open_anchors: Vec<(usize, usize, usize)>,
  /// Aliases expanded past [`MAX_EXPANDED_ALIASES`]: the rest is not looked at.
  amplified: bool,
}

/// The most the aliases of a blueprint may add to it once expanded, in bytes.
/// Anchors that share a block between services stay far below; one big value
/// referenced thousands of times (which would take gigabytes to deserialize)
/// does not.
pub(crate) const MAX_EXPANDED_ALIASES: usize = crate::blueprint::MAX_BYTES;

fn pos(mark: Marker) -> Pos {
  Pos {
    line: mark.line(),
    col: mark.col() + 1,
  }
}

fn join(parent: &str, key: &str) -> String {
  if parent.is_empty() {
    key.to_string()
  } else {
    format!("{parent}.{key}")
  }
}

impl Builder {
  /// Path of the node that starts now, and its key position.
  fn next_node(&mut self) -> Option<(String, Option<(Pos, usize)>)> {
    match self.stack.last_mut() {
      None => Some((String::new(), None)),
      Some(Frame::Seq { path, next }) => {
        let child = format!("{path}[{next}]");
        *next += 1;
        Some((child, None))
      }
      Some(Frame::Map {
        path, pending_key, ..
      }) => pending_key
        .take()
        .map(|(key, key_pos, key_char)| (join(path, &key), Some((key_pos, key_char)))),
    }
  }

  fn node(&mut self, mark: Marker) -> Option<String> {
    let (path, key) = self.next_node()?;
    self.index.entries.entry(path.clone()).or_insert(Located {
      key: key.map(|(pos, _)| pos),
      value: pos(mark),
      key_char: key.map(|(_, index)| index),
      value_char: mark.index(),
    });
    Some(path)
  }

  /// A scalar or collection in key position: record it as the pending key.
  fn key(&mut self, key: String, mark: Marker) {
    if let Some(Frame::Map {
      path,
      pending_key,
      seen,
    }) = self.stack.last_mut()
    {
      let at = pos(mark);
      // Block mappings report their start late; their first key is where they start.
      if let Some(entry) = self.index.entries.get_mut(path.as_str())
        && at < entry.value
      {
        entry.value = at;
        entry.value_char = mark.index();
      }
      if let Some(first) = seen.get(&key) {
        self.problems.push(
          Diagnostic::error(
            join(path, &key),
            format!(
              "duplicate key `{key}` (first defined at line {})",
              first.line
            ),
          )
          .at(Some(at)),
        );
      } else {
        seen.insert(key.clone(), at);
      }
      *pending_key = Some((key, at, mark.index()));
    }
  }

  /// Counts `size` bytes of an alias expanded at `mark`; reports the alias
  /// that takes the expansion past the limit.
  fn expand_alias(&mut self, size: usize, mark: Marker) {
    self.expanded = self.expanded.saturating_add(size);
    self.aliased = self.aliased.saturating_add(size);
    if self.aliased > MAX_EXPANDED_ALIASES && !self.amplified {
      self.amplified = true;
      let path = self.next_path().unwrap_or_default();
      self.problems.push(
        Diagnostic::error(
          path,
          format!(
            "aliases expand the blueprint by more than {MAX_EXPANDED_ALIASES} bytes (this one to {size} bytes)"
          ),
        )
        .at(Some(pos(mark)))
        .with_hint("write the repeated values out, or anchor smaller ones"),
      );
    }
  }

  /// The path the next node would get, without taking it.
  fn next_path(&self) -> Option<String> {
    match self.stack.last() {
      None => Some(String::new()),
      Some(Frame::Seq { path, next }) => Some(format!("{path}[{next}]")),
      Some(Frame::Map {
        path, pending_key, ..
      }) => Some(match pending_key {
        Some((key, ..)) => join(path, key),
        None => path.clone(),
      }),
    }
  }

  fn expecting_key(&self) -> bool {
    matches!(
      self.stack.last(),
      Some(Frame::Map {
        pending_key: None,
        ..
      })
    )
  }
}

impl MarkedEventReceiver for Builder {
  fn on_event(&mut self, event: Event, mark: Marker) {
    match event {
      Event::DocumentStart => {
        self.documents += 1;
        if self.documents == 2 {
          self.problems.push(
            Diagnostic::error(
              "",
              "a blueprint holds one YAML document, found a second one",
            )
            .at(Some(pos(mark))),
          );
        }
      }
      _ if self.documents > 1 || self.amplified => {}
      Event::Scalar(value, _, anchor, _) => {
        let size = value.len().max(1);
        self.expanded = self.expanded.saturating_add(size);
        if anchor > 0 {
          self.anchored.insert(anchor, size);
        }
        if self.expecting_key() {
          self.key(value, mark);
        } else {
          self.node(mark);
        }
      }
      Event::Alias(anchor) => {
        let size = self.anchored.get(&anchor).copied().unwrap_or(1);
        self.expand_alias(size, mark);
        if self.expecting_key() {
          self.key("*alias".to_string(), mark);
        } else {
          self.node(mark);
        }
      }
      Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
        let is_map = matches!(event, Event::MappingStart(..));
        self.expanded = self.expanded.saturating_add(1);
        if anchor > 0 {
          self
            .open_anchors
            .push((anchor, self.expanded - 1, self.stack.len()));
        }
        let path = if self.expecting_key() {
          // A complex key: index its insides under a placeholder.
          self.key("?complex".to_string(), mark);
          "?complex".to_string()
        } else {
          self.node(mark).unwrap_or_default()
        };
        self.stack.push(if is_map {
          Frame::Map {
            path,
            pending_key: None,
            seen: HashMap::new(),
          }
        } else {
          Frame::Seq { path, next: 0 }
        });
      }
      Event::MappingEnd | Event::SequenceEnd => {
        self.stack.pop();
        if let Some(&(anchor, start, depth)) = self.open_anchors.last()
          && depth == self.stack.len()
        {
          self.open_anchors.pop();
          self.anchored.insert(anchor, self.expanded - start);
        }
      }
      _ => {}
    }
  }
}

/// Builds the index; syntax errors and duplicate keys come back as diagnostics.
pub(crate) fn build(source: &str) -> (PositionIndex, Vec<Diagnostic>) {
  let mut builder = Builder {
    index: PositionIndex::default(),
    stack: Vec::new(),
    documents: 0,
    problems: Vec::new(),
    aliased: 0,
    expanded: 0,
    anchored: HashMap::new(),
    open_anchors: Vec::new(),
    amplified: false,
  };
  let mut parser = Parser::new_from_str(source);
  if let Err(error) = parser.load(&mut builder, true) {
    let mark = error.marker();
    builder
      .problems
      .push(Diagnostic::error("", format!("invalid YAML: {}", error.info())).at(Some(pos(*mark))));
  }
  (builder.index, builder.problems)
}

#[cfg(test)]
mod tests {
  use super::*;

  const DOC: &str = "spec:\n  services:\n    - name: a\n      port: 80\n    - name: b\n";

  #[test]
  fn locates_nested_keys_and_values() {
    let (index, problems) = build(DOC);
    assert!(problems.is_empty());
    assert_eq!(
      index.value("spec.services[0].port"),
      Some(Pos { line: 4, col: 13 })
    );
    assert_eq!(
      index.key("spec.services[0].port"),
      Some(Pos { line: 4, col: 7 })
    );
    assert_eq!(
      index.value("spec.services[1]"),
      Some(Pos { line: 5, col: 7 })
    );
  }

  #[test]
  fn falls_back_to_the_closest_ancestor() {
    let (index, _) = build(DOC);
    assert_eq!(
      index.value("spec.services[1].port"),
      Some(Pos { line: 5, col: 7 })
    );
  }

  #[test]
  fn reports_duplicate_keys() {
    let (_, problems) = build("a: 1\nb: 2\na: 3\n");
    assert_eq!(problems.len(), 1);
    assert_eq!(
      problems[0].message,
      "duplicate key `a` (first defined at line 1)"
    );
    assert_eq!(problems[0].pos, Some(Pos { line: 3, col: 1 }));
  }

  #[test]
  fn reports_syntax_errors_with_position() {
    let (_, problems) = build("a: [1, 2\n");
    assert_eq!(problems.len(), 1);
    assert!(problems[0].message.starts_with("invalid YAML: "));
    assert!(problems[0].pos.is_some());
  }

  #[test]
  fn counts_aliases_as_they_expand() {
    // Nested anchors: each alias of `b` expands to both `a`s.
    let big = "x".repeat(400_000);
    let (_, problems) = build(&format!("a: &a {big}\nb: &b [*a, *a]\nc: [*b]\n"));
    assert!(problems.is_empty(), "{problems:?}");
    let (_, problems) = build(&format!("a: &a {big}\nb: &b [*a, *a]\nc: [*b, *b]\n"));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].path, "c[1]");
    assert_eq!(problems[0].pos, Some(Pos { line: 3, col: 9 }));
  }
}
