//! `oi-gen migration new`: writes the next versioned database migration and
//! prints its path.

use std::path::Path;

use super::{Source, output_dir};
use crate::error::{Error, Message, Op};
use crate::fsutil;
use crate::migrations;
use crate::workspace::Root;

pub(crate) fn new(file: &Path, description: &str) -> Result<(), Error> {
  let source = Source::read(file)?;
  let loaded = source.load()?;
  if loaded.resolved.database.is_none() {
    return Err(Error::Usage(
      Message::new(format!(
        "`{}` has no spec.database, so there are no migrations",
        source.name
      ))
      .with_help("add spec.database to the blueprint and run `oi-gen render`"),
    ));
  }
  let root = Root::new(&output_dir(file, None));
  let _guard = crate::runlock::acquire(&root)?;
  let names = migrations::list(root.path())?;
  let name = migrations::next_name(&names, description)?;
  let relative = format!("{}/{name}", migrations::DIR);
  let path = root.resolve(&relative)?;
  let contents = format!(
    "-- {name}: {description}\n--\n-- Forward-only and backward compatible with the release still running:\n-- add first, switch the code over, remove in a later migration.\n-- Never edit this file once it has been released.\n\n"
  );
  fsutil::write_new(&path, contents.as_bytes())
    .map_err(Error::io(Op::Create, Path::new(&relative)))?;
  println!("{}", path.display());
  Ok(())
}
