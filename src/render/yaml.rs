//! Block YAML for the charts' plain data, written directly: the general
//! serializer (a port of libyaml's emitter) was a sixth of a 500-service
//! render. [`to_string`] gives exactly the text `yaml_serde::to_string` gives;
//! it writes only what it knows that serializer writes the same way (maps,
//! sequences, integers, booleans, and strings of a few safe shapes) and
//! leaves any other document to it. Debug builds (the test suite) render
//! every document both ways and compare them.

use std::fmt::Write as _;

use serde::Serialize;
use serde::ser::{self, Impossible};

/// The YAML of `value`, as `yaml_serde::to_string` writes it.
pub(crate) fn to_string(value: &impl Serialize) -> String {
  let fast = fast(value);
  if cfg!(debug_assertions) {
    let slow = yaml_serde::to_string(value).expect("plain data serializes");
    if let Some(fast) = &fast {
      assert_eq!(fast, &slow, "the direct YAML differs from the serializer's");
    }
    return slow;
  }
  fast.unwrap_or_else(|| yaml_serde::to_string(value).expect("plain data serializes"))
}

/// The YAML of `value`, or `None` when it holds something not written here.
fn fast(value: &impl Serialize) -> Option<String> {
  let node = value.serialize(Tree).ok()?;
  let Node::Map(entries) = node else {
    return None;
  };
  let mut out = String::with_capacity(1024);
  if entries.is_empty() {
    out.push_str("{}\n");
  } else {
    map_entries(&mut out, &entries, 0, false);
  }
  Some(out)
}

/// A value, its scalars already in their YAML form.
#[derive(Debug)]
enum Node {
  Scalar(String),
  Map(Vec<(String, Node)>),
  Seq(Vec<Node>),
}

fn indent(out: &mut String, level: usize) {
  for _ in 0..level {
    out.push_str("  ");
  }
}

/// The entries of a map at `level`, the first one's indentation already
/// written when `first_written`.
fn map_entries(out: &mut String, entries: &[(String, Node)], level: usize, first_written: bool) {
  for (at, (key, value)) in entries.iter().enumerate() {
    if at > 0 || !first_written {
      indent(out, level);
    }
    out.push_str(key);
    out.push(':');
    match value {
      Node::Scalar(text) => {
        out.push(' ');
        out.push_str(text);
        out.push('\n');
      }
      Node::Map(inner) if inner.is_empty() => out.push_str(" {}\n"),
      Node::Seq(items) if items.is_empty() => out.push_str(" []\n"),
      Node::Map(inner) => {
        out.push('\n');
        map_entries(out, inner, level + 1, false);
      }
      // A sequence in a map is not indented further.
      Node::Seq(items) => {
        out.push('\n');
        seq(out, items, level);
      }
    }
  }
}

fn seq(out: &mut String, items: &[Node], level: usize) {
  for item in items {
    indent(out, level);
    out.push('-');
    match item {
      Node::Scalar(text) => {
        out.push(' ');
        out.push_str(text);
        out.push('\n');
      }
      Node::Map(inner) if inner.is_empty() => out.push_str(" {}\n"),
      Node::Seq(inner) if inner.is_empty() => out.push_str(" []\n"),
      Node::Map(inner) => {
        out.push(' ');
        map_entries(out, inner, level + 1, true);
      }
      // Not written here: the serializer's layout of nested sequences.
      Node::Seq(_) => unreachable!("nested sequences are refused when built"),
    }
  }
}

/// A YAML 1.1 or 1.2 reading of `text` other than a string, as far as the
/// shapes written here go.
fn is_keyword(text: &str) -> bool {
  matches!(
    text.to_ascii_lowercase().as_str(),
    "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "~"
  )
}

/// Digits, then at most one of a few unit suffixes: a Kubernetes quantity
/// or a duration, never a number.
fn is_quantity(text: &str) -> bool {
  let digits = text.bytes().take_while(u8::is_ascii_digit).count();
  digits > 0
    && matches!(
      &text[digits..],
      "m" | "Ki" | "Mi" | "Gi" | "Ti" | "k" | "M" | "G" | "T" | "s" | "h"
    )
}

