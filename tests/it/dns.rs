//! Hosts that resolve and get certificates: the Route53 zone in Terraform,
//! external-dns, the DNS-01 ClusterIssuers and the Pod Identity roles of the
//! add-ons agree with each other in every built-in blueprint (and both zone
//! options).

use crate::support::output::*;
use std::collections::BTreeMap;

use hcl::{Body, Expression};
use oi_gen::blueprint::Resolved;
use oi_gen::render::Output;
use sha2::{Digest, Sha256};

/// Every built-in blueprint, and each with the other zone option.
fn renders() -> Vec<(String, Resolved, Output)> {
  let mut all = Vec::new();
  for builtin in oi_gen::builtin::all() {
    let text = builtin.text.to_string();
    let flipped = if text.contains("    zone: existing\n") {
      text.replace("    zone: existing\n", "    zone: create\n")
    } else if text.contains("    zone: create\n") {
      text.replace("    zone: create\n", "    zone: existing\n")
    } else {
      text.replacen("spec:\n", "spec:\n  dns:\n    zone: existing\n", 1)
    };
    for (label, text) in [
      (builtin.name.to_string(), text),
      (format!("{} (flipped zone)", builtin.name), flipped),
    ] {
      let (resolved, output) = render_text(&text);
      all.push((label, resolved, output));
    }
  }
  all
}

fn documents(text: &str) -> Vec<yaml_serde::Value> {
  use serde::Deserialize;
  yaml_serde::Deserializer::from_str(text)
    .map(|doc| yaml_serde::Value::deserialize(doc).unwrap())
    .collect()
}

fn str_of<'a>(value: &'a yaml_serde::Value, what: &str) -> &'a str {
  value
    .as_str()
    .unwrap_or_else(|| panic!("{what} is not a string: {value:?}"))
}

/// `name` is `domain` or a name under it.
fn within(name: &str, domain: &str) -> bool {
  name == domain || name.ends_with(&format!(".{domain}"))
}

/// Every block of every rendered `infra/*.tf` file (not `bootstrap/`).
fn infra_blocks(output: &Output) -> Vec<hcl::Block> {
  output
    .files
    .iter()
    .filter(|(path, _)| {
      path.starts_with("infra/") && path.ends_with(".tf") && !path.starts_with("infra/bootstrap/")
    })
    .flat_map(|(path, file)| {
      let body: Body =
        hcl::parse(&file.contents).unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
      body.into_blocks().collect::<Vec<_>>()
    })
    .collect()
}

fn labels(block: &hcl::Block) -> Vec<&str> {
  block.labels().iter().map(hcl::BlockLabel::as_str).collect()
}

fn string_attribute(block: &hcl::Block, key: &str) -> String {
  let attr = block
    .body()
    .attributes()
    .find(|a| a.key() == key)
    .unwrap_or_else(|| panic!("{:?} has no {key}", labels(block)));
  match attr.expr() {
    Expression::String(s) => s.clone(),
    other => panic!("{:?}.{key} is not a literal: {other}", labels(block)),
  }
}

/// The `namespace` of each release `install.sh` installs, from its
/// `chart RELEASE NAMESPACE …` lines.
fn release_namespaces(output: &Output) -> BTreeMap<String, String> {
  file(output, "cluster/install.sh")
    .lines()
    .filter_map(|line| line.strip_prefix("chart "))
    .map(|rest| {
      let mut words = rest.split_whitespace();
      let release = words.next().unwrap().to_string();
      let namespace = words.next().unwrap().to_string();
      (release, namespace)
    })
    .collect()
}

/// The service account an add-on's values name, at the path its chart reads.
fn service_account(output: &Output, release: &str) -> String {
  let values = yaml(file(
    output,
    &format!("cluster/addons/{release}/values.yaml"),
  ));
  let account = match release {
    "cluster-autoscaler" => &values["rbac"]["serviceAccount"],
    "policy-controller" => &values["webhook"]["serviceAccount"],
    _ => &values["serviceAccount"],
  };
  assert_eq!(account["create"], true, "{release}");
  str_of(&account["name"], release).to_string()
}

