//! The compute budget of the platform's namespace in each environment: the
//! ResourceQuota (`cluster/manifests/<env>/quota.yaml`) and the LimitRange
//! beside it, computed from the services' requests, limits and replicas,
//! and what a blueprint's `environments[].overrides.quota` may not go below.
//!
//! How the quota is derived, per environment:
//! - each service runs at most `max` pods: `autoscaling.maxReplicas` (never
//!   below the environment's replicas), else its replicas;
//! - a rolling update adds `ceil(max / 4)` pods on top (the Deployment's
//!   default `maxSurge` of 25%, rounded up), so a deploy at `max` never waits
//!   for quota;
//! - the migrations owner's Flyway Job runs one pod (parallelism 1) at its
//!   own requests and limits, counted while every service is at its peak;
//! - one more pod at the LimitRange's defaults, for a one-off pod (a debug
//!   `kubectl run`) beside all of it.
//!
//! Requests and limits are summed over those pods; memory is rounded up to
//! a whole MiB. What validation demands of an override is less: the
//! services at their most replicas, without surge, Job or spare pod.

use super::model::{Environment, Platform, ResourceAmounts};

/// The Flyway Job's requests and limits (the chart sets them; the quota
/// counts them).
pub const MIGRATION_REQUESTS: (&str, &str) = ("100m", "256Mi");
pub const MIGRATION_LIMITS: (&str, &str) = ("500m", "512Mi");

/// What the LimitRange gives a container that sets no requests or limits:
/// a service's defaults.
pub const DEFAULT_REQUESTS: (&str, &str) = ("100m", "128Mi");
pub const DEFAULT_LIMITS: (&str, &str) = ("500m", "512Mi");

const MIB: u64 = 1 << 20;

/// CPU in millicores and memory in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Amounts {
  pub cpu: u64,
  pub memory: u64,
}

impl Amounts {
  /// Parses a pair of quantities; `None` when either is not one.
  pub fn parse(cpu: &str, memory: &str) -> Option<Self> {
    Some(Self {
      cpu: cpu_millis(cpu)?,
      memory: memory_bytes(memory)?,
    })
  }

  fn of(amounts: &ResourceAmounts) -> Option<Self> {
    Self::parse(&amounts.cpu, &amounts.memory)
  }

  fn pair((cpu, memory): (&str, &str)) -> Self {
    Self::parse(cpu, memory).expect("the built-in amounts are quantities")
  }

  #[must_use]
  fn times(self, n: u64) -> Self {
    Self {
      cpu: self.cpu.saturating_mul(n),
      memory: self.memory.saturating_mul(n),
    }
  }

  #[must_use]
  fn plus(self, other: Self) -> Self {
    Self {
      cpu: self.cpu.saturating_add(other.cpu),
      memory: self.memory.saturating_add(other.memory),
    }
  }

  #[must_use]
  fn max(self, other: Self) -> Self {
    Self {
      cpu: self.cpu.max(other.cpu),
      memory: self.memory.max(other.memory),
    }
  }

  /// The CPU as a quantity: whole cores (`2`) or millicores (`2500m`).
  pub fn cpu_text(&self) -> String {
    format_cpu(self.cpu)
  }

  /// The memory as a quantity: `Gi` when it is whole GiB, else `Mi`
  /// (rounded up), else bytes.
  pub fn memory_text(&self) -> String {
    format_memory(self.memory)
  }
}

/// One service in one environment, as the quota counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
  pub name: String,
  /// Per pod.
  pub requests: Amounts,
  pub limits: Amounts,
  /// Its most pods: autoscaling's maximum, else its replicas.
  pub max_replicas: u64,
}

impl Workload {
  /// Pods a rolling update adds at `max_replicas`: 25%, rounded up.
  pub fn surge(&self) -> u64 {
    self.max_replicas.div_ceil(4)
  }
}

/// The ResourceQuota of the namespace in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceQuota {
  pub requests: Amounts,
  pub limits: Amounts,
  pub pods: u64,
}

/// The LimitRange of the namespace: per container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitRange {
  pub default_requests: Amounts,
  pub default_limits: Amounts,
  /// The largest limits a container may have: the largest the charts set.
  pub max: Amounts,
}