/// Dotted runs of digits, at least three (a version, an address), with an
/// optional `/digits` (a CIDR) or `-pre.release`: never a number.
fn is_dotted(text: &str) -> bool {
  let (body, suffix) = match text.split_once(['/', '-']) {
    Some((body, _)) => (body, &text[body.len()..]),
    None => (text, ""),
  };
  let parts: Vec<&str> = body.split('.').collect();
  let dotted = parts.len() >= 3
    && parts
      .iter()
      .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
  let suffix_ok = match suffix.as_bytes().first() {
    None => true,
    Some(b'/') => suffix.len() > 1 && suffix[1..].bytes().all(|b| b.is_ascii_digit()),
    Some(_) => {
      suffix.len() > 1
        && suffix[1..]
          .bytes()
          .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    }
  };
  dotted && suffix_ok
}

/// Characters of a plain scalar written here (after its first).
fn is_plain_char(byte: u8) -> bool {
  byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'/' | b'-' | b'@' | b'+' | b'=')
}

/// The YAML of a string, or `None` when it is not of a shape written here.
fn string(text: &str) -> Option<String> {
  let bytes = text.as_bytes();
  let Some(&first) = bytes.first() else {
    return Some("''".to_string());
  };
  // Spaces only between other characters, and never before `#`; a colon
  // only before another character than a space.
  let inner_ok = bytes.iter().enumerate().all(|(at, &byte)| match byte {
    b' ' => {
      at > 0
        && bytes
          .get(at + 1)
          .is_some_and(|next| *next != b' ' && *next != b'#')
    }
    b':' => bytes.get(at + 1).is_some_and(|next| is_plain_char(*next)),
    byte => is_plain_char(byte),
  });
  if first.is_ascii_alphabetic() || first == b'/' {
    if !inner_ok || is_keyword(text) {
      return None;
    }
    // `/` alone, or a path: plain.
    return Some(text.to_string());
  }
  if first.is_ascii_digit() {
    if bytes.iter().all(u8::is_ascii_digit) {
      // An integer's digits: quoted, so they stay a string.
      return Some(format!("'{text}'"));
    }
    if is_quantity(text) || is_dotted(text) {
      return Some(text.to_string());
    }
    return None;
  }
  // `>= 1.35.0-0`: an indicator first, then plain characters: single quotes.
  if first == b'>' && bytes[1..].iter().all(|&b| is_plain_char(b) || b == b' ') {
    return Some(format!("'{text}'"));
  }
  None
}

/// Why a value is not written here.
#[derive(Debug)]
struct Unsupported;

impl std::fmt::Display for Unsupported {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.write_str("not written directly")
  }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
  fn custom<T: std::fmt::Display>(_: T) -> Self {
    Unsupported
  }
}

/// Builds the [`Node`] of a value.
struct Tree;

type Result<T> = std::result::Result<T, Unsupported>;

fn integer(value: impl std::fmt::Display) -> Result<Node> {
  let mut text = String::new();
  let _ = write!(text, "{value}");
  Ok(Node::Scalar(text))
}

impl ser::Serializer for Tree {
  type Ok = Node;
  type Error = Unsupported;
  type SerializeSeq = Seq;
  type SerializeTuple = Impossible<Node, Unsupported>;
  type SerializeTupleStruct = Impossible<Node, Unsupported>;
  type SerializeTupleVariant = Impossible<Node, Unsupported>;
  type SerializeMap = Map;
  type SerializeStruct = Map;
  type SerializeStructVariant = Impossible<Node, Unsupported>;

