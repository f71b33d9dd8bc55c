//! `oi-gen verify`: each rule on a built-in render with exactly one
//! reference broken by hand (the finding it adds, exactly), a hand-written
//! tree that fits together, and the errors that are not findings.

use std::fs;
use std::path::Path;

use crate::support::*;

const HELP: &str = "  = help: each line names the file and line to fix and the rule it breaks (see `oi-gen verify --help`)\n";

/// The findings `verify` prints for `repo`, and its exit code.
fn findings(repo: &Path) -> (i32, Vec<String>) {
  let outcome = cli(repo, &["verify"]).run();
  let lines: Vec<String> = outcome.stdout.lines().map(str::to_string).collect();
  if outcome.code == 0 {
    outcome.stdout(". fits together: no findings\n").stderr("");
    return (0, Vec::new());
  } else {
    outcome.code(1).stderr(format!(
      "error: {} finding{} in .\n{HELP}",
      lines.len(),
      if lines.len() == 1 { "" } else { "s" }
    ));
  }
  (outcome.code, lines)
}

/// The line (1-based) of the first line of `path` that contains `text`.
fn line_of(repo: &Path, path: &str, text: &str) -> usize {
  read(repo, path)
    .lines()
    .position(|line| line.contains(text))
    .unwrap_or_else(|| panic!("`{text}` not in {path}"))
    + 1
}

/// Asserts that what `change` does to a fresh render of `blueprint` adds
/// exactly the findings it returns (and removes at most findings at the
/// same places, such as those of a secret key that was renamed).
#[track_caller]
fn breaks(blueprint: &str, change: impl FnOnce(&Path) -> Vec<String>) {
  breaks_after(blueprint, |_| {}, change);
}

/// [`breaks`], on a render that `setup` changed first.
#[track_caller]
fn breaks_after(
  blueprint: &str,
  setup: impl FnOnce(&Path),
  change: impl FnOnce(&Path) -> Vec<String>,
) {
  let (_temp, repo) = init(blueprint);
  setup(&repo);
  let (_, before) = findings(&repo);
  let expected = change(&repo);
  let (code, after) = findings(&repo);
  assert_eq!(code, 1, "{after:#?}");
  let added: Vec<&String> = after.iter().filter(|line| !before.contains(line)).collect();
  assert_eq!(added, expected.iter().collect::<Vec<_>>());
  let places: Vec<String> = expected
    .iter()
    .map(|line| line.splitn(3, ':').take(2).collect::<Vec<_>>().join(":") + ":")
    .collect();
  for gone in before.iter().filter(|line| !after.contains(line)) {
    assert!(
      places.iter().any(|place| gone.starts_with(place.as_str())),
      "a finding went away: {gone}"
    );
  }
}

/// The finding of a key the charts read as `<prefix><key>`, with the
/// prefix of each environment (`openinnovation-ai/<env>/`).
fn not_created_per_env(file: &str, line: usize, key: &str) -> String {
  format!(
    "{file}:{line}: secret-created: secrets `openinnovation-ai/production/{key}` (in production) and `openinnovation-ai/staging/{key}` (in staging) are read but no aws_secretsmanager_secret creates them; create them in infra/, or declare them user-provided with a data \"aws_secretsmanager_secret\""
  )
}

#[test]
fn a_secret_read_that_nothing_creates() {
  // The chart reads `<keyPrefix><remoteRef.key>`: the prefix of each
  // environment's values file, the key of values.yaml.
  breaks("openinnovation", |repo| {
    let file = "charts/frontend/values.yaml";
    edit(repo, file, "key: analytics", "key: analytics-v2");
    let line = line_of(repo, file, "key: analytics-v2");
    vec![not_created_per_env(file, line, "analytics-v2")]
  });
}

