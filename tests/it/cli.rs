//! End-to-end tests of the `oi-gen` binary, each pinning the exact output.

use std::fs;
use std::path::Path;

use crate::support::*;

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

/// The summary `render` prints for the openinnovation repository.
fn rendered(created: usize, updated: usize, deleted: usize, unchanged: usize) -> String {
  format!(
    "rendered .: {created} created, {updated} updated, {deleted} deleted, {unchanged} unchanged\n"
  )
}

const FINDING_HELP: &str = "  = help: run `oi-gen render` to re-render (edited files need `--force`, or `oi-gen upgrade` to merge), or `oi-gen keep FILE…` to record an edit as intended\n";

#[test]
fn init_check_edit_refuse_force_cycle() {
  let (_temp, repo) = init("openinnovation");
  assert!(repo.join("platform.yaml").is_file());
  let files = generated_files(&repo);

  cli(&repo, &["render", "--check"])
    .run()
    .code(0)
    .stdout(". is up to date with the blueprint\n")
    .stderr("");

  let target = some_generated_file(&repo);
  let path = repo.join(&target);
  let original = fs::read_to_string(&path).unwrap();
  fs::write(&path, format!("{original}# a hand edit\n")).unwrap();
  let diff = diff_of_an_appended_line(&target, &original, "# a hand edit");

  cli(&repo, &["render", "--check"])
    .run()
    .code(1)
    .stdout("")
    .stderr(format!(
      "edited by hand (1):\n  {target}\n{diff}error: 1 finding against the blueprint\n{FINDING_HELP}"
    ));

  cli(&repo, &["render"]).run().code(1).stdout("").stderr(format!(
    "error: `{target}` was edited by hand since the last render\n{diff}\
     error: 1 file would lose changes; nothing was written\n  \
     = help: move the changes into platform.yaml, record them as intended with `oi-gen keep FILE…`, or run `oi-gen render --force` to overwrite them\n"
  ));
  assert!(
    fs::read_to_string(&path)
      .unwrap()
      .ends_with("# a hand edit\n"),
    "the edit survives"
  );

  cli(&repo, &["render", "--force"])
    .run()
    .code(0)
    .stdout(rendered(0, 1, 0, files - 1))
    .stderr("");
  assert_eq!(fs::read_to_string(&path).unwrap(), original);
  cli(&repo, &["render", "--check"]).run().code(0);
}

#[test]
fn check_reports_missing_files() {
  let (_temp, repo) = init("acme-shop");
  let files = generated_files(&repo);
  let target = some_generated_file(&repo);
  fs::remove_file(repo.join(&target)).unwrap();
  cli(&repo, &["render", "--check"])
    .run()
    .code(1)
    .stdout("")
    .stderr(format!(
      "missing (1):\n  {target}\nerror: 1 finding against the blueprint\n{FINDING_HELP}"
    ));
  cli(&repo, &["render"])
    .run()
    .code(0)
    .stdout(rendered(1, 0, 0, files - 1))
    .stderr("");
  assert!(repo.join(&target).is_file());
}

#[test]
fn invalid_blueprint_exits_2_and_writes_nothing() {
  let (_temp, repo) = init("openinnovation");
  let before = tree(&repo);
  let blueprint = fs::read_to_string(repo.join("platform.yaml")).unwrap();
  let broken = blueprint.replacen("port: 8080", "port: 0", 1);
  fs::write(repo.join("platform.yaml"), &broken).unwrap();
  let line = broken.lines().position(|l| l.contains("port: 0")).unwrap() + 1;
  let pad = " ".repeat(line.to_string().len());
  cli(&repo, &["render"])
    .run()
    .code(2)
    .stdout("")
    .stderr(format!(
      "error: spec.services[0].port: port must be between 1 and 65535, got 0\n  \
       --> platform.yaml:{line}:13\n\
       {pad} |\n\
       {line} |       port: 0\n\
       {pad} |             ^\n\
       error: `platform.yaml` has 1 problem; nothing was written\n"
    ));
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
  cli(temp.path(), &["init", "repo", "--from", "bad.yaml"])
    .run()
    .code(2)
    .stdout("")
    .stderr(
      "error: missing field `kind`\n  \
       --> bad.yaml:1:1\n  \
       |\n\
       1 | apiVersion: 3\n  \
       | ^\n  \
       = help: add the field; see `oi-gen init --from openinnovation` for an example\n\
       error: `bad.yaml` has 1 problem; nothing was written\n",
    );
  assert!(!temp.path().join("repo").exists());
}

