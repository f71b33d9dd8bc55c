//! One test per validation rule: each edits the default blueprint and pins
//! the exact message, field path and line:column of the problem.

use oi_gen::blueprint;
use oi_gen::diagnostic::{Diagnostic, Pos, Severity};

const BASE: &str = include_str!("../../blueprints/openinnovation.yaml");

/// The default blueprint with `from` replaced by `to` (which must occur once).
fn edit(from: &str, to: &str) -> String {
  assert_eq!(BASE.matches(from).count(), 1, "`{from}` must occur once");
  BASE.replacen(from, to, 1)
}

fn errors(text: &str) -> Vec<Diagnostic> {
  match blueprint::load(text.as_bytes()) {
    Ok(_) => Vec::new(),
    Err(problems) => problems
      .into_iter()
      .filter(|p| p.severity == Severity::Error)
      .collect(),
  }
}

/// Line and column (1-based) of the first occurrence of `needle`.
fn at(text: &str, needle: &str) -> Pos {
  let offset = text
    .find(needle)
    .unwrap_or_else(|| panic!("`{needle}` not in text"));
  let before = &text[..offset];
  let line = before.matches('\n').count() + 1;
  let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
  Pos { line, col }
}

/// Asserts exactly one error with this path, message and position.
#[track_caller]
fn assert_one(text: &str, path: &str, message: &str, pos: Pos) {
  let found = errors(text);
  assert_eq!(found.len(), 1, "expected one error, got {found:#?}");
  assert_eq!(found[0].path, path);
  assert_eq!(found[0].message, message);
  assert_eq!(found[0].pos, Some(pos), "position of {path}");
}

#[test]
fn the_default_blueprint_is_valid() {
  let loaded = blueprint::load(BASE.as_bytes()).expect("valid");
  assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
}

#[test]
fn every_builtin_blueprint_is_valid() {
  for builtin in oi_gen::builtin::all() {
    blueprint::load(builtin.text.as_bytes())
      .unwrap_or_else(|e| panic!("{} is invalid: {e:#?}", builtin.name));
  }
}

#[test]
fn region_with_leading_space_is_an_error() {
  let text = edit("region: me-central-1", "region: \" me-central-1\"");
  let found = errors(&text);
  assert_eq!(found.len(), 1, "{found:#?}");
  assert_eq!(found[0].path, "spec.aws.region");
  assert_eq!(found[0].message, "` me-central-1` is not an AWS region");
  assert_eq!(
    found[0].hint.as_deref(),
    Some("remove the surrounding whitespace: `me-central-1`")
  );
  assert_eq!(found[0].pos, Some(at(&text, "\" me-central-1\"")));
}

#[test]
fn unknown_region_suggests_the_closest() {
  let text = edit("region: me-central-1", "region: me-centrl-1");
  let found = errors(&text);
  assert_eq!(found[0].message, "`me-centrl-1` is not an AWS region");
  assert_eq!(
    found[0].hint.as_deref(),
    Some("did you mean `me-central-1`?")
  );
}

#[test]
fn zone_outside_the_region() {
  let text = edit(
    "me-central-1b, me-central-1c]",
    "me-central-1b, us-east-1c]",
  );
  assert_one(
    &text,
    "spec.aws.availabilityZones[2]",
    "`us-east-1c` is not an availability zone of `me-central-1`",
    at(&text, "us-east-1c"),
  );
}

#[test]
fn unknown_key_gets_a_did_you_mean_hint() {
  let text = edit(
    "      port: 8080\n      replicas: 3",
    "      port: 8080\n      replica: 3",
  );
  let found = errors(&text);
  assert_eq!(found.len(), 1, "{found:#?}");
  assert_eq!(found[0].path, "spec.services[0].replica");
  assert_eq!(found[0].message, "unknown field `replica`");
  assert_eq!(found[0].hint.as_deref(), Some("did you mean `replicas`?"));
  assert_eq!(found[0].pos, Some(at(&text, "replica: 3")));
}

#[test]
fn wrong_type_names_the_field_and_line() {
  let text = edit("      port: 8080", "      port: eighty");
  let found = errors(&text);
  assert_eq!(found.len(), 1, "{found:#?}");
  assert_eq!(found[0].path, "spec.services[0].port");
  assert!(
    found[0]
      .message
      .starts_with("invalid type: string \"eighty\""),
    "{}",
    found[0].message
  );
  assert_eq!(found[0].pos, Some(at(&text, "eighty")));
}