#[test]
fn every_host_is_inside_the_zone_external_dns_manages() {
  for (label, resolved, output) in renders() {
    let dns = yaml(file(&output, "cluster/addons/external-dns/values.yaml"));
    assert_eq!(dns["provider"]["name"], "aws", "{label}");
    assert_eq!(dns["extraArgs"]["aws-zone-type"], "public", "{label}");
    let source = match resolved.addons.nginx {
      oi_gen::blueprint::model::Nginx::Gateway => "gateway-httproute",
      oi_gen::blueprint::model::Nginx::Ingress => "ingress",
    };
    assert_eq!(dns["sources"], yaml(&format!("[{source}]")), "{label}");
    let mut owners = Vec::new();
    for environment in &resolved.environments {
      let env = &environment.name;
      let values = yaml(file(
        &output,
        &format!("cluster/addons/external-dns/values-{env}.yaml"),
      ));
      let filters = values["domainFilters"].as_sequence().unwrap();
      assert_eq!(filters.len(), 1, "{label} {env}");
      let filter = str_of(&filters[0], "domainFilters[0]");
      owners.push(str_of(&values["txtOwnerId"], "txtOwnerId").to_string());

      // The zone Terraform creates or looks up holds the filtered domain.
      let tfvars: Body =
        hcl::parse(file(&output, &format!("infra/environments/{env}.tfvars"))).unwrap();
      let zone = tfvars
        .attributes()
        .find(|a| a.key() == "dns_zone_name")
        .map(|a| match a.expr() {
          Expression::String(s) => s.clone(),
          other => panic!("{other}"),
        })
        .unwrap_or_else(|| panic!("{label} {env}: no dns_zone_name"));
      assert!(
        within(filter, &zone),
        "{label} {env}: {filter} not in {zone}"
      );
      // A filter below the zone's own name finds the zone only as a parent.
      assert_eq!(
        values["extraArgs"]["aws-zone-match-parent"].as_bool(),
        (filter != zone).then_some(true),
        "{label} {env}"
      );

      // Another environment's domain below this one is excluded, with
      // its zone (which this environment's role may not read).
      let excluded: Vec<&str> = values["excludeDomains"]
        .as_sequence()
        .map(|list| list.iter().map(|d| str_of(d, "excludeDomains")).collect())
        .unwrap_or_default();
      for other in resolved.environments.iter().filter(|o| o.name != *env) {
        let below = other.dns.domain.ends_with(&format!(".{filter}"));
        assert_eq!(
          excluded.contains(&other.dns.domain.as_str()),
          below,
          "{label} {env}: {}",
          other.dns.domain
        );
      }

      // Every host of every service, as its chart's values name it.
      let mut hosts = 0;
      for service in &resolved.services {
        let chart = yaml(file(
          &output,
          &format!("charts/{}/values-{env}.yaml", service.name),
        ));
        if let Some(host) = chart["expose"]["host"].as_str() {
          hosts += 1;
          assert!(
            within(host, filter),
            "{label} {env}: {host} outside {filter}"
          );
        }
      }
      assert_eq!(hosts, resolved.hosts(env).len(), "{label} {env}");
    }
    owners.sort();
    owners.dedup();
    assert_eq!(
      owners.len(),
      resolved.environments.len(),
      "{label}: one owner id per environment"
    );
  }
}

