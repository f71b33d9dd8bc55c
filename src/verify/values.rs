//! `chart-values`: every `.Values.a.b` path a chart's templates read (in
//! their `{{ … }}` actions, comments left out) is set in `values.yaml`
//! merged with each `values-<env>.yaml`, so that `helm template -f
//! values-<env>.yaml` has every key it reads without `--set`.

use super::repo::Chart;
use super::yaml::{self, Entry, Kind, Node};
use super::{Finding, Repo, list};

/// `values.yaml` with `values-<env>.yaml` over it (maps merge key by key, the
/// environment's other values replace), as Helm merges them.
pub(crate) fn merged(chart: &Chart, env: Option<&str>) -> Node {
  let empty = Node {
    line: 1,
    kind: Kind::Map(Vec::new()),
  };
  let base = chart
    .values
    .as_ref()
    .and_then(|file| file.docs.first())
    .cloned()
    .unwrap_or_else(|| empty.clone());
  match env
    .and_then(|env| chart.env_values.get(env))
    .and_then(|file| file.docs.first())
  {
    Some(over) => merge(&base, over),
    None => base,
  }
}

fn merge(base: &Node, over: &Node) -> Node {
  match (&base.kind, &over.kind) {
    (Kind::Map(base_entries), Kind::Map(over_entries)) => {
      let mut entries: Vec<Entry> = base_entries.clone();
      for entry in over_entries {
        match entries
          .iter_mut()
          .find(|existing| existing.key == entry.key)
        {
          Some(existing) => existing.value = merge(&existing.value, &entry.value),
          None => entries.push(entry.clone()),
        }
      }
      Node {
        line: base.line,
        kind: Kind::Map(entries),
      }
    }
    _ => over.clone(),
  }
}

/// The `.Values` paths an action text reads, with their byte offsets.
fn paths(action: &str) -> Vec<(usize, Vec<String>)> {
  let mut out = Vec::new();
  let mut from = 0;
  while let Some(at) = action[from..].find(".Values").map(|at| at + from) {
    let mut end = at + ".Values".len();
    let mut segments = Vec::new();
    let bytes = action.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let before_ok = at == 0 || !ident(bytes[at - 1]);
    while before_ok && end < bytes.len() && bytes[end] == b'.' {
      let start = end + 1;
      let mut stop = start;
      while stop < bytes.len() && ident(bytes[stop]) {
        stop += 1;
      }
      if stop == start {
        break;
      }
      segments.push(action[start..stop].to_string());
      end = stop;
    }
    if before_ok && !segments.is_empty() && (end >= bytes.len() || !ident(bytes[end])) {
      out.push((at, segments));
    }
    from = end.max(at + 1);
  }
  out
}

fn is_set(values: &Node, path: &[String]) -> bool {
  let mut node = values;
  for segment in path {
    match node.get(segment) {
      Some(next) => node = next,
      None => return false,
    }
  }
  true
}

pub(super) fn check(repo: &Repo) -> Vec<Finding> {
  let mut findings = Vec::new();
  for chart in &repo.charts {
    let envs: Vec<Option<&str>> = if chart.env_values.is_empty() {
      vec![None]
    } else {
      chart
        .env_values
        .keys()
        .map(|env| Some(env.as_str()))
        .collect()
    };
    let merged: Vec<(Option<&str>, Node)> =
      envs.iter().map(|env| (*env, merged(chart, *env))).collect();
    for template in &chart.templates {
      let text = &template.text;
      for (start, end) in yaml::actions(text) {
        let action = &text[start..end];
        if action.trim_start_matches(['{', '-', ' ']).starts_with("/*") {
          continue;
        }
        for (offset, path) in paths(action) {
          let missing: Vec<String> = merged
            .iter()
            .filter(|(_, values)| !is_set(values, &path))
            .filter_map(|(env, _)| *env)
            .map(str::to_string)
            .collect();
          let unset_everywhere = merged.iter().all(|(_, values)| !is_set(values, &path));
          if missing.is_empty() && !unset_everywhere {
            continue;
          }
          let line = text[..start + offset].matches('\n').count() + 1;
          let shown = format!(".Values.{}", path.join("."));
          let message = if chart.env_values.is_empty() {
            format!("`{shown}` is read but not set in values.yaml")
          } else {
            let files: Vec<String> = missing
              .iter()
              .map(|env| format!("values-{env}.yaml"))
              .collect();
            format!(
              "`{shown}` is read but set neither in values.yaml nor in {}",
              list(&files)
            )
          };
          findings.push(Finding::new(&template.path, line, "chart-values", message));
        }
      }
    }
  }
  findings
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn finds_values_paths_in_actions() {
    let found: Vec<Vec<String>> = paths("{{ if and .Values.a.b $.Values.c_d (x.Values.e) }}")
      .into_iter()
      .map(|(_, path)| path)
      .collect();
    assert_eq!(
      found,
      [
        vec!["a".to_string(), "b".to_string()],
        vec!["c_d".to_string()]
      ]
    );
  }
}
