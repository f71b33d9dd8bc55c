//! End-to-end tests of the `oi-gen` binary.

mod support;

use std::fs;
use std::path::Path;
use std::process::Command;

use support::*;

/// A managed file of the render, to edit in tests.
fn some_generated_file(repo: &Path) -> String {
  let lock = fs::read_to_string(repo.join(".oi-gen/lock.toml")).unwrap();
  let lock: toml::Table = toml::from_str(&lock).unwrap();
  let files = lock["files"].as_table().unwrap();
  files
    .iter()
    .find(|(path, entry)| entry["ownership"].as_str() == Some("managed") && path.ends_with(".tf"))
    .or_else(|| {
      files
        .iter()
        .find(|(_, e)| e["ownership"].as_str() == Some("managed"))
    })
    .map(|(path, _)| path.clone())
    .expect("the render has managed files")
}

#[test]
fn init_check_edit_refuse_force_cycle() {
  let (_temp, repo) = init("openinnovation");
  assert!(repo.join("platform.yaml").is_file());

  let clean = oi_gen(&repo, &["render", "--check"]);
  assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);

  let target = some_generated_file(&repo);
  let path = repo.join(&target);
  let original = fs::read_to_string(&path).unwrap();
  fs::write(&path, format!("{original}# a hand edit\n")).unwrap();

  let drift = oi_gen(&repo, &["render", "--check"]);
  assert_eq!(drift.code, 1);
  assert!(
    drift
      .stderr
      .contains(&format!("edited by hand (1):\n  {target}\n")),
    "{}",
    drift.stderr
  );
  assert!(drift.stderr.contains("-# a hand edit"), "{}", drift.stderr);

  let refused = oi_gen(&repo, &["render"]);
  assert_eq!(refused.code, 1);
  assert!(
    refused
      .stderr
      .contains(&format!("`{target}` was edited by hand")),
    "{}",
    refused.stderr
  );
  assert!(refused.stderr.contains("nothing was written"));
  assert!(
    fs::read_to_string(&path)
      .unwrap()
      .ends_with("# a hand edit\n"),
    "the edit survives"
  );

  let forced = oi_gen(&repo, &["render", "--force"]);
  assert_eq!(forced.code, 0, "{}", forced.stderr);
  assert_eq!(fs::read_to_string(&path).unwrap(), original);
  assert_eq!(oi_gen(&repo, &["render", "--check"]).code, 0);
}

#[test]
fn check_reports_missing_files() {
  let (_temp, repo) = init("acme-shop");
  let target = some_generated_file(&repo);
  fs::remove_file(repo.join(&target)).unwrap();
  let drift = oi_gen(&repo, &["render", "--check"]);
  assert_eq!(drift.code, 1);
  assert!(
    drift
      .stderr
      .contains(&format!("missing (1):\n  {target}\n")),
    "{}",
    drift.stderr
  );
  assert_eq!(oi_gen(&repo, &["render"]).code, 0);
  assert!(repo.join(&target).is_file());
}

#[test]
fn invalid_blueprint_exits_2_and_writes_nothing() {
  let (_temp, repo) = init("openinnovation");
  let before = tree(&repo);
  let blueprint = fs::read_to_string(repo.join("platform.yaml")).unwrap();
  let broken = blueprint.replacen("port: 8080", "port: 0", 1);
  fs::write(repo.join("platform.yaml"), &broken).unwrap();
  let run = oi_gen(&repo, &["render"]);
  assert_eq!(run.code, 2);
  assert!(
    run
      .stderr
      .contains("error: spec.services[0].port: port must be between 1 and 65535, got 0"),
    "{}",
    run.stderr
  );
  assert!(run.stderr.contains("--> platform.yaml:"), "{}", run.stderr);
  let after: Vec<_> = tree(&repo)
    .into_iter()
    .filter(|(p, _)| p != Path::new("platform.yaml"))
    .collect();
  let before: Vec<_> = before
    .into_iter()
    .filter(|(p, _)| p != Path::new("platform.yaml"))
    .collect();
  assert_eq!(before, after);
}

