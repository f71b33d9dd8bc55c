//! `.oi-gen/base/`: the exact text of every managed file as the last render
//! produced it, so `upgrade` can three-way merge hand edits without git
//! history. The texts are kept in shards, one file per service or folder
//! (the first two parts of a path: `charts/<service>`, `infra/envs`; files
//! one level deep by their folder, those at the top in `+root.txt`), so a
//! change to one service rewrites that service's shard and no other. Each
//! shard is length-prefixed entries, readable in a diff, whose headers carry
//! the texts' digests: opening a shard hashes nothing.
//!
//! A path may have more than one text: a render that changes a file keeps
//! the text it replaces next to the new one, so a run killed between writing
//! the base and the lock leaves a base that still holds what the old lock
//! records. Readers pick the text whose digest the lock records.
//!
//! Earlier versions kept every text in one file, `.oi-gen/base.txt`, without
//! digests. It is still read, for the paths the shards do not hold, until the
//! next render that writes moves its texts into shards and removes it.

use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Op};

/// The folder of the shards.
pub(crate) const BASE_DIR: &str = ".oi-gen/base";
/// The single-file base of earlier versions.
pub(crate) const LEGACY_PATH: &str = ".oi-gen/base.txt";
const LEGACY_HEADER: &str =
  "# Written by oi-gen: the last render of every managed file, for merges. Do not edit.\n";
const SHARD_HEADER: &str =
  "# Written by oi-gen: the last render of these managed files, for merges. Do not edit.\n";
/// The shard of the files at the top of the repository. No other shard's
/// name starts with `+` (it stands for a `/`, and no path starts with one).
const ROOT_SHARD: &str = "+root.txt";
/// Shard names longer than this are cut, and end with a digest of the
/// whole folder instead.
const NAME_MAX: usize = 120;

/// A SHA-256 digest.
pub(crate) type Sha = [u8; 32];

pub(crate) fn sha(bytes: &[u8]) -> Sha {
  Sha256::digest(bytes).into()
}

/// The folder whose shard holds `path`: its first two parts, or its folder
/// when it is one level deep, or nothing at the top.
fn shard_key(path: &str) -> &str {
  let mut slashes = path.match_indices('/').map(|(at, _)| at);
  match (slashes.next(), slashes.next()) {
    (_, Some(second)) => &path[..second],
    (Some(first), None) => &path[..first],
    (None, _) => "",
  }
}

/// The file name of the shard of folder `key`: the folder with each `/` as
/// `+`, each capital as `^` and the small letter, and any other character
/// but `a-z0-9._-` as `%` and the hex of its bytes, then `.txt`. Different
/// folders get different names, also to a file system that ignores case (a
/// name has no capital). A name too long is cut and ends with `~` (found in
/// no other name) and a digest of the folder.
pub(crate) fn shard_name(key: &str) -> String {
  if key.is_empty() {
    return ROOT_SHARD.to_string();
  }
  let mut name = String::with_capacity(key.len() + 4);
  for (at, byte) in key.bytes().enumerate() {
    match byte {
      b'/' => name.push('+'),
      b'A'..=b'Z' => {
        name.push('^');
        name.push(byte.to_ascii_lowercase() as char);
      }
      b'-' if at == 0 => name.push_str("%2d"),
      b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' => name.push(byte as char),
      _ => name.push_str(&format!("%{byte:02x}")),
    }
  }
  if name.len() > NAME_MAX {
    name.truncate(NAME_MAX - 17);
    name.push('~');
    name.push_str(&crate::lock::hex(&sha(key.as_bytes()))[..16]);
  }
  name.push_str(".txt");
  name
}

/// The shard file name of `path`.
pub(crate) fn shard_of(path: &str) -> String {
  shard_name(shard_key(path))
}

/// Where a text of the base is: in a shard (by its number), or in the base
/// of earlier versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
  Shard(usize),
  Legacy,
}

/// One text of the base: where it is, and its digests. The text itself is
/// read again only when a merge or a new shard needs it.
#[derive(Debug, Clone)]
pub(crate) struct Text {
  origin: Origin,
  at: u64,
  len: usize,
  sha256: Sha,
  /// The digest without the inside of its user section, when it has one.
  stripped: Option<Sha>,
}

impl Text {
  /// The digest of the whole text.
  pub(crate) fn sha256(&self) -> &Sha {
    &self.sha256
  }

  /// The lock's digest: of the whole text, or of everything but its user
  /// section.
  pub(crate) fn digest(&self, user_section: bool) -> &Sha {
    match (&self.stripped, user_section) {
      (Some(stripped), true) => stripped,
      _ => &self.sha256,
    }
  }
}

type Entries = HashMap<String, Vec<Text>>;

/// One shard: its name, the texts of the old base that belong to it, and
/// its file, indexed on first use.
#[derive(Debug)]
struct Shard {
  name: String,
  /// Whether the folder holds a file of that name.
  on_disk: bool,
  /// The texts of `.oi-gen/base.txt` for the paths of this shard.
  legacy: Entries,
  index: OnceCell<Index>,
}

