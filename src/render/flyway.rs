//! The Flyway project under `db/`, only for blueprints with a database.

use serde::Serialize;

use super::engine::output_path;
use super::{Engine, Output};
use crate::blueprint::Resolved;

/// `db/flyway.toml`, regenerated on every render.
const CONFIG: &str = "db/flyway.toml.tera";
/// The first migration, seeded while the migrations folder has none.
const BASELINE: &str = "db/migrations/V1__baseline.sql.tera";
/// The migrations image, when a service's chart runs the migrations.
const DOCKERFILE: &str = "db/Dockerfile.tera";

#[derive(Serialize)]
struct FlywayData<'a> {
  database: &'a str,
  version: &'a str,
  platform: &'a str,
  owner: &'a str,
  environments: Vec<&'a str>,
  flyway_image: String,
  first_environment: &'a str,
}

pub(crate) fn render(
  resolved: &Resolved,
  engine: &Engine,
  out: &mut Output,
) -> Result<(), tera::Error> {
  let Some(database) = &resolved.database else {
    return Ok(());
  };
  let data = FlywayData {
    database: &database.name,
    version: &database.major_version,
    platform: &resolved.name,
    owner: resolved
      .migrations_owner()
      .map_or("the release", |s| s.name.as_str()),
    environments: resolved
      .environments
      .iter()
      .map(|e| e.name.as_str())
      .collect(),
    flyway_image: super::workflows::flyway_image(&resolved.versions),
    first_environment: &resolved.first_environment().name,
  };
  out.add(
    output_path(CONFIG, None, None),
    engine.render(CONFIG, &data)?,
  );
  // The first migration, seeded only while the folder has none (its row
  // in the manifest says so).
  out.add(
    output_path(BASELINE, None, None),
    engine.render(BASELINE, &data)?,
  );
  if resolved.migrations_owner().is_some() {
    out.add(
      output_path(DOCKERFILE, None, None),
      engine.render(DOCKERFILE, &data)?,
    );
  }
  Ok(())
}
