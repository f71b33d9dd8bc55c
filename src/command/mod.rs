//! The commands, one per file, and what they share: reading the blueprint
//! within its size limit, loading it with its warnings, rendering it in
//! memory, the output folder, and planning the render against it.
//!
//! A command that writes runs in a straight line: load → resolve → render
//! (in memory) → plan against the disk, migrations included → apply or
//! report.

pub(crate) mod blueprints;
pub(crate) mod completions;
pub(crate) mod doctor;
pub(crate) mod explain;
pub(crate) mod init;
pub(crate) mod keep;
pub(crate) mod man;
pub(crate) mod migration;
pub(crate) mod render;
pub(crate) mod schema;
pub(crate) mod upgrade;
pub(crate) mod validate;
pub(crate) mod verify;
pub(crate) mod versions;

use std::borrow::Cow;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::blueprint::{self, Loaded};
use crate::error::{Error, Invalid, Message, Op};
use crate::lock;
use crate::render::{Engine, File, Output};
use crate::ui::{self, Style};
use crate::workspace::{self, Mode, Plan, Planner, Previous, Purpose, Root};

/// A blueprint's text and the name to show in messages.
pub(crate) struct Source {
  pub name: String,
  /// The text, cut one byte past the size limit.
  pub bytes: Vec<u8>,
  /// The size of the blueprint, which may be past the limit.
  size: u64,
  /// The size is only known to be past the limit: a pipe, a device or a
  /// file that grew while it was read.
  size_unknown: bool,
}

impl Source {
  /// A blueprint given as text.
  pub(crate) fn new(name: String, bytes: Vec<u8>) -> Source {
    let size = bytes.len() as u64;
    Source {
      name,
      bytes,
      size,
      size_unknown: false,
    }
  }

  /// Reads a blueprint file, never more than one byte past the size limit
  /// (which `load` then reports), whatever it is: a file, a pipe or a device
  /// such as `/dev/zero`, whose reported size means nothing.
  pub(crate) fn read(file: &Path) -> Result<Source, Error> {
    let name = file.display().to_string();
    let mut handle = match std::fs::File::open(file) {
      Ok(handle) => handle,
      Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
        return Err(Error::Usage(
          Message::new(format!("blueprint `{name}` not found"))
            .with_help("run `oi-gen init` to create one, or pass `-f <file>`"),
        ));
      }
      Err(error) => return Err(Error::io(Op::Read, file)(error)),
    };
    let limit = blueprint::MAX_BYTES as u64;
    let size = handle.metadata().map_err(Error::io(Op::Read, file))?.len();
    let mut bytes = Vec::with_capacity(usize::try_from(size.min(limit + 1)).unwrap_or_default());
    (&mut handle)
      .take(limit + 1)
      .read_to_end(&mut bytes)
      .map_err(Error::io(Op::Read, file))?;
    let read = bytes.len() as u64;
    Ok(Source {
      name,
      bytes,
      size: size.max(read),
      size_unknown: read > limit && size <= limit,
    })
  }

  pub(crate) fn text(&self) -> Cow<'_, str> {
    String::from_utf8_lossy(&self.bytes)
  }

  /// Parses and validates; prints the warnings.
  pub(crate) fn load(&self) -> Result<Loaded, Error> {
    if self.size > blueprint::MAX_BYTES as u64 {
      return Err(Error::Blueprint(Invalid {
        name: self.name.clone(),
        text: String::new(),
        diagnostics: vec![if self.size_unknown {
          blueprint::too_large_stream()
        } else {
          blueprint::too_large(self.size)
        }],
      }));
    }
    match blueprint::load(&self.bytes) {
      Ok(loaded) => {
        let text = self.text();
        let style = Style::stderr();
        if !loaded.warnings.is_empty() {
          ui::eprint_raw(&crate::diagnostic::render_all(
            &loaded.warnings,
            &self.name,
            &text,
            style,
          ));
        }
        Ok(loaded)
      }
      Err(diagnostics) => Err(Error::Blueprint(Invalid {
        name: self.name.clone(),
        text: self.text().into_owned(),
        diagnostics,
      })),
    }
  }
}

/// Renders in memory with the embedded templates and the repository's
/// overrides; prints the warnings.
pub(crate) fn render_output(loaded: &Loaded, root: &Path) -> Result<Output, Error> {
  let (output, moved) = render_with_overrides(loaded, root)?;
  warn_moved(&moved);
  Ok(output)
}

/// Warns about the overrides at old template paths.
pub(crate) fn warn_moved(moved: &[(String, String)]) {
  for (old, new) in moved {
    ui::warn(format_args!(
      "`{old}` is at a template path oi-gen no longer uses; it still applies, and `oi-gen upgrade` moves it to `{new}`"
    ));
  }
}

/// [`render_output`] without the warning about overrides at old template
/// paths, which are returned instead as (where it is, where it belongs).
pub(crate) fn render_with_overrides(
  loaded: &Loaded,
  root: &Path,
) -> Result<(Output, Vec<(String, String)>), Error> {
  let mut files = std::collections::BTreeMap::new();
  let (mut output, moved) = render_each(loaded, root, |path, file| {
    files.insert(path, file);
  })?;
  output.files = files;
  Ok((output, moved))
}

/// [`render_with_overrides`], handing each file to `each` as it is
/// rendered instead of keeping it (the output holds no files). `each` must
/// not write: the render may still fail.
fn render_each(
  loaded: &Loaded,
  root: &Path,
  each: impl FnMut(String, File),
) -> Result<(Output, Vec<(String, String)>), Error> {
  let engine = Engine::for_render(&loaded.resolved, root)?;
  let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
  if engine.has_overrides() {
    watch_overrides(done.clone());
  }
  let output = crate::render::render_each(&loaded.resolved, &engine, each).map_err(Error::Render);
  done.store(true, std::sync::atomic::Ordering::Relaxed);
  let output = output?;
  for stale in &engine.stale_overrides {
    ui::warn(format_args!(
      "`{stale}` overrides a template oi-gen no longer has; it is ignored"
    ));
  }
  for warning in &output.warnings {
    ui::warn(warning);
  }
  Ok((output, engine.moved_overrides))
}