/// A shard as read: the texts it holds, and those with the old base's texts
/// it does not hold (only when there is an old base).
#[derive(Debug, Default)]
struct Index {
  own: Entries,
  with_legacy: Option<Entries>,
}

/// The base as read from disk: the shards found, each indexed (from its
/// headers) when a path of it is first asked for. A render holds only the
/// texts it merges.
#[derive(Debug, Default)]
pub(crate) struct Stored {
  dir: PathBuf,
  shards: Vec<Shard>,
  by_name: HashMap<String, usize>,
  legacy: Option<RefCell<File>>,
  /// The shard last read a text from, open: texts are copied shard by
  /// shard, and thousands of shards are not all kept open.
  open: RefCell<Option<(usize, File)>>,
}

impl Stored {
  /// Finds the base of the output folder `root`: the shards of
  /// `.oi-gen/base/`, read when asked for, and `.oi-gen/base.txt` of
  /// earlier versions, indexed at once when there is one. Empty when there
  /// is none; a damaged shard holds nothing (it only costs merges).
  pub(crate) fn open(root: &Path) -> Stored {
    let dir = root.join(BASE_DIR);
    let mut stored = Stored {
      dir: dir.clone(),
      ..Stored::default()
    };
    if let Ok(entries) = fs::read_dir(&dir) {
      let mut names: Vec<String> = entries
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.ends_with(".txt"))
        .collect();
      names.sort();
      for name in names {
        stored.add_shard(name, true);
      }
    }
    if let Ok(file) = File::open(root.join(LEGACY_PATH)) {
      let mut reader = BufReader::with_capacity(1 << 16, &file);
      if let Ok(Some(entries)) = index_legacy(&mut reader) {
        for (path, texts) in entries {
          let at = stored.add_shard(shard_of(&path), false);
          stored.shards[at].legacy.insert(path, texts);
        }
        stored.legacy = Some(RefCell::new(file));
      }
    }
    stored
  }

  /// The number of the shard `name`, added when it is not known yet.
  fn add_shard(&mut self, name: String, on_disk: bool) -> usize {
    if let Some(&at) = self.by_name.get(&name) {
      return at;
    }
    let at = self.shards.len();
    self.by_name.insert(name.clone(), at);
    self.shards.push(Shard {
      name,
      on_disk,
      legacy: Entries::new(),
      index: OnceCell::new(),
    });
    at
  }

  /// The shard of `path` as read, if there is one.
  fn index_of(&self, path: &str) -> Option<(usize, &Index)> {
    let at = *self.by_name.get(&shard_of(path))?;
    Some((at, self.index(at)))
  }

  fn index(&self, at: usize) -> &Index {
    let shard = &self.shards[at];
    shard.index.get_or_init(|| {
      let mut index = if shard.on_disk {
        open_shard(&self.dir.join(&shard.name), at, &shard.name).unwrap_or_default()
      } else {
        Index::default()
      };
      if !shard.legacy.is_empty() {
        // The shard's own texts first where it holds the path, the old
        // base's for the others.
        let mut all = shard.legacy.clone();
        for (path, texts) in &index.own {
          all.insert(path.clone(), texts.clone());
        }
        index.with_legacy = Some(all);
      }
      index
    })
  }

  /// The texts of `path`, in the order written.
  pub(crate) fn get(&self, path: &str) -> Option<&[Text]> {
    let (_, index) = self.index_of(path)?;
    index
      .with_legacy
      .as_ref()
      .unwrap_or(&index.own)
      .get(path)
      .map(Vec::as_slice)
  }

  /// Whether the base holds the text with digest `sha256` for `path`.
  pub(crate) fn holds(&self, path: &str, sha256: &Sha) -> bool {
    self
      .get(path)
      .is_some_and(|texts| texts.iter().any(|text| &text.sha256 == sha256))
  }

  /// Whether the shard file of `path` itself (not the old base) holds the
  /// text with digest `sha256` for it.
  fn shard_holds(&self, path: &str, sha256: &Sha) -> bool {
    self.index_of(path).is_some_and(|(_, index)| {
      index
        .own
        .get(path)
        .is_some_and(|texts| texts.iter().any(|text| &text.sha256 == sha256))
    })
  }

  /// The bytes of `text`, checked against its digest (a shard is opened
  /// again to read it: one replaced since it was indexed fails the check).
  pub(crate) fn read(&self, text: &Text) -> io::Result<Vec<u8>> {
    let mut bytes = vec![0; text.len];
    match text.origin {
      Origin::Legacy => {
        let Some(file) = &self.legacy else {
          return Err(io::Error::new(io::ErrorKind::NotFound, "no base"));
        };
        let mut file = file.borrow_mut();
        file.seek(SeekFrom::Start(text.at))?;
        file.read_exact(&mut bytes)?;
      }
      Origin::Shard(at) => {
        let mut open = self.open.borrow_mut();
        if open.as_ref().is_none_or(|(was, _)| *was != at) {
          let shard = self
            .shards
            .get(at)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no shard"))?;
          *open = Some((at, File::open(self.dir.join(&shard.name))?));
        }
        let (_, file) = open.as_mut().expect("opened above");
        file.seek(SeekFrom::Start(text.at))?;
        file.read_exact(&mut bytes)?;
      }
    }
    if sha(&bytes) != text.sha256 {
      return Err(io::Error::new(
        io::ErrorKind::InvalidData,
        "changed while it was read",
      ));
    }
    Ok(bytes)
  }
}