#[test]
fn the_dns01_solver_covers_the_external_dns_domain_of_each_environment() {
  for (label, resolved, output) in renders() {
    if resolved.addons.cert_manager.is_none() {
      continue;
    }
    assert!(!file(&output, "cluster/install.sh").contains("manifests/cluster-issuers.yaml"));
    for environment in &resolved.environments {
      let env = &environment.name;
      let filter = yaml(file(
        &output,
        &format!("cluster/addons/external-dns/values-{env}.yaml"),
      ))["domainFilters"][0]
        .clone();
      let issuers = documents(file(
        &output,
        &format!("cluster/manifests/{env}/cluster-issuers.yaml"),
      ));
      assert_eq!(issuers.len(), 2, "{label} {env}");
      for issuer in &issuers {
        let solvers = issuer["spec"]["acme"]["solvers"].as_sequence().unwrap();
        assert_eq!(solvers.len(), 1, "{label} {env}");
        let solver = &solvers[0];
        assert!(
          solver.get("http01").is_none(),
          "{label} {env}: HTTP-01 is gone"
        );
        assert_eq!(
          solver["dns01"]["route53"]["region"],
          yaml_serde::Value::from(resolved.region.clone()),
          "{label} {env}"
        );
        assert_eq!(solver["selector"]["dnsZones"][0], filter, "{label} {env}");
      }
    }
  }
}

#[test]
fn each_pod_identity_association_matches_its_addons_service_account() {
  for (label, resolved, output) in renders() {
    let namespaces = release_namespaces(&output);
    let associations: Vec<(String, String, String)> = infra_blocks(&output)
      .iter()
      .filter(|b| {
        b.identifier() == "resource" && labels(b)[0] == "aws_eks_pod_identity_association"
      })
      .map(|b| {
        (
          labels(b)[1].to_string(),
          string_attribute(b, "namespace"),
          string_attribute(b, "service_account"),
        )
      })
      .collect();
    // A service's own role (spec.services[].aws): its ServiceAccount, named
    // after it, in the platform's namespace.
    let (services, associations): (Vec<_>, Vec<_>) = associations
      .into_iter()
      .partition(|(name, _, _)| name.starts_with("service_"));
    let with_aws: Vec<(String, String, String)> = resolved
      .services
      .iter()
      .filter(|s| !s.aws.is_empty())
      .map(|s| {
        (
          format!("service_{}", s.name),
          resolved.namespace.clone(),
          s.name.clone(),
        )
      })
      .collect();
    assert_eq!(services, with_aws, "{label}");
    let mut expected = vec![
      ("external_dns", "external-dns"),
      ("policy_controller", "policy-controller"),
    ];
    // EKS Auto Mode runs the load balancer controller and scales the nodes
    // itself.
    if !resolved.auto_mode {
      expected.push(("load_balancer_controller", "aws-load-balancer-controller"));
      match resolved.autoscaler {
        oi_gen::blueprint::model::Autoscaler::Karpenter => {
          expected.push(("karpenter", "karpenter"));
        }
        oi_gen::blueprint::model::Autoscaler::ClusterAutoscaler => {
          expected.push(("cluster_autoscaler", "cluster-autoscaler"));
        }
      }
    }
    if resolved.addons.cert_manager.is_some() {
      expected.push(("cert_manager", "cert-manager"));
    }
    if resolved.addons.external_secrets {
      expected.push(("external_secrets", "external-secrets"));
    }
    assert_eq!(
      associations.len(),
      expected.len(),
      "{label}: {associations:?}"
    );
    for (resource, release) in expected {
      let (_, namespace, account) = associations
        .iter()
        .find(|(name, _, _)| name == resource)
        .unwrap_or_else(|| panic!("{label}: no association {resource}"));
      assert_eq!(
        namespace, &namespaces[release],
        "{label}: {resource} namespace"
      );
      assert_eq!(
        account,
        &service_account(&output, release),
        "{label}: {resource} service account"
      );
    }
  }
}

