//! Comparing a render with the output folder: what to create, update, merge,
//! delete or leave alone, and which hand edits stand in the way. Planning
//! reads the disk and writes nothing; `apply` writes only what the plan says.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use similar::TextDiff;

use crate::base;
use crate::error::{Error, Op};
use crate::fsutil;
pub use crate::fsutil::Root;
use crate::lock::{self, Entry, Kept, Lock};
use crate::merge::{self, Merged};
use crate::migrations::{self, Problem};
use crate::render::{File, Output, Ownership};

/// What a plan is made for, which decides what its steps hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
  /// To be applied: a step that writes nothing holds the digests `apply`
  /// records, not its text (unless the base lacks that text, which `apply`
  /// then writes into it).
  Apply,
  /// To be reported only (`render --check`): a step holds its text only
  /// when the report shows its diff.
  Report,
}

/// How hand edits are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
  /// `render`: edited files block the run (unless forced).
  Render,
  /// `upgrade`: edited files are three-way merged with the new render.
  Upgrade,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
  /// Missing on disk: written.
  Create,
  /// Out of date and not edited since the last render: rewritten.
  Update,
  /// Same bytes on disk.
  Unchanged,
  /// A seeded file that exists: the user's, left alone.
  Keep,
  /// A file the user deleted: stays deleted (upgrade; seeded files always).
  KeepDeleted,
  /// No longer produced and not edited: removed.
  Delete,
  /// Edited by hand since the last render.
  Edited,
  /// Edited by hand and recorded as intended (`oi-gen keep`), against the
  /// same render: left alone, and not drift.
  Customized,
  /// Exists, but oi-gen never wrote it.
  Untracked,
  /// No longer produced, but edited by hand: kept.
  EditedOrphan,
  /// Edited by hand and merged cleanly with the new render.
  Merge,
  /// Still holds the conflict markers an earlier upgrade wrote: left alone
  /// until they are resolved.
  Unresolved,
  /// Edited by hand where the new render changed the same lines: written
  /// with conflict markers.
  Conflict,
}

#[derive(Debug)]
pub struct Step {
  pub path: String,
  pub action: Action,
  pub ownership: Ownership,
  /// What the render produced: none for files no longer produced, and for
  /// a step that writes nothing, which holds only `digests`.
  pub rendered: Option<String>,
  /// For a step that holds no text: the digests `apply` records of the
  /// text it keeps in step (the lock's, and the whole text's).
  digests: Option<(base::Sha, base::Sha)>,
  /// What this step writes when it is not the render: a merge, or a
  /// conflict (creates and updates write `rendered`).
  pub write: Option<String>,
  /// What is on disk now.
  disk: Disk,
  /// The file has a user section, left out of its digest.
  user_section: bool,
  /// A file oi-gen never wrote, taken over with `render --adopt`: saved
  /// beside itself as `<path>.orig`, then written like an update.
  adopted: bool,
}

/// What is on disk at a step's path. A file that holds the render's bytes
/// is not kept twice.
#[derive(Debug)]
enum Disk {
  Missing,
  /// The same bytes as the render.
  Rendered,
  Bytes(Vec<u8>),
  /// A file the step needs only the verdict of (or its digests): not held.
  NotHeld,
}

/// The digest the lock records: of the whole file, or of everything but the
/// user section, which is the user's to change.
fn digest(bytes: &[u8], user_section: bool) -> String {
  lock::hex(&digest_raw(bytes, user_section))
}

/// [`digest`], as bytes.
fn digest_raw(bytes: &[u8], user_section: bool) -> base::Sha {
  if user_section && let Ok(text) = std::str::from_utf8(bytes) {
    return base::sha(crate::render::strip_user_section(text).as_bytes());
  }
  base::sha(bytes)
}

impl Step {
  /// Blocks a plain `render` (without `--force`).
  pub fn blocks_render(&self) -> bool {
    matches!(
      self.action,
      Action::Edited | Action::Untracked | Action::EditedOrphan | Action::Unresolved
    )
  }

  /// What is on disk now: none when the file is missing, or for a step
  /// that writes nothing and holds only its verdict.
  pub fn disk(&self) -> Option<&[u8]> {
    match &self.disk {
      Disk::Missing | Disk::NotHeld => None,
      Disk::Rendered => self.rendered.as_deref().map(str::as_bytes),
      Disk::Bytes(bytes) => Some(bytes),
    }
  }

  /// What this step writes: a merge or conflict, else the render (which a
  /// step that writes always holds).
  fn written(&self) -> &str {
    self
      .write
      .as_deref()
      .or(self.rendered.as_deref())
      .expect("a step that writes holds its text")
  }

  /// The bytes of rendered text the step holds (for tests of what a plan
  /// keeps in memory).
  #[cfg(test)]
  fn held(&self) -> usize {
    let disk = match &self.disk {
      Disk::Bytes(bytes) => bytes.len(),
      _ => 0,
    };
    self.rendered.as_ref().map_or(0, String::len)
      + self.write.as_ref().map_or(0, String::len)
      + disk
  }

  /// What `apply` records of the text this step keeps in step, `recorded`
  /// (the render, or the disk for a seeded file kept): the lock's digest
  /// and the whole text's.
  fn digests_of(&self, recorded: &str) -> (base::Sha, base::Sha) {
    if let Some(digests) = self.digests {
      return digests;
    }
    let lock = digest_raw(recorded.as_bytes(), self.user_section);
    let whole = if self.user_section {
      base::sha(recorded.as_bytes())
    } else {
      lock
    };
    (lock, whole)
  }

  /// Unified diff from the disk to what the step writes (or the render).
  pub fn diff(&self) -> String {
    let old = self.disk().map(String::from_utf8_lossy).unwrap_or_default();
    let new = self
      .write
      .as_deref()
      .or(self.rendered.as_deref())
      .unwrap_or_default();
    TextDiff::from_lines(old.as_ref(), new)
      .unified_diff()
      .context_radius(3)
      .header(
        &format!("a/{} (on disk)", self.path),
        &format!("b/{} (oi-gen)", self.path),
      )
      .to_string()
  }
}

/// What writing a render into an output folder does to each file, and the
/// database migrations found there.
pub struct Plan {
  root: Root,
  pub steps: Vec<Step>,
  lock: Lock,
  previous: Previous,
  /// The database migrations on disk, name → SHA-256, when they were read;
  /// `apply` then records them in the lock.
  migrations: Option<BTreeMap<String, String>>,
}

/// What the last render left: its lock, and the base texts for merging,
/// read only when a merge needs them.
pub struct Previous {
  pub lock: Option<Lock>,
  root: Option<PathBuf>,
  base: std::cell::OnceCell<base::Stored>,
}

impl Previous {
  /// Reads the lock of `root`; the base is read when a merge needs it.
  pub fn read(root: &Root) -> Result<Previous, Error> {
    // Refuse a base reached through a symbolic link before anything else.
    refuse_linked_base(root)?;
    Ok(Previous {
      lock: Lock::read(root)?,
      root: Some(root.path().to_path_buf()),
      base: std::cell::OnceCell::new(),
    })
  }

