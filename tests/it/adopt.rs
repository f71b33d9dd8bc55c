//! `render --adopt`: taking over files oi-gen never wrote that stand at
//! generated paths. Each is saved as `<file>.orig`, then rendered over and
//! recorded in the lock; nothing else is touched.

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::*;

/// A folder with the openinnovation blueprint, and files of the user's at
/// generated paths in `out/` (and one at a path oi-gen does not render).
fn collisions() -> (Temps, PathBuf, PathBuf) {
  let (reference_dir, reference) = init("openinnovation");
  let temp = tempfile::tempdir().unwrap();
  fs::copy(
    reference.join("platform.yaml"),
    temp.path().join("platform.yaml"),
  )
  .unwrap();
  let out = temp.path().join("out");
  for (path, text) in MINE {
    fs::create_dir_all(out.join(path).parent().unwrap()).unwrap();
    fs::write(out.join(path), text).unwrap();
  }
  (
    Temps {
      temp,
      _reference: reference_dir,
    },
    out,
    reference,
  )
}

/// The temporary folders of a test, kept alive while it runs.
struct Temps {
  temp: tempfile::TempDir,
  _reference: tempfile::TempDir,
}

impl Temps {
  fn path(&self) -> &Path {
    self.temp.path()
  }
}

const MINE: [(&str, &str); 4] = [
  ("README.md", "# My project\r\n"),
  ("infra/vpc.tf", "# my own network\n"),
  (".gitignore", "secrets/\n"),
  // Not a generated path: never touched.
  ("infra/notes.tf", "# my notes\n"),
];

fn lock_entry(out: &Path, path: &str) -> Option<toml::Value> {
  let lock: toml::Table = toml::from_str(&read(out, ".oi-gen/lock.toml")).unwrap();
  lock["files"].as_table().unwrap().get(path).cloned()
}

fn without_run_lock(tree: Vec<(PathBuf, Vec<u8>)>) -> Vec<(PathBuf, Vec<u8>)> {
  tree
    .into_iter()
    .filter(|(path, _)| path != Path::new(".oi-gen/run.lock"))
    .collect()
}

/// A plain render refuses and names the flag; `--adopt` takes over exactly
/// the colliding files, saving each first, records them, and the check is
/// clean; the next render writes nothing.
#[test]
fn adopt_takes_over_exactly_the_colliding_files() {
  let (temp, out, reference) = collisions();
  let before = tree(&out);
  let refused = cli(temp.path(), &["render", "--out", "out", "--force"]).run();
  refused.code(1).stdout("");
  assert!(
    refused.stderr.ends_with(
      "error: 3 files would lose changes; nothing was written\n  \
       = help: oi-gen never overwrites a file it did not write, even with `--force`: move them aside, then run `oi-gen render` again, or run `oi-gen render --adopt` to take them over (each is saved as FILE.orig first)\n"
    ),
    "{}",
    refused.stderr
  );
  assert_eq!(without_run_lock(tree(&out)), before, "nothing was written");

  let files = generated_files(&reference);
  cli(temp.path(), &["render", "--out", "out", "--adopt"])
    .run()
    .code(0)
    .stderr("")
    .stdout(format!(
      "adopted .gitignore: your file is saved as .gitignore.orig; what oi-gen renders is there now\n\
       adopted README.md: your file is saved as README.md.orig; what oi-gen renders is there now\n\
       adopted infra/vpc.tf: your file is saved as infra/vpc.tf.orig; what oi-gen renders is there now\n\
       rendered out: {} created, 0 updated, 0 deleted, 0 unchanged, 3 adopted\n",
      files - 3
    ));
  for (path, text) in &MINE[..3] {
    // The user's bytes, exactly (CRLF included), beside the render.
    assert_eq!(
      fs::read(out.join(format!("{path}.orig"))).unwrap(),
      text.as_bytes(),
      "{path}.orig"
    );
    assert_eq!(read(&out, path), read(&reference, path), "{path}");
    let entry = lock_entry(&out, path).expect("recorded in the lock");
    assert_eq!(entry["ownership"].as_str(), Some("managed"));
    assert_eq!(
      lock_entry(&out, path),
      lock_entry(&reference, path),
      "{path} is recorded as a render records it"
    );
  }
  assert_eq!(read(&out, "infra/notes.tf"), "# my notes\n");
  assert!(lock_entry(&out, "infra/notes.tf").is_none());
  assert!(!out.join("infra/notes.tf.orig").exists());
  // The render's files, the three saved ones and the user's own file.
  let written: Vec<PathBuf> = tree(&out)
    .into_iter()
    .map(|(path, _)| path)
    .filter(|path| !path.starts_with(".oi-gen"))
    .collect();
  let mut expected: Vec<PathBuf> = tree(&reference)
    .into_iter()
    .map(|(path, _)| path)
    .filter(|path| !path.starts_with(".oi-gen") && path != Path::new("platform.yaml"))
    .chain(
      [
        ".gitignore.orig",
        "README.md.orig",
        "infra/vpc.tf.orig",
        "infra/notes.tf",
      ]
      .map(PathBuf::from),
    )
    .collect();
  expected.sort();
  assert_eq!(written, expected);

  cli(temp.path(), &["render", "--out", "out", "--check"])
    .run()
    .code(0)
    .stderr("")
    .stdout("out is up to date with the blueprint\n");
  let settled = tree(&out);
  cli(temp.path(), &["render", "--out", "out"])
    .run()
    .code(0)
    .stderr("")
    .stdout(format!(
      "rendered out: 0 created, 0 updated, 0 deleted, {files} unchanged\n"
    ));
  assert_eq!(without_run_lock(tree(&out)), without_run_lock(settled));

  // An edit of an adopted file is an edit of oi-gen's file from now on.
  edit(
    &out,
    "infra/vpc.tf",
    "enable_flow_log ",
    "enable_flow_log  ",
  );
  cli(temp.path(), &["render", "--out", "out"]).run().code(1);
}

