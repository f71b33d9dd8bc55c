//! `oi-gen validate`: checks a blueprint without rendering anything.

use std::path::Path;

use super::Source;
use crate::error::Error;
use crate::report::plural;
use crate::ui::info;

pub(crate) fn run(file: &Path) -> Result<(), Error> {
  let source = Source::read(file)?;
  let loaded = source.load()?;
  let spec = &loaded.platform.spec;
  info!(
    "{} is valid: platform `{}`, {} service{}, {} environment{}",
    source.name,
    loaded.platform.name(),
    spec.services.len(),
    plural(spec.services.len()),
    spec.environments.len(),
    plural(spec.environments.len()),
  );
  Ok(())
}
