//! `oi-gen schema`: prints the JSON Schema of the blueprint.

use crate::error::Error;

pub(crate) fn run() -> Result<(), Error> {
  print!("{}", crate::schema::json());
  Ok(())
}
