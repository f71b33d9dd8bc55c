//! Parsing the embedded templates without having Tera's parser read their
//! literal text or their plain variables.
//!
//! Tera's parser (pest) costs about a thousand instructions per character of
//! literal text, and tens of thousands per `{{ variable }}`: together most of
//! a default `render --check`. Neither needs parsing: before Tera parses an
//! embedded template, each run of literal text and plain variables
//! (`{{ env.name }}`: a dotted name, no filter, no whitespace control) is
//! replaced by one marker character (from Unicode's private use plane 15),
//! with a space kept on the side where the run starts or ends with
//! whitespace. Tera's whitespace control (`{%-`, `-%}`) then trims exactly
//! the runs it would have trimmed (all-whitespace text is kept as it is, so
//! Tera drops the same nodes). After parsing, each marker becomes its text
//! and variable nodes again, trimmed on the sides Tera trimmed. Every other
//! tag is parsed by Tera, so the syntax is Tera's; a test checks that every
//! embedded template parses to the same tree both ways. Repository overrides
//! are parsed by Tera directly.
//!
//! `build.rs` includes this file and runs it on every embedded template at
//! build time; the binary loads the result (`engine/codec.rs`) and calls
//! only [`prepare`] itself (for overrides), so the rest is the build's and
//! the tests'.
#![cfg_attr(
  not(test),
  allow(dead_code, reason = "build.rs parses the embedded templates")
)]

use tera::Template;
use tera::ast::{Expr, ExprVal, Node, WS};

/// The marker characters: Unicode's private use plane 15.
const FIRST: u32 = 0xF_0000;
const LAST: u32 = 0xF_FFFD;

fn is_marker(c: char) -> bool {
  (FIRST..=LAST).contains(&u32::from(c))
}

/// A piece of a run: literal text, or a plain `{{ }}` tag's expression.
#[derive(Debug)]
enum Piece<'a> {
  Text(&'a str),
  Variable(Expr),
}

/// The template text Tera parses: workflow templates keep GitHub's `${{ }}`
/// literal.
pub(crate) fn prepare(path: &str, text: &str) -> String {
  if path.starts_with(".github/workflows/") {
    super::workflows::protect_expressions(text)
  } else {
    text.to_string()
  }
}

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

/// The template with its runs replaced by markers, and the runs; `None`
/// when the text already holds a marker character, has more runs than
/// there are markers, or a tag that does not end (Tera then parses the
/// text itself and reports what is wrong).
fn mark(text: &str) -> Option<(String, Vec<Vec<Piece<'_>>>)> {
  if text.chars().any(is_marker) {
    return None;
  }
  let bytes = text.as_bytes();
  let mut marked = String::with_capacity(text.len() / 2);
  let mut runs = Vec::new();
  let mut run = Vec::new();
  let mut i = 0;
  let mut literal = 0;
  while i + 1 < bytes.len() {
    if bytes[i] != b'{' || !matches!(bytes[i + 1], b'{' | b'%' | b'#') {
      i += 1;
      continue;
    }
    if literal < i {
      run.push(Piece::Text(&text[literal..i]));
    }
    let end = tag_end(text, i)?;
    match plain_variable(&text[i..end]) {
      Some(expr) => run.push(Piece::Variable(expr)),
      None => {
        push_run(std::mem::take(&mut run), &mut marked, &mut runs)?;
        marked.push_str(&text[i..end]);
      }
    }
    i = end;
    literal = end;
  }
  if literal < text.len() {
    run.push(Piece::Text(&text[literal..]));
  }
  push_run(run, &mut marked, &mut runs)?;
  Some((marked, runs))
}

/// The expression of a plain `{{ }}` tag (no whitespace control): a dotted
/// name, or a macro call whose arguments are dotted names, plain strings,
/// booleans or integers. Tera parses these to exactly this expression;
/// anything else is left to Tera.
fn plain_variable(tag: &str) -> Option<Expr> {
  let inner = tag.strip_prefix("{{")?.strip_suffix("}}")?;
  if inner.starts_with('-') || inner.ends_with('-') {
    return None;
  }
  let inner = inner.trim_matches(WHITESPACE);
  if let Some(name) = dotted(inner) {
    return Some(Expr::new(ExprVal::Ident(name.to_string())));
  }
  macro_call(inner).map(|call| Expr::new(ExprVal::MacroCall(call)))
}

/// Tera's whitespace between tokens.
const WHITESPACE: [char; 4] = [' ', '\t', '\r', '\n'];

