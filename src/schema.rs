//! The JSON Schema of the blueprint, generated from the Rust types so editors
//! complete and check `platform.yaml` while it is typed.

/// Where `render` writes the schema, relative to the repository.
pub(crate) const SCHEMA_PATH: &str = ".oi-gen/schema.json";

/// The `yaml-language-server` modeline `init` puts at the top of `platform.yaml`.
pub(crate) const MODELINE: &str = "# yaml-language-server: $schema=.oi-gen/schema.json";

/// The schema, as `render` writes it and `oi-gen schema` prints it: kept
/// in the source tree (generating it took a tenth of a default `render
/// --check`), and checked against the types by a test, which rewrites it
/// when `OI_GEN_WRITE_SCHEMA=1` is set.
pub(crate) fn json() -> &'static str {
  include_str!("schema.json")
}

/// The schema generated from the Rust types.
#[cfg(test)]
fn generate() -> String {
  use crate::blueprint::Platform;
  use crate::blueprint::model::API_VERSION;
  let mut schema = schemars::schema_for!(Platform);
  schema.insert(
    "title".into(),
    format!("oi-gen blueprint ({API_VERSION})").into(),
  );
  if let Some(props) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
    if let Some(api) = props.get_mut("apiVersion").and_then(|v| v.as_object_mut()) {
      api.insert("const".into(), API_VERSION.into());
    }
    if let Some(kind) = props.get_mut("kind").and_then(|v| v.as_object_mut()) {
      kind.insert("const".into(), crate::blueprint::model::KIND.into());
    }
  }
  let mut text = serde_json::to_string_pretty(&schema).expect("the schema serializes");
  text.push('\n');
  text
}

#[cfg(test)]
mod tests {
  use serde_json::Value;

  /// `src/schema.json` is what the types give; `OI_GEN_WRITE_SCHEMA=1
  /// cargo test --lib schema` rewrites it after a change to the model.
  #[test]
  fn the_kept_schema_is_the_generated_one() {
    let generated = super::generate();
    if std::env::var_os("OI_GEN_WRITE_SCHEMA").is_some() {
      std::fs::write(
        concat!(env!("CARGO_MANIFEST_DIR"), "/src/schema.json"),
        &generated,
      )
      .unwrap();
      return;
    }
    assert!(
      super::json() == generated,
      "src/schema.json is out of date: run `OI_GEN_WRITE_SCHEMA=1 cargo test --lib schema`"
    );
  }

  fn objects(value: &Value, found: &mut Vec<Value>) {
    match value {
      Value::Object(map) => {
        if map.contains_key("properties") {
          found.push(value.clone());
        }
        map.values().for_each(|v| objects(v, found));
      }
      Value::Array(items) => items.iter().for_each(|v| objects(v, found)),
      _ => {}
    }
  }

  #[test]
  fn every_object_rejects_unknown_keys_and_every_field_is_described() {
    let schema: Value = serde_json::from_str(super::json()).unwrap();
    let mut found = Vec::new();
    objects(&schema, &mut found);
    assert!(found.len() > 20);
    for object in found {
      assert_eq!(
        object["additionalProperties"],
        Value::Bool(false),
        "{object}"
      );
      for (name, field) in object["properties"].as_object().unwrap() {
        assert!(
          field.get("description").is_some(),
          "`{name}` has no description"
        );
      }
    }
  }
}
