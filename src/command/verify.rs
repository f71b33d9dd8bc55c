//! `oi-gen verify [DIR]`: whether the repository on disk still fits
//! together. Findings go to stdout, one `file:line: rule: message` line
//! each, sorted; any finding exits 1.

use std::io::Write as _;
use std::path::Path;

use crate::error::{Error, Findings, Message};
use crate::report::plural;
use crate::ui;
use crate::verify;

pub(crate) fn run(dir: &Path) -> Result<(), Error> {
  let findings = verify::verify(dir)?;
  let shown = dir.display();
  if findings.is_empty() {
    ui::info!("{shown} fits together: no findings");
    return Ok(());
  }
  let mut out = String::new();
  for finding in &findings {
    out.push_str(&finding.to_string());
    out.push('\n');
  }
  std::io::stdout()
    .lock()
    .write_all(out.as_bytes())
    .map_err(Error::Stdout)?;
  Err(
    Findings::message(
      Message::new(format!(
        "{} finding{} in {shown}",
        findings.len(),
        plural(findings.len())
      ))
      .with_help("each line names the file and line to fix and the rule it breaks (see `oi-gen verify --help`)"),
    )
    .into(),
  )
}
