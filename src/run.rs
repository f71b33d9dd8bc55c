//! Runs one command and turns its outcome into an exit code:
//! 0 success, 1 drift or refused changes, 2 invalid input or usage.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::blueprint::{self, Loaded};
use crate::builtin;
use crate::cli::{Cli, Command, Format, MigrationCommand};
use crate::lock;
use crate::render::{self, Engine};
use crate::ui::info;
use crate::workspace::{self, Action, Mode, Plan, Previous};

pub const SUCCESS: i32 = 0;
pub const FINDINGS: i32 = 1;
pub const INVALID: i32 = 2;

/// A failed command: what to print and the exit code.
#[derive(Debug)]
pub struct Failure {
  pub message: String,
  pub code: i32,
}

impl Failure {
  pub(crate) fn invalid(message: impl Into<String>) -> Self {
    Self {
      message: message.into(),
      code: INVALID,
    }
  }

  pub(crate) fn findings(message: impl Into<String>) -> Self {
    Self {
      message: message.into(),
      code: FINDINGS,
    }
  }
}

impl From<std::io::Error> for Failure {
  fn from(error: std::io::Error) -> Self {
    Failure::invalid(format!("error: {error}"))
  }
}

pub fn run(cli: Cli) -> i32 {
  crate::ui::set_level(cli.quiet, cli.verbose);
  let result = match cli.command {
    Command::Init { dir, from } => init(&dir, &from),
    Command::Validate { blueprint } => validate(&blueprint.file),
    Command::Render {
      blueprint,
      out,
      check,
      force,
      format,
    } => render_command(&blueprint.file, out.as_deref(), check, force, format),
    Command::Upgrade { blueprint, dry_run } => upgrade(&blueprint.file, dry_run),
    Command::Blueprints => {
      blueprints();
      Ok(())
    }
    Command::Schema => {
      print!("{}", crate::schema::json());
      Ok(())
    }
    Command::Completions { shell } => {
      let mut command = <Cli as clap::CommandFactory>::command();
      clap_complete::generate(shell, &mut command, "oi-gen", &mut std::io::stdout());
      Ok(())
    }
    Command::Doctor => doctor(),
    Command::Migration {
      command: MigrationCommand::New {
        description,
        blueprint,
      },
    } => migration_new(&blueprint.file, &description.join(" ")),
    Command::Explain { file } => explain(&file),
    Command::Man => {
      let command = <Cli as clap::CommandFactory>::command();
      clap_mangen::Man::new(command)
        .render(&mut std::io::stdout())
        .map_err(Failure::from)
    }
  };
  match result {
    Ok(()) => SUCCESS,
    Err(failure) => {
      let mut stderr = std::io::stderr().lock();
      let _ = write!(stderr, "{}", crate::ui::paint(&failure.message));
      if !failure.message.ends_with('\n') {
        let _ = writeln!(stderr);
      }
      failure.code
    }
  }
}

/// A blueprint's text and the name to show in messages.
struct Source {
  name: String,
  bytes: Vec<u8>,
}

fn read_blueprint(file: &Path) -> Result<Source, Failure> {
  match std::fs::read(file) {
    Ok(bytes) => Ok(Source {
      name: file.display().to_string(),
      bytes,
    }),
    Err(error) if error.kind() == std::io::ErrorKind::NotFound => Err(Failure::invalid(format!(
      "error: blueprint `{}` not found\n  = help: run `oi-gen init` to create one, or pass `-f <file>`",
      file.display()
    ))),
    Err(error) => Err(Failure::invalid(format!(
      "error: cannot read `{}`: {error}",
      file.display()
    ))),
  }
}

/// Loads and validates; prints warnings; errors become exit code 2.
fn load(source: &Source) -> Result<Loaded, Failure> {
  let text = String::from_utf8_lossy(&source.bytes);
  match blueprint::load(&source.bytes) {
    Ok(loaded) => {
      let mut stderr = std::io::stderr().lock();
      for warning in &loaded.warnings {
        let _ = write!(
          stderr,
          "{}",
          crate::ui::paint(&warning.render(&source.name, &text))
        );
      }
      Ok(loaded)
    }
    Err(problems) => {
      let mut message = String::new();
      for problem in &problems {
        message.push_str(&problem.render(&source.name, &text));
      }
      let errors = problems.iter().filter(|p| p.is_error()).count();
      let _ = writeln!(
        message,
        "error: `{}` has {errors} problem{}; nothing was written",
        source.name,
        if errors == 1 { "" } else { "s" }
      );
      Err(Failure::invalid(message))
    }
  }
}

