//! `oi-gen versions`: what a blueprint pins, from the version table with the
//! blueprint's `spec.versions` overrides: each component, its version and the
//! output files that carry it.

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
      println!("{json}");
    }
    Format::Text => print!("{}", text(&usage)),
  }
  Ok(())
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
