//! The platform's alert rules and Grafana dashboards under
//! `cluster/manifests/monitoring/`, applied by `install.sh` after
//! kube-prometheus-stack. Each expression reads only metrics Prometheus
//! scrapes: kube-state-metrics (the chart's), cert-manager's (its
//! ServiceMonitor is on with monitoring) and ingress-nginx's request metrics
//! (`nginx_ingress_controller_*`, its ServiceMonitor is on with monitoring).
//! NGINX Gateway Fabric's open-source data plane exports no per-route status
//! or latency, so with `nginx: gateway` there are no request rules nor
//! dashboards.

use serde::Serialize;
use serde_json::json;

use super::versions::KUBE_PROMETHEUS_STACK;
use crate::blueprint::Resolved;
use crate::blueprint::model::Nginx;

/// The 5xx share of a service's requests that fires an alert.
pub(crate) const ERROR_RATIO: f64 = 0.05;
/// The p99 latency, in seconds, that fires an alert.
pub(crate) const P99_SECONDS: f64 = 1.0;
/// Days before a certificate's expiry that fire an alert (cert-manager
/// renews 30 days before).
pub(crate) const CERTIFICATE_DAYS: u32 = 21;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PrometheusRule {
  api_version: &'static str,
  kind: &'static str,
  metadata: Metadata,
  spec: RuleSpec,
}

#[derive(Serialize)]
pub(super) struct Metadata {
  #[serde(skip_serializing_if = "Option::is_none")]
  labels: Option<DashboardLabel>,
  name: String,
  namespace: &'static str,
}

#[derive(Serialize)]
pub(super) struct DashboardLabel {
  #[serde(rename = "grafana_dashboard")]
  grafana_dashboard: &'static str,
}

#[derive(Serialize)]
pub(super) struct RuleSpec {
  groups: Vec<RuleGroup>,
}

#[derive(Serialize)]
pub(super) struct RuleGroup {
  name: &'static str,
  rules: Vec<Rule>,
}

#[derive(Serialize)]
pub(super) struct Rule {
  alert: &'static str,
  annotations: Annotations,
  expr: String,
  #[serde(rename = "for")]
  duration: &'static str,
  labels: Severity,
}

#[derive(Serialize)]
pub(super) struct Annotations {
  description: String,
  summary: &'static str,
}

#[derive(Serialize)]
pub(super) struct Severity {
  severity: &'static str,
}

fn rule(
  alert: &'static str,
  expr: String,
  duration: &'static str,
  severity: &'static str,
  summary: &'static str,
  description: &str,
) -> Rule {
  Rule {
    alert,
    annotations: Annotations {
      description: description.to_string(),
      summary,
    },
    expr,
    duration,
    labels: Severity { severity },
  }
}

/// The services with ingress, as a regular expression over the `ingress`
/// label (each service's Ingress has its name).
fn ingresses(resolved: &Resolved) -> Option<String> {
  let names: Vec<&str> = resolved
    .services
    .iter()
    .filter(|s| s.ingress_path.is_some())
    .map(|s| s.name.as_str())
    .collect();
  (!names.is_empty()).then(|| names.join("|"))
}

