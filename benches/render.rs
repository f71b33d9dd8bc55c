//! In-process benchmarks: `cargo bench`. Whole-process timings against the
//! `cp -r` / `diff -r` floors are in `scripts/bench`.

#[path = "../tests/support/synth.rs"]
mod synth;

use std::path::Path;

use divan::Bencher;
use oi_gen::blueprint;
use oi_gen::render::{self, Engine};
use oi_gen::workspace::{self, Mode, Previous, Root};

fn main() {
  divan::main();
}

const SIZES: [usize; 3] = [0, 50, 500];

/// The default blueprint for size 0, a synthetic one otherwise.
fn source(services: usize) -> String {
  if services == 0 {
    include_str!("../blueprints/openinnovation.yaml").to_string()
  } else {
    synth::blueprint(services)
  }
}

#[divan::bench(args = SIZES)]
fn validate(bencher: Bencher, services: usize) {
  let text = source(services);
  bencher.bench(|| blueprint::load(divan::black_box(text.as_bytes())).unwrap());
}

#[divan::bench]
fn parse_templates() -> Engine {
  Engine::new().unwrap()
}

/// What a render parses: the templates of the files the blueprint
/// produces (no repository overrides).
#[divan::bench(args = SIZES)]
fn parse_templates_for_render(bencher: Bencher, services: usize) {
  let platform = blueprint::load(source(services).as_bytes())
    .unwrap()
    .resolved;
  let root = tempfile::tempdir().unwrap();
  bencher.bench(|| Engine::for_render(&platform, root.path()).unwrap());
}

#[divan::bench(args = SIZES)]
fn render_in_memory(bencher: Bencher, services: usize) {
  let platform = blueprint::load(source(services).as_bytes())
    .unwrap()
    .resolved;
  let engine = Engine::new().unwrap();
  bencher.bench(|| render::render(divan::black_box(&platform), &engine).unwrap());
}

/// Renders into a fresh folder, returning it and the blueprint.
fn rendered(services: usize) -> (tempfile::TempDir, oi_gen::blueprint::Resolved, Engine) {
  let dir = tempfile::tempdir().unwrap();
  let text = source(services);
  let platform = blueprint::load(text.as_bytes()).unwrap().resolved;
  let engine = Engine::new().unwrap();
  let output = render::render(&platform, &engine).unwrap();
  let plan = workspace::plan(
    &Root::new(dir.path()),
    output,
    Previous::none(),
    "bench",
    Mode::Render,
  )
  .unwrap();
  plan.apply(false).unwrap();
  (dir, platform, engine)
}

#[divan::bench(args = SIZES)]
fn check_clean_tree(bencher: Bencher, services: usize) {
  let (dir, platform, engine) = rendered(services);
  bencher
    .with_inputs(|| render::render(&platform, &engine).unwrap())
    .bench_local_values(|output| plan_against(dir.path(), output));
}

fn plan_against(root: &Path, output: render::Output) -> usize {
  let root = Root::new(root);
  let previous = Previous::read(&root).unwrap();
  let plan = workspace::plan(&root, output, previous, "bench", Mode::Render).unwrap();
  plan.steps.len()
}