#[test]
fn unknown_enum_value_suggests() {
  let text = edit("natGateways: onePerAz", "natGateways: onePerZone");
  let found = errors(&text);
  assert_eq!(found[0].path, "spec.network.natGateways");
  assert_eq!(found[0].hint.as_deref(), Some("did you mean `onePerAz`?"));
  assert_eq!(found[0].pos, Some(at(&text, "onePerZone")));
}

#[test]
fn port_out_of_range() {
  let text = edit("      port: 80\n", "      port: 70000\n");
  assert_one(
    &text,
    "spec.services[1].port",
    "port must be between 1 and 65535, got 70000",
    at(&text, "70000"),
  );
}

#[test]
fn replicas_at_least_one() {
  let text = edit(
    "      replicas: 3\n      build: frontend",
    "      replicas: 0\n      build: frontend",
  );
  assert_one(
    &text,
    "spec.services[1].replicas",
    "replicas must be at least 1, got 0",
    at(&text, "0\n      build: frontend"),
  );
}

#[test]
fn unquoted_kubernetes_version_gets_a_specific_hint() {
  let text = edit("kubernetesVersion: \"1.35\"", "kubernetesVersion: 1.30");
  let found = errors(&text);
  assert_eq!(found.len(), 1, "{found:#?}");
  assert_eq!(found[0].path, "spec.cluster.kubernetesVersion");
  assert_eq!(
    found[0].message,
    "the version must be a quoted string, got the number 1.3"
  );
  assert_eq!(
    found[0].hint.as_deref(),
    Some("YAML reads an unquoted 1.3 as a number, so `1.30` becomes 1.3; quote it: `\"1.30\"`")
  );
  assert_eq!(found[0].pos, Some(at(&text, "1.30")));
}

#[test]
fn kubernetes_version_past_support_is_an_error() {
  let text = edit("kubernetesVersion: \"1.35\"", "kubernetesVersion: \"1.30\"");
  assert_one(
    &text,
    "spec.cluster.kubernetesVersion",
    "Kubernetes `1.30` is not a supported EKS version",
    at(&text, "\"1.30\""),
  );
}

#[test]
fn kubernetes_version_in_extended_support_warns() {
  let text = edit("kubernetesVersion: \"1.35\"", "kubernetesVersion: \"1.33\"");
  let loaded = blueprint::load(text.as_bytes()).expect("a warning is not an error");
  assert_eq!(loaded.warnings.len(), 1);
  assert_eq!(
    loaded.warnings[0].message,
    "Kubernetes 1.33 is in EKS extended support (extra cost, ends soon)"
  );
}

#[test]
fn node_group_sizes_must_be_ordered() {
  let text = edit(
    "minSize: 2\n        maxSize: 5",
    "minSize: 6\n        maxSize: 5",
  );
  assert_one(
    &text,
    "spec.cluster.nodeGroups[0].minSize",
    "minSize (6) is larger than maxSize (5)",
    at(&text, "6\n        maxSize"),
  );
  let text = edit("maxSize: 5\n", "maxSize: 5\n        desiredSize: 9\n");
  assert_one(
    &text,
    "spec.cluster.nodeGroups[0].desiredSize",
    "desiredSize (9) must be between minSize (2) and maxSize (5)",
    at(&text, "9\n"),
  );
}

#[test]
fn node_group_names_are_dns_labels() {
  let text = edit("- name: general", "- name: General_Pool");
  assert_one(
    &text,
    "spec.cluster.nodeGroups[0].name",
    "`General_Pool` is not a valid name: `G` is not allowed",
    at(&text, "General_Pool"),
  );
}

#[test]
fn instance_type_syntax() {
  let text = edit("instanceTypes: [m6i.large]", "instanceTypes: [m6ilarge]");
  assert_one(
    &text,
    "spec.cluster.nodeGroups[0].instanceTypes[0]",
    "`m6ilarge` is not an EC2 instance type",
    at(&text, "m6ilarge"),
  );
}

