//! The repository around the platform: starter code in each service's build
//! context (seeded, the user's once written), code owners, pre-commit hooks,
//! the Renovate configuration and the Makefile.

use std::fs;
use std::path::Path;

use crate::support::*;

/// The instructions of a Dockerfile, comments and blank lines left out.
fn instructions(text: &str) -> Vec<(String, String)> {
  text
    .lines()
    .map(str::trim)
    .filter(|l| !l.is_empty() && !l.starts_with('#'))
    .filter_map(|l| l.split_once(' '))
    .map(|(k, v)| (k.to_ascii_uppercase(), v.trim().to_string()))
    .collect()
}

/// A value of the form `key: value` in a YAML text (first match).
fn yaml_value(text: &str, key: &str) -> String {
  text
    .lines()
    .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
    .unwrap_or_else(|| panic!("no {key}"))
    .trim_matches('"')
    .to_string()
}

#[test]
fn each_service_gets_a_dockerfile_that_fits_its_chart() {
  let (_temp, repo) = init("openinnovation");
  for (service, context) in [("backend", "backend"), ("frontend", "frontend")] {
    let values = read(&repo, &format!("charts/{service}/values.yaml"));
    let port = yaml_value(&values, "containerPort");
    let health = yaml_value(&values, "healthPath");
    let deployment = read(
      &repo,
      &format!("charts/{service}/templates/deployment.yaml"),
    );
    let uid = yaml_value(&deployment, "runAsUser");
    assert!(deployment.contains("readOnlyRootFilesystem: true"));

    let dockerfile = read(&repo, &format!("{context}/Dockerfile"));
    let steps = instructions(&dockerfile);
    let of = |kind: &str| -> Vec<&str> {
      steps
        .iter()
        .filter(|(k, _)| k == kind)
        .map(|(_, v)| v.as_str())
        .collect()
    };
    // One base image, pinned by the digest of its index.
    let from = of("FROM");
    assert_eq!(from.len(), 1, "{dockerfile}");
    let (_, digest) = from[0].split_once("@sha256:").expect("pinned by digest");
    assert!(
      digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
      "{}",
      from[0]
    );
    // A numeric user that is not root, the one the pod runs as, last.
    let user = of("USER");
    assert_eq!(user, [format!("{uid}:{uid}")], "{dockerfile}");
    assert_ne!(uid, "0");
    assert_eq!(steps.last().unwrap().0, "CMD");
    assert_eq!(of("EXPOSE"), [port.as_str()], "{service}");
    // Nothing is written at run time outside /tmp: no bytecode.
    assert!(dockerfile.contains("PYTHONDONTWRITEBYTECODE=1"));
    assert_eq!(of("COPY"), ["server.py ./"]);

    let server = read(&repo, &format!("{context}/server.py"));
    assert!(server.contains(&format!("os.environ.get(\"PORT\", \"{port}\")")));
    assert!(server.contains(&format!("HEALTH_PATH = \"{health}\"")));
    assert!(server.contains("signal.SIGTERM"));
    assert!(server.starts_with("# Created by oi-gen"), "{server}");
  }
}

#[test]
fn seeded_code_is_the_users_and_never_rewritten() {
  let (_temp, repo) = init("openinnovation");
  let lock = read(&repo, ".oi-gen/lock.toml");
  for path in [
    "backend/Dockerfile",
    "backend/server.py",
    "backend/.dockerignore",
  ] {
    let entry = lock.split(&format!("[files.\"{path}\"]")).nth(1).unwrap();
    assert!(
      entry.lines().take(3).any(|l| l == "ownership = \"seeded\""),
      "{path}: {entry}"
    );
  }
  // An edit is kept, also when the blueprint changes what would be seeded.
  edit(&repo, "backend/server.py", "Hello from", "Hi from");
  edit(&repo, "platform.yaml", "port: 8080", "port: 9090");
  cli(&repo, &["render"]).run().code(0);
  let server = read(&repo, "backend/server.py");
  assert!(
    server.contains("Hi from") && server.contains("\"8080\""),
    "{server}"
  );
  assert!(read(&repo, "backend/Dockerfile").contains("EXPOSE 8080"));
  cli(&repo, &["render", "--check"]).run().code(0);
  // A seeded file the user deleted does not come back, as the lock
  // remembers it (like the first migration).
  fs::remove_file(repo.join("backend/Dockerfile")).unwrap();
  cli(&repo, &["render"]).run().code(0);
  assert!(!repo.join("backend/Dockerfile").exists());
  cli(&repo, &["render", "--check"]).run().code(0);
}

#[test]
fn an_existing_build_context_is_left_alone() {
  let (_temp, repo) = init("openinnovation");
  fs::create_dir_all(repo.join("apps/web/src")).unwrap();
  fs::write(repo.join("apps/web/src/main.go"), "package main\n").unwrap();
  edit(&repo, "platform.yaml", "build: frontend", "build: apps/web");
  cli(&repo, &["render"]).run().code(0);
  let files: Vec<_> = tree(&repo.join("apps"))
    .into_iter()
    .map(|(path, _)| path)
    .collect();
  assert_eq!(files, [Path::new("web/src/main.go")]);
  cli(&repo, &["render", "--check"]).run().code(0);
  // A context that does not exist yet gets the starter code.
  edit(
    &repo,
    "platform.yaml",
    "build: apps/web",
    "build: apps/site",
  );
  cli(&repo, &["render"]).run().code(0);
  assert!(read(&repo, "apps/site/Dockerfile").contains("EXPOSE 80\n"));
  // The frontend's old starter code stays: it is the user's.
  assert!(repo.join("frontend/server.py").exists());
}

