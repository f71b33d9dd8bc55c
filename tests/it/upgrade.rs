//! `oi-gen upgrade`: hand edits carried forward by a three-way merge,
//! conflicts marked inline, dry runs that write nothing.

use std::fs;
use std::path::Path;

use crate::support::*;

const CI: &str = ".github/workflows/ci.yml";

/// What `upgrade` prints for the other files the moved build context changes.
const UPDATED: &str = "update   .github/workflows/deploy.yml\nupdate   README.md\n";

const FINDING_HELP: &str = "error: 1 finding against the blueprint\n  \
  = help: run `oi-gen render` to re-render (edited files need `--force`, or `oi-gen upgrade` to merge), or `oi-gen keep FILE…` to record an edit as intended\n";

/// Moves the frontend's build context, which changes the CI workflow. The
/// new context already holds the service's code, so nothing is seeded there.
fn change_blueprint(repo: &Path) {
  edit(
    repo,
    "platform.yaml",
    "build: frontend",
    "build: apps/frontend",
  );
  fs::create_dir_all(repo.join("apps/frontend")).unwrap();
  fs::write(repo.join("apps/frontend/Dockerfile"), "FROM scratch\n").unwrap();
}

#[test]
fn unedited_files_are_replaced() {
  let (_temp, repo) = init("openinnovation");
  change_blueprint(&repo);
  cli(&repo, &["upgrade"]).run().code(0).stderr("").stdout(format!(
    "update   {CI}\n{UPDATED}upgraded .: 0 created, 3 updated, 0 merged, 0 conflicts, 0 deleted, 2 kept\n"
  ));
  assert!(read(&repo, CI).contains("context: apps/frontend"));
  cli(&repo, &["render", "--check"])
    .run()
    .code(0)
    .stdout(". is up to date with the blueprint\n")
    .stderr("");
}

#[test]
fn an_edit_is_carried_across_an_upgrade() {
  let (_temp, repo) = init("openinnovation");
  edit(&repo, CI, "name: CI\n", "name: CI (ours)\n");
  change_blueprint(&repo);
  cli(&repo, &["upgrade"])
    .run()
    .code(0)
    .stderr("")
    .stdout(format!(
      "merge    {CI} (your edits carried over)\n{UPDATED}\
     upgraded .: 0 created, 2 updated, 1 merged, 0 conflicts, 0 deleted, 2 kept\n"
    ));
  let merged = read(&repo, CI);
  assert!(merged.contains("name: CI (ours)\n"));
  assert!(merged.contains("context: apps/frontend"));
  // Still a hand edit of a managed file, so still reported.
  let diff = diff_of_a_changed_line(
    CI,
    &merged.replacen("name: CI (ours)\n", "name: CI\n", 1),
    "name: CI",
    "name: CI (ours)",
  );
  cli(&repo, &["render", "--check"])
    .run()
    .code(1)
    .stdout("")
    .stderr(format!("edited by hand (1):\n  {CI}\n{diff}{FINDING_HELP}"));
}

