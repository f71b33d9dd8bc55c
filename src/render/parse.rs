//! Parsing the embedded templates without having Tera's parser read their
//! literal text.
//!
//! Tera's parser (pest) costs about a thousand instructions per character of
//! literal text, which was half of a default `render --check`. The literal
//! text between tags needs no parsing, so before Tera parses an embedded
//! template, each run of literal text is replaced by one marker character
//! (from Unicode's private use plane 15), with a space kept on the side where
//! the run starts or ends with whitespace: Tera's whitespace control
//! (`{%-`, `-%}`) then trims exactly the runs it would have trimmed, and
//! drops the same all-whitespace runs (those are kept as they are). After
//! parsing, each marker is replaced by its run, trimmed on the sides Tera
//! trimmed. The tags themselves are parsed by Tera, so the syntax is
//! Tera's; a test checks that every embedded template parses to the same
//! tree both ways. Repository overrides are parsed by Tera directly.

use tera::Template;
use tera::ast::Node;

/// The marker characters: Unicode's private use plane 15.
const FIRST: u32 = 0xF_0000;
const LAST: u32 = 0xF_FFFD;

/// Parses one embedded template, as `Tera::add_raw_template` would.
pub(crate) fn template(name: &str, text: &str) -> tera::Result<Template> {
  match quick(name, text) {
    Some(parsed) => Ok(parsed),
    // A template Tera rejects is reported as Tera reports its own text.
    None => Template::new(name, None, text),
  }
}

/// The parse with markers; `None` when it does not apply or Tera rejects
/// the template.
fn quick(name: &str, text: &str) -> Option<Template> {
  let (marked, runs) = mark(text)?;
  let mut parsed = Template::new(name, None, &marked).ok()?;
  let restored = restore(&mut parsed.ast, &runs)
    && parsed
      .macros
      .values_mut()
      .all(|definition| restore(&mut definition.body, &runs))
    && parsed
      .blocks
      .values_mut()
      .all(|block| restore(&mut block.body, &runs));
  restored.then_some(parsed)
}

/// The template with its literal runs replaced by markers, and the runs;
/// `None` when the text already holds a marker character, has more runs
/// than there are markers, or a tag that does not end (Tera then parses
/// the text itself and reports what is wrong).
fn mark(text: &str) -> Option<(String, Vec<&str>)> {
  if text.chars().any(|c| (FIRST..=LAST).contains(&u32::from(c))) {
    return None;
  }
  let bytes = text.as_bytes();
  let mut marked = String::with_capacity(text.len() / 2);
  let mut runs = Vec::new();
  let mut i = 0;
  let mut literal = 0;
  while i + 1 < bytes.len() {
    if bytes[i] != b'{' || !matches!(bytes[i + 1], b'{' | b'%' | b'#') {
      i += 1;
      continue;
    }
    push_literal(&text[literal..i], &mut marked, &mut runs)?;
    let end = tag_end(text, i)?;
    marked.push_str(&text[i..end]);
    i = end;
    literal = end;
  }
  push_literal(&text[literal..], &mut marked, &mut runs)?;
  Some((marked, runs))
}

/// Appends a literal run as its marker (or as it is, when it is only
/// whitespace).
fn push_literal<'a>(run: &'a str, marked: &mut String, runs: &mut Vec<&'a str>) -> Option<()> {
  if run.trim().is_empty() {
    marked.push_str(run);
    return Some(());
  }
  let marker =
    char::from_u32(FIRST + u32::try_from(runs.len()).ok()?).filter(|c| u32::from(*c) <= LAST)?;
  if run.trim_start().len() != run.len() {
    marked.push(' ');
  }
  marked.push(marker);
  if run.trim_end().len() != run.len() {
    marked.push(' ');
  }
  runs.push(run);
  Some(())
}

/// The byte offset just past the tag that starts at `start` (`{{`, `{%` or
/// `{#`): the first closing delimiter outside string literals, and for
/// `{% raw %}` the end of its `{% endraw %}`.
fn tag_end(text: &str, start: usize) -> Option<usize> {
  let bytes = text.as_bytes();
  let close: &[u8] = match bytes[start + 1] {
    b'{' => b"}}",
    b'%' => b"%}",
    _ => {
      let end = start + 2 + text[start + 2..].find("#}")?;
      return Some(end + 2);
    }
  };
  let mut i = start + 2;
  while i < bytes.len() {
    match bytes[i] {
      quote @ (b'"' | b'\'' | b'`') => {
        i += 1 + text[i + 1..].find(char::from(quote))? + 1;
      }
      _ if bytes[i..].starts_with(close) => {
        let end = i + 2;
        if close == b"%}" && is_named(&text[start..end], "raw") {
          return raw_end(text, end);
        }
        return Some(end);
      }
      _ => i += 1,
    }
  }
  None
}

/// Whether a `{% … %}` tag is `{% name %}` (with Tera's whitespace control).
fn is_named(tag: &str, name: &str) -> bool {
  let inner = &tag[2..tag.len() - 2];
  let inner = inner.strip_prefix('-').unwrap_or(inner);
  let inner = inner.strip_suffix('-').unwrap_or(inner);
  inner.trim_matches([' ', '\t', '\r', '\n']) == name
}

