//! GitHub expressions in workflow templates.
//!
//! Workflow templates are written as GitHub reads them: `${{ github.sha }}`
//! stays literal in the template file. Before Tera parses a workflow template,
//! the opening `${{` and its closing `}}` are wrapped in `{% raw %}`, so Tera
//! copies them through. What lies between stays visible to Tera, which lets a
//! template name a generated job inside an expression:
//! `${{ needs.deploy-{{ previous }}.outputs.registry }}`.

const OPEN: &str = "${{";
const RAW_OPEN: &str = "{% raw %}${{{% endraw %}";
const RAW_CLOSE: &str = "{% raw %}}}{% endraw %}";

/// Wraps the delimiters of every GitHub expression in `{% raw %}`. A Tera
/// `{{ … }}` nested inside an expression is left to Tera. An expression that
/// is never closed is left as it is, so Tera reports it.
pub(crate) fn protect(template: &str) -> String {
  let mut out = String::with_capacity(template.len() + template.len() / 8);
  let mut rest = template;
  while let Some(start) = rest.find(OPEN) {
    let body = &rest[start + OPEN.len()..];
    let Some(end) = closing(body) else {
      break;
    };
    out.push_str(&rest[..start]);
    out.push_str(RAW_OPEN);
    out.push_str(&body[..end]);
    out.push_str(RAW_CLOSE);
    rest = &body[end + 2..];
  }
  out.push_str(rest);
  out
}

/// Byte offset of the `}}` that closes an expression body, skipping nested
/// Tera `{{ … }}` pairs.
fn closing(body: &str) -> Option<usize> {
  let bytes = body.as_bytes();
  let mut depth = 0usize;
  let mut i = 0;
  while i + 1 < bytes.len() {
    match (bytes[i], bytes[i + 1]) {
      (b'{', b'{') => {
        depth += 1;
        i += 2;
      }
      (b'}', b'}') if depth == 0 => return Some(i),
      (b'}', b'}') => {
        depth -= 1;
        i += 2;
      }
      _ => i += 1,
    }
  }
  None
}

#[cfg(test)]
mod tests {
  use super::*;

  fn render(template: &str, context: &tera::Context) -> String {
    let mut tera = tera::Tera::default();
    tera.add_raw_template("t", &protect(template)).unwrap();
    tera.render("t", context).unwrap()
  }

  #[test]
  fn github_expressions_pass_through_tera_unchanged() {
    let template =
      "tag: ${{ github.sha }}\nif: ${{ !cancelled() && github.ref == 'refs/heads/main' }}\n";
    assert_eq!(render(template, &tera::Context::new()), template);
  }

  #[test]
  fn tera_values_inside_an_expression_are_rendered() {
    let mut context = tera::Context::new();
    context.insert("previous", "staging");
    assert_eq!(
      render(
        "x: ${{ needs.deploy-{{ previous }}.outputs.registry }}",
        &context
      ),
      "x: ${{ needs.deploy-staging.outputs.registry }}"
    );
  }

  #[test]
  fn tera_outside_expressions_still_works() {
    let mut context = tera::Context::new();
    context.insert("names", &["a", "b"]);
    assert_eq!(
      render(
        "{% for n in names %}{{ n }}=${{ env.X }};{% endfor %}",
        &context
      ),
      "a=${{ env.X }};b=${{ env.X }};"
    );
  }

  #[test]
  fn an_unclosed_expression_is_left_for_tera_to_report() {
    assert_eq!(protect("a ${{ b"), "a ${{ b");
    let mut tera = tera::Tera::default();
    assert!(tera.add_raw_template("t", &protect("${{ !x")).is_err());
  }

  #[test]
  fn single_braces_and_plain_text_are_untouched() {
    assert_eq!(
      protect("format('{0}', x) $HOME ${VAR}"),
      "format('{0}', x) $HOME ${VAR}"
    );
  }
}
