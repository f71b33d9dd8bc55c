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

/// `compute: auto-mode`: EKS Auto Mode's compute, storage and load
/// balancing replace the node groups, the add-ons and their roles; each node
/// group is a NodePool on the `default` NodeClass, and NetworkPolicy
/// enforcement is switched on.
#[test]
fn auto_mode_replaces_the_node_groups_add_ons_and_their_roles() {
  let (_, auto) = render_builtin("harbor");
  let (_, node_groups) = render_builtin("acme-shop");
  let eks = file(&auto, "infra/eks.tf");
  assert!(eks.contains("compute_config = {\n    enabled    = true\n    node_pools = [\"general-purpose\", \"system\"]\n  }"), "{eks}");
  for absent in [
    "eks_managed_node_groups",
    "addons = {",
    "aws-ebs-csi-driver",
    "vpc-cni",
  ] {
    assert!(!eks.contains(absent), "{absent} in {eks}");
    assert!(
      file(&node_groups, "infra/eks.tf").contains(absent),
      "{absent}"
    );
  }
  for path in [
    "infra/load-balancer.tf",
    "infra/policies/aws-load-balancer-controller.json",
    "cluster/addons/aws-load-balancer-controller/values.yaml",
    "cluster/addons/cluster-autoscaler/values.yaml",
  ] {
    assert!(!auto.files.contains_key(path), "{path}");
    assert!(node_groups.files.contains_key(path), "{path}");
  }
  let iam = file(&auto, "infra/iam.tf");
  assert!(!iam.contains("cluster_autoscaler"), "{iam}");
  assert!(!file(&auto, "infra/variables.tf").contains("variable \"node_groups\""));
  let storage = file(&auto, "infra/storage.tf");
  assert!(
    storage.contains("role   = module.eks.cluster_iam_role_name"),
    "{storage}"
  );
  assert!(!storage.contains("aws_iam_role\" \"ebs_csi\""), "{storage}");

  let class = yaml(file(&auto, "cluster/manifests/storage-class.yaml"));
  assert_eq!(
    class["provisioner"].as_str(),
    Some("ebs.csi.eks.amazonaws.com")
  );
  let class = yaml(file(&node_groups, "cluster/manifests/storage-class.yaml"));
  assert_eq!(class["provisioner"].as_str(), Some("ebs.csi.aws.com"));

  let nginx = yaml(file(
    &auto,
    "cluster/addons/nginx-gateway-fabric/values.yaml",
  ));
  assert_eq!(
    nginx["nginx"]["service"]["loadBalancerClass"].as_str(),
    Some("eks.amazonaws.com/nlb")
  );
  let config = yaml(file(&auto, "cluster/manifests/network-policy.yaml"));
  assert_eq!(config["metadata"]["name"].as_str(), Some("amazon-vpc-cni"));
  assert_eq!(
    config["data"]["enable-network-policy-controller"].as_str(),
    Some("true")
  );

  for env in ["staging", "production"] {
    let pools = file(&auto, &format!("cluster/manifests/{env}/node-pools.yaml"));
    let docs: Vec<_> = pools.split("\n---\n").map(yaml).collect();
    let names: Vec<_> = docs
      .iter()
      .map(|d| d["metadata"]["name"].as_str().unwrap())
      .collect();
    assert_eq!(names, ["general", "burst"]);
    for doc in &docs {
      let class = &doc["spec"]["template"]["spec"]["nodeClassRef"];
      assert_eq!(class["group"].as_str(), Some("eks.amazonaws.com"));
      assert_eq!(class["kind"].as_str(), Some("NodeClass"));
      assert_eq!(class["name"].as_str(), Some("default"));
    }
    let install = file(&auto, "cluster/install.sh");
    assert!(
      install.contains("manifests/$env/node-pools.yaml"),
      "{install}"
    );
  }
}
