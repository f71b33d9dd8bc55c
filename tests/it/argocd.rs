//! GitOps delivery with Argo CD (`spec.delivery.mode: argocd`): the deploy
//! jobs' image pins, committed against a real git remote, and `upgrade`
//! switching a repository from the Actions deploys to Argo CD.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::delivery::{builtins, run_in, step, workflow};
use crate::support::*;

const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const MIGRATIONS: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
const SECRET: &str = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:rds!db-1-AbCdEf";

fn git(dir: &Path, args: &[&str]) -> String {
  let out = Command::new("git")
    .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
    .args(args)
    .current_dir(dir)
    .env("GIT_CONFIG_NOSYSTEM", "1")
    .env("HOME", dir)
    .output()
    .expect("git runs");
  assert!(
    out.status.success(),
    "git {args:?}: {}",
    String::from_utf8_lossy(&out.stderr)
  );
  String::from_utf8(out.stdout).unwrap()
}

/// A remote whose `main` holds the seeded pins, and a checkout of it (what
/// actions/checkout leaves: a detached head at the pushed commit).
fn remote_and_checkout(
  root: &Path,
  files: &[(String, String)],
) -> (std::path::PathBuf, std::path::PathBuf) {
  let origin = root.join("origin.git");
  let seed = root.join("seed");
  fs::create_dir_all(&seed).unwrap();
  git(
    root,
    &[
      "init",
      "--quiet",
      "--bare",
      "-b",
      "main",
      origin.to_str().unwrap(),
    ],
  );
  git(&seed, &["init", "--quiet", "-b", "main"]);
  for (path, text) in files {
    let file = seed.join(path);
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    fs::write(file, text).unwrap();
  }
  git(&seed, &["add", "."]);
  git(&seed, &["commit", "--quiet", "-m", "seed"]);
  git(
    &seed,
    &["push", "--quiet", origin.to_str().unwrap(), "HEAD:main"],
  );
  let work = root.join("work");
  git(
    root,
    &[
      "clone",
      "--quiet",
      "--depth",
      "1",
      origin.to_str().unwrap(),
      work.to_str().unwrap(),
    ],
  );
  git(&work, &["checkout", "--quiet", "--detach"]);
  (origin, work)
}

