//! Compiles the embedded templates: every `.tera` file under `templates/` is
//! prepared and parsed exactly as the binary did at every run
//! (`src/render/parse.rs`), and the parsed templates are encoded
//! (`src/render/engine/codec.rs`) into `$OUT_DIR/templates.bin`, which the
//! binary decodes instead of parsing. Both files are shared with the crate,
//! so the build and the binary run the same code. A template Tera rejects,
//! or one that does not decode to what was parsed, fails the build.

use std::path::Path;

#[path = "src/render/workflows/expressions.rs"]
mod expressions;

/// What `src/render/parse.rs` calls as `super::workflows`.
mod workflows {
  pub(crate) use super::expressions::protect as protect_expressions;
}

#[path = "src/render/parse.rs"]
mod parse;

#[path = "src/render/engine/codec.rs"]
mod codec;

fn main() {
  for shared in [
    "templates",
    "src/render/parse.rs",
    "src/render/engine/codec.rs",
    "src/render/workflows/expressions.rs",
  ] {
    println!("cargo:rerun-if-changed={shared}");
  }
  let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
  let mut files = Vec::new();
  walk(&root, &root, &mut files);
  files.sort();
  let templates: Vec<(String, tera::Template)> = files
    .into_iter()
    .map(|(name, text)| {
      let prepared = parse::prepare(&name, &text);
      match parse::template(&name, &prepared) {
        Ok(template) => (name, template),
        Err(error) => panic!(
          "templates/{name} does not parse: {}",
          parse::error_chain(&error)
        ),
      }
    })
    .collect();
  let out =
    Path::new(&std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("templates.bin");
  let encoded = codec::encode_all(&templates);
  // The encoding is checked where it is made: every template must decode
  // to what was parsed, on every field.
  let decoded = codec::index(&encoded).unwrap_or_else(|damaged| panic!("{damaged}"));
  assert_eq!(decoded.len(), templates.len());
  for ((name, bytes), (parsed_name, parsed)) in decoded.into_iter().zip(&templates) {
    assert_eq!(name, parsed_name);
    let template = codec::decode(bytes).unwrap_or_else(|damaged| panic!("{name}: {damaged}"));
    assert!(
      same(&template, parsed),
      "templates/{name} does not decode to its parse"
    );
  }
  std::fs::write(&out, encoded)
    .unwrap_or_else(|error| panic!("cannot write {}: {error}", out.display()));
}

/// Whether two templates are equal on every field (`Template` has no
/// `PartialEq`).
fn same(a: &tera::Template, b: &tera::Template) -> bool {
  let tera::Template {
    name,
    path,
    ast,
    from_extend,
    macros,
    imported_macro_files,
    parent,
    blocks,
    parents,
    blocks_definitions,
  } = b;
  a.name == *name
    && a.path == *path
    && a.ast == *ast
    && a.from_extend == *from_extend
    && a.macros == *macros
    && a.imported_macro_files == *imported_macro_files
    && a.parent == *parent
    && a.blocks == *blocks
    && a.parents == *parents
    && a.blocks_definitions == *blocks_definitions
}

/// Every `.tera` file under `dir` that is UTF-8 (the binary embeds only
/// those as text), as (path relative to `root` with `/`, text).
fn walk(root: &Path, dir: &Path, found: &mut Vec<(String, String)>) {
  let entries =
    std::fs::read_dir(dir).unwrap_or_else(|error| panic!("cannot read {}: {error}", dir.display()));
  for entry in entries {
    let path = entry.expect("a readable folder entry").path();
    if path.is_dir() {
      walk(root, &path, found);
      continue;
    }
    let name = path
      .strip_prefix(root)
      .expect("under templates/")
      .components()
      .map(|c| c.as_os_str().to_string_lossy())
      .collect::<Vec<_>>()
      .join("/");
    if !name.ends_with(".tera") {
      continue;
    }
    let bytes = std::fs::read(&path)
      .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    if let Ok(text) = String::from_utf8(bytes) {
      found.push((name, text));
    }
  }
}
