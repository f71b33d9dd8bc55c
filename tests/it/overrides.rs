//! Repository-local template overrides in `.oi-gen/templates/`.

use std::fs;
use std::path::Path;

use crate::support::*;

fn put(repo: &Path, template: &str, text: &str) {
  let path = repo.join(".oi-gen/templates").join(template);
  fs::create_dir_all(path.parent().unwrap()).unwrap();
  fs::write(path, text).unwrap();
}

/// What `render` prints for the repository when `updated` files changed.
fn rendered(repo: &Path, updated: usize) -> String {
  let unchanged = generated_files(repo) - updated;
  format!("rendered .: 0 created, {updated} updated, 0 deleted, {unchanged} unchanged\n")
}

const CI_TEMPLATE: &str = include_str!("../../templates/.github/workflows/ci.yml.tera");

#[test]
fn an_override_replaces_the_embedded_file_for_render_and_check() {
  let (_temp, repo) = init("openinnovation");
  let embedded = read(&repo, ".gitignore");
  put(&repo, ".gitignore.tera", "/local-only\n");
  cli(&repo, &["render"])
    .run()
    .code(0)
    .stdout(rendered(&repo, 1))
    .stderr("");
  assert!(
    fs::read_to_string(repo.join(".gitignore"))
      .unwrap()
      .ends_with("/local-only\n")
  );
  cli(&repo, &["render", "--check"]).run().code(0);
  fs::remove_dir_all(repo.join(".oi-gen/templates")).unwrap();
  // The header line is common; the override's line gives way to the rest.
  let (header, rest) = embedded.split_once('\n').unwrap();
  let mut diff = format!(
    "--- a/.gitignore (on disk)\n+++ b/.gitignore (oi-gen)\n@@ -1,2 +1,{} @@\n {header}\n-/local-only\n",
    embedded.lines().count()
  );
  for line in rest.lines() {
    diff.push_str(&format!("+{line}\n"));
  }
  cli(&repo, &["render", "--check"])
    .run()
    .code(1)
    .stdout("")
    .stderr(format!(
      "out of date (1):\n  .gitignore\n{diff}error: 1 finding against the blueprint\n  \
       = help: run `oi-gen render` to re-render (edited files need `--force`, or `oi-gen upgrade` to merge), or `oi-gen keep FILE…` to record an edit as intended\n"
    ));
}

#[test]
fn an_override_of_a_template_that_no_longer_exists_is_reported() {
  let (_temp, repo) = init("openinnovation");
  put(&repo, ".github/workflows/gone.yml.tera", "x");
  cli(&repo, &["render"])
    .run()
    .code(0)
    .stdout(rendered(&repo, 0))
    .stderr(
      "warning: `.oi-gen/templates/.github/workflows/gone.yml.tera` overrides a template oi-gen no longer has; it is ignored\n",
    );
}

#[test]
fn a_broken_override_is_a_clear_error() {
  let (_temp, repo) = init("openinnovation");
  put(&repo, ".github/workflows/ci.yml.tera", "{% if %}");
  cli(&repo, &["render"]).run().code(2).stdout("").stderr(
    "error: template override: .oi-gen/templates/.github/workflows/ci.yml.tera: \
     Failed to parse '.github/workflows/ci.yml.tera':  --> 1:7\n  |\n1 | {% if %}\n  |       ^---\n  |\n  \
     = expected a value that can be negated\n",
  );
}

/// Renders with an "older oi-gen" (an override), edits by hand, then
/// upgrades to the embedded templates: the edit and the new template meet.
#[test]
fn upgrading_from_an_older_template_merges_hand_edits() {
  let (_temp, repo) = init("openinnovation");
  let older = CI_TEMPLATE.replacen("name: CI\n", "name: Continuous integration\n", 1);
  assert_ne!(older, CI_TEMPLATE);
  put(&repo, ".github/workflows/ci.yml.tera", &older);
  cli(&repo, &["render"])
    .run()
    .code(0)
    .stdout(rendered(&repo, 1))
    .stderr("");
  let ci = repo.join(".github/workflows/ci.yml");
  let rendered = fs::read_to_string(&ci).unwrap();
  assert!(rendered.contains("name: Continuous integration\n"));
  let edited = rendered.replacen(
    "permissions: {}\n",
    "permissions: {}\n# reviewed by the platform team\n",
    1,
  );
  fs::write(&ci, &edited).unwrap();

  fs::remove_dir_all(repo.join(".oi-gen/templates")).unwrap();
  let run = cli(&repo, &["upgrade"]).run();
  run.code(0);
  let merged = fs::read_to_string(&ci).unwrap();
  assert!(merged.contains("name: CI\n"), "{merged}");
  assert!(
    merged.contains("# reviewed by the platform team\n"),
    "{merged}"
  );
  run.stderr("").stdout(
    "merge    .github/workflows/ci.yml (your edits carried over)\n\
     upgraded .: 0 created, 0 updated, 1 merged, 0 conflicts, 0 deleted, 0 kept\n",
  );
}