#[test]
fn deploys_commit_the_digests_push_or_open_a_pull_request() {
  let mut seen = false;
  for (name, resolved, output) in builtins() {
    if !resolved.argocd() {
      continue;
    }
    seen = true;
    let owner = resolved.migrations_owner().map(|s| s.name.clone());
    let pins: Vec<(String, String)> = output
      .files
      .iter()
      .filter(|(path, _)| path.starts_with("deploy/"))
      .map(|(path, file)| (path.clone(), file.contents.clone()))
      .collect();
    assert_eq!(
      pins.len(),
      resolved.environments.len() * resolved.services.len(),
      "{name}"
    );
    for (file, tag) in [("deploy", "abc123"), ("release", "v1.2.3")] {
      let doc = workflow(&output, file);
      for env in &resolved.environments {
        let temp = tempfile::tempdir().unwrap();
        let (origin, work) = remote_and_checkout(temp.path(), &pins);
        // The branch moves on after the checkout: the pin goes on its tip.
        let other = temp.path().join("other");
        git(
          temp.path(),
          &[
            "clone",
            "--quiet",
            origin.to_str().unwrap(),
            other.to_str().unwrap(),
          ],
        );
        fs::write(other.join("NOTES"), "later\n").unwrap();
        git(&other, &["add", "NOTES"]);
        git(&other, &["commit", "--quiet", "-m", "later"]);
        git(&other, &["push", "--quiet", "origin", "HEAD:main"]);

        let job = &doc["jobs"][format!("{file}-{}", env.name).as_str()];
        let pin = step(
          job,
          &format!(
            "Pin the images in deploy/{}/images{}",
            env.name,
            if env.approval {
              " (a pull request to review)"
            } else {
              ""
            }
          ),
        );
        let mut vars: Vec<(String, String)> = vec![
          ("IMAGE_TAG".into(), tag.into()),
          (
            "REGISTRY".into(),
            "123456789012.dkr.ecr.eu-central-1.amazonaws.com".into(),
          ),
          ("MIGRATIONS_DIGEST".into(), MIGRATIONS.into()),
          ("DB_SECRET_ARN".into(), SECRET.into()),
          ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
        ];
        for service in &resolved.services {
          vars.push((
            format!("{}_DIGEST", service.name.to_uppercase().replace('-', "_")),
            DIGEST.into(),
          ));
        }
        let env_vars: Vec<(&str, &str)> =
          vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let gh = "case \"$1 $2\" in 'pr list') exit 0 ;; esac";
        let ran = run_in(&work, pin, &env_vars, &[("gh", gh)]);
        assert_eq!(
          ran.code, 0,
          "{name} {}: {}\n{}",
          env.name, ran.stdout, ran.stderr
        );
        let branch = if env.approval {
          format!("pin/{}/{tag}", env.name)
        } else {
          "main".to_string()
        };
        let log = git(&origin, &["log", "--format=%s", &branch]);
        let subjects: Vec<&str> = log.lines().collect();
        assert_eq!(
          subjects,
          [
            &format!("Deploy {tag} to {}", env.name)[..],
            "later",
            "seed"
          ],
          "{name} {}",
          env.name
        );
        // Only this environment's pins changed.
        let changed = git(
          &origin,
          &["diff", "--name-only", &format!("{branch}~1"), &branch],
        );
        let mut expected: Vec<String> = resolved
          .services
          .iter()
          .map(|s| format!("deploy/{}/images/{}.yaml", env.name, s.name))
          .collect();
        expected.sort();
        assert_eq!(changed.lines().collect::<Vec<_>>(), expected, "{name}");
        for service in &resolved.services {
          let text = git(
            &origin,
            &[
              "show",
              &format!("{branch}:deploy/{}/images/{}.yaml", env.name, service.name),
            ],
          );
          let values: yaml_serde::Value = yaml_serde::from_str(&text).unwrap();
          assert_eq!(values["image"]["digest"].as_str(), Some(DIGEST), "{text}");
          assert_eq!(
            values["image"].get("registry").is_some(),
            env.registry.is_none(),
            "{text}"
          );
          let migrates = owner.as_deref() == Some(service.name.as_str());
          assert_eq!(
            values["migrations"]["image"]["digest"].as_str(),
            migrates.then_some(MIGRATIONS),
            "{text}"
          );
          assert_eq!(
            values["database"]["secretArn"].as_str(),
            migrates.then_some(SECRET),
            "{text}"
          );
        }
        assert_eq!(
          ran.calls.contains("gh pr create --base main --head pin/"),
          env.approval,
          "{}",
          ran.calls
        );
        if !env.approval {
          // A re-run pins nothing new.
          let again = run_in(&work, pin, &env_vars, &[("gh", gh)]);
          assert_eq!(again.code, 0, "{}", again.stderr);
          assert!(
            again.stdout.contains("pins these images in"),
            "{}",
            again.stdout
          );
          let log = git(&origin, &["log", "--format=%s", "main"]);
          assert_eq!(log.lines().count(), 3, "{log}");
        }
        // Without a digest nothing is committed.
        let empty: Vec<(&str, &str)> = env_vars
          .iter()
          .map(|(k, v)| {
            if k.ends_with("_DIGEST") {
              (*k, "")
            } else {
              (*k, *v)
            }
          })
          .collect();
        let failed = run_in(&work, pin, &empty, &[("gh", gh)]);
        assert_eq!(failed.code, 1, "{}", failed.stdout);
        assert!(
          failed.stdout.starts_with("::error::no image digest in "),
          "{}",
          failed.stdout
        );
      }
    }
  }
  assert!(seen, "a built-in blueprint delivers with Argo CD");
}

/// Changing `spec.delivery.mode` and running `upgrade` switches the
/// repository: the deploys commit pins, the rollback workflow goes, Argo CD
/// and its Applications and the seeded pins appear; and back again.
#[test]
fn upgrade_switches_a_repository_to_argocd_and_back() {
  let (_temp, repo) = init("acme-shop");
  assert!(!repo.join("deploy").exists());
  assert!(repo.join(".github/workflows/rollback.yml").exists());
  let environments: Vec<String> = {
    let text = read(&repo, "platform.yaml");
    let doc: yaml_serde::Value = yaml_serde::from_str(&text).unwrap();
    doc["spec"]["environments"]
      .as_sequence()
      .unwrap()
      .iter()
      .map(|e| e["name"].as_str().unwrap().to_string())
      .collect()
  };
  edit(
    &repo,
    "platform.yaml",
    "  delivery:\n",
    "  delivery:\n    mode: argocd\n",
  );
  cli(&repo, &["upgrade"]).run().code(0);
  assert!(!repo.join(".github/workflows/rollback.yml").exists());
  let deploy = read(&repo, ".github/workflows/deploy.yml");
  assert!(!deploy.contains("helm upgrade"));
  assert!(deploy.contains("paths-ignore: [\"deploy/**\"]"));
  assert!(read(&repo, "cluster/install.sh").contains("chart argo-cd argocd argo-cd "));
  assert!(repo.join("cluster/addons/argo-cd/values.yaml").exists());
  for env in &environments {
    let apps = read(&repo, &format!("cluster/manifests/{env}/applications.yaml"));
    assert!(apps.contains("kind: AppProject"), "{apps}");
    assert!(read(&repo, &format!("deploy/{env}/images/storefront.yaml")).contains("digest: \"\""));
  }
  assert!(read(&repo, "README.md").contains("Argo CD"));
  cli(&repo, &["render", "--check"]).run().code(0);
  cli(&repo, &["verify"]).run().code(0);
  // A promotion rewrites a pin: state, not drift.
  let pin = format!("deploy/{}/images/storefront.yaml", environments[0]);
  fs::write(repo.join(&pin), format!("image:\n  digest: \"{DIGEST}\"\n")).unwrap();
  cli(&repo, &["render", "--check"]).run().code(0);
  cli(&repo, &["upgrade"]).run().code(0);
  assert!(
    read(&repo, &pin).contains(DIGEST),
    "a render never rewrites a pin"
  );

  // And back to the Actions deploys.
  edit(&repo, "platform.yaml", "    mode: argocd\n", "");
  cli(&repo, &["upgrade"]).run().code(0);
  assert!(repo.join(".github/workflows/rollback.yml").exists());
  assert!(read(&repo, ".github/workflows/deploy.yml").contains("helm upgrade --install"));
  assert!(!repo.join("cluster/addons/argo-cd/values.yaml").exists());
  assert!(
    !repo
      .join(format!(
        "cluster/manifests/{}/applications.yaml",
        environments[0]
      ))
      .exists()
  );
  cli(&repo, &["render", "--check"]).run().code(0);
}

