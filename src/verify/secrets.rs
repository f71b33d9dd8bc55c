//! `secret-created`: every Secrets Manager secret an ExternalSecret reads
//! (the `remoteRef.key` / `extract.key` of chart templates, of the helpers
//! they include and of cluster manifests) is created by an
//! `aws_secretsmanager_secret` of the same name in that environment, or
//! declared user-provided by a `data "aws_secretsmanager_secret"` of that
//! name, which makes Terraform fail early when nobody created it. A template
//! key is evaluated with each environment's values (see `helm.rs`): `{{
//! .Values.a.b | quote }}`, or `{{ printf "%s%s" (include
//! "service.secretPrefix" $) .remoteRef.key }}` in a `range` over a list of
//! the values, which reads `<externalSecret.keyPrefix><key>`; the finding is
//! located where the values set the key's last part when it comes from a
//! list item, else at the template. Keys that do not evaluate, empty ones
//! (the RDS-managed secret's ARN, passed at deploy time) and keys given as
//! ARNs are not checked. A helper is read where a template includes it and
//! the variables its body assigns evaluate (`required` of an empty value
//! fails the render, so the chart includes it only where it has the value).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use super::helm;
use super::values::merged;
use super::yaml::{self, Blanked, Node};
use super::{Finding, Repo, list};

const RULE: &str = "secret-created";

/// A key read, where, and in which environments (`None`: those of its file).
struct Read<'a> {
  file: &'a str,
  line: usize,
  key: Cow<'a, str>,
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
  let defines_all: Vec<BTreeMap<String, String>> = repo.charts.iter().map(helm::defines).collect();
  let mut reads = Vec::new();
  for ((chart, merged_values), defines) in repo.charts.iter().zip(&merged_all).zip(&defines_all) {
    let envs: Vec<helm::Env> = merged_values
      .iter()
      .map(|(env, values)| helm::Env {
        values,
        over: chart
          .env_values
          .get(env)
          .and_then(|file| Some((file.path.as_str(), file.docs.first()?))),
        base: chart.values.as_ref().map(|file| file.path.as_str()),
        defines,
      })
      .collect();
    for template in &chart.templates {
      if let Some((blanked, docs)) = &template.blanked {
        let mut found = Vec::new();
        for doc in docs {
          keys(doc, &template.path, &mut found);
        }
        let around = helm::around(&blanked.actions);
        for read in found {
          let Some(n) = blanked.number(&read.key) else {
            if !read.key.contains("__tpl") {
              reads.push(read);
            }
            continue;
          };
          // A key built by the template: its text in each environment,
          // located where the values set its last part (a list item's
          // `remoteRef.key`), else at the template.
          for ((env, _), values) in merged_values.iter().zip(&envs) {
            for (key, origin) in helm::texts(values, &around[n], &blanked.actions[n]) {
              let (file, line) = origin.unwrap_or((read.file, read.line));
              reads.push(Read {
                file,
                line,
                key: key.into(),
                envs: Some(vec![env.clone()]),
              });
            }
          }
        }
      }
    }
    // The ExternalSecret `data` entries of helpers a template includes
    // (`{{ include "service.databaseCredentials" . }}`), read with the
    // chart's values.
    let defines = helm::all_defines(chart);
    let blanked_defines: Vec<(Blanked, Vec<Node>)> = defines
      .iter()
      .map(|define| {
        let blanked = yaml::blank(&define.body);
        let docs = yaml::parse(&blanked.text).unwrap_or_default();
        (blanked, docs)
      })
      .collect();
    for ((env, _), values) in merged_values.iter().zip(&envs) {
      // The helpers a template includes, and those they include in turn
      // where their variables evaluate.
      let mut reached: BTreeSet<&str> = chart
        .templates
        .iter()
        .filter(|template| !template.path.ends_with(".tpl"))
        .flat_map(|template| helm::includes(&template.text))
        .collect();
      let mut checked: BTreeSet<&str> = BTreeSet::new();
      while let Some(name) = reached
        .iter()
        .find(|name| !checked.contains(*name))
        .copied()
      {
        checked.insert(name);
        let Some(index) = defines.iter().position(|define| define.name == name) else {
          continue;
        };
        let (define, (blanked, docs)) = (&defines[index], &blanked_defines[index]);
        if !helm::assigns(values, &blanked.actions) {
          continue;
        }
        reached.extend(helm::includes(&define.body));
        let mut found = Vec::new();
        for doc in docs {
          keys(doc, define.file, &mut found);
        }
        let around = helm::around(&blanked.actions);
        for read in found {
          let Some(n) = blanked.number(&read.key) else {
            continue;
          };
          let line = define.line + read.line - 1;
          for (key, origin) in helm::texts(values, &around[n], &blanked.actions[n]) {
            let (file, line) = origin.unwrap_or((define.file, line));
            reads.push(Read {
              file,
              line,
              key: key.into(),
              envs: Some(vec![env.clone()]),
            });
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

  // What is missing, by place: each key with the environments it is
  // missing in (none: a file of no environment).
  let mut missing: BTreeMap<(&str, usize), BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
  for read in &reads {
    if read.key.is_empty() || read.key.starts_with("arn:") {
      continue;
    }
    let key = read.key.as_ref();
    let envs = read.envs.clone().unwrap_or_else(|| repo.envs_of(read.file));
    let absent: BTreeSet<String> = if envs.is_empty() {
      if exists(None, key) {
        continue;
      }
      BTreeSet::new()
    } else {
      let absent: BTreeSet<String> = envs
        .into_iter()
        .filter(|env| !exists(Some(env), key))
        .collect();
      if absent.is_empty() {
        continue;
      }
      absent
    };
    missing
      .entry((read.file, read.line))
      .or_default()
      .entry(key.to_string())
      .or_default()
      .extend(absent);
  }

  let mut findings = Vec::new();
  for ((file, line), keys) in missing {
    let in_envs = |envs: &BTreeSet<String>| {
      if envs.is_empty() {
        String::new()
      } else {
        format!(" in {}", list(&envs.iter().cloned().collect::<Vec<_>>()))
      }
    };
    let message = if let [(key, envs)] = keys.iter().collect::<Vec<_>>().as_slice() {
      format!(
        "secret `{key}` is read but no aws_secretsmanager_secret creates it{}; create it in infra/, or declare it user-provided with a data \"aws_secretsmanager_secret\"",
        in_envs(envs)
      )
    } else {
      // A key built per environment (`<prefix><key>`): each name.
      let names: Vec<String> = keys
        .iter()
        .map(|(key, envs)| {
          format!(
            "`{key}`{}",
            in_envs(envs).replacen(" in ", " (in ", 1) + if envs.is_empty() { "" } else { ")" }
          )
        })
        .collect();
      format!(
        "secrets {} are read but no aws_secretsmanager_secret creates them; create them in infra/, or declare them user-provided with a data \"aws_secretsmanager_secret\"",
        list(&names)
      )
    };
    findings.push(Finding::new(file, line, RULE, message));
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
          key: text.into(),
          envs: None,
        });
      }
    }
  }
}