/// Renders with the embedded templates and the repository's overrides.
fn render_output(loaded: &Loaded, root: &Path) -> Result<render::Output, Failure> {
  let engine = Engine::with_overrides(root)
    .map_err(|e| Failure::invalid(format!("error: template override: {e}")))?;
  let output = render::render(&loaded.resolved, &engine).map_err(|e| {
    Failure::invalid(format!(
      "error: rendering failed: {}",
      render::engine_error_chain(&e)
    ))
  })?;
  let mut stderr = std::io::stderr().lock();
  for stale in &engine.stale_overrides {
    let _ = write!(
      stderr,
      "{}",
      crate::ui::paint(&format!(
        "warning: `{stale}` overrides a template oi-gen no longer has; it is ignored\n"
      ))
    );
  }
  for warning in &output.warnings {
    let _ = write!(
      stderr,
      "{}",
      crate::ui::paint(&format!("warning: {warning}\n"))
    );
  }
  Ok(output)
}

fn validate(file: &Path) -> Result<(), Failure> {
  let source = read_blueprint(file)?;
  let loaded = load(&source)?;
  let spec = &loaded.platform.spec;
  info!(
    "{} is valid: platform `{}`, {} service{}, {} environment{}",
    source.name,
    loaded.platform.name(),
    spec.services.len(),
    if spec.services.len() == 1 { "" } else { "s" },
    spec.environments.len(),
    if spec.environments.len() == 1 {
      ""
    } else {
      "s"
    },
  );
  Ok(())
}

fn blueprints() {
  for blueprint in builtin::all() {
    let default = if blueprint.name == builtin::DEFAULT {
      " (default)"
    } else {
      ""
    };
    println!("{:<16} {}{default}", blueprint.name, blueprint.summary());
  }
}

fn init(dir: &Path, from: &str) -> Result<(), Failure> {
  let source = match builtin::get(from) {
    Some(b) => Source {
      name: format!("{}.yaml", b.name),
      bytes: b.text.as_bytes().to_vec(),
    },
    None if Path::new(from).is_file() => read_blueprint(Path::new(from))?,
    None => {
      let names: Vec<String> = builtin::all()
        .iter()
        .map(|b| format!("`{}`", b.name))
        .collect();
      return Err(Failure::invalid(format!(
        "error: `{from}` is neither a built-in blueprint nor a file\n  = help: built-in blueprints are {}",
        names.join(", ")
      )));
    }
  };
  let target = dir.join("platform.yaml");
  if target.exists() {
    return Err(Failure::invalid(format!(
      "error: `{}` already exists; oi-gen init never overwrites it\n  = help: run `oi-gen render -f {}` to render the existing blueprint",
      target.display(),
      target.display()
    )));
  }
  let loaded = load(&source)?;
  let output = render_output(&loaded, dir)?;
  let mut blueprint_text = String::from_utf8_lossy(&source.bytes).into_owned();
  if !blueprint_text.contains("yaml-language-server: $schema=") {
    blueprint_text = format!("{}\n{blueprint_text}", crate::schema::MODELINE);
  }
  let source = Source {
    name: source.name,
    bytes: blueprint_text.into_bytes(),
  };
  let mut plan = workspace::plan(
    dir,
    &output,
    Previous::none(),
    &lock::sha256(&source.bytes),
    Mode::Render,
  )?;
  refuse_conflicts(&plan, "init")?;
  if loaded.platform.spec.database.is_some() {
    plan.track_migrations();
  }
  std::fs::create_dir_all(dir)?;
  let _guard = crate::runlock::acquire(dir)?;
  crate::fsutil::write_atomic(&target, &source.bytes)?;
  let summary = plan.apply(false)?;
  info!(
    "created {} with {} files from `{}`",
    display_dir(dir),
    summary.created + 1,
    source.name
  );
  info!("next: review platform.yaml, then run `oi-gen render` after each change");
  Ok(())
}

fn display_dir(dir: &Path) -> String {
  let text = dir.display().to_string();
  if text.is_empty() { ".".into() } else { text }
}

fn output_dir(file: &Path, out: Option<&Path>) -> PathBuf {
  match out {
    Some(dir) => dir.to_path_buf(),
    None => match file.parent() {
      Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
      _ => PathBuf::from("."),
    },
  }
}

