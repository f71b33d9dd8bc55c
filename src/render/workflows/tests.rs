//! The generated workflows of every built-in blueprint: structure rules
//! (their full text is pinned by the full-render snapshots).

use yaml_serde::Value;

use super::render;
use crate::blueprint::{self, Resolved};
use crate::render::{Engine, Output};

fn builtins() -> Vec<(&'static str, Resolved, Output)> {
  let engine = Engine::new().expect("templates parse");
  crate::builtin::all()
    .into_iter()
    .map(|builtin| {
      let resolved = blueprint::load(builtin.text.as_bytes())
        .expect("built-in blueprints are valid")
        .resolved;
      let mut out = Output::default();
      render(&resolved, &engine, &mut out).expect("workflows render");
      (builtin.name, resolved, out)
    })
    .collect()
}

fn workflows(out: &Output) -> Vec<(&str, &str, Value)> {
  out
    .files
    .iter()
    .filter(|(path, _)| path.starts_with(".github/workflows/"))
    .map(|(path, file)| {
      let doc =
        yaml_serde::from_str(&file.contents).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"));
      (path.as_str(), file.contents.as_str(), doc)
    })
    .collect()
}

fn jobs(doc: &Value) -> Vec<(&str, &Value)> {
  doc["jobs"]
    .as_mapping()
    .expect("jobs")
    .iter()
    .map(|(id, job)| (id.as_str().expect("job id"), job))
    .collect()
}

fn steps(job: &Value) -> &[Value] {
  job["steps"].as_sequence().map_or(&[], Vec::as_slice)
}

#[test]
fn every_action_is_pinned_to_a_commit_with_its_version() {
  for (_, _, out) in builtins() {
    for (path, text, _) in workflows(&out) {
      for line in text.lines() {
        let Some(uses) = line
          .trim_start()
          .trim_start_matches("- ")
          .strip_prefix("uses: ")
        else {
          continue;
        };
        let (action, rest) = uses.split_once('@').expect("owner/repo@ref");
        let (sha, comment) = rest.split_once(" # v").unwrap_or_else(|| {
          panic!("{path}: {action} has no version comment");
        });
        assert!(action.contains('/'), "{path}: {line}");
        assert_eq!(sha.len(), 40, "{path}: {line}");
        assert!(
          sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
          "{path}: {line}"
        );
        assert_eq!(comment.split('.').count(), 3, "{path}: {line}");
      }
    }
  }
}

#[test]
fn no_expression_inside_a_run_script() {
  for (_, _, out) in builtins() {
    for (path, _, doc) in workflows(&out) {
      for (id, job) in jobs(&doc) {
        for step in steps(job) {
          if let Some(run) = step["run"].as_str() {
            assert!(!run.contains("${{"), "{path}: job {id}: {run}");
          }
        }
      }
    }
  }
}