#[test]
fn an_override_at_an_old_template_path_applies_and_upgrade_moves_it() {
  let (_temp, repo) = init("openinnovation");
  put(&repo, "repo/gitignore", "/local-only\n");
  cli(&repo, &["render"])
    .run()
    .code(0)
    .stdout(rendered(&repo, 1))
    .stderr(
      "warning: `.oi-gen/templates/repo/gitignore` is at a template path oi-gen no longer uses; \
       it still applies, and `oi-gen upgrade` moves it to `.oi-gen/templates/.gitignore.tera`\n",
    );
  assert!(read(&repo, ".gitignore").ends_with("/local-only\n"));

  cli(&repo, &["upgrade", "--dry-run"])
    .run()
    .code(0)
    .stdout(
      "template override: would move `.oi-gen/templates/repo/gitignore` to \
       `.oi-gen/templates/.gitignore.tera`\n",
    )
    .stderr("");
  assert!(repo.join(".oi-gen/templates/repo/gitignore").is_file());

  cli(&repo, &["upgrade"])
    .run()
    .code(0)
    .stdout(
      "template override: moves `.oi-gen/templates/repo/gitignore` to \
       `.oi-gen/templates/.gitignore.tera`\n\
       upgraded .: 0 created, 0 updated, 0 merged, 0 conflicts, 0 deleted, 0 kept\n",
    )
    .stderr("");
  assert!(!repo.join(".oi-gen/templates/repo/gitignore").exists());
  assert_eq!(
    fs::read_to_string(repo.join(".oi-gen/templates/.gitignore.tera")).unwrap(),
    "/local-only\n"
  );
  cli(&repo, &["render", "--check"]).run().code(0).stderr("");
  assert!(read(&repo, ".gitignore").ends_with("/local-only\n"));
}

#[test]
fn overrides_that_would_never_finish_are_refused_and_write_nothing() {
  let (_temp, repo) = init("openinnovation");
  let before = tree(&repo);
  put(
    &repo,
    "infra/vpc.tf.tera",
    "{% include \"infra/vpc.tf.tera\" %}\n",
  );
  cli(&repo, &["render"]).run().code(2).stdout("").stderr(
    "error: template override: .oi-gen/templates/infra/vpc.tf.tera includes itself: infra/vpc.tf.tera → infra/vpc.tf.tera; rendering it would never end. Break the cycle\n",
  );
  put(
    &repo,
    "infra/vpc.tf.tera",
    "{% import \"infra/kms.tf.tera\" as k %}\n",
  );
  put(
    &repo,
    "infra/kms.tf.tera",
    "{%- include \"infra/vpc.tf.tera\" -%}\n",
  );
  cli(&repo, &["render", "--check"]).run().code(2).stderr(
    "error: template override: .oi-gen/templates/infra/kms.tf.tera includes itself: infra/kms.tf.tera → infra/vpc.tf.tera → infra/kms.tf.tera; rendering it would never end. Break the cycle\n",
  );
  fs::remove_file(repo.join(".oi-gen/templates/infra/kms.tf.tera")).unwrap();
  put(
    &repo,
    "infra/vpc.tf.tera",
    "{% macro a(n) %}{{ self::b(n=n) }}{% endmacro a %}{% macro b(n) %}{{ self::a(n=n) }}{% endmacro b %}{{ self::a(n=1) }}\n",
  );
  cli(&repo, &["render"]).run().code(2).stderr(
    "error: template override: .oi-gen/templates/infra/vpc.tf.tera has a macro that calls itself: a → b → a; rendering it would never end. Break the cycle\n",
  );
  // A loop that does not end in time is stopped, naming the override.
  put(
    &repo,
    "infra/vpc.tf.tera",
    "{% for i in range(end=4000000000) %}x{% endfor %}\n",
  );
  cli(&repo, &["render"]).run().code(2).stdout("").stderr(
    "error: template override: `infra/vpc.tf.tera` rendered for more than 10 s without finishing; nothing was written\n  \
     = help: look in `.oi-gen/templates/infra/vpc.tf.tera` (or a partial it uses) for a loop that does not end\n",
  );
  fs::remove_dir_all(repo.join(".oi-gen/templates")).unwrap();
  assert_eq!(tree(&repo), before);
}

#[test]
fn an_override_cannot_read_the_environment() {
  let (_temp, repo) = init("openinnovation");
  put(
    &repo,
    "infra/vpc.tf.tera",
    "# {{ get_env(name=\"HOME\", default=\"\") }}\n",
  );
  let before = tree(&repo);
  cli(&repo, &["render"]).run().code(2).stdout("").stderr(
    "error: rendering failed: `.oi-gen/templates/infra/vpc.tf.tera` calls `get_env` (rendering `infra/vpc.tf.tera`): \
     templates cannot read environment variables: a render reads only the blueprint, so it writes the same files on every machine; put the value in the blueprint\n",
  );
  assert_eq!(tree(&repo), before);
}

#[test]
fn the_same_blueprint_renders_the_same_files_whatever_the_environment() {
  let render = |vars: &[(&str, &str)]| {
    let temp = tempfile::tempdir().unwrap();
    let repo = temp.path().join("repo");
    let mut run = crate::support::Cli::new()
      .args(["init", "repo"])
      .current_dir(temp.path());
    for (key, value) in vars {
      run = run.env(key, value);
    }
    run.run().code(0);
    (temp, tree(&repo))
  };
  let (_a, first) = render(&[("TZ", "UTC"), ("LANG", "C"), ("USER", "alice")]);
  let (_b, second) = render(&[
    ("TZ", "Pacific/Kiritimati"),
    ("LANG", "de_DE.UTF-8"),
    ("USER", "bob"),
    ("HOME", "/nonexistent"),
    ("AWS_REGION", "ap-southeast-2"),
    ("GITHUB_ACTIONS", "true"),
  ]);
  assert!(!first.is_empty());
  assert_eq!(first, second);
}
