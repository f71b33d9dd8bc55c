//! `oi-gen man`: prints the manual page (roff).

use crate::cli::Cli;
use crate::error::Error;

pub(crate) fn run() -> Result<(), Error> {
  let command = <Cli as clap::CommandFactory>::command();
  clap_mangen::Man::new(command)
    .render(&mut std::io::stdout())
    .map_err(Error::Stdout)
}
