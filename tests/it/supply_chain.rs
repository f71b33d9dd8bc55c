//! The supply chain of every built-in blueprint: builds push an SBOM and the
//! provenance with the image, a vulnerability gate on ECR's scan decides
//! whether the image is signed, promotion carries the signature along, and
//! the clusters admit into the platform's namespace only images signed by
//! the Deploy workflow. The gate's, the signing's and the promotion's
//! scripts run here with stand-ins for `aws` and `cosign`.

use oi_gen::blueprint;
use yaml_serde::Value;

use crate::delivery::{names, run, step, steps, text, workflow};
use crate::support::output::{builtin_text, file, render_builtin, render_text};

const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const AMD64: &str = "sha256:aaaa111111111111111111111111111111111111111111111111111111111111";
const ARM64: &str = "sha256:bbbb111111111111111111111111111111111111111111111111111111111111";
const ATTESTATION: &str = "sha256:cccc111111111111111111111111111111111111111111111111111111111111";
const BUILTINS: [&str; 3] = ["openinnovation", "acme-shop", "ledger"];

/// An image index with two platform images and one attestation manifest.
fn index() -> String {
  format!(
    r#"{{"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"digest":"{AMD64}","platform":{{"architecture":"amd64","os":"linux"}}}},{{"digest":"{ARM64}","platform":{{"architecture":"arm64","os":"linux"}}}},{{"digest":"{ATTESTATION}","annotations":{{"vnd.docker.reference.digest":"{AMD64}","vnd.docker.reference.type":"attestation-manifest"}},"platform":{{"architecture":"unknown","os":"unknown"}}}}]}}"#
  )
}

/// A stand-in `aws` whose scans find `counts` (JSON) on every image.
fn aws(manifest: &str, counts: &str) -> String {
  format!(
    r#"case "$*" in
  *batch-get-image*) echo '{manifest}' ;;
  *findingSeverityCounts*) echo '{counts}' ;;
  *) exit 0 ;;
esac"#
  )
}

fn build_jobs(deploy: &Value) -> Vec<(&str, &Value)> {
  deploy["jobs"]
    .as_mapping()
    .unwrap()
    .iter()
    .map(|(id, job)| (id.as_str().unwrap(), job))
    .filter(|(id, _)| id.starts_with("build-"))
    .collect()
}

#[test]
fn every_image_is_built_with_its_sbom_and_provenance_then_gated_then_signed() {
  for name in BUILTINS {
    let (resolved, output) = render_builtin(name);
    let deploy = workflow(&output, "deploy");
    let jobs = build_jobs(&deploy);
    let images = resolved.services.len() + usize::from(resolved.migrations_owner().is_some());
    assert_eq!(jobs.len(), images, "{name}");
    for (id, job) in jobs {
      let image = id.strip_prefix("build-").unwrap();
      let image = if image.ends_with("-migrations") {
        "migrations"
      } else {
        image
      };
      let build = step(job, "Build and push");
      assert_eq!(build["with"]["sbom"], Value::Bool(true), "{name}: {id}");
      assert_eq!(build["with"]["provenance"].as_str(), Some("mode=max"));
      let all = names(job);
      let at = |n: &str| all.iter().position(|s| *s == n).unwrap_or(usize::MAX);
      let gate = format!("Vulnerability gate on the ECR scan of the {image} image");
      let sign = format!("Sign the {image} image (keyless, this workflow's identity)");
      assert!(
        at("Build and push") < at(&gate)
          && at(&gate) < at("Install cosign")
          && at("Install cosign") < at(&sign)
          && at(&sign) == all.len() - 1,
        "{name}: {id}: {all:?}"
      );
      // The gate and the signature run on a re-run too (no `if:`).
      assert!(step(job, &gate).get("if").is_none());
      assert!(step(job, &sign).get("if").is_none());
      let installer = step(job, "Install cosign");
      assert!(
        text(&installer["uses"], "uses").starts_with("sigstore/cosign-installer@"),
        "{name}"
      );
      assert_eq!(installer["with"]["cosign-release"].as_str(), Some("v3.1.3"));
      let sign = step(job, &sign);
      assert_eq!(
        sign["env"]["IDENTITY"].as_str(),
        Some(resolved.signer_identity.as_str())
      );
      assert_eq!(
        sign["env"]["ISSUER"].as_str(),
        Some("https://token.actions.githubusercontent.com")
      );
      assert_eq!(job["permissions"]["id-token"].as_str(), Some("write"));
      assert_eq!(
        step(job, &gate)["env"]["FAIL_ON"].as_str(),
        Some("CRITICAL"),
        "{name}: the default gate"
      );
    }
    // Only the build jobs sign; the deploy jobs only copy and verify.
    for (id, job) in deploy["jobs"].as_mapping().unwrap() {
      let id = id.as_str().unwrap();
      let signs = steps(job)
        .iter()
        .filter(|step| step["run"].as_str().unwrap_or("").contains("cosign sign "))
        .count();
      assert_eq!(signs, usize::from(id.starts_with("build-")), "{name}: {id}");
    }
  }
  assert_eq!(
    resolve_identity("openinnovation"),
    "https://github.com/openinnovation-ai/platform/.github/workflows/deploy.yml@refs/heads/main"
  );
}