#[test]
fn colliding_edits_get_conflict_markers_and_exit_1() {
  let (_temp, repo) = init("openinnovation");
  edit(&repo, CI, "context: frontend", "context: ./frontend");
  change_blueprint(&repo);
  cli(&repo, &["upgrade"])
    .run()
    .code(1)
    .stdout(format!(
      "conflict {CI} (your edits and oi-gen's collide)\n{UPDATED}\
       upgraded .: 0 created, 2 updated, 0 merged, 1 conflicts, 0 deleted, 2 kept\n"
    ))
    .stderr(format!(
      "conflict: {CI}\n\
       error: 1 file hold conflict markers (`<<<<<<< local` … `>>>>>>> oi-gen`)\n  \
       = help: resolve them, then run `oi-gen render --check`\n"
    ));
  let text = read(&repo, CI);
  assert!(
    text.contains("<<<<<<< local\n          context: ./frontend\n=======\n          context: apps/frontend\n>>>>>>> oi-gen\n"),
    "{text}"
  );
  assert!(
    !walkdir::WalkDir::new(&repo)
      .into_iter()
      .filter_map(Result::ok)
      .any(|e| e.path().extension().is_some_and(|x| x == "rej"))
  );
  // The diff back to the render drops the markers and the local side.
  let lines: Vec<&str> = text.lines().collect();
  let at = lines.iter().position(|l| *l == "<<<<<<< local").unwrap();
  let mut diff = format!(
    "--- a/{CI} (on disk)\n+++ b/{CI} (oi-gen)\n@@ -{0},11 +{0},7 @@\n",
    at - 2
  );
  for (i, line) in lines.iter().enumerate().take(at + 8).skip(at - 3) {
    let kept = i < at || i == at + 3 || i > at + 4;
    diff.push_str(&format!("{}{line}\n", if kept { ' ' } else { '-' }));
  }
  cli(&repo, &["render", "--check"])
    .run()
    .code(1)
    .stdout("")
    .stderr(format!(
      "unresolved conflicts (1):\n  {CI}\n{diff}{FINDING_HELP}"
    ));
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
  let (_temp, repo) = init("openinnovation");
  edit(&repo, CI, "name: CI\n", "name: CI (ours)\n");
  change_blueprint(&repo);
  let before = tree(&repo);
  // What a real upgrade writes, in a copy: each file changes in one line.
  let copy = tempfile::tempdir().unwrap();
  for (path, bytes) in &before {
    let target = copy.path().join(path);
    fs::create_dir_all(target.parent().unwrap()).unwrap();
    fs::write(target, bytes).unwrap();
  }
  cli(copy.path(), &["upgrade"]).run().code(0);
  let mut expected = String::new();
  for (verb, path) in [
    ("merge    ", format!("{CI} (your edits carried over)")),
    ("update   ", ".github/workflows/deploy.yml".to_string()),
    ("update   ", "README.md".to_string()),
  ] {
    let file = path.split(' ').next().unwrap();
    let (old, new) = (read(&repo, file), read(copy.path(), file));
    let changed: Vec<(&str, &str)> = old
      .lines()
      .zip(new.lines())
      .filter(|(a, b)| a != b)
      .collect();
    assert_eq!(changed.len(), 1, "{file}: {changed:?}");
    assert_eq!(old.lines().count(), new.lines().count(), "{file}");
    expected.push_str(&format!("{verb}{path}\n"));
    expected.push_str(&diff_of_a_changed_line(
      file,
      &new,
      changed[0].1,
      changed[0].0,
    ));
  }
  assert!(expected.contains("+          context: apps/frontend"));
  cli(&repo, &["upgrade", "--dry-run"])
    .run()
    .code(0)
    .stderr("")
    .stdout(expected);
  assert_eq!(before, tree(&repo));
}

#[test]
fn a_file_the_user_deleted_stays_deleted() {
  let (_temp, repo) = init("openinnovation");
  fs::remove_file(repo.join(".github/workflows/rollback.yml")).unwrap();
  change_blueprint(&repo);
  cli(&repo, &["upgrade"])
    .run()
    .code(0)
    .stderr("")
    .stdout(format!(
      "update   {CI}\n\
     update   .github/workflows/deploy.yml\n\
     keep     .github/workflows/rollback.yml (deleted by you)\n\
     update   README.md\n\
     upgraded .: 0 created, 3 updated, 0 merged, 0 conflicts, 0 deleted, 3 kept\n"
    ));
  assert!(!repo.join(".github/workflows/rollback.yml").exists());
}

