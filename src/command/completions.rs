//! `oi-gen completions <shell>`: prints a shell completion script.

use crate::cli::Cli;
use crate::error::Error;

pub(crate) fn run(shell: clap_complete::Shell) -> Result<(), Error> {
  let mut command = <Cli as clap::CommandFactory>::command();
  clap_complete::generate(shell, &mut command, "oi-gen", &mut std::io::stdout());
  Ok(())
}
