//! The Flyway project under `db/`, only for blueprints with a database.

use serde::Serialize;

use super::{Engine, Output};
use crate::blueprint::Platform;
use crate::migrations;

#[derive(Serialize)]
struct Data<'a> {
  database: &'a str,
  version: String,
  platform: &'a str,
  owner: &'a str,
  environments: Vec<&'a str>,
}

pub fn render(platform: &Platform, engine: &Engine, out: &mut Output) -> Result<(), tera::Error> {
  let Some(database) = &platform.spec.database else {
    return Ok(());
  };
  let data = Data {
    database: &database.name,
    version: database.major_version(),
    platform: platform.name(),
    owner: platform
      .migrations_owner()
      .map_or("the release", |s| s.name.as_str()),
    environments: platform
      .spec
      .environments
      .iter()
      .map(|e| e.name.as_str())
      .collect(),
  };
  out.managed(
    "db/flyway.toml",
    engine.render("flyway/flyway.toml.tera", &data)?,
  );
  // The first migration, only while the folder has none.
  out.seeded_once_in(
    format!("{}/V1__baseline.sql", migrations::DIR),
    engine.render("flyway/V1__baseline.sql.tera", &data)?,
    migrations::DIR,
  );
  Ok(())
}
