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

const FINDING_HELP: &str = "error: 1 finding against the blueprint\n  \
  = help: run `oi-gen render` to re-render (edited files need `--force`, or `oi-gen upgrade` to merge), or `oi-gen keep FILE…` to record an edit as intended\n";

#[test]
fn no_database_no_flyway() {
  let (_temp, repo) = init("acme-shop");
  assert!(!repo.join("db").exists());
  cli(&repo, &["migration", "new", "x"])
    .run()
    .code(2)
    .stdout("")
    .stderr(
      "error: `platform.yaml` has no spec.database, so there are no migrations\n  \
       = help: add spec.database to the blueprint and run `oi-gen render`\n",
    );
}

#[test]
fn migration_new_numbers_names_and_is_not_drift() {
  let (_temp, repo) = init("openinnovation");
  cli(&repo, &["migration", "new", "Add", "users", "table!"])
    .run()
    .code(0)
    .stdout("./db/migrations/V2__add_users_table.sql\n")
    .stderr("");
  cli(&repo, &["migration", "new", "  --weird   description--  "])
    .run()
    .code(0)
    .stdout("./db/migrations/V3__weird_description.sql\n")
    .stderr("");
  assert_eq!(
    migrations(&repo),
    [
      "V1__baseline.sql",
      "V2__add_users_table.sql",
      "V3__weird_description.sql"
    ]
  );
  cli(&repo, &["render", "--check"])
    .run()
    .code(0)
    .stdout(". is up to date with the blueprint\n")
    .stderr("");
  cli(&repo, &["migration", "new", "!!!"])
    .run()
    .code(2)
    .stdout("")
    .stderr("error: the description needs at least one letter or digit\n");
  let long = "word ".repeat(80);
  cli(&repo, &["migration", "new", &long])
    .run()
    .code(2)
    .stdout("")
    .stderr("error: the migration's file name would be 407 bytes, and file names are at most 255: shorten the description by 152 bytes or more\n");
  // The longest that fits is written.
  let fits = "a".repeat(255 - "V4__.sql".len());
  cli(&repo, &["migration", "new", &fits]).run().code(0);
  assert!(repo.join(format!("db/migrations/V4__{fits}.sql")).is_file());
}

#[test]
fn clashing_versions_are_refused_and_reported() {
  let (_temp, repo) = init("openinnovation");
  fs::write(repo.join("db/migrations/V1.0__again.sql"), "select 1;\n").unwrap();
  cli(&repo, &["migration", "new", "more"])
    .run()
    .code(2)
    .stdout("")
    .stderr(
      "error: fix the migrations folder first: `V1__baseline.sql` has the same version as `V1.0__again.sql`\n",
    );
  cli(&repo, &["render", "--check"])
    .run()
    .code(1)
    .stdout("")
    .stderr(format!(
      "invalid migrations (1):\n  \
       db/migrations: `V1__baseline.sql` has the same version as `V1.0__again.sql`\n{FINDING_HELP}"
    ));
}

#[test]
fn bad_names_are_reported_by_check() {
  let (_temp, repo) = init("openinnovation");
  fs::write(
    repo.join("db/migrations/V2_missing_separator.sql"),
    "select 1;\n",
  )
  .unwrap();
  cli(&repo, &["render", "--check"])
    .run()
    .code(1)
    .stdout("")
    .stderr(format!(
      "invalid migrations (1):\n  \
       db/migrations: `V2_missing_separator.sql` has no `__` between the version and the description\n{FINDING_HELP}"
    ));
}

#[test]
fn editing_a_released_migration_is_reported() {
  let (_temp, repo) = init("openinnovation");
  cli(&repo, &["render"]).run().code(0);
  let path = repo.join("db/migrations/V1__baseline.sql");
  let text = fs::read_to_string(&path).unwrap();
  fs::write(&path, format!("{text}CREATE TABLE sneaky (id int);\n")).unwrap();
  cli(&repo, &["render", "--check"])
    .run()
    .code(1)
    .stdout("")
    .stderr(format!(
      "released migrations edited (1):\n  \
       db/migrations/V1__baseline.sql: changed after it was released; Flyway will refuse its new checksum. Revert it and add a new migration, or, if every database already runs it as edited, accept it with `oi-gen keep db/migrations/V1__baseline.sql`\n{FINDING_HELP}"
    ));
  // A render warns and does not take the edit for the release: the finding
  // stays, render after render, until the edit is reverted.
  let files = generated_files(&repo);
  for _ in 0..2 {
    cli(&repo, &["render"])
      .run()
      .code(0)
      .stdout(format!(
        "rendered .: 0 created, 0 updated, 0 deleted, {files} unchanged\n"
      ))
      .stderr(
        "warning: db/migrations/V1__baseline.sql: changed after it was released; Flyway will refuse its new checksum. Revert it and add a new migration, or, if every database already runs it as edited, accept it with `oi-gen keep db/migrations/V1__baseline.sql`\n",
      );
    cli(&repo, &["render", "--check"]).run().code(1).stderr(format!(
      "released migrations edited (1):\n  \
       db/migrations/V1__baseline.sql: changed after it was released; Flyway will refuse its new checksum. Revert it and add a new migration, or, if every database already runs it as edited, accept it with `oi-gen keep db/migrations/V1__baseline.sql`\n{FINDING_HELP}"
    ));
  }
  fs::write(&path, text).unwrap();
  cli(&repo, &["render", "--check"]).run().code(0);
}

#[test]
fn the_baseline_is_not_recreated_once_the_user_has_migrations() {
  let (_temp, repo) = init("openinnovation");
  cli(&repo, &["migration", "new", "second"])
    .run()
    .code(0)
    .stdout("./db/migrations/V2__second.sql\n")
    .stderr("");
  fs::remove_file(repo.join("db/migrations/V1__baseline.sql")).unwrap();
  // The seeded baseline is gone and stays gone: every other file is unchanged.
  let unchanged = generated_files(&repo) - 1;
  cli(&repo, &["render"])
    .run()
    .code(0)
    .stdout(format!(
      "rendered .: 0 created, 0 updated, 0 deleted, {unchanged} unchanged\n"
    ))
    .stderr("");
  assert_eq!(migrations(&repo), ["V2__second.sql"]);
  // Even with a fresh lock, an existing migrations folder is the user's.
  fs::remove_file(repo.join(".oi-gen/lock.toml")).unwrap();
  cli(&repo, &["render", "--force"])
    .run()
    .code(0)
    .stdout(format!(
      "rendered .: 0 created, 0 updated, 0 deleted, {unchanged} unchanged\n"
    ))
    .stderr("");
  assert_eq!(migrations(&repo), ["V2__second.sql"]);
}