  fn serialize_bool(self, value: bool) -> Result<Node> {
    Ok(Node::Scalar(
      if value { "true" } else { "false" }.to_string(),
    ))
  }
  fn serialize_i8(self, value: i8) -> Result<Node> {
    integer(value)
  }
  fn serialize_i16(self, value: i16) -> Result<Node> {
    integer(value)
  }
  fn serialize_i32(self, value: i32) -> Result<Node> {
    integer(value)
  }
  fn serialize_i64(self, value: i64) -> Result<Node> {
    integer(value)
  }
  fn serialize_u8(self, value: u8) -> Result<Node> {
    integer(value)
  }
  fn serialize_u16(self, value: u16) -> Result<Node> {
    integer(value)
  }
  fn serialize_u32(self, value: u32) -> Result<Node> {
    integer(value)
  }
  fn serialize_u64(self, value: u64) -> Result<Node> {
    integer(value)
  }
  fn serialize_f32(self, _: f32) -> Result<Node> {
    Err(Unsupported)
  }
  fn serialize_f64(self, _: f64) -> Result<Node> {
    Err(Unsupported)
  }
  fn serialize_char(self, value: char) -> Result<Node> {
    self.serialize_str(value.encode_utf8(&mut [0; 4]))
  }
  fn serialize_str(self, value: &str) -> Result<Node> {
    string(value).map(Node::Scalar).ok_or(Unsupported)
  }
  fn serialize_bytes(self, _: &[u8]) -> Result<Node> {
    Err(Unsupported)
  }
  fn serialize_none(self) -> Result<Node> {
    Err(Unsupported)
  }
  fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<Node> {
    value.serialize(self)
  }
  fn serialize_unit(self) -> Result<Node> {
    Err(Unsupported)
  }
  fn serialize_unit_struct(self, _: &'static str) -> Result<Node> {
    Err(Unsupported)
  }
  fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<Node> {
    self.serialize_str(variant)
  }
  fn serialize_newtype_struct<T: ?Sized + Serialize>(
    self,
    _: &'static str,
    value: &T,
  ) -> Result<Node> {
    value.serialize(self)
  }
  fn serialize_newtype_variant<T: ?Sized + Serialize>(
    self,
    _: &'static str,
    _: u32,
    _: &'static str,
    _: &T,
  ) -> Result<Node> {
    Err(Unsupported)
  }
  fn serialize_seq(self, len: Option<usize>) -> Result<Seq> {
    Ok(Seq(Vec::with_capacity(len.unwrap_or(0))))
  }
  fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
    Err(Unsupported)
  }
  fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct> {
    Err(Unsupported)
  }
  fn serialize_tuple_variant(
    self,
    _: &'static str,
    _: u32,
    _: &'static str,
    _: usize,
  ) -> Result<Self::SerializeTupleVariant> {
    Err(Unsupported)
  }
  fn serialize_map(self, len: Option<usize>) -> Result<Map> {
    Ok(Map {
      entries: Vec::with_capacity(len.unwrap_or(0)),
      key: None,
    })
  }
  fn serialize_struct(self, _: &'static str, len: usize) -> Result<Map> {
    self.serialize_map(Some(len))
  }
  fn serialize_struct_variant(
    self,
    _: &'static str,
    _: u32,
    _: &'static str,
    _: usize,
  ) -> Result<Self::SerializeStructVariant> {
    Err(Unsupported)
  }
}

struct Seq(Vec<Node>);

impl ser::SerializeSeq for Seq {
  type Ok = Node;
  type Error = Unsupported;
  fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
    match value.serialize(Tree)? {
      // The serializer's layout of a sequence in a sequence is not written
      // here.
      Node::Seq(_) => Err(Unsupported),
      node => {
        self.0.push(node);
        Ok(())
      }
    }
  }
  fn end(self) -> Result<Node> {
    Ok(Node::Seq(self.0))
  }
}

struct Map {
  entries: Vec<(String, Node)>,
  key: Option<String>,
}

impl ser::SerializeMap for Map {
  type Ok = Node;
  type Error = Unsupported;
  fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<()> {
    match key.serialize(Tree)? {
      // Keys are plain strings: a quoted one is left to the serializer.
      Node::Scalar(text) if !text.starts_with('\'') => {
        self.key = Some(text);
        Ok(())
      }
      _ => Err(Unsupported),
    }
  }
  fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
    let key = self.key.take().ok_or(Unsupported)?;
    let value = value.serialize(Tree)?;
    self.entries.push((key, value));
    Ok(())
  }
  fn end(self) -> Result<Node> {
    Ok(Node::Map(self.entries))
  }
}

