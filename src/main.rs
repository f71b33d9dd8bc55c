use clap::Parser;

fn main() {
  let cli = oi_gen::cli::Cli::parse();
  std::process::exit(oi_gen::run::run(cli));
}
