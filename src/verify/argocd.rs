//! `argocd-source`, `argocd-destination`: the Argo CD Applications under
//! `cluster/` (with `delivery.mode: argocd`) name a chart of the repository
//! and values files that exist (the paths of `valueFiles` are relative to the
//! chart's folder, and stay inside the repository), and deploy into the
//! platform's namespace (the Namespace of `cluster/manifests/deployers.yaml`),
//! which their AppProject allows.
//!
//! `argocd-cluster`: an Application that names its destination cluster (the
//! EKS managed capability, which has no in-cluster server) names a cluster
//! Secret under `cluster/` (`argocd.argoproj.io/secret-type: cluster`) that
//! admits its namespace and its project.

use std::collections::BTreeSet;

use super::yaml::Node;
use super::{Finding, Repo};

const DEPLOYERS: &str = "cluster/manifests/deployers.yaml";

pub(super) fn check(repo: &Repo) -> Vec<Finding> {
  let mut findings = Vec::new();
  let platform_namespace = repo
    .cluster
    .iter()
    .filter(|file| file.path == DEPLOYERS)
    .flat_map(|file| &file.docs)
    .find(|doc| doc.str_at(&["kind"]) == Some("Namespace"))
    .and_then(|doc| doc.str_at(&["metadata", "name"]));
  let projects: Vec<(&str, &Node)> = repo
    .cluster_docs()
    .filter(|(_, doc)| is(doc, "AppProject"))
    .map(|(file, doc)| (file.path.as_str(), doc))
    .collect();
  for (file, doc) in repo
    .cluster_docs()
    .filter(|(_, doc)| is(doc, "Application"))
  {
    let name = doc.str_at(&["metadata", "name"]).unwrap_or("?");
    let line = |path: &[&str]| doc.at(path).map_or(doc.line, |node| node.line);
    let Some(source) = doc.at(&["spec", "source"]) else {
      findings.push(Finding::new(
        &file.path,
        doc.line,
        "argocd-source",
        format!("Application `{name}` has no spec.source (one chart of this repository)"),
      ));
      continue;
    };
    let path = source.str_at(&["path"]).unwrap_or_default();
    let chart = format!("{}/Chart.yaml", path.trim_end_matches('/'));
    if path.is_empty() || !repo.files.contains(&chart) {
      findings.push(Finding::new(
        &file.path,
        line(&["spec", "source", "path"]),
        "argocd-source",
        format!(
          "Application `{name}` syncs the chart `{path}`, but the repository has no `{chart}`"
        ),
      ));
    } else {
      let files = source
        .at(&["helm", "valueFiles"])
        .map_or(&[][..], Node::items);
      for value_file in files {
        let Some(relative) = value_file.str() else {
          continue;
        };
        match join(path, relative) {
          Some(joined) if repo.files.contains(&joined) => {}
          Some(joined) => findings.push(Finding::new(
            &file.path,
            value_file.line,
            "argocd-source",
            format!("Application `{name}` reads the values file `{relative}` (`{joined}`), which does not exist"),
          )),
          None => findings.push(Finding::new(
            &file.path,
            value_file.line,
            "argocd-source",
            format!("Application `{name}` reads the values file `{relative}`, outside the repository"),
          )),
        }
      }
    }
    let namespace = doc.str_at(&["spec", "destination", "namespace"]);
    if let Some(platform) = platform_namespace
      && namespace != Some(platform)
    {
      findings.push(Finding::new(
        &file.path,
        line(&["spec", "destination", "namespace"]),
        "argocd-destination",
        format!(
          "Application `{name}` deploys into namespace `{}`, not the platform's namespace `{platform}` ({DEPLOYERS})",
          namespace.unwrap_or("(none)")
        ),
      ));
    }
    let project = doc.str_at(&["spec", "project"]).unwrap_or("default");
    if let Some(cluster) = doc.str_at(&["spec", "destination", "name"])
      && let Some(problem) = cluster_problem(repo, cluster, namespace, project)
    {
      findings.push(Finding::new(
        &file.path,
        line(&["spec", "destination", "name"]),
        "argocd-cluster",
        format!("Application `{name}` deploys to the cluster `{cluster}`, but {problem}"),
      ));
    }
    let allowed = projects
      .iter()
      .filter(|(path, project_doc)| {
        repo.env_of(path) == repo.env_of(&file.path)
          && project_doc.str_at(&["metadata", "name"]) == Some(project)
      })
      .any(|(_, project_doc)| {
        project_doc
          .at(&["spec", "destinations"])
          .map_or(&[][..], Node::items)
          .iter()
          .any(|destination| {
            let allowed = destination.str_at(&["namespace"]);
            allowed == Some("*") || (allowed.is_some() && allowed == namespace)
          })
      });
    if !allowed {
      findings.push(Finding::new(
        &file.path,
        line(&["spec", "project"]),
        "argocd-destination",
        format!(
          "Application `{name}`: no AppProject `{project}` next to it allows namespace `{}`",
          namespace.unwrap_or("(none)")
        ),
      ));
    }
  }
  findings
}

