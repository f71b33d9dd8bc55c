//! Crash and concurrency safety: SIGKILL at random points, two writers at once.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn oi_gen(dir: &Path, args: &[&str]) -> std::process::Output {
  Command::new(env!("CARGO_BIN_EXE_oi-gen"))
    .args(args)
    .current_dir(dir)
    .output()
    .expect("oi-gen runs")
}

fn setup(services: usize) -> tempfile::TempDir {
  let temp = tempfile::tempdir().unwrap();
  fs::write(
    temp.path().join("blueprint.yaml"),
    crate::support::synth::blueprint(services),
  )
  .unwrap();
  let out = oi_gen(temp.path(), &["init", "repo", "--from", "blueprint.yaml"]);
  assert!(
    out.status.success(),
    "{}",
    String::from_utf8_lossy(&out.stderr)
  );
  temp
}

/// Leftover temporary files from interrupted writes.
fn temp_files(root: &Path) -> Vec<String> {
  walkdir::WalkDir::new(root)
    .into_iter()
    .filter_map(Result::ok)
    .map(|e| e.path().display().to_string())
    .filter(|p| p.ends_with(".oi-gen-tmp"))
    .collect()
}

/// Runs `command` in `repo` once per round with the blueprint's replicas
/// changed, SIGKILLs it after a random share of a full run (seeded), then
/// checks the next run of `command` finishes, `render --check` is clean, no
/// temporary file is left, and `after` holds.
#[cfg(unix)]
fn kill_and_recover(
  repo: &Path,
  command: &str,
  rounds: usize,
  mut seed: u64,
  after: impl Fn(usize),
) {
  let blueprint = repo.join("platform.yaml");
  let original = fs::read_to_string(&blueprint).unwrap();

  // How long a full run takes, to spread the kills over it.
  let variant =
    |round: usize| original.replace("replicas: 2", &format!("replicas: {}", 2 + round % 3));
  fs::write(&blueprint, variant(1)).unwrap();
  let start = Instant::now();
  assert!(oi_gen(repo, &[command]).status.success());
  let full = start.elapsed().max(Duration::from_millis(5));

  for round in 0..rounds {
    fs::write(&blueprint, variant(round)).unwrap();
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    let delay = full.mul_f64((seed % 1000) as f64 / 1000.0);
    let mut child = Command::new(env!("CARGO_BIN_EXE_oi-gen"))
      .arg(command)
      .current_dir(repo)
      .stdout(Stdio::null())
      .stderr(Stdio::null())
      .spawn()
      .unwrap();
    std::thread::sleep(delay);
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();

    // Every file is either fully old or fully new: the next run finds no
    // hand edits and no conflicts, finishes, and leaves the tree clean.
    let rerun = oi_gen(repo, &[command]);
    assert!(
      rerun.status.success(),
      "round {round}: {}",
      String::from_utf8_lossy(&rerun.stderr)
    );
    let check = oi_gen(repo, &["render", "--check"]);
    assert!(
      check.status.success(),
      "round {round}: {}",
      String::from_utf8_lossy(&check.stderr)
    );
    assert_eq!(temp_files(repo), Vec::<String>::new(), "round {round}");
    after(round);
  }
}

#[cfg(unix)]
#[test]
fn a_killed_render_is_recovered_by_the_next_one() {
  let temp = setup(150);
  kill_and_recover(
    &temp.path().join("repo"),
    "render",
    25,
    0x9e37_79b9_7f4a_7c15,
    |_| {},
  );
}

#[test]
fn two_writers_never_interleave() {
  let temp = setup(150);
  let repo = temp.path().join("repo");
  let blueprint = repo.join("platform.yaml");
  let text = fs::read_to_string(&blueprint)
    .unwrap()
    .replace("replicas: 2", "replicas: 3");
  fs::write(&blueprint, text).unwrap();
  let spawn = || {
    Command::new(env!("CARGO_BIN_EXE_oi-gen"))
      .arg("render")
      .current_dir(&repo)
      .stdout(Stdio::piped())
      .stderr(Stdio::piped())
      .spawn()
      .unwrap()
  };
  let (first, second) = (spawn(), spawn());
  let first = first.wait_with_output().unwrap();
  let second = second.wait_with_output().unwrap();
  assert!(
    first.status.success(),
    "{}",
    String::from_utf8_lossy(&first.stderr)
  );
  assert!(
    second.status.success(),
    "{}",
    String::from_utf8_lossy(&second.stderr)
  );
  let check = oi_gen(&repo, &["render", "--check"]);
  assert!(
    check.status.success(),
    "{}",
    String::from_utf8_lossy(&check.stderr)
  );
}