#[test]
fn init_with_an_invalid_blueprint_writes_nothing() {
  let temp = tempfile::tempdir().unwrap();
  fs::write(temp.path().join("bad.yaml"), "apiVersion: 3\n").unwrap();
  let run = oi_gen(temp.path(), &["init", "repo", "--from", "bad.yaml"]);
  assert_eq!(run.code, 2, "{}", run.stderr);
  assert!(!temp.path().join("repo").exists());
}

#[test]
fn init_never_overwrites_a_blueprint() {
  let (temp, _repo) = init("openinnovation");
  let run = oi_gen(temp.path(), &["init", "repo"]);
  assert_eq!(run.code, 2);
  assert!(run.stderr.contains("already exists"), "{}", run.stderr);
}

#[test]
fn init_refuses_to_overwrite_files_it_did_not_write() {
  let temp = tempfile::tempdir().unwrap();
  let (_t, reference) = init("openinnovation");
  let target = some_generated_file(&reference);
  let repo = temp.path().join("repo");
  let path = repo.join(&target);
  fs::create_dir_all(path.parent().unwrap()).unwrap();
  fs::write(&path, "mine\n").unwrap();
  let run = oi_gen(temp.path(), &["init", "repo"]);
  assert_eq!(run.code, 1, "{}", run.stderr);
  assert!(
    run.stderr.contains("exists and was not written by oi-gen"),
    "{}",
    run.stderr
  );
  assert_eq!(fs::read_to_string(&path).unwrap(), "mine\n");
  assert!(!repo.join("platform.yaml").exists());
}

#[test]
fn rendering_again_writes_nothing() {
  let (_temp, repo) = init("openinnovation");
  let target = repo.join(some_generated_file(&repo));
  let lock = repo.join(".oi-gen/lock.toml");
  let old = fs::File::open(&target).unwrap();
  let stamp = |p: &Path| fs::metadata(p).unwrap().modified().unwrap();
  let (file_time, lock_time) = (stamp(&target), stamp(&lock));
  std::thread::sleep(std::time::Duration::from_millis(20));
  let run = oi_gen(&repo, &["render"]);
  assert_eq!(run.code, 0, "{}", run.stderr);
  assert!(
    run.stdout.contains(" 0 created, 0 updated, 0 deleted"),
    "{}",
    run.stdout
  );
  assert_eq!(stamp(&target), file_time);
  assert_eq!(stamp(&lock), lock_time);
  drop(old);
}

#[test]
fn render_is_deterministic() {
  let (_a, first) = init("acme-shop");
  let (_b, second) = init("acme-shop");
  assert_eq!(tree(&first), tree(&second));
}

#[test]
fn user_files_are_never_touched_and_orphans_are_removed_only_when_unedited() {
  let (_temp, repo) = init("acme-shop");
  fs::write(repo.join("NOTES.md"), "mine\n").unwrap();
  let lock_path = repo.join(".oi-gen/lock.toml");
  // Pretend an earlier render wrote two files that the blueprint no longer produces.
  let mut lock: toml::Table = toml::from_str(&fs::read_to_string(&lock_path).unwrap()).unwrap();
  let files = lock["files"].as_table_mut().unwrap();
  for (name, contents) in [("old/unedited.txt", "old\n"), ("old/edited.txt", "old\n")] {
    fs::create_dir_all(repo.join("old")).unwrap();
    fs::write(repo.join(name), contents).unwrap();
    let mut entry = toml::Table::new();
    entry.insert(
      "sha256".into(),
      oi_gen::lock::sha256(contents.as_bytes()).into(),
    );
    entry.insert("ownership".into(), "managed".into());
    files.insert(name.into(), entry.into());
  }
  fs::write(&lock_path, toml::to_string(&lock).unwrap()).unwrap();
  fs::write(repo.join("old/edited.txt"), "changed\n").unwrap();

  let check = oi_gen(&repo, &["render", "--check"]);
  assert_eq!(check.code, 1);
  assert!(
    check
      .stderr
      .contains("no longer produced by the blueprint (2):\n  old/edited.txt\n  old/unedited.txt\n"),
    "{}",
    check.stderr
  );

  let refused = oi_gen(&repo, &["render"]);
  assert_eq!(refused.code, 1);
  assert!(
    refused
      .stderr
      .contains("`old/edited.txt` is no longer produced by the blueprint but was edited by hand")
  );
  assert!(
    repo.join("old/unedited.txt").exists(),
    "nothing written on refusal"
  );

  let forced = oi_gen(&repo, &["render", "--force"]);
  assert_eq!(forced.code, 0, "{}", forced.stderr);
  assert!(!repo.join("old").exists());
  assert_eq!(fs::read_to_string(repo.join("NOTES.md")).unwrap(), "mine\n");
}

