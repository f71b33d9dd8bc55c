//! `oi-gen doctor`: the tools the generated repository relies on; missing
//! required ones are findings.

use crate::error::{Error, Findings, Message};
use crate::report::plural;

pub(crate) fn run() -> Result<(), Error> {
  let missing = crate::doctor::report();
  if missing.is_empty() {
    return Ok(());
  }
  Err(
    Findings::message(
      Message::new(format!(
        "missing required tool{}: {}",
        plural(missing.len()),
        missing.join(", ")
      ))
      .with_help(format!(
        "install {} and run `oi-gen doctor` again",
        if missing.len() == 1 { "it" } else { "them" }
      )),
    )
    .into(),
  )
}