#[test]
fn permissions_are_empty_at_the_top_and_oidc_only_where_aws_is_called() {
  for (_, _, out) in builtins() {
    for (path, _, doc) in workflows(&out) {
      assert_eq!(
        doc["permissions"],
        Value::Mapping(Default::default()),
        "{path}"
      );
      for (id, job) in jobs(&doc) {
        let calls_aws = steps(job).iter().any(|step| {
          step["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("aws-actions/configure-aws-credentials@"))
        });
        let oidc = job["permissions"]["id-token"].as_str() == Some("write");
        assert_eq!(calls_aws, oidc, "{path}: job {id}");
        // Outside a GitHub environment only the read-only pull request
        // plans and the image builds, each with its own role.
        let outside = (path.ends_with("/terraform.yml") && id.starts_with("pr-plan-"))
          || (path.ends_with("/deploy.yml") && id.starts_with("build-"));
        if calls_aws {
          assert_eq!(job["environment"].is_string(), !outside, "{path}: job {id}");
        }
        for step in steps(job) {
          if step["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("actions/checkout@"))
          {
            assert_eq!(
              step["with"]["persist-credentials"],
              Value::Bool(false),
              "{path}: job {id}"
            );
          }
        }
      }
    }
  }
}

#[test]
fn deploys_follow_the_environments_in_order_and_never_cancel() {
  for (name, resolved, out) in builtins() {
    let order: Vec<&str> = resolved
      .environments
      .iter()
      .map(|e| e.name.as_str())
      .collect();
    for (file, prefix) in [
      ("deploy", "deploy-"),
      ("release", "release-"),
      ("terraform", "apply-"),
    ] {
      let path = format!(".github/workflows/{file}.yml");
      let doc: Value = yaml_serde::from_str(&out.files[&path].contents).unwrap();
      let deploys: Vec<(&str, &Value)> = jobs(&doc)
        .into_iter()
        .filter_map(|(id, job)| id.strip_prefix(prefix).map(|env| (env, job)))
        .collect();
      let envs: Vec<&str> = deploys.iter().map(|(env, _)| *env).collect();
      assert_eq!(envs, order, "{name}: {path}");
      for (i, (env, job)) in deploys.iter().enumerate() {
        // Terraform applies run in the environment's `-infra` GitHub environment.
        let github_env = if file == "terraform" {
          format!("{env}-infra")
        } else {
          env.to_string()
        };
        assert_eq!(
          job["environment"].as_str(),
          Some(github_env.as_str()),
          "{name}: {path}"
        );
        assert_eq!(
          job["concurrency"]["cancel-in-progress"],
          Value::Bool(false),
          "{name}: {path}: {env}"
        );
        if i > 0 {
          let previous = format!("{prefix}{}", order[i - 1]);
          // A Terraform apply needs its plan, which needs the previous apply.
          let needs = if file == "terraform" {
            &doc["jobs"][format!("plan-{env}").as_str()]["needs"]
          } else {
            &job["needs"]
          };
          let after_previous = needs.as_str() == Some(previous.as_str())
            || needs
              .as_sequence()
              .is_some_and(|n| n.iter().any(|x| x.as_str() == Some(previous.as_str())));
          assert!(after_previous, "{name}: {path}: {env} must need {previous}");
        }
      }
    }
  }
}

/// The role a job assumes: the `role-to-assume` of its credentials step.
fn assumed_role(job: &Value) -> Option<&str> {
  steps(job)
    .iter()
    .find(|step| {
      step["uses"]
        .as_str()
        .is_some_and(|u| u.starts_with("aws-actions/configure-aws-credentials@"))
    })
    .map(|step| {
      step["with"]["role-to-assume"]
        .as_str()
        .expect("role-to-assume")
    })
}

fn role_arn(role: &str) -> String {
  format!("arn:aws:iam::${{{{ vars.AWS_ACCOUNT_ID }}}}:role/{role}")
}

/// `role-to-assume` of a job outside any GitHub environment: the account is
/// the blueprint's, or the repository variable.
fn role_arn_outside(account: Option<&str>, role: &str) -> String {
  match account {
    Some(account) => format!("arn:aws:iam::{account}:role/{role}"),
    None => role_arn(role),
  }
}

/// Each job assumes the role of its task: the pull request plans the
/// read-only plan role, outside any GitHub environment; the plans and
/// applies of the branch and the infrastructure tests the Terraform role in
/// `<env>-infra`; the image builds the first environment's build role,
/// outside any environment; every other job the deploy role of its GitHub
/// environment `<env>`.
#[test]
fn every_job_assumes_the_role_of_its_task() {
  for (name, resolved, out) in builtins() {
    let envs = &resolved.environments;
    let (mut pr_plans, mut terraform_jobs, mut builds) = (0, 0, 0);
    for (path, _, doc) in workflows(&out) {
      let terraform = path.ends_with("/terraform.yml") || path.ends_with("/infra-test.yml");
      for (id, job) in jobs(&doc) {
        let Some(role) = assumed_role(job) else {
          continue;
        };
        let at = format!("{name}: {path}: {id}");
        if path.ends_with("/preview.yml") {
          // Every job of the previews: the preview role, in the GitHub
          // environment it alone trusts.
          let previews = resolved.previews.as_ref().expect(&at);
          assert_eq!(job["environment"].as_str(), Some("preview"), "{at}");
          assert_eq!(role, role_arn(&previews.role), "{at}");
          continue;
        }
        if let Some(env_name) = id.strip_prefix("pr-plan-") {
          pr_plans += 1;
          let env = envs.iter().find(|e| e.name == env_name).expect(&at);
          assert!(job["environment"].is_null(), "{at}");
          assert_eq!(
            job["if"].as_str(),
            Some("github.event_name == 'pull_request'"),
            "{at}"
          );
          assert_eq!(
            role,
            role_arn_outside(env.account.as_deref(), &env.names.terraform_plan_role),
            "{at}"
          );
          let plan = steps(job)
            .iter()
            .filter_map(|step| step["run"].as_str())
            .find(|run| run.contains("terraform plan"))
            .expect(&at);
          assert!(plan.contains("-refresh=false"), "{at}: {plan}");
          assert!(
            job["permissions"]["pull-requests"].as_str() == Some("write"),
            "{at}"
          );
          continue;
        }
        if id.starts_with("build-") {
          builds += 1;
          assert!(path.ends_with("/deploy.yml"), "{at}");
          assert!(job["environment"].is_null(), "{at}");
          assert_eq!(
            role,
            role_arn_outside(envs[0].account.as_deref(), &envs[0].names.build_role),
            "{at}"
          );
          continue;
        }
        let environment = job["environment"].as_str().expect("an environment");
        if terraform {
          terraform_jobs += 1;
          let env = envs
            .iter()
            .find(|e| e.names.infra_environment == environment)
            .unwrap_or_else(|| panic!("{at} runs in {environment}"));
          assert!(environment.ends_with("-infra"), "{at}");
          assert_eq!(role, role_arn(&env.names.terraform_role), "{at}");
          if let Some(env_name) = id
            .strip_prefix("plan-")
            .or_else(|| id.strip_prefix("apply-"))
          {
            assert_eq!(env_name, env.name, "{at}");
            // Plans of the branch only; its apply needs its plan.
            let only_the_branch = format!(
              "github.event_name != 'pull_request' && github.ref == 'refs/heads/{}'",
              resolved.branch
            );
            let expected = id.starts_with("plan-").then_some(only_the_branch.as_str());
            assert_eq!(job["if"].as_str(), expected, "{at}");
          } else {
            assert_eq!(id, "terratest", "{name}: {path}");
            assert_eq!(env.name, envs[0].name, "{at}");
          }
        } else {
          let env = envs
            .iter()
            .find(|e| e.name == environment)
            .unwrap_or_else(|| panic!("{at} runs in {environment}"));
          assert_eq!(role, role_arn(&env.names.deploy_role), "{at}");
          assert!(!role.ends_with("-terraform"), "{at}");
        }
      }
    }
    assert_eq!(pr_plans, envs.len(), "{name}");
    // A plan and an apply per environment, and the infrastructure tests.
    assert_eq!(terraform_jobs, 2 * envs.len() + 1, "{name}");
    // One per service, and the migrations image.
    assert_eq!(
      builds,
      resolved.services.len() + usize::from(resolved.migrations_owner().is_some()),
      "{name}"
    );
  }
}

/// The apply job applies exactly the plan its plan job made and showed: it
/// downloads that file, checks its SHA-256 against the plan job's output and
/// applies the file, saying what to do when Terraform finds it stale; then it
/// installs the cluster add-ons, which no application deploy does.
#[test]
fn applies_take_the_reviewed_plan_and_install_the_addons() {
  for (name, resolved, out) in builtins() {
    let doc: Value =
      yaml_serde::from_str(&out.files[".github/workflows/terraform.yml"].contents).unwrap();
    for env in &resolved.environments {
      let e = &env.name;
      let plan = &doc["jobs"][format!("plan-{e}").as_str()];
      let apply = &doc["jobs"][format!("apply-{e}").as_str()];
      assert_eq!(
        apply["needs"].as_str(),
        Some(format!("plan-{e}").as_str()),
        "{name}"
      );
      assert_eq!(
        plan["outputs"]["sha256"].as_str(),
        Some("${{ steps.checksum.outputs.sha256 }}"),
        "{name}"
      );
      let runs = |job: &Value| -> Vec<String> {
        steps(job)
          .iter()
          .filter_map(|step| step["run"].as_str().map(str::to_string))
          .collect()
      };
      let uses = |job: &Value, action: &str| {
        steps(job)
          .iter()
          .find(|step| step["uses"].as_str().is_some_and(|u| u.starts_with(action)))
          .cloned()
          .unwrap_or_else(|| panic!("{name}: {e}: no {action}"))
      };
      let upload = uses(plan, "actions/upload-artifact@");
      let download = uses(apply, "actions/download-artifact@");
      assert_eq!(upload["with"]["name"], download["with"]["name"], "{name}");
      let plan_runs = runs(plan);
      assert!(
        plan_runs.iter().any(|r| r.contains("-out=plan.tfplan")),
        "{name}"
      );
      assert!(
        plan_runs
          .iter()
          .any(|r| r.contains("sha256sum plan.tfplan")),
        "{name}"
      );
      assert!(
        plan_runs
          .iter()
          .any(|r| r.contains("terraform show -json plan.tfplan")
            && r.contains("to add")
            && r.contains("to destroy")
            && r.contains("GITHUB_STEP_SUMMARY")),
        "{name}"
      );
      let apply_runs = runs(apply);
      let check = apply_runs
        .iter()
        .position(|r| r.contains("sha256sum --check"))
        .expect("checks the SHA-256");
      let applies = apply_runs
        .iter()
        .position(|r| r.contains("terraform apply -input=false -lock-timeout=10m plan.tfplan"))
        .expect("applies the saved plan");
      let addons = apply_runs
        .iter()
        .position(|r| r == &format!("bash cluster/install.sh {e}"))
        .expect("installs the add-ons");
      assert!(check < applies && applies < addons, "{name}: {e}");
      assert!(
        apply_runs[applies].contains("Saved plan is stale"),
        "{name}"
      );
      assert!(apply_runs[applies].contains("re-run all jobs"), "{name}");
      assert!(
        !apply_runs.iter().any(|r| r.contains("terraform plan")),
        "{name}"
      );
    }
    for path in [
      ".github/workflows/deploy.yml",
      ".github/workflows/release.yml",
      ".github/workflows/rollback.yml",
    ] {
      // With Argo CD there is no rollback workflow: a revert is the rollback.
      let Some(file) = out.files.get(path) else {
        assert!(resolved.argocd(), "{name}: {path}");
        continue;
      };
      let text = &file.contents;
      assert!(!text.contains("bash cluster/install.sh"), "{name}: {path}");
      assert!(!text.contains("--create-namespace"), "{name}: {path}");
    }
  }
}

#[test]
fn the_migrations_owner_is_deployed_first() {
  for (name, resolved, out) in builtins() {
    let Some(owner) = resolved.migrations_owner() else {
      continue;
    };
    let deploy = &out.files[".github/workflows/deploy.yml"].contents;
    if resolved.argocd() {
      // Its image pin is written first; Argo CD runs its migrations hook
      // (PreSync) before the rest of its chart.
      let first = deploy
        .lines()
        .find_map(|line| {
          line
            .trim()
            .strip_prefix("} > \"deploy/$ENVIRONMENT/images/")
        })
        .expect("an image pin");
      assert!(first.starts_with(&format!("{}.yaml", owner.name)), "{name}");
      continue;
    }
    let first = deploy
      .lines()
      .find_map(|line| line.trim().strip_prefix("helm upgrade --install "))
      .expect("a helm upgrade");
    assert!(first.starts_with(&format!("{} ", owner.name)), "{name}");
  }
}

#[test]
fn one_region_everywhere() {
  for (name, resolved, out) in builtins() {
    for (path, text, _) in workflows(&out) {
      for line in text.lines() {
        for key in ["aws-region: ", "AWS_REGION: "] {
          if let Some(region) = line.trim().strip_prefix(key) {
            assert_eq!(region, resolved.region, "{name}: {path}");
          }
        }
      }
    }
  }
}

/// One file per template under `templates/.github/workflows/` and
/// `templates/test/infra/`, at the same path without `.tera`; the macros
/// partial is not one.
#[test]
fn every_template_renders_to_its_path_and_partials_to_none() {
  for (name, resolved, out) in builtins() {
    let paths: Vec<&str> = out.files.keys().map(String::as_str).collect();
    let expected: Vec<&str> = [
      ".github/workflows/ci.yml",
      ".github/workflows/deploy.yml",
      ".github/workflows/infra-test.yml",
      ".github/workflows/preview.yml",
      ".github/workflows/release.yml",
      ".github/workflows/rollback.yml",
      ".github/workflows/terraform.yml",
      "test/infra/go.mod",
      "test/infra/infra_test.go",
    ]
    .into_iter()
    // With Argo CD, a rollback is a revert of an image pin's commit.
    .filter(|path| !(resolved.argocd() && path.ends_with("rollback.yml")))
    // Previews only where the blueprint turns them on.
    .filter(|path| resolved.previews.is_some() || !path.ends_with("preview.yml"))
    .collect();
    assert_eq!(paths, expected, "{name}");
  }
}

/// With Argo CD the deploy and release jobs commit image pins instead of
/// running Helm: pushed where the environment needs no approval (contents:
/// write), a pull request where it does (and pull-requests: write there only).
#[test]
fn argocd_deploys_commit_the_image_pins() {
  let mut seen = false;
  for (name, resolved, out) in builtins() {
    if !resolved.argocd() {
      continue;
    }
    seen = true;
    for path in [
      ".github/workflows/deploy.yml",
      ".github/workflows/release.yml",
    ] {
      let text = &out.files[path].contents;
      assert!(!text.contains("helm upgrade"), "{name}: {path}");
      let doc: Value = yaml_serde::from_str(text).expect("YAML");
      for env in &resolved.environments {
        let prefix = if path.ends_with("deploy.yml") {
          "deploy"
        } else {
          "release"
        };
        let job = &doc["jobs"][format!("{prefix}-{}", env.name).as_str()];
        let permissions = job["permissions"].as_mapping().expect("permissions");
        assert_eq!(
          permissions[&Value::from("contents")],
          Value::from("write"),
          "{name}: {path}"
        );
        assert_eq!(
          permissions.contains_key(Value::from("pull-requests")),
          env.approval,
          "{name}: {path} {}",
          env.name
        );
        let runs: Vec<&str> = job["steps"]
          .as_sequence()
          .expect("steps")
          .iter()
          .filter_map(|step| step["run"].as_str())
          .collect();
        let pin = runs
          .iter()
          .find(|run| run.contains("deploy/$ENVIRONMENT/images"))
          .unwrap_or_else(|| panic!("{name}: {path} {} pins nothing", env.name));
        assert_eq!(pin.contains("gh pr create"), env.approval, "{name}: {path}");
        assert_eq!(
          pin.contains("git push origin \"HEAD:refs/heads/$BRANCH\""),
          !env.approval,
          "{name}: {path}"
        );
        // An environment that pushes its pin and has a next one waits for
        // its Applications, synced and healthy, after the pin and only then.
        let has_next = resolved.environments.last().map(|e| &e.name) != Some(&env.name);
        let wait = runs
          .iter()
          .position(|run| run.contains("kubectl --namespace argocd get application"));
        assert_eq!(
          wait.is_some(),
          !env.approval && has_next,
          "{name}: {path} {}",
          env.name
        );
        if let Some(wait) = wait {
          let pin_at = runs.iter().position(|run| run == pin).expect("the pin");
          assert!(pin_at < wait, "{name}: {path}: the wait follows the pin");
          for service in &resolved.services {
            assert!(
              runs[wait].contains(&format!("ready {} \"$", service.name)),
              "{name}: {path}: {} is awaited",
              service.name
            );
          }
          assert!(runs[wait].contains("\"Synced/Healthy \"*\"@$2\"*"));
        }
      }
    }
    let deploy: Value =
      yaml_serde::from_str(&out.files[".github/workflows/deploy.yml"].contents).expect("YAML");
    assert_eq!(
      deploy["on"]["push"]["paths-ignore"][0],
      Value::from("deploy/**"),
      "{name}"
    );
  }
  assert!(seen, "a built-in blueprint delivers with Argo CD");
}

#[test]
fn no_template_syntax_is_left_in_the_output() {
  for (name, _, out) in builtins() {
    for (path, file) in &out.files {
      let text = file.contents.replace("${{", "");
      assert!(!text.contains("{%"), "{name}: {path}");
      assert!(!text.contains("{{"), "{name}: {path}");
      assert!(!text.contains("raw %}"), "{name}: {path}");
    }
  }
}

#[test]
fn tidy_trims_lines_and_collapses_blank_runs() {
  assert_eq!(super::tidy("\n\na:  \n\n\n  b\n\n".into()), "a:\n\n  b\n");
  // As `str::lines` and `str::trim_end` would make it.
  for text in [
    "",
    "\n",
    "a",
    "a\r\nb \t\r\n\r\n\r\nc",
    "  x\u{a0}\n\u{3000}\n\n\ny\u{2003}z \n",
    "é  \n\nü",
    "\n\n\n",
    "last   ",
  ] {
    let mut expected = String::new();
    let mut blank = true;
    for line in text.lines().map(str::trim_end) {
      if line.is_empty() {
        if !blank {
          expected.push('\n');
        }
        blank = true;
      } else {
        blank = false;
        expected.push_str(line);
        expected.push('\n');
      }
    }
    while expected.ends_with("\n\n") {
      expected.pop();
    }
    assert_eq!(super::tidy(text.to_string()), expected, "{text:?}");
  }
}

/// CI checks both Terraform root modules, `infra/` and `infra/bootstrap/`:
/// fmt, TFLint and Checkov walk `infra/` recursively, and each root module
/// is initialised and validated in its own folder.
#[test]
fn ci_checks_both_terraform_root_modules() {
  for (name, _, out) in builtins() {
    let ci = &workflows(&out)
      .into_iter()
      .find(|(path, _, _)| *path == ".github/workflows/ci.yml")
      .expect("ci.yml")
      .2;
    let job = &ci["jobs"]["terraform"];
    let default_dir = job["defaults"]["run"]["working-directory"]
      .as_str()
      .expect("infra/ by default");
    assert_eq!(default_dir, "infra", "{name}");
    let runs: Vec<(&str, &str)> = steps(job)
      .iter()
      .filter_map(|step| {
        let run = step["run"].as_str()?;
        let dir = step["working-directory"].as_str().unwrap_or(default_dir);
        Some((dir, run.trim()))
      })
      .collect();
    for folder in ["infra", "infra/bootstrap"] {
      for command in [
        "terraform init -backend=false -input=false",
        "terraform validate",
      ] {
        assert!(
          runs.contains(&(folder, command)),
          "{name}: no `{command}` in {folder}: {runs:?}"
        );
      }
    }
    let recursive = |prefix: &str, flag: &str| {
      runs
        .iter()
        .any(|(dir, run)| *dir == "infra" && run.starts_with(prefix) && run.contains(flag))
    };
    assert!(recursive("terraform fmt", "-recursive"), "{name}");
    assert!(recursive("tflint ", "--recursive"), "{name}");
    assert!(
      runs.iter().any(|(dir, run)| *dir == "infra"
        && run.contains("checkov --config-file")
        && run.contains("--directory . ")),
      "{name}"
    );
  }
}

/// On the scratch database every migration starts pending, and Flyway's
/// `validate` fails on pending migrations (only `migrate` applies them), so
/// the migrations job migrates before it validates.
#[test]
fn the_migrations_job_migrates_before_it_validates() {
  let mut checked = 0;
  for (name, resolved, out) in builtins() {
    let ci = &out.files[".github/workflows/ci.yml"].contents;
    let doc: Value = yaml_serde::from_str(ci).expect("ci.yml is YAML");
    let Some(job) = doc["jobs"].get("migrations") else {
      assert!(
        resolved.database.is_none(),
        "{name}: a database and no migrations job"
      );
      continue;
    };
    let commands: Vec<&str> = steps(job)
      .iter()
      .filter_map(|step| step["run"].as_str())
      .filter_map(|run| run.split_whitespace().last())
      .collect();
    assert_eq!(commands, ["migrate", "validate", "info"], "{name}");
    checked += 1;
  }
  assert!(checked > 0, "no built-in blueprint has a database");
}

/// A value of a GitHub expression, as far as the workflows' job conditions
/// need: strings and booleans.
#[derive(Debug, Clone, PartialEq)]
enum Eval {
  Str(String),
  Bool(bool),
}

impl Eval {
  fn truthy(&self) -> bool {
    match self {
      Eval::Str(s) => !s.is_empty(),
      Eval::Bool(b) => *b,
    }
  }
}

/// Evaluates a job condition (`==`, `!=`, `&&`, `||`, `!`, parentheses,
/// string literals, context paths, the status functions) against `context`;
/// a path it does not hold is a job output or other value the event does
/// not fix, taken as `'true'` (the case that runs the most).
struct Condition<'a> {
  tokens: Vec<String>,
  at: usize,
  context: &'a dyn Fn(&str) -> Option<Eval>,
}

impl Condition<'_> {
  fn tokenize(text: &str) -> Vec<String> {
    let text = text.trim();
    let text = text
      .strip_prefix("${{")
      .and_then(|t| t.strip_suffix("}}"))
      .unwrap_or(text);
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
      let c = chars[i];
      if c.is_whitespace() {
        i += 1;
      } else if c == '\'' {
        let end = chars[i + 1..]
          .iter()
          .position(|&c| c == '\'')
          .expect("closed string")
          + i
          + 1;
        tokens.push(chars[i..=end].iter().collect());
        i = end + 1;
      } else if "=!&|".contains(c) && chars.get(i + 1).is_some_and(|&n| n == '=' || n == c) {
        tokens.push(chars[i..i + 2].iter().collect());
        i += 2;
      } else if "!()".contains(c) {
        tokens.push(c.to_string());
        i += 1;
      } else {
        let start = i;
        while i < chars.len() && (chars[i].is_alphanumeric() || "._-".contains(chars[i])) {
          i += 1;
        }
        assert!(i > start, "unexpected `{c}` in {text}");
        if chars.get(i) == Some(&'(') && chars.get(i + 1) == Some(&')') {
          i += 2;
        }
        tokens.push(chars[start..i].iter().collect());
      }
    }
    tokens
  }

  fn peek(&self) -> Option<&str> {
    self.tokens.get(self.at).map(String::as_str)
  }

  fn next(&mut self) -> String {
    self.at += 1;
    self.tokens[self.at - 1].clone()
  }

  fn or(&mut self) -> Eval {
    let mut value = self.and();
    while self.peek() == Some("||") {
      self.next();
      let right = self.and();
      value = Eval::Bool(value.truthy() || right.truthy());
    }
    value
  }

  fn and(&mut self) -> Eval {
    let mut value = self.unary();
    while self.peek() == Some("&&") {
      self.next();
      let right = self.unary();
      value = Eval::Bool(value.truthy() && right.truthy());
    }
    value
  }

  fn unary(&mut self) -> Eval {
    if self.peek() == Some("!") {
      self.next();
      return Eval::Bool(!self.unary().truthy());
    }
    let left = self.primary();
    match self.peek() {
      Some("==" | "!=") => {
        let equal = self.next() == "==";
        let right = self.primary();
        Eval::Bool((left == right) == equal)
      }
      _ => left,
    }
  }

  fn primary(&mut self) -> Eval {
    let token = self.next();
    if token == "(" {
      let value = self.or();
      assert_eq!(self.next(), ")");
      return value;
    }
    if let Some(text) = token.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
      return Eval::Str(text.to_string());
    }
    (self.context)(&token).unwrap_or_else(|| Eval::Str("true".into()))
  }
}

