//! Synthetic blueprints of any size, for scale tests and benchmarks.

/// A valid blueprint with `services` services: every third one is public,
/// every fourth reads a secret, every fifth autoscales, and the first owns
/// the database migrations.
pub(crate) fn blueprint(services: usize) -> String {
  let mut out = String::from(
    "# A synthetic platform for scale tests.
apiVersion: oi-gen.dev/v1alpha1
kind: Platform
metadata:
  name: synthetic
spec:
  domain: synthetic.example
  aws:
    region: eu-central-1
  network:
    cidr: 10.64.0.0/16
  cluster:
    kubernetesVersion: \"1.35\"
    nodeGroups:
      - name: general
        instanceTypes: [m7i.large]
        minSize: 3
        maxSize: 30
    addons:
      nginx: gateway
      certManager:
        acmeEmail: ops@synthetic.example
      externalSecrets: true
      monitoring: true
  database:
    engine: postgres
    version: \"16\"
    instanceClass: db.r6g.large
    storageGb: 100
    multiAz: true
    backupRetentionDays: 14
    name: synthetic
  services:
",
  );
  for i in 0..services {
    let name = format!("svc-{i:04}");
    out.push_str(&format!(
      "    - name: {name}\n      port: 8080\n      replicas: 2\n"
    ));
    if i % 3 == 0 {
      out.push_str(&format!("      ingress:\n        host: {name}\n"));
    }
    if i % 5 == 0 {
      out.push_str("      autoscaling:\n        maxReplicas: 6\n        targetCpuPercent: 70\n");
    }
    out.push_str(&format!("      env:\n        SERVICE_INDEX: \"{i}\"\n"));
    if i == 0 {
      out.push_str(
        "      secretEnv:\n        DATABASE_URL: {database: url}\n      runsMigrations: true\n",
      );
    } else if i % 4 == 0 {
      out.push_str(&format!(
        "      secretEnv:\n        API_TOKEN: {{secret: synthetic/{name}, property: token}}\n"
      ));
    }
  }
  out.push_str(
    "  environments:
    - name: staging
      subdomain: staging
      overrides:
        replicas: 1
    - name: production
      approval: true
  delivery:
    github:
      repository: synthetic/platform
",
  );
  out
}