/// Indexes the shard `name` at `path` from its headers, without hashing;
/// `None` when it is damaged, or holds a path of another shard.
fn open_shard(path: &Path, at: usize, name: &str) -> Option<Index> {
  let file = File::open(path).ok()?;
  let mut reader = BufReader::with_capacity(1 << 16, &file);
  let own = index_shard(&mut reader, Origin::Shard(at), name).ok()??;
  Some(Index {
    own,
    with_legacy: None,
  })
}

/// A digest from its lowercase hex.
fn parse_hex(hex: &str) -> Option<Sha> {
  fn digit(byte: u8) -> Option<u8> {
    match byte {
      b'0'..=b'9' => Some(byte - b'0'),
      b'a'..=b'f' => Some(byte - b'a' + 10),
      _ => None,
    }
  }
  let bytes = hex.as_bytes();
  if bytes.len() != 64 {
    return None;
  }
  let mut digest = [0; 32];
  for (out, pair) in digest.iter_mut().zip(bytes.chunks(2)) {
    *out = digit(pair[0])? << 4 | digit(pair[1])?;
  }
  Some(digest)
}

/// The digests of one header, `<hex>` or `<hex>+<hex>` (the whole text, then
/// without its user section).
fn parse_digests(field: &str) -> Option<(Sha, Option<Sha>)> {
  let (whole, stripped) = match field.split_once('+') {
    Some((whole, stripped)) => (whole, Some(stripped)),
    None => (field, None),
  };
  let stripped = match stripped {
    Some(hex) => Some(parse_hex(hex)?),
    None => None,
  };
  Some((parse_hex(whole)?, stripped))
}

/// Indexes what [`write_shard`] wrote into the shard `name`; `None` when it
/// is damaged.
fn index_shard(
  reader: &mut (impl BufRead + Seek),
  origin: Origin,
  name: &str,
) -> io::Result<Option<Entries>> {
  let mut entries = Entries::new();
  let mut header = vec![0; SHARD_HEADER.len()];
  if reader.read_exact(&mut header).is_err() || header != SHARD_HEADER.as_bytes() {
    return Ok(None);
  }
  let mut at = SHARD_HEADER.len() as u64;
  let mut line = Vec::new();
  loop {
    line.clear();
    if reader.read_until(b'\n', &mut line)? == 0 {
      return Ok(Some(entries));
    }
    let Some((len, digests, path)) = line
      .strip_suffix(b"\n")
      .and_then(|line| std::str::from_utf8(line).ok())
      .and_then(|line| line.strip_prefix("=== "))
      .and_then(|line| line.split_once(' '))
      .and_then(|(len, rest)| Some((len, rest.split_once(' ')?)))
      .and_then(|(len, (digests, path))| {
        Some((len.parse::<u32>().ok()?, parse_digests(digests)?, path))
      })
    else {
      return Ok(None);
    };
    if shard_of(path) != name || !crate::fsutil::is_safe_relative(path) {
      return Ok(None);
    }
    let start = at + line.len() as u64;
    reader.seek_relative(i64::from(len))?;
    let mut end = [0];
    if reader.read_exact(&mut end).is_err() || end != *b"\n" {
      return Ok(None);
    }
    let (sha256, stripped) = digests;
    entries.entry(path.to_string()).or_default().push(Text {
      origin,
      at: start,
      len: len as usize,
      sha256,
      stripped,
    });
    at = start + u64::from(len) + 1;
  }
}

/// Bytes of entries read before they are hashed together, on every core:
/// enough to share the work, little enough to keep memory flat.
const BATCH_BYTES: usize = 1 << 20;

/// One entry read but not yet hashed: its path, where its text starts, the
/// text.
type Pending = (String, u64, Vec<u8>);

