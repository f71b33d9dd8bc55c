//! YAML with line numbers: a small tree built from yaml-rust2's marked
//! events, several documents per file, and chart templates read as YAML once
//! their `{{ … }}` actions are blanked.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A node and the line (1-based) it starts on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
  pub line: usize,
  pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
  Map(Vec<Entry>),
  Seq(Vec<Node>),
  /// A scalar's text; `plain` when it was not quoted.
  Scalar {
    text: String,
    plain: bool,
  },
}

/// One key of a mapping, with the line of the key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
  pub key: String,
  pub line: usize,
  pub value: Node,
}

const EMPTY_ENTRIES: &[Entry] = &[];
const EMPTY_NODES: &[Node] = &[];

impl Node {
  /// The value of `key`, when this is a mapping that has it.
  pub(crate) fn get(&self, key: &str) -> Option<&Node> {
    self.entry(key).map(|entry| &entry.value)
  }

  /// The entry of `key`, when this is a mapping that has it.
  pub(crate) fn entry(&self, key: &str) -> Option<&Entry> {
    self.entries().iter().find(|entry| entry.key == key)
  }

  /// The node at a path of keys.
  pub(crate) fn at(&self, path: &[&str]) -> Option<&Node> {
    path.iter().try_fold(self, |node, key| node.get(key))
  }

  /// The text of a scalar that is not null.
  pub(crate) fn str(&self) -> Option<&str> {
    match &self.kind {
      Kind::Scalar { text, plain } if !(*plain && is_null(text)) => Some(text),
      _ => None,
    }
  }

  /// The text of the scalar at `path`.
  pub(crate) fn str_at(&self, path: &[&str]) -> Option<&str> {
    self.at(path).and_then(Node::str)
  }

  pub(crate) fn entries(&self) -> &[Entry] {
    match &self.kind {
      Kind::Map(entries) => entries,
      _ => EMPTY_ENTRIES,
    }
  }

  pub(crate) fn items(&self) -> &[Node] {
    match &self.kind {
      Kind::Seq(items) => items,
      _ => EMPTY_NODES,
    }
  }

  pub(crate) fn is_map(&self) -> bool {
    matches!(self.kind, Kind::Map(_))
  }

  /// A null scalar (`~`, `null`, nothing).
  pub(crate) fn is_null(&self) -> bool {
    matches!(&self.kind, Kind::Scalar { text, plain: true } if is_null(text))
  }

  /// Every node of the tree, this one first.
  pub(crate) fn walk(&self) -> Vec<&Node> {
    let mut out = vec![self];
    let mut i = 0;
    while i < out.len() {
      let node = out[i];
      match &node.kind {
        Kind::Map(entries) => out.extend(entries.iter().map(|entry| &entry.value)),
        Kind::Seq(items) => out.extend(items.iter()),
        Kind::Scalar { .. } => {}
      }
      i += 1;
    }
    out
  }
}

fn is_null(text: &str) -> bool {
  matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// A document that does not parse: the line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
  pub line: usize,
  pub message: String,
}

enum Open {
  Map(usize, Vec<Entry>, Option<(String, usize)>),
  Seq(usize, Vec<Node>),
}

#[derive(Default)]
struct Builder {
  stack: Vec<Open>,
  documents: Vec<Node>,
}

impl Builder {
  /// Places a finished node in its parent, or closes a document.
  fn push(&mut self, node: Node) {
    match self.stack.last_mut() {
      None => self.documents.push(node),
      Some(Open::Seq(_, items)) => items.push(node),
      Some(Open::Map(_, entries, pending)) => match pending.take() {
        Some((key, line)) => entries.push(Entry {
          key,
          line,
          value: node,
        }),
        None => {
          // A key: scalars keep their text; a complex key is named by its kind.
          let key = match node.kind {
            Kind::Scalar { text, .. } => text,
            _ => "?complex".to_string(),
          };
          *pending = Some((key, node.line));
        }
      },
    }
  }
}

impl MarkedEventReceiver for Builder {
  fn on_event(&mut self, event: Event, mark: Marker) {
    let line = mark.line();
    match event {
      Event::Scalar(text, style, ..) => self.push(Node {
        line,
        kind: Kind::Scalar {
          text,
          plain: style == TScalarStyle::Plain,
        },
      }),
      Event::Alias(_) => self.push(Node {
        line,
        kind: Kind::Scalar {
          text: "*alias".to_string(),
          plain: false,
        },
      }),
      Event::MappingStart(..) => self.stack.push(Open::Map(line, Vec::new(), None)),
      Event::SequenceStart(..) => self.stack.push(Open::Seq(line, Vec::new())),
      Event::MappingEnd | Event::SequenceEnd => {
        let node = match self.stack.pop() {
          Some(Open::Map(line, entries, _)) => Node {
            // A block mapping starts where its first key does.
            line: entries.first().map_or(line, |entry| entry.line.min(line)),
            kind: Kind::Map(entries),
          },
          Some(Open::Seq(line, items)) => Node {
            line,
            kind: Kind::Seq(items),
          },
          None => return,
        };
        self.push(node);
      }
      _ => {}
    }
  }
}

/// Every document of `text`; empty documents (a lone `---`, comments only)
/// come back as null scalars and are left out.
pub(crate) fn parse(text: &str) -> Result<Vec<Node>, SyntaxError> {
  let mut builder = Builder::default();
  let mut parser = Parser::new_from_str(text);
  parser
    .load(&mut builder, true)
    .map_err(|error| SyntaxError {
      line: error.marker().line(),
      message: error.info().to_string(),
    })?;
  Ok(
    builder
      .documents
      .into_iter()
      .filter(|doc| !doc.is_null())
      .collect(),
  )
}