#[test]
fn init_never_overwrites_a_blueprint() {
  let (temp, _repo) = init("openinnovation");
  cli(temp.path(), &["init", "repo"])
    .run()
    .code(2)
    .stdout("")
    .stderr(
      "error: `repo/platform.yaml` already exists; oi-gen init never overwrites it\n  \
       = help: run `oi-gen render -f repo/platform.yaml` to render the existing blueprint\n",
    );
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
  cli(temp.path(), &["init", "repo"])
    .run()
    .code(1)
    .stdout("")
    .stderr(format!(
      "error: `{target}` exists and was not written by oi-gen\n{}\
       error: 1 file would lose changes; nothing was written\n  \
       = help: oi-gen never overwrites a file it did not write, even with `--force`: move it aside, then run `oi-gen init` again\n",
      diff_of_a_replaced_file(&target, "mine\n", &read(&reference, &target))
    ));
  assert_eq!(fs::read_to_string(&path).unwrap(), "mine\n");
  assert!(!repo.join("platform.yaml").exists());
}

#[test]
fn rendering_again_writes_nothing() {
  let (_temp, repo) = init("openinnovation");
  let files = generated_files(&repo);
  let target = repo.join(some_generated_file(&repo));
  let lock = repo.join(".oi-gen/lock.toml");
  let old = fs::File::open(&target).unwrap();
  let stamp = |p: &Path| fs::metadata(p).unwrap().modified().unwrap();
  let (file_time, lock_time) = (stamp(&target), stamp(&lock));
  std::thread::sleep(std::time::Duration::from_millis(20));
  cli(&repo, &["render"])
    .run()
    .code(0)
    .stdout(rendered(0, 0, 0, files))
    .stderr("");
  assert_eq!(stamp(&target), file_time);
  assert_eq!(stamp(&lock), lock_time);
  drop(old);
}

#[test]
fn rendering_again_restores_a_lost_base_and_a_damaged_lock_entry() {
  let (_temp, repo) = init("openinnovation");
  let files = generated_files(&repo);
  let lock = ".oi-gen/lock.toml";
  let (base_text, lock_text) = (base_shards(&repo), read(&repo, lock));
  assert!(base_text.len() > 3, "{:?}", base_text.keys());
  // Every file is as rendered, but the base is gone and the lock records
  // another blueprint: the render writes both again, and nothing else.
  fs::remove_dir_all(repo.join(".oi-gen/base")).unwrap();
  let sha = lock_text
    .lines()
    .find_map(|line| line.strip_prefix("blueprint-sha256 = "))
    .unwrap()
    .to_string();
  fs::write(repo.join(lock), lock_text.replace(&sha, "\"0000\"")).unwrap();
  cli(&repo, &["render"])
    .run()
    .code(0)
    .stdout(rendered(0, 0, 0, files))
    .stderr("");
  assert_eq!(base_shards(&repo), base_text);
  assert_eq!(read(&repo, lock), lock_text);
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
  let files = generated_files(&repo);
  fs::write(repo.join("NOTES.md"), "mine\n").unwrap();
  let lock_path = repo.join(".oi-gen/lock.toml");
  // Pretend an earlier render wrote two files that the blueprint no longer produces.
  let mut lock: toml::Table = toml::from_str(&fs::read_to_string(&lock_path).unwrap()).unwrap();
  let entries = lock["files"].as_table_mut().unwrap();
  for (name, contents) in [("old/unedited.txt", "old\n"), ("old/edited.txt", "old\n")] {
    fs::create_dir_all(repo.join("old")).unwrap();
    fs::write(repo.join(name), contents).unwrap();
    let mut entry = toml::Table::new();
    entry.insert(
      "sha256".into(),
      oi_gen::lock::sha256(contents.as_bytes()).into(),
    );
    entry.insert("ownership".into(), "managed".into());
    entries.insert(name.into(), entry.into());
  }
  fs::write(&lock_path, toml::to_string(&lock).unwrap()).unwrap();
  fs::write(repo.join("old/edited.txt"), "changed\n").unwrap();

  cli(&repo, &["render", "--check"])
    .run()
    .code(1)
    .stdout("")
    .stderr(format!(
      "no longer produced by the blueprint (2):\n  old/edited.txt\n  old/unedited.txt\n\
       error: 2 findings against the blueprint\n{FINDING_HELP}"
    ));

  cli(&repo, &["render"]).run().code(1).stdout("").stderr(
    "error: `old/edited.txt` is no longer produced by the blueprint but was edited by hand\n\
     error: 1 file would lose changes; nothing was written\n  \
     = help: move the changes into platform.yaml, record them as intended with `oi-gen keep FILE…`, or run `oi-gen render --force` to overwrite them\n",
  );
  assert!(
    repo.join("old/unedited.txt").exists(),
    "nothing written on refusal"
  );

  cli(&repo, &["render", "--force"])
    .run()
    .code(0)
    .stdout(rendered(0, 0, 2, files))
    .stderr("");
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
  cli(&repo, &["render", "--force"])
    .redact(temp.path(), "[TEMP]")
    .run()
    .code(2)
    .stdout("")
    .stderr(
      "error: `.oi-gen/run.lock` passes through the symbolic link `./.oi-gen`; oi-gen does not follow links\n",
    );
  assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
}

