//! `.oi-gen/base.txt`: the exact text of every managed file as the last render
//! produced it, so `upgrade` can three-way merge hand edits without git
//! history. One file, length-prefixed entries, readable in a diff.
//!
//! A path may have more than one text: a render that changes a file keeps
//! the text it replaces next to the new one, so a run killed between writing
//! the base and the lock leaves a base that still holds what the old lock
//! records. Readers pick the text whose digest the lock records.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

pub(crate) const BASE_PATH: &str = ".oi-gen/base.txt";
const HEADER: &str =
  "# Written by oi-gen: the last render of every managed file, for merges. Do not edit.\n";

/// A SHA-256 digest.
pub(crate) type Sha = [u8; 32];

pub(crate) fn sha(bytes: &[u8]) -> Sha {
  Sha256::digest(bytes).into()
}

/// One text of the base: where it is in the file, and its digests. The text
/// itself is read again only when a merge or a new base needs it.
#[derive(Debug, Clone)]
pub(crate) struct Text {
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

/// The base as read from disk: the digests of each path's texts and where
/// they are in the file. Reading hashes the entries one at a time without
/// keeping them, so a render holds only the texts it merges.
#[derive(Debug, Default)]
pub(crate) struct Stored {
  file: Option<RefCell<File>>,
  entries: HashMap<String, Vec<Text>>,
}

impl Stored {
  /// Reads and indexes the base at `path`; empty when there is none or it
  /// is damaged (a damaged base only costs merges).
  pub(crate) fn open(path: &Path) -> Stored {
    let Ok(file) = File::open(path) else {
      return Stored::default();
    };
    let mut reader = BufReader::with_capacity(1 << 16, &file);
    match index(&mut reader) {
      Ok(Some(entries)) => Stored {
        file: Some(RefCell::new(file)),
        entries,
      },
      _ => Stored::default(),
    }
  }

  /// The texts of `path`, in the order written.
  pub(crate) fn get(&self, path: &str) -> Option<&[Text]> {
    self.entries.get(path).map(Vec::as_slice)
  }

  /// Whether the base holds the text with digest `sha256` for `path`.
  pub(crate) fn holds(&self, path: &str, sha256: &Sha) -> bool {
    self
      .get(path)
      .is_some_and(|texts| texts.iter().any(|text| &text.sha256 == sha256))
  }

  /// The bytes of `text`, checked against its digest.
  pub(crate) fn read(&self, text: &Text) -> io::Result<Vec<u8>> {
    let Some(file) = &self.file else {
      return Err(io::Error::new(io::ErrorKind::NotFound, "no base"));
    };
    let mut file = file.borrow_mut();
    file.seek(SeekFrom::Start(text.at))?;
    let mut bytes = vec![0; text.len];
    file.read_exact(&mut bytes)?;
    if sha(&bytes) != text.sha256 {
      return Err(io::Error::new(
        io::ErrorKind::InvalidData,
        "changed while it was read",
      ));
    }
    Ok(bytes)
  }
}

/// Bytes of entries read before they are hashed together, on every core:
/// enough to share the work, little enough to keep memory flat.
const BATCH_BYTES: usize = 1 << 20;

/// One entry read but not yet hashed: its path, where its text starts, the
/// text.
type Pending = (String, u64, Vec<u8>);

/// Indexes what [`write`] wrote; `None` when it is damaged.
fn index(reader: &mut impl BufRead) -> io::Result<Option<HashMap<String, Vec<Text>>>> {
  let mut entries: HashMap<String, Vec<Text>> = HashMap::new();
  let mut header = vec![0; HEADER.len()];
  if reader.read_exact(&mut header).is_err() || header != HEADER.as_bytes() {
    return Ok(None);
  }
  let mut at = HEADER.len() as u64;
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

/// Hashes a batch of entries (split over the cores, results in order) and
/// adds them to `entries`; false when one is not UTF-8 (a damaged base).
fn hash_into(entries: &mut HashMap<String, Vec<Text>>, batch: Vec<Pending>) -> bool {
  fn digests(bytes: &[u8]) -> Option<(Sha, Option<Sha>)> {
    let text = std::str::from_utf8(bytes).ok()?;
    let stripped = match crate::render::strip_user_section(text) {
      std::borrow::Cow::Owned(stripped) => Some(sha(stripped.as_bytes())),
      std::borrow::Cow::Borrowed(_) => None,
    };
    Some((sha(bytes), stripped))
  }
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
      at,
      len: bytes.len(),
      sha256,
      stripped,
    });
  }
  true
}

