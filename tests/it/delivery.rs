//! Delivery order and re-runs: the deploy, release and rollback workflows of
//! every built-in blueprint check their environment's infrastructure before
//! they push or deploy, reuse an image that exists already, pin digests, and
//! the CI drift job installs the lock's oi-gen version from a cache keyed on
//! it. The steps' scripts are run here with stand-ins for `aws`, `helm`,
//! `kubectl` and `cargo` that record how they were called.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use oi_gen::blueprint::{self, Resolved};
use oi_gen::render::{self, Engine, Output};
use yaml_serde::Value;

use crate::support::Cli;

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

pub(crate) fn builtins() -> Vec<(&'static str, Resolved, Output)> {
  let engine = Engine::new().unwrap();
  oi_gen::builtin::all()
    .into_iter()
    .map(|builtin| {
      let resolved = blueprint::load(builtin.text.as_bytes())
        .expect("built-in blueprints are valid")
        .resolved;
      let output = render::render(&resolved, &engine).expect("renders");
      (builtin.name, resolved, output)
    })
    .collect()
}

pub(crate) fn workflow(output: &Output, name: &str) -> Value {
  let path = format!(".github/workflows/{name}.yml");
  yaml_serde::from_str(&output.files[&path].contents).unwrap()
}

pub(crate) fn steps(job: &Value) -> &[Value] {
  job["steps"].as_sequence().expect("steps")
}

pub(crate) fn names(job: &Value) -> Vec<&str> {
  steps(job)
    .iter()
    .map(|step| step["name"].as_str().expect("a named step"))
    .collect()
}

pub(crate) fn step<'a>(job: &'a Value, name: &str) -> &'a Value {
  steps(job)
    .iter()
    .find(|step| step["name"].as_str() == Some(name))
    .unwrap_or_else(|| panic!("no step {name:?} in {:?}", names(job)))
}

fn position(job: &Value, name: &str) -> usize {
  names(job)
    .iter()
    .position(|n| *n == name)
    .unwrap_or_else(|| panic!("no step {name:?} in {:?}", names(job)))
}

pub(crate) fn text<'a>(value: &'a Value, what: &str) -> &'a str {
  value
    .as_str()
    .unwrap_or_else(|| panic!("{what} is not a string: {value:?}"))
}

/// What a step's script did.
pub(crate) struct Ran {
  pub(crate) code: i32,
  pub(crate) stdout: String,
  pub(crate) stderr: String,
  /// What it appended to `$GITHUB_OUTPUT`.
  pub(crate) output: String,
  /// One line per call of a stand-in: `<tool> <arguments>`.
  pub(crate) calls: String,
}

/// Runs the `run:` script of `step` as GitHub does (`bash -e -o pipefail`),
/// with the step's literal `env:` values, then `env` (the values GitHub
/// expressions would give), and stand-in tools: `(name, shell body)`, the
/// body seeing its arguments as `$*`.
pub(crate) fn run(step: &Value, env: &[(&str, &str)], tools: &[(&str, &str)]) -> Ran {
  let dir = tempfile::tempdir().unwrap();
  run_in(dir.path(), step, env, tools)
}