/// The services of `platform` in `environment`; `None` when a service's
/// quantities do not parse (validation reports those).
pub fn workloads(platform: &Platform, environment: &Environment) -> Option<Vec<Workload>> {
  platform
    .spec
    .services
    .iter()
    .map(|service| {
      let replicas = service.replicas_in(environment).max(1);
      let max = service
        .autoscaling
        .as_ref()
        .map_or(replicas, |scaling| scaling.max_replicas.max(replicas));
      Some(Workload {
        name: service.name.clone(),
        requests: Amounts::of(&service.requests())?,
        limits: Amounts::of(&service.limits())?,
        max_replicas: u64::try_from(max).ok()?,
      })
    })
    .collect()
}

/// Whether a migration Job runs in the namespace (as the charts decide it).
pub fn runs_migrations(platform: &Platform) -> bool {
  platform.spec.database.is_some()
    && platform.addon_selection().external_secrets
    && platform.spec.services.iter().any(|s| s.runs_migrations)
}

/// The quota computed for `workloads` (see the module's comment).
pub fn computed(workloads: &[Workload], migrations: bool) -> NamespaceQuota {
  let mut requests = Amounts::pair(DEFAULT_REQUESTS);
  let mut limits = Amounts::pair(DEFAULT_LIMITS);
  let mut pods = 1u64;
  for workload in workloads {
    let n = workload.max_replicas.saturating_add(workload.surge());
    requests = requests.plus(workload.requests.times(n));
    limits = limits.plus(workload.limits.times(n));
    pods = pods.saturating_add(n);
  }
  if migrations {
    requests = requests.plus(Amounts::pair(MIGRATION_REQUESTS));
    limits = limits.plus(Amounts::pair(MIGRATION_LIMITS));
    pods = pods.saturating_add(1);
  }
  NamespaceQuota {
    requests: round_memory(requests),
    limits: round_memory(limits),
    pods,
  }
}

/// The least quota the services fit in: each at its most replicas.
pub fn floor(workloads: &[Workload]) -> NamespaceQuota {
  workloads.iter().fold(
    NamespaceQuota {
      requests: Amounts::default(),
      limits: Amounts::default(),
      pods: 0,
    },
    |sum, w| NamespaceQuota {
      requests: sum.requests.plus(w.requests.times(w.max_replicas)),
      limits: sum.limits.plus(w.limits.times(w.max_replicas)),
      pods: sum.pods.saturating_add(w.max_replicas),
    },
  )
}

/// The quota of `environment`: the computed one, with the amounts its
/// `overrides.quota` gives in their place.
pub fn in_environment(
  workloads: &[Workload],
  migrations: bool,
  environment: &Environment,
) -> NamespaceQuota {
  let mut quota = computed(workloads, migrations);
  let Some(given) = environment
    .overrides
    .as_ref()
    .and_then(|o| o.quota.as_ref())
  else {
    return quota;
  };
  for (amounts, over) in [
    (&mut quota.requests, &given.requests),
    (&mut quota.limits, &given.limits),
  ] {
    let Some(over) = over else { continue };
    if let Some(cpu) = over.cpu.as_deref().and_then(cpu_millis) {
      amounts.cpu = cpu;
    }
    if let Some(memory) = over.memory.as_deref().and_then(memory_bytes) {
      amounts.memory = memory;
    }
  }
  if let Some(pods) = given.pods.and_then(|p| u64::try_from(p).ok()) {
    quota.pods = pods;
  }
  quota
}

/// The LimitRange for the services' and the Job's containers.
pub fn limit_range(platform: &Platform) -> LimitRange {
  let max = platform
    .spec
    .services
    .iter()
    .filter_map(|s| Amounts::of(&s.limits()))
    .fold(
      Amounts::pair(DEFAULT_LIMITS).max(Amounts::pair(MIGRATION_LIMITS)),
      Amounts::max,
    );
  LimitRange {
    default_requests: Amounts::pair(DEFAULT_REQUESTS),
    default_limits: Amounts::pair(DEFAULT_LIMITS),
    max: round_memory(max),
  }
}

