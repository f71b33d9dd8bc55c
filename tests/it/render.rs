//! The full render of every built-in blueprint, pinned in
//! `snapshots/render/<blueprint>/`: one snapshot per generated file, at the
//! file's own path, and `files.snap` listing every path with its ownership.

use std::collections::BTreeSet;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use oi_gen::blueprint;
use oi_gen::render::{self, Engine, Ownership};

/// Where the render snapshots live, relative to this file.
const SNAPSHOTS: &str = "../../snapshots/render";

/// The render of a blueprint's text.
fn render_text(text: &str) -> render::Output {
  let loaded = blueprint::load(text.as_bytes()).expect("built-in blueprints are valid");
  let engine = Engine::new().expect("templates parse");
  render::render(&loaded.resolved, &engine).expect("renders")
}

/// What a snapshot does not show of `contents`: insta ignores leading blank
/// lines, trailing whitespace and carriage returns, so the listing notes them.
fn exact_bytes_note(contents: &str) -> String {
  let mut notes = Vec::new();
  let body = contents.trim_start_matches(['\n', '\r']);
  if body.len() != contents.len() {
    notes.push(format!(
      "starts with {:?}",
      &contents[..contents.len() - body.len()]
    ));
  }
  let end = &contents[contents.trim_end().len()..];
  if end != "\n" {
    notes.push(format!("ends with {end:?}"));
  }
  if contents.contains('\r') {
    notes.push("has carriage returns".to_string());
  }
  if notes.is_empty() {
    String::new()
  } else {
    format!(" ({})", notes.join(", "))
  }
}

/// Every path of the render with its ownership, one a line.
fn listing(output: &render::Output) -> String {
  let mut doc = String::new();
  for (path, file) in &output.files {
    let owner = match file.ownership {
      Ownership::Managed => "managed",
      Ownership::Seeded => "seeded ",
    };
    doc.push_str(&format!(
      "{owner} {path}{}\n",
      exact_bytes_note(&file.contents)
    ));
  }
  doc
}

/// The snapshot folder and name of a generated file: its folder below the
/// blueprint's, and its file name.
fn snapshot_of(blueprint: &str, path: &str) -> (String, String) {
  let (folder, name) = match path.rsplit_once('/') {
    Some((folder, name)) => (format!("{SNAPSHOTS}/{blueprint}/{folder}"), name),
    None => (format!("{SNAPSHOTS}/{blueprint}"), path),
  };
  (folder, name.to_string())
}

/// Every file below `root`, relative.
fn files_below(root: &Path) -> BTreeSet<PathBuf> {
  walkdir::WalkDir::new(root)
    .into_iter()
    .filter_map(Result::ok)
    .filter(|e| e.file_type().is_file())
    .map(|e| e.path().strip_prefix(root).unwrap().to_path_buf())
    .collect()
}

#[test]
fn full_render_of_every_builtin_blueprint() {
  let mut failed = Vec::new();
  for builtin in oi_gen::builtin::all() {
    let output = render_text(builtin.text);
    insta::with_settings!({
      snapshot_path => format!("{SNAPSHOTS}/{}", builtin.name),
      prepend_module_to_snapshot => false,
      omit_expression => true,
    }, {
      insta::assert_snapshot!("files", listing(&output));
    });
    // Every file is compared, so that one run reports every changed file.
    for (path, file) in &output.files {
      let (folder, name) = snapshot_of(builtin.name, path);
      let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        insta::with_settings!({
          snapshot_path => folder,
          prepend_module_to_snapshot => false,
          omit_expression => true,
          description => format!("{path} of the {} blueprint", builtin.name),
        }, {
          insta::assert_snapshot!(name, &file.contents);
        });
      }));
      if outcome.is_err() {
        failed.push(format!("{}: {path}", builtin.name));
      }
    }
  }
  assert!(
    failed.is_empty(),
    "snapshots differ:\n{}",
    failed.join("\n")
  );
}

/// A snapshot of a file no blueprint generates any more is stale: it fails
/// here instead of lingering.
#[test]
fn every_render_snapshot_belongs_to_a_generated_file() {
  let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/render");
  let mut expected = BTreeSet::new();
  for builtin in oi_gen::builtin::all() {
    expected.insert(PathBuf::from(format!("{}/files.snap", builtin.name)));
    for path in render_text(builtin.text).files.keys() {
      assert_ne!(path, "files", "the listing's snapshot name is taken");
      expected.insert(PathBuf::from(format!("{}/{path}.snap", builtin.name)));
    }
  }
  let found = files_below(&root);
  let stale: Vec<_> = found.difference(&expected).collect();
  assert!(
    stale.is_empty(),
    "files in snapshots/render/ that no test writes (delete them, or review the pending `.snap.new` ones): {stale:#?}"
  );
}

#[test]
fn every_generated_path_is_safe_and_headed() {
  for builtin in oi_gen::builtin::all() {
    let output = render_text(builtin.text);
    for (path, file) in &output.files {
      assert!(render::is_safe_relative(path), "{path}");
      let commentable = [
        ".tf", ".tfvars", ".hcl", ".yaml", ".yml", ".toml", ".sql", ".sh", ".md", ".tpl", ".go",
      ]
      .iter()
      .any(|ext| path.ends_with(ext));
      if commentable {
        let headed = file
          .contents
          .lines()
          .take(2)
          .any(|line| line.contains("by oi-gen"));
        assert!(headed, "{path} lacks the generated-file header");
      }
    }
  }
}

#[test]
fn rendering_twice_gives_identical_bytes() {
  for builtin in oi_gen::builtin::all() {
    let (first, second) = (render_text(builtin.text), render_text(builtin.text));
    assert!(first.files == second.files, "{}", builtin.name);
  }
}

/// Runs `oi-gen ARGS` in this process (so that its template parsing is
/// counted on this thread); returns the exit code and the templates parsed.
fn in_process(args: &[&str]) -> (i32, usize) {
  use clap::Parser as _;
  let before = render::templates_parsed();
  let cli = oi_gen::cli::Cli::parse_from(std::iter::once("oi-gen").chain(args.iter().copied()));
  let code = oi_gen::run::run(cli);
  (code, render::templates_parsed() - before)
}

#[test]
fn commands_that_render_nothing_parse_no_template() {
  let (_temp, repo) = crate::support::init("openinnovation");
  let blueprint = repo.join("platform.yaml");
  let blueprint = blueprint.to_str().unwrap();
  let vpc = repo.join("infra/vpc.tf");
  let dir = repo.to_str().unwrap();
  for args in [
    vec!["-q", "validate", "-f", blueprint],
    vec!["-q", "schema"],
    vec!["-q", "explain", vpc.to_str().unwrap()],
    vec!["-q", "verify", dir],
  ] {
    assert_eq!(in_process(&args), (0, 0), "oi-gen {}", args.join(" "));
  }
  // The counter counts: a check parses the templates of the files it
  // compares, and not all of them.
  let (code, parsed) = in_process(&["-q", "render", "--check", "-f", blueprint]);
  assert_eq!(code, 0);
  let all = {
    let before = render::templates_parsed();
    Engine::new().unwrap();
    render::templates_parsed() - before
  };
  assert!(
    parsed > 0 && parsed < all,
    "{parsed} of {all} templates parsed"
  );
}
