//! The Secrets Manager secrets of every built-in blueprint: each one an
//! ExternalSecret reads is created by `infra/secrets.tf` under the name it
//! reads, is readable by External Secrets and describable by the deploy
//! role, and `cluster/check-secrets.sh` names each one that holds no value.

use crate::support::output::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use hcl::{Body, Expression};
use oi_gen::blueprint::Resolved;
use oi_gen::render::Output;

fn hcl_body(output: &Output, path: &str) -> Body {
  hcl::parse(file(output, path)).unwrap_or_else(|e| panic!("{path} parses: {e}"))
}

/// A string literal or template as its source text (`${var.environment}`
/// kept).
fn text(expr: &Expression) -> String {
  match expr {
    Expression::String(s) => s.clone(),
    Expression::TemplateExpr(t) => t.to_string(),
    other => panic!("expected a string, found {other:?}"),
  }
}

fn blocks<'a>(body: &'a Body, kind: &'a str) -> impl Iterator<Item = &'a hcl::Block> + 'a {
  body.blocks().filter(move |b| b.identifier() == kind)
}

fn attr<'a>(block: &'a hcl::Block, key: &str) -> Option<&'a Expression> {
  block
    .body()
    .attributes()
    .find(|a| a.key() == key)
    .map(|a| &a.expr)
}

/// The names `infra/secrets.tf` gives its secrets in `environment`.
fn created_secrets(output: &Output, environment: &str) -> BTreeSet<String> {
  let body = hcl_body(output, "infra/secrets.tf");
  let mut user_secrets = Vec::new();
  for locals in blocks(&body, "locals") {
    if let Some(Expression::Object(map)) = attr(locals, "user_secrets") {
      user_secrets.extend(map.values().map(text));
    }
  }
  let mut names = BTreeSet::new();
  for resource in blocks(&body, "resource") {
    if resource.labels()[0].as_str() != "aws_secretsmanager_secret" {
      continue;
    }
    let name = attr(resource, "name").expect("a secret has a name");
    let each = hcl::format::to_string(name).unwrap();
    if each.trim() == "each.value" {
      names.extend(user_secrets.iter().cloned());
    } else if each.trim() == "each.value.secret" {
      names.extend(database_roles(output).into_iter().map(|r| r.2));
    } else {
      names.insert(text(name));
    }
  }
  names
    .into_iter()
    .map(|n| n.replace("${var.environment}", environment))
    .collect()
}

/// Every Secrets Manager name an ExternalSecret reads in `environment`,
/// with where it is read; the RDS-managed master secret (its ARN comes from
/// the deploy) aside.
fn read_secrets(resolved: &Resolved, output: &Output, environment: &str) -> Vec<(String, String)> {
  let mut read = Vec::new();
  let grafana = format!("cluster/manifests/{environment}/grafana-admin.yaml");
  if let Some(manifest) = output.files.get(&grafana) {
    let manifest = yaml(&manifest.contents);
    for entry in manifest["spec"]["data"].as_sequence().unwrap() {
      let key = entry["remoteRef"]["key"].as_str().unwrap().to_string();
      read.push((key, grafana.clone()));
    }
  }
  for service in &resolved.services {
    let values = yaml(file(
      output,
      &format!("charts/{}/values.yaml", service.name),
    ));
    let env_path = format!("charts/{}/values-{environment}.yaml", service.name);
    let env_values = yaml(file(output, &env_path));
    for entry in values["secretEnv"].as_sequence().unwrap() {
      let Some(key) = entry["remoteRef"]["key"].as_str() else {
        continue;
      };
      let prefix = env_values["externalSecret"]["keyPrefix"]
        .as_str()
        .unwrap_or_else(|| panic!("{env_path} sets externalSecret.keyPrefix"));
      read.push((format!("{prefix}{key}"), env_path.clone()));
    }
  }
  read
}

#[test]
fn every_secret_an_external_secret_reads_is_created_by_terraform() {
  let mut checked = 0;
  for builtin in oi_gen::builtin::all() {
    let (resolved, output) = render_builtin(builtin.name);
    for environment in &resolved.environments {
      let created = created_secrets(&output, &environment.name);
      for (key, from) in read_secrets(&resolved, &output, &environment.name) {
        assert!(
          created.contains(&key),
          "{}: {from} reads {key}, which infra/secrets.tf does not create (it creates {created:?})",
          builtin.name
        );
        assert!(key.starts_with(&format!("{}/{}/", resolved.name, environment.name)));
        checked += 1;
      }
    }
  }
  // Grafana in both blueprints, and their `secret:` references.
  assert!(checked >= 8, "only {checked} reads checked");
}

