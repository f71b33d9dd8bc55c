//! AWS accounts per environment: what `account` changes in the values files,
//! the Terraform (repository policies, pull permission, the provider's
//! account guard) and the bootstrap's per-account state.

use crate::support::output::*;
use std::collections::BTreeMap;

use hcl::{Body, Expression};
use oi_gen::blueprint::{self, Resolved};
use oi_gen::render::{self, Engine, Output};

const BASE: &str = include_str!("../../blueprints/openinnovation.yaml");

fn load(text: &str) -> Resolved {
  blueprint::load(text.as_bytes())
    .expect("the blueprint is valid")
    .resolved
}

fn builtin(name: &str) -> Resolved {
  let found = oi_gen::builtin::all()
    .into_iter()
    .find(|b| b.name == name)
    .expect("built-in blueprint");
  load(found.text)
}

/// openinnovation with staging and production in the given accounts.
fn openinnovation_in(staging: &str, production: &str) -> Resolved {
  let staging_at = "      subdomain: staging\n";
  let production_at = "      approval: true\n";
  assert_eq!(BASE.matches(staging_at).count(), 1);
  assert_eq!(BASE.matches(production_at).count(), 1);
  load(
    &BASE
      .replacen(
        staging_at,
        &format!("{staging_at}      account: \"{staging}\"\n"),
        1,
      )
      .replacen(
        production_at,
        &format!("{production_at}      account: \"{production}\"\n"),
        1,
      ),
  )
}

fn render(resolved: &Resolved) -> Output {
  render::render(resolved, &Engine::new().unwrap()).expect("renders")
}

fn hcl(text: &str) -> Body {
  hcl::from_str(text).unwrap()
}

/// The attributes of a `.tfvars` file, as JSON.
fn tfvars(text: &str) -> BTreeMap<String, serde_json::Value> {
  hcl::from_str(text).unwrap()
}

#[test]
fn accounts_give_each_environment_its_registry() {
  let resolved = openinnovation_in("111122223333", "444455556666");
  let registries: Vec<_> = resolved
    .environments
    .iter()
    .map(|e| (e.account.clone().unwrap(), e.registry.clone().unwrap()))
    .collect();
  assert_eq!(
    registries,
    [
      (
        "111122223333".to_string(),
        "111122223333.dkr.ecr.me-central-1.amazonaws.com".to_string()
      ),
      (
        "444455556666".to_string(),
        "444455556666.dkr.ecr.me-central-1.amazonaws.com".to_string()
      ),
    ]
  );
  let out = render(&resolved);
  for (env, account) in [("staging", "111122223333"), ("production", "444455556666")] {
    for service in ["backend", "frontend"] {
      let values = yaml(file(&out, &format!("charts/{service}/values-{env}.yaml")));
      assert_eq!(
        values["image"]["registry"],
        format!("{account}.dkr.ecr.me-central-1.amazonaws.com").as_str(),
        "{service}/{env}"
      );
    }
    let backend = yaml(file(&out, &format!("charts/backend/values-{env}.yaml")));
    assert_eq!(
      backend["migrations"]["image"]["repository"],
      format!("openinnovation-ai/{env}/backend-migrations").as_str()
    );
  }
  // values.yaml, shared by every environment, names no registry.
  let shared = yaml(file(&out, "charts/backend/values.yaml"));
  assert_eq!(shared["image"]["registry"], "");
  // The deploy passes the image tag only.
  let deploy = file(&out, ".github/workflows/deploy.yml");
  assert!(!deploy.contains("image.registry"));

  // Without accounts: no registry in the values, the deploy passes it.
  let out = render(&builtin("openinnovation"));
  let values = yaml(file(&out, "charts/backend/values-production.yaml"));
  assert!(values["image"].get("registry").is_none());
  assert_eq!(
    file(&out, ".github/workflows/deploy.yml")
      .matches("--set-string image.registry=\"$REGISTRY\"")
      .count(),
    4,
    "two services in two environments"
  );
}

