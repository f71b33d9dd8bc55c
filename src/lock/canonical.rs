//! The lock as oi-gen writes it, read and written without the TOML parser
//! and serializer: at 5,000 services the lock has 100,000 entries, and the
//! general-purpose TOML code took a tenth of a `render --check`.
//!
//! [`write`] produces exactly the text the TOML serializer gives (a test
//! compares the two), or `None` when a name or value would need quoting it
//! does not write (a character outside printable ASCII, a quote or a
//! backslash); the serializer then writes it. [`parse`] reads only that
//! exact layout, line by line, and gives `None` for anything else (an edited
//! lock, a duplicate entry, a value that would need an escape), which the
//! TOML parser then reads, or reports as damaged.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Entry, HEADER, Kept, Lock};
use crate::render::Ownership;

/// A string TOML writes between double quotes as it is.
fn is_plain(text: &str) -> bool {
  text
    .bytes()
    .all(|byte| (b' '..=b'~').contains(&byte) && byte != b'"' && byte != b'\\')
}

/// A key TOML writes without quotes.
fn is_bare(key: &str) -> bool {
  !key.is_empty()
    && key
      .bytes()
      .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// Appends `key` as TOML writes it; `false` when it needs escapes.
fn push_key(out: &mut String, key: &str) -> bool {
  if is_bare(key) {
    out.push_str(key);
  } else if is_plain(key) {
    out.push('"');
    out.push_str(key);
    out.push('"');
  } else {
    return false;
  }
  true
}

/// Appends `value` as a TOML string; `false` when it needs escapes.
fn push_string(out: &mut String, value: &str) -> bool {
  if !is_plain(value) {
    return false;
  }
  out.push('"');
  out.push_str(value);
  out.push('"');
  true
}

fn ownership_name(ownership: Ownership) -> &'static str {
  match ownership {
    Ownership::Managed => "managed",
    Ownership::Seeded => "seeded",
  }
}

/// The lock's text, as the TOML serializer writes it; `None` when a name or
/// value needs escapes.
pub(super) fn write(lock: &Lock) -> Option<String> {
  let mut out = String::with_capacity(256 + lock.files.len() * 140);
  out.push_str(HEADER);
  let _ = writeln!(out, "format = {}", lock.format);
  out.push_str("oi-gen = ");
  push_string(&mut out, &lock.oi_gen).then_some(())?;
  out.push_str("\nblueprint-sha256 = ");
  push_string(&mut out, &lock.blueprint_sha256).then_some(())?;
  out.push('\n');
  if lock.files.is_empty() {
    out.push_str("\n[files]\n");
  }
  for (path, entry) in &lock.files {
    let start = out.len();
    out.push_str("\n[files.");
    push_key(&mut out, path).then_some(())?;
    let key = out[start + "\n[files.".len()..].to_string();
    out.push_str("]\nsha256 = ");
    push_string(&mut out, &entry.sha256).then_some(())?;
    out.push_str("\nownership = \"");
    out.push_str(ownership_name(entry.ownership));
    out.push_str("\"\n");
    if let Some(kept) = &entry.kept {
      let _ = write!(out, "\n[files.{key}.kept]\nsha256 = ");
      push_string(&mut out, &kept.sha256).then_some(())?;
      out.push_str("\nrender = ");
      push_string(&mut out, &kept.render).then_some(())?;
      out.push('\n');
    }
  }
  if !lock.migrations.is_empty() {
    out.push_str("\n[migrations]\n");
    for (name, sha256) in &lock.migrations {
      push_key(&mut out, name).then_some(())?;
      out.push_str(" = ");
      push_string(&mut out, sha256).then_some(())?;
      out.push('\n');
    }
  }
  Some(out)
}

/// A TOML string without escapes, as written by [`write`].
fn string(text: &str) -> Option<String> {
  let inner = text.strip_prefix('"')?.strip_suffix('"')?;
  is_plain(inner).then(|| inner.to_string())
}