#[test]
fn secrets_are_encrypted_with_the_platform_key_and_generated_without_state() {
  let (_, output) = render_builtin("openinnovation");
  let body = hcl_body(&output, "infra/secrets.tf");
  for resource in blocks(&body, "resource") {
    let kind = resource.labels()[0].as_str();
    match kind {
      "aws_secretsmanager_secret" => {
        let key = hcl::format::to_string(attr(resource, "kms_key_id").unwrap()).unwrap();
        assert_eq!(key.trim(), "aws_kms_key.main.arn");
      }
      "aws_secretsmanager_secret_version" if resource.labels()[1].as_str() == "database" => {
        // Host, port and name: no credential, so kept in the state.
        let value = hcl::format::to_string(attr(resource, "secret_string").unwrap()).unwrap();
        assert!(value.contains("aws_db_instance.main.address"), "{value}");
        assert!(!value.contains("password"), "{value}");
      }
      "aws_secretsmanager_secret_version" => {
        // Write-only: the value never reaches the state.
        assert!(attr(resource, "secret_string").is_none());
        assert!(attr(resource, "secret_string_wo").is_some());
        assert!(attr(resource, "secret_string_wo_version").is_some());
      }
      other => panic!("unexpected resource {other}"),
    }
  }
  let passwords: Vec<_> = blocks(&body, "ephemeral")
    .map(|b| b.labels()[0].as_str().to_string())
    .collect();
  assert!(passwords.iter().all(|p| p == "random_password"));
  assert!(!passwords.is_empty());
  // No user secret gets a version: its value is the user's.
  let user_versions = blocks(&body, "resource").filter(|r| {
    r.labels()[0].as_str() == "aws_secretsmanager_secret_version"
      && r.labels()[1].as_str() == "user"
  });
  assert_eq!(user_versions.count(), 0);
  let versions = file(&output, "infra/versions.tf");
  assert!(versions.contains("source  = \"hashicorp/random\""));
}

#[test]
fn only_the_platforms_own_secrets_are_readable() {
  let (_, output) = render_builtin("openinnovation");
  let iam = file(&output, "infra/iam.tf");
  // No wildcard over the platform's names: External Secrets reads the
  // secrets Terraform created and the database's master secret.
  assert!(!iam.contains(":secret:"), "{iam}");
  let body = hcl_body(&output, "infra/iam.tf");
  let statements = |document: &str| -> Vec<(String, String, String)> {
    blocks(&body, "data")
      .find(|b| b.labels()[1].as_str() == document)
      .unwrap()
      .body()
      .blocks()
      .map(|s| {
        let get = |k: &str| hcl::format::to_string(attr(s, k).unwrap()).unwrap();
        (get("sid"), get("actions"), get("resources"))
      })
      .collect()
  };
  let eso = statements("external_secrets");
  let read = eso
    .iter()
    .find(|s| s.0.contains("ReadThisPlatformsSecrets"))
    .unwrap();
  assert!(read.2.contains("local.platform_secret_arns"), "{read:?}");
  assert!(read.2.contains("master_user_secret"), "{read:?}");
  let deploy = statements("deploy");
  let check = deploy
    .iter()
    .find(|s| s.0.contains("CheckThePlatformsSecrets"))
    .unwrap();
  assert_eq!(
    check.1.split_whitespace().collect::<String>(),
    "[\"secretsmanager:DescribeSecret\"]"
  );
  assert_eq!(check.2.trim(), "local.platform_secret_arns");
  assert!(
    !deploy
      .iter()
      .any(|s| s.1.contains("GetSecretValue") || s.1.contains("secretsmanager:*"))
  );
}

