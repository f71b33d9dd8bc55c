//! Semantic checks after parsing; every problem is reported, not only the first.

use super::Platform;
use crate::diagnostic::Diagnostic;

pub fn validate(_platform: &Platform) -> Vec<Diagnostic> {
  Vec::new()
}