/// The byte offset just past the first `{% endraw %}` from `from`.
fn raw_end(text: &str, from: usize) -> Option<usize> {
  let mut at = from;
  loop {
    let start = at + text[at..].find("{%")?;
    let end = start + 2 + text[start + 2..].find("%}")? + 2;
    if is_named(&text[start..end], "endraw") {
      return Some(end);
    }
    at = start + 2;
  }
}

/// Puts the literal runs back in place of their markers, trimmed where Tera
/// trimmed the marker; `false` if a text node is not one marker.
fn restore(nodes: &mut [Node], runs: &[&str]) -> bool {
  nodes.iter_mut().all(|node| match node {
    Node::Text(text) => restore_text(text, runs),
    Node::MacroDefinition(_, definition, _) => restore(&mut definition.body, runs),
    Node::FilterSection(_, section, _) => restore(&mut section.body, runs),
    Node::Block(_, block, _) => restore(&mut block.body, runs),
    Node::Forloop(_, forloop, _) => {
      restore(&mut forloop.body, runs)
        && forloop
          .empty_body
          .as_mut()
          .is_none_or(|body| restore(body, runs))
    }
    Node::If(condition, _) => {
      condition
        .conditions
        .iter_mut()
        .all(|(_, _, body)| restore(body, runs))
        && condition
          .otherwise
          .as_mut()
          .is_none_or(|(_, body)| restore(body, runs))
    }
    _ => true,
  })
}

fn restore_text(text: &mut String, runs: &[&str]) -> bool {
  let lead = text.starts_with(' ');
  let core = text.strip_prefix(' ').unwrap_or(text);
  let trail = core.ends_with(' ');
  let core = core.strip_suffix(' ').unwrap_or(core);
  let mut chars = core.chars();
  let marker = match (chars.next(), chars.next()) {
    (Some(marker), None) if (FIRST..=LAST).contains(&u32::from(marker)) => marker,
    // An all-whitespace run, kept as it was.
    _ => return !text.chars().any(|c| (FIRST..=LAST).contains(&u32::from(c))),
  };
  let Some(run) = runs.get((u32::from(marker) - FIRST) as usize) else {
    return false;
  };
  let run = if lead { run } else { run.trim_start() };
  let run = if trail { run } else { run.trim_end() };
  *text = run.to_string();
  true
}

#[cfg(test)]
mod tests {
  use super::*;

  /// Both parses of a template, compared on everything Tera keeps of it.
  fn same_as_tera(name: &str, text: &str) {
    let quick = quick(name, text).expect("the markers apply");
    let tera = Template::new(name, None, text).unwrap();
    assert!(quick.ast == tera.ast, "{name}: the trees differ");
    assert_eq!(quick.macros, tera.macros, "{name}");
    assert_eq!(quick.blocks, tera.blocks, "{name}");
    assert_eq!(quick.imported_macro_files, tera.imported_macro_files);
    assert_eq!(quick.parent, tera.parent);
  }

  #[test]
  fn every_embedded_template_parses_as_tera_parses_it() {
    let templates = super::super::engine::embedded_sources();
    assert!(templates.len() > 40);
    for (name, text) in &templates {
      same_as_tera(name, text);
    }
  }

  #[test]
  fn whitespace_control_strings_and_raw_blocks_parse_as_tera_parses_them() {
    for text in [
      "",
      "plain text only\n",
      "  \n",
      "a {{ x }} b",
      "a\n  {{- x -}}  \n b",
      "{% if a -%}\n  yes\n{%- elif b %} maybe {% else -%}   \n{%- endif %}\n",
      "{% for i in xs -%} {{ i }}, {%- else %} none {% endfor -%}\n tail",
      "{{ \"}}\" ~ '%}' ~ `#}` }} and {% set x = \"{{\" %}{{ x }}",
      "{# a comment {{ }} #} text {#- trimmed -#}   more",
      "{% raw %}${{{% endraw %} github.sha {% raw %}}}{% endraw %}",
      "{%- raw -%}  {{ kept }} {%- endraw -%}  after",
      "{% macro m(a, b=1) -%}\n  {{ a }}\n{%- endmacro m %}",
      "x { y } {x} %} #} }}",
      "\u{a0}nbsp\u{a0}{{- x -}}\u{2003}em\u{2003}",
    ] {
      same_as_tera("t", text);
    }
  }

  #[test]
  fn a_template_tera_rejects_is_rejected_with_teras_error() {
    for text in ["{{ unclosed", "{% if %}", "{{ 'open }}"] {
      let quick = template("t", text).err().map(|e| e.to_string());
      let tera = Template::new("t", None, text).err().map(|e| e.to_string());
      assert!(quick.is_some());
      assert_eq!(quick, tera, "{text}");
    }
  }

  #[test]
  fn a_template_holding_a_marker_character_is_parsed_by_tera_alone() {
    let text = "a \u{F0000} {{ x }} b";
    assert!(mark(text).is_none());
    assert!(template("t", text).unwrap().ast == Template::new("t", None, text).unwrap().ast);
  }
}
