//! `oi-gen blueprints`: lists the built-in blueprints.

use crate::builtin;
use crate::error::Error;

pub(crate) fn run() -> Result<(), Error> {
  for blueprint in builtin::all() {
    let default = if blueprint.name == builtin::DEFAULT {
      " (default)"
    } else {
      ""
    };
    println!("{:<16} {}{default}", blueprint.name, blueprint.summary());
  }
  Ok(())
}