#[test]
fn a_secret_prefix_that_names_no_created_secret() {
  breaks("openinnovation", |repo| {
    let file = "charts/frontend/values-staging.yaml";
    edit(
      repo,
      file,
      "keyPrefix: openinnovation-ai/staging/",
      "keyPrefix: openinnovation-ai/stage/",
    );
    let values = "charts/frontend/values.yaml";
    let line = line_of(repo, values, "key: analytics");
    vec![format!(
      "{values}:{line}: secret-created: secret `openinnovation-ai/stage/analytics` is read but no aws_secretsmanager_secret creates it in staging; create it in infra/, or declare it user-provided with a data \"aws_secretsmanager_secret\""
    )]
  });
}

#[test]
fn a_database_role_secret_the_migrations_read_that_nothing_creates() {
  // The migrations hook reads `<keyPrefix><migrations.roles[].key>`.
  breaks("openinnovation", |repo| {
    let file = "charts/backend/values.yaml";
    edit(
      repo,
      file,
      "    key: database/backend\n",
      "    key: database/api\n",
    );
    let line = line_of(repo, file, "    key: database/api");
    vec![not_created_per_env(file, line, "database/api")]
  });
}

#[test]
fn a_connection_secret_a_helper_reads_that_nothing_creates() {
  // `service.databaseHost` (included by the ExternalSecret and the
  // migrations hook) reads `<keyPrefix><database.connectionKey>`.
  breaks("openinnovation", |repo| {
    edit(
      repo,
      "charts/backend/values.yaml",
      "connectionKey: database\n",
      "connectionKey: db\n",
    );
    let file = "charts/backend/templates/_helpers.tpl";
    let line = line_of(repo, file, ".Values.database.connectionKey");
    vec![not_created_per_env(file, line, "db")]
  });
}

#[test]
fn a_cluster_manifest_secret_that_nothing_creates() {
  breaks("openinnovation", |repo| {
    let file = "cluster/manifests/production/grafana-admin.yaml";
    edit(
      repo,
      file,
      "key: openinnovation-ai/production/grafana-admin\n      property: password",
      "key: openinnovation-ai/production/grafana\n      property: password",
    );
    let line = read(repo, file)
      .lines()
      .position(|text| text.trim() == "key: openinnovation-ai/production/grafana")
      .unwrap()
      + 1;
    vec![format!(
      "{file}:{line}: secret-created: secret `openinnovation-ai/production/grafana` is read but no aws_secretsmanager_secret creates it in production; create it in infra/, or declare it user-provided with a data \"aws_secretsmanager_secret\""
    )]
  });
}

#[test]
fn a_secret_declared_user_provided_is_no_finding() {
  let (_temp, repo) = init("openinnovation");
  let file = "charts/frontend/values.yaml";
  edit(repo.as_path(), file, "key: analytics", "key: by-hand");
  let line = line_of(&repo, file, "key: by-hand");
  let finding = not_created_per_env(file, line, "by-hand");
  let (_, before) = findings(&repo);
  assert!(before.contains(&finding), "{before:#?}");
  fs::write(
    repo.join("infra/user-secrets.tf"),
    "data \"aws_secretsmanager_secret\" \"by_hand\" {\n  name = \"openinnovation-ai/${var.environment}/by-hand\"\n}\n",
  )
  .unwrap();
  let (_, after) = findings(&repo);
  let expected: Vec<String> = before.into_iter().filter(|line| *line != finding).collect();
  assert_eq!(after, expected);
}

/// A pull request plan runs on pull requests only: with its event condition
/// gone it also runs on pushes to main, which the plan role does not trust.
#[test]
fn a_plan_role_assumed_on_more_events_than_it_trusts() {
  breaks("openinnovation", |repo| {
    let file = ".github/workflows/terraform.yml";
    edit(
      repo,
      file,
      "    name: Plan staging (read only)\n    if: github.event_name == 'pull_request'\n",
      "    name: Plan staging (read only)\n",
    );
    let line = line_of(repo, file, "role/openinnovation-ai-staging-terraform-plan");
    vec![format!(
      "{file}:{line}: role-trusted: role `openinnovation-ai-staging-terraform-plan` does not trust this job: its token's sub is `repo:openinnovation-ai/platform:ref:refs/heads/main`, the role's trust allows `repo:openinnovation-ai/platform:pull_request`"
    )]
  });
}

