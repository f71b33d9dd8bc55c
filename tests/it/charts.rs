//! The charts and cluster add-ons of every built-in blueprint: what holds
//! across services and environments (the full renders in `snapshots/` pin
//! the bytes).

use crate::support::output::*;
use std::collections::BTreeMap;

use oi_gen::render::Output;

fn parse(text: &str) -> yaml_serde::Value {
  yaml_serde::from_str(text).unwrap()
}

/// A chart's files that do not depend on the blueprint (all but
/// `Chart.yaml` and the values files), by path inside the chart.
fn shipped_files<'a>(output: &'a Output, service: &str) -> BTreeMap<&'a str, &'a str> {
  let prefix = format!("charts/{service}/");
  output
    .files
    .iter()
    .filter_map(|(path, file)| Some((path.strip_prefix(&prefix)?, file.contents.as_str())))
    .filter(|(path, _)| {
      *path != "Chart.yaml" && !(path.starts_with("values") && path.ends_with(".yaml"))
    })
    .collect()
}

fn is_migration_file(path: &str) -> bool {
  path.starts_with("templates/migrations-") || path == "templates/_migrations.tpl"
}

#[test]
fn every_chart_ships_the_same_templates_and_only_the_owner_the_migration_hook() {
  for builtin in oi_gen::builtin::all() {
    let (resolved, output) = render_builtin(builtin.name);
    let first = &resolved.services[0].name;
    let common: BTreeMap<_, _> = shipped_files(&output, first)
      .into_iter()
      .filter(|(path, _)| !is_migration_file(path))
      .collect();
    assert!(common.contains_key("templates/deployment.yaml"), "{first}");
    assert!(common.contains_key("values.schema.json"), "{first}");
    for service in &resolved.services {
      let files = shipped_files(&output, &service.name);
      let (migrations, others): (BTreeMap<_, _>, BTreeMap<_, _>) = files
        .into_iter()
        .partition(|(path, _)| is_migration_file(path));
      assert_eq!(others, common, "{}: {}", builtin.name, service.name);
      assert_eq!(
        !migrations.is_empty(),
        service.runs_migrations,
        "{}: {}",
        builtin.name,
        service.name
      );
    }
  }
}

#[test]
fn each_environment_gets_its_own_values_and_gateway() {
  let (resolved, output) = render_builtin("openinnovation");
  for environment in &resolved.environments {
    let name = &environment.name;
    for service in &resolved.services {
      let values =
        parse(&output.files[&format!("charts/{}/values-{name}.yaml", service.name)].contents);
      let there = service.in_environment(name).unwrap();
      assert_eq!(values["environment"], name.as_str());
      assert_eq!(
        values["image"]["repository"],
        there.image_repository.as_str()
      );
      assert_eq!(values["replicaCount"], there.replicas);
      assert_eq!(values["expose"]["host"].as_str(), there.host.as_deref());
    }
    let karpenter =
      parse(&output.files[&format!("cluster/addons/karpenter/values-{name}.yaml")].contents);
    assert_eq!(
      karpenter["settings"]["clusterName"],
      environment.names.cluster.as_str()
    );
    assert_eq!(
      karpenter["settings"]["interruptionQueue"],
      format!("{}-karpenter", environment.names.stack).as_str()
    );
    let gateway = &output.files[&format!("cluster/manifests/{name}/gateway.yaml")].contents;
    let hostnames: Vec<&str> = gateway
      .lines()
      .filter_map(|line| line.trim().strip_prefix("hostname: "))
      .collect();
    assert_eq!(hostnames, resolved.hosts(name), "{name}");
  }
  assert_ne!(
    resolved.hosts("staging"),
    resolved.hosts("production"),
    "the environments differ"
  );
}