fn resolve_identity(name: &str) -> String {
  render_builtin(name).0.signer_identity
}

#[test]
fn the_gate_fails_on_its_severity_and_above_and_skips_the_attestations() {
  let (resolved, output) = render_builtin("openinnovation");
  let deploy = workflow(&output, "deploy");
  let service = &resolved.services[0].name;
  let job = &deploy["jobs"][format!("build-{service}").as_str()];
  let gate = step(
    job,
    &format!("Vulnerability gate on the ECR scan of the {service} image"),
  );
  let digest = [("DIGEST", DIGEST)];

  // HIGH findings pass a critical gate; every platform image is waited for
  // and read, the attestation manifest never.
  let ran = run(gate, &digest, &[("aws", &aws(&index(), r#"{"HIGH": 2}"#))]);
  assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
  for image in [AMD64, ARM64] {
    assert!(
      ran.calls.contains(&format!(
        "ecr wait image-scan-complete --repository-name {} --image-id imageDigest={image}",
        resolved.services[0].environments[0].image_repository
      )),
      "{}",
      ran.calls
    );
  }
  assert!(!ran.calls.contains(ATTESTATION), "{}", ran.calls);

  // The same findings fail a high gate, naming the image and the count.
  let ran = run(
    gate,
    &[("DIGEST", DIGEST), ("FAIL_ON", "CRITICAL HIGH")],
    &[("aws", &aws(&index(), r#"{"HIGH": 2}"#))],
  );
  assert_eq!(ran.code, 1);
  assert!(
    ran.stdout.contains(&format!(
      "@{AMD64} has 2 HIGH vulnerabilities: not signed, no cluster admits it"
    )),
    "{}",
    ran.stdout
  );

  // A single-platform image is its own manifest; no findings at all pass.
  let ran = run(
    gate,
    &[("DIGEST", DIGEST), ("FAIL_ON", "CRITICAL HIGH MEDIUM LOW")],
    &[(
      "aws",
      &aws(
        r#"{"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#,
        "null",
      ),
    )],
  );
  assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
  assert!(ran.calls.contains(&format!("imageDigest={DIGEST}")));

  // A scan that never completes fails the gate.
  let failing = r#"case "$*" in
  *batch-get-image*) echo '{"mediaType":"application/vnd.oci.image.manifest.v1+json"}' ;;
  *wait*) exit 255 ;;
  *) exit 0 ;;
esac"#;
  let ran = run(gate, &digest, &[("aws", failing)]);
  assert_eq!(ran.code, 1);
  assert!(ran.stdout.contains("did not complete"), "{}", ran.stdout);
}

#[test]
fn the_severity_comes_from_the_blueprint_and_is_validated() {
  let base = builtin_text("openinnovation");
  assert_eq!(base.matches("      severity: critical\n").count(), 1);
  for (severity, fail_on) in [
    ("high", "CRITICAL HIGH"),
    ("medium", "CRITICAL HIGH MEDIUM"),
    ("low", "CRITICAL HIGH MEDIUM LOW"),
    ("none", ""),
  ] {
    let text = base.replace(
      "      severity: critical\n",
      &format!("      severity: {severity}\n"),
    );
    let (_, output) = render_text(&text);
    let deploy = workflow(&output, "deploy");
    for (id, job) in build_jobs(&deploy) {
      let gate = steps(job)
        .iter()
        .find(|s| {
          s["name"]
            .as_str()
            .unwrap()
            .starts_with("Vulnerability gate")
        })
        .unwrap();
      assert_eq!(gate["env"]["FAIL_ON"].as_str(), Some(fail_on), "{id}");
    }
    let readme = file(&output, "README.md");
    if severity == "none" {
      assert!(readme.contains("`vulnerabilityGate: none`: it only reports"));
    } else {
      assert!(readme.contains(&format!(
        "fails on\n   any {} finding",
        fail_on.replace(' ', ", ")
      )));
    }
  }
  let text = base.replace("      severity: critical\n", "      severity: severe\n");
  let errors = blueprint::load(text.as_bytes()).expect_err("an unknown severity");
  let line = text
    .lines()
    .position(|l| l == "      severity: severe")
    .unwrap()
    + 1;
  let error = errors.iter().find(|d| d.is_error()).expect("an error");
  assert_eq!(error.path, "spec.delivery.vulnerabilityGate.severity");
  assert!(error.message.contains("severe"), "{}", error.message);
  assert_eq!(error.pos.map(|p| p.line), Some(line));
}

#[test]
fn signing_is_skipped_when_the_signature_exists_and_promotion_copies_it() {
  for name in BUILTINS {
    let (resolved, output) = render_builtin(name);
    let deploy = workflow(&output, "deploy");
    let service = &resolved.services[0];
    let job = &deploy["jobs"][format!("build-{}", service.name).as_str()];
    let sign = step(
      job,
      &format!(
        "Sign the {} image (keyless, this workflow's identity)",
        service.name
      ),
    );
    let image = format!(
      "123456789012.dkr.ecr.{}.amazonaws.com/{}@{DIGEST}",
      resolved.region, service.environments[0].image_repository
    );
    let env = [("IMAGE", image.as_str())];
    let ran = run(sign, &env, &[("cosign", "exit 0")]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(
      ran.calls,
      format!(
        "cosign verify {image} --certificate-identity {} --certificate-oidc-issuer https://token.actions.githubusercontent.com\n",
        resolved.signer_identity
      )
    );
    let ran = run(sign, &env, &[("cosign", r#"[ "$1" = sign ] || exit 1"#)]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
      ran.calls.ends_with(&format!(
        "cosign sign --yes --new-bundle-format=false --use-signing-config=false {image}\n"
      )),
      "{}",
      ran.calls
    );

    for file in ["deploy", "release"] {
      let workflow = workflow(&output, file);
      for (i, environment) in resolved.environments.iter().enumerate().skip(1) {
        let prefix = if file == "deploy" {
          "deploy"
        } else {
          "release"
        };
        let job = &workflow["jobs"][format!("{prefix}-{}", environment.name).as_str()];
        let all = names(job);
        let promote = format!("Promote the {} image", service.name);
        let at = |n: &str| all.iter().position(|s| *s == n).unwrap();
        assert!(
          at("Install cosign") < at(&promote),
          "{name}: {file}: {all:?}"
        );
        let promote = step(job, &promote);
        let source = &service.environments[i - 1].image_repository;
        let target = &service.environments[i].image_repository;
        let ran = run(
          promote,
          &[
            ("DIGEST", DIGEST),
            ("IMAGE_TAG", "v1.2.3"),
            ("REGISTRY", "target.example"),
            ("SOURCE_REGISTRY", "source.example"),
          ],
          &[
            ("aws", &format!("echo {DIGEST}")),
            ("cosign", "exit 0"),
            ("docker", "exit 0"),
          ],
        );
        assert_eq!(ran.code, 0, "{}", ran.stderr);
        assert!(
          ran.calls.contains(&format!(
            "cosign copy --only=sig source.example/{source}@{DIGEST} target.example/{target}\n\
             cosign verify target.example/{target}@{DIGEST} --certificate-identity {} --certificate-oidc-issuer https://token.actions.githubusercontent.com\n",
            resolved.signer_identity
          )),
          "{name}: {file}: {}",
          ran.calls
        );
      }
    }
  }
}

#[test]
fn the_clusters_admit_only_signed_images_of_their_registry() {
  for name in BUILTINS {
    let (resolved, output) = render_builtin(name);
    let values: Value = yaml_serde::from_str(file(
      &output,
      "cluster/addons/policy-controller/values.yaml",
    ))
    .unwrap();
    assert_eq!(
      values["webhook"]["configData"]["no-match-policy"].as_str(),
      Some("deny")
    );
    assert_eq!(
      values["webhook"]["serviceAccount"]["name"].as_str(),
      Some("policy-controller-webhook")
    );
    for environment in &resolved.environments {
      let policy: Value = yaml_serde::from_str(file(
        &output,
        &format!("cluster/manifests/{}/image-policy.yaml", environment.name),
      ))
      .unwrap();
      assert_eq!(
        policy["apiVersion"].as_str(),
        Some("policy.sigstore.dev/v1beta1")
      );
      assert_eq!(policy["kind"].as_str(), Some("ClusterImagePolicy"));
      let registry = environment
        .registry
        .clone()
        .unwrap_or_else(|| format!("*.dkr.ecr.{}.amazonaws.com", resolved.region));
      let glob = format!("{registry}/{}/{}/**", resolved.name, environment.name);
      assert_eq!(
        policy["spec"]["images"][0]["glob"].as_str(),
        Some(glob.as_str())
      );
      // Every image the environment runs is under the glob, the migrations too.
      for service in &resolved.services {
        let env = service
          .environments
          .iter()
          .find(|e| {
            e.image_repository
              .starts_with(&format!("{}/{}/", resolved.name, environment.name))
          })
          .expect("the service's repository in the environment");
        for repository in std::iter::once(&env.image_repository).chain(&env.migrations_repository) {
          assert!(repository.starts_with(&format!("{}/{}/", resolved.name, environment.name)));
        }
      }
      let identity = &policy["spec"]["authorities"][0]["keyless"]["identities"][0];
      assert_eq!(
        identity["issuer"].as_str(),
        Some("https://token.actions.githubusercontent.com")
      );
      assert_eq!(
        identity["subject"].as_str(),
        Some(resolved.signer_identity.as_str())
      );
      assert_eq!(policy["spec"]["mode"].as_str(), Some("enforce"));
    }
    // install.sh: the controller, then the policy, then the namespace opts in.
    let install = file(&output, "cluster/install.sh");
    let at = |needle: &str| {
      install
        .find(needle)
        .unwrap_or_else(|| panic!("{name}: no {needle:?} in install.sh"))
    };
    let chart = at("chart policy-controller cosign-system policy-controller 0.10.6");
    let policy = at("apply \"$here/manifests/$env/image-policy.yaml\"");
    let label = at(&format!(
      "kubectl label namespace \"{}\" policy.sigstore.dev/include=true --overwrite",
      resolved.namespace
    ));
    assert!(chart < policy && policy < label, "{name}");
    // The webhook reads this environment's repositories through Pod Identity.
    let admission = file(&output, "infra/admission.tf");
    assert!(admission.contains("namespace       = \"cosign-system\""));
    assert!(admission.contains("service_account = \"policy-controller-webhook\""));
    assert!(
      admission
        .contains("resources = [for repository in aws_ecr_repository.service : repository.arn]")
    );
    assert!(!admission.contains("ecr:PutImage"));
  }
}