  /// A lock rebuilt from the base and the files, for a lock that is damaged
  /// or lost: each file of `output` the base holds is recorded as the text
  /// on disk when oi-gen wrote that text, and as the newest text otherwise,
  /// so a file changed by hand stays an edit. Migration checksums start
  /// afresh from the disk.
  pub fn rebuild(root: &Root, output: &Output) -> Result<Previous, Error> {
    refuse_linked_base(root)?;
    let mut previous = Previous {
      lock: None,
      root: Some(root.path().to_path_buf()),
      base: std::cell::OnceCell::new(),
    };
    let mut files = BTreeMap::new();
    for (path, file) in &output.files {
      let Some(texts) = previous.base().get(path) else {
        continue;
      };
      let disk = fsutil::read_optional(&root.resolve(path)?)?
        .map(|bytes| lf_unless(bytes, file.contents.contains('\r')));
      let on_disk = disk.as_deref().and_then(|disk| {
        let wanted = digest_raw(disk, file.user_section);
        texts
          .iter()
          .find(|text| *text.digest(file.user_section) == wanted)
      });
      let Some(text) = on_disk.or(texts.last()) else {
        continue;
      };
      files.insert(
        path.clone(),
        Entry {
          sha256: lock::hex(text.digest(file.user_section)),
          ownership: file.ownership,
          kept: None,
        },
      );
    }
    previous.lock = Some(Lock {
      format: lock::FORMAT,
      oi_gen: env!("CARGO_PKG_VERSION").to_string(),
      blueprint_sha256: String::new(),
      files,
      migrations: BTreeMap::new(),
    });
    Ok(previous)
  }

  /// Nothing rendered before (`init`).
  pub fn none() -> Previous {
    Previous {
      lock: None,
      root: None,
      base: std::cell::OnceCell::new(),
    }
  }

  /// The digests of every text the base holds, read on first use.
  fn base(&self) -> &base::Stored {
    self.base.get_or_init(|| match &self.root {
      Some(root) => base::Stored::open(root),
      None => base::Stored::default(),
    })
  }

  /// The base's entry for the text the last render wrote to `path`, if it
  /// is known: the one whose digest the lock records.
  fn base_entry(&self, path: &str) -> Option<&base::Text> {
    let entry = self.lock.as_ref()?.files.get(path)?;
    self.base().get(path)?.iter().find(|text| {
      lock::is_hex_of(&entry.sha256, text.digest(true))
        || lock::is_hex_of(&entry.sha256, text.sha256())
    })
  }

  /// The text the last render wrote to `path`, if it is known and intact.
  fn base_of(&self, path: &str) -> Option<String> {
    let bytes = self.base().read(self.base_entry(path)?).ok()?;
    String::from_utf8(bytes).ok()
  }

  /// Whether oi-gen wrote `disk` to `path` (the base holds that text): the
  /// lock's digest alone does not make a file oi-gen's, so a lock edited to
  /// match a hand edit does not hide it.
  fn wrote(&self, path: &str, disk: &[u8], user_section: bool) -> bool {
    self.written_text(path, disk, user_section).is_some()
  }

  /// The base's text of `path` that is `disk`, if oi-gen wrote it.
  fn written_text(&self, path: &str, disk: &[u8], user_section: bool) -> Option<&base::Text> {
    let wanted = digest_raw(disk, user_section);
    self
      .base()
      .get(path)?
      .iter()
      .find(|text| *text.digest(user_section) == wanted)
  }
}

/// Refuses a base folder, or a base of earlier versions, reached through a
/// symbolic link (a shard that is a link is not read).
fn refuse_linked_base(root: &Root) -> Result<(), Error> {
  root.resolve(base::LEGACY_PATH)?;
  root.resolve(base::BASE_DIR)?;
  Ok(())
}

/// Plans writing `output` into `root`. The plan takes the rendered texts
/// over: the tree is held once, and what is on disk only where it differs.
pub fn plan(
  root: &Root,
  output: Output,
  previous: Previous,
  blueprint_sha256: &str,
  mode: Mode,
) -> Result<Plan, Error> {
  let mut planner = Planner::new(root, previous, mode, Purpose::Apply);
  for (path, file) in output.files {
    planner.add(path, file);
  }
  planner.finish(blueprint_sha256)
}

/// Builds a plan one rendered file at a time, as the render produces them,
/// in any order: each file is compared with the disk as it arrives, and
/// keeps only what its purpose needs. The plan is the same whatever the
/// order: its steps are sorted by path, and of the files that fail, the
/// first by path is reported.
pub struct Planner {
  root: Root,
  previous: Previous,
  mode: Mode,
  purpose: Purpose,
  steps: Vec<Step>,
  /// The failure of the first path, by path order, that failed.
  failed: Option<(String, Error)>,
}

impl Planner {
  pub fn new(root: &Root, previous: Previous, mode: Mode, purpose: Purpose) -> Planner {
    // As many steps as the last render had, most often: grown once at most.
    let expected = previous.lock.as_ref().map_or(0, |lock| lock.files.len());
    Planner {
      root: root.clone(),
      previous,
      mode,
      purpose,
      steps: Vec::with_capacity(expected),
      failed: None,
    }
  }

  /// Plans one rendered file.
  pub fn add(&mut self, path: String, file: File) {
    if self.failed.as_ref().is_some_and(|(first, _)| *first < path) {
      // An earlier path failed already: this one cannot change the outcome.
      return;
    }
    match self.step(&path, file) {
      Ok(mut step) => {
        step.path = path;
        self.hold(&mut step);
        self.steps.push(step);
      }
      Err(error) => self.failed = Some((path, error)),
    }
  }

  /// The step of one rendered file (its path filled in by the caller).
  fn step(&self, path: &str, file: File) -> Result<Step, Error> {
    let root = &self.root;
    let previous = &self.previous;
    let at = root.resolve(path)?;
    let disk = if file.user_section {
      // What is on disk decides what is rendered: read whole.
      root.read_optional(&at)?
    } else {
      match read_against(root, &at, file.contents.as_bytes())? {
        Against::Missing => None,
        Against::Same => {
          // Decided without holding the disk's copy.
          let (action, write) = decide_same(
            &file.contents,
            file.ownership,
            previous.lock.as_ref().and_then(|lock| lock.files.get(path)),
          );
          return Ok(Step {
            path: String::new(),
            action,
            ownership: file.ownership,
            rendered: Some(file.contents),
            digests: None,
            write,
            disk: Disk::Rendered,
            user_section: false,
            adopted: false,
          });
        }
        Against::Differs(bytes) => Some(bytes),
      }
    }
    .map(|bytes| lf_unless(bytes, file.contents.contains('\r')));
    let recorded = previous.lock.as_ref().and_then(|lock| lock.files.get(path));
    // A user section on disk is carried into the render.
    let contents = match (&disk, file.user_section) {
      (Some(bytes), true) => splice_user_section(&file.contents, bytes).unwrap_or(file.contents),
      _ => file.contents,
    };
    let (mut action, mut write) = decide(
      &contents,
      file.ownership,
      disk.as_deref(),
      recorded,
      Bases {
        merge: || previous.base_of(path),
        wrote: |bytes: &[u8]| previous.wrote(path, bytes, file.user_section),
      },
      self.mode,
      file.user_section,
    );
    if action == Action::Create
      && let Some(dir) = &file.seed_unless
      && fsutil::has_files(&root.resolve(dir)?, file.seed_unless_any)?
    {
      // The user has taken over the folder: do not seed it.
      (action, write) = (Action::KeepDeleted, None);
    }
    let disk = match disk {
      None => Disk::Missing,
      Some(bytes) if bytes == contents.as_bytes() => Disk::Rendered,
      Some(bytes) => Disk::Bytes(bytes),
    };
    Ok(Step {
      path: String::new(),
      action,
      ownership: file.ownership,
      rendered: Some(contents),
      digests: None,
      write,
      disk,
      user_section: file.user_section,
      adopted: false,
    })
  }

