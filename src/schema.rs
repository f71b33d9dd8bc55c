//! The JSON Schema of the blueprint, generated from the Rust types so editors
//! complete and check `platform.yaml` while it is typed.

use crate::blueprint::Platform;
use crate::blueprint::model::API_VERSION;

/// Where `render` writes the schema, relative to the repository.
pub(crate) const SCHEMA_PATH: &str = ".oi-gen/schema.json";

/// The `yaml-language-server` modeline `init` puts at the top of `platform.yaml`.
pub(crate) const MODELINE: &str = "# yaml-language-server: $schema=.oi-gen/schema.json";

pub(crate) fn json() -> String {
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
    let schema: Value = serde_json::from_str(&super::json()).unwrap();
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
