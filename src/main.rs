// Temporary development entry point; replaced by the full CLI.
fn main() {
  let args: Vec<String> = std::env::args().collect();
  let file = args.iter().position(|a| a == "-f").map_or("blueprints/openinnovation.yaml", |i| &args[i + 1]);
  let out_dir = args.iter().position(|a| a == "--out").map_or("out", |i| &args[i + 1]);
  let engine = oi_gen::render::Engine::new().expect("templates parse");
  let text = std::fs::read(file).unwrap();
  let loaded = match oi_gen::blueprint::load(&text) {
    Ok(l) => l,
    Err(ds) => {
      for d in ds {
        eprint!("{}", d.render(file, &String::from_utf8_lossy(&text)));
      }
      std::process::exit(2);
    }
  };
  let out = oi_gen::render::render(&loaded.platform, &engine).unwrap();
  for (path, f) in &out.files {
    let p = std::path::Path::new(out_dir).join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, &f.contents).unwrap();
  }
  std::fs::create_dir_all(out_dir).unwrap();
  std::fs::write(std::path::Path::new(out_dir).join("platform.yaml"), &text).unwrap();
}