/// Stops the process, exit 2, when one template with the repository's
/// overrides renders for longer than the budget: a loop that does not end
/// (`range(end=…)` of billions) must not hang CI. Nothing has been written
/// then: rendering happens before any write.
fn watch_overrides(done: std::sync::Arc<std::sync::atomic::AtomicBool>) {
  std::thread::spawn(move || {
    while !done.load(std::sync::atomic::Ordering::Relaxed) {
      std::thread::sleep(std::time::Duration::from_millis(100));
      if let Some(name) = crate::render::engine::overrun() {
        ui::eprint_raw(
          &Error::Usage(
            Message::new(format!(
              "template override: `{name}` rendered for more than {} s without finishing; nothing was written",
              crate::render::engine::RENDER_BUDGET.as_secs()
            ))
            .with_help(format!(
              "look in `{}/{name}` (or a partial it uses) for a loop that does not end",
              crate::render::engine::OVERRIDES_DIR
            )),
          )
          .render(Style::stderr()),
        );
        std::process::exit(crate::error::INVALID);
      }
    }
  });
}

/// Takes the run lock (held while the guard lives): exclusive for a command
/// that writes, shared for one that only reads, so it waits for a render in
/// progress; then reads what the last render left. Commands do this before
/// they render, so the lock's parse and the render are not in memory at
/// once.
pub(crate) fn lock_and_read(
  root: &Root,
  writes: bool,
) -> Result<(crate::runlock::Guard, Previous), Error> {
  let guard = run_lock(root, writes)?;
  Ok((guard, Previous::read(root)?))
}

/// The run lock: exclusive for a command that writes, shared for one that
/// only reads.
fn run_lock(root: &Root, writes: bool) -> Result<crate::runlock::Guard, Error> {
  if writes {
    crate::runlock::acquire(root)
  } else {
    crate::runlock::acquire_shared(root)
  }
}

/// [`lock_and_read`], then renders the blueprint (warning about overrides
/// at old template paths) and plans writing it in `mode`. A command that
/// does not write only reports: its plan keeps no more than the report
/// shows.
pub(crate) fn lock_render_and_plan(
  root: &Root,
  writes: bool,
  loaded: &Loaded,
  blueprint: &[u8],
  mode: Mode,
) -> Result<(crate::runlock::Guard, Plan), Error> {
  let (guard, previous) = lock_and_read(root, writes)?;
  let purpose = if writes {
    Purpose::Apply
  } else {
    Purpose::Report
  };
  let (plan, moved) = render_and_plan(root, previous, loaded, blueprint, mode, purpose)?;
  warn_moved(&moved);
  Ok((guard, plan))
}

/// Renders the blueprint and plans writing it into `root` against what the
/// last render left, each file as it is rendered (the disk is read while
/// the render goes on, and a file that needs no write is not kept); returns
/// the plan and the overrides at old template paths. Nothing is written,
/// and a failed render fails whatever was planned.
pub(crate) fn render_and_plan(
  root: &Root,
  previous: Previous,
  loaded: &Loaded,
  blueprint: &[u8],
  mode: Mode,
  purpose: Purpose,
) -> Result<(Plan, Vec<(String, String)>), Error> {
  let mut planner = Planner::new(root, previous, mode, purpose);
  let (_, moved) = render_each(loaded, root.path(), |path, file| planner.add(path, file))?;
  let mut plan = planner.finish(&lock::sha256(blueprint))?;
  if loaded.resolved.database.is_some() {
    plan.read_migrations()?;
  }
  Ok((plan, moved))
}

/// Takes the run lock like [`lock_and_read`], then plans with what the last
/// render left read by `previous` from the folder and the render.
pub(crate) fn lock_and_plan_from(
  root: &Root,
  writes: bool,
  previous: impl FnOnce(&Root, &Output) -> Result<Previous, Error>,
  loaded: &Loaded,
  output: Output,
  blueprint: &[u8],
  mode: Mode,
) -> Result<(crate::runlock::Guard, Plan), Error> {
  let guard = run_lock(root, writes)?;
  let previous = previous(root, &output)?;
  let plan = plan(root, previous, loaded, output, blueprint, mode)?;
  Ok((guard, plan))
}

/// Plans writing `output` into `root` against what the last render left:
/// the files, and the database migrations on disk when there is a database.
/// The plan takes the render over.
pub(crate) fn plan(
  root: &Root,
  previous: Previous,
  loaded: &Loaded,
  output: Output,
  blueprint: &[u8],
  mode: Mode,
) -> Result<Plan, Error> {
  let mut plan = workspace::plan(root, output, previous, &lock::sha256(blueprint), mode)?;
  if loaded.resolved.database.is_some() {
    plan.read_migrations()?;
  }
  Ok(plan)
}

/// The folder to render into: `--out`, or the blueprint's folder.
pub(crate) fn output_dir(file: &Path, out: Option<&Path>) -> PathBuf {
  match out {
    Some(dir) => dir.to_path_buf(),
    None => match file.parent() {
      Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
      _ => PathBuf::from("."),
    },
  }
}

/// A folder for messages: `.` rather than nothing.
pub(crate) fn display_dir(dir: &Path) -> String {
  let text = dir.display().to_string();
  if text.is_empty() { ".".into() } else { text }
}
