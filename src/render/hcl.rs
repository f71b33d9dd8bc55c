//! HCL in templates: Tera filters that write blueprint values as HCL, laid
//! out the way `terraform fmt` lays them out, so the render target passes
//! data and the templates never receive pre-formatted HCL.
//!
//! - `hcl_string`: an HCL string literal.
//! - `hcl_attributes(indent=N)`: adjacent `key = value` lines with their `=`
//!   aligned, each indented by `N` spaces, without a final newline.
//!
//! JSON objects lose their order on the way into Tera, so a map whose order
//! matters is passed as a list of `[key, value]` pairs (a Rust
//! `Vec<(String, T)>` serialises as one). Values become HCL by their type: a
//! string is a string literal, a number, a boolean or null is written bare, a
//! list of `[key, value]` pairs or an object is an inline object
//! (`{ a = 1, b = 2 }`), and any other list is a tuple (`["a", "b"]`).

use std::collections::HashMap;

use tera::{Tera, Value};

/// Registers the HCL filters on a Tera instance.
pub(crate) fn register(tera: &mut Tera) {
  tera.register_filter("hcl_string", string_filter);
  tera.register_filter("hcl_attributes", attributes_filter);
}

/// An HCL string literal. Blueprint values are validated names and ranges,
/// so only `"` and `\` need escaping; `${` is kept, it is how names refer to
/// `var.environment`.
pub(crate) fn string(text: &str) -> String {
  format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// An attribute or object key: bare when HCL allows an identifier there (a
/// letter or `_`, then letters, digits, `_` and `-`), quoted otherwise.
pub(crate) fn key(key: &str) -> String {
  let identifier = key
    .chars()
    .next()
    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
    && key
      .chars()
      .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
  if identifier {
    key.to_string()
  } else {
    string(key)
  }
}

/// Adjacent `key = value` lines, `=` aligned the way `terraform fmt` does
/// (after the longest key), each indented by `indent` spaces, without a
/// final newline. Keys are written with [`key`]; values are HCL already.
pub(crate) fn attributes<K: AsRef<str>, V: AsRef<str>>(
  entries: &[(K, V)],
  indent: usize,
) -> String {
  let keys: Vec<String> = entries.iter().map(|(k, _)| key(k.as_ref())).collect();
  let width = keys.iter().map(|k| k.chars().count()).max().unwrap_or(0);
  keys
    .iter()
    .zip(entries)
    .map(|(key, (_, value))| format!("{:indent$}{key:<width$} = {}", "", value.as_ref()))
    .collect::<Vec<_>>()
    .join("\n")
}

/// A JSON value as an HCL expression (see the module documentation).
pub(crate) fn value(value: &Value) -> String {
  match value {
    Value::String(text) => string(text),
    Value::Null => "null".to_string(),
    Value::Bool(b) => b.to_string(),
    Value::Number(n) => n.to_string(),
    Value::Object(map) => {
      inline_object(map.iter().map(|(k, v)| (k.as_str(), v)).collect::<Vec<_>>())
    }
    Value::Array(items) => match pairs(items) {
      Some(entries) if !entries.is_empty() => inline_object(entries),
      _ => format!(
        "[{}]",
        items.iter().map(self::value).collect::<Vec<_>>().join(", ")
      ),
    },
  }
}

/// `{ a = 1, b = 2 }`, or `{}`.
fn inline_object(entries: Vec<(&str, &Value)>) -> String {
  if entries.is_empty() {
    return "{}".to_string();
  }
  let items: Vec<String> = entries
    .into_iter()
    .map(|(k, v)| format!("{} = {}", key(k), value(v)))
    .collect();
  format!("{{ {} }}", items.join(", "))
}

/// The entries of a list of `[key, value]` pairs, or `None` when the list
/// is not one.
fn pairs(items: &[Value]) -> Option<Vec<(&str, &Value)>> {
  items
    .iter()
    .map(|item| match item.as_array().map(Vec::as_slice) {
      Some([Value::String(k), v]) => Some((k.as_str(), v)),
      _ => None,
    })
    .collect()
}

/// The entries of a map passed to a filter: a list of `[key, value]` pairs
/// in order, or an object (in key order).
fn entries<'a>(filter: &str, input: &'a Value) -> tera::Result<Vec<(&'a str, &'a Value)>> {
  match input {
    Value::Object(map) => Ok(map.iter().map(|(k, v)| (k.as_str(), v)).collect()),
    Value::Array(items) => pairs(items).ok_or_else(|| {
      tera::Error::msg(format!(
        "`{filter}` takes a map or a list of [key, value] pairs, not {input}"
      ))
    }),
    other => Err(tera::Error::msg(format!(
      "`{filter}` takes a map or a list of [key, value] pairs, not {other}"
    ))),
  }
}

