//! The workflows target.

use super::{Engine, Output};
use crate::blueprint::Platform;

pub fn render(
  _platform: &Platform,
  _engine: &Engine,
  _out: &mut Output,
) -> Result<(), tera::Error> {
  Ok(())
}