  /// Lets go of the texts a step does not need: a step that writes nothing
  /// keeps the digests `apply` records (none for a report), and its text
  /// only when `apply` writes it into the base; a report keeps the texts it
  /// shows diffs of. Kept texts are at their exact size.
  fn hold(&self, step: &mut Step) {
    let writes_nothing = match step.action {
      // An upgrade's merge that is already on disk records the render and
      // the disk both.
      Action::Unchanged => !matches!(step.disk, Disk::Bytes(_)),
      Action::Keep | Action::KeepDeleted | Action::Customized => true,
      Action::Create => self.purpose == Purpose::Report,
      _ => false,
    };
    if !writes_nothing {
      for text in [&mut step.rendered, &mut step.write].into_iter().flatten() {
        text.shrink_to_fit();
      }
      if let Disk::Bytes(bytes) = &mut step.disk {
        bytes.shrink_to_fit();
      }
      return;
    }
    if self.purpose == Purpose::Apply {
      let rendered = step.rendered.as_deref().unwrap_or_default();
      let recorded = match (&step.action, &step.disk) {
        (Action::Keep, Disk::Bytes(bytes)) => String::from_utf8_lossy(bytes),
        _ => std::borrow::Cow::Borrowed(rendered),
      };
      let (lock, whole) = step.digests_of(&recorded);
      if step.ownership == Ownership::Managed
        && matches!(step.action, Action::Unchanged | Action::Customized)
        && !self.previous.base().holds(&step.path, &whole)
      {
        // The base lacks this text: `apply` writes it there.
        step.rendered.as_mut().map(String::shrink_to_fit);
        return;
      }
      step.digests = Some((lock, whole));
    }
    step.rendered = None;
    if !matches!(step.disk, Disk::Missing) {
      step.disk = Disk::NotHeld;
    }
  }

  /// The plan: the steps of the rendered files sorted by path, then those
  /// of the files the lock records that the render no longer produces.
  pub fn finish(mut self, blueprint_sha256: &str) -> Result<Plan, Error> {
    if let Some((_, error)) = self.failed {
      return Err(error);
    }
    let root = &self.root;
    self.steps.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    let rendered = |path: &str| {
      self
        .steps
        .binary_search_by(|step| step.path.as_str().cmp(path))
        .is_ok()
    };
    let mut orphans = Vec::new();
    let empty = Lock::default();
    let recorded_files = &self.previous.lock.as_ref().unwrap_or(&empty).files;
    for (path, entry) in recorded_files {
      // Seeded files are the user's; oi-gen forgets them.
      if rendered(path) || entry.ownership == Ownership::Seeded {
        continue;
      }
      let Some(bytes) = root.read_optional(&root.resolve(path)?)? else {
        continue;
      };
      let bytes = lf_unless(bytes, false);
      let action = if lock::sha256(&bytes) == entry.sha256 {
        Action::Delete
      } else {
        Action::EditedOrphan
      };
      orphans.push(Step {
        path: path.clone(),
        action,
        ownership: entry.ownership,
        rendered: None,
        digests: None,
        write: None,
        disk: Disk::Bytes(bytes),
        user_section: false,
        adopted: false,
      });
    }
    self.steps.extend(orphans);
    Ok(Plan {
      root: self.root,
      steps: self.steps,
      lock: Lock {
        format: lock::FORMAT,
        oi_gen: env!("CARGO_PKG_VERSION").to_string(),
        blueprint_sha256: blueprint_sha256.to_string(),
        files: BTreeMap::new(),
        migrations: BTreeMap::new(),
      },
      previous: self.previous,
      migrations: None,
    })
  }
}

/// A file on disk read against what it should hold.
enum Against {
  Missing,
  /// It holds exactly the expected bytes (which were compared as they were
  /// read, not kept).
  Same,
  /// It holds these bytes.
  Differs(Vec<u8>),
}

/// Reads the file at `path` (a path [`Root::resolve`] gave) against
/// `expected`: a file that holds these bytes is compared in pieces as it is
/// read, and never held whole next to them.
fn read_against(root: &Root, path: &Path, expected: &[u8]) -> Result<Against, Error> {
  use std::io::Read as _;
  if root.below_missing(path) {
    return Ok(Against::Missing);
  }
  let mut file = match std::fs::File::open(path) {
    Ok(file) => file,
    Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Against::Missing),
    Err(error) => return Err(Error::io(Op::Read, path)(error)),
  };
  let read_error = Error::io(Op::Read, path);
  let len = file.metadata().map_err(Error::io(Op::Read, path))?.len();
  let mut same = 0;
  if len == expected.len() as u64 {
    let mut piece = vec![0; (1 << 16).min(expected.len()).max(1)];
    loop {
      let read = match file.read(&mut piece) {
        Ok(read) => read,
        Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
        Err(error) => return Err(read_error(error)),
      };
      if read == 0 && same == expected.len() {
        return Ok(Against::Same);
      }
      if read == 0 || expected.get(same..same + read) != Some(&piece[..read]) {
        // It differs (or changed as it was read): the rest is read whole.
        let mut bytes = Vec::with_capacity(expected.len().max(same + read));
        bytes.extend_from_slice(&expected[..same]);
        bytes.extend_from_slice(&piece[..read]);
        file.read_to_end(&mut bytes).map_err(read_error)?;
        return Ok(Against::Differs(bytes));
      }
      same += read;
    }
  }
  let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or_default());
  file.read_to_end(&mut bytes).map_err(read_error)?;
  Ok(Against::Differs(bytes))
}

/// What `decide` asks of the base: the text to merge against, and whether
/// oi-gen wrote given bytes.
struct Bases<M, W> {
  merge: M,
  wrote: W,
}

/// [`decide`] for a file on disk that holds the render's bytes.
fn decide_same(
  rendered: &str,
  ownership: Ownership,
  recorded: Option<&Entry>,
) -> (Action, Option<String>) {
  decide(
    rendered,
    ownership,
    Some(rendered.as_bytes()),
    recorded,
    Bases {
      merge: || None,
      wrote: |_: &[u8]| true,
    },
    // Nothing to merge: the same bytes are unchanged in either mode.
    Mode::Render,
    false,
  )
}

