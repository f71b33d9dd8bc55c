//! Which blueprint fields a generated file comes from, for `oi-gen explain`.

use crate::blueprint::Platform;

/// Blueprint fields a generated path is rendered from.
pub fn sources(path: &str, platform: &Platform) -> Vec<String> {
  let parts: Vec<&str> = path.split('/').collect();
  let service = |name: &str| {
    platform
      .spec
      .services
      .iter()
      .position(|s| s.name == name)
      .map(|i| format!("spec.services[{i}] ({name})"))
  };
  let environment = |file: &str| {
    platform
      .spec
      .environments
      .iter()
      .enumerate()
      .find(|(_, e)| {
        file
          .strip_prefix(&format!("values-{}.", e.name))
          .or_else(|| file.strip_prefix(&format!("{}.", e.name)))
          .is_some()
      })
      .map(|(i, e)| format!("spec.environments[{i}] ({})", e.name))
  };
  let mut found: Vec<String> = Vec::new();
  match parts.as_slice() {
    ["infra", "environments", file] => {
      found.extend(environment(file));
      found.extend(["spec.cluster.nodeGroups".into(), "spec.database".into()]);
    }
    ["infra", rest @ ..] => {
      let file = rest.last().copied().unwrap_or_default();
      found.push("metadata.name".into());
      found.push("spec.aws.region".into());
      let topic: &[&str] = match file {
        f if f.starts_with("vpc") || f.starts_with("network") => {
          &["spec.network", "spec.aws.availabilityZones"]
        }
        f if f.starts_with("eks") || f.starts_with("cluster") => &["spec.cluster"],
        f if f.starts_with("rds") || f.starts_with("database") => &["spec.database"],
        f if f.starts_with("iam") || f.starts_with("github") => {
          &["spec.delivery.github", "spec.environments"]
        }
        f if f.starts_with("ecr") => &["spec.services"],
        f if f.starts_with(".checkov") || f.starts_with(".tflint") => &["spec.compliance"],
        _ => &["spec.environments"],
      };
      found.extend(topic.iter().map(|s| s.to_string()));
    }
    ["charts", name, rest @ ..] => {
      found.extend(service(name));
      if let Some(file) = rest.last() {
        found.extend(environment(file));
      }
      found.push("spec.domain".into());
    }
    ["cluster", ..] => found.extend([
      "spec.cluster.addons".into(),
      "spec.cluster.networkPolicy".into(),
      "spec.aws.region".into(),
    ]),
    [".github", ..] => found.extend([
      "spec.services".into(),
      "spec.environments".into(),
      "spec.delivery".into(),
      "spec.aws.region".into(),
    ]),
    ["db", ..] => found.extend(["spec.database".into(), "spec.environments".into()]),
    _ => {}
  }
  found
}
