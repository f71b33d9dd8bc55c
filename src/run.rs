//! Runs one command and turns its outcome into an exit code and, on failure,
//! the report on stderr: 0 success, 1 drift or refused changes, 2 invalid
//! input or usage (see [`crate::error`]).

use crate::cli::{Cli, Command, MigrationCommand};
use crate::command;
use crate::error::{Error, SUCCESS};
use crate::ui::{self, Style};

/// Runs the command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
  ui::set_level(cli.quiet, cli.verbose);
  match dispatch(cli.command) {
    Ok(()) => SUCCESS,
    Err(error) => {
      ui::eprint_raw(&error.render(Style::stderr()));
      error.exit_code()
    }
  }
}

fn dispatch(command: Command) -> Result<(), Error> {
  match command {
    Command::Init { dir, from } => command::init::run(&dir, &from),
    Command::Validate { blueprint } => command::validate::run(&blueprint.file),
    Command::Render {
      blueprint,
      out,
      check,
      force,
      rebuild_lock,
      adopt,
      format,
    } => command::render::run(
      &blueprint.file,
      out.as_deref(),
      check,
      force,
      rebuild_lock,
      adopt.as_deref(),
      format,
    ),
    Command::Upgrade { blueprint, dry_run } => command::upgrade::run(&blueprint.file, dry_run),
    Command::Keep { files, blueprint } => command::keep::run(&blueprint.file, &files),
    Command::Blueprints => command::blueprints::run(),
    Command::Schema => command::schema::run(),
    Command::Completions { shell } => command::completions::run(shell),
    Command::Doctor => command::doctor::run(),
    Command::Migration {
      command: MigrationCommand::New {
        description,
        blueprint,
      },
    } => command::migration::new(&blueprint.file, &description.join(" ")),
    Command::Explain { file } => command::explain::run(&file),
    Command::Man => command::man::run(),
    Command::Verify { dir } => command::verify::run(&dir),
    Command::Versions {
      blueprint,
      format,
      all,
    } => {
      if all {
        command::versions::all(format);
        Ok(())
      } else {
        command::versions::run(&blueprint.file, format)
      }
    }
  }
}