/// `--adopt FILE…` takes over only the files named; the others still
/// refuse the render, and then nothing at all is written.
#[test]
fn adopt_of_some_files_still_refuses_the_others() {
  let (temp, out, reference) = collisions();
  let before = tree(&out);
  let refused = cli(
    temp.path(),
    &["render", "--out", "out", "--adopt", "out/infra/vpc.tf"],
  )
  .run();
  refused.code(1).stdout("");
  assert!(
    refused
      .stderr
      .starts_with("error: `.gitignore` exists and was not written by oi-gen\n"),
    "{}",
    refused.stderr
  );
  assert!(
    refused
      .stderr
      .contains("error: 2 files would lose changes; nothing was written\n")
  );
  assert_eq!(without_run_lock(tree(&out)), before, "nothing was written");

  cli(
    temp.path(),
    &[
      "render",
      "--out",
      "out",
      "--adopt",
      "out/infra/vpc.tf",
      "out/README.md",
      "out/.gitignore",
    ],
  )
  .run()
  .code(0);
  assert_eq!(read(&out, "infra/vpc.tf"), read(&reference, "infra/vpc.tf"));
  assert_eq!(read(&out, "infra/vpc.tf.orig"), "# my own network\n");
}

/// `--adopt` naming a file that does not collide refuses, naming why, and
/// writes nothing: a file of the render not on disk, a path oi-gen does not
/// render, a file oi-gen wrote and the user edited, one that matches.
#[test]
fn adopt_never_touches_a_file_that_does_not_collide() {
  let (temp, out, _reference) = collisions();
  let before = tree(&out);
  cli(
    temp.path(),
    &[
      "render",
      "--out",
      "out",
      "--adopt",
      "out/infra/vpc.tf",
      "out/infra/notes.tf",
      "out/infra/eks.tf",
    ],
  )
  .run()
  .code(1)
  .stdout("")
  .stderr(
    "error: `infra/notes.tf` is not a file this render produces\n\
     error: `infra/eks.tf` is not on disk: the render creates it\n\
     error: 2 files cannot be adopted; nothing was written\n  \
     = help: `--adopt` takes over only the files a plain `oi-gen render` lists as not written by oi-gen\n",
  );
  assert_eq!(without_run_lock(tree(&out)), before, "nothing was written");

  // A repository oi-gen rendered: its files are oi-gen's, an edited one
  // needs `--force` or `keep`, an unchanged one does not collide.
  let (_t, repo) = init("openinnovation");
  edit(
    &repo,
    "infra/vpc.tf",
    "enable_flow_log ",
    "enable_flow_log  ",
  );
  let before = tree(&repo);
  cli(&repo, &["render", "--adopt", "infra/vpc.tf", "infra/eks.tf"])
    .run()
    .code(1)
    .stdout("")
    .stderr(
      "error: `infra/vpc.tf` was written by oi-gen: an edit of it needs `--force`, or `oi-gen keep` to record it\n\
       error: `infra/eks.tf` does not collide with the render: it matches it, or is a seeded file that stays yours\n\
       error: 2 files cannot be adopted; nothing was written\n  \
       = help: `--adopt` takes over only the files a plain `oi-gen render` lists as not written by oi-gen\n",
    );
  assert_eq!(without_run_lock(tree(&repo)), without_run_lock(before));
}