#[test]
fn rds_instance_class_syntax() {
  let text = edit("instanceClass: db.t4g.medium", "instanceClass: t4g.medium");
  assert_one(
    &text,
    "spec.database.instanceClass",
    "`t4g.medium` is not an RDS instance class",
    at(&text, "t4g.medium"),
  );
}

#[test]
fn storage_and_backup_limits() {
  let text = edit("storageGb: 20", "storageGb: 10");
  assert_one(
    &text,
    "spec.database.storageGb",
    "storage must be at least 20 GB, got 10",
    at(&text, "10\n"),
  );
  let text = edit("backupRetentionDays: 7", "backupRetentionDays: 36");
  assert_one(
    &text,
    "spec.database.backupRetentionDays",
    "backup retention must be between 0 and 35 days, got 36",
    at(&text, "36"),
  );
}

#[test]
fn cidr_syntax() {
  let text = edit("cidr: 10.0.0.0/16", "cidr: 10.0.0.1/16");
  assert_one(
    &text,
    "spec.network.cidr",
    "`10.0.0.1/16` has host bits set; the network address is `10.0.0.0/16`",
    at(&text, "10.0.0.1/16"),
  );
}

#[test]
fn explicit_subnets_must_fit_and_not_overlap() {
  let text = edit(
    "natGateways: onePerAz",
    "natGateways: onePerAz\n    publicSubnets: [10.0.240.0/24, 10.0.240.0/25, 10.1.0.0/24]",
  );
  let found = errors(&text);
  assert_eq!(found.len(), 2, "{found:#?}");
  assert_eq!(found[0].path, "spec.network.publicSubnets[0]");
  assert_eq!(
    found[0].message,
    "subnet `10.0.240.0/24` overlaps `10.0.240.0/25` (spec.network.publicSubnets[1])"
  );
  assert_eq!(found[1].path, "spec.network.publicSubnets[2]");
  assert_eq!(
    found[1].message,
    "`10.1.0.0/24` is outside the VPC range `10.0.0.0/16`"
  );
  assert_eq!(found[1].pos, Some(at(&text, "10.1.0.0/24")));
}

#[test]
fn explicit_subnets_must_not_overlap_carved_ones() {
  let text = edit(
    "natGateways: onePerAz",
    "natGateways: onePerAz\n    databaseSubnets: [10.0.0.0/24, 10.0.230.0/24, 10.0.231.0/24]",
  );
  assert_one(
    &text,
    "spec.network.databaseSubnets[0]",
    "subnet `10.0.0.0/24` overlaps `10.0.0.0/20` (the carved private subnet)",
    at(&text, "10.0.0.0/24"),
  );
}

#[test]
fn duplicate_service_names() {
  let text = edit("- name: frontend", "- name: backend");
  let found = errors(&text);
  assert!(found.iter().any(|d| d.path == "spec.services[1].name"
    && d.message == "service `backend` is defined twice (also at spec.services[0])"));
}

#[test]
fn duplicate_routes() {
  let text = edit("host: \"@\"", "host: api");
  assert_one(
    &text,
    "spec.services[1].ingress",
    "host `api` and path `/` are already routed to spec.services[0]",
    at(&text, "host: api            # \"@\""),
  );
}

#[test]
fn ingress_path_starts_with_a_slash() {
  let text = edit("path: /   ", "path: api ");
  assert_one(
    &text,
    "spec.services[0].ingress.path",
    "`api` must start with `/`",
    {
      let key = at(&text, "path: api");
      Pos {
        line: key.line,
        col: key.col + 6,
      }
    },
  );
}

#[test]
fn env_var_names() {
  let text = edit("LOG_LEVEL: info", "LOG-LEVEL: info");
  assert_one(
    &text,
    "spec.services[0].env.LOG-LEVEL",
    "`LOG-LEVEL` is not a valid environment variable name",
    at(&text, "info"),
  );
}

#[test]
fn secret_needs_a_property() {
  let text = edit(
    "{secret: openinnovation-ai/analytics, property: apiKey}",
    "{secret: openinnovation-ai/analytics}",
  );
  assert_one(
    &text,
    "spec.services[1].secretEnv.ANALYTICS_KEY",
    "`secret:` needs a `property:` naming the JSON key to read",
    at(&text, "{secret: openinnovation-ai/analytics}"),
  );
}