/// `cluster/manifests/alerts.yaml`.
pub(super) fn alerts(resolved: &Resolved) -> PrometheusRule {
  let namespace = &resolved.namespace;
  let mut groups = vec![RuleGroup {
    name: "platform-pods",
    rules: vec![
      rule(
        "PlatformPodCrashLooping",
        format!(
          "max_over_time(kube_pod_container_status_waiting_reason{{namespace=\"{namespace}\", reason=\"CrashLoopBackOff\"}}[5m]) >= 1"
        ),
        "15m",
        "critical",
        "A container of the platform restarts again and again",
        "{{ $labels.pod }} ({{ $labels.container }}) has been crash looping for 15 minutes; its last logs:\nkubectl -n {{ $labels.namespace }} logs {{ $labels.pod }} -c {{ $labels.container }} --previous",
      ),
      rule(
        "PlatformPodNotReady",
        format!(
          "max by (namespace, pod) (kube_pod_status_ready{{namespace=\"{namespace}\", condition=\"false\"}}) == 1\nunless on (namespace, pod) max by (namespace, pod) (kube_pod_status_phase{{namespace=\"{namespace}\", phase=\"Succeeded\"}}) == 1"
        ),
        "15m",
        "warning",
        "A pod of the platform is not ready",
        "{{ $labels.pod }} has not been ready for 15 minutes; why:\nkubectl -n {{ $labels.namespace }} describe pod {{ $labels.pod }}",
      ),
    ],
  }];
  if resolved.addons.nginx == Nginx::Ingress
    && let Some(ingresses) = ingresses(resolved)
  {
    let requests = format!("nginx_ingress_controller_requests{{ingress=~\"{ingresses}\"}}");
    let errors =
      format!("nginx_ingress_controller_requests{{ingress=~\"{ingresses}\", status=~\"5..\"}}");
    groups.push(RuleGroup {
      name: "platform-services",
      rules: vec![
        rule(
          "ServiceErrorRatioHigh",
          format!(
            "sum by (ingress) (rate({errors}[5m]))\n/ sum by (ingress) (rate({requests}[5m])) > {ERROR_RATIO}"
          ),
          "10m",
          "critical",
          "A service answers too many requests with 5xx",
          &format!(
            "{{{{ $labels.ingress }}}} has answered {{{{ $value | humanizePercentage }}}} of its requests with 5xx for 10 minutes (threshold {}%).",
            ERROR_RATIO * 100.0
          ),
        ),
        rule(
          "ServiceLatencyHigh",
          format!(
            "histogram_quantile(0.99, sum by (ingress, le) (rate(nginx_ingress_controller_request_duration_seconds_bucket{{ingress=~\"{ingresses}\"}}[5m]))) > {P99_SECONDS}"
          ),
          "10m",
          "warning",
          "A service is slow",
          &format!(
            "The p99 latency of {{{{ $labels.ingress }}}} has been {{{{ $value | humanizeDuration }}}} for 10 minutes (threshold {P99_SECONDS} s)."
          ),
        ),
      ],
    });
  }
  if resolved.addons.cert_manager.is_some() {
    groups.push(RuleGroup {
      name: "platform-certificates",
      rules: vec![
        rule(
          "CertificateExpiresSoon",
          format!(
            "certmanager_certificate_expiration_timestamp_seconds - time() < {} * 86400",
            CERTIFICATE_DAYS
          ),
          "1h",
          "warning",
          "A certificate is close to its expiry and was not renewed",
          "{{ $labels.namespace }}/{{ $labels.name }} expires in {{ $value | humanizeDuration }}; why it was not renewed:\nkubectl -n {{ $labels.namespace }} describe certificate {{ $labels.name }}",
        ),
        rule(
          "CertificateNotReady",
          "max by (namespace, name) (certmanager_certificate_ready_status{condition=\"False\"}) == 1"
            .to_string(),
          "15m",
          "critical",
          "A certificate is not ready",
          "{{ $labels.namespace }}/{{ $labels.name }} has not been ready for 15 minutes; why:\nkubectl -n {{ $labels.namespace }} describe certificate {{ $labels.name }}",
        ),
      ],
    });
  }
  PrometheusRule {
    api_version: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: Metadata {
      labels: None,
      name: "platform".to_string(),
      namespace: KUBE_PROMETHEUS_STACK.namespace,
    },
    spec: RuleSpec { groups },
  }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ConfigMap {
  api_version: &'static str,
  kind: &'static str,
  metadata: Metadata,
  data: DashboardData,
}

#[derive(Serialize)]
pub(super) struct DashboardData {
  #[serde(rename = "dashboard.json")]
  dashboard: String,
}

fn panel(id: u32, title: &str, unit: &str, expr: &str, legend: &str, x: u32) -> serde_json::Value {
  json!({
    "datasource": { "type": "prometheus", "uid": "prometheus" },
    "fieldConfig": { "defaults": { "unit": unit }, "overrides": [] },
    "gridPos": { "h": 8, "w": 8, "x": x, "y": 0 },
    "id": id,
    "targets": [{ "expr": expr, "legendFormat": legend, "refId": "A" }],
    "title": title,
    "type": "timeseries",
  })
}

/// One dashboard per service with ingress (`nginx: ingress`): its requests
/// by status, its 5xx share and its latency percentiles.
pub(super) fn dashboards(resolved: &Resolved) -> Vec<ConfigMap> {
  if resolved.addons.nginx != Nginx::Ingress || !resolved.addons.grafana {
    return Vec::new();
  }
  resolved
    .services
    .iter()
    .filter(|s| s.ingress_path.is_some())
    .map(|service| {
      let name = &service.name;
      let selector = format!("ingress=\"{name}\"");
      let dashboard = json!({
        "editable": false,
        "panels": [
          panel(
            1,
            "Requests by status",
            "reqps",
            &format!("sum by (status) (rate(nginx_ingress_controller_requests{{{selector}}}[5m]))"),
            "{{status}}",
            0,
          ),
          panel(
            2,
            "5xx share",
            "percentunit",
            &format!(
              "sum(rate(nginx_ingress_controller_requests{{{selector}, status=~\"5..\"}}[5m])) / sum(rate(nginx_ingress_controller_requests{{{selector}}}[5m]))"
            ),
            "5xx",
            8,
          ),
          panel(
            3,
            "Latency",
            "s",
            &format!(
              "histogram_quantile(0.99, sum by (le) (rate(nginx_ingress_controller_request_duration_seconds_bucket{{{selector}}}[5m])))"
            ),
            "p99",
            16,
          ),
        ],
        "refresh": "1m",
        "schemaVersion": 39,
        "tags": [resolved.name.as_str()],
        "time": { "from": "now-6h", "to": "now" },
        "title": format!("{} / {name}", resolved.name),
        "uid": format!("{}-{name}", resolved.name).chars().take(40).collect::<String>(),
      });
      ConfigMap {
        api_version: "v1",
        kind: "ConfigMap",
        metadata: Metadata {
          labels: Some(DashboardLabel {
            grafana_dashboard: "1",
          }),
          name: format!("dashboard-{name}"),
          namespace: KUBE_PROMETHEUS_STACK.namespace,
        },
        data: DashboardData {
          dashboard: serde_json::to_string_pretty(&dashboard).expect("plain data serializes"),
        },
      }
    })
    .collect()
}