/// The build role exists only where `image_builds` makes its `count` 1, and
/// trusts pushes to main: a build job in a GitHub environment is refused.
#[test]
fn a_build_role_assumed_from_an_environment() {
  breaks("openinnovation", |repo| {
    let file = ".github/workflows/deploy.yml";
    edit(
      repo,
      file,
      "    name: Build the backend image\n    runs-on: ubuntu-latest\n",
      "    name: Build the backend image\n    runs-on: ubuntu-latest\n    environment: staging\n",
    );
    let line = line_of(repo, file, "role/openinnovation-ai-staging-build");
    vec![format!(
      "{file}:{line}: role-trusted: role `openinnovation-ai-staging-build` does not trust this job: its token's sub is `repo:openinnovation-ai/platform:environment:staging`, the role's trust allows `repo:openinnovation-ai/platform:ref:refs/heads/main`"
    )]
  });
}

#[test]
fn a_role_that_does_not_trust_the_jobs_environment() {
  breaks("openinnovation", |repo| {
    let file = ".github/workflows/rollback.yml";
    edit(
      repo,
      file,
      "    environment: staging\n",
      "    environment: staging-infra\n",
    );
    let line = line_of(repo, file, "role/openinnovation-ai-staging-deploy");
    vec![format!(
      "{file}:{line}: role-trusted: role `openinnovation-ai-staging-deploy` does not trust this job: its token's sub is `repo:openinnovation-ai/platform:environment:staging-infra`, the role's trust allows `repo:openinnovation-ai/platform:environment:staging`"
    )]
  });
}

#[test]
fn a_role_that_terraform_does_not_create() {
  breaks("openinnovation", |repo| {
    let file = ".github/workflows/rollback.yml";
    edit(
      repo,
      file,
      "role/openinnovation-ai-production-deploy",
      "role/openinnovation-ai-prod-deploy",
    );
    let line = line_of(repo, file, "role/openinnovation-ai-prod-deploy");
    vec![format!(
      "{file}:{line}: role-trusted: the job assumes role `openinnovation-ai-prod-deploy`, which no aws_iam_role in infra/ creates"
    )]
  });
}

#[test]
fn a_terraform_role_the_bootstrap_of_an_account_does_not_create() {
  // acme-shop keeps production in an account of its own: the bootstrap,
  // applied once per account, creates each environment's Terraform role in
  // the account of that environment.
  breaks("acme-shop", |repo| {
    edit(
      repo,
      "infra/bootstrap/main.tf",
      "production = \"acme-shop-production-terraform\"",
      "production = \"acme-shop-prod-terraform\"",
    );
    let file = ".github/workflows/terraform.yml";
    read(repo, file)
      .lines()
      .enumerate()
      .filter(|(_, text)| text.ends_with("role/acme-shop-production-terraform"))
      .map(|(index, _)| {
        format!(
          "{file}:{}: role-trusted: the job assumes role `acme-shop-production-terraform`, which no aws_iam_role in infra/ creates",
          index + 1
        )
      })
      .collect()
  });
}

#[test]
fn the_built_in_blueprints_fit_together() {
  for blueprint in ["openinnovation", "acme-shop", "ledger"] {
    let (_temp, repo) = init(blueprint);
    assert_eq!(findings(&repo), (0, Vec::new()), "{blueprint}");
  }
}

#[test]
fn an_ecr_repository_that_does_not_exist() {
  breaks("openinnovation", |repo| {
    let file = ".github/workflows/deploy.yml";
    edit(
      repo,
      file,
      "/openinnovation-ai/staging/backend:",
      "/openinnovation-ai/staging/api:",
    );
    let line = line_of(repo, file, "/openinnovation-ai/staging/api:");
    vec![format!(
      "{file}:{line}: ecr-repository: the job pushes to ECR repository `openinnovation-ai/staging/api`, which no aws_ecr_repository in infra/ creates"
    )]
  });
}