/// A `.orig` that holds something else is the user's too: the adoption is
/// refused and nothing is written. One that holds the file's bytes (a run
/// stopped after saving it) is used as it is.
#[test]
fn adopt_never_overwrites_another_orig() {
  let (temp, out, reference) = collisions();
  fs::write(out.join("infra/vpc.tf.orig"), "# older notes\n").unwrap();
  let before = tree(&out);
  cli(temp.path(), &["render", "--out", "out", "--adopt"])
    .run()
    .code(1)
    .stdout("")
    .stderr(
      "error: `infra/vpc.tf` cannot be saved aside: `infra/vpc.tf.orig` is taken (another file, a link, or a path oi-gen writes); move it away\n\
       error: 1 file cannot be adopted; nothing was written\n  \
       = help: `--adopt` takes over only the files a plain `oi-gen render` lists as not written by oi-gen\n",
    );
  assert_eq!(without_run_lock(tree(&out)), before, "nothing was written");

  fs::write(out.join("infra/vpc.tf.orig"), "# my own network\n").unwrap();
  cli(temp.path(), &["render", "--out", "out", "--adopt"])
    .run()
    .code(0);
  assert_eq!(read(&out, "infra/vpc.tf.orig"), "# my own network\n");
  assert_eq!(read(&out, "infra/vpc.tf"), read(&reference, "infra/vpc.tf"));
}

/// `upgrade` after an adoption merges a later hand edit against the
/// adopted render, which the base holds: the edit and the blueprint's change
/// both land, with no whole-file conflict.
#[test]
fn an_adopted_file_merges_on_upgrade() {
  let (_r, reference) = init("openinnovation");
  let temp = tempfile::tempdir().unwrap();
  let repo = temp.path();
  fs::copy(reference.join("platform.yaml"), repo.join("platform.yaml")).unwrap();
  fs::create_dir_all(repo.join("infra")).unwrap();
  fs::write(repo.join("infra/vpc.tf"), "# my own network\n").unwrap();
  cli(repo, &["render", "--adopt", "infra/vpc.tf"])
    .run()
    .code(0);
  let base = base_texts(repo);
  assert!(
    base
      .iter()
      .any(|(path, text)| path == "infra/vpc.tf" && text == &read(repo, "infra/vpc.tf")),
    "the base holds the render"
  );
  assert!(
    !base
      .iter()
      .any(|(_, text)| text.contains("# my own network")),
    "the base holds the render only"
  );

  edit(
    repo,
    "infra/vpc.tf",
    "  enable_flow_log ",
    "  # reviewed\n  enable_flow_log ",
  );
  edit(
    repo,
    "platform.yaml",
    "natGateways: onePerAz",
    "natGateways: single",
  );
  cli(repo, &["upgrade"]).run().code(0);
  let merged = read(repo, "infra/vpc.tf");
  assert!(
    merged.contains("  # reviewed\n  enable_flow_log "),
    "{merged}"
  );
  assert!(
    merged.contains("  single_nat_gateway     = true\n"),
    "{merged}"
  );
  assert!(!merged.contains("<<<<<<<"), "{merged}");
  assert_eq!(read(repo, "infra/vpc.tf.orig"), "# my own network\n");
}
