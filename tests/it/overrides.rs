//! Repository-local template overrides in `.oi-gen/templates/`.

use std::fs;
use std::path::Path;

use crate::support::*;

fn put(repo: &Path, template: &str, text: &str) {
  let path = repo.join(".oi-gen/templates").join(template);
  fs::create_dir_all(path.parent().unwrap()).unwrap();
  fs::write(path, text).unwrap();
}

const CI_TEMPLATE: &str = include_str!("../../templates/workflows/ci.yml.tera");

#[test]
fn an_override_replaces_the_embedded_file_for_render_and_check() {
  let (_temp, repo) = init("openinnovation");
  put(&repo, "repo/gitignore", "/local-only\n");
  let run = cli(&repo, &["render"]).run();
  assert_eq!(run.code, 0, "{}", run.stderr);
  assert!(
    fs::read_to_string(repo.join(".gitignore"))
      .unwrap()
      .ends_with("/local-only\n")
  );
  assert_eq!(cli(&repo, &["render", "--check"]).run().code, 0);
  fs::remove_dir_all(repo.join(".oi-gen/templates")).unwrap();
  let check = cli(&repo, &["render", "--check"]).run();
  assert_eq!(check.code, 1);
  assert!(
    check.stderr.contains("out of date (1):\n  .gitignore\n"),
    "{}",
    check.stderr
  );
}

#[test]
fn an_override_of_a_template_that_no_longer_exists_is_reported() {
  let (_temp, repo) = init("openinnovation");
  put(&repo, "workflows/gone.yml.tera", "x");
  let run = cli(&repo, &["render"]).run();
  assert_eq!(run.code, 0, "{}", run.stderr);
  assert!(
    run.stderr.contains("warning: `.oi-gen/templates/workflows/gone.yml.tera` overrides a template oi-gen no longer has"),
    "{}",
    run.stderr
  );
}

#[test]
fn a_broken_override_is_a_clear_error() {
  let (_temp, repo) = init("openinnovation");
  put(&repo, "workflows/ci.yml.tera", "{% if %}");
  let run = cli(&repo, &["render"]).run();
  assert_eq!(run.code, 2);
  assert!(
    run
      .stderr
      .contains("error: template override: .oi-gen/templates/workflows/ci.yml.tera:"),
    "{}",
    run.stderr
  );
}

/// Renders with an "older oi-gen" (an override), edits by hand, then
/// upgrades to the embedded templates: the edit and the new template meet.
#[test]
fn upgrading_from_an_older_template_merges_hand_edits() {
  let (_temp, repo) = init("openinnovation");
  let older = CI_TEMPLATE.replacen("name: CI\n", "name: Continuous integration\n", 1);
  assert_ne!(older, CI_TEMPLATE);
  put(&repo, "workflows/ci.yml.tera", &older);
  assert_eq!(cli(&repo, &["render"]).run().code, 0);
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
  assert_eq!(run.code, 0, "{}", run.stderr);
  let merged = fs::read_to_string(&ci).unwrap();
  assert!(merged.contains("name: CI\n"), "{merged}");
  assert!(
    merged.contains("# reviewed by the platform team\n"),
    "{merged}"
  );
  assert!(
    run.stdout.contains("merge    .github/workflows/ci.yml"),
    "{}",
    run.stdout
  );
}
