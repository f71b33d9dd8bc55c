//! `oi-gen doctor`: the tools the generated repository relies on, found or
//! missing, and their versions against the ones oi-gen pins.

use std::process::Command;

pub(crate) struct Tool {
  pub name: &'static str,
  /// Arguments that print the version.
  pub args: &'static [&'static str],
  /// Its component in the version table, if oi-gen pins it.
  pub component: Option<&'static str>,
  pub required: bool,
  pub purpose: &'static str,
}

pub(crate) const TOOLS: &[Tool] = &[
  Tool {
    name: "terraform",
    args: &["version"],
    component: Some("terraform-cli"),
    required: true,
    purpose: "plan and apply infra/",
  },
  Tool {
    name: "tflint",
    args: &["--version"],
    component: Some("tflint"),
    required: false,
    purpose: "lint infra/",
  },
  Tool {
    name: "helm",
    args: &["version", "--short"],
    component: Some("helm"),
    required: true,
    purpose: "lint and deploy charts/",
  },
  Tool {
    name: "kubectl",
    args: &["version", "--client"],
    component: None,
    required: true,
    purpose: "talk to the cluster",
  },
  Tool {
    name: "aws",
    args: &["--version"],
    component: None,
    required: true,
    purpose: "credentials, kubeconfig and ECR",
  },
  Tool {
    name: "checkov",
    args: &["--version"],
    component: Some("checkov"),
    required: false,
    purpose: "policy checks",
  },
  Tool {
    name: "flyway",
    args: &["--version"],
    component: Some("flyway"),
    required: false,
    purpose: "database migrations (or docker with the Flyway image)",
  },
  Tool {
    name: "docker",
    args: &["--version"],
    component: None,
    required: false,
    purpose: "build images, run Flyway locally",
  },
];

impl Tool {
  /// The version oi-gen pins (from the version table), without a `v`, as
  /// the tools print theirs.
  pub(crate) fn pinned(&self) -> Option<&'static str> {
    let component = self.component?;
    Some(
      crate::versions::Versions::builtin()
        .version(component)
        .trim_start_matches('v'),
    )
  }
}

/// The first `x.y.z` (or `x.y`) in a tool's version output.
pub(crate) fn find_version(text: &str) -> Option<String> {
  let bytes = text.as_bytes();
  let mut i = 0;
  while i < bytes.len() {
    if bytes[i].is_ascii_digit()
      && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'v')
    {
      let end = text[i..]
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or(text.len(), |n| i + n);
      let candidate = text[i..end].trim_end_matches('.');
      if candidate.matches('.').count() >= 1 {
        return Some(candidate.to_string());
      }
      i = end;
    }
    i += 1;
  }
  None
}

pub(crate) enum Found {
  Missing,
  Version(Option<String>),
}

pub(crate) fn probe(tool: &Tool) -> Found {
  match Command::new(tool.name).args(tool.args).output() {
    Ok(output) => {
      let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
      );
      Found::Version(find_version(&text))
    }
    Err(_) => Found::Missing,
  }
}

/// Prints the table; returns the names of missing required tools.
pub(crate) fn report() -> Vec<&'static str> {
  let mut missing = Vec::new();
  println!("tool       found      pinned     for");
  for tool in TOOLS {
    let found = probe(tool);
    let (shown, note) = match &found {
      Found::Missing if tool.required => {
        missing.push(tool.name);
        ("missing".to_string(), " (required)")
      }
      Found::Missing => ("missing".to_string(), ""),
      Found::Version(Some(v)) if tool.pinned().is_some_and(|p| p != v) => {
        (v.clone(), " (differs from the pin)")
      }
      Found::Version(Some(v)) => (v.clone(), ""),
      Found::Version(None) => ("unknown".to_string(), ""),
    };
    println!(
      "{:<10} {:<10} {:<10} {}{note}",
      tool.name,
      shown,
      tool.pinned().unwrap_or("-"),
      tool.purpose
    );
  }
  missing
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn reads_versions_from_tool_output() {
    assert_eq!(
      find_version("Terraform v1.15.5\non linux_amd64"),
      Some("1.15.5".into())
    );
    assert_eq!(find_version("v4.2.4+g1234567"), Some("4.2.4".into()));
    assert_eq!(
      find_version("aws-cli/2.17.0 Python/3.11.8 Linux/6.1"),
      Some("2.17.0".into())
    );
    assert_eq!(
      find_version("TFLint version 0.64.0\n+ ruleset.aws (0.48.0)"),
      Some("0.64.0".into())
    );
    assert_eq!(
      find_version("Flyway OSS Edition 13.0.0 by Redgate"),
      Some("13.0.0".into())
    );
    assert_eq!(find_version("no version here"), None);
  }
}