fn decide(
  rendered: &str,
  ownership: Ownership,
  disk: Option<&[u8]>,
  recorded: Option<&Entry>,
  base: Bases<impl FnOnce() -> Option<String>, impl FnOnce(&[u8]) -> bool>,
  mode: Mode,
  user_section: bool,
) -> (Action, Option<String>) {
  // Creates and updates write the render, which the step holds.
  let Some(disk) = disk else {
    return match (ownership, recorded, mode) {
      (Ownership::Seeded, Some(_), _) | (Ownership::Managed, Some(_), Mode::Upgrade) => {
        (Action::KeepDeleted, None)
      }
      _ => (Action::Create, None),
    };
  };
  if ownership == Ownership::Seeded {
    return (Action::Keep, None);
  }
  if disk == rendered.as_bytes() {
    return (Action::Unchanged, None);
  }
  if let Some(kept) = recorded.and_then(|entry| entry.kept.as_ref())
    && kept.sha256 == digest(disk, user_section)
    && kept.render == digest(rendered.as_bytes(), user_section)
  {
    return (Action::Customized, None);
  }
  let edited = match recorded {
    // Out of date, not edited: what is on disk is a text oi-gen wrote there
    // (the base holds it), whether or not the lock got to record it.
    Some(_) if (base.wrote)(disk) => return (Action::Update, None),
    Some(_) if merge::has_markers(&String::from_utf8_lossy(disk)) => {
      return (Action::Unresolved, None);
    }
    Some(_) => Action::Edited,
    None => Action::Untracked,
  };
  // A file oi-gen never wrote is the user's: never merged, never overwritten.
  if mode == Mode::Render || edited == Action::Untracked {
    return (edited, None);
  }
  let local = String::from_utf8_lossy(disk);
  match merge::merge((base.merge)().as_deref().unwrap_or(""), &local, rendered) {
    Merged::Clean(text) if text.as_bytes() == disk => (Action::Unchanged, None),
    Merged::Clean(text) => (Action::Merge, Some(text)),
    Merged::Conflict(text) => (Action::Conflict, Some(text)),
  }
}

impl Plan {
  /// The output folder.
  pub fn root(&self) -> &Path {
    self.root.path()
  }

  /// Reads the database migrations on disk, for their checks; `apply` then
  /// records the checksums of new ones in the lock (after a seeded first
  /// migration is written), and keeps those it recorded before.
  pub fn read_migrations(&mut self) -> Result<(), Error> {
    self.migrations = Some(migrations::checksums(&self.root)?);
    Ok(())
  }

  /// The migrations Flyway would refuse: bad names, duplicate versions.
  pub fn migration_problems(&self) -> Vec<Problem> {
    let names: Vec<String> = self
      .migrations
      .iter()
      .flat_map(|found| found.keys().cloned())
      .collect();
    migrations::problems(&names)
  }

  /// Released migrations edited since the last render.
  pub fn edited_migrations(&self) -> Vec<Problem> {
    let (Some(current), Some(lock)) = (&self.migrations, &self.previous.lock) else {
      return Vec::new();
    };
    lock
      .migrations
      .iter()
      .filter(|(name, sha)| current.get(*name).is_some_and(|now| now != *sha))
      .map(|(name, _)| Problem::Edited { name: name.clone() })
      .collect()
  }

  pub fn blockers(&self) -> impl Iterator<Item = &Step> {
    self.steps.iter().filter(|s| s.blocks_render())
  }

