//! `secret-created`: every Secrets Manager secret an ExternalSecret reads
//! (the `remoteRef.key` / `extract.key` of chart values, chart templates and
//! cluster manifests) is created by an `aws_secretsmanager_secret` of the
//! same name in that environment, or declared user-provided by a
//! `data "aws_secretsmanager_secret"` of that name, which makes Terraform
//! fail early when nobody created it. A template key that prints a value
//! (`{{ .Values.a.b | quote }}`) is checked with each environment's value;
//! other template keys and empty values (the RDS-managed secret's ARN,
//! passed at deploy time) are not checked, nor keys given as ARNs.

use std::collections::BTreeSet;

use super::values::merged;
use super::yaml::Node;
use super::{Finding, Repo, list};

const RULE: &str = "secret-created";

/// A key read, where, and in which environments (`None`: those of its file).
struct Read<'a> {
  file: &'a str,
  line: usize,
  key: &'a str,
  envs: Option<Vec<String>>,
}

pub(super) fn check(repo: &Repo) -> Vec<Finding> {
  let merged_all: Vec<Vec<(String, Node)>> = repo
    .charts
    .iter()
    .map(|chart| {
      chart
        .env_values
        .keys()
        .map(|env| (env.clone(), merged(chart, Some(env))))
        .collect()
    })
    .collect();
  let mut reads = Vec::new();
  for (chart, merged_values) in repo.charts.iter().zip(&merged_all) {
    for file in chart.values.iter().chain(chart.env_values.values()) {
      for doc in &file.docs {
        keys(doc, &file.path, &mut reads);
      }
    }
    for template in &chart.templates {
      if let Some((blanked, docs)) = &template.blanked {
        let mut found = Vec::new();
        for doc in docs {
          keys(doc, &template.path, &mut found);
        }
        for read in found {
          match blanked.action(read.key) {
            // A key from the values (`{{ .Values.a.b | quote }}`): the value
            // of each environment; an empty one is passed at deploy time.
            Some(action) => {
              let Some(path) = values_path(action) else {
                continue;
              };
              for env in chart.env_values.keys() {
                let values = merged_values.iter().find(|(name, _)| name == env);
                if let Some((_, values)) = values
                  && let Some(key) = values.at(&path).and_then(Node::str)
                {
                  reads.push(Read {
                    file: read.file,
                    line: read.line,
                    key,
                    envs: Some(vec![env.clone()]),
                  });
                }
              }
            }
            None if !read.key.contains("__tpl") => reads.push(read),
            None => {}
          }
        }
      }
    }
  }
  for (file, doc) in repo.cluster_docs() {
    keys(doc, &file.path, &mut reads);
  }

  // Names created (or declared) per environment; `None` for modules that are
  // not per environment.
  let mut created: Vec<(Option<String>, String, bool)> = Vec::new();
  for (module, scope) in repo.scopes() {
    for (ident, prefix_allowed) in [("resource", true), ("data", false)] {
      for (_, block) in module.of_type(ident, "aws_secretsmanager_secret") {
        for instance in module.instances(scope, block) {
          if let Some(name) = instance.string(block, "name") {
            created.push((scope.env.clone(), name, false));
          } else if prefix_allowed && let Some(prefix) = instance.string(block, "name_prefix") {
            created.push((scope.env.clone(), prefix, true));
          }
        }
      }
    }
  }
  let exists = |env: Option<&str>, key: &str| {
    created.iter().any(|(scope, name, prefix)| {
      (scope.is_none() || env.is_none() || scope.as_deref() == env)
        && if *prefix {
          key.starts_with(name.as_str())
        } else {
          name == key
        }
    })
  };

  let mut findings = Vec::new();
  for read in reads {
    if read.key.is_empty() || read.key.starts_with("arn:") {
      continue;
    }
    let envs = read.envs.clone().unwrap_or_else(|| repo.envs_of(read.file));
    let missing: BTreeSet<String> = if envs.is_empty() {
      if exists(None, read.key) {
        BTreeSet::new()
      } else {
        BTreeSet::from([String::new()])
      }
    } else {
      envs
        .into_iter()
        .filter(|env| !exists(Some(env), read.key))
        .collect()
    };
    if missing.is_empty() {
      continue;
    }
    let missing: Vec<String> = missing.into_iter().filter(|env| !env.is_empty()).collect();
    let scope = if missing.is_empty() {
      String::new()
    } else {
      format!(" in {}", list(&missing))
    };
    findings.push(Finding::new(
      read.file,
      read.line,
      RULE,
      format!(
        "secret `{}` is read but no aws_secretsmanager_secret creates it{scope}; create it in infra/, or declare it user-provided with a data \"aws_secretsmanager_secret\"",
        read.key
      ),
    ));
  }
  findings
}

/// Every `remoteRef.key` and `extract.key` under `node`.
fn keys<'a>(node: &'a Node, file: &'a str, out: &mut Vec<Read<'a>>) {
  for node in node.walk() {
    for entry in node.entries() {
      if matches!(entry.key.as_str(), "remoteRef" | "extract")
        && let Some(key) = entry.value.entry("key")
        && let Some(text) = key.value.str()
      {
        out.push(Read {
          file,
          line: key.value.line,
          key: text,
          envs: None,
        });
      }
    }
  }
}

/// `.Values.a.b` of an action that only prints it (`{{ .Values.a.b }}`,
/// `{{ .Values.a.b | quote }}`): its path.
fn values_path(action: &str) -> Option<Vec<&str>> {
  let inner = action
    .strip_prefix("{{")?
    .strip_suffix("}}")?
    .trim_matches(['-', ' ']);
  let inner = inner.strip_suffix("| quote").unwrap_or(inner).trim();
  let path: Vec<&str> = inner.strip_prefix(".Values.")?.split('.').collect();
  path
    .iter()
    .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    .then_some(path)
}
