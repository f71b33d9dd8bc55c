//! The generated repository's `README.md`: what is where, how to bootstrap
//! and operate it, and an architecture diagram in Mermaid drawn from the
//! blueprint, so it is never out of date.

use std::fmt::Write as _;

use serde::Serialize;

use super::{Engine, Output};
use crate::blueprint::Platform;
use crate::blueprint::model::{NatGateways, NetworkPolicy, Nginx};
use crate::names;

#[derive(Serialize)]
struct Data {
  platform: String,
  domain: String,
  region: String,
  repository: String,
  branch: String,
  diagram: String,
  environments: Vec<EnvironmentRow>,
  services: Vec<ServiceRow>,
  database: Option<String>,
  migrations_owner: Option<String>,
  first_environment: String,
  namespace: String,
}

#[derive(Serialize)]
struct EnvironmentRow {
  name: String,
  approval: bool,
  cluster: String,
  state_bucket: String,
  deploy_role: String,
  infra_environment: String,
}

#[derive(Serialize)]
struct ServiceRow {
  name: String,
  port: i64,
  hosts: Vec<String>,
  build: String,
}

pub fn render(platform: &Platform, engine: &Engine, out: &mut Output) -> Result<(), tera::Error> {
  let environments: Vec<EnvironmentRow> = platform
    .spec
    .environments
    .iter()
    .map(|env| EnvironmentRow {
      name: env.name.clone(),
      approval: env.approval,
      cluster: names::cluster(platform, env),
      state_bucket: names::state_bucket(platform, env),
      deploy_role: names::deploy_role(platform, env),
      infra_environment: names::infra_environment(platform, env),
    })
    .collect();
  let services = platform
    .spec
    .services
    .iter()
    .map(|service| ServiceRow {
      name: service.name.clone(),
      port: service.port,
      hosts: platform
        .spec
        .environments
        .iter()
        .filter_map(|env| {
          let host = platform.host(service, env)?;
          let path = service.ingress_path().unwrap_or("/");
          let path = if path == "/" {
            String::new()
          } else {
            path.to_string()
          };
          Some(format!("https://{host}{path} ({})", env.name))
        })
        .collect(),
      build: service.build_context(),
    })
    .collect();
  let data = Data {
    platform: platform.name().to_string(),
    domain: platform.spec.domain.clone(),
    region: platform.region().to_string(),
    repository: platform.spec.delivery.github.repository.clone(),
    branch: platform.branch().to_string(),
    diagram: diagram(platform),
    environments,
    services,
    database: platform.spec.database.as_ref().map(|db| db.name.clone()),
    migrations_owner: platform.migrations_owner().map(|s| s.name.clone()),
    first_environment: platform
      .spec
      .environments
      .first()
      .map(|e| e.name.clone())
      .unwrap_or_default(),
    namespace: names::app_namespace(platform),
  };
  out.managed_with_user_section("README.md", engine.render("docs/README.md.tera", &data)?);
  Ok(())
}

/// A Mermaid node id: letters, digits and `_` only.
fn id(prefix: &str, name: &str) -> String {
  let clean: String = name
    .chars()
    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
    .collect();
  format!("{prefix}_{clean}")
}

