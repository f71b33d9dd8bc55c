//! `oi-gen keep`: hand edits recorded as intended, clean in the drift check
//! while they stay as kept, and carried across an upgrade.

use std::fs;

use crate::support::*;

const VALUES: &str = "charts/frontend/values-production.yaml";
const EDIT: &str = "# kept: the team's own note\n";

/// `render --check` reports `VALUES` as edited by hand, and exits 1.
fn reported_edited(repo: &std::path::Path) {
  let check = cli(repo, &["render", "--check"]).run();
  check.code(1);
  assert!(
    check
      .stderr
      .starts_with(&format!("edited by hand (1):\n  {VALUES}\n")),
    "{}",
    check.stderr
  );
}

fn lock(repo: &std::path::Path) -> String {
  read(repo, ".oi-gen/lock.toml")
}

#[test]
fn a_kept_edit_is_clean_until_the_file_or_its_render_changes() {
  let (_temp, repo) = init("openinnovation");
  let original = read(&repo, VALUES);
  fs::write(repo.join(VALUES), format!("{original}{EDIT}")).unwrap();
  cli(&repo, &["render", "--check"]).run().code(1);

  cli(&repo, &["keep", VALUES]).run().code(0).stderr("").stdout(format!(
    "kept {VALUES}: the drift check accepts it until it or its render changes; `oi-gen upgrade` merges it forward\n"
  ));
  assert!(lock(&repo).contains(&format!("[files.\"{VALUES}\".kept]\n")));
  cli(&repo, &["render", "--check"])
    .run()
    .code(0)
    .stdout(". is up to date with the blueprint\n");
  // A render leaves it alone and keeps the record.
  cli(&repo, &["render"]).run().code(0);
  assert_eq!(read(&repo, VALUES), format!("{original}{EDIT}"));
  cli(&repo, &["render", "--check"]).run().code(0);
  cli(&repo, &["keep", VALUES])
    .run()
    .code(0)
    .stdout(format!("kept {VALUES}: already recorded\n"));

  // Edited again: reported again, until it is back as kept.
  fs::write(repo.join(VALUES), format!("{original}{EDIT}# more\n")).unwrap();
  reported_edited(&repo);
  fs::write(repo.join(VALUES), format!("{original}{EDIT}")).unwrap();
  cli(&repo, &["render", "--check"]).run().code(0);

  // The render changes: reported again; render refuses; upgrade merges the
  // edit onto the new render and the record follows the merge.
  edit(
    &repo,
    "platform.yaml",
    "      replicas: 3\n      build: frontend",
    "      replicas: 4\n      build: frontend",
  );
  reported_edited(&repo);
  cli(&repo, &["render"]).run().code(1);
  cli(&repo, &["upgrade"]).run().code(0);
  let merged = read(&repo, VALUES);
  assert!(
    merged.contains("replicaCount: 4\n") && merged.ends_with(EDIT),
    "{merged}"
  );
  cli(&repo, &["render", "--check"])
    .run()
    .code(0)
    .stdout(". is up to date with the blueprint\n");

  // Deleting the file and rendering brings the render back, without the record.
  fs::remove_file(repo.join(VALUES)).unwrap();
  cli(&repo, &["render"]).run().code(0);
  assert!(!read(&repo, VALUES).ends_with(EDIT));
  assert!(!lock(&repo).contains(&format!("[files.\"{VALUES}\".kept]\n")));
  cli(&repo, &["render", "--check"]).run().code(0);
}