/// A text to write into the base: one in memory, or one of the base on disk
/// (copied from it).
pub(crate) enum Source<'a> {
  Text(&'a str),
  Stored(&'a Text),
}

/// Writes `files` (sorted by path, each with its texts in order) as
/// `=== <bytes> <path>` lines, each followed by the bytes.
pub(crate) fn write(
  out: &mut dyn Write,
  stored: &Stored,
  files: &[(&str, Vec<Source<'_>>)],
) -> io::Result<()> {
  out.write_all(HEADER.as_bytes())?;
  for (path, texts) in files {
    for text in texts {
      match text {
        Source::Text(contents) => {
          writeln!(out, "=== {} {path}", contents.len())?;
          out.write_all(contents.as_bytes())?;
        }
        Source::Stored(text) => {
          writeln!(out, "=== {} {path}", text.len)?;
          out.write_all(&stored.read(text)?)?;
        }
      }
      out.write_all(b"\n")?;
    }
  }
  Ok(())
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::collections::BTreeMap;

  /// The base `write` makes of `files`.
  fn encode(files: &BTreeMap<String, Vec<String>>) -> String {
    let list: Vec<(&str, Vec<Source<'_>>)> = files
      .iter()
      .map(|(path, texts)| {
        (
          path.as_str(),
          texts.iter().map(|text| Source::Text(text)).collect(),
        )
      })
      .collect();
    let mut out = Vec::new();
    write(&mut out, &Stored::default(), &list).unwrap();
    String::from_utf8(out).unwrap()
  }

  /// Every text of the base in `text`, read back through its index.
  fn decode(text: &str) -> Option<BTreeMap<String, Vec<String>>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("base.txt");
    std::fs::write(&path, text).unwrap();
    let stored = Stored::open(&path);
    stored.file.as_ref()?;
    let mut files = BTreeMap::new();
    for (path, texts) in &stored.entries {
      let texts = texts
        .iter()
        .map(|text| String::from_utf8(stored.read(text).unwrap()).unwrap())
        .collect();
      files.insert(path.clone(), texts);
    }
    Some(files)
  }

  #[test]
  fn round_trips_any_text() {
    let mut files = BTreeMap::new();
    files.insert(
      "a/b.tf".to_string(),
      vec!["x\n=== 3 fake\n".to_string(), "y".to_string()],
    );
    files.insert("c".to_string(), vec![String::new()]);
    files.insert("d".to_string(), vec!["no newline".to_string()]);
    files.insert("e f".to_string(), vec!["ü\n".to_string()]);
    let text = encode(&files);
    assert_eq!(decode(&text), Some(files));
  }

  /// A base larger than one hashing batch reads back whole and in order,
  /// texts of one path split over two batches included, with each digest
  /// that of its own text; a text that is not UTF-8 in a later batch makes
  /// the base damaged.
  #[test]
  fn reads_a_base_of_many_batches_in_order() {
    let mut files = BTreeMap::new();
    for n in 0..40 {
      let text = format!("{n}\n").repeat(BATCH_BYTES / 20);
      files.insert(format!("f{n:02}"), vec![text.clone(), format!("{text}x")]);
    }
    let text = encode(&files);
    assert!(text.len() > 3 * BATCH_BYTES);
    assert_eq!(decode(&text), Some(files.clone()));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("base.txt");
    std::fs::write(&path, &text).unwrap();
    let stored = Stored::open(&path);
    for (name, texts) in &files {
      let digests: Vec<Sha> = stored.get(name).unwrap().iter().map(|t| t.sha256).collect();
      let expected: Vec<Sha> = texts.iter().map(|t| sha(t.as_bytes())).collect();
      assert_eq!(digests, expected, "{name}");
    }
    let mut bytes = text.into_bytes();
    let last = bytes.len() - 2;
    bytes[last] = 0xff;
    std::fs::write(&path, &bytes).unwrap();
    assert!(Stored::open(&path).file.is_none());
  }

  #[test]
  fn writes_the_format_of_earlier_versions() {
    let mut files = BTreeMap::new();
    files.insert(
      "a".to_string(),
      vec!["one\n".to_string(), "two".to_string()],
    );
    files.insert("b/c".to_string(), vec![String::new()]);
    assert_eq!(
      encode(&files),
      format!("{HEADER}=== 4 a\none\n\n=== 3 a\ntwo\n=== 0 b/c\n\n")
    );
  }

  #[test]
  fn keeps_the_digest_without_the_user_section() {
    let text = format!(
      "a\n{}\nmine\n{}\nb\n",
      crate::render::USER_SECTION_BEGIN,
      crate::render::USER_SECTION_END
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("base.txt");
    let mut files = BTreeMap::new();
    files.insert("README.md".to_string(), vec![text.clone()]);
    std::fs::write(&path, encode(&files)).unwrap();
    let stored = Stored::open(&path);
    let found = &stored.get("README.md").unwrap()[0];
    assert_eq!(found.sha256(), &sha(text.as_bytes()));
    assert_eq!(
      found.digest(true),
      &sha(crate::render::strip_user_section(&text).as_bytes())
    );
    assert_ne!(found.digest(true), found.digest(false));
    assert!(stored.holds("README.md", &sha(text.as_bytes())));
    assert!(!stored.holds("README.md", &sha(b"other")));
  }

  #[test]
  fn rejects_damage() {
    assert_eq!(decode("nonsense"), None);
    let mut files = BTreeMap::new();
    files.insert("a".to_string(), vec!["abc".to_string()]);
    let text = encode(&files);
    assert_eq!(decode(&text[..text.len() - 2]), None);
    assert_eq!(decode(&text.replace("=== 3", "=== 99999999999")), None);
    assert_eq!(decode(&text.replace("=== 3", "=== x")), None);
  }
}