#[test]
fn database_reference_needs_a_database() {
  let start = BASE.find("  database:\n    engine").unwrap();
  let end = BASE.find("  services:").unwrap();
  let text = format!("{}{}", &BASE[..start], &BASE[end..]).replace(
    "        database: {instanceClass: db.t4g.small, multiAz: false}\n",
    "",
  );
  let found = errors(&text);
  let mut paths: Vec<&str> = found.iter().map(|d| d.path.as_str()).collect();
  paths.sort_unstable();
  assert_eq!(
    paths,
    [
      "spec.services[0].runsMigrations",
      "spec.services[0].secretEnv.DATABASE_PASSWORD.database",
      "spec.services[0].secretEnv.DATABASE_URL.database",
    ]
  );
  assert!(found.iter().any(
    |d| d.path == "spec.services[0].secretEnv.DATABASE_URL.database"
      && d.message == "`database:` needs spec.database"
      && d.pos == Some(at(&text, "url}"))
  ));
  assert!(
    found
      .iter()
      .any(|d| d.path == "spec.services[0].runsMigrations"
        && d.message == "runsMigrations needs spec.database")
  );
  assert_eq!(found.len(), 3, "{found:#?}");
}

#[test]
fn only_one_service_runs_migrations() {
  let text = edit(
    "      build: frontend\n",
    "      build: frontend\n      runsMigrations: true\n",
  );
  assert_one(
    &text,
    "spec.services[1].runsMigrations",
    "only one service can run the migrations; spec.services[0] already does",
    at(&text, "true\n      ingress:\n        host: \"@\""),
  );
}

#[test]
fn checkov_skip_needs_a_reason() {
  let text = edit(
    "        reason: cross-region replication of the state bucket is out of scope\n",
    "",
  );
  assert_one(
    &text,
    "spec.compliance.checkovSkips[0]",
    "the skip of `CKV_AWS_144` needs a reason",
    at(&text, "id: CKV_AWS_144"),
  );
}

#[test]
fn email_and_repository_syntax() {
  let text = edit(
    "acmeEmail: platform@openinnovation.ai",
    "acmeEmail: platform",
  );
  assert_one(
    &text,
    "spec.cluster.addons.certManager.acmeEmail",
    "`platform` is not an e-mail address",
    at(&text, "platform   #"),
  );
  let text = edit(
    "repository: openinnovation-ai/platform",
    "repository: platform",
  );
  assert_one(
    &text,
    "spec.delivery.github.repository",
    "`platform` is not a GitHub repository",
    at(&text, "platform\n      branch"),
  );
}

#[test]
fn environment_names_unique_and_valid() {
  let text = edit("- name: production", "- name: staging");
  let found = errors(&text);
  assert!(found.iter().any(|d| d.path == "spec.environments[1].name"
    && d.message == "environment `staging` is defined twice (also at index 0)"));
}

#[test]
fn platform_name_is_a_short_dns_label() {
  let text = edit("name: openinnovation-ai\n", "name: OpenInnovation\n");
  assert_one(
    &text,
    "metadata.name",
    "`OpenInnovation` is not a valid name: `O` is not allowed",
    at(&text, "OpenInnovation"),
  );
}

#[test]
fn reports_all_problems_at_once() {
  let text = edit("      port: 80\n", "      port: 0\n").replace("storageGb: 20", "storageGb: 5");
  let found = errors(&text);
  assert_eq!(found.len(), 2, "{found:#?}");
  // Sorted by position in the file.
  assert_eq!(found[0].path, "spec.database.storageGb");
  assert_eq!(found[1].path, "spec.services[1].port");
}

#[test]
fn hostile_inputs_fail_cleanly() {
  let cases: Vec<(&str, Vec<u8>)> = vec![
    ("empty", Vec::new()),
    ("whitespace", b"  \n\n".to_vec()),
    ("a list", b"- a\n- b\n".to_vec()),
    ("a scalar", b"hello".to_vec()),
    ("binary", vec![0xff, 0xfe, 0x00, 0x01, 0x80]),
    ("nul bytes", b"apiVersion: \0\0\0".to_vec()),
    ("unclosed", b"spec: [".to_vec()),
    ("tabs", b"spec:\n\t- a".to_vec()),
    (
      "duplicate keys",
      b"kind: Platform\nkind: Platform\n".to_vec(),
    ),
    ("two documents", b"kind: a\n---\nkind: b\n".to_vec()),
    ("deep nesting", "[".repeat(100_000).into_bytes()),
    ("huge", vec![b'a'; 2 * 1024 * 1024]),
  ];
  for (name, bytes) in cases {
    let problems = blueprint::load(&bytes).expect_err(name);
    assert!(problems.iter().any(Diagnostic::is_error), "{name}");
  }
}