#[test]
fn the_zone_roles_change_records_of_the_zone_only() {
  for (label, resolved, output) in renders() {
    let dns = file(&output, "infra/dns.tf");
    let creates =
      resolved.environments[0].dns.source == oi_gen::blueprint::model::ZoneSource::Create;
    assert_eq!(
      dns.contains("resource \"aws_route53_zone\" \"main\""),
      creates,
      "{label}"
    );
    assert_eq!(
      dns.contains("data \"aws_route53_zone\" \"main\""),
      !creates,
      "{label}"
    );
    assert_eq!(
      file(&output, "infra/outputs.tf").contains("output \"dns_name_servers\""),
      creates,
      "{label}"
    );
    let body: Body = hcl::parse(dns).unwrap();
    for block in body
      .blocks()
      .filter(|b| b.identifier() == "data" && labels(b)[0] == "aws_iam_policy_document")
    {
      for statement in block
        .body()
        .blocks()
        .filter(|b| b.identifier() == "statement")
      {
        let text = hcl::to_string(statement.body()).unwrap();
        if text.contains("route53:ChangeResourceRecordSets") {
          let resources = statement
            .body()
            .attributes()
            .find(|a| a.key() == "resources")
            .unwrap()
            .expr()
            .to_string()
            .split_whitespace()
            .collect::<String>();
          assert_eq!(
            resources,
            "[local.dns_zone_arn]",
            "{label}: {:?}",
            labels(block)
          );
        }
      }
    }
  }
}