#[test]
fn a_pod_identity_association_for_a_service_account_nothing_uses() {
  breaks("acme-shop", |repo| {
    let file = "infra/iam.tf";
    edit(
      repo,
      file,
      "service_account = \"cluster-autoscaler\"",
      "service_account = \"autoscaler\"",
    );
    let line = line_of(repo, file, "service_account = \"autoscaler\"");
    vec![format!(
      "{file}:{line}: pod-identity: aws_eks_pod_identity_association.cluster_autoscaler gives service account `autoscaler` in namespace `kube-system` a role, but no add-on or chart runs as it (namespace `kube-system` runs `aws-load-balancer-controller`, `cluster-autoscaler` and `metrics-server`)"
    )]
  });
}

#[test]
fn karpenters_pod_identity_association_names_its_service_account() {
  breaks("openinnovation", |repo| {
    let file = "infra/karpenter.tf";
    edit(
      repo,
      file,
      "service_account = \"karpenter\"",
      "service_account = \"karpenter-controller\"",
    );
    let line = line_of(repo, file, "service_account = \"karpenter-controller\"");
    vec![format!(
      "{file}:{line}: pod-identity: aws_eks_pod_identity_association.karpenter gives service account `karpenter-controller` in namespace `kube-system` a role, but no add-on or chart runs as it (namespace `kube-system` runs `aws-load-balancer-controller`, `karpenter` and `metrics-server`)"
    )]
  });
}

#[test]
fn a_host_outside_the_domains_external_dns_serves() {
  breaks_after(
    "openinnovation",
    |repo| {
      // A DNS source for the platform's domain first: then only the host
      // moved out of it has none.
      fs::create_dir_all(repo.join("cluster/addons/external-dns")).unwrap();
      fs::write(
        repo.join("cluster/addons/external-dns/values.yaml"),
        "domainFilters:\n  - openinnovation.ai\n",
      )
      .unwrap();
      let (_, covered) = findings(repo);
      assert!(
        !covered.iter().any(|line| line.contains("host-dns")),
        "{covered:#?}"
      );
    },
    |repo| {
      // The host moves out of the domain, its Gateway listener with it.
      let file = "charts/frontend/values-staging.yaml";
      edit(
        repo,
        file,
        "host: staging.openinnovation.ai",
        "host: staging.openinnovation.example",
      );
      edit(
        repo,
        "cluster/manifests/staging/gateway.yaml",
        "hostname: staging.openinnovation.ai",
        "hostname: staging.openinnovation.example",
      );
      let line = line_of(repo, file, "host: staging.openinnovation.example");
      vec![format!(
        "{file}:{line}: host-dns: host `staging.openinnovation.example` has no DNS source in staging: no external-dns add-on covers it and no aws_route53_record names it"
      )]
    },
  );
}

#[test]
fn a_host_whose_gateway_does_not_exist() {
  breaks("openinnovation", |repo| {
    let file = "charts/backend/values-staging.yaml";
    edit(
      repo,
      file,
      "  gateway:\n",
      "  gateway:\n    name: private\n",
    );
    let line = line_of(repo, file, "host: api.staging.openinnovation.ai");
    vec![format!(
      "{file}:{line}: host-issuer: host `api.staging.openinnovation.ai` gets no certificate in staging: no Gateway `private` in namespace `nginx-gateway` in cluster/manifests"
    )]
  });
}

#[test]
fn a_host_its_gateway_listener_does_not_serve() {
  breaks("openinnovation", |repo| {
    edit(
      repo,
      "cluster/manifests/staging/gateway.yaml",
      "hostname: api.staging.openinnovation.ai",
      "hostname: api2.staging.openinnovation.ai",
    );
    let file = "charts/backend/values-staging.yaml";
    let line = line_of(repo, file, "host: api.staging.openinnovation.ai");
    vec![format!(
      "{file}:{line}: host-issuer: host `api.staging.openinnovation.ai` gets no certificate in staging: listener `https-api.staging.openinnovation.ai` of Gateway `public` serves `api2.staging.openinnovation.ai`, not this host"
    )]
  });
}