  /// Writes the plan. With `force`, edited files are overwritten and edited
  /// orphans removed; files oi-gen never wrote are left alone, forced or not
  /// (the commands refuse before they get here).
  ///
  /// Order, so that a run killed at any point leaves a state the next run
  /// reads correctly: the base first, holding both the text each file has
  /// now and the one it gets (so every file on disk, old or new, is a text
  /// oi-gen is known to have written); then the files; the lock last.
  pub fn apply(mut self, force: bool) -> Result<Summary, Error> {
    if let Some(summary) = self.unchanged(force) {
      return summary;
    }
    let mut summary = Summary::default();
    // Check every path before the first write, so a bad one writes nothing;
    // afresh, in case a folder became a link since the plan was made.
    self.root = self.root.fresh();
    let lock_path = self.root.resolve(lock::LOCK_PATH)?;
    refuse_linked_base(&self.root)?;
    let paths = self
      .steps
      .iter()
      .map(|step| self.root.resolve(&step.path))
      .collect::<Result<Vec<_>, _>>()?;
    let previous = std::mem::replace(&mut self.previous, Previous::none());
    let no_files = BTreeMap::new();
    let old_files = previous.lock.as_ref().map_or(&no_files, |lock| &lock.files);
    let stored = previous.base();

    // What each step does, and what the lock and base record for it.
    let mut actions = Vec::with_capacity(self.steps.len());
    // Texts the base needs after this run: for a file that changes, the
    // one it holds before this run (kept until the lock is written) and the
    // new one. Those of the old base are copied from it, not held.
    let mut needed: Vec<(&str, Vec<base::Source<'_>>)> = Vec::new();
    for step in &self.steps {
      let mut action = step.action.clone();
      if force {
        action = match action {
          Action::Edited => Action::Update,
          Action::EditedOrphan => Action::Delete,
          other => other,
        };
      }
      // What the lock and base record: the render for files now in step with
      // it; the previous record for files left as they are.
      let rendered_now = matches!(
        action,
        Action::Create
          | Action::Update
          | Action::Unchanged
          | Action::Merge
          | Action::Conflict
          | Action::Customized
      ) || (action == Action::Keep && !old_files.contains_key(&step.path));
      let entry = if action == Action::Delete {
        None
      } else if rendered_now {
        let text = match (&action, step.ownership) {
          (Action::Keep, _) => String::from_utf8_lossy(step.disk().unwrap_or_default()),
          _ => std::borrow::Cow::Borrowed(step.rendered.as_deref().unwrap_or_default()),
        };
        // A step that writes nothing holds the digests instead of the text.
        let (sha256, whole) = step.digests_of(&text);
        let was_kept = old_files
          .get(&step.path)
          .is_some_and(|entry| entry.kept.is_some());
        // A customization stays recorded while the file is left as kept, and
        // follows the file through a clean merge onto the new render, also
        // when the merge is already on disk (a run stopped after writing the
        // files, before the lock): the merge then leaves the file unchanged.
        let kept = match (&action, was_kept) {
          (Action::Customized, _) => old_files.get(&step.path).and_then(|e| e.kept.clone()),
          (Action::Merge, true) => Some(Kept {
            sha256: digest(step.written().as_bytes(), step.user_section),
            render: lock::hex(&sha256),
          }),
          (Action::Unchanged, true) if matches!(step.disk, Disk::Bytes(_)) => Some(Kept {
            sha256: digest(step.disk().unwrap_or_default(), step.user_section),
            render: lock::hex(&sha256),
          }),
          _ => None,
        };
        if step.ownership == Ownership::Managed {
          let mut texts = Vec::with_capacity(2);
          let old = previous.base_entry(&step.path);
          if let Some(old) = old
            && *old.sha256() != whole
          {
            texts.push(base::Source::Stored(old));
          }
          // The text on disk, when oi-gen wrote it but the lock does not
          // record it (a run stopped before its lock): kept as well, so a
          // run stopped again before its lock leaves it oi-gen's.
          if action == Action::Update
            && let Some(disk) = step.disk()
            && let Some(now) = previous.written_text(&step.path, disk, step.user_section)
            && *now.sha256() != whole
            && old.is_none_or(|old| old.sha256() != now.sha256())
          {
            texts.push(base::Source::Stored(now));
          }
          // A managed file's text is its render (only seeded files keep
          // what is on disk); a step that holds only digests has it in the
          // base already.
          texts.push(match step.rendered.as_deref() {
            Some(text) => base::Source::Text(text, whole),
            None => base::Source::Stored(
              stored
                .get(&step.path)
                .and_then(|texts| texts.iter().find(|text| *text.sha256() == whole))
                .expect("a step without its text has it in the base"),
            ),
          });
          needed.push((&step.path, texts));
        }
        Some(Entry {
          sha256: lock::hex(&sha256),
          ownership: step.ownership,
          kept,
        })
      } else {
        if let Some(old) = previous.base_entry(&step.path) {
          needed.push((&step.path, vec![base::Source::Stored(old)]));
        }
        old_files.get(&step.path).cloned()
      };
      if let Some(entry) = entry {
        self.lock.files.insert(step.path.clone(), entry);
      }
      actions.push(action);
    }

    // The base: only the shards that lack a text needed are written, each
    // atomically; the others are left as they are.
    needed.sort_by(|a, b| a.0.cmp(b.0));
    let shards = base::plan(stored, &needed);
    let shard_paths = shards
      .iter()
      .filter(|shard| shard.write)
      .map(|shard| Ok((shard, self.root.resolve(&base::shard_path(&shard.name))?)))
      .collect::<Result<Vec<_>, Error>>()?;
    fsutil::write_durable_all(
      shard_paths.into_iter().map(|(shard, path)| (path, shard)),
      |out, shard| base::write_shard(out, stored, &needed, &shard.entries),
    )?;
    let shards: std::collections::HashSet<String> =
      shards.into_iter().map(|shard| shard.name).collect();
    drop(needed);

    // Folders that did not exist before the first write hold no temporary
    // file left by an interrupted run: only the others are swept.
    let sweep: Vec<usize> = paths
      .iter()
      .enumerate()
      .filter(|(_, path)| !self.root.below_missing(path))
      .map(|(at, _)| at)
      .collect();
    for ((step, path), action) in self.steps.iter_mut().zip(paths).zip(actions) {
      if !matches!(
        action,
        Action::Unchanged | Action::Keep | Action::Customized
      ) {
        crate::ui::detail!("{:<12} {}", verb(&action), step.path);
      }
      match action {
        Action::Delete => {
          fsutil::remove(self.root.path(), &path)?;
          summary.deleted += 1;
        }
        Action::Update if step.adopted => {
          // The user's file first, durably, beside it: the render only
          // replaces it once it is saved.
          let saved = self.root.resolve(&orig_path(&step.path))?;
          let bytes = std::fs::read(&path).map_err(Error::io(Op::Read, &path))?;
          if fsutil::read_optional(&saved)?.as_deref() != Some(bytes.as_slice()) {
            fsutil::write_durable(&saved, &bytes)?;
          }
          fsutil::write_atomic_in_place(&path, step.written().as_bytes())?;
          summary.adopted += 1;
        }
        Action::Create | Action::Update | Action::Merge | Action::Conflict => {
          self.root.make_parent(&path)?;
          fsutil::write_atomic_in_place(&path, step.written().as_bytes())?;
          summary.count(&action);
        }
        _ => summary.count(&action),
      }
      // Written: the text is not needed any more.
      (step.rendered, step.write) = (None, None);
    }

    fsutil::sweep_temporaries(
      self.root.path(),
      sweep.into_iter().map(|at| self.steps[at].path.as_str()),
    )?;
    if self.migrations.is_some() {
      // A released migration keeps the checksum it was first seen with, so
      // an edit stays reported until it is reverted.
      let released = previous.lock.as_ref().map(|lock| &lock.migrations);
      self.lock.migrations = migrations::checksums(&self.root)?
        .into_iter()
        .map(|(name, now)| {
          let first = released.and_then(|seen| seen.get(&name)).cloned();
          (name, first.unwrap_or(now))
        })
        .collect();
    }
    let lock_text = self.lock.to_toml();
    if fsutil::read_optional(&lock_path)?.as_deref() != Some(lock_text.as_bytes()) {
      fsutil::write_durable(&lock_path, lock_text.as_bytes())?;
    }
    // Only once the lock records this run: the shards no file maps to any
    // more, and the base of earlier versions, go.
    base::remove_stale(self.root.path(), &shards)?;
    Ok(summary)
  }
}

impl Plan {
  /// The summary of a run that changes nothing, which then writes nothing
  /// and lists no folder but `.oi-gen`: no file is written or removed, the
  /// lock would record what it records, and the base holds the text of
  /// every managed file as rendered. `None` when anything would change (the
  /// full `apply` then runs).
  fn unchanged(&self, force: bool) -> Option<Result<Summary, Error>> {
    let old = self.previous.lock.as_ref()?;
    if self.lock.blueprint_sha256 != old.blueprint_sha256
      || self.lock.oi_gen != old.oi_gen
      || self.lock.format != old.format
      || old.files.len() != self.steps.len()
    {
      return None;
    }
    let leaves_alone = |step: &Step| match step.action {
      Action::Unchanged | Action::Customized | Action::KeepDeleted => true,
      // A seeded file the lock does not record yet gets its entry.
      Action::Keep => old.files.contains_key(&step.path),
      Action::Untracked | Action::Unresolved => true,
      Action::Edited | Action::EditedOrphan => !force,
      Action::Create | Action::Update | Action::Delete | Action::Merge | Action::Conflict => false,
    };
    if !self.steps.iter().all(leaves_alone) {
      return None;
    }
    // Files in step with the render keep their entries and base texts;
    // the others keep what was recorded (as `apply` records them).
    let in_step: Vec<&Step> = self
      .steps
      .iter()
      .filter(|step| matches!(step.action, Action::Unchanged | Action::Customized))
      .collect();
    let digests = parallel_digests(&in_step);
    for (step, (sha256, _)) in in_step.iter().zip(&digests) {
      let recorded = old.files.get(&step.path)?;
      let kept = match step.action {
        Action::Customized => recorded.kept.as_ref(),
        _ => None,
      };
      if !lock::is_hex_of(&recorded.sha256, sha256)
        || recorded.ownership != step.ownership
        || recorded.kept.as_ref() != kept
      {
        return None;
      }
    }
    // Every step keeps an entry, and the lock records no other file.
    if !self
      .steps
      .iter()
      .all(|step| old.files.contains_key(&step.path))
    {
      return None;
    }
    let migrations = self.migrations.as_ref().map_or_else(BTreeMap::new, |now| {
      now
        .iter()
        .map(|(name, sha)| {
          let first = old.migrations.get(name).unwrap_or(sha);
          (name.clone(), first.clone())
        })
        .collect()
    });
    if migrations != old.migrations {
      return None;
    }
    let stored = self.previous.base();
    let base_complete = in_step
      .iter()
      .zip(&digests)
      .filter(|(step, _)| step.ownership == Ownership::Managed)
      .all(|(step, (_, whole))| stored.holds(&step.path, whole));
    if !base_complete {
      return None;
    }
    let mut summary = Summary::default();
    for step in &self.steps {
      if !matches!(
        step.action,
        Action::Unchanged | Action::Keep | Action::Customized
      ) {
        crate::ui::detail!("{:<12} {}", verb(&step.action), step.path);
      }
      summary.count(&step.action);
    }
    Some(fsutil::sweep_temporaries(self.root.path(), std::iter::empty()).map(|()| summary))
  }
}

/// The lock's digest of each step's render, and the digest of the whole
/// render (the same unless it has a user section), on every core.
fn parallel_digests(steps: &[&Step]) -> Vec<(base::Sha, base::Sha)> {
  let digest_of = |step: &&Step| step.digests_of(step.rendered.as_deref().unwrap_or_default());
  let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
  if threads < 2 || steps.len() < 64 {
    return steps.iter().map(digest_of).collect();
  }
  let chunk = steps.len().div_ceil(threads);
  std::thread::scope(|scope| {
    let handles: Vec<_> = steps
      .chunks(chunk)
      .map(|part| scope.spawn(move || part.iter().map(digest_of).collect::<Vec<_>>()))
      .collect();
    handles
      .into_iter()
      .flat_map(|handle| handle.join().expect("hashing does not panic"))
      .collect()
  })
}

/// What `oi-gen keep` did with one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keeping {
  /// A hand edit of a generated file, now recorded as intended.
  Customization,
  /// Already recorded, against the same render.
  Already,
  /// A released migration's new checksum, accepted.
  Migration,
}