#[test]
fn the_load_balancer_controller_runs_nginx_behind_an_ip_target_nlb() {
  for (label, resolved, output) in renders() {
    if resolved.auto_mode {
      // EKS Auto Mode's own load balancing (tests/it/charts.rs).
      assert!(
        !output
          .files
          .contains_key("infra/policies/aws-load-balancer-controller.json")
      );
      continue;
    }
    let policy = file(&output, "infra/policies/aws-load-balancer-controller.json");
    // Upstream's docs/install/iam_policy.json at v3.5.0, byte for byte.
    assert_eq!(
      Sha256::digest(policy.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>(),
      "16f232c9d9f79366fe949c4550ad517a202380058a9e48d45a4e215044a20a6a",
      "{label}"
    );
    let install = file(&output, "cluster/install.sh");
    let at = |needle: &str| {
      install
        .find(needle)
        .unwrap_or_else(|| panic!("{label}: {needle}"))
    };
    let service = match resolved.addons.nginx {
      oi_gen::blueprint::model::Nginx::Gateway => {
        assert!(at("chart aws-load-balancer-controller") < at("chart nginx-gateway-fabric"));
        yaml(file(
          &output,
          "cluster/addons/nginx-gateway-fabric/values.yaml",
        ))["nginx"]["service"]
          .clone()
      }
      oi_gen::blueprint::model::Nginx::Ingress => {
        assert!(at("chart aws-load-balancer-controller") < at("chart ingress-nginx"));
        yaml(file(&output, "cluster/addons/ingress-nginx/values.yaml"))["controller"]["service"]
          .clone()
      }
    };
    assert_eq!(
      service["loadBalancerClass"], "service.k8s.aws/nlb",
      "{label}"
    );
    let annotations = match resolved.addons.nginx {
      oi_gen::blueprint::model::Nginx::Gateway => {
        service["patches"][0]["value"]["metadata"]["annotations"].clone()
      }
      oi_gen::blueprint::model::Nginx::Ingress => service["annotations"].clone(),
    };
    assert_eq!(
      annotations["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"], "ip",
      "{label}"
    );
    assert_eq!(
      annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"], "internet-facing",
      "{label}"
    );
    for environment in &resolved.environments {
      let values = yaml(file(
        &output,
        &format!(
          "cluster/addons/aws-load-balancer-controller/values-{}.yaml",
          environment.name
        ),
      ));
      assert_eq!(
        values["clusterName"],
        yaml_serde::Value::from(environment.names.cluster.clone()),
        "{label}"
      );
      // The VPC module names the VPC after the stack.
      assert_eq!(
        values["vpcTags"]["Name"],
        yaml_serde::Value::from(environment.names.stack.clone()),
        "{label}"
      );
    }
  }
}

#[test]
fn the_ingress_option_gets_records_from_ingresses() {
  let text = builtin_text("openinnovation").replace("nginx: gateway", "nginx: ingress");
  let (_, output) = render_text(&text);
  let dns = yaml(file(&output, "cluster/addons/external-dns/values.yaml"));
  assert_eq!(dns["sources"], yaml("[ingress]"));
}

#[test]
fn crds_are_applied_before_each_chart_that_does_not_upgrade_them() {
  for (label, _, output) in renders() {
    let install = file(&output, "cluster/install.sh");
    let lines: Vec<&str> = install.lines().collect();
    for chart in [
      "nginx-gateway-fabric",
      "kube-prometheus-stack",
      "calico",
      "aws-load-balancer-controller",
      "external-dns",
    ] {
      let Some(at) = lines
        .iter()
        .position(|l| l.starts_with(&format!("chart {chart} ")))
      else {
        continue;
      };
      let words: Vec<&str> = lines[at].split_whitespace().collect();
      let (source, version) = (words[3], words[4]);
      let crds = lines
        .iter()
        .position(|l| l.starts_with(&format!("chart_crds {source} {version}")))
        .unwrap_or_else(|| panic!("{label}: no CRDs of {chart} {version}"));
      assert!(crds < at, "{label}: {chart}'s CRDs come after it");
    }
    // Remote manifests are pinned by their sha256; none is applied by URL.
    for line in lines.iter().filter(|l| l.starts_with("crds ")) {
      let words: Vec<&str> = line.split_whitespace().collect();
      assert_eq!(words.len(), 3, "{line}");
      assert!(
        words[1].starts_with("\"https://raw.githubusercontent.com/"),
        "{line}"
      );
      assert!(
        words[2].len() == 64 && words[2].bytes().all(|b| b.is_ascii_hexdigit()),
        "{line}"
      );
    }
    assert!(
      !lines.iter().any(|l| l.starts_with("apply \"http")),
      "{label}"
    );
  }
}

#[test]
fn the_readme_delegates_each_created_zone_from_where_its_parent_is() {
  // The apex zone is the production environment's: staging's NS records go
  // into it, the apex is delegated at the registrar.
  let (_, output) = render_text(builtin_text("openinnovation"));
  let readme = file(&output, "README.md");
  let apex = readme
    .find("- `production`, zone `openinnovation.ai`: at the registrar")
    .expect("apex step");
  let staging = readme
    .find("- `staging`, zone `staging.openinnovation.ai`: add its NS records to the zone of `production`")
    .expect("staging step");
  assert!(apex < staging, "the apex zone is delegated first");
  assert!(readme.contains(
    "terraform -chdir=infra output -raw dns_delegation_change_batch > delegation-staging.json\n     \
     terraform -chdir=infra init -reconfigure -backend-config=environments/production.s3.tfbackend\n     \
     aws route53 change-resource-record-sets --hosted-zone-id \"$(terraform -chdir=infra output -raw dns_zone_id)\""
  ));
  assert!(file(&output, "infra/outputs.tf").contains("output \"dns_delegation_change_batch\""));

  // No environment owns the apex: the parent zone is looked up by name.
  let text = builtin_text("openinnovation").replacen(
    "      approval: true\n",
    "      approval: true\n      subdomain: prod\n",
    1,
  );
  let (_, output) = render_text(&text);
  let readme = file(&output, "README.md");
  assert_eq!(
    readme
      .matches("--query \"HostedZones[?Name=='openinnovation.ai.'].Id\"")
      .count(),
    2
  );
  assert!(!readme.contains("at the registrar of"));

  // An existing zone: nothing to delegate.
  let (_, output) = render_text(builtin_text("acme-shop"));
  let readme = file(&output, "README.md");
  assert!(
    readme.contains("The zone `shop.acme.example` already exists (`spec.dns.zone: existing`)")
  );
  assert!(!readme.contains("dns_delegation_change_batch"));
}