#[cfg(unix)]
#[test]
fn writes_never_follow_symlinks_out_of_the_folder() {
  let (temp, repo) = init("acme-shop");
  let outside = temp.path().join("outside");
  fs::create_dir_all(&outside).unwrap();
  // The lock's folder is always written; make it a link out of the repository.
  fs::remove_dir_all(repo.join(".oi-gen")).unwrap();
  std::os::unix::fs::symlink(&outside, repo.join(".oi-gen")).unwrap();
  let run = oi_gen(&repo, &["render", "--force"]);
  assert_eq!(run.code, 2, "{}", run.stderr);
  assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
  assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
}

#[test]
fn usage_errors_exit_2() {
  let temp = tempfile::tempdir().unwrap();
  assert_eq!(oi_gen(temp.path(), &["render", "--bogus"]).code, 2);
  assert_eq!(oi_gen(temp.path(), &["render"]).code, 2, "no platform.yaml");
  assert_eq!(
    oi_gen(temp.path(), &["init", "x", "--from", "nope"]).code,
    2
  );
  let version = oi_gen(temp.path(), &["--version"]);
  assert_eq!(version.code, 0);
  assert!(version.stdout.starts_with("oi-gen "));
}

#[test]
fn blueprints_lists_the_builtins() {
  let temp = tempfile::tempdir().unwrap();
  let run = oi_gen(temp.path(), &["blueprints"]);
  assert_eq!(run.code, 0);
  assert!(run.stdout.contains("openinnovation"));
  assert!(run.stdout.contains("(default)"));
  assert!(run.stdout.contains("acme-shop"));
}

#[test]
fn validate_reports_ok() {
  let (_temp, repo) = init("openinnovation");
  let run = oi_gen(&repo, &["validate"]);
  assert_eq!(run.code, 0, "{}", run.stderr);
  assert!(run.stdout.contains("platform.yaml is valid"));
}

#[test]
fn render_out_writes_elsewhere() {
  let (temp, repo) = init("openinnovation");
  let other = temp.path().join("other");
  let run = oi_gen(&repo, &["render", "--out", other.to_str().unwrap()]);
  assert_eq!(run.code, 0, "{}", run.stderr);
  let target = some_generated_file(&repo);
  assert_eq!(
    fs::read(other.join(&target)).unwrap(),
    fs::read(repo.join(&target)).unwrap()
  );
}

#[test]
fn explain_names_owner_and_fields() {
  let (_temp, repo) = init("openinnovation");
  let run = oi_gen(&repo, &["explain", ".gitignore"]);
  assert_eq!(run.code, 0, "{}", run.stderr);
  assert!(run.stdout.contains("owner:   managed"), "{}", run.stdout);
  let missing = oi_gen(&repo, &["explain", "platform.yaml"]);
  assert_eq!(missing.code, 1);
  assert!(missing.stderr.contains("was not generated by oi-gen"));
  let outside = tempfile::tempdir().unwrap();
  fs::write(outside.path().join("x"), "").unwrap();
  assert_eq!(oi_gen(outside.path(), &["explain", "x"]).code, 2);
}