/// Indexes the base of earlier versions, whose headers carry no digest (so
/// each text is hashed); `None` when it is damaged.
fn index_legacy(reader: &mut impl BufRead) -> io::Result<Option<Entries>> {
  let mut entries = Entries::new();
  let mut header = vec![0; LEGACY_HEADER.len()];
  if reader.read_exact(&mut header).is_err() || header != LEGACY_HEADER.as_bytes() {
    return Ok(None);
  }
  let mut at = LEGACY_HEADER.len() as u64;
  let mut line = Vec::new();
  let mut batch: Vec<Pending> = Vec::new();
  let mut batch_bytes = 0;
  loop {
    line.clear();
    if reader.read_until(b'\n', &mut line)? == 0 {
      return Ok(hash_into(&mut entries, std::mem::take(&mut batch)).then_some(entries));
    }
    let Some(parsed) = line
      .strip_suffix(b"\n")
      .and_then(|line| std::str::from_utf8(line).ok())
      .and_then(|line| line.strip_prefix("=== "))
      .and_then(|line| line.split_once(' '))
    else {
      return Ok(None);
    };
    let (len, path) = parsed;
    let Ok(len) = len.parse::<usize>() else {
      return Ok(None);
    };
    if !crate::fsutil::is_safe_relative(path) {
      return Ok(None);
    }
    let start = at + line.len() as u64;
    let mut buf = Vec::with_capacity(len.min(BATCH_BYTES) + 1);
    reader.by_ref().take(len as u64 + 1).read_to_end(&mut buf)?;
    if buf.len() != len + 1 || buf[len] != b'\n' {
      return Ok(None);
    }
    buf.truncate(len);
    batch_bytes += len;
    batch.push((path.to_string(), start, buf));
    if batch_bytes >= BATCH_BYTES {
      if !hash_into(&mut entries, std::mem::take(&mut batch)) {
        return Ok(None);
      }
      batch_bytes = 0;
    }
    at = start + len as u64 + 1;
  }
}

/// The digest of a text, and without its user section when it has one;
/// `None` when it is not UTF-8.
fn digests(bytes: &[u8]) -> Option<(Sha, Option<Sha>)> {
  let text = std::str::from_utf8(bytes).ok()?;
  Some((sha(bytes), stripped(text)))
}

/// The digest of `text` without the inside of its user section, when it
/// has one.
fn stripped(text: &str) -> Option<Sha> {
  match crate::render::strip_user_section(text) {
    Cow::Owned(stripped) => Some(sha(stripped.as_bytes())),
    Cow::Borrowed(_) => None,
  }
}

/// Hashes a batch of entries of the old base (split over the cores,
/// results in order) and adds them to `entries`; false when one is not
/// UTF-8 (a damaged base).
fn hash_into(entries: &mut Entries, batch: Vec<Pending>) -> bool {
  let threads = std::thread::available_parallelism().map_or(1, usize::from);
  let chunk = batch.len().div_ceil(threads).max(1);
  let hashed: Vec<Option<(Sha, Option<Sha>)>> = if threads == 1 || batch.len() < 2 {
    batch.iter().map(|(_, _, bytes)| digests(bytes)).collect()
  } else {
    std::thread::scope(|scope| {
      let handles: Vec<_> = batch
        .chunks(chunk)
        .map(|part| {
          scope.spawn(move || {
            part
              .iter()
              .map(|(_, _, bytes)| digests(bytes))
              .collect::<Vec<_>>()
          })
        })
        .collect();
      handles
        .into_iter()
        .flat_map(|handle| handle.join().unwrap_or_default())
        .collect()
    })
  };
  if hashed.len() != batch.len() {
    return false;
  }
  for ((path, at, bytes), digest) in batch.into_iter().zip(hashed) {
    let Some((sha256, stripped)) = digest else {
      return false;
    };
    entries.entry(path).or_default().push(Text {
      origin: Origin::Legacy,
      at,
      len: bytes.len(),
      sha256,
      stripped,
    });
  }
  true
}

