//! `oi-gen versions`: what a blueprint pins, from the version table with the
//! blueprint's `spec.versions` overrides: each component, its version and the
//! output files that carry it. With `--all`, the whole table.

use std::path::Path;

use super::Source;
use crate::cli::Format;
use crate::error::Error;

pub(crate) fn run(file: &Path, format: Format) -> Result<(), Error> {
  let source = Source::read(file)?;
  let loaded = source.load()?;
  // The repository's template overrides apply, as they do to `render`.
  let root = super::output_dir(file, None);
  let output = super::render_output(&loaded, &root)?;
  let resolved = &loaded.resolved;
  let usage = resolved.versions.usage(
    &resolved.kubernetes_version,
    output
      .files
      .iter()
      .map(|(path, file)| (path.as_str(), file.contents.as_str())),
  );
  match format {
    Format::Json => {
      let json = serde_json::to_string_pretty(&usage).expect("plain data serializes");
      emit(&format!("{json}\n"));
    }
    Format::Text => emit(&text(&usage)),
  }
  Ok(())
}

/// `--all`: every component of the version table as shipped (no blueprint,
/// so no overrides), in table order.
pub(crate) fn all(format: Format) {
  let table = crate::versions::Versions::builtin();
  match format {
    Format::Json => {
      let entries: Vec<Entry<'_>> = table
        .iter()
        .map(|(component, c)| Entry { component, c })
        .collect();
      let json = serde_json::to_string_pretty(&entries).expect("plain data serializes");
      emit(&format!("{json}\n"));
    }
    Format::Text => emit(&table_text(table)),
  }
}

/// Writes the listing to stdout; a reader that stops early (`| head`) ends
/// it quietly.
fn emit(text: &str) {
  use std::io::Write;
  let mut out = std::io::stdout().lock();
  if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
    assert!(
      e.kind() == std::io::ErrorKind::BrokenPipe,
      "writing to stdout: {e}"
    );
  }
}

/// A component of the table with its name, as `--all --format json` lists it.
#[derive(serde::Serialize)]
struct Entry<'a> {
  component: &'a str,
  #[serde(flatten)]
  c: &'a crate::versions::Component,
}

/// One block per component: name, kind, version; where it comes from (its
/// chart, image, module, provider, action or add-on), the build per
/// Kubernetes version, the digest or SHA, the checksummed files and the
/// release page.
fn table_text(table: &crate::versions::Versions) -> String {
  let width = table.names().map(str::len).max().unwrap_or(0);
  let indent = " ".repeat(width + 2);
  let mut out = String::new();
  for (name, c) in table.iter() {
    out.push_str(&format!(
      "{name:<width$}  {:<18}  {}\n",
      c.kind.as_str(),
      c.version
    ));
    let from = match (&c.chart, &c.repository) {
      (Some(chart), Some(repository)) => Some(format!("{chart} ({repository})")),
      (Some(chart), None) => Some(chart.clone()),
      _ => c
        .image
        .clone()
        .or_else(|| c.module.clone())
        .or_else(|| c.provider.clone())
        .or_else(|| c.plugin.clone())
        .or_else(|| c.action.clone())
        .or_else(|| c.addon.clone())
        .or_else(|| c.url.clone()),
    };
    if let Some(from) = from {
      out.push_str(&format!("{indent}from:    {from}\n"));
    }
    for (kubernetes, build) in &c.by_kubernetes {
      out.push_str(&format!(
        "{indent}{:<8} {build}\n",
        format!("{kubernetes}:")
      ));
    }
    if let Some(pin) = c.sha.as_ref().or(c.digest.as_ref()) {
      out.push_str(&format!("{indent}pin:     {pin}\n"));
    }
    for (file, sha256) in &c.files {
      out.push_str(&format!("{indent}file:    {file} sha256:{sha256}\n"));
    }
    out.push_str(&format!("{indent}source:  {}\n", c.source));
  }
  out
}

/// One block per component: name, kind, version (and what it overrides),
/// the digest or SHA, the upstream release page and the files.
fn text(usage: &[crate::versions::Usage]) -> String {
  let width = usage.iter().map(|u| u.component.len()).max().unwrap_or(0);
  let mut out = String::new();
  for u in usage {
    let version = match &u.overrides {
      Some(table) => format!("{} (spec.versions; oi-gen pins {table})", u.version),
      None => u.version.clone(),
    };
    out.push_str(&format!(
      "{:<width$}  {:<18}  {version}\n",
      u.component,
      u.kind.as_str()
    ));
    let indent = " ".repeat(width + 2);
    if let Some(pin) = &u.pin {
      out.push_str(&format!("{indent}pin:     {pin}\n"));
    }
    out.push_str(&format!("{indent}source:  {}\n", u.source));
    if u.files.is_empty() {
      out.push_str(&format!(
        "{indent}used in: (nothing this blueprint renders)\n"
      ));
    }
    for (i, file) in u.files.iter().enumerate() {
      let label = if i == 0 { "used in:" } else { "" };
      out.push_str(&format!("{indent}{label:<8} {file}\n"));
    }
  }
  out
}