fn render_command(
  file: &Path,
  out: Option<&Path>,
  check: bool,
  force: bool,
  format: Format,
) -> Result<(), Failure> {
  let source = read_blueprint(file)?;
  let loaded = load(&source)?;
  let root = output_dir(file, out);
  let output = render_output(&loaded, &root)?;
  let _guard = if check {
    None
  } else {
    Some(crate::runlock::acquire(&root)?)
  };
  let previous = Previous::read(&root).map_err(|e| Failure::invalid(format!("error: {e}")))?;
  let plan = workspace::plan(
    &root,
    &output,
    previous,
    &lock::sha256(&source.bytes),
    Mode::Render,
  )?;
  let migrations = migration_files(&root, &loaded)?;
  if check {
    let findings = migration_findings(&migrations, plan.recorded_migrations());
    return crate::report::drift(&plan, format, &findings);
  }
  if !force {
    refuse_conflicts(&plan, "render")?;
  }
  for problem in crate::migrations::problems(&migrations.keys().cloned().collect::<Vec<_>>()) {
    eprint!(
      "{}",
      crate::ui::paint(&format!("warning: {}: {problem}\n", crate::migrations::DIR))
    );
  }
  let mut plan = plan;
  if loaded.platform.spec.database.is_some() {
    plan.track_migrations();
  }
  let summary = plan.apply(force)?;
  info!(
    "rendered {}: {} created, {} updated, {} deleted, {} unchanged",
    display_dir(&root),
    summary.created,
    summary.updated,
    summary.deleted,
    summary.unchanged
  );
  Ok(())
}

fn upgrade(file: &Path, dry_run: bool) -> Result<(), Failure> {
  let source = read_blueprint(file)?;
  let text = String::from_utf8_lossy(&source.bytes).into_owned();
  let (migrated, applied) = blueprint::migrate::migrate(&text, blueprint::migrate::STEPS)
    .map_err(|e| Failure::invalid(format!("error: {}: {e}", source.name)))?;
  let migrated_source = Source {
    name: source.name.clone(),
    bytes: migrated.clone().into_bytes(),
  };
  let loaded = load(&migrated_source)?;
  let root = output_dir(file, None);
  let output = render_output(&loaded, &root)?;
  let _guard = if dry_run {
    None
  } else {
    Some(crate::runlock::acquire(&root)?)
  };
  let previous = Previous::read(&root).map_err(|e| Failure::invalid(format!("error: {e}")))?;
  let mut plan = workspace::plan(
    &root,
    &output,
    previous,
    &lock::sha256(migrated.as_bytes()),
    Mode::Upgrade,
  )?;
  if loaded.platform.spec.database.is_some() {
    plan.track_migrations();
  }
  for step in &applied {
    info!("schema: {step}");
  }
  let report = crate::report::upgrade_plan(&plan, dry_run);
  print!("{report}");
  let conflicts: Vec<String> = plan
    .steps
    .iter()
    .filter(|s| s.action == Action::Conflict)
    .map(|s| s.path.clone())
    .collect();
  if dry_run {
    return if conflicts.is_empty() {
      Ok(())
    } else {
      Err(Failure::findings(format!(
        "error: {} file{} would get conflict markers",
        conflicts.len(),
        plural(conflicts.len())
      )))
    };
  }
  if !applied.is_empty() {
    crate::fsutil::write_atomic(file, migrated.as_bytes())?;
  }
  let summary = plan.apply(false)?;
  info!(
    "upgraded {}: {} created, {} updated, {} merged, {} conflicts, {} deleted, {} kept",
    display_dir(&root),
    summary.created,
    summary.updated,
    summary.merged,
    summary.conflicts,
    summary.deleted,
    summary.kept
  );
  if conflicts.is_empty() {
    return Ok(());
  }
  let mut message = String::new();
  for path in &conflicts {
    let _ = writeln!(message, "conflict: {path}");
  }
  let _ = writeln!(
    message,
    "error: {} file{} hold conflict markers (`<<<<<<< local` … `>>>>>>> oi-gen`)\n  = help: resolve them, then run `oi-gen render --check`",
    conflicts.len(),
    plural(conflicts.len())
  );
  Err(Failure::findings(message))
}

fn plural(n: usize) -> &'static str {
  if n == 1 { "" } else { "s" }
}

/// Refuses to go on when hand edits would be lost; shows each one.
fn refuse_conflicts(plan: &Plan, command: &str) -> Result<(), Failure> {
  let conflicts: Vec<_> = plan.blockers().collect();
  if conflicts.is_empty() {
    return Ok(());
  }
  let mut message = String::new();
  for step in &conflicts {
    let why = match step.action {
      Action::Edited => "was edited by hand since the last render",
      Action::Untracked => "exists and was not written by oi-gen",
      _ => "is no longer produced by the blueprint but was edited by hand",
    };
    let _ = writeln!(message, "error: `{}` {why}", step.path);
    if step.action != Action::EditedOrphan {
      message.push_str(&step.diff());
    }
  }
  let _ = writeln!(
    message,
    "error: {} file{} would lose changes; nothing was written",
    conflicts.len(),
    if conflicts.len() == 1 { "" } else { "s" }
  );
  let _ = writeln!(
    message,
    "  = help: move the changes into platform.yaml, or run `oi-gen {command} --force` to overwrite them"
  );
  Err(Failure::findings(message))
}

