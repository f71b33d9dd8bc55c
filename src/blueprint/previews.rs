//! Preview environments per pull request (`spec.delivery.previews`): what
//! they are after defaults, their hosts, and the rules a blueprint must meet
//! to have them.

use super::model::Platform;
use crate::diagnostic::Diagnostic;

/// Hours a preview lives after its last deploy, by default.
pub const DEFAULT_TTL_HOURS: u32 = 72;
/// The range `ttlHours` accepts: at least an hour (the sweep runs hourly), at
/// most 30 days.
pub const TTL_HOURS: std::ops::RangeInclusive<u32> = 1..=720;
/// A preview's namespace is this prefix and the pull request's number.
pub const NAMESPACE_PREFIX: &str = "pr-";
/// The most digits of a pull request number the hosts leave room for: the
/// preview label `pr-<number>-<label>` stays within 63 characters and the
/// host within 253 for every pull request up to 9,999,999.
pub const MAX_NUMBER_DIGITS: usize = 7;
/// The GitHub environment of the preview jobs: the preview role trusts its
/// subject, `repo:<owner>/<name>:environment:preview`, and nothing else.
pub const GITHUB_ENVIRONMENT: &str = "preview";

/// Previews after defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPreviews {
  pub ttl_hours: u32,
  /// The environment whose cluster, registry and database run them: the
  /// first one.
  pub environment: String,
  /// Each service with ingress and the tail of its preview host: the host of
  /// pull request N is `pr-N` followed by it (`-api.staging.example.com`,
  /// or `.staging.example.com` for a service at the environment's apex).
  pub hosts: Vec<(String, String)>,
  /// `<platform>-<env>-preview`: the role of the preview jobs.
  pub role: String,
  /// The Kubernetes group its access entry maps it to.
  pub group: String,
  /// `<platform>/<env>-preview`: the prefix of the preview images' ECR
  /// repositories, outside the environment's own `<platform>/<env>/` (whose
  /// image policy admits only the Deploy workflow's signatures).
  pub repository_prefix: String,
}

impl Platform {
  /// `spec.delivery.previews` when on (written, and `enabled` not false).
  pub fn previews(&self) -> Option<ResolvedPreviews> {
    let previews = self.spec.delivery.previews.as_ref()?;
    if previews.enabled == Some(false) {
      return None;
    }
    let first = self.spec.environments.first()?;
    let domain = self.environment_domain(first);
    let stack = crate::names::stack(self, first);
    Some(ResolvedPreviews {
      role: format!("{stack}-preview"),
      group: format!("{}-previewers", self.name()),
      repository_prefix: format!("{}/{}-preview", self.name(), first.name),
      ttl_hours: previews.ttl_hours.unwrap_or(DEFAULT_TTL_HOURS),
      environment: first.name.clone(),
      hosts: self
        .spec
        .services
        .iter()
        .filter_map(|service| {
          let ingress = service.ingress.as_ref()?;
          Some((service.name.clone(), host_tail(&ingress.host, &domain)))
        })
        .collect(),
    })
  }
}

/// The part of a preview host after `pr-<number>`: one label below the
/// environment's domain, so a wildcard certificate of that domain and its
/// zone hold every preview host (`api` → `-api.<domain>`, `v2.api` →
/// `-v2-api.<domain>`, `@` → `.<domain>`).
pub fn host_tail(host: &str, domain: &str) -> String {
  if host == "@" {
    format!(".{domain}")
  } else {
    format!("-{}.{domain}", host.replace('.', "-"))
  }
}

/// The longest preview host prefix: `pr-` and the most digits.
fn longest_prefix() -> usize {
  NAMESPACE_PREFIX.len() + MAX_NUMBER_DIGITS
}

/// `spec.delivery.previews`: `ttlHours` in range, and hosts that stay valid
/// DNS names and distinct for every pull request number.
pub(crate) fn validate(platform: &Platform, found: &mut Vec<Diagnostic>) {
  let Some(written) = &platform.spec.delivery.previews else {
    return;
  };
  if let Some(ttl) = written.ttl_hours
    && !TTL_HOURS.contains(&ttl)
  {
    let mut problem = Diagnostic::error(
      "spec.delivery.previews.ttlHours",
      format!(
        "{ttl} is out of range: previews live {} to {} hours",
        TTL_HOURS.start(),
        TTL_HOURS.end()
      ),
    );
    problem.hint = Some("the sweep runs hourly; 72 (three days) is the default".into());
    found.push(problem);
  }
  let Some(previews) = platform.previews() else {
    return;
  };
  let taken = format!("{}-preview", previews.environment);
  if let Some(i) = platform
    .spec
    .environments
    .iter()
    .position(|e| e.name == taken)
  {
    found.push(Diagnostic::error(
      format!("spec.environments[{i}].name"),
      format!(
        "`{taken}` is the name of the preview images' repositories (`{}/<service>`)",
        previews.repository_prefix
      ),
    ));
  }
  let mut seen: Vec<(&str, &str)> = Vec::new();
  for (i, service) in platform.spec.services.iter().enumerate() {
    let Some((_, tail)) = previews
      .hosts
      .iter()
      .find(|(name, _)| *name == service.name)
    else {
      continue;
    };
    let path = format!("spec.services[{i}].ingress.host");
    let label = tail.split('.').next().unwrap_or_default();
    let label_len = longest_prefix() + label.len();
    if label_len > 63 {
      let mut problem = Diagnostic::error(
        path.clone(),
        format!(
          "the preview host label `pr-<number>{label}` reaches {label_len} characters for a pull request number of {MAX_NUMBER_DIGITS} digits; a DNS label holds 63"
        ),
      );
      problem.hint = Some("shorten the host, or turn spec.delivery.previews off".into());
      found.push(problem);
    }
    let host_len = longest_prefix() + tail.len();
    if host_len > 253 {
      found.push(Diagnostic::error(
        path.clone(),
        format!(
          "the preview host `pr-<number>{tail}` reaches {host_len} characters; a DNS name holds 253"
        ),
      ));
    }
    if let Some((other, _)) = seen.iter().find(|(_, t)| *t == tail.as_str()) {
      found.push(Diagnostic::error(
        path,
        format!("its preview host `pr-<number>{tail}` is the one of the service `{other}`"),
      ));
    } else {
      seen.push((service.name.as_str(), tail.as_str()));
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn preview_hosts_are_one_label_below_the_domain() {
    assert_eq!(
      host_tail("api", "staging.example.com"),
      "-api.staging.example.com"
    );
    assert_eq!(
      host_tail("v2.api", "staging.example.com"),
      "-v2-api.staging.example.com"
    );
    assert_eq!(
      host_tail("@", "staging.example.com"),
      ".staging.example.com"
    );
  }
}
