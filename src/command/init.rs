//! `oi-gen init`: writes `platform.yaml` from a built-in blueprint or a file,
//! and renders it.

use std::path::Path;

use super::{Source, display_dir};
use crate::builtin;
use crate::error::{Error, Message, Op};
use crate::fsutil;
use crate::report;
use crate::ui::info;
use crate::workspace::{Mode, Previous, Purpose, Root};

pub(crate) fn run(dir: &Path, from: &str) -> Result<(), Error> {
  let source = match builtin::get(from) {
    Some(b) => Source::new(format!("{}.yaml", b.name), b.text.as_bytes().to_vec()),
    // A file, or a pipe such as `/dev/stdin`: read within the size limit.
    None if Path::new(from).exists() && !Path::new(from).is_dir() => Source::read(Path::new(from))?,
    None => {
      let names: Vec<String> = builtin::all()
        .iter()
        .map(|b| format!("`{}`", b.name))
        .collect();
      return Err(Error::Usage(
        Message::new(format!(
          "`{from}` is neither a built-in blueprint nor a file"
        ))
        .with_help(format!("built-in blueprints are {}", names.join(", "))),
      ));
    }
  };
  let target = dir.join("platform.yaml");
  if target.exists() {
    return Err(Error::Usage(
      Message::new(format!(
        "`{}` already exists; oi-gen init never overwrites it",
        target.display()
      ))
      .with_help(format!(
        "run `oi-gen render -f {}` to render the existing blueprint",
        target.display()
      )),
    ));
  }
  let state = dir.join(".oi-gen");
  if std::fs::symlink_metadata(&state).is_ok() {
    return Err(Error::Usage(
      Message::new(format!(
        "`{}` already exists: the folder was rendered into before; oi-gen init never overwrites that state",
        state.display()
      ))
      .with_help(
        "run `oi-gen render -f <blueprint> --out <folder>` to render into it; to start over, delete `.oi-gen/` first",
      ),
    ));
  }
  let loaded = source.load()?;
  let mut blueprint_text = source.text().into_owned();
  if !blueprint_text.contains("yaml-language-server: $schema=") {
    blueprint_text = format!("{}\n{blueprint_text}", crate::schema::MODELINE);
  }
  let source = Source::new(source.name, blueprint_text.into_bytes());
  let root = Root::new(dir);
  let (plan, moved) = super::render_and_plan(
    &root,
    Previous::none(),
    &loaded,
    &source.bytes,
    Mode::Render,
    Purpose::Apply,
  )?;
  super::warn_moved(&moved);
  report::refusal(&plan, "init", false)?;
  std::fs::create_dir_all(dir).map_err(Error::io(Op::Create, dir))?;
  let _guard = crate::runlock::acquire(&root)?;
  fsutil::write_atomic(&target, &source.bytes)?;
  let summary = plan.apply(false)?;
  info!(
    "created {} with {} files from `{}`",
    display_dir(dir),
    summary.created + 1,
    source.name
  );
  // The next command, as it works from where the user stands.
  let (blueprint, render) = if display_dir(dir) == "." {
    ("platform.yaml".to_string(), "oi-gen render".to_string())
  } else {
    let blueprint = target.display().to_string();
    let render = format!("oi-gen render -f {blueprint}");
    (blueprint, render)
  };
  info!("next: review {blueprint}, then run `{render}` after each change");
  Ok(())
}