#[test]
fn usage_errors_exit_2() {
  let temp = tempfile::tempdir().unwrap();
  cli(temp.path(), &["render", "--bogus"])
    .run()
    .code(2)
    .stdout("")
    .stderr(
      "error: unexpected argument '--bogus' found\n\n\
       Usage: oi-gen render [OPTIONS]\n\n\
       For more information, try '--help'.\n",
    );
  // No platform.yaml.
  cli(temp.path(), &["render"])
    .run()
    .code(2)
    .stdout("")
    .stderr(
      "error: blueprint `platform.yaml` not found\n  \
       = help: run `oi-gen init` to create one, or pass `-f <file>`\n",
    );
  cli(temp.path(), &["init", "x", "--from", "nope"])
    .run()
    .code(2)
    .stdout("")
    .stderr(
      "error: `nope` is neither a built-in blueprint nor a file\n  \
       = help: built-in blueprints are `acme-shop`, `harbor`, `ledger`, `openinnovation`\n",
    );
  cli(temp.path(), &["--version"])
    .run()
    .code(0)
    .stdout(format!("oi-gen {}\n", env!("CARGO_PKG_VERSION")))
    .stderr("");
}

#[test]
fn blueprints_lists_the_builtins() {
  let temp = tempfile::tempdir().unwrap();
  cli(temp.path(), &["blueprints"]).run().code(0).stderr("").stdout(
    "acme-shop        A storefront without a database: several services, two node groups and three environments\n\
     harbor           A small platform on EKS Auto Mode: node groups as Auto Mode NodePools, one service and two environments\n\
     ledger           A locked-down ledger: one AWS account per environment, no NAT gateways, Calico and a Route53 zone per environment\n\
     openinnovation   Blueprint contract for oi-gen, schema oi-gen.dev/v1alpha1 (default)\n",
  );
}

#[test]
fn validate_reports_ok() {
  let (_temp, repo) = init("openinnovation");
  cli(&repo, &["validate"])
    .run()
    .code(0)
    .stdout("platform.yaml is valid: platform `openinnovation-ai`, 2 services, 2 environments\n")
    .stderr("");
}

#[test]
fn render_out_writes_elsewhere() {
  let (temp, repo) = init("openinnovation");
  let files = generated_files(&repo);
  let other = temp.path().join("other");
  cli(&repo, &["render", "--out", other.to_str().unwrap()])
    .redact(temp.path(), "[TEMP]")
    .run()
    .code(0)
    .stdout(format!(
      "rendered [TEMP]/other: {files} created, 0 updated, 0 deleted, 0 unchanged\n"
    ))
    .stderr("");
  let target = some_generated_file(&repo);
  assert_eq!(
    fs::read(other.join(&target)).unwrap(),
    fs::read(repo.join(&target)).unwrap()
  );
}