fn round_memory(amounts: Amounts) -> Amounts {
  Amounts {
    cpu: amounts.cpu,
    memory: amounts.memory.div_ceil(MIB).saturating_mul(MIB),
  }
}

/// A Kubernetes quantity as a decimal number and its suffix; `None` when it
/// is not one (digits with at most one `.`, a known suffix).
fn split(value: &str) -> Option<(u128, u32, &str)> {
  let end = value
    .find(|c: char| !(c.is_ascii_digit() || c == '.'))
    .unwrap_or(value.len());
  let (number, suffix) = value.split_at(end);
  let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
  if whole.is_empty() && fraction.is_empty() || fraction.contains('.') || fraction.len() > 9 {
    return None;
  }
  let digits = format!("{whole}{fraction}");
  let mantissa: u128 = digits.parse().ok()?;
  Some((mantissa, u32::try_from(fraction.len()).ok()?, suffix))
}

/// `mantissa / 10^decimals × factor / divisor`, rounded up.
fn scaled(mantissa: u128, decimals: u32, factor: u128, divisor: u128) -> Option<u64> {
  let denominator = 10u128.pow(decimals).checked_mul(divisor)?;
  let value = mantissa.checked_mul(factor)?.div_ceil(denominator);
  u64::try_from(value).ok().filter(|v| *v > 0)
}

fn suffix_factor(suffix: &str) -> Option<(u128, u128)> {
  Some(match suffix {
    "" => (1, 1),
    "m" => (1, 1000),
    "k" => (1_000, 1),
    "M" => (1_000_000, 1),
    "G" => (1_000_000_000, 1),
    "T" => (1_000_000_000_000, 1),
    "P" => (1_000_000_000_000_000, 1),
    "E" => (1_000_000_000_000_000_000, 1),
    "Ki" => (1 << 10, 1),
    "Mi" => (1 << 20, 1),
    "Gi" => (1 << 30, 1),
    "Ti" => (1 << 40, 1),
    "Pi" => (1 << 50, 1),
    "Ei" => (1 << 60, 1),
    _ => return None,
  })
}

/// Whether `value` is a positive Kubernetes quantity (`250m`, `1.5`,
/// `512Mi`).
pub fn is_quantity(value: &str) -> bool {
  split(value).is_some_and(|(mantissa, _, suffix)| mantissa > 0 && suffix_factor(suffix).is_some())
}

/// A CPU quantity in millicores, rounded up (`250m` → 250, `1.5` → 1500);
/// `None` when it is not a positive quantity.
pub fn cpu_millis(value: &str) -> Option<u64> {
  let (mantissa, decimals, suffix) = split(value)?;
  let (factor, divisor) = suffix_factor(suffix)?;
  scaled(mantissa, decimals, factor * 1000, divisor)
}

/// A memory quantity in bytes, rounded up (`256Mi` → 268435456); `None`
/// when it is not a positive quantity.
pub fn memory_bytes(value: &str) -> Option<u64> {
  let (mantissa, decimals, suffix) = split(value)?;
  let (factor, divisor) = suffix_factor(suffix)?;
  scaled(mantissa, decimals, factor, divisor)
}

/// Millicores as a quantity: `2` for whole cores, else `2500m`.
pub fn format_cpu(millis: u64) -> String {
  if millis.is_multiple_of(1000) {
    (millis / 1000).to_string()
  } else {
    format!("{millis}m")
  }
}

