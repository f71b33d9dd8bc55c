//! Prints a valid blueprint with N services: `cargo run --example gen-blueprint -- 500`.

#[path = "../tests/support/synth.rs"]
mod synth;

fn main() {
  let count = std::env::args()
    .nth(1)
    .and_then(|n| n.parse().ok())
    .unwrap_or(50);
  print!("{}", synth::blueprint(count));
}
