//! The validation rules. Each bad blueprint in `tests/fixtures/invalid/`
//! goes through `oi-gen validate -f`, and its exact diagnostics (message,
//! field path, line:column, source line and hint) and exit code are pinned in
//! `snapshots/invalid/`. Inputs built in code (huge, deep, binary, mutated)
//! are tested here directly.

use std::collections::BTreeSet;
use std::path::Path;

use oi_gen::blueprint;
use oi_gen::diagnostic::Diagnostic;

use crate::support::*;

const BASE: &str = include_str!("../../blueprints/openinnovation.yaml");

/// Where the fixtures' snapshots live, relative to this file.
const SNAPSHOTS: &str = "../../snapshots/invalid";

/// The default blueprint with `from` replaced by `to` (which must occur once).
fn edit(from: &str, to: &str) -> String {
  assert_eq!(BASE.matches(from).count(), 1, "`{from}` must occur once");
  BASE.replacen(from, to, 1)
}

#[test]
fn every_invalid_fixture_fails_with_its_diagnostics() {
  insta::with_settings!({
    snapshot_path => SNAPSHOTS,
    prepend_module_to_snapshot => false,
    omit_expression => true,
  }, {
    insta::glob!("../fixtures/invalid", "*.yaml", |path| {
      let name = path.file_name().unwrap().to_str().unwrap();
      let outcome = Cli::new()
        .args(["validate", "-f", name])
        .current_dir(path.parent().unwrap())
        .run();
      assert_eq!(outcome.code, 2, "{name}: an invalid blueprint exits 2");
      assert_eq!(outcome.stdout, "", "{name}: nothing on stdout");
      insta::assert_snapshot!("validate", outcome.stderr);
    });
  });
}