/// The jobs of a workflow that run for one event: in file order (each job
/// after the jobs it needs), a job without a status function in its
/// condition is skipped when a job it needs did not succeed; its condition
/// decides the rest. `cancelled()` and `failure()` are false (nothing
/// failed), `always()` is true.
fn jobs_that_run(doc: &Value, event: &[(&str, &str)]) -> Vec<String> {
  let mut results: std::collections::BTreeMap<String, bool> = Default::default();
  let mut ran = Vec::new();
  for (id, job) in jobs(doc) {
    let needs: Vec<String> = match &job["needs"] {
      Value::String(one) => vec![one.clone()],
      Value::Sequence(many) => many
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect(),
      _ => Vec::new(),
    };
    let condition = job["if"].as_str().unwrap_or("success()");
    let status = ["always()", "cancelled()", "failure()", "success()"]
      .iter()
      .any(|f| condition.contains(f) && *f != "success()");
    let needs_succeeded = needs.iter().all(|n| results[n]);
    let runs = if !status && !needs_succeeded {
      false
    } else {
      let context = |path: &str| -> Option<Eval> {
        match path {
          "success()" => Some(Eval::Bool(needs_succeeded)),
          "always()" => Some(Eval::Bool(true)),
          "cancelled()" | "failure()" => Some(Eval::Bool(false)),
          _ => {
            if let Some(rest) = path.strip_prefix("needs.")
              && let Some(need) = rest.strip_suffix(".result")
            {
              return Some(Eval::Str(
                if results[need] { "success" } else { "skipped" }.into(),
              ));
            }
            event
              .iter()
              .find(|(key, _)| *key == path)
              .map(|(_, value)| Eval::Str((*value).to_string()))
          }
        }
      };
      let mut parser = Condition {
        tokens: Condition::tokenize(condition),
        at: 0,
        context: &context,
      };
      let value = parser.or();
      assert_eq!(
        parser.at,
        parser.tokens.len(),
        "{id}: all of `{condition}` read"
      );
      value.truthy()
    };
    results.insert(id.to_string(), runs);
    if runs {
      ran.push(id.to_string());
    }
  }
  ran
}

