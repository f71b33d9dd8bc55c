fn main() {
  let engine = oi_gen::render::Engine::new().expect("templates parse");
  let text = std::fs::read("blueprints/openinnovation.yaml").unwrap();
  let loaded = oi_gen::blueprint::load(&text).unwrap();
  let out = oi_gen::render::render(&loaded.platform, &engine).unwrap();
  println!("{}", out.files.len());
}
