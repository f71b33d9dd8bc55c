//! `namespace-quota`: in each environment, the charts' pods at their most
//! replicas (`autoscaling.maxReplicas` when autoscaling is enabled, else
//! `replicaCount`, from `values.yaml` with `values-<env>.yaml` over it) fit
//! the hard limits of every ResourceQuota under `cluster/manifests/` that
//! applies to it: the sum of their `resources.requests` within
//! `requests.cpu` and `requests.memory`, of their `resources.limits` within
//! `limits.cpu` and `limits.memory`, their count within `pods`. A quota
//! below that leaves a service unable to scale out; a chart whose values
//! lack a number is left to `chart-values`.

use super::values::merged;
use super::yaml::Node;
use super::{Finding, Repo};
use crate::blueprint::quota::{cpu_millis, format_cpu, format_memory, memory_bytes};

/// What a quota key sums: the values path of one pod's amount (none:
/// pods count one each), how to read it and how to print it.
type Measure = (
  &'static [&'static str],
  fn(&str) -> Option<u64>,
  fn(u64) -> String,
);

/// One chart's pods in one environment.
struct Pods {
  chart: String,
  count: u64,
  values: Node,
}

pub(super) fn check(repo: &Repo) -> Vec<Finding> {
  let mut findings = Vec::new();
  for (file, doc) in repo
    .cluster_docs()
    .filter(|(_, doc)| doc.str_at(&["kind"]) == Some("ResourceQuota"))
  {
    let Some(hard) = doc.at(&["spec", "hard"]) else {
      continue;
    };
    for env in repo.envs_of(&file.path) {
      let pods: Vec<Pods> = repo
        .charts
        .iter()
        .filter_map(|chart| {
          let values = merged(chart, Some(&env));
          let count = if values.str_at(&["autoscaling", "enabled"]) == Some("true") {
            values.str_at(&["autoscaling", "maxReplicas"])
          } else {
            values.str_at(&["replicaCount"])
          }?
          .parse()
          .ok()?;
          Some(Pods {
            chart: chart.name.clone(),
            count,
            values,
          })
        })
        .collect();
      for entry in hard.entries() {
        let Some(quota) = entry.value.str() else {
          continue;
        };
        let (path, parse, show): Measure = match entry.key.as_str() {
          "requests.cpu" | "cpu" => (&["resources", "requests", "cpu"], cpu_millis, format_cpu),
          "requests.memory" | "memory" => (
            &["resources", "requests", "memory"],
            memory_bytes,
            format_memory,
          ),
          "limits.cpu" => (&["resources", "limits", "cpu"], cpu_millis, format_cpu),
          "limits.memory" => (
            &["resources", "limits", "memory"],
            memory_bytes,
            format_memory,
          ),
          "pods" => (&[], |text: &str| text.parse().ok(), |n: u64| n.to_string()),
          _ => continue,
        };
        let Some(allowed) = parse(quota) else {
          findings.push(Finding::new(
            &file.path,
            entry.line,
            "namespace-quota",
            format!("`{}: {quota}` is not a quantity", entry.key),
          ));
          continue;
        };
        let mut total = 0u64;
        let mut terms = Vec::new();
        for chart in &pods {
          let per_pod = if path.is_empty() {
            Some(1)
          } else {
            chart.values.str_at(path).and_then(parse)
          };
          let Some(per_pod) = per_pod else { continue };
          total = total.saturating_add(per_pod.saturating_mul(chart.count));
          terms.push(if path.is_empty() {
            format!("{} {}", chart.chart, chart.count)
          } else {
            format!("{} {} × {}", chart.chart, chart.count, show(per_pod))
          });
        }
        if total > allowed {
          findings.push(Finding::new(
            &file.path,
            entry.line,
            "namespace-quota",
            format!(
              "{} `{quota}` is below the {} the charts' pods need at their most replicas in {env} ({})",
              entry.key,
              show(total),
              terms.join(" + ")
            ),
          ));
        }
      }
    }
  }
  findings
}
