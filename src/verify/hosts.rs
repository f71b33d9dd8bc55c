//! `host-dns` and `host-issuer`: every host a chart exposes in an
//! environment (`expose.host` of its values) has a DNS source (an
//! external-dns add-on whose `domainFilters` cover it, or an
//! `aws_route53_record` of that name) and a certificate issuer that exists in
//! `cluster/manifests` (the `cert-manager.io/cluster-issuer` of the Gateway
//! its route attaches to, whose listener `expose.gateway.sectionName` serves
//! the host with TLS, or `expose.ingress.clusterIssuer`).

use super::repo::Chart;
use super::values::merged;
use super::yaml::Node;
use super::{Finding, Repo};

pub(super) fn check(repo: &Repo) -> Vec<Finding> {
  let mut findings = Vec::new();
  for chart in &repo.charts {
    for (env, file) in &chart.env_values {
      let values = merged(chart, Some(env));
      let Some(host) = values
        .str_at(&["expose", "host"])
        .filter(|host| !host.is_empty())
      else {
        continue;
      };
      let (path, line) =
        location(chart, env, &["expose", "host"]).unwrap_or((file.path.clone(), 1));
      if !has_dns(repo, env, host) {
        findings.push(Finding::new(
          &path,
          line,
          "host-dns",
          format!(
            "host `{host}` has no DNS source in {env}: no external-dns add-on covers it and no aws_route53_record names it"
          ),
        ));
      }
      if let Some(problem) = issuer_problem(repo, env, &values) {
        findings.push(Finding::new(
          &path,
          line,
          "host-issuer",
          format!("host `{host}` gets no certificate in {env}: {problem}"),
        ));
      }
    }
  }
  findings
}

/// The file and line that set a key of the merged values: the environment's
/// file first.
pub(super) fn location(chart: &Chart, env: &str, path: &[&str]) -> Option<(String, usize)> {
  let env_file = chart.env_values.get(env);
  env_file
    .into_iter()
    .chain(chart.values.iter())
    .find_map(|file| {
      let node = file.docs.first()?.at(path)?;
      let parent = file.docs.first()?.at(&path[..path.len() - 1])?;
      let line = parent
        .entry(path[path.len() - 1])
        .map_or(node.line, |entry| entry.line);
      Some((file.path.clone(), line))
    })
}

/// A listener hostname (`*.example.com` covers one label) against a host.
fn covers(hostname: &str, host: &str) -> bool {
  match hostname.strip_prefix("*.") {
    Some(parent) => host
      .strip_suffix(parent)
      .and_then(|label| label.strip_suffix('.'))
      .is_some_and(|label| !label.is_empty() && !label.contains('.')),
    None => hostname == host,
  }
}

fn applies(repo: &Repo, path: &str, env: &str) -> bool {
  repo.env_of(path).is_none_or(|own| own == env)
}

fn has_dns(repo: &Repo, env: &str, host: &str) -> bool {
  let covers = |domain: &str| {
    let domain = domain.trim_end_matches('.');
    host == domain || host.ends_with(&format!(".{domain}"))
  };
  let external_dns: Vec<&Node> = repo
    .cluster
    .iter()
    .filter(|file| {
      file.path.starts_with("cluster/addons/external-dns/") && applies(repo, &file.path, env)
    })
    .flat_map(|file| file.docs.iter())
    .collect();
  if !external_dns.is_empty() {
    let filters: Vec<&str> = external_dns
      .iter()
      .flat_map(|doc| doc.walk())
      .flat_map(Node::entries)
      .filter(|entry| entry.key == "domainFilters")
      .flat_map(|entry| entry.value.items().iter().filter_map(Node::str))
      .collect();
    if filters.is_empty() || filters.iter().any(|filter| covers(filter)) {
      return true;
    }
  }
  repo.scopes().any(|(module, scope)| {
    (scope.env.is_none() || scope.env.as_deref() == Some(env))
      && module
        .of_type("resource", "aws_route53_record")
        .any(|(_, block)| {
          module.instances(scope, block).iter().any(|instance| {
            instance.string(block, "name").is_some_and(|name| {
              let name = name.trim_end_matches('.');
              name == host
                || name.strip_prefix("*.").is_some_and(|parent| {
                  host.strip_suffix(parent).is_some_and(|label| {
                    label.ends_with('.') && !label[..label.len() - 1].contains('.')
                  })
                })
            })
          })
        })
  })
}