/// Why `oi-gen keep` refuses a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotKept {
  /// The file matches the render, or is only out of date: nothing to keep.
  NotEdited,
  /// Not a file this render produces, nor a released migration.
  Unknown,
  /// oi-gen never wrote it, or seeded it: it is the user's already.
  Yours,
  /// Not on disk.
  Missing,
  /// Holds conflict markers from an upgrade.
  Unresolved,
  /// No longer produced by the blueprint.
  Orphan,
}

impl std::fmt::Display for NotKept {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.write_str(match self {
      NotKept::NotEdited => {
        "is not edited: it matches what oi-gen renders (or will, at the next `oi-gen render`)"
      }
      NotKept::Unknown => "is neither a file oi-gen renders here nor a released migration",
      NotKept::Yours => {
        "was not written by oi-gen, or was seeded: it is yours already and never checked"
      }
      NotKept::Missing => "is not on disk",
      NotKept::Unresolved => "still holds conflict markers: resolve them first",
      NotKept::Orphan => "is no longer produced by the blueprint: delete it or move it aside",
    })
  }
}

/// Each path given to `oi-gen keep`, with what was done or why not.
pub type KeepOutcomes = Vec<(String, Result<Keeping, NotKept>)>;

impl Plan {
  /// Records the hand edits of `paths` as intended, and accepts the new
  /// checksums of edited released migrations among them; writes only the
  /// lock, and nothing at all when any path is refused.
  pub fn keep(self, paths: &[String]) -> Result<KeepOutcomes, Error> {
    let mut lock = self.previous.lock.clone().unwrap_or_default();
    let edited_migrations: Vec<String> = self
      .edited_migrations()
      .into_iter()
      .map(|problem| problem.path())
      .collect();
    let mut outcomes = Vec::with_capacity(paths.len());
    for path in paths {
      let outcome = if edited_migrations.contains(path) {
        let name = path
          .strip_prefix(migrations::DIR)
          .and_then(|rest| rest.strip_prefix('/'))
          .unwrap_or(path);
        let now = self
          .migrations
          .as_ref()
          .and_then(|found| found.get(name))
          .cloned()
          .unwrap_or_default();
        lock.migrations.insert(name.to_string(), now);
        Ok(Keeping::Migration)
      } else if let Some(step) = self.steps.iter().find(|step| &step.path == path) {
        match step.action {
          Action::Edited => {
            let disk = step.disk().unwrap_or_default();
            let rendered = step.rendered.as_deref().unwrap_or_default();
            if let Some(entry) = lock.files.get_mut(path) {
              entry.kept = Some(Kept {
                sha256: digest(disk, step.user_section),
                render: digest(rendered.as_bytes(), step.user_section),
              });
            }
            Ok(Keeping::Customization)
          }
          Action::Customized => Ok(Keeping::Already),
          Action::Unchanged | Action::Update => Err(NotKept::NotEdited),
          Action::Untracked | Action::Keep => Err(NotKept::Yours),
          Action::Create | Action::KeepDeleted => Err(NotKept::Missing),
          Action::Unresolved => Err(NotKept::Unresolved),
          Action::EditedOrphan | Action::Delete => Err(NotKept::Orphan),
          Action::Merge | Action::Conflict => Err(NotKept::NotEdited),
        }
      } else {
        Err(NotKept::Unknown)
      };
      outcomes.push((path.clone(), outcome));
    }
    if outcomes.iter().all(|(_, outcome)| outcome.is_ok()) {
      let lock_path = self.root.fresh().resolve(lock::LOCK_PATH)?;
      let text = lock.to_toml();
      if fsutil::read_optional(&lock_path)?.as_deref() != Some(text.as_bytes()) {
        fsutil::write_durable(&lock_path, text.as_bytes())?;
      }
    }
    Ok(outcomes)
  }
}

/// Where `render --adopt` saves the user's file before writing the render
/// over it.
pub fn orig_path(path: &str) -> String {
  format!("{path}.orig")
}

/// Why `render --adopt` does not take over a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAdopted {
  /// Not a path this render produces.
  Unknown,
  /// Not on disk: the render creates it, nothing to adopt.
  Missing,
  /// Written by oi-gen: an edit of it is oi-gen's protection, not a
  /// collision (`--force` or `oi-gen keep`).
  Ours,
  /// Already the render's bytes, or a seeded file the user owns: nothing
  /// collides.
  NoCollision,
  /// `<path>.orig` is taken by another file, or by a path oi-gen writes.
  OrigTaken(String),
}

impl std::fmt::Display for NotAdopted {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    match self {
      NotAdopted::Unknown => f.write_str("is not a file this render produces"),
      NotAdopted::Missing => f.write_str("is not on disk: the render creates it"),
      NotAdopted::Ours => f.write_str(
        "was written by oi-gen: an edit of it needs `--force`, or `oi-gen keep` to record it",
      ),
      NotAdopted::NoCollision => f.write_str(
        "does not collide with the render: it matches it, or is a seeded file that stays yours",
      ),
      NotAdopted::OrigTaken(orig) => write!(
        f,
        "cannot be saved aside: `{orig}` is taken (another file, a link, or a path oi-gen writes); move it away"
      ),
    }
  }
}