/// Every snapshot in `snapshots/invalid/` has its fixture: a removed or
/// renamed fixture leaves no stale snapshot behind.
#[test]
fn every_invalid_snapshot_has_its_fixture() {
  let root = Path::new(env!("CARGO_MANIFEST_DIR"));
  let names = |dir: &str| -> BTreeSet<String> {
    std::fs::read_dir(root.join(dir))
      .unwrap()
      .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
      .collect()
  };
  let expected: BTreeSet<String> = names("tests/fixtures/invalid")
    .iter()
    .map(|fixture| format!("validate@{fixture}.snap"))
    .collect();
  let found = names("snapshots/invalid");
  let stale: Vec<_> = found.difference(&expected).collect();
  let missing: Vec<_> = expected.difference(&found).collect();
  assert!(
    stale.is_empty() && missing.is_empty(),
    "snapshots/invalid/ does not match tests/fixtures/invalid/: no fixture for {stale:?} (delete them, or review the pending `.snap.new` ones); no snapshot for {missing:?}"
  );
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
fn kubernetes_version_in_extended_support_warns() {
  let text = edit("kubernetesVersion: \"1.35\"", "kubernetesVersion: \"1.33\"");
  let loaded = blueprint::load(text.as_bytes()).expect("a warning is not an error");
  assert_eq!(
    warnings_of(&loaded),
    [
      "spec.cluster.kubernetesVersion: Kubernetes 1.33 is in EKS extended support (extra cost, ends soon)",
      // The version table has no build of these two for 1.33
      // (tests/it/versions.rs).
      "spec.cluster.kubernetesVersion: oi-gen pins no build of the EKS add-on(s) `aws-ebs-csi-driver`, `eks-pod-identity-agent` for Kubernetes 1.33: they run AWS's default build for it, which may change between plans",
    ]
  );
}

#[test]
fn hostile_inputs_fail_cleanly() {
  // The small hostile inputs that are text are fixtures; these are built here.
  let cases: Vec<(&str, Vec<u8>)> = vec![
    ("binary", vec![0xff, 0xfe, 0x00, 0x01, 0x80]),
    ("nul bytes", b"apiVersion: \0\0\0".to_vec()),
    ("deep nesting", "[".repeat(100_000).into_bytes()),
    ("huge", vec![b'a'; 3 * 1024 * 1024]),
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
    let mut text: Vec<String> = lines.iter().map(std::string::ToString::to_string).collect();
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

/// What `oi-gen validate -f <name>` prints for a blueprint that gave more
/// than the limit before its end.
fn past_the_limit(name: &str) -> String {
  format!(
    "error: the blueprint is larger than the limit of 2097152 bytes; reading stopped there\n  --> {name}\n  = help: a blueprint is a YAML file; check that the right file was given\nerror: `{name}` has 1 problem; nothing was written\n"
  )
}

/// Devices and pipes report no size: reading stops one byte past the limit,
/// quickly, with the same located problem, and nothing is written.
#[cfg(unix)]
#[test]
fn endless_devices_and_pipes_stop_at_the_size_limit() {
  let temp = tempfile::tempdir().unwrap();
  for device in ["/dev/zero", "/dev/urandom"] {
    let started = std::time::Instant::now();
    Cli::new()
      .args(["validate", "-f", device])
      .run()
      .code(2)
      .stdout("")
      .stderr(past_the_limit(device));
    Cli::new()
      .args(["render", "-f", device, "--out", "out"])
      .current_dir(temp.path())
      .run()
      .code(2)
      .stdout("")
      .stderr(past_the_limit(device));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
  }
  assert!(!temp.path().join("out").exists(), "nothing was written");

  // A named pipe fed without end.
  let fifo = temp.path().join("platform.yaml");
  let made = std::process::Command::new("mkfifo")
    .arg(&fifo)
    .status()
    .unwrap();
  assert!(made.success());
  let writer = {
    let fifo = fifo.clone();
    std::thread::spawn(move || {
      use std::io::Write as _;
      let mut pipe = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
      // Stops when oi-gen closes its end.
      while pipe.write_all(b"spec: {}\n").is_ok() {}
    })
  };
  Cli::new()
    .args(["validate", "-f", "platform.yaml"])
    .current_dir(temp.path())
    .run()
    .code(2)
    .stdout("")
    .stderr(past_the_limit("platform.yaml"));
  writer.join().unwrap();

  // `init --from` reads a pipe or device too, within the same limit.
  Cli::new()
    .args(["init", "repo", "--from", "/dev/zero"])
    .current_dir(temp.path())
    .run()
    .code(2)
    .stdout("")
    .stderr(past_the_limit("/dev/zero"));
  assert!(!temp.path().join("repo").exists(), "nothing was written");
}

/// A regular file past the limit is told its size.
#[test]
fn a_file_past_the_limit_is_told_its_size() {
  let temp = tempfile::tempdir().unwrap();
  std::fs::write(temp.path().join("platform.yaml"), vec![b'#'; 3_000_000]).unwrap();
  Cli::new()
    .args(["validate"])
    .current_dir(temp.path())
    .run()
    .code(2)
    .stdout("")
    .stderr("error: the blueprint is 3000000 bytes; the limit is 2097152\n  --> platform.yaml\n  = help: 2 MiB holds about 14,000 services of a few lines each; there is no separate limit on services or environments\nerror: `platform.yaml` has 1 problem; nothing was written\n");
}

/// One big value anchored once and referenced thousands of times is few
/// YAML events but gigabytes once expanded: it is refused, located at the
/// alias that takes the expansion past the limit, before it is expanded.
#[test]
fn aliases_of_a_big_value_are_refused_before_they_expand() {
  let big = "x".repeat(400_000);
  let mut env = String::new();
  for i in 0..5_000 {
    env.push_str(&format!("        V{i}: *big\n"));
  }
  let text = edit(
    "      env:\n        LOG_LEVEL: info\n",
    &format!("      env:\n        LOG_LEVEL: &big {big}\n{env}"),
  );
  let line = text.lines().position(|l| l == "        V5: *big").unwrap() + 1;
  assert_eq!(line.to_string().len(), 3, "the margin below is three wide");
  let temp = tempfile::tempdir().unwrap();
  std::fs::write(temp.path().join("platform.yaml"), &text).unwrap();
  let started = std::time::Instant::now();
  Cli::new()
    .args(["render"])
    .current_dir(temp.path())
    .run()
    .code(2)
    .stdout("")
    .stderr(format!(
      "error: spec.services[0].env.V5: aliases expand the blueprint by more than 2097152 bytes (this one to 400000 bytes)
  --> platform.yaml:{line}:13
    |
{line} |         V5: *big
    |             ^
  = help: write the repeated values out, or anchor smaller ones
error: `platform.yaml` has 1 problem; nothing was written
"
    ));
  assert!(started.elapsed() < std::time::Duration::from_secs(10));
  assert_eq!(
    std::fs::read_dir(temp.path()).unwrap().count(),
    1,
    "nothing was written"
  );
}

/// A blueprint with thousands of problems is reported in time linear in
/// their number, and only the first 50 are printed, then how many more.
#[test]
fn thousands_of_problems_print_the_first_fifty() {
  let services = 20_000;
  let mut list = String::from("  services:\n");
  for i in 0..services {
    list.push_str(&format!(
      "    - name: s{i}\n      port: 0\n      replicas: 1\n"
    ));
  }
  let start = BASE.find("  services:\n").unwrap();
  let end = BASE.find("  environments:\n").unwrap();
  let text = format!("{}{list}{}", &BASE[..start], &BASE[end..]);
  let first_line = BASE[..start].lines().count() + 3;
  let mut expected = String::new();
  for i in 0..50 {
    let line = (first_line + 3 * i).to_string();
    let pad = " ".repeat(line.len());
    expected.push_str(&format!(
      "error: spec.services[{i}].port: port must be between 1 and 65535, got 0\n  --> platform.yaml:{line}:13\n{pad} |\n{line} |       port: 0\n{pad} |             ^\n"
    ));
  }
  expected.push_str(&format!(
    "… and {} more problems\nerror: `platform.yaml` has {services} problems; nothing was written\n",
    services - 50
  ));
  let temp = tempfile::tempdir().unwrap();
  std::fs::write(temp.path().join("platform.yaml"), &text).unwrap();
  let started = std::time::Instant::now();
  Cli::new()
    .args(["validate"])
    .current_dir(temp.path())
    .run()
    .code(2)
    .stdout("")
    .stderr(expected);
  let took = started.elapsed();
  assert!(took < std::time::Duration::from_secs(10), "took {took:?}");
}

/// The errors `text` fails with, as `path: message`.
/// The located warnings of a valid blueprint, as `path: message`.
fn warnings_of(loaded: &blueprint::Loaded) -> Vec<String> {
  loaded
    .warnings
    .iter()
    .map(|d| format!("{}: {}", d.path, d.message))
    .collect()
}

fn errors_of(text: &str) -> Vec<String> {
  match blueprint::load(text.as_bytes()) {
    Ok(_) => Vec::new(),
    Err(errors) => errors
      .iter()
      .filter(|d| d.is_error())
      .map(|d| format!("{}: {}", d.path, d.message))
      .collect(),
  }
}

#[test]
fn requests_and_limits_compare_as_quantities() {
  // Equal amounts in other units are within the limit.
  let equal = edit(
    "requests: {cpu: 250m, memory: 256Mi}",
    "requests: {cpu: \"1\", memory: 1024Mi}",
  );
  assert_eq!(errors_of(&equal), Vec::<String>::new());
  let decimal = edit(
    "limits: {cpu: \"1\", memory: 1Gi}",
    "limits: {cpu: \"0.25\", memory: 268435456}",
  );
  assert_eq!(errors_of(&decimal), Vec::<String>::new());
  // A request above the default limit (500m, 512Mi) when no limits are given.
  let over_default = edit("        limits: {cpu: \"1\", memory: 1Gi}\n", "").replace(
    "requests: {cpu: 250m, memory: 256Mi}",
    "requests: {cpu: 600m, memory: 256Mi}",
  );
  assert_eq!(
    errors_of(&over_default),
    [
      "spec.services[0].resources.requests.cpu: the cpu request `600m` is above the cpu limit `500m` (the default limit); Kubernetes refuses a request above its limit"
    ]
  );
  // A limit below the default request (100m, 128Mi) when no requests are given.
  let under_default = edit("        requests: {cpu: 250m, memory: 256Mi}\n", "").replace(
    "limits: {cpu: \"1\", memory: 1Gi}",
    "limits: {cpu: \"1\", memory: 64Mi}",
  );
  assert_eq!(
    errors_of(&under_default),
    [
      "spec.services[0].resources.limits.memory: the memory request `128Mi` (the default request) is above the memory limit `64Mi`; Kubernetes refuses a request above its limit"
    ]
  );
}

#[test]
fn control_characters_are_refused_wherever_they_are() {
  let bell = edit(
    "name: openinnovationaidb",
    "name: \"openinnovation\\x07db\"",
  );
  let found = errors_of(&bell);
  assert!(
    found.contains(&"spec.database.name: the value holds the control character U+0007; only printable text, tabs and newlines are allowed".to_string()),
    "{found:?}"
  );
  let nul = edit(
    "ANALYTICS_KEY: {secret: openinnovation-ai/analytics, property: apiKey}",
    "ANALYTICS_KEY: {secret: openinnovation-ai/analytics, property: \"api\\0Key\"}",
  );
  assert_eq!(
    errors_of(&nul),
    [
      "spec.services[1].secretEnv.ANALYTICS_KEY.property: the value holds the control character U+0000; only printable text, tabs and newlines are allowed"
    ]
  );
  let multiline = edit("LOG_LEVEL: info", "LOG_LEVEL: \"info\\n\\tdebug\"");
  assert_eq!(
    errors_of(&multiline),
    Vec::<String>::new(),
    "tabs and newlines are text"
  );
}

#[test]
fn the_migrations_name_is_reserved_only_for_the_owner() {
  // `frontend-migrations` is free: frontend runs no migrations.
  let text = edit(
    "    - name: frontend\n",
    "    - name: frontend-migrations\n",
  );
  assert_eq!(errors_of(&text), Vec::<String>::new());
}

#[test]
fn instance_types_newer_than_the_table_are_accepted_when_listed() {
  let text = edit("instanceTypes: [m6i.large]", "instanceTypes: [m9i.large]");
  assert_eq!(
    errors_of(&text),
    vec![
      "spec.cluster.nodeGroups[0].instanceTypes[0]: `m9i.large` is not an EC2 instance type: there is no `m9i` family"
    ]
  );
  let listed = text.replacen(
    "  aws:\n",
    "  aws:\n    newInstanceTypes: [m9i.large, db.m9g.large]\n",
    1,
  );
  let listed = listed.replacen(
    "instanceClass: db.t4g.medium",
    "instanceClass: db.m9g.large",
    1,
  );
  let loaded = blueprint::load(listed.as_bytes()).expect("listed types are accepted");
  assert!(loaded.warnings.is_empty());
}

#[test]
fn secrets_oi_gen_creates_itself_are_not_secret_references() {
  for (name, key) in [
    ("openinnovation-ai/grafana-admin", "grafana-admin"),
    ("grafana-admin", "grafana-admin"),
    ("openinnovation-ai/database", "database"),
    ("database/backend", "database/backend"),
  ] {
    let text = edit(
      "{secret: openinnovation-ai/analytics, property: apiKey}",
      &format!("{{secret: {name}, property: apiKey}}"),
    );
    assert_eq!(
      errors_of(&text),
      [format!(
        "spec.services[1].secretEnv.ANALYTICS_KEY.secret: `{name}` is a secret oi-gen creates itself (`<platform>/<environment>/{key}`)"
      )]
    );
  }
  // A name that only starts like one is the user's.
  let text = edit(
    "{secret: openinnovation-ai/analytics, property: apiKey}",
    "{secret: databases/analytics, property: apiKey}",
  );
  assert_eq!(errors_of(&text), Vec::<String>::new());
}

#[test]
fn database_references_need_a_service_that_runs_the_migrations() {
  let text = edit("      runsMigrations: true\n", "");
  assert_eq!(
    errors_of(&text),
    [
      "spec.services[0].secretEnv.DATABASE_URL.database: `database:` needs a service with `runsMigrations: true`: its migration Job creates each service's own database role",
      "spec.services[0].secretEnv.DATABASE_PASSWORD.database: `database:` needs a service with `runsMigrations: true`: its migration Job creates each service's own database role",
    ]
  );
}

#[test]
fn no_nat_gateway_warns_what_still_needs_the_internet() {
  let text = edit("natGateways: onePerAz", "natGateways: none");
  let loaded = blueprint::load(text.as_bytes()).expect("a warning is not an error");
  let warnings = warnings_of(&loaded);
  assert_eq!(
    warnings,
    [
      "spec.network.natGateways: with no NAT gateway the private subnets have no route to the internet: the VPC endpoints carry the AWS APIs that offer one, but not the cluster add-ons' images (quay.io, ghcr.io, registry.k8s.io, Docker Hub), Let's Encrypt or the Route 53 API"
    ]
  );
}

#[test]
fn only_karpenter_reserves_the_system_node_group() {
  let system = edit("      - name: general ", "      - name: system ");
  assert_eq!(
    errors_of(&system),
    vec![
      "spec.cluster.nodeGroups[0].name: with `autoscaler: karpenter` the node group `system` is the managed node group the Karpenter controller runs on"
    ]
  );
  let cluster_autoscaler = system.replacen("    autoscaler: karpenter\n", "", 1);
  assert_ne!(cluster_autoscaler, system);
  assert_eq!(errors_of(&cluster_autoscaler), Vec::<String>::new());
}

#[test]
fn an_eks_endpoint_open_to_every_address_warns_where_it_is_written() {
  let admins = "    # A role, not an assumed-role session; not the deploy role.\n";
  let open = edit(
    admins,
    &format!("{admins}    endpoint:\n      publicAccessCidrs: [203.0.113.0/24, 0.0.0.0/0]\n"),
  );
  let loaded = blueprint::load(open.as_bytes()).expect("a warning is not an error");
  let warnings = warnings_of(&loaded);
  assert_eq!(
    warnings,
    [
      "spec.cluster.endpoint.publicAccessCidrs[1]: the EKS API endpoint is open to every address on the internet (0.0.0.0/0); only IAM and the cluster's access entries guard it"
    ]
  );
  let narrow = edit(
    admins,
    &format!("{admins}    endpoint: {{public: true, publicAccessCidrs: [203.0.113.0/24]}}\n"),
  );
  assert!(
    blueprint::load(narrow.as_bytes())
      .expect("valid")
      .warnings
      .is_empty()
  );
  let private = edit(
    admins,
    &format!("{admins}    endpoint: {{public: false}}\n"),
  );
  let loaded = blueprint::load(private.as_bytes()).expect("valid");
  assert!(loaded.warnings.is_empty());
  assert!(
    oi_gen::blueprint::Resolved::new(&loaded.platform)
      .endpoint_public_cidrs
      .is_empty()
  );
}

const AUTO_MODE: &str = include_str!("../../blueprints/harbor.yaml");

/// The auto-mode blueprint with `from` replaced by `to` (which must occur once).
fn auto_mode_edit(from: &str, to: &str) -> String {
  assert_eq!(
    AUTO_MODE.matches(from).count(),
    1,
    "`{from}` must occur once"
  );
  AUTO_MODE.replacen(from, to, 1)
}

#[test]
fn auto_mode_refuses_an_autoscaler_calico_and_the_built_in_pool_names() {
  let compute = "    compute: auto-mode\n";
  let autoscaler = auto_mode_edit(compute, &format!("{compute}    autoscaler: karpenter\n"));
  assert_eq!(
    errors_of(&autoscaler),
    vec![
      "spec.cluster.autoscaler: with `compute: auto-mode` EKS Auto Mode launches and removes the nodes itself: no autoscaler runs"
    ]
  );
  let calico = auto_mode_edit(compute, &format!("{compute}    networkPolicy: calico\n"));
  assert_eq!(
    errors_of(&calico),
    vec![
      "spec.cluster.networkPolicy: with `compute: auto-mode` EKS Auto Mode enforces NetworkPolicy on its nodes; Calico cannot run on them"
    ]
  );
  let system = auto_mode_edit("      - name: burst\n", "      - name: system\n");
  assert_eq!(
    errors_of(&system),
    vec![
      "spec.cluster.nodeGroups[1].name: with `compute: auto-mode` the NodePool `system` is one of EKS Auto Mode's built-in node pools"
    ]
  );
  // Without auto-mode the same autoscaler is fine.
  let node_groups = autoscaler.replacen(compute, "", 1);
  assert_eq!(errors_of(&node_groups), Vec::<String>::new());
}

#[test]
fn auto_mode_warns_of_the_node_group_fields_it_ignores() {
  let group = "        instanceTypes: [c7i.xlarge]\n        minSize: 0\n";
  let sized = auto_mode_edit(
    group,
    "        instanceTypes: [c7i.xlarge]\n        minSize: 1\n        desiredSize: 2\n        diskSizeGb: 80\n",
  );
  let loaded = blueprint::load(sized.as_bytes()).expect("warnings are not errors");
  assert_eq!(
    warnings_of(&loaded),
    vec![
      "spec.cluster.nodeGroups[1].minSize: with `compute: auto-mode` a node group is a NodePool: Auto Mode launches nodes for pending pods and keeps none running ahead of them, so minSize is ignored",
      "spec.cluster.nodeGroups[1].desiredSize: with `compute: auto-mode` a NodePool has no desired node count: desiredSize is ignored",
      "spec.cluster.nodeGroups[1].diskSizeGb: with `compute: auto-mode` the nodes' disks come from Auto Mode's `default` NodeClass: diskSizeGb is ignored",
    ]
  );
  let clean = blueprint::load(AUTO_MODE.as_bytes()).expect("valid");
  assert_eq!(warnings_of(&clean), Vec::<String>::new());

  let staging = "      account: \"123456789012\"\n    - name: production\n";
  let overridden = auto_mode_edit(
    staging,
    "      account: \"123456789012\"\n      overrides:\n        nodeGroups:\n          minSize: 1\n          maxSize: 3\n          groups:\n            burst: {desiredSize: 1}\n    - name: production\n",
  );
  let loaded = blueprint::load(overridden.as_bytes()).expect("warnings are not errors");
  let ignored = "with `compute: auto-mode` only an environment's maxSize applies (the NodePool's CPU limit): minSize above 0 and desiredSize are ignored";
  assert_eq!(
    warnings_of(&loaded),
    vec![
      format!("spec.environments[0].overrides.nodeGroups.minSize: {ignored}"),
      format!("spec.environments[0].overrides.nodeGroups.groups.burst.desiredSize: {ignored}"),
    ]
  );
}

/// The size limit is sized for large platforms: 10,000 services of a few
/// lines each fit in a blueprint and validate, and the limit's message says
/// how many fit.
#[test]
fn ten_thousand_services_fit_the_limit() {
  let text = crate::support::synth::blueprint(10_000);
  assert!(
    text.len() < oi_gen::blueprint::MAX_BYTES * 3 / 4,
    "{} bytes leave too little room under the limit",
    text.len()
  );
  let temp = tempfile::tempdir().unwrap();
  std::fs::write(temp.path().join("platform.yaml"), &text).unwrap();
  Cli::new()
    .args(["validate", "-q"])
    .current_dir(temp.path())
    .run()
    .code(0);
  let per_service = text.len() / 10_000;
  let fit = oi_gen::blueprint::MAX_BYTES / per_service;
  assert!(
    (14_000..15_000).contains(&fit),
    "the limit's message says about 14,000 services; {fit} fit"
  );
}