/// `spec.delivery.argocd.managed`: the EKS Argo CD capability replaces the
/// chart, end to end through the CLI; and back to the chart.
#[test]
fn upgrade_switches_argocd_to_the_managed_capability_and_back() {
  const MANAGED: &str = "    mode: argocd
    argocd:
      managed: true
      identityCenter:
        instanceArn: arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6
        region: us-east-1
      rbac:
        admin:
          - group: 9067a1b2c3-a1b2c3d4-1234-5678-9abc-def012345678
        viewer:
          - user: 9067a1b2c3-c1b2c3d4-1234-5678-9abc-def012345678
";
  let (_temp, repo) = init("ledger");
  let chart_readme = read(&repo, "README.md");
  edit(&repo, "platform.yaml", "    mode: argocd\n", MANAGED);
  cli(&repo, &["upgrade"]).run().code(0);

  assert!(!repo.join("cluster/addons/argo-cd").exists());
  let install = read(&repo, "cluster/install.sh");
  assert!(!install.contains("chart argo-cd"), "no chart when managed");
  assert!(install.contains("--capability-name argocd --query capability.roleArn"));
  let files = [
    "infra/argocd.tf",
    "cluster/manifests/argocd-capability.yaml",
    "cluster/manifests/staging/applications.yaml",
  ];
  for path in files {
    insta::with_settings!({
      snapshot_path => "../../snapshots/argocd-managed",
      prepend_module_to_snapshot => false,
      omit_expression => true,
      description => format!("{path} of ledger with spec.delivery.argocd.managed"),
    }, {
      insta::assert_snapshot!(path.replace('/', "__"), read(&repo, path));
    });
  }
  let apps = read(&repo, "cluster/manifests/production/applications.yaml");
  assert!(!apps.contains("https://kubernetes.default.svc"), "{apps}");
  assert!(apps.contains("name: in-cluster"), "{apps}");
  // The install step fills in both ARNs the manifest leaves open.
  let capability = read(&repo, "cluster/manifests/argocd-capability.yaml");
  for placeholder in ["server: CLUSTER_ARN", "eks-access-entry:ARGOCD_ROLE_ARN"] {
    assert!(capability.contains(placeholder), "{capability}");
  }
  assert!(
    install
      .contains(r#"-e "s|CLUSTER_ARN|$cluster_arn|" -e "s|ARGOCD_ROLE_ARN|$argocd_role_arn|""#)
  );
  let readme = read(&repo, "README.md");
  assert!(readme.contains("Sign in* through IAM Identity Center only"));
  assert!(readme.contains("`ADMIN`: group `9067a1b2c3-a1b2c3d4-1234-5678-9abc-def012345678`"));
  assert!(!readme.contains("argocd-initial-admin-secret"));
  cli(&repo, &["render", "--check"]).run().code(0);
  cli(&repo, &["verify"]).run().code(0);
  // verify: the Applications' cluster must take their namespace.
  let capability_path = "cluster/manifests/argocd-capability.yaml";
  edit(
    &repo,
    capability_path,
    "namespaces: ledger",
    "namespaces: other",
  );
  let outcome = cli(&repo, &["verify"]).run();
  outcome.code(1);
  assert!(
    outcome.stdout.contains(
      "argocd-cluster: Application `api` deploys to the cluster `in-cluster`, but its cluster Secret admits only the namespaces `other`, not `ledger`"
    ),
    "{}",
    outcome.stdout
  );
  edit(
    &repo,
    capability_path,
    "namespaces: other",
    "namespaces: ledger",
  );
  cli(&repo, &["verify"]).run().code(0);

  // And back to the chart: the same repository as before, byte for byte.
  edit(&repo, "platform.yaml", MANAGED, "    mode: argocd\n");
  cli(&repo, &["upgrade"]).run().code(0);
  assert!(!repo.join("infra/argocd.tf").exists());
  assert!(
    !repo
      .join("cluster/manifests/argocd-capability.yaml")
      .exists()
  );
  assert!(repo.join("cluster/addons/argo-cd/values.yaml").exists());
  assert_eq!(read(&repo, "README.md"), chart_readme);
  cli(&repo, &["render", "--check"]).run().code(0);
}