/// A key at the start of `text`, bare or quoted without escapes, and what
/// follows it.
fn key(text: &str) -> Option<(String, &str)> {
  if let Some(quoted) = text.strip_prefix('"') {
    let end = quoted.find('"')?;
    let key = &quoted[..end];
    return is_plain(key).then(|| (key.to_string(), &quoted[end + 1..]));
  }
  let end = text
    .bytes()
    .position(|byte| !(byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'))
    .unwrap_or(text.len());
  (end > 0).then(|| (text[..end].to_string(), &text[end..]))
}

/// `<name> = <value>` with `name` given, the value a string.
fn field(line: &str, name: &str) -> Option<String> {
  string(line.strip_prefix(name)?.strip_prefix(" = ")?)
}

/// The lock in `text`, when it is exactly in the layout [`write`] gives.
pub(super) fn parse(text: &str) -> Option<Lock> {
  let mut lines = text.strip_prefix(HEADER)?.strip_suffix('\n')?.split('\n');
  let format_text = lines.next()?.strip_prefix("format = ")?;
  let format: u32 = format_text.parse().ok()?;
  if format.to_string() != format_text {
    return None;
  }
  let oi_gen = field(lines.next()?, "oi-gen")?;
  let blueprint_sha256 = field(lines.next()?, "blueprint-sha256")?;
  // Entries in the order written, which is the lock's sorted order: the
  // map is then built in one pass.
  let mut files: Vec<(String, Entry)> = Vec::new();
  let mut migrations = BTreeMap::new();
  // Whether the last table was a `[files.…]` entry, which its `.kept`
  // table may follow.
  let mut open = false;
  // An empty `[files]` table, written when there are no files.
  let mut empty_files = false;
  while let Some(blank) = lines.next() {
    if !blank.is_empty() || !migrations.is_empty() {
      return None;
    }
    let header = lines.next()?;
    if header == "[files]" {
      if empty_files || !files.is_empty() {
        return None;
      }
      empty_files = true;
      continue;
    }
    if header == "[migrations]" {
      for line in lines.by_ref() {
        let (name, rest) = key(line)?;
        let sha256 = string(rest.strip_prefix(" = ")?)?;
        if migrations.insert(name, sha256).is_some() {
          return None;
        }
      }
      if migrations.is_empty() {
        return None;
      }
      break;
    }
    if empty_files {
      return None;
    }
    let (path, rest) = key(header.strip_prefix("[files.")?)?;
    match rest {
      "]" => {
        // Strictly after the entry before it: sorted, and no duplicate.
        if files.last().is_some_and(|(before, _)| *before >= path) {
          return None;
        }
        let sha256 = field(lines.next()?, "sha256")?;
        let ownership = match lines.next()? {
          "ownership = \"managed\"" => Ownership::Managed,
          "ownership = \"seeded\"" => Ownership::Seeded,
          _ => return None,
        };
        files.push((
          path,
          Entry {
            sha256,
            ownership,
            kept: None,
          },
        ));
        open = true;
      }
      ".kept]" => {
        let (last, entry) = files.last_mut()?;
        if !open || *last != path {
          return None;
        }
        let sha256 = field(lines.next()?, "sha256")?;
        let render = field(lines.next()?, "render")?;
        entry.kept = Some(Kept { sha256, render });
        open = false;
      }
      _ => return None,
    }
  }
  let files: BTreeMap<String, Entry> = files.into_iter().collect();
  Some(Lock {
    format,
    oi_gen,
    blueprint_sha256,
    files,
    migrations,
  })
}

#[cfg(test)]
mod tests {
  use super::*;

  fn entry(sha256: &str, ownership: Ownership, kept: Option<(&str, &str)>) -> Entry {
    Entry {
      sha256: sha256.to_string(),
      ownership,
      kept: kept.map(|(sha256, render)| Kept {
        sha256: sha256.to_string(),
        render: render.to_string(),
      }),
    }
  }

  /// Locks of every shape the code writes, and names that need quoting
  /// or escapes.
  fn locks() -> Vec<Lock> {
    let sha = "ab".repeat(32);
    let mut full = Lock {
      format: 1,
      oi_gen: "0.1.0".to_string(),
      blueprint_sha256: sha.clone(),
      ..Lock::default()
    };
    for path in [
      "Makefile",
      ".gitignore",
      "infra/vpc.tf",
      "a b/c's.tf",
      "x_y-z",
      "charts/svc-0001/templates/_helpers.tpl",
      "9",
    ] {
      full
        .files
        .insert(path.to_string(), entry(&sha, Ownership::Managed, None));
    }
    full.files.insert(
      "services/web/server.py".to_string(),
      entry(&sha, Ownership::Seeded, Some((&sha, &"cd".repeat(32)))),
    );
    full.files.insert(
      "zz/last".to_string(),
      entry(&sha, Ownership::Managed, Some(("1", "2"))),
    );
    full
      .migrations
      .insert("V1__baseline.sql".to_string(), sha.clone());
    full
      .migrations
      .insert("V2__add table.sql".to_string(), sha.clone());
    let mut odd_path = full.clone();
    odd_path
      .files
      .insert("ü/ä.tf".to_string(), entry(&sha, Ownership::Managed, None));
    let mut quote = full.clone();
    quote
      .files
      .insert("a\"b".to_string(), entry(&sha, Ownership::Managed, None));
    let mut backslash = full.clone();
    backslash
      .migrations
      .insert("V3\\x.sql".to_string(), sha.clone());
    let mut no_migrations = full.clone();
    no_migrations.migrations.clear();
    let mut kept_last = no_migrations.clone();
    kept_last.files.retain(|path, _| path == "zz/last");
    vec![
      Lock::default(),
      Lock {
        format: 7,
        oi_gen: String::new(),
        ..Lock::default()
      },
      full,
      odd_path,
      quote,
      backslash,
      no_migrations,
      kept_last,
    ]
  }

  #[test]
  fn writes_what_the_toml_serializer_writes() {
    let mut fast = 0;
    for lock in locks() {
      let slow = lock.to_toml_slow();
      if let Some(text) = write(&lock) {
        assert_eq!(text, slow);
        fast += 1;
      }
      assert_eq!(lock.to_toml(), slow);
    }
    assert_eq!(fast, 5, "the locks without escapes are written directly");
  }

  #[test]
  fn reads_what_the_toml_parser_reads() {
    for lock in locks() {
      let text = lock.to_toml_slow();
      let parsed: Lock = toml::from_str(&text).unwrap();
      assert_eq!(parsed, lock);
      if let Some(fast) = parse(&text) {
        assert_eq!(fast, lock);
      } else {
        assert!(write(&lock).is_none(), "{text}");
      }
    }
  }

  /// Every one-byte change of a lock, and every cut, is either read as the
  /// TOML parser reads it or left to it: never read differently.
  #[test]
  fn damage_is_left_to_the_toml_parser() {
    let lock = &locks()[2];
    let text = write(lock).unwrap();
    let mut direct = 0;
    for at in 0..text.len() {
      for replacement in [b' ', b'"', b'\n', b'a', b'.', b']', b'\\', b'='] {
        let mut bytes = text.clone().into_bytes();
        bytes[at] = replacement;
        let Ok(changed) = String::from_utf8(bytes) else {
          continue;
        };
        if let Some(fast) = parse(&changed) {
          let slow: Lock = toml::from_str(&changed).expect("TOML reads what is read directly");
          assert_eq!(fast, slow, "changed at {at}");
          direct += 1;
        }
      }
      let cut = &text[..at];
      if let Some(fast) = parse(cut) {
        assert_eq!(Some(fast), toml::from_str(cut).ok(), "cut at {at}");
      }
    }
    assert!(direct > 0);
  }

  #[test]
  fn duplicates_and_misplaced_tables_are_left_to_the_toml_parser() {
    let lock = &locks()[6];
    let text = write(lock).unwrap();
    let twice = text.replace(
      "[files.Makefile]",
      "[files.Makefile]\nsha256 = \"x\"\nownership = \"managed\"\n\n[files.Makefile]",
    );
    assert!(parse(&twice).is_none());
    let unsorted = text.replace("[files.Makefile]", "[files.zzz]");
    assert!(parse(&unsorted).is_none());
    assert_eq!(
      toml::from_str::<Lock>(&unsorted).unwrap().files.len(),
      lock.files.len(),
      "an unsorted lock is read by the TOML parser"
    );
    assert!(toml::from_str::<Lock>(&twice).is_err());
    let moved =
      format!("{text}\n[files.\"services/web/server.py\".kept]\nsha256 = \"1\"\nrender = \"2\"\n");
    assert!(parse(&moved).is_none());
  }
}
