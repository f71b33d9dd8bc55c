//! `pod-identity`: every `aws_eks_pod_identity_association` names the
//! namespace and service account of a workload that runs in the cluster: an
//! add-on that `cluster/install.sh` installs (its namespace from the
//! `chart RELEASE NAMESPACE …` line, its service account from the
//! `serviceAccount.name`s of its values files and the release name) or a
//! chart the workflows deploy (the `NAMESPACE` of the step that runs helm,
//! or the destination of an Argo CD Application; the chart's
//! `serviceAccount.name`, else the chart name).

use std::collections::BTreeSet;

use super::yaml::Node;
use super::{Finding, Repo, list};

pub(super) fn check(repo: &Repo) -> Vec<Finding> {
  let workloads = workloads(repo);
  let mut findings = Vec::new();
  for (module, scope) in repo.scopes() {
    for (file, block) in module.of_type("resource", "aws_eks_pod_identity_association") {
      for instance in module.instances(scope, block) {
        let (Some(namespace), Some(account)) = (
          instance.string(block, "namespace"),
          instance.string(block, "service_account"),
        ) else {
          continue;
        };
        if workloads.contains(&(namespace.clone(), account.clone())) {
          continue;
        }
        let in_namespace: Vec<String> = workloads
          .iter()
          .filter(|(ns, _)| *ns == namespace)
          .map(|(_, sa)| format!("`{sa}`"))
          .collect();
        let known = if in_namespace.is_empty() {
          format!("nothing that verify knows of runs in namespace `{namespace}`")
        } else {
          format!("namespace `{namespace}` runs {}", list(&in_namespace))
        };
        findings.push(Finding::new(
          &file.path,
          block.line_of("service_account"),
          "pod-identity",
          format!(
            "{} gives service account `{account}` in namespace `{namespace}` a role, but no add-on or chart runs as it ({known})",
            block.address()
          ),
        ));
      }
    }
  }
  findings
}

/// `(namespace, service account)` of every add-on and chart.
fn workloads(repo: &Repo) -> BTreeSet<(String, String)> {
  let mut out = BTreeSet::new();
  for (release, namespace, addons) in addon_releases(repo.install.as_deref().unwrap_or("")) {
    let mut names = BTreeSet::from([release]);
    for file in repo.cluster.iter().filter(|file| {
      addons
        .iter()
        .any(|addon| file.path.starts_with(&format!("cluster/addons/{addon}/")))
    }) {
      for doc in &file.docs {
        service_accounts(doc, &mut names);
      }
    }
    out.extend(names.into_iter().map(|name| (namespace.clone(), name)));
  }
  let mut namespaces = chart_namespaces(repo);
  namespaces.extend(super::argocd::application_namespaces(repo));
  for chart in &repo.charts {
    let mut names = BTreeSet::new();
    if let Some(values) = &chart.values {
      for doc in &values.docs {
        if let Some(name) = doc.str_at(&["serviceAccount", "name"]) {
          names.insert(name.to_string());
        }
      }
    }
    if names.is_empty() {
      names.insert(chart.name.clone());
    }
    for namespace in &namespaces {
      out.extend(names.iter().map(|name| (namespace.clone(), name.clone())));
    }
  }
  out
}

/// Every `serviceAccount: {name: …}` of an add-on's values.
fn service_accounts(doc: &Node, out: &mut BTreeSet<String>) {
  for node in doc.walk() {
    for entry in node.entries() {
      if entry.key == "serviceAccount"
        && let Some(name) = entry.value.str_at(&["name"])
      {
        out.insert(name.to_string());
      }
    }
  }
}

/// The `chart RELEASE NAMESPACE SOURCE VERSION … -f …/addons/<name>/…` calls
/// of the install script: release, namespace and the add-on folders of its
/// values files.
fn addon_releases(script: &str) -> Vec<(String, String, Vec<String>)> {
  let joined = script.replace("\\\n", " ");
  let mut out = Vec::new();
  for line in joined.lines() {
    let words: Vec<String> = line
      .split_whitespace()
      .map(|word| word.trim_matches(['"', '\'']).to_string())
      .collect();
    if words.first().map(String::as_str) != Some("chart") || words.len() < 5 {
      continue;
    }
    let addons = words
      .iter()
      .filter_map(|word| {
        let (_, rest) = word.split_once("addons/")?;
        rest.split('/').next().map(str::to_string)
      })
      .collect();
    out.push((words[1].clone(), words[2].clone(), addons));
  }
  out
}

/// The namespaces the workflows deploy charts into: the `NAMESPACE` of each
/// step (or its job) whose script runs `helm upgrade` or `helm install`.
fn chart_namespaces(repo: &Repo) -> BTreeSet<String> {
  let mut out = BTreeSet::new();
  for file in &repo.workflows {
    for doc in &file.docs {
      for job in doc.get("jobs").map_or(&[][..], Node::entries) {
        for step in job.value.get("steps").map_or(&[][..], Node::items) {
          let Some(script) = step.str_at(&["run"]) else {
            continue;
          };
          if !(script.contains("helm upgrade") || script.contains("helm install")) {
            continue;
          }
          let namespace = step
            .str_at(&["env", "NAMESPACE"])
            .or_else(|| job.value.str_at(&["env", "NAMESPACE"]));
          if let Some(namespace) = namespace.filter(|ns| !ns.contains("${{")) {
            out.insert(namespace.to_string());
          }
        }
      }
    }
  }
  out
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn reads_the_chart_calls_of_the_install_script() {
    let script = "chart() {\n  helm upgrade --install \"$release\"\n}\nchart external-secrets external-secrets external-secrets 2.9.0 \\\n  --repo https://x \\\n  -f \"$here/addons/external-secrets/values.yaml\"\n";
    assert_eq!(
      addon_releases(script),
      [(
        "external-secrets".to_string(),
        "external-secrets".to_string(),
        vec!["external-secrets".to_string()]
      )]
    );
  }
}