/// The architecture as a Mermaid flowchart.
pub fn diagram(platform: &Platform) -> String {
  let mut d = String::from("flowchart TB\n");
  let region = platform.region();
  let zones = platform.zones();
  let subnets = platform.subnets();
  let _ = writeln!(d, "  users([\"Users\"])");
  let _ = writeln!(
    d,
    "  github[\"GitHub Actions<br/>{}\"]",
    platform.spec.delivery.github.repository
  );
  let _ = writeln!(d, "  subgraph aws[\"AWS {region}\"]");
  let _ = writeln!(d, "    ecr[(\"ECR<br/>one repository per service\")]");
  let _ = writeln!(d, "    sm[(\"Secrets Manager\")]");
  let _ = writeln!(
    d,
    "    subgraph vpc[\"VPC {}\"]",
    platform.spec.network.cidr
  );
  for (i, zone) in zones.iter().enumerate() {
    let zid = id("zone", zone);
    let _ = writeln!(d, "      subgraph {zid}[\"{zone}\"]");
    if let Some(plan) = &subnets {
      let show = |list: &[crate::blueprint::network::Cidr]| {
        list.get(i).map(ToString::to_string).unwrap_or_default()
      };
      let _ = writeln!(d, "        {zid}_public[\"public {}\"]", show(&plan.public));
      let _ = writeln!(
        d,
        "        {zid}_private[\"private {}\"]",
        show(&plan.private)
      );
      let _ = writeln!(
        d,
        "        {zid}_database[\"database {}\"]",
        show(&plan.database)
      );
    }
    let _ = writeln!(d, "      end");
  }
  let nat = match platform.nat_gateways() {
    NatGateways::OnePerAz => "NAT gateway per zone",
    NatGateways::Single => "one NAT gateway",
    NatGateways::None => "no NAT gateway",
  };
  let _ = writeln!(d, "      nat[\"{nat}\"]");
  let _ = writeln!(
    d,
    "      subgraph eks[\"EKS {} (Kubernetes {})\"]",
    platform.name(),
    platform.kubernetes_version()
  );
  for group in &platform.spec.cluster.node_groups {
    let _ = writeln!(
      d,
      "        {}[\"node group {}<br/>{} × {}–{}\"]",
      id("ng", &group.name),
      group.name,
      group.instance_types.join(", "),
      group.min_size,
      group.max_size
    );
  }
  let entry = match platform.nginx() {
    Nginx::Gateway => "NGINX Gateway Fabric<br/>Gateway API",
    Nginx::Ingress => "ingress-nginx",
  };
  let _ = writeln!(d, "        nginx[\"{entry}<br/>TLS by cert-manager\"]");
  let _ = writeln!(d, "        eso[\"External Secrets Operator\"]");
  let policy = match platform.network_policy() {
    NetworkPolicy::Calico => "Calico (policy only)",
    NetworkPolicy::VpcCni => "VPC CNI network policy",
  };
  let _ = writeln!(d, "        policy[\"{policy}\"]");
  for service in &platform.spec.services {
    let label = match platform
      .spec
      .environments
      .last()
      .and_then(|env| platform.host(service, env))
    {
      Some(host) => format!("{}<br/>{host}", service.name),
      None => format!("{}<br/>internal", service.name),
    };
    let _ = writeln!(d, "        {}[\"{label}\"]", id("svc", &service.name));
  }
  let _ = writeln!(d, "      end");
  if let Some(db) = &platform.spec.database {
    let _ = writeln!(
      d,
      "      rds[(\"RDS PostgreSQL {}<br/>{}{}\")]",
      db.major_version(),
      db.name,
      if db.multi_az { ", multi-AZ" } else { "" }
    );
  }
  let _ = writeln!(d, "    end");
  let _ = writeln!(d, "  end");

  // Edges.
  let _ = writeln!(d, "  users -->|HTTPS| nginx");
  for service in &platform.spec.services {
    let sid = id("svc", &service.name);
    if service.ingress.is_some() {
      let _ = writeln!(d, "  nginx --> {sid}");
    }
    if service.uses_database() && platform.spec.database.is_some() {
      let _ = writeln!(d, "  {sid} -->|5432, TLS| rds");
    }
  }
  let _ = writeln!(d, "  sm -->|Pod Identity| eso");
  let _ = writeln!(d, "  eso -->|Kubernetes Secrets| eks");
  let _ = writeln!(d, "  eks -->|egress| nat");
  let _ = writeln!(d, "  github -->|OIDC: build, push| ecr");
  let _ = writeln!(d, "  github -->|OIDC: helm upgrade| eks");
  let _ = writeln!(d, "  ecr -->|images| eks");
  d
}

#[cfg(test)]
mod tests {
  use super::*;

  /// The structural rules a Mermaid flowchart must follow here: balanced
  /// subgraphs, unique ids, edges between declared nodes or subgraphs.
  pub fn check(diagram: &str) -> Result<(), String> {
    let mut lines = diagram.lines();
    if lines.next() != Some("flowchart TB") {
      return Err("must start with `flowchart TB`".into());
    }
    let mut depth = 0usize;
    let mut declared = std::collections::BTreeSet::new();
    let mut edges = Vec::new();
    for line in lines {
      let line = line.trim();
      if let Some(rest) = line.strip_prefix("subgraph ") {
        depth += 1;
        let name = rest.split('[').next().unwrap_or_default();
        if !declared.insert(name.to_string()) {
          return Err(format!("`{name}` declared twice"));
        }
      } else if line == "end" {
        depth = depth.checked_sub(1).ok_or("`end` without `subgraph`")?;
      } else if line.contains("-->") {
        let parts: Vec<&str> = line.split("-->").collect();
        let from = parts[0].trim();
        let to = parts[1].split('|').next_back().unwrap_or_default().trim();
        edges.push((from.to_string(), to.to_string()));
      } else {
        let name: String = line
          .chars()
          .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
          .collect();
        if name.is_empty() || line[name.len()..].is_empty() {
          return Err(format!("cannot read `{line}`"));
        }
        let rest = &line[name.len()..];
        let balanced = rest.matches('[').count() == rest.matches(']').count()
          && rest.matches('(').count() == rest.matches(')').count()
          && rest.matches('"').count() % 2 == 0;
        if !balanced {
          return Err(format!("unbalanced shape in `{line}`"));
        }
        if !declared.insert(name.clone()) {
          return Err(format!("`{name}` declared twice"));
        }
      }
    }
    if depth != 0 {
      return Err("unclosed subgraph".into());
    }
    for (from, to) in edges {
      for node in [&from, &to] {
        if !declared.contains(node) {
          return Err(format!("edge uses undeclared `{node}`"));
        }
      }
    }
    Ok(())
  }

  #[test]
  fn every_builtin_diagram_is_well_formed() {
    for builtin in crate::builtin::all() {
      let platform = crate::blueprint::load(builtin.text.as_bytes())
        .unwrap()
        .platform;
      let text = diagram(&platform);
      check(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", builtin.name));
      for service in &platform.spec.services {
        assert!(text.contains(&id("svc", &service.name)), "{}", service.name);
      }
    }
  }

  #[test]
  fn the_structural_check_catches_mistakes() {
    assert!(check("flowchart TB\n  subgraph a[\"x\"]\n").is_err());
    assert!(check("flowchart TB\n  a[\"x\"]\n  a --> b\n").is_err());
    assert!(check("flowchart TB\n  a[\"x\"\n").is_err());
    assert!(check("flowchart TB\n  a[\"x\"]\n  b[\"y\"]\n  a -->|label| b\n").is_ok());
  }
}