fn word(part: &str) -> bool {
  !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn ident(text: &str) -> Option<&str> {
  (word(text) && !text.as_bytes()[0].is_ascii_digit()).then_some(text)
}

/// `text` when it is a dotted name Tera reads as a variable.
fn dotted(text: &str) -> Option<&str> {
  let mut parts = text.split('.');
  let first = ident(parts.next()?)?;
  // Tera reads these as booleans.
  let boolean = ["true", "false", "True", "False"]
    .iter()
    .any(|b| first.starts_with(b));
  (!boolean && parts.all(word)).then_some(text)
}

/// `namespace::name(key=value, …)` with plain values.
fn macro_call(text: &str) -> Option<tera::ast::MacroCall> {
  let (namespace, rest) = text.split_once("::")?;
  let (name, rest) = rest.split_once('(')?;
  let arguments = rest.strip_suffix(')')?;
  let mut args = std::collections::HashMap::new();
  if !arguments.trim_matches(WHITESPACE).is_empty() {
    for argument in split_arguments(arguments)? {
      let (key, value) = argument.split_once('=')?;
      let key = ident(key.trim_matches(WHITESPACE))?;
      let value = value.trim_matches(WHITESPACE);
      let value = match value {
        "true" => ExprVal::Bool(true),
        "false" => ExprVal::Bool(false),
        _ if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') => {
          let inner = &value[1..value.len() - 1];
          if inner.contains('"') {
            return None;
          }
          ExprVal::String(inner.to_string())
        }
        _ if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
          if value.len() > 1 && value.starts_with('0') {
            return None;
          }
          ExprVal::Int(value.parse().ok()?)
        }
        _ => ExprVal::Ident(dotted(value)?.to_string()),
      };
      if args.insert(key.to_string(), Expr::new(value)).is_some() {
        return None;
      }
    }
  }
  Some(tera::ast::MacroCall {
    namespace: ident(namespace)?.to_string(),
    name: ident(name)?.to_string(),
    args,
  })
}

/// The arguments of a call split at their commas, `None` when a string
/// holds a comma, an `=` or a parenthesis (left to Tera).
fn split_arguments(arguments: &str) -> Option<Vec<&str>> {
  let parts: Vec<&str> = arguments.split(',').collect();
  parts
    .iter()
    .all(|part| {
      part.matches('=').count() == 1
        && part.matches('"').count() % 2 == 0
        && !part.contains(['(', ')', '\'', '`', '~', '[', '|'])
    })
    .then_some(parts)
}

