//! The base, `.oi-gen/base/`: one shard per service or folder, so a change
//! rewrites the shards of the files it changes and no other; a run stopped
//! between two shards, between the shards and the files, or between the
//! files and the lock is finished by the next one; and the one-file base of
//! earlier versions, `.oi-gen/base.txt`, is read and then moved into shards.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use crate::support::{base_shards, base_texts, snapshot, synth, to_old_base};

fn oi_gen(dir: &Path, args: &[&str]) -> Output {
  Command::new(env!("CARGO_BIN_EXE_oi-gen"))
    .args(args)
    .current_dir(dir)
    .env("NO_COLOR", "1")
    .output()
    .expect("oi-gen runs")
}

/// Runs `oi-gen ARGS` in `dir`, which must succeed; its standard output.
fn ok(dir: &Path, args: &[&str]) -> String {
  let out = oi_gen(dir, args);
  assert!(
    out.status.success(),
    "oi-gen {args:?}: {}{}",
    String::from_utf8_lossy(&out.stdout),
    String::from_utf8_lossy(&out.stderr)
  );
  String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A repository of the synthetic blueprint with `services` services.
fn setup(services: usize) -> (tempfile::TempDir, std::path::PathBuf) {
  let temp = tempfile::tempdir().unwrap();
  fs::write(
    temp.path().join("platform.yaml"),
    synth::blueprint(services),
  )
  .unwrap();
  ok(temp.path(), &["init", "repo", "--from", "platform.yaml"]);
  let repo = temp.path().join("repo");
  (temp, repo)
}

/// Replaces every `from` in the blueprint.
fn edit_all(repo: &Path, from: &str, to: &str) {
  let path = repo.join("platform.yaml");
  let text = fs::read_to_string(&path).unwrap();
  assert!(text.contains(from), "`{from}` not in the blueprint");
  fs::write(path, text.replace(from, to)).unwrap();
}

fn edit(repo: &Path, path: &str, from: &str, to: &str) {
  let text = fs::read_to_string(repo.join(path)).unwrap();
  assert!(text.contains(from), "`{from}` not in {path}");
  fs::write(repo.join(path), text.replacen(from, to, 1)).unwrap();
}

/// The shard a path of these tests falls into: its first two folders (or
/// its folder, or the top), `/` written `+`.
fn shard(path: &str) -> String {
  let parts: Vec<&str> = path.split('/').collect();
  match parts.len() {
    1 => "+root.txt".to_string(),
    2 => format!("{}.txt", parts[0]),
    _ => format!("{}+{}.txt", parts[0], parts[1]),
  }
}

/// Each shard's file: its inode (a rewrite renames a new file into place)
/// and its text.
#[cfg(unix)]
fn shard_files(repo: &Path) -> BTreeMap<String, (u64, Vec<u8>)> {
  use std::os::unix::fs::MetadataExt as _;
  base_shards(repo)
    .into_iter()
    .map(|(name, text)| {
      let inode = fs::metadata(repo.join(".oi-gen/base").join(&name))
        .unwrap()
        .ino();
      (name, (inode, text))
    })
    .collect()
}

/// The shards rewritten between two listings, and those gone.
#[cfg(unix)]
fn rewritten(
  before: &BTreeMap<String, (u64, Vec<u8>)>,
  after: &BTreeMap<String, (u64, Vec<u8>)>,
) -> (BTreeSet<String>, BTreeSet<String>) {
  let written = after
    .iter()
    .filter(|(name, file)| before.get(*name) != Some(*file))
    .map(|(name, _)| name.clone())
    .collect();
  let gone = before
    .keys()
    .filter(|name| !after.contains_key(*name))
    .cloned()
    .collect();
  (written, gone)
}

/// A change to one service's port rewrites the shards of the files it
/// changes (its chart's, and the top one's for the README) and no other; a
/// render that changes nothing rewrites no shard.
#[cfg(unix)]
#[test]
fn a_change_to_one_service_rewrites_only_its_shards() {
  let (_temp, repo) = setup(6);
  let before = shard_files(&repo);
  let files = snapshot(&repo);
  for name in [
    "+root.txt",
    ".github+workflows.txt",
    "infra.txt",
    "charts+svc-0002.txt",
    "charts+svc-0003.txt",
  ] {
    assert!(before.contains_key(name), "{name}: {:?}", before.keys());
  }
  // Every managed file's text is in its own shard.
  let lock: toml::Table =
    toml::from_str(&fs::read_to_string(repo.join(".oi-gen/lock.toml")).unwrap()).unwrap();
  let texts = base_texts(&repo);
  for (path, entry) in lock["files"].as_table().unwrap() {
    if entry["ownership"].as_str() != Some("seeded") {
      let text = String::from_utf8(files[path].clone()).unwrap();
      assert!(texts.contains(&(path.clone(), text)), "{path}");
    }
  }

  edit(
    &repo,
    "platform.yaml",
    "- name: svc-0002\n      port: 8080\n",
    "- name: svc-0002\n      port: 9090\n",
  );
  ok(&repo, &["render"]);
  let after = shard_files(&repo);
  let changed: BTreeSet<String> = snapshot(&repo)
    .iter()
    .filter(|(path, text)| {
      !path.starts_with(".oi-gen/") && *path != "platform.yaml" && files.get(*path) != Some(*text)
    })
    .map(|(path, _)| shard(path))
    .collect();
  assert!(
    changed.contains("charts+svc-0002.txt") && changed.len() <= 2,
    "{changed:?}"
  );
  assert_eq!(rewritten(&before, &after), (changed, BTreeSet::new()));
  // The rewritten chart shard holds the old values next to the new ones
  // (for a run stopped before its lock), the others only what they held.
  let values = base_texts(&repo)
    .into_iter()
    .filter(|(path, _)| path == "charts/svc-0002/values.yaml")
    .count();
  assert_eq!(values, 2);

  ok(&repo, &["render"]);
  assert_eq!(shard_files(&repo), after, "a render that changes nothing");
  ok(&repo, &["render", "--check"]);
}

/// A service removed from the blueprint takes its shard with it, once the
/// lock no longer records its files.
#[cfg(unix)]
#[test]
fn a_removed_service_loses_its_shard() {
  let (_temp, repo) = setup(6);
  assert!(base_shards(&repo).contains_key("charts+svc-0005.txt"));
  fs::write(repo.join("platform.yaml"), synth::blueprint(5)).unwrap();
  let out = ok(&repo, &["render"]);
  assert!(!out.contains(" 0 deleted"), "{out}");
  let shards = base_shards(&repo);
  assert!(
    !shards.contains_key("charts+svc-0005.txt"),
    "{:?}",
    shards.keys()
  );
  assert!(shards.contains_key("charts+svc-0004.txt"));
  assert!(
    !base_texts(&repo)
      .iter()
      .any(|(path, _)| path.starts_with("charts/svc-0005/")),
  );
  ok(&repo, &["render", "--check"]);
}

/// Where a run is stopped: after the first shards it writes (in the order
/// it writes them), after every shard, after every shard and file (but
/// before the lock).
#[derive(Debug, Clone, Copy)]
enum Stop {
  BetweenShards,
  BeforeTheFiles,
  BeforeTheLock,
}

/// The repository as `command` leaves it when stopped at `stop`: made from
/// the same run, undisturbed, in a copy. Returns the copy's tree.
fn stopped(repo: &Path, command: &str, stop: Stop) -> BTreeMap<String, Vec<u8>> {
  let before = snapshot(repo);
  let probe = tempfile::tempdir().unwrap();
  for (path, text) in &before {
    let target = probe.path().join(path);
    fs::create_dir_all(target.parent().unwrap()).unwrap();
    fs::write(target, text).unwrap();
  }
  ok(probe.path(), &[command]);
  let after = snapshot(probe.path());
  let written: Vec<(&String, &Vec<u8>)> = after
    .iter()
    .filter(|(path, text)| before.get(*path) != Some(*text) && *path != ".oi-gen/lock.toml")
    .collect();
  let shards: Vec<_> = written
    .iter()
    .filter(|(path, _)| path.starts_with(".oi-gen/base/"))
    .collect();
  assert!(
    shards.len() >= 4,
    "{:?}",
    shards.iter().map(|s| s.0).collect::<Vec<_>>()
  );
  let copied: Vec<_> = match stop {
    Stop::BetweenShards => shards[..shards.len() / 2].to_vec(),
    Stop::BeforeTheFiles => shards,
    Stop::BeforeTheLock => written.iter().collect(),
  };
  for (path, text) in copied {
    let target = repo.join(path);
    fs::create_dir_all(target.parent().unwrap()).unwrap();
    fs::write(target, text).unwrap();
  }
  after
}

/// A render stopped between two shards, between the shards and the files,
/// or between the files and the lock: the next render finishes without
/// `--force`, takes no file for a hand edit, keeps a kept customization,
/// and leaves what an undisturbed run leaves.
#[test]
fn a_render_stopped_between_its_writes_is_finished_by_the_next_one() {
  let (_temp, repo) = setup(6);
  let kept = "cluster/addons/metrics-server/values.yaml";
  let text = fs::read_to_string(repo.join(kept)).unwrap();
  fs::write(repo.join(kept), format!("{text}# the team's own note\n")).unwrap();
  ok(&repo, &["keep", kept]);
  for (round, stop) in [
    Stop::BetweenShards,
    Stop::BeforeTheFiles,
    Stop::BeforeTheLock,
  ]
  .into_iter()
  .enumerate()
  {
    // A new name changes most files, and every shard.
    let name = format!("name: synthetic-{round}\n");
    let was = if round == 0 {
      "name: synthetic\n".to_string()
    } else {
      format!("name: synthetic-{}\n", round - 1)
    };
    edit(
      &repo,
      "platform.yaml",
      &format!("\n  {was}"),
      &format!("\n  {name}"),
    );
    let undisturbed = stopped(&repo, "render", stop);
    let out = ok(&repo, &["render"]);
    assert!(!out.contains("conflict"), "{stop:?}: {out}");
    ok(&repo, &["render", "--check"]);
    assert_eq!(snapshot(&repo), undisturbed, "{stop:?}");
    assert!(
      fs::read_to_string(repo.join(kept))
        .unwrap()
        .ends_with("# the team's own note\n")
    );
  }
}

/// An upgrade stopped at the same points, while it merges a kept hand
/// edit: the next upgrade merges it once, with no conflict, as an
/// undisturbed one.
#[test]
fn an_upgrade_stopped_between_its_writes_is_finished_by_the_next_one() {
  let (_temp, repo) = setup(6);
  let edited = "charts/svc-0001/values.yaml";
  let note = "# tuned by hand\n";
  let text = fs::read_to_string(repo.join(edited)).unwrap();
  fs::write(repo.join(edited), format!("{note}{text}")).unwrap();
  ok(&repo, &["keep", edited]);
  for (round, stop) in [
    Stop::BetweenShards,
    Stop::BeforeTheFiles,
    Stop::BeforeTheLock,
  ]
  .into_iter()
  .enumerate()
  {
    // New replicas change the edited file, a new name every shard.
    edit_all(
      &repo,
      &format!("replicas: {}\n", 2 + round),
      &format!("replicas: {}\n", 3 + round),
    );
    edit(
      &repo,
      "platform.yaml",
      "  name: synthetic",
      "  name: synthetic-x",
    );
    let undisturbed = stopped(&repo, "upgrade", stop);
    let out = ok(&repo, &["upgrade"]);
    assert!(out.contains(" 0 conflicts,"), "{stop:?}: {out}");
    ok(&repo, &["render", "--check"]);
    assert_eq!(snapshot(&repo), undisturbed, "{stop:?}");
    let now = fs::read_to_string(repo.join(edited)).unwrap();
    assert!(now.starts_with(note), "{stop:?}: {now}");
    assert_eq!(now.matches(note).count(), 1, "{stop:?}: {now}");
    assert!(
      now.contains(&format!("replicaCount: {}\n", 3 + round)),
      "{now}"
    );
  }
}

/// A repository rendered by an earlier version, with its base in
/// `.oi-gen/base.txt`: the check is clean, a render that changes nothing
/// writes nothing, an upgrade merges a kept hand edit against that base,
/// and moves the base into shards.
#[test]
fn a_base_of_earlier_versions_is_read_then_moved_into_shards() {
  let (_temp, repo) = setup(4);
  let shards = base_shards(&repo);
  to_old_base(&repo);
  let old = repo.join(".oi-gen/base.txt");
  let old_text = fs::read(&old).unwrap();
  assert!(!repo.join(".oi-gen/base").exists());
  ok(&repo, &["render", "--check"]);
  let out = ok(&repo, &["render"]);
  assert!(out.contains(" 0 created, 0 updated, 0 deleted,"), "{out}");
  assert_eq!(fs::read(&old).unwrap(), old_text);
  assert!(!repo.join(".oi-gen/base").exists());

  // The merge needs the base: without it, the edit and the new render
  // would conflict over the whole file.
  let edited = "charts/svc-0001/values.yaml";
  let text = fs::read_to_string(repo.join(edited)).unwrap();
  fs::write(repo.join(edited), format!("# tuned by hand\n{text}")).unwrap();
  ok(&repo, &["keep", edited]);
  edit_all(&repo, "replicas: 2\n", "replicas: 3\n");
  let out = ok(&repo, &["upgrade"]);
  assert!(
    out.contains(&format!("merge    {edited}")) && out.contains(" 0 conflicts,"),
    "{out}"
  );
  let merged = fs::read_to_string(repo.join(edited)).unwrap();
  assert!(
    merged.starts_with("# tuned by hand\n") && merged.contains("replicaCount: 3\n"),
    "{merged}"
  );
  assert!(!old.exists(), "the old base is removed");
  let now = base_shards(&repo);
  assert_eq!(
    now.keys().collect::<Vec<_>>(),
    shards.keys().collect::<Vec<_>>()
  );
  ok(&repo, &["render", "--check"]);
  // The next upgrade reads the shards: nothing left to merge.
  let out = ok(&repo, &["upgrade"]);
  assert!(out.contains(" 0 merged, 0 conflicts,"), "{out}");
}

/// A render of a repository of the old base, stopped after writing the
/// shards, or after its files too, leaves the old base (the lock still
/// records the run before); the next render finishes the move.
#[test]
fn a_move_into_shards_stopped_before_the_lock_is_finished_by_the_next_render() {
  for stop in [
    Stop::BetweenShards,
    Stop::BeforeTheFiles,
    Stop::BeforeTheLock,
  ] {
    let (_temp, repo) = setup(4);
    to_old_base(&repo);
    edit_all(&repo, "replicas: 2\n", "replicas: 3\n");
    let undisturbed = stopped(&repo, "render", stop);
    assert!(!undisturbed.contains_key(".oi-gen/base.txt"));
    assert!(repo.join(".oi-gen/base.txt").exists());
    ok(&repo, &["render"]);
    assert_eq!(snapshot(&repo), undisturbed, "{stop:?}");
    ok(&repo, &["render", "--check"]);
  }
}

/// `render --rebuild-lock` rebuilds a lost lock from the shards, and from
/// the base of earlier versions: to the lock that was lost, and with a
/// blueprint changed since, the files out of date are oi-gen's (the base
/// holds their text) and are updated, not refused as files it never wrote.
#[test]
fn a_lock_is_rebuilt_from_either_base() {
  for old in [false, true] {
    let (_temp, repo) = setup(4);
    let lock = repo.join(".oi-gen/lock.toml");
    let good: toml::Table = toml::from_str(&fs::read_to_string(&lock).unwrap()).unwrap();
    if old {
      to_old_base(&repo);
    }
    let base = snapshot(&repo);
    fs::remove_file(&lock).unwrap();
    ok(&repo, &["render", "--rebuild-lock"]);
    let rebuilt: toml::Table = toml::from_str(&fs::read_to_string(&lock).unwrap()).unwrap();
    assert_eq!(rebuilt["files"], good["files"], "old base: {old}");
    ok(&repo, &["render", "--check"]);

    // Again, from the same base (the render above moved an old one into
    // shards), with a blueprint changed since.
    let _ = fs::remove_dir_all(repo.join(".oi-gen/base"));
    for (path, text) in &base {
      let target = repo.join(path);
      fs::create_dir_all(target.parent().unwrap()).unwrap();
      fs::write(target, text).unwrap();
    }
    fs::remove_file(&lock).unwrap();
    edit_all(&repo, "replicas: 2\n", "replicas: 3\n");
    let out = ok(&repo, &["render", "--rebuild-lock"]);
    assert!(!out.contains(" 0 updated"), "old base: {old}: {out}");
    ok(&repo, &["render", "--check"]);
  }
}
