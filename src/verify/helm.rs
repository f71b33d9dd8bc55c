//! The small part of Helm's template language that chart keys are built
//! with, evaluated against one environment's values: `.Values` paths,
//! `range` over a list of the values (with its variables), variables
//! (`$x := …`), `printf` (`%s`, `%v`), `include` of a helper whose body is one
//! action, `required`, `default`, `toString` and `quote`. Anything else does
//! not evaluate, and what does not evaluate is not checked.

use std::collections::BTreeMap;

use super::repo::Chart;
use super::yaml::{self, Node};

/// Where a value comes from in the values files: file and line.
pub(crate) type Origin<'a> = Option<(&'a str, usize)>;

/// A value: the root object (`.` at the top of a template), a node of the
/// values, or a text.
#[derive(Debug, Clone)]
enum Value<'a> {
  Root,
  Node(&'a Node, Origin<'a>),
  Text(String, Origin<'a>),
}

impl<'a> Value<'a> {
  fn text(&self) -> Option<(String, Origin<'a>)> {
    match self {
      Value::Root => None,
      Value::Node(node, origin) => node.str().map(|text| (text.to_string(), *origin)),
      Value::Text(text, origin) => Some((text.clone(), *origin)),
    }
  }
}

/// One environment of a chart: its merged values and the files they come
/// from, and the chart's helpers (`define` name → body).
pub(crate) struct Env<'a> {
  pub values: &'a Node,
  /// `values-<env>.yaml`, the values over `values.yaml`.
  pub over: Option<(&'a str, &'a Node)>,
  pub base: Option<&'a str>,
  pub defines: &'a BTreeMap<String, String>,
}

/// A `range` around an action: its variables and the expression it ranges over.
#[derive(Debug, Clone)]
struct Range {
  vars: Vec<String>,
  expr: String,
}

/// What is around one action of a template: the ranges it is in and the
/// variables assigned before it (with the number of ranges they were
/// assigned in).
#[derive(Debug, Clone, Default)]
pub(crate) struct Around {
  ranges: Vec<Range>,
  vars: Vec<(String, String, usize)>,
}

/// The inside of an action: `{{- x | quote -}}` → `x | quote`.
fn inner(action: &str) -> &str {
  let inner = action.strip_prefix("{{").unwrap_or(action);
  let inner = inner.strip_suffix("}}").unwrap_or(inner);
  let inner = inner.strip_prefix('-').unwrap_or(inner);
  let inner = inner.strip_suffix('-').unwrap_or(inner);
  inner.trim()
}

/// The first word of an action and the rest.
fn keyword(inner: &str) -> (&str, &str) {
  inner
    .split_once(char::is_whitespace)
    .map_or((inner, ""), |(word, rest)| (word, rest.trim()))
}

/// A `$x := …` or `$x = …` action: the variable and the expression.
fn assignment(inner: &str) -> Option<(&str, &str)> {
  let (name, rest) = inner.split_once(char::is_whitespace)?;
  if !name.starts_with('$') {
    return None;
  }
  let rest = rest.trim_start();
  let expr = rest.strip_prefix(":=").or_else(|| rest.strip_prefix('='))?;
  Some((name, expr.trim()))
}

/// What is around each action of a template (by action number).
pub(crate) fn around(actions: &[String]) -> Vec<Around> {
  // Each open block: the range it is, if it is one.
  let mut blocks: Vec<Option<Range>> = Vec::new();
  let mut vars: Vec<(String, String, usize)> = Vec::new();
  let mut out = Vec::with_capacity(actions.len());
  for action in actions {
    let inner = inner(action);
    let ranges: Vec<Range> = blocks.iter().flatten().cloned().collect();
    out.push(Around {
      ranges: ranges.clone(),
      vars: vars.clone(),
    });
    let (word, rest) = keyword(inner);
    match word {
      "if" | "with" | "define" | "block" => blocks.push(None),
      "range" => {
        let (names, expr) = match rest.split_once(":=") {
          Some((names, expr)) => (
            names
              .split(',')
              .map(|name| name.trim().to_string())
              .filter(|name| !name.is_empty())
              .collect(),
            expr.trim(),
          ),
          None => (Vec::new(), rest),
        };
        blocks.push(Some(Range {
          vars: names,
          expr: expr.to_string(),
        }));
      }
      "end" => {
        if blocks.pop().flatten().is_some() {
          let depth = blocks.iter().flatten().count();
          vars.retain(|(_, _, at)| *at <= depth);
        }
      }
      _ => {
        if let Some((name, expr)) = assignment(inner) {
          vars.push((name.to_string(), expr.to_string(), ranges.len()));
        }
      }
    }
  }
  out
}