/// Runs `cluster/check-secrets.sh <environment>` with a stand-in `aws` that
/// answers `describe-secret` from `current` (secret name → the query's
/// answer, `None` for a secret that does not exist).
fn check_secrets(
  output: &Output,
  environment: &str,
  current: &[(&str, Option<&str>)],
) -> (i32, String) {
  let dir = tempfile::tempdir().unwrap();
  let script = dir.path().join("check-secrets.sh");
  std::fs::write(&script, file(output, "cluster/check-secrets.sh")).unwrap();
  let bin = dir.path().join("bin");
  std::fs::create_dir(&bin).unwrap();
  let mut cases = String::new();
  for (name, answer) in current {
    match answer {
      Some(answer) => cases.push_str(&format!("  '{name}') echo {answer} ;;\n")),
      None => cases.push_str(&format!(
        "  '{name}') echo 'An error occurred (ResourceNotFoundException)' >&2; exit 254 ;;\n"
      )),
    }
  }
  let aws = format!(
    "#!/usr/bin/env bash\n\
     # describe-secret --region R --secret-id NAME --query Q --output text\n\
     [[ \"$1 $2\" == 'secretsmanager describe-secret' ]] || exit 99\n\
     [[ \"$5\" == --secret-id ]] || exit 98\n\
     case \"$6\" in\n{cases}  *) echo \"unexpected secret $6\" >&2; exit 97 ;;\nesac\n"
  );
  let stub = bin.join("aws");
  std::fs::write(&stub, aws).unwrap();
  make_executable(&stub);
  let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
  let run = Command::new("bash")
    .arg(&script)
    .arg(environment)
    .env("PATH", path)
    .output()
    .expect("bash runs");
  let mut all = String::from_utf8_lossy(&run.stdout).into_owned();
  all.push_str(&String::from_utf8_lossy(&run.stderr));
  (run.status.code().unwrap_or(-1), all)
}