/// Why the cluster Secret named `cluster` does not take an Application into
/// `namespace` of `project`, if it does not.
fn cluster_problem(
  repo: &Repo,
  cluster: &str,
  namespace: Option<&str>,
  project: &str,
) -> Option<String> {
  let secret = repo.cluster_docs().map(|(_, doc)| doc).find(|doc| {
    doc.str_at(&["kind"]) == Some("Secret")
      && doc.str_at(&["metadata", "labels", "argocd.argoproj.io/secret-type"]) == Some("cluster")
      && doc.str_at(&["stringData", "name"]) == Some(cluster)
  });
  let Some(secret) = secret else {
    return Some("no cluster Secret under cluster/ registers it".into());
  };
  if let Some(listed) = secret.str_at(&["stringData", "namespaces"]) {
    let admitted = listed
      .split(',')
      .map(str::trim)
      .any(|n| Some(n) == namespace);
    if !admitted {
      return Some(format!(
        "its cluster Secret admits only the namespaces `{listed}`, not `{}`",
        namespace.unwrap_or("(none)")
      ));
    }
  }
  match secret.str_at(&["stringData", "project"]) {
    Some(owner) if owner != project => Some(format!(
      "its cluster Secret belongs to the AppProject `{owner}`, not `{project}`"
    )),
    _ => None,
  }
}

/// The namespaces the Applications deploy charts into.
pub(super) fn application_namespaces(repo: &Repo) -> BTreeSet<String> {
  repo
    .cluster_docs()
    .filter(|(_, doc)| is(doc, "Application"))
    .filter_map(|(_, doc)| doc.str_at(&["spec", "destination", "namespace"]))
    .map(str::to_string)
    .collect()
}

fn is(doc: &Node, kind: &str) -> bool {
  doc.str_at(&["kind"]) == Some(kind)
    && doc
      .str_at(&["apiVersion"])
      .is_some_and(|api| api.starts_with("argoproj.io/"))
}

/// `relative` against the folder `base`, `..` resolved; `None` when it
/// leaves the repository. A leading `/` is the repository's root, as in Argo CD.
fn join(base: &str, relative: &str) -> Option<String> {
  let mut parts: Vec<&str> = if relative.starts_with('/') {
    Vec::new()
  } else {
    base
      .split('/')
      .filter(|p| !p.is_empty() && *p != ".")
      .collect()
  };
  for part in relative.split('/') {
    match part {
      "" | "." => {}
      ".." => {
        parts.pop()?;
      }
      other => parts.push(other),
    }
  }
  Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn value_files_are_relative_to_the_chart() {
    assert_eq!(
      join("charts/api", "../../deploy/staging/images/api.yaml").as_deref(),
      Some("deploy/staging/images/api.yaml")
    );
    assert_eq!(
      join("charts/api", "values-staging.yaml").as_deref(),
      Some("charts/api/values-staging.yaml")
    );
    assert_eq!(join("charts/api", "../../../etc/passwd"), None);
    assert_eq!(
      join("charts/api", "/deploy/x.yaml").as_deref(),
      Some("deploy/x.yaml")
    );
  }
}