#[test]
fn services_sharing_a_context_get_one_starter() {
  let (_temp, repo) = init("openinnovation");
  edit(&repo, "platform.yaml", "build: frontend", "build: shared");
  edit(&repo, "platform.yaml", "build: backend", "build: shared");
  cli(&repo, &["render"]).run().code(0);
  // The first service building from it decides: the backend's port.
  assert!(read(&repo, "shared/Dockerfile").contains("EXPOSE 8080\n"));
  assert!(read(&repo, "shared/server.py").contains("NAME = \"backend\""));
}

#[test]
fn code_owners_come_from_the_blueprint() {
  let (_temp, repo) = init("openinnovation");
  assert!(!repo.join(".github/CODEOWNERS").exists());
  edit(
    &repo,
    "platform.yaml",
    "  delivery:\n",
    "  owners:\n    default: [\"@openinnovation-ai/platform\"]\n    infra: [\"@openinnovation-ai/sre\", \"@alice\"]\n\n  delivery:\n",
  );
  cli(&repo, &["render"]).run().code(0);
  let owners = read(&repo, ".github/CODEOWNERS");
  let lines: Vec<&str> = owners.lines().filter(|l| !l.starts_with('#')).collect();
  assert_eq!(
    lines,
    [
      "* @openinnovation-ai/platform",
      "/infra/ @openinnovation-ai/sre @alice",
      "/cluster/ @openinnovation-ai/sre @alice",
    ]
  );
  cli(&repo, &["render", "--check"]).run().code(0);
  // Removing `owners` removes the file.
  edit(
    &repo,
    "platform.yaml",
    "  owners:\n    default: [\"@openinnovation-ai/platform\"]\n    infra: [\"@openinnovation-ai/sre\", \"@alice\"]\n\n",
    "",
  );
  cli(&repo, &["render"]).run().code(0);
  assert!(!repo.join(".github/CODEOWNERS").exists());
}

#[test]
fn renovate_leaves_every_managed_file_alone() {
  let (_temp, repo) = init("openinnovation");
  let config: serde_json::Value =
    serde_json::from_str(&read(&repo, "renovate.json")).expect("renovate.json is JSON");
  let ignored: Vec<&str> = config["ignorePaths"]
    .as_array()
    .unwrap()
    .iter()
    .map(|v| v.as_str().unwrap())
    .collect();
  let matches = |glob: &str, path: &str| {
    let (g, p): (Vec<_>, Vec<_>) = (glob.split('/').collect(), path.split('/').collect());
    if let Some(prefix) = glob.strip_suffix("/**") {
      let n = prefix.split('/').count();
      return p.len() > n && matches_parts(&g[..n], &p[..n]);
    }
    g.len() == p.len() && matches_parts(&g, &p)
  };
  let lock: toml::Table = toml::from_str(&read(&repo, ".oi-gen/lock.toml")).unwrap();
  for (path, entry) in lock["files"].as_table().unwrap() {
    let managed = entry["ownership"].as_str() == Some("managed");
    let is_ignored = ignored.iter().any(|glob| matches(glob, path));
    assert_eq!(managed, is_ignored, "{path}");
  }
  // The version bump of oi-gen itself is read from the lock.
  let manager = &config["customManagers"][0];
  let pattern = manager["matchStrings"][0].as_str().unwrap();
  assert!(pattern.contains("^oi-gen = "), "{pattern}");
  assert!(lock["oi-gen"].as_str().is_some());
  assert_eq!(manager["datasourceTemplate"], "crate");
  let notes = config["packageRules"][0]["prBodyNotes"][0]
    .as_str()
    .unwrap();
  assert!(notes.contains("oi-gen upgrade"), "{notes}");
}

/// Whether path segments match glob segments (`*` any name, `x-*.yaml` a
/// name with that prefix and suffix).
fn matches_parts(glob: &[&str], path: &[&str]) -> bool {
  glob.iter().zip(path).all(|(g, p)| match g.split_once('*') {
    None => g == p,
    Some((before, after)) => {
      p.len() >= before.len() + after.len() && p.starts_with(before) && p.ends_with(after)
    }
  })
}

#[test]
fn pre_commit_and_make_run_what_ci_runs() {
  let (_temp, repo) = init("openinnovation");
  let hooks = read(&repo, ".pre-commit-config.yaml");
  for id in [
    "terraform_fmt",
    "terraform_tflint",
    "terraform_checkov",
    "actionlint",
    "oi-gen-render-check",
  ] {
    assert!(hooks.contains(&format!("- id: {id}\n")), "{id}");
  }
  for rev in hooks.lines().filter_map(|l| l.trim().strip_prefix("rev: ")) {
    assert!(
      rev.starts_with('v') && rev.matches('.').count() == 2,
      "{rev}"
    );
  }
  let makefile = read(&repo, "Makefile");
  let readme = read(&repo, "README.md");
  for command in [
    "terraform -chdir=infra apply -var-file=environments/$(ENV).tfvars",
    "bash cluster/install.sh $(ENV)",
  ] {
    assert!(makefile.contains(&format!("\t{command}\n")), "{command}");
    let in_readme = command.replace("$(ENV)", "<env>");
    assert!(readme.contains(&in_readme), "README: {in_readme}");
  }
  assert!(makefile.contains("\toi-gen render --check\n"));
  assert!(
    readme.contains("make plan ENV="),
    "the README names the Makefile"
  );
}