#[cfg(unix)]
#[test]
fn doctor_reports_missing_and_found_tools() {
  use std::os::unix::fs::PermissionsExt;
  let temp = tempfile::tempdir().unwrap();
  let bin = temp.path().join("bin");
  fs::create_dir_all(&bin).unwrap();
  let fake = |name: &str, output: &str| {
    let path = bin.join(name);
    fs::write(&path, format!("#!/bin/sh\necho '{output}'\n")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
  };
  fake("terraform", "Terraform v1.15.5");
  fake("helm", "v4.2.4+gabcdef");
  fake("kubectl", "Client Version: v1.35.0");
  let run = |path: &Path| {
    Command::new(env!("CARGO_BIN_EXE_oi-gen"))
      .arg("doctor")
      .env("PATH", path)
      .output()
      .unwrap()
  };
  let partial = run(&bin);
  assert_eq!(partial.status.code(), Some(1));
  let stdout = String::from_utf8_lossy(&partial.stdout);
  assert!(stdout.contains("terraform  1.15.5     1.15.5"), "{stdout}");
  assert!(String::from_utf8_lossy(&partial.stderr).contains("missing required tool: aws"));
  fake("aws", "aws-cli/2.17.0 Python/3.11.8");
  assert_eq!(run(&bin).status.code(), Some(0));
}

#[test]
fn quiet_prints_nothing_on_success_and_verbose_lists_files() {
  let temp = tempfile::tempdir().unwrap();
  let quiet = oi_gen(temp.path(), &["--quiet", "init", "a"]);
  assert_eq!(quiet.code, 0);
  assert_eq!(quiet.stdout, "");
  let verbose = oi_gen(temp.path(), &["init", "b", "--verbose"]);
  assert!(
    verbose.stdout.contains("created      .gitignore"),
    "{}",
    verbose.stdout
  );
}

#[test]
fn init_wires_the_schema_into_the_blueprint() {
  let (_temp, repo) = init("openinnovation");
  let blueprint = fs::read_to_string(repo.join("platform.yaml")).unwrap();
  assert!(blueprint.starts_with("# yaml-language-server: $schema=.oi-gen/schema.json\n"));
  let schema = fs::read_to_string(repo.join(".oi-gen/schema.json")).unwrap();
  let run = oi_gen(&repo, &["schema"]);
  assert_eq!(run.stdout, schema);
}

#[test]
fn the_generated_readme_keeps_its_user_section() {
  let (_temp, repo) = init("openinnovation");
  let path = repo.join("README.md");
  let text = fs::read_to_string(&path).unwrap();
  assert!(text.contains("```mermaid\nflowchart TB\n"), "{text}");
  let mine = text.replace(
    "Write your own notes here: oi-gen keeps this section as it is on every render.",
    "On-call: #platform-oncall",
  );
  fs::write(&path, &mine).unwrap();
  assert_eq!(oi_gen(&repo, &["render", "--check"]).code, 0);
  // A blueprint change re-renders the README around the user section.
  let blueprint = fs::read_to_string(repo.join("platform.yaml")).unwrap();
  fs::write(
    repo.join("platform.yaml"),
    blueprint.replacen("build: frontend", "build: web", 1),
  )
  .unwrap();
  assert_eq!(oi_gen(&repo, &["render"]).code, 0);
  let after = fs::read_to_string(&path).unwrap();
  assert!(after.contains("On-call: #platform-oncall"));
  assert!(after.contains("`web`"));
  // Outside the section, an edit is drift as usual.
  fs::write(&path, after.replacen("## Day to day", "## Daily", 1)).unwrap();
  assert_eq!(oi_gen(&repo, &["render", "--check"]).code, 1);
}
