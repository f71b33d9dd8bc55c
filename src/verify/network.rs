//! `netpol-dns` and `netpol-database`: every NetworkPolicy that restricts
//! egress (a chart template's, with its actions blanked, or a manifest under
//! `cluster/`) lets its pods reach DNS on UDP and TCP port 53, and the
//! NetworkPolicies of a chart whose values enable the database let them
//! reach the database port (`database.port`, literal or through
//! `.Values.database.port`).

use super::values::merged;
use super::yaml::{Blanked, Node};
use super::{Finding, Repo};

pub(super) fn check(repo: &Repo) -> Vec<Finding> {
  let mut findings = Vec::new();
  for chart in &repo.charts {
    let values = merged(chart, None);
    let database = values.str_at(&["database", "enabled"]) == Some("true");
    let port = values
      .str_at(&["database", "port"])
      .unwrap_or("5432")
      .to_string();
    for template in &chart.templates {
      let Some((blanked, docs)) = &template.blanked else {
        continue;
      };
      for doc in docs.iter().filter(|doc| is_policy(doc)) {
        let allows =
          |port: &str, protocol: &str, peer: Peer| allows(doc, port, protocol, Some(blanked), peer);
        if !(allows("53", "UDP", reaches_dns) && allows("53", "TCP", reaches_dns)) {
          findings.push(dns_finding(&template.path, doc));
        }
        if database && !allows(&port, "TCP", leaves_namespace) {
          findings.push(Finding::new(
            &template.path,
            egress_line(doc),
            "netpol-database",
            format!(
              "the chart uses the database, but no egress rule of this NetworkPolicy allows TCP port {port} (database.port)"
            ),
          ));
        }
      }
    }
  }
  for (file, doc) in repo
    .cluster_docs()
    .filter(|(_, doc)| is_policy(doc) && !is_deny_all(doc))
  {
    if !(allows(doc, "53", "UDP", None, reaches_dns) && allows(doc, "53", "TCP", None, reaches_dns))
    {
      findings.push(dns_finding(&file.path, doc));
    }
  }
  findings
}

fn is_policy(doc: &Node) -> bool {
  doc.str_at(&["kind"]) == Some("NetworkPolicy")
}

/// A baseline that selects every pod and allows nothing (the namespace's
/// default deny): it opens no traffic, so DNS is up to each pod's own policy.
fn is_deny_all(doc: &Node) -> bool {
  let selects_all = doc.at(&["spec", "podSelector"]).is_none_or(|selector| {
    selector.is_null() || (selector.is_map() && selector.entries().is_empty())
  });
  selects_all && doc.at(&["spec", "ingress"]).is_none() && doc.at(&["spec", "egress"]).is_none()
}

fn dns_finding(path: &str, doc: &Node) -> Finding {
  Finding::new(
    path,
    egress_line(doc),
    "netpol-dns",
    "no egress rule of this NetworkPolicy allows DNS (UDP and TCP port 53)",
  )
}

/// The line of `spec.egress`, else of `spec.policyTypes`, else of the document.
fn egress_line(doc: &Node) -> usize {
  let spec = doc.get("spec");
  spec
    .and_then(|spec| spec.entry("egress").or_else(|| spec.entry("policyTypes")))
    .map_or(doc.line, |entry| entry.line)
}

/// Whether a peer of an egress rule (`to` item) may be the destination.
type Peer = fn(&Node) -> bool;

/// A peer that can be CoreDNS in kube-system: any namespace selector that
/// does not name another namespace, or an IP block without exceptions (a
/// pod selector alone means the policy's own namespace).
fn reaches_dns(peer: &Node) -> bool {
  if let Some(namespaces) = peer.get("namespaceSelector") {
    return namespaces
      .str_at(&["matchLabels", "kubernetes.io/metadata.name"])
      .is_none_or(|name| name == "kube-system" || name.starts_with("__tpl"));
  }
  peer.get("ipBlock").is_some_and(|block| {
    block
      .get("except")
      .is_none_or(|except| except.items().is_empty() && !except.is_map())
  })
}

/// A peer outside the policy's own namespace: an IP block or a namespace
/// selector (the database is outside the cluster).
fn leaves_namespace(peer: &Node) -> bool {
  peer.get("ipBlock").is_some() || peer.get("namespaceSelector").is_some()
}

/// Whether the policy lets its pods send to `port`/`protocol`: egress not
/// restricted, or an egress rule to every destination or a `peer` one, on no
/// ports (all of them) or on that port.
fn allows(doc: &Node, port: &str, protocol: &str, blanked: Option<&Blanked>, peer: Peer) -> bool {
  let Some(spec) = doc.get("spec") else {
    return true;
  };
  let types: Vec<&str> = spec
    .get("policyTypes")
    .map_or(&[][..], Node::items)
    .iter()
    .filter_map(Node::str)
    .collect();
  let restricted = if spec.get("policyTypes").is_some() {
    types.contains(&"Egress")
  } else {
    spec.get("egress").is_some()
  };
  if !restricted {
    return true;
  }
  spec
    .get("egress")
    .map_or(&[][..], Node::items)
    .iter()
    .any(|rule| {
      let to = rule.get("to").map_or(&[][..], Node::items);
      if !(to.is_empty() || to.iter().any(peer)) {
        return false;
      }
      let ports = rule.get("ports").map_or(&[][..], Node::items);
      ports.is_empty()
        || ports.iter().any(|entry| {
          let protocol_ok = entry.str_at(&["protocol"]).unwrap_or("TCP") == protocol;
          let port_ok = match entry.str_at(&["port"]) {
            None => true,
            Some(given) => {
              given == port
                || blanked
                  .and_then(|blanked| blanked.action(given))
                  .is_some_and(|action| port != "53" && action.contains(".Values.database.port"))
            }
          };
          protocol_ok && port_ok
        })
    })
}
