//! The full render of every built-in blueprint, pinned in `snapshots/`.

use oi_gen::blueprint;
use oi_gen::render::{self, Engine, Ownership};

fn render_text(text: &str) -> String {
  let loaded = blueprint::load(text.as_bytes()).expect("built-in blueprints are valid");
  let engine = Engine::new().expect("templates parse");
  let output = render::render(&loaded.resolved, &engine).expect("renders");
  let mut doc = String::new();
  for (path, file) in &output.files {
    let owner = match file.ownership {
      Ownership::Managed => "managed",
      Ownership::Seeded => "seeded",
    };
    doc.push_str(&format!("==> {path} ({owner})\n{}\n", file.contents));
  }
  doc
}

#[test]
fn full_render_of_every_builtin_blueprint() {
  for builtin in oi_gen::builtin::all() {
    let doc = render_text(builtin.text);
    insta::with_settings!({snapshot_path => "../../snapshots", prepend_module_to_snapshot => false}, {
      insta::assert_snapshot!(format!("render-{}", builtin.name), doc);
    });
  }
}

#[test]
fn every_generated_path_is_safe_and_headed() {
  for builtin in oi_gen::builtin::all() {
    let loaded = blueprint::load(builtin.text.as_bytes()).unwrap();
    let output = render::render(&loaded.resolved, &Engine::new().unwrap()).unwrap();
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
    assert_eq!(render_text(builtin.text), render_text(builtin.text));
  }
}