pub(crate) fn run_in(
  dir: &Path,
  step: &Value,
  env: &[(&str, &str)],
  tools: &[(&str, &str)],
) -> Ran {
  let scratch = tempfile::tempdir().unwrap();
  let bin = scratch.path().join("bin");
  fs::create_dir(&bin).unwrap();
  let calls = scratch.path().join("calls");
  let output = scratch.path().join("output");
  fs::write(&calls, "").unwrap();
  fs::write(&output, "").unwrap();
  for (name, body) in tools {
    let path = bin.join(name);
    fs::write(
      &path,
      format!("#!/bin/bash\necho \"{name} $*\" >> \"$CALLS\"\n{body}\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
  }
  let script = scratch.path().join("script.sh");
  fs::write(&script, text(&step["run"], "run")).unwrap();
  let mut command = Command::new("bash");
  command
    .args(["--noprofile", "--norc", "-e", "-o", "pipefail"])
    .arg(&script)
    .current_dir(dir)
    .env_clear()
    .env(
      "PATH",
      format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
    )
    .env("HOME", scratch.path())
    .env("RUNNER_TEMP", scratch.path())
    .env("GITHUB_OUTPUT", &output)
    .env("CALLS", &calls);
  if let Some(vars) = step["env"].as_mapping() {
    for (key, value) in vars {
      let value = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("env value {other:?}"),
      };
      if !value.contains("${{") {
        command.env(key.as_str().unwrap(), value);
      }
    }
  }
  for (key, value) in env {
    command.env(key, value);
  }
  let out = command.output().expect("bash runs");
  Ran {
    code: out.status.code().expect("an exit code"),
    stdout: String::from_utf8(out.stdout).unwrap(),
    stderr: String::from_utf8(out.stderr).unwrap(),
    output: fs::read_to_string(&output).unwrap(),
    calls: fs::read_to_string(&calls).unwrap(),
  }
}

/// An AWS CLI error as the CLI prints it, exit code 254.
fn aws_error(code: &str) -> String {
  format!("echo 'An error occurred ({code}) when calling the operation: not there' >&2; exit 254")
}

#[test]
fn builds_reuse_an_existing_tag_and_its_digest_after_checking_the_repository() {
  for (name, resolved, output) in builtins() {
    let deploy = workflow(&output, "deploy");
    let first = &resolved.environments[0];
    for service in &resolved.services {
      let job = &deploy["jobs"][format!("build-{}", service.name).as_str()];
      let look = format!("Look for the {} image of this commit", service.name);
      assert_eq!(
        names(job),
        [
          "Check out the repository",
          &format!("Configure AWS credentials ({} build role)", first.name),
          &format!("Explain a missing {} build role", first.name),
          "Log in to Amazon ECR",
          &look,
          "Set up Buildx",
          "Build and push",
          &format!(
            "Vulnerability gate on the ECR scan of the {} image",
            service.name
          ),
          "Install cosign",
          &format!(
            "Sign the {} image (keyless, this workflow's identity)",
            service.name
          ),
        ],
        "{name}: {}",
        service.name
      );
      // A role that cannot be assumed (not applied yet) is explained.
      let explain = step(job, &format!("Explain a missing {} build role", first.name));
      assert_eq!(
        explain["if"].as_str(),
        Some("failure() && steps.aws.outcome == 'failure'")
      );
      assert_eq!(
        explain["env"]["ROLE"].as_str(),
        Some(first.names.build_role.as_str())
      );
      let ran = run(explain, &[("ACCOUNT", "123456789012")], &[]);
      assert_eq!(ran.code, 0);
      assert!(
        ran.stdout.starts_with(&format!(
          "::error::could not assume {}\n",
          first.names.build_role
        )) && ran.stdout.contains(&format!(
          "aws iam get-role --role-name {}",
          first.names.build_role
        )),
        "{}",
        ran.stdout
      );
      for skipped in ["Set up Buildx", "Build and push"] {
        assert_eq!(
          step(job, skipped)["if"].as_str(),
          Some("steps.existing.outputs.digest == ''"),
          "{name}: {skipped}"
        );
      }
      assert_eq!(
        job["outputs"]["digest"].as_str(),
        Some("${{ steps.existing.outputs.digest || steps.build.outputs.digest }}"),
        "{name}"
      );
      let repository = &service.environments[0].image_repository;
      let look = step(job, &look);
      assert_eq!(look["id"].as_str(), Some("existing"));
      assert_eq!(
        look["env"]["REPOSITORY"].as_str(),
        Some(repository.as_str())
      );
      let env = [("IMAGE_TAG", SHA)];

      // A re-run: the tag exists; its digest is the job's output.
      let found = run(look, &env, &[("aws", &format!("echo {DIGEST}"))]);
      assert_eq!(found.code, 0, "{}", found.stderr);
      assert_eq!(found.output, format!("digest={DIGEST}\n"));
      assert_eq!(
        found.calls,
        format!(
          "aws ecr describe-images --repository-name {repository} --image-ids imageTag={SHA} \
           --query imageDetails[0].imageDigest --output text\n"
        )
      );

      // The first run: no such tag yet, so the build runs.
      let absent = run(look, &env, &[("aws", &aws_error("ImageNotFoundException"))]);
      assert_eq!(absent.code, 0, "{}", absent.stderr);
      assert_eq!(absent.output, "");
      assert_eq!(
        absent.stdout,
        format!("{repository} has no {SHA} yet: building it\n")
      );

      // Before the infrastructure apply: fails at once, naming the repository
      // and the command that shows it.
      let missing = run(
        look,
        &env,
        &[("aws", &aws_error("RepositoryNotFoundException"))],
      );
      assert_eq!(missing.code, 1);
      assert_eq!(missing.output, "");
      assert_eq!(
        missing.stdout,
        format!(
          "::error::the ECR repository {repository} does not exist yet\n\
           ::error::check it with: aws ecr describe-repositories --repository-names {repository} --region {region}\n\
           ::error::run the apply-{env} job of the Terraform workflow first (GitHub environment {env}-infra)\n\
           ::error::then re-run this job\n",
          region = resolved.region,
          env = first.name,
        )
      );

      // Anything else is not taken for a missing image.
      let denied = run(look, &env, &[("aws", &aws_error("AccessDeniedException"))]);
      assert_eq!(denied.code, 1);
      assert!(
        denied.stderr.contains("(AccessDeniedException)"),
        "{}",
        denied.stderr
      );
    }
  }
}

/// Every deploy and release job checks its environment's infrastructure
/// right after logging in to AWS, before it promotes or deploys anything.
#[test]
fn deploys_check_the_infrastructure_before_they_promote_or_deploy() {
  for (name, resolved, output) in builtins() {
    for (file, prefix) in [("deploy", "deploy-"), ("release", "release-")] {
      let doc = workflow(&output, file);
      for env in &resolved.environments {
        let job = &doc["jobs"][format!("{prefix}{}", env.name).as_str()];
        let check = format!("Check that the {} infrastructure exists", env.name);
        let at = position(job, &check);
        assert_eq!(
          at,
          position(job, "Log in to Amazon ECR") + 1,
          "{name}: {file}"
        );
        for (i, step_name) in names(job).iter().enumerate() {
          if step_name.starts_with("Promote ")
            || step_name.starts_with("Deploy ")
            || step_name.starts_with("Find the ")
            || step_name.starts_with("Tag the ")
            || *step_name == "Set up Helm"
          {
            assert!(
              i > at,
              "{name}: {file}: {} runs {step_name} first",
              env.name
            );
          }
        }
        let check = step(job, &check);
        let in_env = |s: &oi_gen::blueprint::resolved::ResolvedService| {
          s.environments
            .iter()
            .find(|e| e.environment == env.name)
            .unwrap()
            .clone()
        };
        // The services' repositories, then the migrations image's.
        let repositories: Vec<String> = resolved
          .services
          .iter()
          .map(|s| in_env(s).image_repository)
          .chain(
            resolved
              .services
              .iter()
              .filter_map(|s| in_env(s).migrations_repository),
          )
          .collect();
        assert_eq!(
          check["env"]["REPOSITORIES"].as_str(),
          Some(repositories.join(" ").as_str())
        );
        assert_eq!(
          check["env"]["CLUSTER"].as_str(),
          Some(env.names.cluster.as_str())
        );
        assert_eq!(
          check["env"]["DB_INSTANCE"].as_str(),
          resolved
            .database
            .as_ref()
            .map(|_| env.names.database_instance.as_str())
        );

        // Everything there: the check passes and changes nothing.
        let present = run(
          check,
          &[],
          &[(
            "aws",
            "case \"$*\" in *describe-cluster*) echo ACTIVE;; esac",
          )],
        );
        assert_eq!(present.code, 0, "{}", present.stderr);
        let calls = present.calls.lines().count();
        assert_eq!(
          calls,
          repositories.len() + 1 + usize::from(resolved.database.is_some())
        );

        // Nothing there yet: each missing thing is named, with the command
        // that shows it, and what to run.
        let absent = run(
          check,
          &[],
          &[(
            "aws",
            &format!(
              "case \"$*\" in *describe-images*) {};; *describe-cluster*) {};; *) {};; esac",
              aws_error("RepositoryNotFoundException"),
              aws_error("ResourceNotFoundException"),
              aws_error("DBInstanceNotFound")
            ),
          )],
        );
        assert_eq!(absent.code, 1, "{name}: {file}");
        let region = &resolved.region;
        let mut expected = String::new();
        for repository in &repositories {
          expected.push_str(&format!(
            "::error::{} has no ECR repository {repository} \
             (aws ecr describe-repositories --repository-names {repository} --region {region})\n",
            env.name
          ));
        }
        expected.push_str(&format!(
          "::error::{} has no EKS cluster {cluster} \
           (aws eks describe-cluster --name {cluster} --region {region})\n",
          env.name,
          cluster = env.names.cluster
        ));
        if resolved.database.is_some() {
          expected.push_str(&format!(
            "::error::{} has no RDS instance {db} \
             (aws rds describe-db-instances --db-instance-identifier {db} --region {region})\n",
            env.name,
            db = env.names.database_instance
          ));
        }
        expected.push_str(&format!(
          "::error::run the apply-{env} job of the Terraform workflow first (GitHub environment {env}-infra)\n\
           ::error::then re-run the failed jobs of this run\n",
          env = env.name
        ));
        assert_eq!(absent.stdout, expected, "{name}: {file}");

        // A cluster still being created is not ready either.
        let creating = run(
          check,
          &[],
          &[(
            "aws",
            "case \"$*\" in *describe-cluster*) echo CREATING;; esac",
          )],
        );
        assert_eq!(creating.code, 1);
        assert!(
          creating.stdout.contains(&format!(
            "has no ACTIVE EKS cluster: {} is CREATING (",
            env.names.cluster
          )),
          "{}",
          creating.stdout
        );
      }
    }
  }
}

/// The digest every `helm upgrade` of a service pins, by workflow and
/// environment, and the digest its promotion into that environment checks.
#[test]
fn deploys_pin_the_same_digest_in_every_environment() {
  for (name, resolved, output) in builtins() {
    // With Argo CD the deploys commit the digests instead (tests/it/argocd.rs).
    if resolved.argocd() {
      continue;
    }
    let first = &resolved.environments[0].name;
    for file in ["deploy", "release"] {
      let doc = workflow(&output, file);
      for (i, env) in resolved.environments.iter().enumerate() {
        let job = &doc["jobs"][format!("{file}-{}", env.name).as_str()];
        for service in &resolved.services {
          let expected = match (file, i) {
            ("deploy", _) => format!("${{{{ needs.build-{}.outputs.digest }}}}", service.name),
            (_, 0) => format!("${{{{ steps.find-{}.outputs.digest }}}}", service.name),
            _ => format!(
              "${{{{ needs.release-{first}.outputs.{}-digest }}}}",
              service.name
            ),
          };
          let deploy = steps(job)
            .iter()
            .find(|s| {
              s["name"].as_str().is_some_and(|n| {
                n == format!("Deploy {}", service.name)
                  || n.starts_with(&format!("Deploy {} (", service.name))
              })
            })
            .unwrap_or_else(|| panic!("{name}: {file}: no deploy of {}", service.name));
          assert_eq!(
            deploy["env"]["DIGEST"].as_str(),
            Some(expected.as_str()),
            "{name}: {file}: {}",
            env.name
          );
          let script = text(&deploy["run"], "run");
          assert!(
            script.contains("--set-string image.digest=\"$DIGEST\""),
            "{script}"
          );
          assert!(!script.contains("image.tag"), "{name}: {file}: {script}");
          if i > 0 {
            let promote = step(job, &format!("Promote the {} image", service.name));
            assert_eq!(
              promote["env"]["DIGEST"].as_str(),
              Some(expected.as_str()),
              "{name}: {file}: {}",
              env.name
            );
          }

          // Without a digest the deploy stops before helm.
          let ran = run(
            deploy,
            &[("DIGEST", ""), ("REGISTRY", "r")],
            &[("helm", "exit 0")],
          );
          assert_eq!(ran.code, 1);
          assert_eq!(
            ran.stdout,
            format!("::error::no image digest for {}\n", service.name)
          );
          assert_eq!(ran.calls, "");
          // The migrations image is pinned by its own digest.
          let migrations =
            "sha256:3333333333333333333333333333333333333333333333333333333333333333";
          if service.runs_migrations {
            assert_eq!(
              deploy["env"]["MIGRATIONS_DIGEST"].as_str(),
              Some(
                expected
                  .replace(&service.name, &format!("{}-migrations", service.name))
                  .as_str()
              ),
              "{name}: {file}: {}",
              env.name
            );
            let ran = run(
              deploy,
              &[
                ("DIGEST", DIGEST),
                ("MIGRATIONS_DIGEST", ""),
                ("REGISTRY", "r"),
              ],
              &[("helm", "exit 0")],
            );
            assert_eq!(ran.code, 1);
            assert_eq!(
              ran.stdout,
              format!(
                "::error::no image digest for the {} migrations\n",
                service.name
              )
            );
          } else {
            assert!(deploy["env"].get("MIGRATIONS_DIGEST").is_none());
          }
          let ran = run(
            deploy,
            &[
              ("DIGEST", DIGEST),
              ("MIGRATIONS_DIGEST", migrations),
              ("REGISTRY", "r"),
              ("DB_HOST", "h"),
              ("DB_SECRET_ARN", "a"),
            ],
            &[("helm", "exit 0")],
          );
          assert_eq!(
            ran.calls.contains(&format!(
              "--set-string migrations.image.digest={migrations} "
            )),
            service.runs_migrations,
            "{}",
            ran.calls
          );
          assert_eq!(ran.code, 0, "{}", ran.stderr);
          assert!(
            ran.calls.starts_with(&format!(
              "helm upgrade --install {0} charts/{0} ",
              service.name
            )),
            "{}",
            ran.calls
          );
          assert!(
            ran
              .calls
              .contains(&format!("--set-string image.digest={DIGEST} ")),
            "{}",
            ran.calls
          );
        }
      }
    }
  }
}

#[test]
fn a_rollback_redeploys_the_digest_of_the_earlier_revision() {
  let old = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
  let helm = format!(
    "case \"$1\" in \
       history) echo '[{{\"revision\": 7}}]';; \
       get) echo '{{\"image\": {{\"digest\": \"{old}\", \"tag\": \"\"}}}}';; \
     esac"
  );
  for (name, resolved, output) in builtins() {
    // With Argo CD a rollback is a revert of a pin's commit: no workflow.
    if resolved.argocd() {
      assert!(!output.files.contains_key(".github/workflows/rollback.yml"));
      continue;
    }
    let doc = workflow(&output, "rollback");
    for env in &resolved.environments {
      let job = &doc["jobs"][format!("rollback-{}", env.name).as_str()];
      let rollback = step(job, "Roll back");
      let env = [("SERVICE", "api"), ("NAMESPACE", "ns"), ("REVISION", "")];
      let kubectl = format!("echo 123.dkr.ecr.r.amazonaws.com/p/e/api@{old}");
      let ran = run(rollback, &env, &[("helm", &helm), ("kubectl", &kubectl)]);
      assert_eq!(ran.code, 0, "{name}: {}", ran.stderr);
      let calls: Vec<&str> = ran.calls.lines().collect();
      assert_eq!(
        calls,
        [
          "helm history api --namespace ns --max 1 -o json",
          "helm get values api --namespace ns --revision 6 --all -o json",
          "helm rollback api 6 --namespace ns --wait --timeout 10m",
          "kubectl --namespace ns get deployment api -o jsonpath={.spec.template.spec.containers[0].image}",
          "helm history api --namespace ns --max 3",
        ],
        "{name}"
      );
      assert!(
        ran.stdout.starts_with(&format!(
          "Returning api from revision 7 to 6, image {old}\n"
        )),
        "{}",
        ran.stdout
      );

      // The Deployment must run that digest afterwards.
      let other = format!("echo reg/p/e/api@{DIGEST}");
      let ran = run(rollback, &env, &[("helm", &helm), ("kubectl", &other)]);
      assert_eq!(ran.code, 1);
      assert!(
        ran.stdout.ends_with(&format!(
          "::error::api runs reg/p/e/api@{DIGEST}, expected the digest {old} of revision 6\n"
        )),
        "{}",
        ran.stdout
      );

      // Only an earlier revision.
      let env = [("SERVICE", "api"), ("NAMESPACE", "ns"), ("REVISION", "7")];
      let ran = run(rollback, &env, &[("helm", &helm), ("kubectl", &kubectl)]);
      assert_eq!(ran.code, 1);
      assert_eq!(
        ran.stdout,
        "::error::revision 7 is not an earlier revision of api (the current one is 7)\n"
      );
    }
  }
}

/// The drift job reads the oi-gen version from `.oi-gen/lock.toml`, restores
/// the binary from a cache keyed on that version, the runner's OS and
/// architecture and the install source, and installs it only on a miss.
#[test]
fn the_drift_job_installs_the_locks_version_from_a_cache_keyed_on_it() {
  let repo = tempfile::tempdir().unwrap();
  Cli::new()
    .args(["init", "--quiet", "--from", "acme-shop"])
    .arg(repo.path())
    .run()
    .code(0);
  let ci: Value = yaml_serde::from_str(
    &fs::read_to_string(repo.path().join(".github/workflows/ci.yml")).unwrap(),
  )
  .unwrap();
  let job = &ci["jobs"]["drift"];
  assert_eq!(
    names(job),
    [
      "Check out the repository",
      "Read the oi-gen version of the lock",
      "Restore oi-gen",
      "Install oi-gen",
      "oi-gen render --check",
      "oi-gen verify",
    ]
  );
  // Once the files match the blueprint, that their parts still fit together,
  // with the binary of the lock.
  assert_eq!(
    step(job, "oi-gen verify")["run"].as_str(),
    Some("\"$HOME/.oi-gen/bin/oi-gen\" verify")
  );
  // Values from outside reach the scripts only through the environment.
  assert_eq!(
    job["env"]["OI_GEN_GIT"].as_str(),
    Some("${{ vars.OI_GEN_GIT }}")
  );
  assert_eq!(
    job["env"]["OI_GEN_INDEX"].as_str(),
    Some("${{ vars.OI_GEN_INDEX }}")
  );
  let cache = step(job, "Restore oi-gen");
  assert!(
    text(&cache["uses"], "uses").starts_with("actions/cache@"),
    "{cache:?}"
  );
  assert_eq!(cache["with"]["path"].as_str(), Some("~/.oi-gen"));
  assert_eq!(
    cache["with"]["key"].as_str(),
    Some(
      "oi-gen-${{ steps.lock.outputs.version }}-${{ runner.os }}-${{ runner.arch }}-${{ steps.lock.outputs.source }}"
    )
  );
  let install = step(job, "Install oi-gen");
  assert_eq!(
    install["if"].as_str(),
    Some("steps.oi-gen.outputs.cache-hit != 'true'")
  );
  assert_eq!(
    install["env"]["OI_GEN_VERSION"].as_str(),
    Some("${{ steps.lock.outputs.version }}")
  );

  // The version comes from the lock the render wrote.
  let lock = step(job, "Read the oi-gen version of the lock");
  assert_eq!(lock["id"].as_str(), Some("lock"));
  let source = |env: &[(&str, &str)]| {
    let ran = run_in(repo.path(), lock, env, &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let outputs: BTreeMap<&str, &str> = ran
      .output
      .lines()
      .map(|line| line.split_once('=').unwrap())
      .collect();
    assert_eq!(
      outputs.keys().copied().collect::<Vec<_>>(),
      ["source", "version"]
    );
    assert_eq!(outputs["version"], env!("CARGO_PKG_VERSION"));
    outputs["source"].to_string()
  };
  let crates_io = source(&[("OI_GEN_GIT", ""), ("OI_GEN_INDEX", "")]);
  let fork = source(&[
    ("OI_GEN_GIT", "https://github.com/example/oi-gen"),
    ("OI_GEN_INDEX", ""),
  ]);
  assert_ne!(crates_io, fork, "another source is another cache entry");
  assert_eq!(crates_io.len(), 12);

  // A lock that names another version installs that version.
  let lock_path = repo.path().join(".oi-gen/lock.toml");
  let original = fs::read_to_string(&lock_path).unwrap();
  let current = format!("oi-gen = \"{}\"", env!("CARGO_PKG_VERSION"));
  assert!(original.contains(&current));
  fs::write(&lock_path, original.replace(&current, "oi-gen = \"0.9.1\"")).unwrap();
  let ran = run_in(repo.path(), lock, &[], &[]);
  assert_eq!(ran.code, 0, "{}", ran.stderr);
  assert!(ran.output.starts_with("version=0.9.1\n"), "{}", ran.output);
  fs::write(
    &lock_path,
    original.replace(&current, "oi-gen = \"latest\""),
  )
  .unwrap();
  let ran = run_in(repo.path(), lock, &[], &[]);
  assert_eq!(ran.code, 1);
  assert_eq!(
    ran.stdout,
    "::error file=.oi-gen/lock.toml::no oi-gen version in .oi-gen/lock.toml (found 'latest')\n"
  );

  // crates.io by default, else the fork's tag or the mirror's index.
  let cargo = [("cargo", "exit 0")];
  for (git, index, expected) in [
    (
      "",
      "",
      "cargo install oi-gen --locked --root HOME/.oi-gen --version 0.9.1\n",
    ),
    (
      "https://git.example.com/oi-gen.git",
      "",
      "cargo install oi-gen --locked --root HOME/.oi-gen --git https://git.example.com/oi-gen.git --tag v0.9.1\n",
    ),
    (
      "",
      "sparse+https://cargo.example.com/index/",
      "cargo install oi-gen --locked --root HOME/.oi-gen --index sparse+https://cargo.example.com/index/ --version 0.9.1\n",
    ),
  ] {
    let env = [
      ("OI_GEN_VERSION", "0.9.1"),
      ("OI_GEN_GIT", git),
      ("OI_GEN_INDEX", index),
    ];
    let ran = run(install, &env, &cargo);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let home = ran.calls.split(" --root ").nth(1).unwrap();
    let home = &home[..home.find("/.oi-gen").unwrap()];
    assert_eq!(ran.calls.replace(home, "HOME"), expected);
  }

  // The check refuses a binary of another version.
  let check = step(job, "oi-gen render --check");
  let ran = {
    let mut step = check.clone();
    // The stand-in is found on PATH rather than in $HOME/.oi-gen/bin.
    let script = text(&check["run"], "run").replace("$HOME/.oi-gen/bin/oi-gen", "oi-gen");
    step["run"] = Value::String(script);
    run(
      &step,
      &[("OI_GEN_VERSION", "0.9.1")],
      &[("oi-gen", "echo 'oi-gen 0.1.0'")],
    )
  };
  assert_eq!(ran.code, 1);
  assert_eq!(
    ran.stdout,
    "::error::installed oi-gen 0.1.0, the lock needs oi-gen 0.9.1\n"
  );
  assert_eq!(ran.calls, "oi-gen --version\n");
}