/// One `define` of a chart's templates.
pub(crate) struct Define<'a> {
  pub name: String,
  /// The file it is in, and the line its body starts on.
  pub file: &'a str,
  pub line: usize,
  pub body: String,
}

/// The `define`s of a chart's templates: name → body.
pub(crate) fn defines(chart: &Chart) -> BTreeMap<String, String> {
  all_defines(chart)
    .into_iter()
    .map(|define| (define.name, define.body))
    .collect()
}

/// Every `define` of a chart's templates, in the order of the files.
pub(crate) fn all_defines(chart: &Chart) -> Vec<Define<'_>> {
  let mut out = Vec::new();
  for template in &chart.templates {
    let text = &template.text;
    let spans = yaml::actions(text);
    let mut i = 0;
    while i < spans.len() {
      let (word, rest) = keyword(inner(&text[spans[i].0..spans[i].1]));
      if word == "define"
        && let Some(name) = rest
          .strip_prefix('"')
          .and_then(|rest| rest.split('"').next())
      {
        let mut depth = 0;
        let mut j = i + 1;
        while j < spans.len() {
          let (word, _) = keyword(inner(&text[spans[j].0..spans[j].1]));
          match word {
            "if" | "with" | "range" | "define" | "block" => depth += 1,
            "end" if depth == 0 => break,
            "end" => depth -= 1,
            _ => {}
          }
          j += 1;
        }
        let end = spans.get(j).map_or(text.len(), |span| span.0);
        out.push(Define {
          name: name.to_string(),
          file: &template.path,
          line: text[..spans[i].1].matches('\n').count() + 1,
          body: text[spans[i].1..end].to_string(),
        });
        i = j;
      }
      i += 1;
    }
  }
  out
}

/// Each text `action` evaluates to in `env`, with where in the values the
/// last value it was built from comes from (a list item's field, say); one
/// per item of the ranges around it, none where it does not evaluate.
pub(crate) fn texts<'a>(env: &Env<'a>, around: &Around, action: &str) -> Vec<(String, Origin<'a>)> {
  let mut out = Vec::new();
  let scope = Scope {
    dot: Value::Root,
    root: Value::Root,
    vars: BTreeMap::new(),
  };
  descend(env, around, 0, scope, inner(action), &mut out);
  out
}

/// Whether every variable a helper's body assigns outside its ranges
/// evaluates in `env` (`{{- $key := required "…" .Values.a }}` does not when
/// the value is empty, and Helm then fails: the chart includes the helper
/// only where it has the value).
pub(crate) fn assigns(env: &Env<'_>, actions: &[String]) -> bool {
  let scope = Scope {
    dot: Value::Root,
    root: Value::Root,
    vars: BTreeMap::new(),
  };
  let mut depth = 0usize;
  for action in actions {
    let inner = inner(action);
    match keyword(inner).0 {
      "if" | "with" | "range" | "define" | "block" => depth += 1,
      "end" => depth = depth.saturating_sub(1),
      _ => {
        if depth == 0
          && let Some((_, expr)) = assignment(inner)
          && eval(env, &scope, expr, 0).is_none()
        {
          return false;
        }
      }
    }
  }
  true
}

/// The helpers an action text includes (`include "name"`).
pub(crate) fn includes(text: &str) -> Vec<&str> {
  text
    .match_indices("include \"")
    .filter_map(|(at, found)| text[at + found.len()..].split('"').next())
    .collect()
}

#[derive(Clone)]
struct Scope<'a> {
  dot: Value<'a>,
  root: Value<'a>,
  vars: BTreeMap<String, Value<'a>>,
}

fn descend<'a>(
  env: &Env<'a>,
  around: &Around,
  depth: usize,
  mut scope: Scope<'a>,
  action: &str,
  out: &mut Vec<(String, Origin<'a>)>,
) {
  for (name, expr, at) in &around.vars {
    if *at == depth
      && let Some(value) = eval(env, &scope, expr, 0)
    {
      scope.vars.insert(name.clone(), value);
    }
  }
  let Some(range) = around.ranges.get(depth) else {
    if let Some(text) = eval(env, &scope, action, 0).and_then(|value| value.text()) {
      out.push(text);
    }
    return;
  };
  let Some(Value::Node(list, _)) = eval(env, &scope, &range.expr, 0) else {
    return;
  };
  // The file the list comes from: the environment's, when it sets it.
  let file = range
    .expr
    .strip_prefix(".Values.")
    .map(|path| path.split('.').collect::<Vec<_>>())
    .and_then(|path| {
      env
        .over
        .filter(|(_, over)| over.at(&path).is_some())
        .map(|(file, _)| file)
        .or(env.base)
    });
  for (index, item) in list.items().iter().enumerate() {
    let mut inner = scope.clone();
    let value = Value::Node(item, file.map(|file| (file, item.line)));
    match range.vars.as_slice() {
      [one] => {
        inner.vars.insert(one.clone(), value.clone());
      }
      [first, second, ..] => {
        inner
          .vars
          .insert(first.clone(), Value::Text(index.to_string(), None));
        inner.vars.insert(second.clone(), value.clone());
      }
      [] => {}
    }
    inner.dot = value;
    descend(env, around, depth + 1, inner, action, out);
  }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
  Word(String),
  Text(String),
  Open,
  Close,
  Pipe,
}