#[test]
fn explain_names_owner_and_fields() {
  let (_temp, repo) = init("openinnovation");
  let sha256 = oi_gen::lock::sha256(read(&repo, ".gitignore").as_bytes());
  cli(&repo, &["explain", ".gitignore"])
    .run()
    .code(0)
    .stdout(format!(
      ".gitignore\n  \
       owner:   managed: regenerated by every render; edit the blueprint instead\n  \
       from:    oi-gen itself (no blueprint field)\n  \
       sha256:  {sha256}\n"
    ))
    .stderr("");
  let values = "charts/backend/values-staging.yaml";
  let sha256 = oi_gen::lock::sha256(read(&repo, values).as_bytes());
  cli(&repo, &["explain", values])
    .run()
    .code(0)
    .stdout(format!(
      "{values}\n  \
       owner:   managed: regenerated by every render; edit the blueprint instead\n  \
       from:    spec.services[0] (backend)\n           \
       spec.environments[0] (staging)\n           \
       spec.domain\n           \
       spec.cluster.addons\n  \
       sha256:  {sha256}\n"
    ))
    .stderr("");
  cli(&repo, &["explain", "platform.yaml"])
    .run()
    .code(1)
    .stdout("")
    .stderr(
      "error: `platform.yaml` was not generated by oi-gen\n  \
       = help: `oi-gen render --check` lists the files it generates\n",
    );
  let outside = tempfile::tempdir().unwrap();
  fs::write(outside.path().join("x"), "").unwrap();
  cli(outside.path(), &["explain", "x"])
    .redact(outside.path(), "[TEMP]")
    .run()
    .code(2)
    .stdout("")
    .stderr(
      "error: `x` is not inside a repository rendered by oi-gen (no .oi-gen/lock.toml above it)\n",
    );
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
  let doctor = || {
    Cli::new()
      .arg("doctor")
      .env("PATH", &bin)
      .redact(temp.path(), "[TEMP]")
      .run()
  };
  let table = |aws: &str, note: &str| {
    format!(
      "tool       found      pinned     for\n\
       terraform  1.15.5     1.15.5     plan and apply infra/\n\
       tflint     missing    0.64.0     lint infra/\n\
       helm       4.2.4      4.2.4      lint and deploy charts/\n\
       kubectl    1.35.0     -          talk to the cluster\n\
       aws        {aws:<10} -          credentials, kubeconfig and ECR{note}\n\
       checkov    missing    3.3.30     policy checks\n\
       flyway     missing    13.0.0     database migrations (or docker with the Flyway image)\n\
       docker     missing    -          build images, run Flyway locally\n"
    )
  };
  doctor()
    .code(1)
    .stdout(table("missing", " (required)"))
    .stderr(
      "error: missing required tool: aws\n  = help: install it and run `oi-gen doctor` again\n",
    );
  fake("aws", "aws-cli/2.17.0 Python/3.11.8");
  doctor().code(0).stdout(table("2.17.0", "")).stderr("");
}

#[test]
fn quiet_prints_nothing_on_success_and_verbose_lists_files() {
  let temp = tempfile::tempdir().unwrap();
  cli(temp.path(), &["--quiet", "init", "a"])
    .run()
    .code(0)
    .stdout("")
    .stderr("");
  let verbose = cli(temp.path(), &["init", "b", "--verbose"]).run();
  let repo = temp.path().join("b");
  let lock: toml::Table = toml::from_str(&read(&repo, ".oi-gen/lock.toml")).unwrap();
  let mut expected = String::new();
  for path in lock["files"].as_table().unwrap().keys() {
    expected.push_str(&format!("created      {path}\n"));
  }
  expected.push_str(&format!(
    "created b with {} files from `openinnovation.yaml`\n\
     next: review b/platform.yaml, then run `oi-gen render -f b/platform.yaml` after each change\n",
    generated_files(&repo) + 1
  ));
  verbose.code(0).stderr("").stdout(expected);
}

#[test]
fn init_wires_the_schema_into_the_blueprint() {
  let (_temp, repo) = init("openinnovation");
  let blueprint = fs::read_to_string(repo.join("platform.yaml")).unwrap();
  assert!(blueprint.starts_with("# yaml-language-server: $schema=.oi-gen/schema.json\n"));
  let schema = fs::read_to_string(repo.join(".oi-gen/schema.json")).unwrap();
  cli(&repo, &["schema"])
    .run()
    .code(0)
    .stdout(schema)
    .stderr("");
}

