//! Template overrides that would never finish: an include, import or extends
//! that leads back to the template itself, or a macro that calls itself,
//! directly or through others. Tera would recurse until the stack overflows
//! and the process aborts; these are refused before rendering, naming the
//! override.

use std::collections::{BTreeMap, BTreeSet};

/// The templates `text` includes, imports or extends, by name.
fn references(text: &str) -> Vec<String> {
  let mut found = Vec::new();
  for tag in tags(text) {
    let tag = tag.trim_start();
    for keyword in ["include", "import", "extends"] {
      if let Some(rest) = tag.strip_prefix(keyword)
        && rest.starts_with(char::is_whitespace)
        && let Some(name) = quoted(rest.trim_start())
      {
        found.push(name.to_string());
      }
    }
  }
  found
}

/// The inside of each `{% … %}` tag, without whitespace control marks.
fn tags(text: &str) -> impl Iterator<Item = &str> {
  text.split("{%").skip(1).filter_map(|part| {
    let inside = part.split("%}").next()?;
    Some(inside.trim_start_matches('-').trim_end_matches('-'))
  })
}

/// The first quoted string at the start of `text`.
fn quoted(text: &str) -> Option<&str> {
  let quote = text
    .chars()
    .next()
    .filter(|c| matches!(c, '"' | '\'' | '`'))?;
  let rest = &text[1..];
  rest.find(quote).map(|end| &rest[..end])
}

/// Each macro defined in `text` and the macros its body calls
/// (`self::name(` or `<namespace>::name(`, by name).
fn macros(text: &str) -> Vec<(String, BTreeSet<String>)> {
  let mut found = Vec::new();
  let mut rest = text;
  while let Some(start) = rest.find("macro ") {
    let before = &rest[..start];
    let after = &rest[start + "macro ".len()..];
    rest = after;
    // Only `{% macro name(…) %}` opens a macro.
    if !before.trim_end_matches([' ', '-']).ends_with("{%") {
      continue;
    }
    let Some(open) = after.find('(') else { break };
    let name = after[..open].trim().to_string();
    let body_end = after.find("endmacro").unwrap_or(after.len());
    let body = &after[open..body_end];
    let calls = body
      .match_indices("::")
      .filter_map(|(at, _)| {
        let called: String = body[at + 2..]
          .chars()
          .take_while(|c| c.is_alphanumeric() || *c == '_')
          .collect();
        (!called.is_empty() && body[at + 2 + called.len()..].starts_with('(')).then_some(called)
      })
      .collect();
    found.push((name, calls));
  }
  found
}

/// A cycle in `graph` through a node `keep` accepts, as the path around it.
fn cycle(
  graph: &BTreeMap<String, BTreeSet<String>>,
  keep: impl Fn(&str) -> bool,
) -> Option<Vec<String>> {
  // Iterative depth-first search with colours: 1 on the path, 2 done.
  let mut colour: BTreeMap<&str, u8> = BTreeMap::new();
  for start in graph.keys() {
    if colour.contains_key(start.as_str()) {
      continue;
    }
    let mut path: Vec<(&str, Vec<&str>)> = Vec::new();
    colour.insert(start, 1);
    path.push((start, graph[start].iter().map(String::as_str).collect()));
    while let Some((node, next)) = path.last_mut() {
      let node = *node;
      match next.pop() {
        Some(child) => match colour.get(child) {
          Some(1) => {
            let at = path.iter().position(|(n, _)| *n == child).unwrap_or(0);
            let mut around: Vec<String> = path[at..].iter().map(|(n, _)| n.to_string()).collect();
            around.push(child.to_string());
            if around.iter().any(|n| keep(n)) {
              return Some(around);
            }
          }
          Some(_) => {}
          None => {
            colour.insert(child, 1);
            let children = graph
              .get(child)
              .map(|c| c.iter().map(String::as_str).collect())
              .unwrap_or_default();
            path.push((child, children));
          }
        },
        None => {
          colour.insert(node, 2);
          path.pop();
        }
      }
    }
  }
  None
}

/// Why rendering with the overrides would never finish: the override to
/// blame and the cycle, or `None`.
pub(crate) fn check(
  templates: &BTreeMap<String, String>,
  overrides: &BTreeSet<String>,
) -> Option<(String, String)> {
  let graph: BTreeMap<String, BTreeSet<String>> = templates
    .iter()
    .map(|(name, text)| (name.clone(), references(text).into_iter().collect()))
    .collect();
  if let Some(around) = cycle(&graph, |n| overrides.contains(n)) {
    let blame = around
      .iter()
      .find(|n| overrides.contains(n.as_str()))?
      .clone();
    return Some((blame, format!("includes itself: {}", around.join(" → "))));
  }
  for name in overrides {
    let Some(text) = templates.get(name) else {
      continue;
    };
    let calls: BTreeMap<String, BTreeSet<String>> = macros(text).into_iter().collect();
    if let Some(around) = cycle(&calls, |_| true) {
      return Some((
        name.clone(),
        format!("has a macro that calls itself: {}", around.join(" → ")),
      ));
    }
  }
  None
}

#[cfg(test)]
mod tests {
  use super::*;

  fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(ToString::to_string).collect()
  }

  #[test]
  fn finds_includes_that_lead_back() {
    let mut templates = BTreeMap::new();
    templates.insert(
      "a.tera".to_string(),
      "{%- include \"b.tera\" -%}".to_string(),
    );
    templates.insert(
      "b.tera".to_string(),
      "{% import 'a.tera' as a %}".to_string(),
    );
    templates.insert("c.tera".to_string(), "{% include \"a.tera\" %}".to_string());
    let (blame, why) = check(&templates, &set(&["b.tera"])).unwrap();
    assert_eq!(blame, "b.tera");
    assert!(why.starts_with("includes itself: "), "{why}");
    templates.insert("b.tera".to_string(), "plain".to_string());
    assert_eq!(check(&templates, &set(&["b.tera"])), None);
  }

  #[test]
  fn finds_macros_that_call_themselves() {
    let mut templates = BTreeMap::new();
    let text = "{% macro a(x) %}{{ self::b(x=x) }}{% endmacro a %}{% macro b(x) %}{{ self::a(x=x) }}{% endmacro b %}";
    templates.insert("m.tera".to_string(), text.to_string());
    let (_, why) = check(&templates, &set(&["m.tera"])).unwrap();
    assert!(
      why.contains("a → b → a") || why.contains("b → a → b"),
      "{why}"
    );
    let fine =
      "{% macro a(x) %}{{ self::b(x=x) }}{% endmacro a %}{% macro b(x) %}{{ x }}{% endmacro b %}";
    templates.insert("m.tera".to_string(), fine.to_string());
    assert_eq!(check(&templates, &set(&["m.tera"])), None);
  }
}