/// A text to write into the base: one in memory (with its digest), or one
/// of the base on disk (copied from it).
pub(crate) enum Source<'a> {
  Text(&'a str, Sha),
  Stored(&'a Text),
}

/// The texts a run leaves in the base: each path (sorted) with its texts
/// in order.
pub(crate) type Needed<'a> = [(&'a str, Vec<Source<'a>>)];

/// One shard of the base after a run: its file name, the entries of the
/// needed texts it holds (as positions in them, by path), and whether its
/// file is written (it lacks one of their texts, or is not there).
#[derive(Debug)]
pub(crate) struct Planned {
  pub(crate) name: String,
  pub(crate) entries: Vec<usize>,
  pub(crate) write: bool,
}

/// The shards of `needed`, by name: only a shard whose file does not hold
/// every text needed of it is written.
pub(crate) fn plan(stored: &Stored, needed: &Needed<'_>) -> Vec<Planned> {
  let mut shards: BTreeMap<String, Vec<usize>> = BTreeMap::new();
  for (at, (path, _)) in needed.iter().enumerate() {
    shards.entry(shard_of(path)).or_default().push(at);
  }
  shards
    .into_iter()
    .map(|(name, mut entries)| {
      entries.sort_by(|a, b| needed[*a].0.cmp(needed[*b].0));
      let write = entries.iter().any(|&at| {
        let (path, texts) = &needed[at];
        texts.iter().any(|text| {
          let sha256 = match text {
            Source::Text(_, sha256) => sha256,
            Source::Stored(text) => &text.sha256,
          };
          !stored.shard_holds(path, sha256)
        })
      });
      Planned {
        name,
        entries,
        write,
      }
    })
    .collect()
}

/// The path of shard `name` in the output folder.
pub(crate) fn shard_path(name: &str) -> String {
  format!("{BASE_DIR}/{name}")
}

/// Writes the entries `entries` of `needed` (one shard's, sorted by path) as
/// `=== <bytes> <digests> <path>` lines, each followed by the text: the
/// digests are the SHA-256 of the text in hex, then `+` and that of the text
/// without its user section when it has one.
pub(crate) fn write_shard(
  out: &mut dyn Write,
  stored: &Stored,
  needed: &Needed<'_>,
  entries: &[usize],
) -> io::Result<()> {
  out.write_all(SHARD_HEADER.as_bytes())?;
  for &at in entries {
    let (path, texts) = &needed[at];
    for text in texts {
      let (bytes, sha256, without): (Cow<'_, [u8]>, &Sha, Option<Sha>) = match text {
        Source::Text(contents, sha256) => (
          Cow::Borrowed(contents.as_bytes()),
          sha256,
          stripped(contents),
        ),
        Source::Stored(text) => (Cow::Owned(stored.read(text)?), &text.sha256, text.stripped),
      };
      write!(out, "=== {} {}", bytes.len(), crate::lock::hex(sha256))?;
      if let Some(without) = without {
        write!(out, "+{}", crate::lock::hex(&without))?;
      }
      writeln!(out, " {path}")?;
      out.write_all(&bytes)?;
      out.write_all(b"\n")?;
    }
  }
  Ok(())
}

/// After the lock is written: removes the shards of `.oi-gen/base/` no
/// managed file maps to any more (those not in `keep`), and the base of
/// earlier versions.
pub(crate) fn remove_stale(root: &Path, keep: &HashSet<String>) -> Result<(), Error> {
  let dir = root.join(BASE_DIR);
  match fs::read_dir(&dir) {
    Ok(entries) => {
      for entry in entries {
        let entry = entry.map_err(Error::io(Op::Read, &dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
          continue;
        };
        let is_file = entry.file_type().is_ok_and(|kind| kind.is_file());
        if is_file && name.ends_with(".txt") && !keep.contains(name) {
          let path = entry.path();
          fs::remove_file(&path).map_err(Error::io(Op::Remove, &path))?;
        }
      }
    }
    Err(error) if error.kind() == io::ErrorKind::NotFound => {}
    Err(error) => return Err(Error::io(Op::Read, &dir)(error)),
  }
  let legacy = root.join(LEGACY_PATH);
  match fs::remove_file(&legacy) {
    Err(error) if error.kind() != io::ErrorKind::NotFound => {
      Err(Error::io(Op::Remove, &legacy)(error))
    }
    _ => Ok(()),
  }
}

/// The base of earlier versions for `files` (sorted by path, each with its
/// texts in order): `=== <bytes> <path>` lines, each followed by the text.
#[cfg(test)]
pub(crate) fn write_legacy(out: &mut dyn Write, files: &[(&str, Vec<&str>)]) -> io::Result<()> {
  out.write_all(LEGACY_HEADER.as_bytes())?;
  for (path, texts) in files {
    for text in texts {
      writeln!(out, "=== {} {path}", text.len())?;
      out.write_all(text.as_bytes())?;
      out.write_all(b"\n")?;
    }
  }
  Ok(())
}

#[cfg(test)]
mod tests {
  use super::*;

  /// Writes `files` (path → texts) into the base of `root` as shards.
  fn write_shards(root: &Path, files: &BTreeMap<&str, Vec<&str>>) {
    let needed: Vec<(&str, Vec<Source<'_>>)> = files
      .iter()
      .map(|(path, texts)| {
        (
          *path,
          texts
            .iter()
            .map(|text| Source::Text(text, sha(text.as_bytes())))
            .collect(),
        )
      })
      .collect();
    let stored = Stored::default();
    for shard in plan(&stored, &needed) {
      assert!(shard.write);
      let path = root.join(shard_path(&shard.name));
      fs::create_dir_all(path.parent().unwrap()).unwrap();
      let mut out = Vec::new();
      write_shard(&mut out, &stored, &needed, &shard.entries).unwrap();
      fs::write(path, out).unwrap();
    }
  }

  /// Every text the base of `root` holds for `paths`, read back.
  fn read_back(root: &Path, paths: &[&str]) -> BTreeMap<String, Vec<String>> {
    let stored = Stored::open(root);
    let mut files = BTreeMap::new();
    for path in paths {
      let Some(texts) = stored.get(path) else {
        continue;
      };
      let texts = texts
        .iter()
        .map(|text| String::from_utf8(stored.read(text).unwrap()).unwrap())
        .collect();
      files.insert((*path).to_string(), texts);
    }
    files
  }

  fn owned(files: &BTreeMap<&str, Vec<&str>>) -> BTreeMap<String, Vec<String>> {
    files
      .iter()
      .map(|(path, texts)| {
        (
          (*path).to_string(),
          texts.iter().map(|text| (*text).to_string()).collect(),
        )
      })
      .collect()
  }

  #[test]
  fn a_path_falls_into_the_shard_of_its_first_two_folders() {
    assert_eq!(
      shard_key("charts/svc-1/templates/deployment.yaml"),
      "charts/svc-1"
    );
    assert_eq!(shard_key("charts/svc-1/values.yaml"), "charts/svc-1");
    assert_eq!(shard_key("infra/vpc.tf"), "infra");
    assert_eq!(shard_key("README.md"), "");
    assert_eq!(shard_of("charts/svc-1/values.yaml"), "charts+svc-1.txt");
    assert_eq!(
      shard_of(".github/workflows/ci.yml"),
      ".github+workflows.txt"
    );
    assert_eq!(shard_of("infra/envs/production/main.tf"), "infra+envs.txt");
    assert_eq!(shard_of("infra/vpc.tf"), "infra.txt");
    assert_eq!(shard_of("Makefile"), ROOT_SHARD);
    assert_eq!(shard_of("docs/Runbook/x.md"), "docs+^runbook.txt");
    assert_eq!(shard_of("a b/c+d/e"), "a%20b+c%2bd.txt");
    assert_eq!(shard_of("-x/y"), "%2dx.txt");
    assert_eq!(shard_of("ü/x"), "%c3%bc.txt");
  }

  /// Different folders get different names, also when case is ignored,
  /// and every name is a plain, short file name.
  #[test]
  fn shard_names_never_collide_even_ignoring_case() {
    let parts = [
      "a",
      "A",
      "b",
      "a+b",
      "a%2bb",
      "a^b",
      "^a",
      "%5ea",
      "-a",
      "%2da",
      "a~b",
      "a.b",
      "a_b",
      "a-b",
      "root",
      "+root",
      "ü",
      "Ü",
      "%c3%bc",
      "x".repeat(140).as_str(),
      &"x".repeat(141),
      &format!("{}y", "x".repeat(140)),
      &format!("{}~", "x".repeat(103)),
    ]
    .map(str::to_string);
    let mut keys = vec![String::new()];
    for first in &parts {
      keys.push(first.clone());
      for second in &parts {
        keys.push(format!("{first}/{second}"));
      }
    }
    let mut seen: HashMap<String, &str> = HashMap::new();
    for key in &keys {
      let name = shard_name(key);
      assert_eq!(name, shard_name(key), "deterministic");
      assert!(
        name.ends_with(".txt") && name.len() <= NAME_MAX + 4,
        "{name}"
      );
      assert!(
        name
          .bytes()
          .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-+^%~".contains(&b)),
        "{name}"
      );
      assert!(!name.starts_with('-'), "{name}");
      if let Some(other) = seen.insert(name.to_ascii_lowercase(), key) {
        panic!("`{key}` and `{other}` share the shard {name}");
      }
    }
  }

  #[test]
  fn round_trips_any_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = BTreeMap::new();
    files.insert("a/b.tf", vec!["x\n=== 3 fake\n", "y"]);
    files.insert("c", vec![""]);
    files.insert("d", vec!["no newline"]);
    files.insert("e f/g/h", vec!["ü\n"]);
    files.insert("e f/g/i/j", vec!["\n\n"]);
    write_shards(dir.path(), &files);
    let paths: Vec<&str> = files.keys().copied().collect();
    assert_eq!(read_back(dir.path(), &paths), owned(&files));
    let stored = Stored::open(dir.path());
    for (path, texts) in &files {
      let digests: Vec<Sha> = stored.get(path).unwrap().iter().map(|t| t.sha256).collect();
      let expected: Vec<Sha> = texts.iter().map(|t| sha(t.as_bytes())).collect();
      assert_eq!(digests, expected, "{path}");
    }
    let mut names: Vec<String> = fs::read_dir(dir.path().join(BASE_DIR))
      .unwrap()
      .map(|entry| entry.unwrap().file_name().into_string().unwrap())
      .collect();
    names.sort();
    assert_eq!(names, ["+root.txt", "a.txt", "e%20f+g.txt"]);
  }

  #[test]
  fn writes_digests_in_the_headers() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = BTreeMap::new();
    files.insert("a/b", vec!["one\n", "two"]);
    write_shards(dir.path(), &files);
    let text = fs::read_to_string(dir.path().join(BASE_DIR).join("a.txt")).unwrap();
    assert_eq!(
      text,
      format!(
        "{SHARD_HEADER}=== 4 {} a/b\none\n\n=== 3 {} a/b\ntwo\n",
        crate::lock::sha256(b"one\n"),
        crate::lock::sha256(b"two")
      )
    );
  }

  /// A shard is indexed from its headers only: a text changed behind the
  /// header is found when it is read, and only costs that text.
  #[test]
  fn reads_check_the_digest_of_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = BTreeMap::new();
    files.insert("a/b", vec!["abc"]);
    files.insert("a/c", vec!["def"]);
    write_shards(dir.path(), &files);
    let path = dir.path().join(BASE_DIR).join("a.txt");
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, text.replace("\nabc\n", "\nabd\n")).unwrap();
    let stored = Stored::open(dir.path());
    assert!(stored.holds("a/b", &sha(b"abc")));
    assert!(stored.read(&stored.get("a/b").unwrap()[0]).is_err());
    assert_eq!(stored.read(&stored.get("a/c").unwrap()[0]).unwrap(), b"def");
    // A shard replaced after it was indexed fails the check too.
    let text = fs::read_to_string(&path).unwrap();
    let stored = Stored::open(dir.path());
    let found = stored.get("a/c").unwrap()[0].clone();
    fs::write(&path, text.replace("\ndef\n", "\ndeg\n")).unwrap();
    assert!(stored.read(&found).is_err());
  }

  #[test]
  fn rejects_damaged_shards() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = BTreeMap::new();
    files.insert("a/b", vec!["abc"]);
    files.insert("x/y", vec!["xyz"]);
    write_shards(dir.path(), &files);
    let path = dir.path().join(BASE_DIR).join("a.txt");
    let good = fs::read_to_string(&path).unwrap();
    let hex = crate::lock::sha256(b"abc");
    let damaged = [
      "nonsense".to_string(),
      good[..good.len() - 1].to_string(),
      good[..good.len() - 2].to_string(),
      format!("{good}=== 1"),
      good.replace("=== 3 ", "=== 2 "),
      good.replace("=== 3 ", "=== 4 "),
      good.replace("=== 3 ", "=== 99999999999 "),
      good.replace("=== 3 ", "=== x "),
      good.replace(&hex, &hex[..63]),
      good.replace(&hex, &hex.to_uppercase()),
      good.replace(&hex, &format!("{hex}+")),
      good.replace(&hex, &format!("{hex}+{}", &hex[1..])),
      good.replace(&format!("{hex} a/b"), &format!("{hex}  a/b")),
      // A path of another shard, or not inside the folder.
      good.replace(" a/b\n", " x/b\n"),
      good.replace(" a/b\n", " a/../b\n"),
      good.replace(SHARD_HEADER, LEGACY_HEADER),
    ];
    for text in damaged {
      fs::write(&path, &text).unwrap();
      let stored = Stored::open(dir.path());
      assert!(stored.get("a/b").is_none(), "{text:?}");
      assert!(!stored.holds("a/b", &sha(b"abc")), "{text:?}");
      // The other shards are read as they are.
      assert!(stored.holds("x/y", &sha(b"xyz")), "{text:?}");
    }
    fs::write(&path, &good).unwrap();
    assert!(Stored::open(dir.path()).holds("a/b", &sha(b"abc")));
  }

  #[test]
  fn keeps_the_digest_without_the_user_section() {
    let text = format!(
      "a\n{}\nmine\n{}\nb\n",
      crate::render::USER_SECTION_BEGIN,
      crate::render::USER_SECTION_END
    );
    let dir = tempfile::tempdir().unwrap();
    let mut files = BTreeMap::new();
    files.insert("README.md", vec![text.as_str()]);
    write_shards(dir.path(), &files);
    let shard = fs::read_to_string(dir.path().join(BASE_DIR).join(ROOT_SHARD)).unwrap();
    let without = crate::render::strip_user_section(&text);
    assert!(shard.contains(&format!(
      "=== {} {}+{} README.md\n",
      text.len(),
      crate::lock::sha256(text.as_bytes()),
      crate::lock::sha256(without.as_bytes())
    )));
    let stored = Stored::open(dir.path());
    let found = &stored.get("README.md").unwrap()[0];
    assert_eq!(found.sha256(), &sha(text.as_bytes()));
    assert_eq!(found.digest(true), &sha(without.as_bytes()));
    assert_ne!(found.digest(true), found.digest(false));
    assert!(stored.holds("README.md", &sha(text.as_bytes())));
    assert!(!stored.holds("README.md", &sha(b"other")));
  }

  /// The base of earlier versions is read for the paths the shards do not
  /// hold, and its texts are written into shards like any other.
  #[test]
  fn reads_the_base_of_earlier_versions() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = dir.path().join(LEGACY_PATH);
    fs::create_dir_all(legacy.parent().unwrap()).unwrap();
    let mut out = Vec::new();
    write_legacy(
      &mut out,
      &[
        ("a/b", vec!["old a/b\n", "new a/b\n"]),
        ("a/c", vec!["a/c\n"]),
        ("z/y/x", vec!["z\n"]),
      ],
    )
    .unwrap();
    fs::write(&legacy, out).unwrap();
    let stored = Stored::open(dir.path());
    assert!(stored.holds("a/b", &sha(b"old a/b\n")) && stored.holds("z/y/x", &sha(b"z\n")));
    assert!(!stored.shard_holds("a/b", &sha(b"new a/b\n")));
    let texts = stored.get("a/b").unwrap();
    assert_eq!(stored.read(&texts[1]).unwrap(), b"new a/b\n");

    // A shard holding `a/b` is read for it; the old base still for `a/c`.
    let mut files = BTreeMap::new();
    files.insert("a/b", vec!["newer a/b\n"]);
    write_shards(dir.path(), &files);
    assert_eq!(
      read_back(dir.path(), &["a/b", "a/c", "z/y/x", "q"]),
      owned(&BTreeMap::from([
        ("a/b", vec!["newer a/b\n"]),
        ("a/c", vec!["a/c\n"]),
        ("z/y/x", vec!["z\n"]),
      ]))
    );

    // Copied into shards: those lacking a text are written.
    let stored = Stored::open(dir.path());
    let needed: Vec<(&str, Vec<Source<'_>>)> = ["a/b", "a/c", "z/y/x"]
      .into_iter()
      .map(|path| {
        (
          path,
          vec![Source::Stored(stored.get(path).unwrap().last().unwrap())],
        )
      })
      .collect();
    let planned = plan(&stored, &needed);
    let written: Vec<(&str, bool)> = planned
      .iter()
      .map(|shard| (shard.name.as_str(), shard.write))
      .collect();
    assert_eq!(written, [("a.txt", true), ("z+y.txt", true)]);
    let mut out = Vec::new();
    write_shard(&mut out, &stored, &needed, &planned[0].entries).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
      text.contains(" a/b\nnewer a/b\n\n=== 4 ") && text.ends_with(" a/c\na/c\n\n"),
      "{text}"
    );

    // Only the shard whose texts change is written.
    let mut files = BTreeMap::new();
    files.insert("a/c", vec!["a/c\n"]);
    files.insert("z/y/x", vec!["z\n"]);
    write_shards(dir.path(), &files);
    fs::remove_file(&legacy).unwrap();
    let stored = Stored::open(dir.path());
    let text = |t: &'static str| Source::Text(t, sha(t.as_bytes()));
    let needed = vec![
      ("a/c", vec![text("a/c\n")]),
      ("z/y/x", vec![text("z\n"), text("z2\n")]),
    ];
    let written: Vec<(String, bool)> = plan(&stored, &needed)
      .into_iter()
      .map(|shard| (shard.name, shard.write))
      .collect();
    assert_eq!(
      written,
      [("a.txt".to_string(), false), ("z+y.txt".to_string(), true)]
    );
  }

  /// A base of earlier versions larger than one hashing batch reads back
  /// whole and in order, with each digest that of its own text; a text that
  /// is not UTF-8 in a later batch makes it damaged.
  #[test]
  fn reads_an_old_base_of_many_batches_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = dir.path().join(LEGACY_PATH);
    fs::create_dir_all(legacy.parent().unwrap()).unwrap();
    let texts: Vec<(String, Vec<String>)> = (0..40)
      .map(|n| {
        let text = format!("{n}\n").repeat(BATCH_BYTES / 20);
        (format!("d/f{n:02}"), vec![text.clone(), format!("{text}x")])
      })
      .collect();
    let files: Vec<(&str, Vec<&str>)> = texts
      .iter()
      .map(|(path, texts)| (path.as_str(), texts.iter().map(String::as_str).collect()))
      .collect();
    let mut out = Vec::new();
    write_legacy(&mut out, &files).unwrap();
    assert!(out.len() > 3 * BATCH_BYTES);
    fs::write(&legacy, &out).unwrap();
    let stored = Stored::open(dir.path());
    for (path, texts) in &files {
      let found = stored.get(path).unwrap();
      let digests: Vec<Sha> = found.iter().map(|t| t.sha256).collect();
      let expected: Vec<Sha> = texts.iter().map(|t| sha(t.as_bytes())).collect();
      assert_eq!(digests, expected, "{path}");
      assert_eq!(stored.read(&found[1]).unwrap(), texts[1].as_bytes());
    }
    let last = out.len() - 2;
    out[last] = 0xff;
    fs::write(&legacy, &out).unwrap();
    assert!(Stored::open(dir.path()).get("d/f00").is_none());
  }

  #[test]
  fn removes_the_shards_no_file_maps_to_and_the_old_base() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = BTreeMap::new();
    files.insert("a/b", vec!["1"]);
    files.insert("c/d", vec!["2"]);
    write_shards(dir.path(), &files);
    let base = dir.path().join(BASE_DIR);
    fs::write(base.join("notes.md"), "mine").unwrap();
    fs::write(dir.path().join(LEGACY_PATH), "old").unwrap();
    remove_stale(dir.path(), &HashSet::from(["a.txt".to_string()])).unwrap();
    assert!(base.join("a.txt").exists() && base.join("notes.md").exists());
    assert!(!base.join("c.txt").exists() && !dir.path().join(LEGACY_PATH).exists());
    remove_stale(dir.path(), &HashSet::new()).unwrap();
    assert!(!base.join("a.txt").exists());
  }
}