/// Promotion from staging (account A) to production (account B): staging's
/// repositories let production's deploy role pull, production's deploy role
/// may pull from account A; nothing of it when both share an account.
#[test]
fn cross_account_promotion_gets_a_repository_policy_and_the_pull_permission() {
  let out = render(&openinnovation_in("111122223333", "444455556666"));
  let staging = tfvars(file(&out, "infra/environments/staging.tfvars"));
  assert_eq!(staging["account_id"], "111122223333");
  assert_eq!(
    staging["image_pull_roles"],
    serde_json::json!([{"account": "444455556666", "role": "openinnovation-ai-production-deploy"}])
  );
  assert!(!staging.contains_key("image_source_account"));
  let production = tfvars(file(&out, "infra/environments/production.tfvars"));
  assert_eq!(production["account_id"], "444455556666");
  assert_eq!(production["image_source_account"], "111122223333");
  assert!(!production.contains_key("image_pull_roles"));

  let ecr = file(&out, "infra/ecr.tf");
  let body = hcl(ecr);
  let policy = body
    .blocks()
    .find(|b| {
      b.identifier() == "resource"
        && b
          .labels()
          .iter()
          .map(hcl::BlockLabel::as_str)
          .collect::<Vec<_>>()
          == ["aws_ecr_repository_policy", "promotion"]
    })
    .expect("a repository policy");
  let for_each = policy
    .body()
    .attributes()
    .find(|a| a.key() == "for_each")
    .unwrap();
  // Every repository of the environment, the migrations image's included.
  assert!(matches!(for_each.expr(), Expression::ForExpr(_)));
  assert!(ecr.contains("in aws_ecr_repository.service"));
  let document = body
    .blocks()
    .find(|b| {
      b.labels()
        .iter()
        .map(hcl::BlockLabel::as_str)
        .collect::<Vec<_>>()
        == ["aws_iam_policy_document", "ecr_promotion"]
    })
    .expect("the policy document");
  let text = hcl::format::to_string(document).unwrap();
  for needed in [
    "\"ecr:BatchGetImage\"",
    "\"ecr:GetDownloadUrlForLayer\"",
    "\"ecr:BatchCheckLayerAvailability\"",
    "iam::${puller.account}:root",
    "\"aws:PrincipalArn\"",
    "\"ArnEquals\"",
    "iam::${puller.account}:role/${puller.role}",
  ] {
    assert!(text.contains(needed), "{needed} in\n{text}");
  }
  for never in ["ecr:PutImage", "\"*\""] {
    assert!(!text.contains(never), "{never} in\n{text}");
  }
  let iam = file(&out, "infra/iam.tf");
  assert!(
    iam
      .contains("for account in distinct(compact([local.account_id, var.image_source_account])) :")
  );
  let locals = file(&out, "infra/locals.tf");
  assert!(
    locals
      .contains("backend-migrations = \"openinnovation-ai/${var.environment}/backend-migrations\"")
  );
  assert!(file(&out, "infra/providers.tf").contains("allowed_account_ids = [var.account_id]"));

  // One account for both: accounts known, no cross-account policy needed.
  let out = render(&openinnovation_in("111122223333", "111122223333"));
  for env in ["staging", "production"] {
    let vars = tfvars(file(&out, &format!("infra/environments/{env}.tfvars")));
    assert_eq!(vars["account_id"], "111122223333");
    assert!(!vars.contains_key("image_pull_roles"), "{env}");
    assert!(!vars.contains_key("image_source_account"), "{env}");
  }

  // No accounts: none of it.
  let out = render(&builtin("openinnovation"));
  assert!(!file(&out, "infra/ecr.tf").contains("aws_ecr_repository_policy"));
  assert!(!file(&out, "infra/variables.tf").contains("image_pull_roles"));
  assert!(!file(&out, "infra/providers.tf").contains("allowed_account_ids"));
}

/// Each account's bootstrap state lives in the workspace named after it, and
/// the README gives the commands for each account.
#[test]
fn the_bootstrap_keeps_one_state_per_account() {
  let out = render(&builtin("acme-shop"));
  let main = file(&out, "infra/bootstrap/main.tf");
  assert!(main.contains("condition     = terraform.workspace == local.account_id"));
  assert!(main.contains(
    "for env, account in local.environment_accounts : env if account == local.account_id"
  ));
  let variables = file(&out, "infra/bootstrap/variables.tf");
  assert!(variables.contains("default     = []"));
  let readme = file(&out, "README.md");
  let bootstrap = readme
    .split_once("## One-time bootstrap")
    .unwrap()
    .1
    .split_once("2. ")
    .unwrap()
    .0;
  let commands: Vec<&str> = bootstrap
    .lines()
    .map(str::trim)
    .filter(|l| l.starts_with("terraform "))
    .collect();
  assert_eq!(
    commands,
    [
      "terraform -chdir=infra/bootstrap init",
      "terraform -chdir=infra/bootstrap workspace select -or-create 111122223333",
      "terraform -chdir=infra/bootstrap apply",
      "terraform -chdir=infra/bootstrap workspace select -or-create 444455556666",
      "terraform -chdir=infra/bootstrap apply",
    ]
  );
  assert!(readme.contains(
    "- `111122223333` (registry `111122223333.dkr.ecr.eu-west-1.amazonaws.com`): `dev`, `staging`\n"
  ));

  // One account: the default workspace, one apply, every environment.
  let out = render(&builtin("openinnovation"));
  assert!(!file(&out, "infra/bootstrap/main.tf").contains("terraform.workspace"));
  assert!(
    file(&out, "infra/bootstrap/variables.tf")
      .contains("default     = [\"staging\", \"production\"]")
  );
  assert!(file(&out, "README.md").contains(
    "1. Once, as an administrator of the account: `terraform -chdir=infra/bootstrap init && terraform -chdir=infra/bootstrap apply`."
  ));
}
