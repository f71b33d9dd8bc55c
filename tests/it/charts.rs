//! The charts and cluster add-ons of every built-in blueprint, and one
//! environment's view of them, pinned in `snapshots/`.

use oi_gen::blueprint;
use oi_gen::render::{self, Engine};

/// Every rendered file whose path passes `keep`, one after the other.
fn rendered(text: &str, keep: impl Fn(&str) -> bool) -> String {
  let loaded = blueprint::load(text.as_bytes()).expect("built-in blueprints are valid");
  let output = render::render(&loaded.resolved, &Engine::new().unwrap()).expect("renders");
  let mut doc = String::new();
  for (path, file) in &output.files {
    if keep(path) {
      doc.push_str(&format!("==> {path}\n{}\n", file.contents));
    }
  }
  doc
}

#[test]
fn charts_and_addons_of_every_builtin_blueprint() {
  for builtin in oi_gen::builtin::all() {
    // The chart templates are the same for every service: pin them once,
    // from the first chart, and every chart's own files.
    let first = format!(
      "charts/{}/",
      blueprint::load(builtin.text.as_bytes())
        .unwrap()
        .platform
        .spec
        .services[0]
        .name
    );
    // The migration hook templates are only in the owner's chart: pin them
    // from there.
    let doc = rendered(builtin.text, |path| {
      let migrations =
        path.contains("/templates/migrations-") || path.ends_with("/_migrations.tpl");
      (path.starts_with("charts/")
        && (!path.contains("/templates/") || path.starts_with(&first) || migrations))
        || path.starts_with("cluster/")
    });
    insta::with_settings!({snapshot_path => "../../snapshots", prepend_module_to_snapshot => false}, {
      insta::assert_snapshot!(format!("charts-{}", builtin.name), doc);
    });
  }
}

#[test]
fn one_environment_of_openinnovation() {
  let builtin = oi_gen::builtin::all()
    .into_iter()
    .find(|b| b.name == "openinnovation")
    .unwrap();
  let doc = rendered(builtin.text, |path| {
    path.ends_with("/values-staging.yaml")
      || path.starts_with("cluster/manifests/staging/")
      || path == "cluster/install.sh"
      || (path.starts_with("cluster/") && path.ends_with("/values.yaml"))
      || path == "cluster/manifests/cluster-secret-store.yaml"
      || path == "cluster/manifests/cluster-issuers.yaml"
  });
  insta::with_settings!({snapshot_path => "../../snapshots", prepend_module_to_snapshot => false}, {
    insta::assert_snapshot!("charts-openinnovation-staging", doc);
  });
}