#[test]
fn a_gateway_whose_issuer_does_not_exist() {
  breaks("acme-shop", |repo| {
    let gateway = "cluster/manifests/dev/gateway.yaml";
    edit(
      repo,
      gateway,
      "cert-manager.io/cluster-issuer: letsencrypt-",
      "cert-manager.io/cluster-issuer: letsencrypt-dev-",
    );
    let issuer = read(repo, gateway)
      .lines()
      .find_map(|line| {
        line
          .trim()
          .strip_prefix("cert-manager.io/cluster-issuer: ")
          .map(str::to_string)
      })
      .unwrap();
    [
      ("catalog", "api.dev.shop.acme.example"),
      ("storefront", "dev.shop.acme.example"),
    ]
    .into_iter()
    .map(|(chart, host)| {
      let file = format!("charts/{chart}/values-dev.yaml");
      let line = line_of(repo, &file, &format!("host: {host}"));
      format!(
        "{file}:{line}: host-issuer: host `{host}` gets no certificate in dev: Gateway `public` names ClusterIssuer `{issuer}`, which cluster/manifests does not define"
      )
    })
    .collect()
  });
}

#[test]
fn a_network_policy_without_dns() {
  breaks("openinnovation", |repo| {
    let file = "charts/frontend/templates/networkpolicy.yaml";
    edit(
      repo,
      file,
      "        - port: 53\n          protocol: UDP",
      "        - port: 5353\n          protocol: UDP",
    );
    let line = line_of(repo, file, "  egress:");
    vec![format!(
      "{file}:{line}: netpol-dns: no egress rule of this NetworkPolicy allows DNS (UDP and TCP port 53)"
    )]
  });
}

#[test]
fn a_network_policy_without_the_database_port() {
  breaks("openinnovation", |repo| {
    let file = "charts/backend/templates/networkpolicy.yaml";
    edit(
      repo,
      file,
      "        - port: {{ .Values.database.port }}",
      "        - port: 5433",
    );
    let line = line_of(repo, file, "  egress:");
    vec![format!(
      "{file}:{line}: netpol-database: the chart uses the database, but no egress rule of this NetworkPolicy allows TCP port 5432 (database.port)"
    )]
  });
}

#[test]
fn a_template_that_reads_a_value_no_values_file_sets() {
  breaks("openinnovation", |repo| {
    let file = "charts/backend/templates/deployment.yaml";
    edit(
      repo,
      file,
      "{{ .Values.healthPath }}",
      "{{ .Values.health.path }}",
    );
    let line = line_of(repo, file, ".Values.health.path");
    vec![format!(
      "{file}:{line}: chart-values: `.Values.health.path` is read but set neither in values.yaml nor in values-production.yaml and values-staging.yaml"
    )]
  });
}

#[test]
fn a_file_that_does_not_parse() {
  breaks("openinnovation", |repo| {
    let file = "cluster/addons/metrics-server/values.yaml";
    let text = read(repo, file);
    fs::write(
      repo.join(file),
      format!("{text}args: [--kubelet-insecure-tls\n"),
    )
    .unwrap();
    // The parser notices at the end of the input, past the appended line.
    let line = text.lines().count() + 2;
    vec![format!(
      "{file}:{line}: parse: does not parse: while parsing a flow sequence, expected ',' or ']'"
    )]
  });
}