fn doctor() -> Result<(), Failure> {
  let missing = crate::doctor::report();
  if missing.is_empty() {
    return Ok(());
  }
  Err(Failure::findings(format!(
    "error: missing required tool{}: {}\n  = help: install {} and run `oi-gen doctor` again",
    plural(missing.len()),
    missing.join(", "),
    if missing.len() == 1 { "it" } else { "them" }
  )))
}

fn explain(file: &Path) -> Result<(), Failure> {
  let Some((root, relative)) = crate::explain::find_root(file) else {
    return Err(Failure::invalid(format!(
      "error: `{}` is not inside a repository rendered by oi-gen (no .oi-gen/lock.toml above it)",
      file.display()
    )));
  };
  let lock = crate::lock::Lock::read(&root)
    .map_err(|e| Failure::invalid(format!("error: {e}")))?
    .unwrap_or_default();
  let platform = std::fs::read(root.join("platform.yaml"))
    .ok()
    .and_then(|bytes| blueprint::load(&bytes).ok())
    .map(|loaded| loaded.platform);
  match crate::explain::describe(&lock, &relative, platform.as_ref()) {
    Some(text) => {
      print!("{text}");
      Ok(())
    }
    None => Err(Failure::findings(format!(
      "error: `{relative}` was not generated by oi-gen\n  = help: `oi-gen render --check` lists the files it generates"
    ))),
  }
}

/// The database migrations on disk with their SHA-256 (none without a database).
fn migration_files(
  root: &Path,
  loaded: &Loaded,
) -> Result<std::collections::BTreeMap<String, String>, Failure> {
  let mut found = std::collections::BTreeMap::new();
  if loaded.platform.spec.database.is_none() {
    return Ok(found);
  }
  for name in crate::migrations::list(root)? {
    let path = crate::fsutil::resolve(root, &format!("{}/{name}", crate::migrations::DIR))?;
    found.insert(name, lock::sha256(&std::fs::read(path)?));
  }
  Ok(found)
}

/// Names Flyway refuses, and released migrations edited since the last render.
fn migration_findings(
  current: &std::collections::BTreeMap<String, String>,
  recorded: Option<&std::collections::BTreeMap<String, String>>,
) -> Vec<crate::report::Finding> {
  let names: Vec<String> = current.keys().cloned().collect();
  let mut findings: Vec<crate::report::Finding> = crate::migrations::problems(&names)
    .into_iter()
    .map(|message| crate::report::Finding {
      path: crate::migrations::DIR.to_string(),
      status: crate::report::Status::InvalidMigration,
      message,
    })
    .collect();
  if let Some(recorded) = recorded {
    for (name, sha) in recorded {
      if current.get(name).is_some_and(|now| now != sha) {
        findings.push(crate::report::Finding {
          path: format!("{}/{name}", crate::migrations::DIR),
          status: crate::report::Status::EditedMigration,
          message: "changed after it was released; Flyway will refuse its new checksum. Revert it and add a new migration".into(),
        });
      }
    }
  }
  findings
}

fn migration_new(file: &Path, description: &str) -> Result<(), Failure> {
  let source = read_blueprint(file)?;
  let loaded = load(&source)?;
  if loaded.platform.spec.database.is_none() {
    return Err(Failure::invalid(format!(
      "error: `{}` has no spec.database, so there are no migrations\n  = help: add spec.database to the blueprint and run `oi-gen render`",
      source.name
    )));
  }
  let root = output_dir(file, None);
  let _guard = crate::runlock::acquire(&root)?;
  let names = crate::migrations::list(&root)?;
  let name = crate::migrations::next_name(&names, description)
    .map_err(|e| Failure::invalid(format!("error: {e}")))?;
  let relative = format!("{}/{name}", crate::migrations::DIR);
  let path = crate::fsutil::resolve(&root, &relative)?;
  let contents = format!(
    "-- {name}: {description}\n--\n-- Forward-only and backward compatible with the release still running:\n-- add first, switch the code over, remove in a later migration.\n-- Never edit this file once it has been released.\n\n"
  );
  crate::fsutil::write_new(&path, contents.as_bytes())
    .map_err(|e| Failure::invalid(format!("error: cannot create `{relative}`: {e}")))?;
  println!("{}", path.display());
  Ok(())
}
