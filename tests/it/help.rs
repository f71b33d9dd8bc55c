//! `--help` of every command, pinned: the CLI is a contract.

use std::process::Command;

fn help(args: &[&str]) -> String {
  let output = Command::new(env!("CARGO_BIN_EXE_oi-gen"))
    .args(args)
    .arg("--help")
    .output()
    .unwrap();
  assert!(output.status.success());
  String::from_utf8(output.stdout).unwrap()
}

#[test]
fn help_of_every_command() {
  let commands = [
    "",
    "init",
    "validate",
    "render",
    "upgrade",
    "keep",
    "blueprints",
    "schema",
    "completions",
    "man",
    "doctor",
    "explain",
    "verify",
    "versions",
    "migration",
    "migration new",
  ];
  for command in commands {
    let args: Vec<&str> = command.split_whitespace().collect();
    let name = if command.is_empty() {
      "oi-gen".to_string()
    } else {
      command.replace(' ', "-")
    };
    insta::with_settings!({snapshot_path => "../../snapshots", prepend_module_to_snapshot => false}, {
      insta::assert_snapshot!(format!("help-{name}"), help(&args));
    });
  }
}