#[test]
fn a_tree_that_fits_together_has_no_findings() {
  let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/verify/clean");
  Cli::new()
    .args(["verify", "tests/fixtures/verify/clean"])
    .current_dir(env!("CARGO_MANIFEST_DIR"))
    .run()
    .code(0)
    .stdout("tests/fixtures/verify/clean fits together: no findings\n")
    .stderr("");
  // The same tree with one reference broken per rule finds each.
  let temp = tempfile::tempdir().unwrap();
  for (relative, contents) in tree(&fixture) {
    let path = temp.path().join(relative);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
  }
  let repo = temp.path();
  edit(
    repo,
    "infra/bootstrap/main.tf",
    "refs/heads/*",
    "refs/heads/release",
  );
  edit(
    repo,
    "cluster/manifests/issuers.yaml",
    "key: acme/vendor",
    "key: acme/vendors",
  );
  edit(
    repo,
    "infra/main.tf",
    "namespace       = \"acme\"",
    "namespace       = \"web\"",
  );
  edit(
    repo,
    "charts/web/values-staging.yaml",
    "appSecret: acme/staging/app",
    "appSecret: acme/staging/apps",
  );
  edit(
    repo,
    "charts/web/values.yaml",
    "appKey: app\n",
    "appKey: app2\n",
  );
  edit(
    repo,
    "charts/api/values.yaml",
    "clusterIssuer: letsencrypt",
    "clusterIssuer: letsencrypt-staging",
  );
  edit(
    repo,
    "charts/web/templates/networkpolicy.yaml",
    "port: {{ .Values.database.port }}",
    "port: 5433",
  );
  cli(repo, &["verify", "-q"]).run().code(1).stdout(
    ".github/workflows/deploy.yml:14: role-trusted: role `acme-staging-ci` does not trust this job: its token's sub is `repo:acme/platform:ref:refs/heads/main`, the role's trust allows `repo:acme/platform:ref:refs/heads/release`\n\
     charts/api/values-staging.yaml:2: host-issuer: host `api.staging.acme.example` gets no certificate in staging: ClusterIssuer `letsencrypt-staging` is not defined in cluster/manifests\n\
     charts/web/templates/externalsecret.yaml:17: secret-created: secret `acme/staging/apps` is read but no aws_secretsmanager_secret creates it in staging; create it in infra/, or declare it user-provided with a data \"aws_secretsmanager_secret\"\n\
     charts/web/templates/externalsecret.yaml:20: secret-created: secret `acme/staging/app2` is read but no aws_secretsmanager_secret creates it in staging; create it in infra/, or declare it user-provided with a data \"aws_secretsmanager_secret\"\n\
     charts/web/templates/networkpolicy.yaml:10: netpol-database: the chart uses the database, but no egress rule of this NetworkPolicy allows TCP port 5432 (database.port)\n\
     cluster/manifests/issuers.yaml:17: secret-created: secret `acme/vendors` is read but no aws_secretsmanager_secret creates it in staging; create it in infra/, or declare it user-provided with a data \"aws_secretsmanager_secret\"\n\
     infra/main.tf:48: pod-identity: aws_eks_pod_identity_association.web gives service account `web` in namespace `web` a role, but no add-on or chart runs as it (nothing that verify knows of runs in namespace `web`)\n",
  );
}

#[test]
fn a_folder_that_is_no_repository_is_a_usage_error() {
  let temp = tempfile::tempdir().unwrap();
  cli(temp.path(), &["verify"]).run().code(2).stdout("").stderr(
    "error: `.` holds no rendered platform: no infra/, charts/, cluster/ or .github/workflows/\n  = help: run `oi-gen verify` in the repository `oi-gen render` wrote, or pass its folder\n",
  );
  cli(temp.path(), &["verify", "missing"])
    .run()
    .code(2)
    .stdout("")
    .stderr("error: cannot read `missing`: No such file or directory (os error 2)\n");
}

#[test]
fn a_namespace_quota_the_services_at_their_most_replicas_do_not_fit() {
  breaks("openinnovation", |repo| {
    let file = "cluster/manifests/staging/quota.yaml";
    edit(repo, file, "requests.cpu: 3650m", "requests.cpu: '2'");
    edit(repo, file, "pods: '17'", "pods: '10'");
    let cpu = line_of(repo, file, "requests.cpu:");
    let pods = line_of(repo, file, "pods:");
    vec![
      format!(
        "{file}:{pods}: namespace-quota: pods `10` is below the 11 the charts' pods need at their most replicas in staging (backend 10 + frontend 1)"
      ),
      format!(
        "{file}:{cpu}: namespace-quota: requests.cpu `2` is below the 2600m the charts' pods need at their most replicas in staging (backend 10 × 250m + frontend 1 × 100m)"
      ),
    ]
  });
}