fn tokens(text: &str) -> Option<Vec<Token>> {
  let mut out = Vec::new();
  let mut chars = text.chars().peekable();
  while let Some(&c) = chars.peek() {
    match c {
      c if c.is_whitespace() => {
        chars.next();
      }
      '(' | ')' | '|' => {
        chars.next();
        out.push(match c {
          '(' => Token::Open,
          ')' => Token::Close,
          _ => Token::Pipe,
        });
      }
      '"' | '`' => {
        chars.next();
        let mut literal = String::new();
        loop {
          match chars.next()? {
            '\\' if c == '"' => literal.push(chars.next()?),
            end if end == c => break,
            other => literal.push(other),
          }
        }
        out.push(Token::Text(literal));
      }
      _ => {
        let mut word = String::new();
        while let Some(&c) = chars.peek() {
          if c.is_whitespace() || matches!(c, '(' | ')' | '|' | '"' | '`') {
            break;
          }
          word.push(c);
          chars.next();
        }
        out.push(Token::Word(word));
      }
    }
  }
  Some(out)
}

/// An expression: a pipeline of commands, each a list of arguments.
#[derive(Debug, Clone)]
enum Arg {
  Word(String),
  Text(String),
  Sub(Vec<Vec<Arg>>),
}

fn pipeline(tokens: &[Token], i: &mut usize) -> Option<Vec<Vec<Arg>>> {
  let mut commands = vec![Vec::new()];
  while let Some(token) = tokens.get(*i) {
    *i += 1;
    match token {
      Token::Word(word) => commands.last_mut()?.push(Arg::Word(word.clone())),
      Token::Text(text) => commands.last_mut()?.push(Arg::Text(text.clone())),
      Token::Open => {
        let sub = pipeline(tokens, i)?;
        commands.last_mut()?.push(Arg::Sub(sub));
      }
      Token::Close => return Some(commands),
      Token::Pipe => commands.push(Vec::new()),
    }
  }
  Some(commands)
}

fn eval<'a>(env: &Env<'a>, scope: &Scope<'a>, expr: &str, depth: usize) -> Option<Value<'a>> {
  let tokens = tokens(expr)?;
  let mut i = 0;
  let commands = pipeline(&tokens, &mut i)?;
  (i == tokens.len()).then_some(())?;
  run(env, scope, &commands, depth)
}

fn run<'a>(
  env: &Env<'a>,
  scope: &Scope<'a>,
  commands: &[Vec<Arg>],
  depth: usize,
) -> Option<Value<'a>> {
  let mut piped: Option<Value<'a>> = None;
  for command in commands {
    piped = Some(call(env, scope, command, piped, depth)?);
  }
  piped
}