/// Why the host gets no certificate, if it does not.
fn issuer_problem(repo: &Repo, env: &str, values: &Node) -> Option<String> {
  let docs: Vec<(&str, &Node)> = repo
    .cluster_docs()
    .filter(|(file, _)| {
      file.path.starts_with("cluster/manifests/") && applies(repo, &file.path, env)
    })
    .map(|(file, doc)| (file.path.as_str(), doc))
    .collect();
  let issuer_exists = |kind: &str, name: &str| {
    docs.iter().any(|(_, doc)| {
      doc.str_at(&["kind"]) == Some(kind) && doc.str_at(&["metadata", "name"]) == Some(name)
    })
  };
  match values.str_at(&["expose", "mode"]) {
    Some("gateway") => {
      let name = values.str_at(&["expose", "gateway", "name"])?;
      let namespace = values.str_at(&["expose", "gateway", "namespace"]);
      let Some(gateway) = docs.iter().map(|(_, doc)| doc).find(|doc| {
        doc.str_at(&["kind"]) == Some("Gateway")
          && doc.str_at(&["metadata", "name"]) == Some(name)
          && (namespace.is_none() || doc.str_at(&["metadata", "namespace"]) == namespace)
      }) else {
        return Some(format!(
          "no Gateway `{name}` in namespace `{}` in cluster/manifests",
          namespace.unwrap_or("default")
        ));
      };
      if let Some(section) = values
        .str_at(&["expose", "gateway", "sectionName"])
        .filter(|section| !section.is_empty())
      {
        let listeners = gateway
          .at(&["spec", "listeners"])
          .map_or(&[][..], Node::items);
        let Some(listener) = listeners
          .iter()
          .find(|listener| listener.str_at(&["name"]) == Some(section))
        else {
          return Some(format!("Gateway `{name}` has no listener `{section}`"));
        };
        let host = values.str_at(&["expose", "host"]).unwrap_or_default();
        match listener.str_at(&["hostname"]) {
          Some(hostname) if !covers(hostname, host) => {
            return Some(format!(
              "listener `{section}` of Gateway `{name}` serves `{hostname}`, not this host"
            ));
          }
          _ => {}
        }
        if listener
          .at(&["tls", "certificateRefs"])
          .is_none_or(|refs| refs.items().is_empty())
        {
          return Some(format!(
            "listener `{section}` of Gateway `{name}` has no TLS certificateRefs for cert-manager to fill"
          ));
        }
      }
      let annotations = gateway.at(&["metadata", "annotations"]);
      let (kind, issuer) = match (
        annotations.and_then(|a| a.str_at(&["cert-manager.io/cluster-issuer"])),
        annotations.and_then(|a| a.str_at(&["cert-manager.io/issuer"])),
      ) {
        (Some(issuer), _) => ("ClusterIssuer", issuer),
        (None, Some(issuer)) => ("Issuer", issuer),
        (None, None) => {
          return Some(format!(
            "Gateway `{name}` has no cert-manager.io/cluster-issuer annotation"
          ));
        }
      };
      (!issuer_exists(kind, issuer)).then(|| {
        format!("Gateway `{name}` names {kind} `{issuer}`, which cluster/manifests does not define")
      })
    }
    Some("ingress") => {
      let Some(issuer) = values
        .str_at(&["expose", "ingress", "clusterIssuer"])
        .filter(|i| !i.is_empty())
      else {
        return Some("expose.ingress.clusterIssuer is not set".to_string());
      };
      (!issuer_exists("ClusterIssuer", issuer))
        .then(|| format!("ClusterIssuer `{issuer}` is not defined in cluster/manifests"))
    }
    _ => None,
  }
}