/// Appends a run as its marker (or as it is, when it is only whitespace).
fn push_run<'a>(
  run: Vec<Piece<'a>>,
  marked: &mut String,
  runs: &mut Vec<Vec<Piece<'a>>>,
) -> Option<()> {
  match run.as_slice() {
    [] => return Some(()),
    [Piece::Text(text)] if text.trim().is_empty() => {
      marked.push_str(text);
      return Some(());
    }
    _ => {}
  }
  let marker = char::from_u32(FIRST + u32::try_from(runs.len()).ok()?).filter(|c| is_marker(*c))?;
  if matches!(run.first(), Some(Piece::Text(text)) if text.trim_start().len() != text.len()) {
    marked.push(' ');
  }
  marked.push(marker);
  if matches!(run.last(), Some(Piece::Text(text)) if text.trim_end().len() != text.len()) {
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

/// Puts the runs back in place of their markers, trimmed where Tera
/// trimmed the marker; `false` if a text node is not one marker.
fn restore(nodes: &mut Vec<Node>, runs: &[Vec<Piece<'_>>]) -> bool {
  let mut restored = Vec::with_capacity(nodes.len());
  for mut node in nodes.drain(..) {
    let done = match &mut node {
      Node::Text(text) => {
        if !expand(text, runs, &mut restored) {
          return false;
        }
        continue;
      }
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
    };
    if !done {
      return false;
    }
    restored.push(node);
  }
  *nodes = restored;
  true
}

/// The nodes of the run a text node's marker stands for; `false` if the
/// text is neither one marker (with its spaces) nor free of markers.
fn expand(text: &str, runs: &[Vec<Piece<'_>>], out: &mut Vec<Node>) -> bool {
  let lead = text.starts_with(' ');
  let core = text.strip_prefix(' ').unwrap_or(text);
  let trail = core.ends_with(' ');
  let core = core.strip_suffix(' ').unwrap_or(core);
  let mut chars = core.chars();
  let marker = match (chars.next(), chars.next()) {
    (Some(marker), None) if is_marker(marker) => marker,
    // An all-whitespace run, kept as it was.
    _ if !text.chars().any(is_marker) => {
      out.push(Node::Text(text.to_string()));
      return true;
    }
    _ => return false,
  };
  let Some(run) = runs.get((u32::from(marker) - FIRST) as usize) else {
    return false;
  };
  let last = run.len() - 1;
  for (i, piece) in run.iter().enumerate() {
    match *piece {
      Piece::Text(text) => {
        let text = if i == 0 && !lead {
          text.trim_start()
        } else {
          text
        };
        let text = if i == last && !trail {
          text.trim_end()
        } else {
          text
        };
        if !text.is_empty() {
          out.push(Node::Text(text.to_string()));
        }
      }
      Piece::Variable(ref expr) => out.push(Node::VariableBlock(WS::default(), expr.clone())),
    }
  }
  true
}

/// A Tera error with its causes, which carry the useful detail.
pub(crate) fn error_chain(error: &tera::Error) -> String {
  let mut text = error.to_string();
  let mut source = std::error::Error::source(error);
  while let Some(cause) = source {
    text.push_str(": ");
    text.push_str(&cause.to_string());
    source = cause.source();
  }
  text
}

#[cfg(test)]
mod tests {
  use super::*;

  /// Both parses of a template, compared on everything Tera keeps of it.
  fn same_as_tera(name: &str, text: &str) {
    let quick = quick(name, text).unwrap_or_else(|| panic!("the markers apply to {text:?}"));
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

  /// Two templates equal on every field Tera keeps.
  fn same_template(found: &Template, expected: &Template) {
    let name = &expected.name;
    assert_eq!(found.name, expected.name);
    assert_eq!(found.path, expected.path, "{name}");
    assert!(found.ast == expected.ast, "{name}: the trees differ");
    assert_eq!(found.from_extend, expected.from_extend, "{name}");
    assert_eq!(found.macros, expected.macros, "{name}");
    assert_eq!(
      found.imported_macro_files, expected.imported_macro_files,
      "{name}"
    );
    assert_eq!(found.parent, expected.parent, "{name}");
    assert_eq!(found.blocks, expected.blocks, "{name}");
    assert_eq!(found.parents, expected.parents, "{name}");
    assert_eq!(
      found.blocks_definitions, expected.blocks_definitions,
      "{name}"
    );
  }

  #[test]
  fn the_compiled_templates_are_teras_parse_of_every_embedded_template() {
    let sources = super::super::engine::embedded_sources();
    let compiled = super::super::engine::compiled();
    let names = |list: Vec<&String>| list.into_iter().cloned().collect::<Vec<_>>();
    // The same templates, in the same order: a template added, removed
    // or changed since the build would show here (the build reruns when
    // one changes).
    assert_eq!(
      names(compiled.iter().map(|(name, _)| name).collect()),
      names(sources.iter().map(|(name, _)| name).collect())
    );
    for ((name, text), (_, decoded)) in sources.iter().zip(&compiled) {
      same_template(decoded, &Template::new(name, None, text).unwrap());
    }
  }

  /// Tera's parse of templates using every construct of its syntax.
  fn every_construct() -> Vec<(String, Template)> {
    [
      (
        "base",
        "{# comment #}{% block head -%} a {%- endblock head %}{% block body %}{% block inner %}i{% endblock inner %}{% endblock body %}",
      ),
      (
        "child",
        "{% extends \"base\" %}{% block head %}{{ super() }} b{% endblock head %}{% block inner %}{{ super() }}{% endblock inner %}",
      ),
      (
        "macros",
        "{% macro m(a, b=1, c=\"s\", d=-2.5, e=true) %}{{ a }}{% endmacro m %}{% macro n() -%}{%- endmacro %}",
      ),
      (
        "all",
        concat!(
          "{% import \"macros\" as m %}{%- include \"base\" -%}{% include [\"x\", \"base\"] ignore missing %}",
          "{% set a = 1 + 2 - 3 * 4 / 5 % 6 %}{% set_global b = not c and d or e %}",
          "{{ x > 1 }}{{ x >= 1.5 }}{{ x < -1 }}{{ x <= 0 }}{{ x == \"s\" }}{{ x != y }}",
          "{{ m::m(a=1, b=x.y) }}{{ range(end=3) | join(sep=\",\") | upper }}{{ [1, \"a\", x | lower] }}",
          "{{ \"a\" ~ x ~ 'b' }}{{ x in [1, 2] }}{{ x not in y }}{{ not x }}{{ x is defined }}",
          "{% if x is not starting_with(\"a\") %}1{% elif x is divisibleby(3) -%}2{% elif y %}{% else %}3{% endif -%}",
          "{% for k, v in map %}{% if k %}{% break %}{% else %}{% continue %}{% endif %}{% else %}empty{% endfor %}",
          "{%- for i in list | reverse -%}{{ loop.index }}{% endfor %}",
          "{% filter upper(x=1) %}text {{ x }}{#- c -#}{% endfilter %}{% raw -%} {{ raw }} {%- endraw %}",
          "{{ 'single' }}{{ `back` }}{{ 9223372036854775807 }}{{ -12 }}{{ 0.5 }}",
        ),
      ),
    ]
    .into_iter()
    .map(|(name, text)| {
      (
        name.to_string(),
        Template::new(name, None, text).unwrap_or_else(|e| panic!("{name}: {e:?}")),
      )
    })
    .collect()
  }

  #[test]
  fn every_construct_of_teras_syntax_decodes_as_tera_parsed_it() {
    let mut templates = every_construct();
    // After Tera links them, as a `Tera` holds them.
    let mut tera = tera::Tera::default();
    for (name, template) in &templates {
      tera.templates.insert(name.clone(), template.clone());
    }
    tera.build_inheritance_chains().unwrap();
    templates.push(("linked".to_string(), tera.templates["child"].clone()));
    assert!(!templates[4].1.blocks_definitions.is_empty());
    // Every variant of tera's AST occurs.
    let shown = format!("{templates:?}");
    for variant in [
      "Super",
      "Text(",
      "VariableBlock(",
      "MacroDefinition(",
      "Extends(",
      "Include(",
      "ImportMacro(",
      "Set(",
      "Raw(",
      "FilterSection(",
      "Block(",
      "Forloop(",
      "If(",
      "Break(",
      "Continue(",
      "Comment(",
      "String(",
      "Int(",
      "Float(",
      "Bool(",
      "Ident(",
      "Math(",
      "Logic(",
      "Test(",
      "MacroCall(",
      "FunctionCall(",
      "Array(",
      "StringConcat(",
      "In(",
      "negated: true",
      "global: true",
      "empty_body: Some",
      "key: Some",
      "otherwise: Some",
      "Some(Expr",
      ", true)",
      "left: true",
      "right: true",
    ] {
      assert!(shown.contains(variant), "{variant} does not occur");
    }
    for operator in [
      "Add", "Sub", "Mul", "Div", "Modulo", "Gt", "Gte", "Lt", "Lte", "Eq", "NotEq", "And", "Or",
    ] {
      let operator = format!("operator: {operator} ");
      assert!(shown.contains(&operator), "{operator} does not occur");
    }
    let decoded = super::super::engine::round_trip(&templates);
    assert_eq!(decoded.len(), templates.len());
    for ((name, found), (expected_name, expected)) in decoded.iter().zip(&templates) {
      assert_eq!(name, expected_name);
      same_template(found, expected);
    }
  }

  #[test]
  fn damaged_compiled_templates_are_refused_not_misread() {
    let templates = every_construct();
    let encoded = super::super::engine::encode(&templates[3].1);
    assert!(super::super::engine::decode(&encoded).is_ok());
    for end in 0..encoded.len() {
      assert!(
        super::super::engine::decode(&encoded[..end]).is_err(),
        "{end}"
      );
    }
    let mut longer = encoded.clone();
    longer.push(0);
    assert!(super::super::engine::decode(&longer).is_err());
    // The first node's tag, after the name and the absent path.
    let mut unknown = encoded;
    let tag = 1 + "all".len() + 1 + 1;
    assert_eq!(unknown[tag], 6, "an import comes first");
    unknown[tag] = 200;
    let error = super::super::engine::decode(&unknown).unwrap_err();
    assert!(error.contains("unknown node"), "{error}");
  }

  #[test]
  fn the_build_reruns_when_a_template_or_the_shared_code_changes() {
    // What build.rs told cargo, in the file cargo keeps next to OUT_DIR.
    let output = std::path::Path::new(env!("OUT_DIR")).with_file_name("output");
    let told = std::fs::read_to_string(&output).unwrap();
    for watched in [
      "templates",
      "src/render/parse.rs",
      "src/render/engine/codec.rs",
      "src/render/workflows/expressions.rs",
    ] {
      assert!(
        told
          .lines()
          .any(|line| line == format!("cargo:rerun-if-changed={watched}")),
        "{watched}: {told}"
      );
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
      "{{ a }}{{ b.c }} {{ d.0 }}\n{{ e | f }} {{- g }} {{ h -}} {{ true }}{{ False }}",
      "{% if x -%}\n  {{ a }}  \n{%- endif %}  {{ b }}\n  {%- for i in c %}{{ i }}{% endfor -%}  {{ d }}",
      "{{ a }}{% raw %} {{ b }} {% endraw %}{{ c }}{# {{ d }} #}",
      "{{ m::f() }} {{ m::g(a=b.c, d=\"e f\", g=true, h=12, i=0) }}{{ m::h( a = b ) }}",
      "{{ m::f(a=\"x,y\") }}{{ m::f(a=b ~ c) }}{{ m::f(a=1,) }}{{ m::f(a=b | upper) }}",
    ] {
      same_as_tera("t", text);
    }
  }

  #[test]
  fn plain_variables_join_the_literal_run_and_other_tags_stay_for_tera() {
    let (marked, runs) = mark(" a {{ b.c }}d {{ e | f }}").unwrap();
    assert_eq!(marked, " \u{F0000} {{ e | f }}");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].len(), 3);
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