#[test]
fn the_generated_readme_keeps_its_user_section() {
  let (_temp, repo) = init("openinnovation");
  let files = generated_files(&repo);
  let path = repo.join("README.md");
  let text = fs::read_to_string(&path).unwrap();
  assert!(text.contains("```mermaid\nflowchart TB\n"), "{text}");
  let mine = text.replace(
    "Write your own notes here: oi-gen keeps this section as it is on every render.",
    "On-call: #platform-oncall",
  );
  fs::write(&path, &mine).unwrap();
  cli(&repo, &["render", "--check"]).run().code(0);
  // A blueprint change re-renders the README around the user section.
  let blueprint = fs::read_to_string(repo.join("platform.yaml")).unwrap();
  fs::write(
    repo.join("platform.yaml"),
    blueprint.replacen("build: frontend", "build: web", 1),
  )
  .unwrap();
  // The new build context holds code already: nothing is seeded there. The
  // old context's three starter files are the user's (no longer counted);
  // of the new one's, only the Dockerfile on disk is.
  fs::create_dir_all(repo.join("web")).unwrap();
  fs::write(repo.join("web/Dockerfile"), "FROM scratch\n").unwrap();
  cli(&repo, &["render"])
    .run()
    .code(0)
    .stdout(rendered(0, 3, 0, files - 5))
    .stderr("");
  let after = fs::read_to_string(&path).unwrap();
  assert!(after.contains("On-call: #platform-oncall"));
  assert!(after.contains("`web`"));
  // Outside the section, an edit is drift as usual.
  fs::write(&path, after.replacen("## Day to day", "## Daily", 1)).unwrap();
  let diff = diff_of_a_changed_line("README.md", &after, "## Day to day", "## Daily");
  cli(&repo, &["render", "--check"])
    .run()
    .code(1)
    .stdout("")
    .stderr(format!(
      "edited by hand (1):\n  README.md\n{diff}error: 1 finding against the blueprint\n{FINDING_HELP}"
    ));
}

/// `--force` overrides oi-gen's protection of the files it wrote, never the
/// user's own files that happen to sit at generated paths: those always
/// refuse, listed, and nothing is written.
#[test]
fn force_never_overwrites_files_oi_gen_did_not_write() {
  let (_t, reference) = init("openinnovation");
  let temp = tempfile::tempdir().unwrap();
  fs::copy(
    reference.join("platform.yaml"),
    temp.path().join("platform.yaml"),
  )
  .unwrap();
  let out = temp.path().join("out");
  let mine = [
    (".gitignore", "secrets/\n"),
    ("README.md", "# My project\n"),
    ("infra/vpc.tf", "# my own network\n"),
  ];
  for (path, text) in mine {
    fs::create_dir_all(out.join(path).parent().unwrap()).unwrap();
    fs::write(out.join(path), text).unwrap();
  }
  let before = tree(&out);
  let mut expected = String::new();
  for (path, text) in mine {
    expected.push_str(&format!(
      "error: `{path}` exists and was not written by oi-gen\n{}",
      diff_of_a_replaced_file(path, text, &read(&reference, path))
    ));
  }
  expected.push_str(
    "error: 3 files would lose changes; nothing was written\n  \
     = help: oi-gen never overwrites a file it did not write, even with `--force`: move them aside, then run `oi-gen render` again, or run `oi-gen render --adopt` to take them over (each is saved as FILE.orig first)\n",
  );
  for args in [
    &["render", "--out", "out", "--force"][..],
    &["render", "--out", "out"][..],
  ] {
    cli(temp.path(), args)
      .run()
      .code(1)
      .stdout("")
      .stderr(&expected);
    // Only the (empty) run lock, which a writing command takes first.
    let after: Vec<_> = tree(&out)
      .into_iter()
      .filter(|(path, _)| path != Path::new(".oi-gen/run.lock"))
      .collect();
    assert_eq!(after, before, "nothing was written");
  }

  // Moved aside, the render goes through.
  for (path, _) in mine {
    fs::remove_file(out.join(path)).unwrap();
  }
  cli(temp.path(), &["render", "--out", "out", "--force"])
    .run()
    .code(0);
  assert_eq!(read(&out, "infra/vpc.tf"), read(&reference, "infra/vpc.tf"));
}