/// Bytes as a quantity: `2Gi` for whole GiB, `640Mi` for whole MiB, else
/// bytes.
pub fn format_memory(bytes: u64) -> String {
  if bytes.is_multiple_of(1 << 30) {
    format!("{}Gi", bytes >> 30)
  } else if bytes.is_multiple_of(MIB) {
    format!("{}Mi", bytes >> 20)
  } else {
    bytes.to_string()
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn workload(name: &str, requests: (&str, &str), limits: (&str, &str), max: u64) -> Workload {
    Workload {
      name: name.into(),
      requests: Amounts::pair(requests),
      limits: Amounts::pair(limits),
      max_replicas: max,
    }
  }

  #[test]
  fn quantities_parse_exactly_and_round_up() {
    assert_eq!(cpu_millis("250m"), Some(250));
    assert_eq!(cpu_millis("1"), Some(1000));
    assert_eq!(cpu_millis("1.5"), Some(1500));
    assert_eq!(cpu_millis("0.0001"), Some(1));
    assert_eq!(cpu_millis("2k"), Some(2_000_000));
    assert_eq!(memory_bytes("256Mi"), Some(256 << 20));
    assert_eq!(memory_bytes("1.5Gi"), Some(3 << 29));
    assert_eq!(memory_bytes("1G"), Some(1_000_000_000));
    assert_eq!(memory_bytes("1500m"), Some(2));
    for bad in ["", "m", "1.2.3", "-1", "0", "1x", "1 Gi", "1e3", "."] {
      assert_eq!(cpu_millis(bad), None, "{bad}");
      assert_eq!(memory_bytes(bad), None, "{bad}");
    }
  }

  #[test]
  fn a_quantity_is_a_positive_number_with_a_known_suffix() {
    for good in ["250m", "1", "1.5", "512Mi", "2Gi", ".5", "64k"] {
      assert!(is_quantity(good), "{good}");
    }
    for bad in ["", "0", "0m", "1.2.3", "abc", "5 Gi", "1gb", "-1", "10X"] {
      assert!(!is_quantity(bad), "{bad}");
    }
  }

  #[test]
  fn quantities_print_in_the_largest_whole_unit() {
    assert_eq!(format_cpu(2000), "2");
    assert_eq!(format_cpu(2500), "2500m");
    assert_eq!(format_memory(2 << 30), "2Gi");
    assert_eq!(format_memory(640 << 20), "640Mi");
    assert_eq!(format_memory(1000), "1000");
  }

  #[test]
  fn the_surge_is_a_quarter_rounded_up() {
    let surges: Vec<u64> = [1, 2, 4, 5, 10]
      .iter()
      .map(|max| workload("a", DEFAULT_REQUESTS, DEFAULT_LIMITS, *max).surge())
      .collect();
    assert_eq!(surges, [1, 1, 1, 2, 3]);
  }

  #[test]
  fn the_quota_holds_every_service_at_its_peak_mid_rollout_with_the_job_and_a_spare_pod() {
    let services = [
      // 10 pods at most, 3 more mid-rollout: 13 pods.
      workload("api", ("250m", "256Mi"), ("1", "1Gi"), 10),
      // 2 pods, 1 more: 3 pods.
      workload("web", ("100m", "128Mi"), ("500m", "512Mi"), 2),
    ];
    let quota = computed(&services, true);
    // 13 × 250m + 3 × 100m + Job 100m + spare 100m.
    assert_eq!(quota.requests.cpu_text(), "3750m");
    // 13 × 256Mi + 3 × 128Mi + Job 256Mi + spare 128Mi = 4096Mi.
    assert_eq!(quota.requests.memory_text(), "4Gi");
    // 13 × 1 + 3 × 500m + Job 500m + spare 500m.
    assert_eq!(quota.limits.cpu_text(), "15500m");
    // 13 × 1Gi + 3 × 512Mi + Job 512Mi + spare 512Mi.
    assert_eq!(quota.limits.memory_text(), "15872Mi");
    assert_eq!(quota.pods, 13 + 3 + 1 + 1);
    let without_job = computed(&services, false);
    assert_eq!(without_job.requests.cpu_text(), "3650m");
    assert_eq!(without_job.pods, 17);
  }

  #[test]
  fn the_floor_is_the_services_at_their_most_replicas() {
    let services = [
      workload("api", ("250m", "256Mi"), ("1", "1Gi"), 10),
      workload("web", ("100m", "128Mi"), ("500m", "512Mi"), 2),
    ];
    let least = floor(&services);
    assert_eq!(least.requests.cpu_text(), "2700m");
    assert_eq!(least.requests.memory_text(), "2816Mi");
    assert_eq!(least.pods, 12);
    assert!(least.requests.cpu < computed(&services, false).requests.cpu);
  }
}