fn call<'a>(
  env: &Env<'a>,
  scope: &Scope<'a>,
  command: &[Arg],
  piped: Option<Value<'a>>,
  depth: usize,
) -> Option<Value<'a>> {
  let (first, rest) = command.split_first()?;
  let function = match first {
    Arg::Word(word) if word.chars().next()?.is_ascii_alphabetic() => word.as_str(),
    _ => {
      (rest.is_empty() && piped.is_none()).then_some(())?;
      return arg(env, scope, first, depth);
    }
  };
  let mut args = rest
    .iter()
    .map(|each| arg(env, scope, each, depth))
    .collect::<Option<Vec<_>>>()?;
  args.extend(piped);
  match (function, args.as_slice()) {
    ("quote" | "toString", [value]) => {
      let (text, origin) = value.text()?;
      Some(Value::Text(text, origin))
    }
    ("required", [_, value]) => {
      let (text, origin) = value.text()?;
      (!text.is_empty()).then_some(Value::Text(text, origin))
    }
    ("default", [fallback, value]) => match value.text() {
      Some((text, origin)) if !text.is_empty() => Some(Value::Text(text, origin)),
      _ => fallback
        .text()
        .map(|(text, origin)| Value::Text(text, origin)),
    },
    ("printf", [format, values @ ..]) => {
      let (format, _) = format.text()?;
      let mut text = String::new();
      let mut origin = None;
      let mut values = values.iter();
      let mut chars = format.chars();
      while let Some(c) = chars.next() {
        if c != '%' {
          text.push(c);
          continue;
        }
        match chars.next()? {
          '%' => text.push('%'),
          's' | 'v' => {
            let (part, from) = values.next()?.text()?;
            text.push_str(&part);
            origin = from.or(origin);
          }
          _ => return None,
        }
      }
      values.next().is_none().then_some(Value::Text(text, origin))
    }
    ("include", [name, value]) if depth < 8 => {
      let (name, _) = name.text()?;
      let body = env.defines.get(&name)?;
      let spans = yaml::actions(body);
      let [(start, end)] = spans.as_slice() else {
        return None;
      };
      (body[..*start].trim().is_empty() && body[*end..].trim().is_empty()).then_some(())?;
      let inner_scope = Scope {
        dot: value.clone(),
        root: value.clone(),
        vars: BTreeMap::new(),
      };
      let value = eval(env, &inner_scope, inner(&body[*start..*end]), depth + 1)?;
      let (text, origin) = value.text()?;
      Some(Value::Text(text, origin))
    }
    _ => None,
  }
}

fn arg<'a>(env: &Env<'a>, scope: &Scope<'a>, arg: &Arg, depth: usize) -> Option<Value<'a>> {
  match arg {
    Arg::Text(text) => Some(Value::Text(text.clone(), None)),
    Arg::Sub(commands) => run(env, scope, commands, depth),
    Arg::Word(word) => {
      let (start, path) = if let Some(rest) = word.strip_prefix('$') {
        let (name, path) = rest.split_once('.').unwrap_or((rest, ""));
        let start = if name.is_empty() {
          scope.root.clone()
        } else {
          scope.vars.get(&format!("${name}"))?.clone()
        };
        (start, path)
      } else {
        (scope.dot.clone(), word.strip_prefix('.')?)
      };
      field(env, start, path)
    }
  }
}

/// `path` (`a.b`, empty for the value itself) of a value.
fn field<'a>(env: &Env<'a>, start: Value<'a>, path: &str) -> Option<Value<'a>> {
  let mut parts: Vec<&str> = path.split('.').filter(|part| !part.is_empty()).collect();
  let (node, origin) = match start {
    Value::Root => {
      if parts.is_empty() {
        return Some(Value::Root);
      }
      if parts.remove(0) != "Values" {
        return None;
      }
      (env.values, None)
    }
    Value::Node(node, origin) => (node, origin),
    text @ Value::Text(..) => return parts.is_empty().then_some(text),
  };
  let node = node.at(&parts)?;
  Some(Value::Node(
    node,
    origin.map(|(file, line)| (file, if parts.is_empty() { line } else { node.line })),
  ))
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn evaluates_keys_built_from_a_prefix_helper_and_a_range() {
    let values = &yaml::parse(
      "externalSecret:\n  keyPrefix: acme/staging/\nsecretEnv:\n- name: A\n  remoteRef:\n    key: vendor\n- name: B\n",
    )
    .unwrap()[0];
    let defines = BTreeMap::from([(
      "prefix".to_string(),
      "\n{{- required \"set it\" .Values.externalSecret.keyPrefix }}\n".to_string(),
    )]);
    let env = Env {
      values,
      over: None,
      base: Some("values.yaml"),
      defines: &defines,
    };
    let actions: Vec<String> = [
      "{{- $prefix := include \"prefix\" . }}",
      "{{- range $i, $item := .Values.secretEnv }}",
      "{{ printf \"%s%s\" (include \"prefix\" $) .remoteRef.key | quote }}",
      "{{ printf \"%s%s\" $prefix $item.remoteRef.key }}",
      "{{ $i }}",
      "{{- end }}",
      "{{ .Values.externalSecret.keyPrefix | quote }}",
      "{{ $prefix }}",
    ]
    .map(str::to_string)
    .to_vec();
    let around = around(&actions);
    let at = |n: usize| texts(&env, &around[n], &actions[n]);
    let vendor = vec![("acme/staging/vendor".to_string(), Some(("values.yaml", 6)))];
    assert_eq!(at(2), vendor);
    assert_eq!(at(3), vendor);
    assert_eq!(
      at(4),
      vec![("0".to_string(), None), ("1".to_string(), None)]
    );
    assert_eq!(at(6), vec![("acme/staging/".to_string(), None)]);
    assert_eq!(at(7), vec![("acme/staging/".to_string(), None)]);
  }
}
