//! A disk that fills up in the middle of a run. The write order (the base,
//! then the files, then the lock) must leave, at every point a write can
//! fail, a tree the next run reads correctly: no lost edit, no false edit,
//! no whole-file conflict, and `render --check` clean after a re-render.
//!
//! The child's file size limit (RLIMIT_FSIZE, with SIGXFSZ ignored, so the
//! write that would pass it returns EFBIG as a full disk returns ENOSPC)
//! makes the first write of a file larger than the limit fail, part way
//! through; files are written smallest-first nowhere, so the limit picks
//! where the run stops: at a shard of the base (after the shards before
//! it), at a given file, or at the lock.

#![cfg(unix)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Output};

use crate::support::{snapshot, synth};

/// `oi-gen ARGS` in `dir`, unable to write a file past `limit` bytes.
fn oi_gen_limited(dir: &Path, args: &[&str], limit: Option<u64>) -> Output {
  let mut command = Command::new(env!("CARGO_BIN_EXE_oi-gen"));
  command.args(args).current_dir(dir).env("NO_COLOR", "1");
  if let Some(limit) = limit {
    // SAFETY: between fork and exec the closure only calls the
    // async-signal-safe `signal` and `setrlimit`.
    unsafe {
      command.pre_exec(move || {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let rlimit = libc::rlimit {
          rlim_cur: limit,
          rlim_max: limit,
        };
        if libc::setrlimit(libc::RLIMIT_FSIZE, &raw const rlimit) != 0 {
          return Err(std::io::Error::last_os_error());
        }
        Ok(())
      });
    }
  }
  command.output().expect("oi-gen runs")
}

fn oi_gen(dir: &Path, args: &[&str]) -> Output {
  oi_gen_limited(dir, args, None)
}