#[cfg(unix)]
fn make_executable(path: &Path) {
  use std::os::unix::fs::PermissionsExt;
  std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn check_secrets_names_each_secret_without_a_value() {
  let (_, output) = render_builtin("openinnovation");
  let grafana = "openinnovation-ai/staging/grafana-admin";
  let analytics = "openinnovation-ai/staging/analytics";
  // Terraform writes the database's secrets; here they hold values.
  let database = [
    ("openinnovation-ai/staging/database", Some("True")),
    ("openinnovation-ai/staging/database/backend", Some("True")),
  ];
  let answers = |grafana_answer, analytics_answer| {
    let mut all = vec![(grafana, grafana_answer), (analytics, analytics_answer)];
    all.extend(database);
    // The Slack receiver's webhook URL, which the user fills.
    all.push(("openinnovation-ai/staging/alertmanager/slack", Some("True")));
    all
  };

  let (code, out) = check_secrets(&output, "staging", &answers(Some("True"), Some("True")));
  assert_eq!(code, 0, "{out}");
  assert!(
    out.contains("the 5 secrets of staging hold values"),
    "{out}"
  );

  let (code, out) = check_secrets(&output, "staging", &answers(Some("True"), Some("False")));
  assert_eq!(code, 1, "{out}");
  assert!(
    out.contains(&format!(
      "::error::Secrets Manager secret {analytics} holds no value"
    )),
    "{out}"
  );
  assert!(out.contains(&format!(
    "aws secretsmanager put-secret-value --region me-central-1 --secret-id {analytics} --secret-string '{{\"apiKey\":\"<apiKey>\"}}'"
  )), "{out}");
  assert!(!out.contains(&format!("{grafana} holds no value")), "{out}");
  assert!(
    out.contains("1 of the 5 secrets of staging hold no value yet"),
    "{out}"
  );

  // Both missing, one not even created: each is named.
  let (code, out) = check_secrets(&output, "staging", &answers(None, Some("False")));
  assert_eq!(code, 1, "{out}");
  assert!(out.contains(&format!("{grafana} cannot be read")), "{out}");
  assert!(out.contains("apply infra/ for staging first"), "{out}");
  assert!(
    out.contains(&format!("{analytics} holds no value")),
    "{out}"
  );
  assert!(out.contains("2 of the 5 secrets"), "{out}");

  let (code, out) = check_secrets(&output, "nowhere", &[]);
  assert_eq!(code, 2, "{out}");
}

#[test]
fn check_secrets_lists_exactly_what_terraform_creates() {
  for builtin in oi_gen::builtin::all() {
    let (resolved, output) = render_builtin(builtin.name);
    let script = file(&output, "cluster/check-secrets.sh");
    let listed: BTreeSet<String> = script
      .lines()
      .filter_map(|l| l.trim().strip_prefix('"'))
      .filter_map(|l| l.split_once('|'))
      .map(|(name, _)| name.to_string())
      .collect();
    for environment in &resolved.environments {
      let listed: BTreeSet<String> = listed
        .iter()
        .map(|n| n.replace("$env", &environment.name))
        .collect();
      assert_eq!(
        listed,
        created_secrets(&output, &environment.name),
        "{}",
        builtin.name
      );
    }
    // The deploy runs it before Helm, in every environment.
    let deploy = file(&output, ".github/workflows/deploy.yml");
    for environment in &resolved.environments {
      let check = deploy
        .find(&format!(
          "run: bash cluster/check-secrets.sh {}",
          environment.name
        ))
        .unwrap_or_else(|| panic!("{}: deploy checks {}", builtin.name, environment.name));
      let helm = if resolved.argocd() {
        deploy[check..].find("deploy/$ENVIRONMENT/images").unwrap()
      } else {
        deploy[check..].find("helm upgrade --install").unwrap()
      };
      assert!(helm > 0);
    }
    assert!(
      file(&output, "cluster/install.sh").contains("bash \"$here/check-secrets.sh\" \"$env\"")
    );
  }
}

/// The services' database roles in `infra/secrets.tf`: service → (role, secret).
fn database_roles(output: &Output) -> Vec<(String, String, String)> {
  let body = hcl_body(output, "infra/secrets.tf");
  let mut roles = Vec::new();
  for locals in blocks(&body, "locals") {
    if let Some(Expression::Object(map)) = attr(locals, "database_roles") {
      for (service, value) in map {
        let Expression::Object(fields) = value else {
          panic!("{service}: an object");
        };
        let field = |name: &str| {
          fields
            .iter()
            .find(|(k, _)| k.to_string() == name)
            .map(|(_, v)| text(v))
            .unwrap()
        };
        roles.push((service.to_string(), field("role"), field("secret")));
      }
    }
  }
  roles
}

#[test]
fn every_service_that_uses_the_database_has_its_own_role() {
  let (resolved, output) = render_builtin("openinnovation");
  let roles = database_roles(&output);
  let users: Vec<_> = resolved
    .services
    .iter()
    .filter(|s| s.uses_database)
    .map(|s| s.name.clone())
    .collect();
  assert!(!users.is_empty());
  assert_eq!(roles.iter().map(|r| r.0.clone()).collect::<Vec<_>>(), users);
  let owner = resolved.migrations_owner().unwrap();
  let owner_values = yaml(file(&output, &format!("charts/{}/values.yaml", owner.name)));
  let job_roles = owner_values["migrations"]["roles"].as_sequence().unwrap();
  assert_eq!(job_roles.len(), roles.len());
  for (service, role, secret) in &roles {
    // Never the master user, nor one of PostgreSQL's or RDS's own roles.
    assert!(role.starts_with("app_"), "{role}");
    assert_ne!(role, "postgres");
    assert_eq!(
      secret,
      &format!("{}/${{var.environment}}/database/{service}", resolved.name)
    );
    // The service reads its own role's secret, the Job sets its password.
    let values = yaml(file(&output, &format!("charts/{service}/values.yaml")));
    assert_eq!(
      values["database"]["credentialsKey"],
      format!("database/{service}")
    );
    assert!(
      values["database"].get("host").is_none(),
      "the host comes from Secrets Manager"
    );
    assert!(
      job_roles
        .iter()
        .any(|r| r["role"] == role.as_str() && r["key"] == format!("database/{service}").as_str()),
      "{role}"
    );
  }
  // The service's ExternalSecret no longer reads the master secret.
  let helpers = file(
    &output,
    &format!("charts/{}/templates/_helpers.tpl", owner.name),
  );
  let credentials = helpers
    .split("define \"service.databaseCredentials\"")
    .nth(1)
    .unwrap()
    .split("{{- end }}")
    .next()
    .unwrap();
  assert!(!credentials.contains("secretArn"), "{credentials}");
  assert!(
    credentials.contains(".Values.database.credentialsKey"),
    "{credentials}"
  );
}

#[test]
fn the_roles_callback_grants_rows_only_and_logs_no_password() {
  let (resolved, output) = render_builtin("openinnovation");
  let owner = resolved.migrations_owner().unwrap();
  let callback = file(
    &output,
    &format!(
      "charts/{}/templates/migrations-roles-configmap.yaml",
      owner.name
    ),
  );
  let sql = callback
    .split("afterMigrate__database_roles.sql: |\n")
    .nth(1)
    .expect("the callback is in the ConfigMap");
  for grant in [
    "GRANT CONNECT ON DATABASE",
    "GRANT USAGE ON SCHEMA public",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public",
    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public",
    "REVOKE ALL ON TABLE public.flyway_schema_history",
  ] {
    assert!(sql.contains(grant), "{grant}");
  }
  for never in [
    "GRANT ALL",
    "CREATE ON SCHEMA",
    "SUPERUSER",
    "CREATEROLE",
    "CREATEDB",
    "TRUNCATE",
  ] {
    assert!(!sql.contains(never), "{never}");
  }
  // The passwords reach the session in a SELECT (never logged under
  // log_statement = ddl) and the DDL reads them from there.
  let placeholder = sql.find("${database_roles}").unwrap();
  assert!(
    sql[..placeholder]
      .trim_end()
      .ends_with("SELECT set_config('oi_gen.database_roles', '")
  );
  assert_eq!(sql.matches("${database_roles}").count(), 1);
  assert!(sql.contains("current_setting('oi_gen.database_roles')"));
  // The Job runs it after every migrate.
  let job = file(
    &output,
    &format!("charts/{}/templates/migrations-job.yaml", owner.name),
  );
  assert!(
    job.contains(
      "-callbackLocations=filesystem:/flyway/project/migrations,filesystem:/flyway/roles"
    )
  );
  assert!(job.contains("-placeholders.database_roles=$(DATABASE_ROLES)"));
  // No deploy passes the database host any more; only the migrations get
  // the master secret's ARN.
  let deploy = file(&output, ".github/workflows/deploy.yml");
  assert!(!deploy.contains("database.host"));
  assert_eq!(
    deploy.matches("--set-string database.secretArn").count(),
    resolved.environments.len()
  );
}

/// The ClusterSecretStore serves only the namespaces whose ExternalSecrets
/// oi-gen renders: the services' (their charts and the migration hook) and,
/// with Grafana, the monitoring namespace, and with previews the namespaces
/// `pr-<digits>`. An ExternalSecret anywhere else cannot read the platform's
/// secrets, the database master secret included.
#[test]
fn the_secret_store_serves_only_the_namespaces_that_read_secrets() {
  for name in ["openinnovation", "acme-shop", "ledger"] {
    let (resolved, output) = render_builtin(name);
    let store = yaml(file(&output, "cluster/manifests/cluster-secret-store.yaml"));
    let served: BTreeSet<String> = store["spec"]["conditions"][0]["namespaces"]
      .as_sequence()
      .expect("the store names its namespaces")
      .iter()
      .map(|n| n.as_str().unwrap().to_string())
      .collect();
    // With previews, a second condition serves their namespaces alone,
    // where the Preview workflow's database job and the charts read.
    let conditions = store["spec"]["conditions"].as_sequence().unwrap();
    if resolved.previews.is_some() {
      assert_eq!(conditions.len(), 2, "{name}");
      assert_eq!(
        yaml_serde::to_string(&conditions[1]).unwrap(),
        "namespaceRegexes:\n- ^pr-[0-9]+$\n",
        "{name}"
      );
    } else {
      assert_eq!(conditions.len(), 1, "{name}");
    }
    // The namespaces the rendered ExternalSecrets live in.
    let mut readers = BTreeSet::from([resolved.namespace.clone()]);
    for (path, file) in &output.files {
      if path.starts_with("cluster/manifests/") && file.contents.contains("kind: ExternalSecret\n")
      {
        for doc in file.contents.split("\n---\n") {
          let doc = yaml(doc);
          if doc["kind"].as_str() == Some("ExternalSecret") {
            readers.insert(doc["metadata"]["namespace"].as_str().unwrap().to_string());
          }
        }
      }
    }
    assert_eq!(served, readers, "{name}");
  }
}