/// An upgrade does not merge into a file oi-gen never wrote either.
#[test]
fn upgrade_never_merges_into_files_oi_gen_did_not_write() {
  let (_t, repo) = init("openinnovation");
  let lock = repo.join(".oi-gen/lock.toml");
  let mut table: toml::Table = toml::from_str(&read(&repo, ".oi-gen/lock.toml")).unwrap();
  table["files"]
    .as_table_mut()
    .unwrap()
    .remove("infra/vpc.tf")
    .unwrap();
  fs::write(&lock, toml::to_string(&table).unwrap()).unwrap();
  fs::write(repo.join("infra/vpc.tf"), "# my own network\n").unwrap();
  let before = tree(&repo);
  cli(&repo, &["upgrade"])
    .run()
    .code(1)
    .stdout("")
    .stderr(format!(
      "error: `infra/vpc.tf` exists and was not written by oi-gen\n{}\
       error: 1 file would lose changes; nothing was written\n  \
       = help: oi-gen never overwrites a file it did not write, even with `--force`: move it aside, then run `oi-gen upgrade` again, or take it over with `oi-gen render --adopt` (each is saved as FILE.orig first)\n",
      {
        let (_r, reference) = init("openinnovation");
        diff_of_a_replaced_file("infra/vpc.tf", "# my own network\n", &read(&reference, "infra/vpc.tf"))
      }
    ));
  assert_eq!(tree(&repo), before, "nothing was written");
}

/// `init` into a folder that was rendered into (its `platform.yaml` moved or
/// named otherwise) refuses, and the lock stays as it was.
#[test]
fn init_never_overwrites_an_existing_lock() {
  let (_t, repo) = init("openinnovation");
  fs::rename(repo.join("platform.yaml"), repo.join("blueprint.yaml")).unwrap();
  let before = tree(&repo);
  cli(&repo, &["init", ".", "--from", "acme-shop"])
    .run()
    .code(2)
    .stdout("")
    .stderr(
      "error: `./.oi-gen` already exists: the folder was rendered into before; oi-gen init never overwrites that state\n  \
       = help: run `oi-gen render -f <blueprint> --out <folder>` to render into it; to start over, delete `.oi-gen/` first\n",
    );
  assert_eq!(tree(&repo), before, "nothing was written");
}

/// A checkout with CRLF line endings (git's `core.autocrlf` on Windows) is
/// not an edit: `--check` is clean, `render` and `upgrade` write nothing,
/// and a real edit on top of it is still found.
#[test]
fn a_crlf_checkout_is_not_an_edit() {
  let (_t, repo) = init("openinnovation");
  let files = generated_files(&repo);
  for (path, bytes) in tree(&repo) {
    if path.starts_with(".oi-gen") || path == Path::new("platform.yaml") {
      continue;
    }
    let text = String::from_utf8(bytes).unwrap();
    fs::write(repo.join(&path), text.replace('\n', "\r\n")).unwrap();
  }
  let before = tree(&repo);
  cli(&repo, &["render", "--check"])
    .run()
    .code(0)
    .stdout(". is up to date with the blueprint\n")
    .stderr("");
  cli(&repo, &["render"])
    .run()
    .code(0)
    .stdout(rendered(0, 0, 0, files))
    .stderr("");
  cli(&repo, &["upgrade"])
    .run()
    .code(0)
    .stdout("upgraded .: 0 created, 0 updated, 0 merged, 0 conflicts, 0 deleted, 0 kept\n")
    .stderr("");
  assert_eq!(tree(&repo), before, "nothing was written");

  let target = some_generated_file(&repo);
  edit(&repo, &target, "\r\n", "\r\n# mine\r\n");
  let outcome = cli(&repo, &["render", "--check"]).run();
  outcome.code(1);
  assert!(
    outcome
      .stderr
      .starts_with(&format!("edited by hand (1):\n  {target}\n")),
    "{}",
    outcome.stderr
  );
}

/// The `.gitattributes` oi-gen writes is seeded: a repository's own is kept
/// as it is, never refused or rewritten.
#[test]
fn an_existing_gitattributes_is_kept() {
  let (_t, reference) = init("openinnovation");
  assert!(read(&reference, ".gitattributes").contains("* text=auto eol=lf\n"));
  let temp = tempfile::tempdir().unwrap();
  fs::copy(
    reference.join("platform.yaml"),
    temp.path().join("platform.yaml"),
  )
  .unwrap();
  fs::create_dir_all(temp.path().join("out")).unwrap();
  fs::write(temp.path().join("out/.gitattributes"), "*.png binary\n").unwrap();
  cli(temp.path(), &["render", "--out", "out"])
    .run()
    .code(0)
    .stderr("");
  assert_eq!(
    read(&temp.path().join("out"), ".gitattributes"),
    "*.png binary\n"
  );
}