fn stderr(output: &Output) -> String {
  String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Leftover temporary files of interrupted writes.
fn temp_files(repo: &Path) -> Vec<String> {
  snapshot(repo)
    .into_keys()
    .filter(|path| path.ends_with(".oi-gen-tmp"))
    .collect()
}

/// The blueprint with the given name and replicas.
fn blueprint(name: &str, replicas: u32) -> String {
  // A fixed quota in production, so a change of replicas changes only the
  // values files and not the namespace's quota (nor the README's table of
  // it, a file larger than the lock).
  synth::blueprint(3)
    .replacen("  name: synthetic\n", &format!("  name: {name}\n"), 1)
    .replacen(
      "    - name: production\n      approval: true\n",
      "    - name: production\n      approval: true\n      overrides:\n        quota: {requests: {cpu: \"64\", memory: 256Gi}, limits: {cpu: \"128\", memory: 512Gi}, pods: 500}\n",
      1,
    )
    .replace(
      "      replicas: 2\n",
      &format!("      replicas: {replicas}\n"),
    )
}

/// The files (managed or not) whose text differs between two snapshots,
/// with their sizes after, in the order a run writes them.
fn changed(
  before: &BTreeMap<String, Vec<u8>>,
  after: &BTreeMap<String, Vec<u8>>,
) -> Vec<(String, u64)> {
  after
    .iter()
    .filter(|(path, text)| {
      !path.starts_with(".oi-gen/")
        && path.as_str() != "platform.yaml"
        && before.get(*path) != Some(*text)
    })
    .map(|(path, text)| (path.clone(), text.len() as u64))
    .collect()
}

/// The shards of the base whose text differs between two snapshots, with
/// their sizes after, in the order a run writes them (by name).
fn changed_shards(
  before: &BTreeMap<String, Vec<u8>>,
  after: &BTreeMap<String, Vec<u8>>,
) -> Vec<(String, u64)> {
  after
    .iter()
    .filter(|(path, text)| path.starts_with(".oi-gen/base/") && before.get(*path) != Some(*text))
    .map(|(path, text)| (path.clone(), text.len() as u64))
    .collect()
}

/// The shards of the base in a snapshot.
fn base_of(snapshot: &BTreeMap<String, Vec<u8>>) -> BTreeMap<&String, &Vec<u8>> {
  snapshot
    .iter()
    .filter(|(path, _)| path.starts_with(".oi-gen/base/"))
    .collect()
}

/// Limits that stop a run that writes `writes` (in order) at each one that
/// is larger than every one before it.
fn limits_at(writes: impl Iterator<Item = (String, u64)>) -> Vec<(u64, String)> {
  let mut limits = Vec::new();
  let mut largest = 0;
  for (path, size) in writes {
    if size > largest {
      limits.push((size - 1, path));
      largest = size;
    }
  }
  limits
}

/// Limits that stop a run that writes `files` (in order), then a lock of
/// `lock` bytes, at each file that is larger than every one before it, and
/// at the lock when it is the largest.
fn limits_at_each_write(files: &[(String, u64)], lock: u64) -> Vec<(u64, String)> {
  limits_at(
    files
      .iter()
      .cloned()
      .chain([(".oi-gen/lock.toml".to_string(), lock)]),
  )
}

/// Runs `command` with `limit`; when it fails, checks it exits 2 naming the
/// write that failed and its path, and that no temporary file is left.
/// Returns whether it failed.
fn run_limited(repo: &Path, command: &str, limit: u64, expect: &str) -> bool {
  let out = oi_gen_limited(repo, &[command], Some(limit));
  if out.status.success() {
    return false;
  }
  let text = stderr(&out);
  assert_eq!(out.status.code(), Some(2), "{command} at {limit}: {text}");
  assert!(
    text.contains(&format!("error: cannot write `./{expect}`: File too large")),
    "{command} at {limit}, expected to fail at {expect}: {text}"
  );
  assert_eq!(
    temp_files(repo),
    Vec::<String>::new(),
    "{command} at {limit}"
  );
  true
}

/// After a failed run: the next run finishes without taking any file for a
/// hand edit, the check is clean, the kept customization is still there, and
/// no file holds conflict markers.
fn recovers(repo: &Path, command: &str, kept: (&str, &str), at: &str) {
  let out = oi_gen(repo, &[command]);
  assert!(
    out.status.success(),
    "{command} after a failure at {at}: {}",
    stderr(&out)
  );
  let stdout = String::from_utf8_lossy(&out.stdout);
  assert!(
    !stdout.lines().any(|line| line.starts_with("conflict")) && !stdout.contains(" 1 conflicts"),
    "{command} after a failure at {at}: {stdout}"
  );
  let check = oi_gen(repo, &["render", "--check"]);
  assert!(
    check.status.success(),
    "check after a failure at {at}: {}",
    stderr(&check)
  );
  let (path, edit) = kept;
  assert!(
    fs::read_to_string(repo.join(path)).unwrap().contains(edit),
    "the edit of {path} is lost after a failure at {at}"
  );
  for (path, text) in snapshot(repo) {
    assert!(
      path.starts_with(".oi-gen/")
        || !String::from_utf8_lossy(&text)
          .lines()
          .any(|line| line.starts_with("<<<<<<< local")),
      "{path} has conflict markers after a failure at {at}"
    );
  }
  assert_eq!(temp_files(repo), Vec::<String>::new());
}

/// A repository of the synthetic blueprint with one kept customization of a
/// file no variant changes.
fn repository() -> (
  tempfile::TempDir,
  std::path::PathBuf,
  (&'static str, &'static str),
) {
  let temp = tempfile::tempdir().unwrap();
  fs::write(temp.path().join("platform.yaml"), blueprint("synthetic", 2)).unwrap();
  let out = oi_gen(temp.path(), &["init", "repo", "--from", "platform.yaml"]);
  assert!(out.status.success(), "{}", stderr(&out));
  let repo = temp.path().join("repo");
  let kept = (
    "cluster/addons/metrics-server/values.yaml",
    "# the team's own note\n",
  );
  let path = repo.join(kept.0);
  let text = fs::read_to_string(&path).unwrap();
  fs::write(&path, format!("{text}{}", kept.1)).unwrap();
  let out = oi_gen(&repo, &["keep", kept.0]);
  assert!(out.status.success(), "{}", stderr(&out));
  (temp, repo, kept)
}

/// `render` stopped by a full disk while writing the base (a blueprint
/// whose texts the base does not hold yet: at the first shard, and at later
/// ones, after the shards before them), at each file, and at the lock (a
/// blueprint changed back, whose texts the base holds, so only the files
/// and the lock are written).
#[test]
fn a_render_stopped_by_a_full_disk_is_recovered_by_the_next_one() {
  let (_temp, repo, kept) = repository();
  let platform = repo.join("platform.yaml");

  // In the base: new names, so every shard is written first; the run fails
  // at a shard, after the ones before it, and writes no file nor the lock.
  let mut round = 0;
  let mut stops = Vec::new();
  loop {
    let before = snapshot(&repo);
    fs::write(&platform, blueprint(&format!("synthetic-{round}"), 2)).unwrap();
    let probe = tempfile::tempdir().unwrap();
    copy_tree(&repo, probe.path());
    assert!(oi_gen(probe.path(), &["render"]).status.success());
    let shards = changed_shards(&before, &snapshot(probe.path()));
    assert!(shards.len() >= 5, "{shards:?}");
    let limits = limits_at(shards.iter().cloned());
    let Some((limit, shard)) = limits.get(round).cloned() else {
      break;
    };
    assert!(
      run_limited(&repo, "render", limit, &shard),
      "render at {limit} fails at {shard}"
    );
    for (path, text) in &snapshot(&repo) {
      if before.get(path) != Some(text) && path != "platform.yaml" {
        assert!(
          path.starts_with(".oi-gen/base/") && path < &shard,
          "{path} is written before the failure at {shard}"
        );
      }
    }
    stops.push(shard.clone());
    recovers(&repo, "render", kept, &shard);
    round += 1;
  }
  assert!(
    stops.len() >= 2,
    "stops at the first shard and a later one: {stops:?}"
  );

  // At each file, then at the lock: replicas changed back and forth, so
  // only small values files change and the base already holds every text.
  // The base then holds the texts of both replicas.
  for replicas in [3, 2] {
    fs::write(&platform, blueprint("synthetic", replicas)).unwrap();
    assert!(oi_gen(&repo, &["render"]).status.success());
  }
  for replicas in [3, 2] {
    let before = snapshot(&repo);
    fs::write(&platform, blueprint("synthetic", replicas)).unwrap();
    // Where each write would stop: from a dry render elsewhere.
    let probe = tempfile::tempdir().unwrap();
    copy_tree(&repo, probe.path());
    assert!(oi_gen(probe.path(), &["render"]).status.success());
    let after = snapshot(probe.path());
    assert!(
      base_of(&before) == base_of(&after),
      "the base already holds every text"
    );
    let files = changed(&before, &after);
    assert!(files.len() >= 3, "{files:?}");
    let lock = after[".oi-gen/lock.toml"].len() as u64;
    let limits = limits_at_each_write(&files, lock);
    assert!(
      limits.iter().any(|(_, path)| path == ".oi-gen/lock.toml"),
      "the lock is the largest write: {files:?}, lock {lock}"
    );
    for (limit, path) in limits {
      fs::write(&platform, blueprint("synthetic", replicas)).unwrap();
      assert!(
        run_limited(&repo, "render", limit, &path),
        "render at {limit} fails at {path}"
      );
      recovers(&repo, "render", kept, &path);
      // Back to where the round started, for the next stop.
      fs::write(
        &platform,
        blueprint("synthetic", if replicas == 2 { 3 } else { 2 }),
      )
      .unwrap();
      assert!(oi_gen(&repo, &["render"]).status.success());
      assert_eq!(
        snapshot(&repo).get("platform.yaml"),
        before.get("platform.yaml")
      );
    }
    fs::write(&platform, blueprint("synthetic", replicas)).unwrap();
    assert!(oi_gen(&repo, &["render"]).status.success());
  }
}

/// `upgrade` stopped by a full disk while it merges a kept hand edit onto
/// a new render: at each file and at the lock, the next upgrade carries the
/// edit once, with no conflict, and the check accepts it.
#[test]
fn an_upgrade_stopped_by_a_full_disk_is_recovered_by_the_next_one() {
  let (_temp, repo, kept) = repository();
  let platform = repo.join("platform.yaml");
  fs::write(&platform, blueprint("synthetic", 3)).unwrap();
  assert!(oi_gen(&repo, &["render"]).status.success());
  fs::write(&platform, blueprint("synthetic", 2)).unwrap();
  assert!(oi_gen(&repo, &["render"]).status.success());
  // A hand edit of a file the replicas change, away from the change.
  let edited = "charts/svc-0001/values.yaml";
  let note = "# tuned by hand\n";
  let text = fs::read_to_string(repo.join(edited)).unwrap();
  fs::write(repo.join(edited), format!("{note}{text}")).unwrap();
  let out = oi_gen(&repo, &["keep", edited]);
  assert!(out.status.success(), "{}", stderr(&out));

  let before = snapshot(&repo);
  fs::write(&platform, blueprint("synthetic", 3)).unwrap();
  let probe = tempfile::tempdir().unwrap();
  copy_tree(&repo, probe.path());
  let out = oi_gen(probe.path(), &["upgrade"]);
  assert!(out.status.success(), "{}", stderr(&out));
  let after = snapshot(probe.path());
  let files = changed(&before, &after);
  assert!(files.iter().any(|(path, _)| path == edited), "{files:?}");
  let lock = after[".oi-gen/lock.toml"].len() as u64;
  // The shards the upgrade writes come first, then the files.
  let writes = [changed_shards(&before, &after), files].concat();
  for (limit, path) in limits_at_each_write(&writes, lock) {
    fs::write(&platform, blueprint("synthetic", 3)).unwrap();
    assert!(
      run_limited(&repo, "upgrade", limit, &path),
      "upgrade at {limit} fails at {path}"
    );
    recovers(&repo, "upgrade", kept, &path);
    let now = fs::read_to_string(repo.join(edited)).unwrap();
    assert_eq!(
      now.matches(note).count(),
      1,
      "after a failure at {path}: {now}"
    );
    assert_eq!(
      now,
      String::from_utf8_lossy(&after[edited]),
      "the merge after a failure at {path} is the merge of an undisturbed upgrade"
    );
    // Back to where it started, the hand edit included.
    fs::write(&platform, blueprint("synthetic", 2)).unwrap();
    let out = oi_gen(&repo, &["upgrade"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
      fs::read_to_string(repo.join(edited)).unwrap(),
      String::from_utf8_lossy(&before[edited])
    );
  }
}

fn copy_tree(from: &Path, to: &Path) {
  for (path, text) in snapshot(from) {
    let target = to.join(&path);
    fs::create_dir_all(target.parent().unwrap()).unwrap();
    fs::write(target, text).unwrap();
  }
}

/// `render --adopt` stopped by a full disk while it saves the user's file
/// aside, or after, at the lock: the user's file is never lost, and the next
/// `render --adopt` finishes the adoption.
#[test]
fn an_adoption_stopped_by_a_full_disk_loses_nothing() {
  let temp = tempfile::tempdir().unwrap();
  fs::write(temp.path().join("platform.yaml"), blueprint("synthetic", 2)).unwrap();
  let out = oi_gen(temp.path(), &["init", "repo", "--from", "platform.yaml"]);
  assert!(out.status.success(), "{}", stderr(&out));
  let repo = temp.path().join("repo");
  let adopted = "infra/vpc.tf";
  let rendered = fs::read(repo.join(adopted)).unwrap();
  // The user's own file at the path, larger than every other write but the
  // lock; the base already holds the render's text, so it is not written.
  let mine = format!("# my own network\n{}", "# notes\n".repeat(1500));
  let lock_size = fs::read(repo.join(".oi-gen/lock.toml")).unwrap().len() as u64;
  assert!((mine.len() as u64) < lock_size && mine.len() > rendered.len());
  let forget = |repo: &Path| {
    let path = repo.join(".oi-gen/lock.toml");
    let mut lock: toml::Table = toml::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    lock["files"]
      .as_table_mut()
      .unwrap()
      .remove(adopted)
      .unwrap();
    fs::write(&path, toml::to_string(&lock).unwrap()).unwrap();
    fs::write(repo.join(adopted), &mine).unwrap();
  };
  for (limit, fails_at) in [
    (mine.len() as u64 - 1, format!("{adopted}.orig")),
    (lock_size - 1, ".oi-gen/lock.toml".to_string()),
  ] {
    forget(&repo);
    let _ = fs::remove_file(repo.join(format!("{adopted}.orig")));
    let out = oi_gen_limited(&repo, &["render", "--adopt"], Some(limit));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
      stderr(&out).contains(&format!(
        "error: cannot write `./{fails_at}`: File too large"
      )),
      "{}",
      stderr(&out)
    );
    assert_eq!(temp_files(&repo), Vec::<String>::new());
    // The user's text is where it was, or saved aside, or both.
    let on_disk = fs::read_to_string(repo.join(adopted)).unwrap();
    let saved = fs::read_to_string(repo.join(format!("{adopted}.orig"))).ok();
    assert!(
      on_disk == mine || saved.as_deref() == Some(mine.as_str()),
      "after a failure at {fails_at}"
    );

    let out = oi_gen(&repo, &["render", "--adopt"]);
    assert!(
      out.status.success(),
      "after a failure at {fails_at}: {}",
      stderr(&out)
    );
    assert_eq!(fs::read(repo.join(adopted)).unwrap(), rendered);
    assert_eq!(
      fs::read_to_string(repo.join(format!("{adopted}.orig"))).unwrap(),
      mine,
      "after a failure at {fails_at}"
    );
    let check = oi_gen(&repo, &["render", "--check"]);
    assert!(
      check.status.success(),
      "after a failure at {fails_at}: {}",
      stderr(&check)
    );
  }
}