#[test]
fn keep_refuses_what_is_not_an_edit_and_records_nothing() {
  let (temp, repo) = init("openinnovation");
  let original = read(&repo, VALUES);
  fs::write(repo.join(VALUES), format!("{original}{EDIT}")).unwrap();
  fs::write(repo.join("notes.md"), "mine\n").unwrap();
  let before = lock(&repo);
  cli(&repo, &["keep", VALUES, "infra/vpc.tf", "notes.md", "platform.yaml", "nothing/here.tf"])
    .run()
    .code(1)
    .stdout("")
    .stderr(
      "error: `infra/vpc.tf` is not edited: it matches what oi-gen renders (or will, at the next `oi-gen render`)\n\
       error: `notes.md` is neither a file oi-gen renders here nor a released migration\n\
       error: `platform.yaml` is neither a file oi-gen renders here nor a released migration\n\
       error: `nothing/here.tf` is neither a file oi-gen renders here nor a released migration\n\
       error: 4 files cannot be kept; nothing was recorded\n  \
       = help: `oi-gen render --check` lists the edited files\n",
    );
  assert_eq!(lock(&repo), before);
  let outside = temp.path().join("elsewhere.tf");
  cli(&repo, &["keep", outside.to_str().unwrap()])
    .redact(temp.path(), "<tmp>")
    .run()
    .code(2)
    .stderr("error: `<tmp>/elsewhere.tf` is not inside the repository at `.`\n");
  cli(&repo, &["keep", "../elsewhere.tf"])
    .run()
    .code(2)
    .stderr("error: `../elsewhere.tf` is not inside the repository at `.`\n");
  assert_eq!(lock(&repo), before);
}

#[test]
fn keep_accepts_the_new_checksum_of_an_edited_migration() {
  let (_temp, repo) = init("openinnovation");
  let migration = "db/migrations/V1__baseline.sql";
  let sql = read(&repo, migration);
  fs::write(
    repo.join(migration),
    format!("{sql}-- applied by hand everywhere\n"),
  )
  .unwrap();
  cli(&repo, &["render", "--check"]).run().code(1);
  cli(&repo, &["render"]).run().code(0);
  cli(&repo, &["render", "--check"]).run().code(1);
  cli(&repo, &["keep", migration]).run().code(0).stdout(format!(
    "kept {migration}: its new checksum is accepted; run `flyway repair` on every database that ran the old one\n"
  ));
  cli(&repo, &["render", "--check"]).run().code(0);
  // A later edit is reported again.
  fs::write(repo.join(migration), format!("{sql}-- twice\n")).unwrap();
  cli(&repo, &["render", "--check"]).run().code(1);
}

#[test]
fn a_damaged_lock_is_rebuilt_from_the_base_keeping_hand_edits() {
  let (_temp, repo) = init("openinnovation");
  let original = read(&repo, VALUES);
  fs::write(repo.join(VALUES), format!("{original}{EDIT}")).unwrap();
  let good = lock(&repo);
  fs::write(repo.join(".oi-gen/lock.toml"), "format = \"garbage").unwrap();
  let render = cli(&repo, &["render"]).run();
  render.code(2).stdout("");
  assert!(
    render.stderr.ends_with(
      "restore it from version control, or run `oi-gen render --rebuild-lock` to rebuild it from the base in `.oi-gen/base/` and the files (files changed by hand stay edits)\n"
    ),
    "{}",
    render.stderr
  );

  // The rebuild refuses to overwrite the edit, like any render.
  let rebuild = cli(&repo, &["render", "--rebuild-lock"]).run();
  rebuild.code(1);
  assert!(
    rebuild.stderr.starts_with(&format!(
      "error: `{VALUES}` was edited by hand since the last render\n"
    )),
    "{}",
    rebuild.stderr
  );
  assert_eq!(read(&repo, VALUES), format!("{original}{EDIT}"));
  // With the edit reverted, the rebuilt lock is the lock that was lost.
  fs::write(repo.join(".oi-gen/lock.toml"), "format = \"garbage").unwrap();
  fs::write(repo.join(VALUES), &original).unwrap();
  cli(&repo, &["render", "--rebuild-lock"]).run().code(0);
  let rebuilt: toml::Table = toml::from_str(&lock(&repo)).unwrap();
  let before: toml::Table = toml::from_str(&good).unwrap();
  assert_eq!(rebuilt["files"], before["files"]);
  cli(&repo, &["render", "--check"]).run().code(0);
}