impl ser::SerializeStruct for Map {
  type Ok = Node;
  type Error = Unsupported;
  fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<()> {
    ser::SerializeMap::serialize_key(self, key)?;
    ser::SerializeMap::serialize_value(self, value)
  }
  fn end(self) -> Result<Node> {
    Ok(Node::Map(self.entries))
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::collections::BTreeMap;

  #[derive(Serialize)]
  struct Sample {
    name: String,
    count: u32,
    enabled: bool,
    nested: BTreeMap<String, String>,
    empty: BTreeMap<String, String>,
    list: Vec<String>,
    none: Vec<String>,
    items: Vec<BTreeMap<String, u8>>,
  }

  /// Strings of every shape: each is written directly exactly as the
  /// serializer writes it, or left to it.
  #[test]
  fn strings_are_written_as_the_serializer_writes_them_or_left_to_it() {
    let strings = [
      "",
      "a",
      "abc",
      "a b",
      "a  b",
      "a #b",
      "a#b",
      "a:b",
      "a: b",
      "a:",
      "/",
      "/metrics",
      "https://example.com/x",
      "17",
      "0",
      "007",
      "1e3",
      "1.5",
      "1.2.3",
      "1.35.0-0",
      "v1.2.3",
      "10.64.0.0/16",
      "169.254.170.23/32",
      "100m",
      "128Mi",
      "1Gi",
      "30s",
      "1h",
      "1_000",
      "0x1f",
      "0o17",
      ".5",
      "+1",
      "-1",
      "-",
      "- a",
      "true",
      "True",
      "TRUE",
      "yes",
      "No",
      "on",
      "OFF",
      "y",
      "n",
      "null",
      "Null",
      "~",
      "nan",
      ".inf",
      ">= 1.35.0-0",
      "> x",
      "'x'",
      "\"x\"",
      "a'b",
      "a\"b",
      "a\nb",
      "a\tb",
      "ü",
      "a,b",
      "[a]",
      "{a}",
      "*",
      "&a",
      "!x",
      "%x",
      "@x",
      "`x",
      "|",
      "?x",
      "a b ",
      " a",
      "a=b",
      "a+b",
      "a@b.c",
      "x-y_z.w",
      "2001-12-14",
      "12:30",
      "1:2",
      "nginx-gateway",
      "letsencrypt-production",
      "synthetic/staging/",
      "svc-0017 of the synthetic platform",
      "v2",
      "application",
    ];
    let mut direct = 0;
    for text in strings {
      let mut value = BTreeMap::new();
      value.insert("key", text);
      let slow = yaml_serde::to_string(&value).unwrap();
      if let Some(fast) = fast(&value) {
        assert_eq!(fast, slow, "{text:?}");
        direct += 1;
      }
      let mut key = BTreeMap::new();
      key.insert(text, 1);
      let slow = yaml_serde::to_string(&key).unwrap();
      if let Some(fast) = fast(&key) {
        assert_eq!(fast, slow, "key {text:?}");
      }
    }
    assert!(direct > 30, "{direct} strings written directly");
  }

  #[test]
  fn layouts_are_the_serializers() {
    let mut nested = BTreeMap::new();
    nested.insert("k".to_string(), "v".to_string());
    let mut item = BTreeMap::new();
    item.insert("a".to_string(), 1);
    item.insert("b".to_string(), 2);
    let sample = Sample {
      name: "x".to_string(),
      count: 3,
      enabled: true,
      nested,
      empty: BTreeMap::new(),
      list: vec!["a".to_string(), "b".to_string()],
      none: Vec::new(),
      items: vec![item.clone(), BTreeMap::new(), item],
    };
    let slow = yaml_serde::to_string(&sample).unwrap();
    assert_eq!(fast(&sample).as_deref(), Some(slow.as_str()));
    let empty: BTreeMap<String, String> = BTreeMap::new();
    assert_eq!(
      fast(&empty).as_deref(),
      Some(yaml_serde::to_string(&empty).unwrap().as_str())
    );
    // Floats, nulls and sequences of sequences are left to the serializer.
    let mut float = BTreeMap::new();
    float.insert("f", 1.5);
    assert!(fast(&float).is_none());
    let mut option = BTreeMap::new();
    option.insert("o", None::<u8>);
    assert!(fast(&option).is_none());
    let mut seqs = BTreeMap::new();
    seqs.insert("s", vec![vec![1]]);
    assert!(fast(&seqs).is_none());
  }
}