fn string_filter(input: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
  match input {
    Value::String(text) => Ok(Value::String(string(text))),
    other => Err(tera::Error::msg(format!(
      "`hcl_string` takes a string, not {other}"
    ))),
  }
}

fn attributes_filter(input: &Value, args: &HashMap<String, Value>) -> tera::Result<Value> {
  let indent = match args.get("indent") {
    None => 0,
    Some(n) => n
      .as_u64()
      .and_then(|n| usize::try_from(n).ok())
      .ok_or_else(|| tera::Error::msg(format!("`hcl_attributes`: indent is {n}, not a count")))?,
  };
  let lines: Vec<(&str, String)> = entries("hcl_attributes", input)?
    .into_iter()
    .map(|(k, v)| (k, value(v)))
    .collect();
  Ok(Value::String(attributes(&lines, indent)))
}

#[cfg(test)]
mod tests {
  use serde_json::json;

  use super::*;

  /// Renders `template` with the filters registered and `data` as context.
  fn render(template: &str, data: &Value) -> tera::Result<String> {
    let mut tera = Tera::default();
    register(&mut tera);
    tera.add_raw_template("t", template)?;
    tera.render("t", &tera::Context::from_value(data.clone())?)
  }

  #[test]
  fn aligned_lines_look_like_terraform_fmt() {
    let lines = attributes(&[("a", "1"), ("long-key", "2"), ("x.y", "3")], 2);
    assert_eq!(lines, "  a        = 1\n  long-key = 2\n  \"x.y\"    = 3");
    assert_eq!(attributes::<&str, &str>(&[], 4), "");
  }

  #[test]
  fn string_literals_escape_quotes_and_backslashes_and_keep_interpolation() {
    assert_eq!(string("plain"), "\"plain\"");
    assert_eq!(string(r#"a "b" \c"#), r#""a \"b\" \\c""#);
    assert_eq!(
      string("acme/${var.environment}/api"),
      "\"acme/${var.environment}/api\""
    );
    let text = render(r#"x = {{ v | hcl_string }}"#, &json!({ "v": "say \"hi\"" }));
    assert_eq!(text.unwrap(), r#"x = "say \"hi\"""#);
    assert!(render("{{ v | hcl_string }}", &json!({ "v": 1 })).is_err());
  }

  #[test]
  fn keys_are_bare_identifiers_or_quoted() {
    for bare in ["a", "api", "_x", "web-app", "Platform", "a1_b-2"] {
      assert_eq!(key(bare), bare);
    }
    for quoted in ["1a", "-a", "x.y", "a b", "", "kubernetes.io/role/elb", "é"] {
      assert_eq!(key(quoted), string(quoted), "{quoted}");
    }
  }

  #[test]
  fn values_follow_their_json_type() {
    assert_eq!(value(&json!("a")), "\"a\"");
    assert_eq!(value(&json!(3)), "3");
    assert_eq!(value(&json!(true)), "true");
    assert_eq!(value(&json!(null)), "null");
    assert_eq!(value(&json!(["a", "b"])), r#"["a", "b"]"#);
    assert_eq!(value(&json!([])), "[]");
    assert_eq!(value(&json!({})), "{}");
    assert_eq!(value(&json!({ "b": 2, "a": "x" })), r#"{ a = "x", b = 2 }"#);
    // Pairs keep their order.
    assert_eq!(
      value(&json!([
        ["min_size", 1],
        ["desired_size", 2],
        ["max_size", 3]
      ])),
      "{ min_size = 1, desired_size = 2, max_size = 3 }"
    );
    assert_eq!(value(&json!([["x.y", 1]])), r#"{ "x.y" = 1 }"#);
  }

  #[test]
  fn the_attributes_filter_aligns_maps_in_order() {
    let data = json!({
      "repos": [["web", "acme/${var.environment}/web"], ["api-gateway", "acme/x/api"]],
      "sizes": [["general", [["min_size", 1], ["max_size", 3]]]],
      "sorted": { "b": true, "a": 1 },
      "empty": [],
    });
    let text = render(
      "m = {\n{{ repos | hcl_attributes(indent=4) }}\n}\n{{ sizes | hcl_attributes }}\n\
       {{ sorted | hcl_attributes(indent=1) }}\n[{{ empty | hcl_attributes }}]",
      &data,
    )
    .unwrap();
    assert_eq!(
      text,
      "m = {\n    web         = \"acme/${var.environment}/web\"\n    api-gateway = \"acme/x/api\"\n}\n\
       general = { min_size = 1, max_size = 3 }\n a = 1\n b = true\n[]"
    );
    assert!(render("{{ v | hcl_attributes }}", &json!({ "v": ["a"] })).is_err());
    assert!(render("{{ v | hcl_attributes }}", &json!({ "v": "a" })).is_err());
    assert!(render("{{ v | hcl_attributes(indent=-1) }}", &json!({ "v": [] })).is_err());
  }
}
