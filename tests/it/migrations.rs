//! The Flyway project and `oi-gen migration new`, end to end.

use std::fs;
use std::path::Path;

use crate::support::*;

fn migrations(repo: &Path) -> Vec<String> {
  let mut names: Vec<String> = fs::read_dir(repo.join("db/migrations"))
    .unwrap()
    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
    .collect();
  names.sort();
  names
}

#[test]
fn init_seeds_the_flyway_project_and_a_baseline() {
  let (_temp, repo) = init("openinnovation");
  let toml = fs::read_to_string(repo.join("db/flyway.toml")).unwrap();
  assert!(toml.contains("cleanDisabled = true"));
  assert!(toml.contains("[environments.staging]"));
  assert!(toml.contains("[environments.production]"));
  assert!(toml.contains("password = \"${env.FLYWAY_PASSWORD}\""));
  assert_eq!(migrations(&repo), ["V1__baseline.sql"]);
  let baseline = fs::read_to_string(repo.join("db/migrations/V1__baseline.sql")).unwrap();
  assert!(baseline.starts_with("-- Created by oi-gen"), "{baseline}");
}

#[test]
fn no_database_no_flyway() {
  let (_temp, repo) = init("acme-shop");
  assert!(!repo.join("db").exists());
  let run = cli(&repo, &["migration", "new", "x"]).run();
  assert_eq!(run.code, 2);
  assert!(
    run.stderr.contains("has no spec.database"),
    "{}",
    run.stderr
  );
}

#[test]
fn migration_new_numbers_names_and_is_not_drift() {
  let (_temp, repo) = init("openinnovation");
  let run = cli(&repo, &["migration", "new", "Add", "users", "table!"]).run();
  assert_eq!(run.code, 0, "{}", run.stderr);
  assert!(
    run
      .stdout
      .trim_end()
      .ends_with("db/migrations/V2__add_users_table.sql"),
    "{}",
    run.stdout
  );
  let run = cli(&repo, &["migration", "new", "  --weird   description--  "]).run();
  assert_eq!(run.code, 0, "{}", run.stderr);
  assert_eq!(
    migrations(&repo),
    [
      "V1__baseline.sql",
      "V2__add_users_table.sql",
      "V3__weird_description.sql"
    ]
  );
  let check = cli(&repo, &["render", "--check"]).run();
  assert_eq!(check.code, 0, "{}", check.stderr);
  let empty = cli(&repo, &["migration", "new", "!!!"]).run();
  assert_eq!(empty.code, 2);
}

#[test]
fn clashing_versions_are_refused_and_reported() {
  let (_temp, repo) = init("openinnovation");
  fs::write(repo.join("db/migrations/V1.0__again.sql"), "select 1;\n").unwrap();
  let run = cli(&repo, &["migration", "new", "more"]).run();
  assert_eq!(run.code, 2);
  assert!(
    run.stderr.contains("has the same version as"),
    "{}",
    run.stderr
  );
  let check = cli(&repo, &["render", "--check"]).run();
  assert_eq!(check.code, 1);
  assert!(
    check.stderr.contains("invalid migrations (1):"),
    "{}",
    check.stderr
  );
}

#[test]
fn bad_names_are_reported_by_check() {
  let (_temp, repo) = init("openinnovation");
  fs::write(
    repo.join("db/migrations/V2_missing_separator.sql"),
    "select 1;\n",
  )
  .unwrap();
  let check = cli(&repo, &["render", "--check"]).run();
  assert_eq!(check.code, 1);
  assert!(
    check
      .stderr
      .contains("has no `__` between the version and the description"),
    "{}",
    check.stderr
  );
}

#[test]
fn editing_a_released_migration_is_reported() {
  let (_temp, repo) = init("openinnovation");
  assert_eq!(cli(&repo, &["render"]).run().code, 0);
  let path = repo.join("db/migrations/V1__baseline.sql");
  let text = fs::read_to_string(&path).unwrap();
  fs::write(&path, format!("{text}CREATE TABLE sneaky (id int);\n")).unwrap();
  let check = cli(&repo, &["render", "--check"]).run();
  assert_eq!(check.code, 1);
  assert!(
    check.stderr.contains("released migrations edited (1):"),
    "{}",
    check.stderr
  );
}

#[test]
fn the_baseline_is_not_recreated_once_the_user_has_migrations() {
  let (_temp, repo) = init("openinnovation");
  assert_eq!(cli(&repo, &["migration", "new", "second"]).run().code, 0);
  fs::remove_file(repo.join("db/migrations/V1__baseline.sql")).unwrap();
  assert_eq!(cli(&repo, &["render"]).run().code, 0);
  assert_eq!(migrations(&repo), ["V2__second.sql"]);
  // Even with a fresh lock, an existing migrations folder is the user's.
  fs::remove_file(repo.join(".oi-gen/lock.toml")).unwrap();
  let run = cli(&repo, &["render", "--force"]).run();
  assert_eq!(run.code, 0, "{}", run.stderr);
  assert_eq!(migrations(&repo), ["V2__second.sql"]);
}