#[test]
fn alias_bombs_do_not_explode() {
  let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
  for i in 0..12 {
    let prev = if i == 0 {
      "a".to_string()
    } else {
      format!("a{}", i - 1)
    };
    bomb.push_str(&format!(
      "a{i}: &a{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
    ));
  }
  let problems = blueprint::load(bomb.as_bytes()).expect_err("not a blueprint");
  assert!(problems.iter().any(Diagnostic::is_error));
}

#[test]
fn duplicate_keys_are_located() {
  let text = edit("      port: 8080\n", "      port: 8080\n      port: 8081\n");
  assert_one(
    &text,
    "spec.services[0].port",
    "duplicate key `port` (first defined at line 78)",
    at(&text, "port: 8081"),
  );
}

#[test]
fn platform_and_environment_names_fit_aws_limits() {
  let text = edit("- name: production", "- name: production-eu-west1");
  assert_one(
    &text,
    "spec.environments[1].name",
    "`openinnovation-ai-production-eu-west1` (platform and environment) is 37 characters; at most 30 fit the AWS names built from it",
    at(&text, "production-eu-west1"),
  );
}

/// Thousands of damaged blueprints (bytes flipped, lines dropped, duplicated
/// or swapped): loading never panics, and whatever still validates renders.
#[test]
fn mutated_blueprints_never_panic() {
  let engine = oi_gen::render::Engine::new().unwrap();
  let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
  let mut next = move |bound: usize| {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    (seed % bound.max(1) as u64) as usize
  };
  let lines: Vec<&str> = BASE.lines().collect();
  let mut rendered = 0;
  for round in 0..2000 {
    let mut text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    for _ in 0..1 + next(3) {
      let i = next(text.len());
      match next(5) {
        0 => {
          text.remove(i);
        }
        1 => {
          let line = text[i].clone();
          text.insert(i, line);
        }
        2 => {
          let j = next(text.len());
          text.swap(i, j);
        }
        3 => {
          let mut bytes = text[i].clone().into_bytes();
          if !bytes.is_empty() {
            let at = next(bytes.len());
            let noise = b"x:-[]{}&*!|>'\"#%@`0 \t";
            bytes[at] = noise[next(noise.len())];
          }
          text[i] = String::from_utf8_lossy(&bytes).into_owned();
        }
        _ => {
          let digits = ["0", "-1", "99999999999999999999", "1.5", "~", "\"\"", "[]"];
          if let Some((key, _)) = text[i].clone().split_once(": ") {
            text[i] = format!("{key}: {}", digits[next(digits.len())]);
          }
        }
      }
    }
    let source = text.join("\n");
    if let Ok(loaded) = blueprint::load(source.as_bytes()) {
      oi_gen::render::render(&loaded.resolved, &engine).unwrap_or_else(|e| {
        panic!("round {round}: valid blueprint failed to render: {e:?}\n{source}")
      });
      rendered += 1;
    }
  }
  assert!(rendered > 50, "too few mutations stayed valid ({rendered})");
}

#[test]
fn secrets_and_migrations_need_external_secrets() {
  let text = edit(
    "      externalSecrets: true\n",
    "      externalSecrets: false\n",
  );
  let found = errors(&text);
  let paths: Vec<&str> = found.iter().map(|d| d.path.as_str()).collect();
  assert_eq!(
    paths,
    [
      "spec.services[0].secretEnv",
      "spec.services[0].runsMigrations",
      "spec.services[1].secretEnv"
    ]
  );
  assert_eq!(
    found[0].message,
    "secretEnv needs spec.cluster.addons.externalSecrets, which reads the values from AWS Secrets Manager"
  );
  assert_eq!(
    found[1].message,
    "runsMigrations needs spec.cluster.addons.externalSecrets: the migration Job reads the database credentials through it"
  );
  assert_eq!(
    found[1].pos,
    Some(at(&text, "true\n\n    - name: frontend"))
  );
}