#[test]
fn a_namespace_quota_of_one_environment_is_checked_with_its_values_only() {
  // Production runs 3 frontend pods (no override), staging 1: a production
  // quota that fits only staging's numbers is a finding for production.
  breaks("openinnovation", |repo| {
    let file = "cluster/manifests/production/quota.yaml";
    edit(repo, file, "pods: '19'", "pods: '11'");
    let pods = line_of(repo, file, "pods:");
    vec![format!(
      "{file}:{pods}: namespace-quota: pods `11` is below the 13 the charts' pods need at their most replicas in production (backend 10 + frontend 3)"
    )]
  });
}

const APPS: &str = "cluster/manifests/production/applications.yaml";

#[test]
fn an_application_that_reads_a_missing_values_file() {
  breaks("ledger", |repo| {
    edit(
      repo,
      APPS,
      "- ../../deploy/production/images/api.yaml",
      "- ../../deploy/production/images/apx.yaml",
    );
    vec![format!(
      "{APPS}:{}: argocd-source: Application `api` reads the values file `../../deploy/production/images/apx.yaml` (`deploy/production/images/apx.yaml`), which does not exist",
      line_of(repo, APPS, "images/apx.yaml")
    )]
  });
}

#[test]
fn an_application_of_a_chart_that_is_not_there() {
  breaks("ledger", |repo| {
    edit(repo, APPS, "path: charts/api", "path: charts/apx");
    vec![format!(
      "{APPS}:{}: argocd-source: Application `api` syncs the chart `charts/apx`, but the repository has no `charts/apx/Chart.yaml`",
      line_of(repo, APPS, "path: charts/apx")
    )]
  });
}

#[test]
fn an_application_outside_the_platforms_namespace() {
  breaks("ledger", |repo| {
    let text = read(repo, APPS);
    let at = text.find("kind: Application\n").unwrap();
    let (head, tail) = text.split_at(at);
    fs::write(
      repo.join(APPS),
      format!(
        "{head}{}",
        tail.replacen("namespace: ledger", "namespace: default", 1)
      ),
    )
    .unwrap();
    let line = line_of(repo, APPS, "namespace: default");
    vec![
      format!(
        "{APPS}:{line}: argocd-destination: Application `api` deploys into namespace `default`, not the platform's namespace `ledger` (cluster/manifests/deployers.yaml)"
      ),
      format!(
        "{APPS}:{}: argocd-destination: Application `api`: no AppProject `ledger` next to it allows namespace `default`",
        line_of(repo, APPS, "project: ledger")
      ),
    ]
  });
}

/// The preview role trusts the GitHub environment `preview` alone: the
/// teardown job taken out of it presents the pull request subject, which
/// is the read-only plan role's, and verify says so.
#[test]
fn a_preview_job_outside_the_preview_environment() {
  breaks("ledger", |repo| {
    let file = ".github/workflows/preview.yml";
    edit(
      repo,
      file,
      "    environment: preview\n    permissions:\n      contents: read # check out the repository\n      id-token: write # assume the preview role through GitHub OIDC\n      pull-requests: read",
      "    permissions:\n      contents: read # check out the repository\n      id-token: write # assume the preview role through GitHub OIDC\n      pull-requests: read",
    );
    let text = read(repo, file);
    let teardown = text
      .find("name: Remove previews")
      .expect("the teardown job");
    let line = text[..teardown].lines().count()
      + text[teardown..]
        .lines()
        .position(|l| l.contains("role/ledger-staging-preview"))
        .expect("the teardown assumes the preview role");
    vec![format!(
      "{file}:{line}: role-trusted: role `ledger-staging-preview` does not trust this job: its token's sub is `repo:ledger/platform:pull_request`, the role's trust allows `repo:ledger/platform:environment:preview`"
    )]
  });
}