/// A chart template with its actions blanked: an action alone on its lines
/// (with the spaces around it) becomes nothing, one inside a line becomes the
/// placeholder `__tpl<n>__`; line numbers stay those of the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Blanked {
  pub text: String,
  /// The source of each action (without its `{{ }}`), by placeholder number.
  pub actions: Vec<String>,
}

impl Blanked {
  /// The number of the action a placeholder scalar stands for.
  pub(crate) fn number(&self, scalar: &str) -> Option<usize> {
    let n: usize = scalar
      .strip_prefix("__tpl")?
      .strip_suffix("__")?
      .parse()
      .ok()?;
    (n < self.actions.len()).then_some(n)
  }

  /// The action a placeholder scalar stands for.
  pub(crate) fn action(&self, scalar: &str) -> Option<&str> {
    let n = scalar.strip_prefix("__tpl")?.strip_suffix("__")?;
    self
      .actions
      .get(n.parse::<usize>().ok()?)
      .map(String::as_str)
  }
}

/// The actions of a template: byte ranges of each `{{ … }}`, comments and
/// quoted strings inside them included.
pub(crate) fn actions(text: &str) -> Vec<(usize, usize)> {
  let bytes = text.as_bytes();
  let mut found = Vec::new();
  let mut i = 0;
  while let Some(start) = text[i..].find("{{").map(|at| at + i) {
    let mut j = start + 2;
    let inner = text[j..].trim_start_matches(['-', ' ', '\t', '\n']);
    if inner.starts_with("/*") {
      j = text[j..].find("*/").map_or(text.len(), |at| j + at + 2);
    }
    let mut end = text.len();
    while j < bytes.len() {
      match bytes[j] {
        quote @ (b'"' | b'`' | b'\'') => {
          j += 1;
          while j < bytes.len() && bytes[j] != quote {
            if quote == b'"' && bytes[j] == b'\\' {
              j += 1;
            }
            j += 1;
          }
          j += 1;
        }
        b'}' if bytes.get(j + 1) == Some(&b'}') => {
          end = j + 2;
          break;
        }
        _ => j += 1,
      }
    }
    found.push((start, end));
    i = end;
  }
  found
}

/// Blanks the actions of a chart template (see [`Blanked`]).
pub(crate) fn blank(text: &str) -> Blanked {
  let bytes = text.as_bytes();
  let spans = actions(text);
  let mut in_action = vec![false; bytes.len()];
  let mut starts = vec![None; bytes.len()];
  for (n, &(start, end)) in spans.iter().enumerate() {
    in_action[start..end].iter_mut().for_each(|b| *b = true);
    starts[start] = Some(n);
  }
  let mut out = Vec::with_capacity(bytes.len());
  let mut line_start = 0;
  while line_start < bytes.len() {
    let line_end = text[line_start..]
      .find('\n')
      .map_or(bytes.len(), |at| line_start + at);
    let only_actions = (line_start..line_end)
      .all(|b| in_action[b] || bytes[b].is_ascii_whitespace())
      && (line_start..line_end).any(|b| in_action[b]);
    if !only_actions {
      let mut b = line_start;
      while b < line_end {
        if let Some(n) = starts[b] {
          out.extend_from_slice(format!("__tpl{n}__").as_bytes());
          b = spans[n].1.min(line_end);
        } else {
          if !in_action[b] {
            out.push(bytes[b]);
          }
          b += 1;
        }
      }
    }
    if line_end < bytes.len() {
      out.push(b'\n');
    }
    line_start = line_end + 1;
  }
  Blanked {
    // Actions start and end on ASCII braces, so what is left is UTF-8.
    text: String::from_utf8(out).unwrap_or_default(),
    actions: spans
      .iter()
      .map(|&(start, end)| text[start..end].to_string())
      .collect(),
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn locates_keys_and_documents() {
    let docs = parse("a:\n  b: 1\n  c: [x, y]\n---\n- k: ''\n").unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0].line, 1);
    assert_eq!(docs[0].at(&["a", "b"]).unwrap().line, 2);
    assert_eq!(
      docs[0].entry("a").unwrap().value.entry("c").unwrap().line,
      3
    );
    assert_eq!(docs[1].items()[0].get("k").unwrap().line, 5);
    assert_eq!(docs[1].items()[0].str_at(&["k"]), Some(""));
    assert!(parse("a: [1\n").unwrap_err().line >= 1);
  }

  #[test]
  fn blanks_actions_and_keeps_lines() {
    let template = "{{- if .Values.a }}\nkind: X\nmetadata:\n  labels:\n    {{- include \"l\" . | nindent 4 }}\n  name: {{ .Values.name | quote }}\nport: {{ `{{ .x }}` }}\n{{/* a\ncomment */}}\nend: 1\n{{- end }}\n";
    let blanked = blank(template);
    let docs = parse(&blanked.text).unwrap();
    assert_eq!(docs.len(), 1, "{}", blanked.text);
    let doc = &docs[0];
    assert_eq!(doc.str_at(&["kind"]), Some("X"));
    assert_eq!(doc.at(&["metadata", "name"]).unwrap().line, 6);
    assert_eq!(
      blanked.action(doc.str_at(&["metadata", "name"]).unwrap()),
      Some("{{ .Values.name | quote }}")
    );
    assert_eq!(
      blanked.action(doc.str_at(&["port"]).unwrap()),
      Some("{{ `{{ .x }}` }}")
    );
    assert_eq!(doc.get("end").unwrap().line, 10);
  }
}
