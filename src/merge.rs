//! Three-way merge of a hand-edited file with a new render.

/// Marker lines around a conflict: the user's side first, then oi-gen's.
pub(crate) const LOCAL: &str = "<<<<<<< local";
pub(crate) const NEW: &str = ">>>>>>> oi-gen";

pub(crate) enum Merged {
  Clean(String),
  Conflict(String),
}

/// Merges the user's `local` edits and oi-gen's `new` render, both made from `base`.
pub(crate) fn merge(base: &str, local: &str, new: &str) -> Merged {
  let mut options = diffy::MergeOptions::new();
  options.set_conflict_style(diffy::ConflictStyle::Merge);
  match options.merge(base, local, new) {
    Ok(text) => Merged::Clean(text),
    Err(text) => Merged::Conflict(relabel(&text)),
  }
}

fn relabel(text: &str) -> String {
  let mut out = String::with_capacity(text.len());
  for line in text.split_inclusive('\n') {
    let (body, end) = match line.strip_suffix('\n') {
      Some(body) => (body, "\n"),
      None => (line, ""),
    };
    let body = match body {
      "<<<<<<< ours" => LOCAL,
      ">>>>>>> theirs" => NEW,
      other => other,
    };
    out.push_str(body);
    out.push_str(end);
  }
  out
}

/// Does the text still hold conflict markers oi-gen wrote?
pub(crate) fn has_markers(text: &str) -> bool {
  let mut open = false;
  for line in text.lines() {
    if line == LOCAL {
      open = true;
    } else if open && line == NEW {
      return true;
    }
  }
  false
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn merges_edits_on_different_lines() {
    let base = "a\nb\nc\nd\ne\n";
    let local = "a\nB (mine)\nc\nd\ne\n";
    let new = "a\nb\nc\nd\nE (new)\n";
    match merge(base, local, new) {
      Merged::Clean(text) => assert_eq!(text, "a\nB (mine)\nc\nd\nE (new)\n"),
      Merged::Conflict(text) => panic!("unexpected conflict:\n{text}"),
    }
  }

  #[test]
  fn marks_colliding_edits() {
    match merge("a\nb\nc\n", "a\nmine\nc\n", "a\ntheirs\nc\n") {
      Merged::Clean(text) => panic!("expected a conflict, got {text}"),
      Merged::Conflict(text) => {
        assert_eq!(
          text,
          "a\n<<<<<<< local\nmine\n=======\ntheirs\n>>>>>>> oi-gen\nc\n"
        );
        assert!(has_markers(&text));
      }
    }
  }
}