#[test]
fn orphans_are_removed_when_unedited_and_kept_when_edited() {
  let (_temp, repo) = init("openinnovation");
  let lock_path = repo.join(".oi-gen/lock.toml");
  let mut lock: toml::Table = toml::from_str(&read(&repo, ".oi-gen/lock.toml")).unwrap();
  let files = lock["files"].as_table_mut().unwrap();
  for name in ["old/a.txt", "old/b.txt"] {
    fs::create_dir_all(repo.join("old")).unwrap();
    fs::write(repo.join(name), "old\n").unwrap();
    let mut entry = toml::Table::new();
    entry.insert("sha256".into(), oi_gen::lock::sha256(b"old\n").into());
    entry.insert("ownership".into(), "managed".into());
    files.insert(name.into(), entry.into());
  }
  fs::write(&lock_path, toml::to_string(&lock).unwrap()).unwrap();
  fs::write(repo.join("old/b.txt"), "mine\n").unwrap();
  cli(&repo, &["upgrade"]).run().code(0).stderr("").stdout(
    "delete   old/a.txt\n\
     keep     old/b.txt (no longer produced, but edited by you)\n\
     upgraded .: 0 created, 0 updated, 0 merged, 0 conflicts, 1 deleted, 1 kept\n",
  );
  assert!(!repo.join("old/a.txt").exists());
  assert_eq!(read(&repo, "old/b.txt"), "mine\n");
}

#[test]
fn a_second_upgrade_after_a_merge_changes_nothing() {
  let (_temp, repo) = init("openinnovation");
  edit(&repo, CI, "name: CI\n", "name: CI (ours)\n");
  change_blueprint(&repo);
  cli(&repo, &["upgrade"]).run().code(0);
  let before = tree(&repo);
  cli(&repo, &["upgrade"])
    .run()
    .code(0)
    .stderr("")
    .stdout("upgraded .: 0 created, 0 updated, 0 merged, 0 conflicts, 0 deleted, 2 kept\n");
  assert_eq!(before, tree(&repo));
}

/// While a file still holds the markers of an earlier upgrade, neither
/// another upgrade (which would take them for an edit and exit 0) nor a
/// render, forced or not, goes on; resolved, both do.
#[test]
fn unresolved_conflicts_stop_the_next_upgrade_and_render() {
  let (_temp, repo) = init("openinnovation");
  edit(&repo, CI, "context: frontend", "context: ./frontend");
  change_blueprint(&repo);
  cli(&repo, &["upgrade"]).run().code(1);
  let conflicted = read(&repo, CI);
  let before = tree(&repo);
  for (args, command) in [
    (&["upgrade"][..], "upgrade"),
    (&["upgrade", "--dry-run"][..], "upgrade"),
    (&["render"][..], "render"),
    (&["render", "--force"][..], "render"),
  ] {
    cli(&repo, args)
      .run()
      .code(1)
      .stdout("")
      .stderr(format!(
        "conflict: {CI}\n\
         error: 1 file still hold conflict markers from an earlier upgrade; nothing was written\n  \
         = help: resolve them (keep the lines you want, delete the `<<<<<<< local`, `=======` and `>>>>>>> oi-gen` lines), then run `oi-gen {command}` again\n"
      ));
    assert_eq!(tree(&repo), before, "{args:?} wrote nothing");
  }
  // Resolved by keeping oi-gen's side: the next upgrade goes through.
  let start = conflicted.find("<<<<<<< local\n").unwrap();
  let middle = conflicted.find("=======\n").unwrap();
  let end = conflicted.find(">>>>>>> oi-gen\n").unwrap();
  let resolved = format!(
    "{}{}{}",
    &conflicted[..start],
    &conflicted[middle + "=======\n".len()..end],
    &conflicted[end + ">>>>>>> oi-gen\n".len()..]
  );
  fs::write(repo.join(CI), resolved).unwrap();
  cli(&repo, &["upgrade"])
    .run()
    .code(0)
    .stdout("upgraded .: 0 created, 0 updated, 0 merged, 0 conflicts, 0 deleted, 2 kept\n");
  cli(&repo, &["render", "--check"]).run().code(0);
}
