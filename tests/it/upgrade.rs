//! `oi-gen upgrade`: hand edits carried forward by a three-way merge,
//! conflicts marked inline, dry runs that write nothing.

use std::fs;
use std::path::Path;

use crate::support::*;

const CI: &str = ".github/workflows/ci.yml";

/// Moves the frontend's build context, which changes the CI workflow.
fn change_blueprint(repo: &Path) {
  edit(
    repo,
    "platform.yaml",
    "build: frontend",
    "build: apps/frontend",
  );
}

#[test]
fn unedited_files_are_replaced() {
  let (_temp, repo) = init("openinnovation");
  change_blueprint(&repo);
  let run = cli(&repo, &["upgrade"]).run();
  assert_eq!(run.code, 0, "{}", run.stderr);
  assert!(
    run.stdout.contains(&format!("update   {CI}")),
    "{}",
    run.stdout
  );
  assert!(read(&repo, CI).contains("context: apps/frontend"));
  assert_eq!(cli(&repo, &["render", "--check"]).run().code, 0);
}

#[test]
fn an_edit_is_carried_across_an_upgrade() {
  let (_temp, repo) = init("openinnovation");
  edit(&repo, CI, "name: CI\n", "name: CI (ours)\n");
  change_blueprint(&repo);
  let run = cli(&repo, &["upgrade"]).run();
  assert_eq!(run.code, 0, "{}", run.stderr);
  assert!(
    run
      .stdout
      .contains(&format!("merge    {CI} (your edits carried over)")),
    "{}",
    run.stdout
  );
  let merged = read(&repo, CI);
  assert!(merged.contains("name: CI (ours)\n"));
  assert!(merged.contains("context: apps/frontend"));
  // Still a hand edit of a managed file, so still reported.
  let check = cli(&repo, &["render", "--check"]).run();
  assert_eq!(check.code, 1);
  assert!(
    check.stderr.contains("edited by hand (1):"),
    "{}",
    check.stderr
  );
}

#[test]
fn colliding_edits_get_conflict_markers_and_exit_1() {
  let (_temp, repo) = init("openinnovation");
  edit(&repo, CI, "context: frontend", "context: ./frontend");
  change_blueprint(&repo);
  let run = cli(&repo, &["upgrade"]).run();
  assert_eq!(run.code, 1, "{}", run.stderr);
  assert!(
    run.stderr.contains(&format!("conflict: {CI}")),
    "{}",
    run.stderr
  );
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
  let check = cli(&repo, &["render", "--check"]).run();
  assert_eq!(check.code, 1);
  assert!(
    check.stderr.contains("unresolved conflicts (1):"),
    "{}",
    check.stderr
  );
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
  let (_temp, repo) = init("openinnovation");
  edit(&repo, CI, "name: CI\n", "name: CI (ours)\n");
  change_blueprint(&repo);
  let before = tree(&repo);
  let run = cli(&repo, &["upgrade", "--dry-run"]).run();
  assert_eq!(run.code, 0, "{}", run.stderr);
  assert!(
    run.stdout.contains(&format!("merge    {CI}")),
    "{}",
    run.stdout
  );
  assert!(
    run.stdout.contains("+          context: apps/frontend"),
    "{}",
    run.stdout
  );
  assert_eq!(before, tree(&repo));
}

#[test]
fn a_file_the_user_deleted_stays_deleted() {
  let (_temp, repo) = init("openinnovation");
  fs::remove_file(repo.join(".github/workflows/rollback.yml")).unwrap();
  change_blueprint(&repo);
  let run = cli(&repo, &["upgrade"]).run();
  assert_eq!(run.code, 0, "{}", run.stderr);
  assert!(
    run
      .stdout
      .contains("keep     .github/workflows/rollback.yml (deleted by you)"),
    "{}",
    run.stdout
  );
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
  let run = cli(&repo, &["upgrade"]).run();
  assert_eq!(run.code, 0, "{}", run.stderr);
  assert!(run.stdout.contains("delete   old/a.txt"), "{}", run.stdout);
  assert!(
    run
      .stdout
      .contains("keep     old/b.txt (no longer produced, but edited by you)")
  );
  assert!(!repo.join("old/a.txt").exists());
  assert_eq!(read(&repo, "old/b.txt"), "mine\n");
}

#[test]
fn a_second_upgrade_after_a_merge_changes_nothing() {
  let (_temp, repo) = init("openinnovation");
  edit(&repo, CI, "name: CI\n", "name: CI (ours)\n");
  change_blueprint(&repo);
  assert_eq!(cli(&repo, &["upgrade"]).run().code, 0);
  let before = tree(&repo);
  let again = cli(&repo, &["upgrade"]).run();
  assert_eq!(again.code, 0, "{}", again.stderr);
  assert_eq!(before, tree(&repo));
}