/// The Preview workflow triggers on `pull_request` (never
/// `pull_request_target`, which would run this repository's workflow with its
/// secrets for a fork's code) and on its hourly schedule, and no job runs
/// for a fork's pull request, whatever its action; a pull request of this
/// repository builds and deploys while open and only tears down once
/// closed; the schedule only sweeps.
#[test]
fn previews_never_run_for_a_fork() {
  let mut checked = 0;
  for (name, resolved, out) in builtins() {
    for (path, _, doc) in workflows(&out) {
      let on = doc["on"].as_mapping().expect("triggers");
      assert!(!on.contains_key("pull_request_target"), "{name}: {path}");
    }
    let Some(file) = out.files.get(".github/workflows/preview.yml") else {
      assert!(
        resolved.previews.is_none(),
        "{name}: previews without their workflow"
      );
      continue;
    };
    checked += 1;
    let doc: Value = yaml_serde::from_str(&file.contents).unwrap();
    let triggers: Vec<&str> = doc["on"]
      .as_mapping()
      .unwrap()
      .keys()
      .map(|k| k.as_str().unwrap())
      .collect();
    assert_eq!(triggers, ["pull_request", "schedule"], "{name}");
    let types: Vec<&str> = doc["on"]["pull_request"]["types"]
      .as_sequence()
      .unwrap()
      .iter()
      .map(|t| t.as_str().unwrap())
      .collect();
    assert_eq!(
      types,
      ["opened", "synchronize", "reopened", "closed"],
      "{name}"
    );
    let pr = |action: &'static str, head: &'static str| {
      vec![
        ("github.event_name", "pull_request"),
        ("github.event.action", action),
        ("github.event.pull_request.head.repo.full_name", head),
        ("github.repository", "owner/platform"),
      ]
    };
    for action in ["opened", "synchronize", "reopened", "closed"] {
      let ran = jobs_that_run(&doc, &pr(action, "someone/fork"));
      assert!(
        ran.is_empty(),
        "{name}: a fork's {action} pull request runs {ran:?}"
      );
    }
    let all: Vec<String> = jobs(&doc).iter().map(|(id, _)| id.to_string()).collect();
    let open: Vec<String> = all.iter().filter(|id| *id != "teardown").cloned().collect();
    for action in ["opened", "synchronize", "reopened"] {
      let ran = jobs_that_run(&doc, &pr(action, "owner/platform"));
      assert_eq!(ran, open, "{name}: {action}");
    }
    assert_eq!(
      jobs_that_run(&doc, &pr("closed", "owner/platform")),
      ["teardown"],
      "{name}"
    );
    let schedule = [
      ("github.event_name", "schedule"),
      ("github.repository", "owner/platform"),
    ];
    assert_eq!(jobs_that_run(&doc, &schedule), ["teardown"], "{name}");
    // Every job that can assume the preview role runs in its environment.
    for (id, job) in jobs(&doc) {
      if job["permissions"]["id-token"].as_str() == Some("write") {
        assert_eq!(job["environment"].as_str(), Some("preview"), "{name}: {id}");
      }
    }
  }
  assert!(checked >= 2, "previews render in both delivery modes");
}