impl Plan {
  /// Takes over the files oi-gen never wrote that stand at paths of the
  /// render: all of them, or those of `only` (paths inside the output
  /// folder). Each is saved as `<path>.orig` and then written like an
  /// update, so the lock and base record the render. Refuses, changing
  /// nothing, when any path named does not collide or cannot be saved;
  /// files that do not collide are never touched. Returns the paths taken
  /// over.
  pub fn adopt(
    &mut self,
    only: Option<&[String]>,
  ) -> Result<Vec<String>, Vec<(String, NotAdopted)>> {
    let mut refused = Vec::new();
    if let Some(only) = only {
      for path in only {
        let why = match self.steps.iter().find(|step| &step.path == path) {
          None => Some(NotAdopted::Unknown),
          Some(step) => match step.action {
            Action::Untracked => None,
            Action::Create | Action::KeepDeleted => Some(NotAdopted::Missing),
            Action::Unchanged | Action::Keep => Some(NotAdopted::NoCollision),
            Action::EditedOrphan | Action::Delete => Some(NotAdopted::Unknown),
            _ => Some(NotAdopted::Ours),
          },
        };
        if let Some(why) = why {
          refused.push((path.clone(), why));
        }
      }
    }
    let chosen: Vec<usize> = self
      .steps
      .iter()
      .enumerate()
      .filter(|(_, step)| {
        step.action == Action::Untracked && only.is_none_or(|only| only.contains(&step.path))
      })
      .map(|(at, _)| at)
      .collect();
    let written: std::collections::BTreeSet<&str> =
      self.steps.iter().map(|step| step.path.as_str()).collect();
    for &at in &chosen {
      let step = &self.steps[at];
      let orig = orig_path(&step.path);
      // A `.orig` left by a run stopped after saving it holds these bytes;
      // anything else there is the user's too, and not overwritten.
      let free = !written.contains(orig.as_str())
        && match self
          .root
          .resolve(&orig)
          .map(|saved| fsutil::read_optional(&saved))
        {
          Ok(Ok(None)) => true,
          Ok(Ok(Some(saved))) => self
            .root
            .resolve(&step.path)
            .ok()
            .and_then(|path| std::fs::read(path).ok())
            .is_some_and(|now| now == saved),
          _ => false,
        };
      if !free {
        refused.push((step.path.clone(), NotAdopted::OrigTaken(orig)));
      }
    }
    if !refused.is_empty() {
      return Err(refused);
    }
    let mut adopted = Vec::with_capacity(chosen.len());
    for at in chosen {
      let step = &mut self.steps[at];
      step.action = Action::Update;
      step.adopted = true;
      adopted.push(step.path.clone());
    }
    Ok(adopted)
  }
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
  pub created: usize,
  pub updated: usize,
  pub merged: usize,
  pub conflicts: usize,
  pub deleted: usize,
  pub unchanged: usize,
  pub kept: usize,
  /// Files oi-gen never wrote, taken over with `render --adopt`.
  pub adopted: usize,
}

impl Summary {
  fn count(&mut self, action: &Action) {
    let counter = match action {
      Action::Create => &mut self.created,
      Action::Update => &mut self.updated,
      Action::Merge => &mut self.merged,
      Action::Conflict => &mut self.conflicts,
      Action::Delete => &mut self.deleted,
      Action::Unchanged | Action::Keep | Action::Customized => &mut self.unchanged,
      Action::KeepDeleted
      | Action::Edited
      | Action::Untracked
      | Action::EditedOrphan
      | Action::Unresolved => &mut self.kept,
    };
    *counter += 1;
  }
}

fn verb(action: &Action) -> &'static str {
  match action {
    Action::Create => "created",
    Action::Update => "updated",
    Action::Unchanged => "unchanged",
    Action::Keep => "kept",
    Action::KeepDeleted => "kept deleted",
    Action::Delete => "deleted",
    Action::Edited | Action::Untracked => "kept edited",
    Action::Customized => "customized",
    Action::EditedOrphan => "kept orphan",
    Action::Merge => "merged",
    Action::Conflict => "conflict",
    Action::Unresolved => "kept conflict",
  }
}

/// A text file checked out with CRLF line endings (git's `core.autocrlf`)
/// read with LF ones, so that a checkout is not taken for an edit; left as it
/// is when the render itself has carriage returns (`keep`), or when it is
/// not text.
pub(crate) fn lf_unless(bytes: Vec<u8>, keep: bool) -> Vec<u8> {
  // `contains` of one byte is a word-at-a-time search, many times faster
  // than looking at every pair: most files have no carriage return at all.
  if keep || !bytes.contains(&b'\r') || !bytes.windows(2).any(|pair| pair == b"\r\n") {
    return bytes;
  }
  match String::from_utf8(bytes) {
    Ok(text) => text.replace("\r\n", "\n").into_bytes(),
    Err(error) => error.into_bytes(),
  }
}

fn splice_user_section(rendered: &str, disk: &[u8]) -> Option<String> {
  crate::render::keep_user_section(rendered, std::str::from_utf8(disk).ok()?)
}

#[cfg(test)]
mod tests {
  use super::*;

  fn file(contents: &str) -> File {
    File {
      contents: contents.to_string(),
      ownership: Ownership::Managed,
      seed_unless: None,
      seed_unless_any: false,
      user_section: false,
    }
  }

  fn files(list: &[(&str, &str)]) -> Vec<(String, File)> {
    list
      .iter()
      .map(|(path, text)| ((*path).to_string(), file(text)))
      .collect()
  }

  /// Plans `list`, handed over in that order, against what `root` holds.
  fn plan_of(root: &Root, list: Vec<(String, File)>, purpose: Purpose) -> Plan {
    let previous = Previous::read(&root.fresh()).unwrap();
    let mut planner = Planner::new(&root.fresh(), previous, Mode::Render, purpose);
    for (path, file) in list {
      planner.add(path, file);
    }
    planner.finish("blueprint").unwrap()
  }

  fn held(plan: &Plan) -> usize {
    plan.steps.iter().map(Step::held).sum()
  }

  const TREE: [(&str, &str); 3] = [
    ("infra/vpc.tf", "vpc\n"),
    ("README.md", "readme\n"),
    ("charts/api/values.yaml", "values\n"),
  ];

  #[test]
  fn a_plan_of_an_unchanged_tree_holds_no_rendered_text() {
    let dir = tempfile::tempdir().unwrap();
    let root = Root::new(dir.path());
    let first = plan_of(&root, files(&TREE), Purpose::Apply);
    assert_eq!(held(&first), "vpc\nreadme\nvalues\n".len());
    assert_eq!(first.apply(false).unwrap().created, 3);
    let lock = std::fs::read(dir.path().join(lock::LOCK_PATH)).unwrap();
    for purpose in [Purpose::Apply, Purpose::Report] {
      let again = plan_of(&root, files(&TREE), purpose);
      assert!(
        again
          .steps
          .iter()
          .all(|step| step.action == Action::Unchanged && step.rendered.is_none())
      );
      assert_eq!(held(&again), 0, "{purpose:?}");
    }
    let summary = plan_of(&root, files(&TREE), Purpose::Apply)
      .apply(false)
      .unwrap();
    assert_eq!(summary.unchanged, 3);
    assert_eq!(
      std::fs::read(dir.path().join(lock::LOCK_PATH)).unwrap(),
      lock
    );
    // A file that changes is held, with its text, until it is written.
    let mut changed = TREE;
    changed[1].1 = "new readme\n";
    let plan = plan_of(&root, files(&changed), Purpose::Apply);
    assert_eq!(held(&plan), "new readme\nreadme\n".len());
    plan.apply(false).unwrap();
    assert_eq!(
      std::fs::read_to_string(dir.path().join("README.md")).unwrap(),
      "new readme\n"
    );
  }