#[test]
fn a_check_waits_for_a_render_in_progress() {
  let temp = setup(3);
  let repo = temp.path().join("repo");
  // A render in progress: it holds the run lock and has written half its
  // files, so the tree differs from the render for now.
  let lock = fs::OpenOptions::new()
    .write(true)
    .open(repo.join(".oi-gen/run.lock"))
    .unwrap();
  lock.lock().unwrap();
  let file = repo.join("infra/vpc.tf");
  let original = fs::read_to_string(&file).unwrap();
  fs::write(&file, format!("{original}# half written\n")).unwrap();
  let mut check = Command::new(env!("CARGO_BIN_EXE_oi-gen"))
    .args(["render", "--check"])
    .current_dir(&repo)
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
  // The check says it waits before it reads anything; only then does the
  // render finish, however long the check took to start.
  let mut stderr = std::io::BufReader::new(check.stderr.take().unwrap());
  let mut said = String::new();
  loop {
    let mut line = String::new();
    let read = std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
    said.push_str(&line);
    if read == 0 || line.contains("waiting: another oi-gen is writing to .") {
      break;
    }
  }
  assert!(
    said.contains("waiting: another oi-gen is writing to ."),
    "the check did not wait for the run lock: {said}"
  );
  // The render finishes: the tree is whole again, and the lock is released.
  fs::write(&file, original).unwrap();
  drop(lock);
  let out = check.wait_with_output().unwrap();
  assert!(
    out.status.success(),
    "the check compared a half-written tree: {}",
    String::from_utf8_lossy(&out.stdout)
  );
}

fn set_replicas(blueprint: &Path, from: u32, to: u32) {
  let text = fs::read_to_string(blueprint).unwrap();
  let from = format!("      replicas: {from}\n");
  assert!(text.contains(&from));
  fs::write(
    blueprint,
    text.replace(&from, &format!("      replicas: {to}\n")),
  )
  .unwrap();
}

#[test]
fn a_run_killed_before_its_lock_is_written_leaves_no_false_edits() {
  let temp = setup(3);
  let repo = temp.path().join("repo");
  let blueprint = repo.join("platform.yaml");
  let lock = repo.join(".oi-gen/lock.toml");

  // A render that wrote its files and its base, then was killed before the
  // lock: the lock still records the files as they were before.
  let old_lock = fs::read(&lock).unwrap();
  set_replicas(&blueprint, 2, 3);
  assert!(oi_gen(&repo, &["render"]).status.success());
  fs::write(&lock, &old_lock).unwrap();
  // The next render with another change takes none of them for a hand edit.
  set_replicas(&blueprint, 3, 4);
  let out = oi_gen(&repo, &["render"]);
  assert!(
    out.status.success(),
    "{}",
    String::from_utf8_lossy(&out.stderr)
  );
  assert!(oi_gen(&repo, &["render", "--check"]).status.success());

  // Nor does an upgrade: it merges nothing and writes no conflict.
  let old_lock = fs::read(&lock).unwrap();
  set_replicas(&blueprint, 4, 5);
  assert!(oi_gen(&repo, &["render"]).status.success());
  fs::write(&lock, &old_lock).unwrap();
  set_replicas(&blueprint, 5, 2);
  let out = oi_gen(&repo, &["upgrade"]);
  assert!(
    out.status.success(),
    "{}",
    String::from_utf8_lossy(&out.stderr)
  );
  let stdout = String::from_utf8_lossy(&out.stdout);
  assert!(stdout.contains(" 0 merged, 0 conflicts,"), "{stdout}");
  assert!(oi_gen(&repo, &["render", "--check"]).status.success());
}

#[test]
fn a_lock_edited_to_match_a_hand_edit_does_not_hide_it() {
  let temp = setup(3);
  let repo = temp.path().join("repo");
  let file = repo.join("charts/svc-0001/values.yaml");
  let lock_path = repo.join(".oi-gen/lock.toml");
  let original = fs::read_to_string(&file).unwrap();
  let edited = format!("{original}# a hand edit\n");
  fs::write(&file, &edited).unwrap();
  // The lock is edited to record the edit as if oi-gen had written it.
  let lock = fs::read_to_string(&lock_path).unwrap();
  let old = oi_gen::lock::sha256(original.as_bytes());
  assert!(lock.contains(&old));
  fs::write(
    &lock_path,
    lock.replace(&old, &oi_gen::lock::sha256(edited.as_bytes())),
  )
  .unwrap();
  set_replicas(&repo.join("platform.yaml"), 2, 3);
  let out = oi_gen(&repo, &["render"]);
  assert_eq!(
    out.status.code(),
    Some(1),
    "{}",
    String::from_utf8_lossy(&out.stderr)
  );
  assert!(
    String::from_utf8_lossy(&out.stderr)
      .contains("`charts/svc-0001/values.yaml` was edited by hand since the last render"),
    "{}",
    String::from_utf8_lossy(&out.stderr)
  );
  assert_eq!(fs::read_to_string(&file).unwrap(), edited);
}

#[cfg(unix)]
#[test]
fn a_killed_upgrade_is_recovered_by_the_next_one() {
  let temp = setup(60);
  let repo = temp.path().join("repo");
  // A hand edit the upgrades carry along, recorded as intended.
  let edited = repo.join("infra/vpc.tf");
  let vpc = fs::read_to_string(&edited).unwrap();
  fs::write(&edited, format!("{vpc}# the team's own note\n")).unwrap();
  assert!(oi_gen(&repo, &["keep", "infra/vpc.tf"]).status.success());
  kill_and_recover(&repo, "upgrade", 15, 0x2545_f491_4f6c_dd1d, |round| {
    assert!(
      fs::read_to_string(&edited)
        .unwrap()
        .ends_with("# the team's own note\n"),
      "round {round}"
    );
  });
}