  #[test]
  fn a_report_holds_only_the_texts_it_shows() {
    let dir = tempfile::tempdir().unwrap();
    let root = Root::new(dir.path());
    plan_of(&root, files(&TREE), Purpose::Apply)
      .apply(false)
      .unwrap();
    std::fs::write(dir.path().join("README.md"), "edited\n").unwrap();
    std::fs::remove_file(dir.path().join("infra/vpc.tf")).unwrap();
    let report = plan_of(&root, files(&TREE), Purpose::Report);
    let actions: Vec<(&str, &Action, usize)> = report
      .steps
      .iter()
      .map(|step| (step.path.as_str(), &step.action, step.held()))
      .collect();
    assert_eq!(
      actions,
      [
        ("README.md", &Action::Edited, "readme\nedited\n".len()),
        ("charts/api/values.yaml", &Action::Unchanged, 0),
        ("infra/vpc.tf", &Action::Create, 0),
      ]
    );
    let edited = &report.steps[0];
    assert!(edited.diff().contains("-edited\n+readme\n"));
  }

  #[test]
  fn a_file_is_read_against_the_render_and_held_only_when_it_differs() {
    let dir = tempfile::tempdir().unwrap();
    let root = Root::new(dir.path());
    let expected: Vec<u8> = (0..200_000u32)
      .map(|i| u8::try_from(i % 251).unwrap())
      .collect();
    let path = dir.path().join("f");
    assert!(matches!(
      read_against(&root, &path, &expected).unwrap(),
      Against::Missing
    ));
    std::fs::write(&path, &expected).unwrap();
    assert!(matches!(
      read_against(&root, &path, &expected).unwrap(),
      Against::Same
    ));
    let mut cases = Vec::new();
    for at in [0, 70_000, expected.len() - 1] {
      let mut changed = expected.clone();
      changed[at] ^= 1;
      cases.push(changed);
    }
    cases.push(expected[..expected.len() - 1].to_vec());
    cases.push([expected.as_slice(), b"x"].concat());
    cases.push(Vec::new());
    for case in cases {
      std::fs::write(&path, &case).unwrap();
      match read_against(&root, &path, &expected).unwrap() {
        Against::Differs(bytes) => assert!(bytes == case),
        _ => panic!("a file of {} bytes is not the render", case.len()),
      }
    }
    std::fs::write(&path, b"").unwrap();
    assert!(matches!(
      read_against(&root, &path, b"").unwrap(),
      Against::Same
    ));
  }

  #[test]
  fn steps_come_out_sorted_whatever_the_arrival_order() {
    let dir = tempfile::tempdir().unwrap();
    let root = Root::new(dir.path());
    let mut tree = TREE.to_vec();
    tree.push(("zz/gone.tf", "gone\n"));
    plan_of(&root, files(&tree), Purpose::Apply)
      .apply(false)
      .unwrap();
    let mut next = TREE.to_vec();
    next.push(("infra/new.tf", "new\n"));
    let orders = [next.clone(), next.iter().rev().copied().collect()];
    let mut seen = Vec::new();
    for order in orders {
      let plan = plan_of(&root, files(&order), Purpose::Apply);
      let steps: Vec<(String, Action)> = plan
        .steps
        .iter()
        .map(|step| (step.path.clone(), step.action.clone()))
        .collect();
      seen.push(steps);
    }
    let expected = [
      ("README.md", Action::Unchanged),
      ("charts/api/values.yaml", Action::Unchanged),
      ("infra/new.tf", Action::Create),
      ("infra/vpc.tf", Action::Unchanged),
      // A file no longer produced comes after the rendered ones.
      ("zz/gone.tf", Action::Delete),
    ]
    .map(|(path, action)| (path.to_string(), action));
    assert_eq!(seen[0], expected);
    assert_eq!(seen[1], expected);
  }

  #[cfg(unix)]
  #[test]
  fn of_two_files_that_fail_the_first_by_path_is_reported_whatever_the_order() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    for link in ["a-link", "b-link"] {
      std::os::unix::fs::symlink(elsewhere.path(), dir.path().join(link)).unwrap();
    }
    let root = Root::new(dir.path());
    let list = files(&[
      ("b-link/x.tf", "b\n"),
      ("ok.tf", "ok\n"),
      ("a-link/x.tf", "a\n"),
    ]);
    for order in [list.clone(), list.into_iter().rev().collect()] {
      let mut planner = Planner::new(&root, Previous::none(), Mode::Render, Purpose::Apply);
      for (path, file) in order {
        planner.add(path, file);
      }
      let Err(error) = planner.finish("blueprint") else {
        panic!("a path through a link is refused");
      };
      let text = format!("{error:?}");
      assert!(text.contains("a-link"), "{text}");
      assert!(!text.contains("b-link"), "{text}");
    }
  }

  #[test]
  fn a_step_whose_base_text_is_missing_keeps_it_and_apply_writes_the_base() {
    let dir = tempfile::tempdir().unwrap();
    let root = Root::new(dir.path());
    plan_of(&root, files(&TREE), Purpose::Apply)
      .apply(false)
      .unwrap();
    std::fs::remove_dir_all(dir.path().join(base::BASE_DIR)).unwrap();
    let plan = plan_of(&root, files(&TREE), Purpose::Apply);
    assert!(
      plan
        .steps
        .iter()
        .all(|step| step.action == Action::Unchanged && step.rendered.is_some())
    );
    assert_eq!(held(&plan), "vpc\nreadme\nvalues\n".len());
    assert_eq!(plan.apply(false).unwrap().unchanged, 3);
    let stored = base::Stored::open(dir.path());
    for (path, text) in TREE {
      assert!(stored.holds(path, &base::sha(text.as_bytes())), "{path}");
    }
    // With the base whole again, nothing is held.
    assert_eq!(held(&plan_of(&root, files(&TREE), Purpose::Apply)), 0);
  }

  #[test]
  fn a_step_without_its_text_is_copied_from_the_base_when_the_base_is_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let root = Root::new(dir.path());
    // `infra/iam.tf` shares the shard of `infra/vpc.tf`: when the change
    // to the one rewrites the shard, the other, unchanged and held as
    // digests only, is copied from the base.
    let mut tree = TREE.to_vec();
    tree.push(("infra/iam.tf", "iam\n"));
    plan_of(&root, files(&tree), Purpose::Apply)
      .apply(false)
      .unwrap();
    let mut changed = tree.clone();
    changed[0].1 = "vpc 2\n";
    let plan = plan_of(&root, files(&changed), Purpose::Apply);
    assert_eq!(
      held(&plan),
      "vpc 2\n".len() + "vpc\n".len(),
      "only the change is held, new and on disk"
    );
    plan.apply(false).unwrap();
    let stored = base::Stored::open(dir.path());
    for &(path, text) in &changed {
      let found = stored.get(path).unwrap();
      let text = found
        .iter()
        .find(|stored_text| *stored_text.sha256() == base::sha(text.as_bytes()))
        .unwrap();
      assert_eq!(
        stored.read(text).unwrap(),
        changed
          .iter()
          .find(|(p, _)| *p == path)
          .unwrap()
          .1
          .as_bytes()
      );
    }
  }
}
