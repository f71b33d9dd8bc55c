//! Terraform as the rules need it: every block and attribute of a module with
//! its line (parsed by hcl-rs's editor, which keeps spans), and the values of
//! simple expressions per environment, evaluated by hcl-rs with `var` (the
//! defaults and the environment's `.tfvars`), `local` (the locals that
//! evaluate) and `each` (the keys of a `for_each`), and the Terraform
//! functions that names are usually built with (see [`functions`]). Anything
//! else (data sources, attributes of resources, other functions) stays
//! unknown.

use hcl::Expression;
use hcl::Value;
use hcl::edit::Span as _;
use hcl::edit::structure::{Body, Structure};
use hcl::eval::{Context, Evaluate as _, FuncArgs, FuncDef, ParamType};
use hcl::expr::TraversalOperator;

/// An attribute and the line it starts on.
#[derive(Debug, Clone)]
pub(crate) struct Attr {
  pub key: String,
  pub line: usize,
  pub expr: Expression,
}

/// A block: `resource "type" "name" { … }` has ident `resource` and labels
/// `type`, `name`.
#[derive(Debug, Clone)]
pub(crate) struct Block {
  pub ident: String,
  pub labels: Vec<String>,
  pub line: usize,
  pub attrs: Vec<Attr>,
  pub blocks: Vec<Block>,
}

impl Block {
  pub(crate) fn attr(&self, key: &str) -> Option<&Attr> {
    self.attrs.iter().find(|attr| attr.key == key)
  }

  /// The nested blocks named `ident`.
  pub(crate) fn nested<'a>(&'a self, ident: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
    self.blocks.iter().filter(move |block| block.ident == ident)
  }

  /// The line of attribute `key`, or of the block.
  pub(crate) fn line_of(&self, key: &str) -> usize {
    self.attr(key).map_or(self.line, |attr| attr.line)
  }

  /// `type.name` of a resource, `data.type.name` of a data source.
  pub(crate) fn address(&self) -> String {
    match self.ident.as_str() {
      "resource" => self.labels.join("."),
      _ => format!("{}.{}", self.ident, self.labels.join(".")),
    }
  }
}

/// One `.tf` or `.tfvars` file.
#[derive(Debug, Clone)]
pub(crate) struct File {
  pub path: String,
  pub attrs: Vec<Attr>,
  pub blocks: Vec<Block>,
}

/// A file that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
  pub line: usize,
  pub message: String,
}

struct Lines(Vec<usize>);

impl Lines {
  fn new(text: &str) -> Self {
    let mut starts = vec![0];
    starts.extend(text.match_indices('\n').map(|(at, _)| at + 1));
    Lines(starts)
  }

  fn line(&self, offset: Option<usize>) -> usize {
    offset.map_or(1, |offset| self.0.partition_point(|&start| start <= offset))
  }
}

/// Parses a `.tf` or `.tfvars` file.
pub(crate) fn parse(path: &str, text: &str) -> Result<File, SyntaxError> {
  let body = hcl::edit::parser::parse_body(text).map_err(|error| SyntaxError {
    line: error.location().line(),
    message: error.message().to_string(),
  })?;
  let lines = Lines::new(text);
  let (attrs, blocks) = convert(&body, &lines);
  Ok(File {
    path: path.to_string(),
    attrs,
    blocks,
  })
}

fn convert(body: &Body, lines: &Lines) -> (Vec<Attr>, Vec<Block>) {
  let mut attrs = Vec::new();
  let mut blocks = Vec::new();
  for structure in body {
    match structure {
      Structure::Attribute(attr) => attrs.push(Attr {
        key: attr.key.as_str().to_string(),
        line: lines.line(attr.span().map(|span| span.start)),
        expr: Expression::from(attr.value.clone()),
      }),
      Structure::Block(block) => {
        let (inner_attrs, inner_blocks) = convert(&block.body, lines);
        blocks.push(Block {
          ident: block.ident.as_str().to_string(),
          labels: block
            .labels
            .iter()
            .map(|label| label.as_str().to_string())
            .collect(),
          line: lines.line(block.span().map(|span| span.start)),
          attrs: inner_attrs,
          blocks: inner_blocks,
        });
      }
    }
  }
  (attrs, blocks)
}

/// The `.tf` files of one folder: one Terraform root or module.
#[derive(Debug, Clone)]
pub(crate) struct Module {
  pub dir: String,
  pub files: Vec<File>,
}

impl Module {
  /// Every top-level block with the file it is in.
  pub(crate) fn blocks(&self) -> impl Iterator<Item = (&File, &Block)> {
    self
      .files
      .iter()
      .flat_map(|file| file.blocks.iter().map(move |block| (file, block)))
  }

  /// The `resource` (`ident` = "resource") or `data` blocks of a type.
  pub(crate) fn of_type<'a>(
    &'a self,
    ident: &'a str,
    ty: &'a str,
  ) -> impl Iterator<Item = (&'a File, &'a Block)> + 'a {
    self.blocks().filter(move |(_, block)| {
      block.ident == ident && block.labels.first().map(String::as_str) == Some(ty)
    })
  }

  /// The block `ident "ty" "name"`.
  pub(crate) fn find(&self, ident: &str, ty: &str, name: &str) -> Option<(&File, &Block)> {
    self.blocks().find(|(_, block)| {
      block.ident == ident
        && block.labels.first().map(String::as_str) == Some(ty)
        && block.labels.get(1).map(String::as_str) == Some(name)
    })
  }

  /// The evaluation scope of this module in an environment: `var` from the
  /// defaults and `tfvars` (the environment's variable file), then every
  /// local that evaluates.
  pub(crate) fn scope(&self, env: Option<&str>, tfvars: Option<&File>) -> Scope {
    self.scope_in(env, tfvars, None)
  }

  /// The scopes of a module applied once per AWS account (such as
  /// `infra/bootstrap/`, which reads the account from
  /// `data.aws_caller_identity.current` and keeps one workspace per
  /// account): one per account its locals name (the 12-digit account IDs of
  /// their values), with that account as the caller's and the workspace;
  /// `None` for a module that does not read the caller's account or names no
  /// account.
  pub(crate) fn account_scopes(&self) -> Option<Vec<Scope>> {
    self.find("data", "aws_caller_identity", "current")?;
    let defaults = self.scope(None, None);
    let mut accounts = std::collections::BTreeSet::new();
    if let Ok(Value::Object(locals)) =
      Expression::Variable(hcl::Identifier::unchecked("local").into()).evaluate(&defaults.ctx)
    {
      for value in locals.values() {
        account_ids(value, &mut accounts);
      }
    }
    (!accounts.is_empty()).then(|| {
      accounts
        .into_iter()
        .map(|account| self.scope_in(None, None, Some(&account)))
        .collect()
    })
  }

  fn scope_in(&self, env: Option<&str>, tfvars: Option<&File>, account: Option<&str>) -> Scope {
    let mut vars = hcl::Map::new();
    let empty = Context::new();
    for (_, block) in self.blocks().filter(|(_, block)| block.ident == "variable") {
      if let (Some(name), Some(default)) = (block.labels.first(), block.attr("default"))
        && let Ok(value) = default.expr.evaluate(&empty)
      {
        vars.insert(name.clone(), value);
      }
    }
    for attr in tfvars.map_or(&[][..], |file| &file.attrs[..]) {
      if let Ok(value) = attr.expr.evaluate(&empty) {
        vars.insert(attr.key.clone(), value);
      }
    }
    let locals: Vec<&Attr> = self
      .blocks()
      .filter(|(_, block)| block.ident == "locals")
      .flat_map(|(_, block)| block.attrs.iter())
      .collect();
    // The caller's account and the workspace named after it.
    let account_vars: Vec<(&str, Value)> = account.map_or_else(Vec::new, |account| {
      let object =
        |key: &str, value: Value| Value::Object(hcl::Map::from_iter([(key.to_string(), value)]));
      let account = Value::String(account.to_string());
      vec![
        (
          "data",
          object(
            "aws_caller_identity",
            object("current", object("account_id", account.clone())),
          ),
        ),
        ("terraform", object("workspace", account)),
      ]
    });
    let mut known = hcl::Map::new();
    loop {
      let mut ctx = functions();
      ctx.declare_var("var", Value::Object(vars.clone()));
      ctx.declare_var("local", Value::Object(known.clone()));
      for (name, value) in &account_vars {
        ctx.declare_var(*name, value.clone());
      }
      let before = known.len();
      for attr in &locals {
        if !known.contains_key(&attr.key)
          && let Ok(value) = attr.expr.evaluate(&ctx)
        {
          known.insert(attr.key.clone(), value);
        }
      }
      if known.len() == before {
        break;
      }
    }
    let mut ctx = functions();
    ctx.declare_var("var", Value::Object(vars));
    ctx.declare_var("local", Value::Object(known));
    for (name, value) in account_vars {
      ctx.declare_var(name, value);
    }
    Scope {
      env: env.map(str::to_string),
      ctx,
    }
  }

  /// The instances of a block in `scope`: one without `for_each`, one per
  /// key with it (with `each` declared), none when the keys are unknown.
  pub(crate) fn instances(&self, scope: &Scope, block: &Block) -> Vec<Instance> {
    // `count`: that many instances (none for 0), each with its `count.index`.
    if let Some(count) = block.attr("count")
      && let Ok(Value::Number(n)) = count.expr.evaluate(&scope.ctx)
      && let Some(n) = n.as_u64()
    {
      return (0..n)
        .map(|index| {
          let mut ctx = scope.ctx.clone();
          let mut count = hcl::Map::new();
          count.insert("index".to_string(), Value::from(index));
          ctx.declare_var("count", Value::Object(count));
          Instance {
            key: Some(Value::from(index)),
            ctx,
          }
        })
        .collect();
    }
    self.keys(scope, block, 0).map_or_else(
      || {
        vec![Instance {
          key: None,
          ctx: scope.ctx.clone(),
        }]
      },
      |keys| {
        keys
          .into_iter()
          .map(|(key, value)| {
            let mut ctx = scope.ctx.clone();
            let mut each = hcl::Map::new();
            each.insert("key".to_string(), key.clone());
            each.insert("value".to_string(), value);
            ctx.declare_var("each", Value::Object(each));
            Instance {
              key: Some(key),
              ctx,
            }
          })
          .collect()
      },
    )
  }

  /// The `for_each` keys and values of a block; `None` without `for_each`.
  /// A `for_each` over another block's instances takes that block's keys
  /// (with unknown values).
  fn keys(&self, scope: &Scope, block: &Block, depth: usize) -> Option<Vec<(Value, Value)>> {
    let for_each = block.attr("for_each")?;
    if let Ok(value) = for_each.expr.evaluate(&scope.ctx) {
      return Some(match value {
        Value::Object(map) => map
          .into_iter()
          .map(|(key, value)| (Value::String(key), value))
          .collect(),
        Value::Array(items) => items.into_iter().map(|item| (item.clone(), item)).collect(),
        _ => Vec::new(),
      });
    }
    if depth < 4
      && let Some((ident, ty, name)) = reference(&for_each.expr)
      && let Some((_, source)) = self.find(ident, &ty, &name)
    {
      return Some(
        self
          .keys(scope, source, depth + 1)
          .unwrap_or_default()
          .into_iter()
          .map(|(key, _)| (key, Value::Null))
          .collect(),
      );
    }
    Some(Vec::new())
  }
}

/// The 12-digit AWS account IDs among the strings of `value`.
fn account_ids(value: &Value, out: &mut std::collections::BTreeSet<String>) {
  match value {
    Value::String(text) if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) => {
      out.insert(text.clone());
    }
    Value::Array(items) => items.iter().for_each(|item| account_ids(item, out)),
    Value::Object(map) => map.values().for_each(|item| account_ids(item, out)),
    _ => {}
  }
}

/// A context with the Terraform functions names are usually built with:
/// `format` (`%s`, `%d`), `join`, `lower`, `upper`, `replace` (of a literal),
/// `merge`, `concat`, `keys`, `length`, `values`, `one`, `coalesce`, and the
/// conversions `toset`, `tolist`, `tomap`, `tostring`.
fn functions() -> Context<'static> {
  fn text(value: &Value) -> Result<String, String> {
    match value {
      Value::String(text) => Ok(text.clone()),
      Value::Number(number) => Ok(number.to_string()),
      Value::Bool(flag) => Ok(flag.to_string()),
      other => Err(format!("not a string: {other:?}")),
    }
  }
  fn list(value: &Value) -> Result<Vec<Value>, String> {
    value
      .as_array()
      .cloned()
      .ok_or_else(|| "not a list".to_string())
  }
  fn object(value: &Value) -> Result<hcl::Map<String, Value>, String> {
    value
      .as_object()
      .cloned()
      .ok_or_else(|| "not an object".to_string())
  }
  let identity: fn(FuncArgs) -> Result<Value, String> = |args| Ok(args[0].clone());
  let defs: [(&str, FuncDef); 15] = [
    (
      "toset",
      FuncDef::builder().param(ParamType::Any).build(|args| {
        let mut items = list(&args[0])?;
        let mut seen = Vec::new();
        items.retain(|item| {
          !seen.contains(item) && {
            seen.push(item.clone());
            true
          }
        });
        Ok(Value::Array(items))
      }),
    ),
    (
      "tolist",
      FuncDef::builder().param(ParamType::Any).build(identity),
    ),
    (
      "tomap",
      FuncDef::builder().param(ParamType::Any).build(identity),
    ),
    (
      "tostring",
      FuncDef::builder()
        .param(ParamType::Any)
        .build(|args| Ok(Value::String(text(&args[0])?))),
    ),
    (
      "lower",
      FuncDef::builder()
        .param(ParamType::String)
        .build(|args| Ok(Value::String(text(&args[0])?.to_lowercase()))),
    ),
    (
      "upper",
      FuncDef::builder()
        .param(ParamType::String)
        .build(|args| Ok(Value::String(text(&args[0])?.to_uppercase()))),
    ),
    (
      "replace",
      FuncDef::builder()
        .params([ParamType::String, ParamType::String, ParamType::String])
        .build(|args| {
          let (from, to) = (text(&args[1])?, text(&args[2])?);
          if from.len() > 1 && from.starts_with('/') && from.ends_with('/') {
            return Err("regular expressions are not evaluated".to_string());
          }
          Ok(Value::String(text(&args[0])?.replace(&from, &to)))
        }),
    ),
    (
      "join",
      FuncDef::builder()
        .param(ParamType::String)
        .variadic_param(ParamType::Any)
        .build(|args| {
          let separator = text(&args[0])?;
          let mut parts = Vec::new();
          for value in args.variadic_args() {
            for item in list(value)? {
              parts.push(text(&item)?);
            }
          }
          Ok(Value::String(parts.join(&separator)))
        }),
    ),
    (
      "format",
      FuncDef::builder()
        .param(ParamType::String)
        .variadic_param(ParamType::Any)
        .build(|args| {
          let spec = text(&args[0])?;
          let mut values = args.variadic_args();
          let mut out = String::new();
          let mut chars = spec.chars();
          while let Some(c) = chars.next() {
            if c != '%' {
              out.push(c);
              continue;
            }
            match chars.next() {
              Some('%') => out.push('%'),
              Some('s' | 'd') => out.push_str(&text(values.next().ok_or("too few arguments")?)?),
              _ => return Err("only %s and %d are evaluated".to_string()),
            }
          }
          Ok(Value::String(out))
        }),
    ),
    (
      "merge",
      FuncDef::builder()
        .variadic_param(ParamType::Any)
        .build(|args| {
          let mut merged = hcl::Map::new();
          for value in args.variadic_args() {
            merged.extend(object(value)?);
          }
          Ok(Value::Object(merged))
        }),
    ),
    (
      "concat",
      FuncDef::builder()
        .variadic_param(ParamType::Any)
        .build(|args| {
          let mut items = Vec::new();
          for value in args.variadic_args() {
            items.extend(list(value)?);
          }
          Ok(Value::Array(items))
        }),
    ),
    (
      "keys",
      FuncDef::builder().param(ParamType::Any).build(|args| {
        Ok(Value::Array(
          object(&args[0])?.into_keys().map(Value::String).collect(),
        ))
      }),
    ),
    (
      "length",
      FuncDef::builder().param(ParamType::Any).build(|args| {
        let length = match &args[0] {
          Value::Array(items) => items.len(),
          Value::Object(map) => map.len(),
          Value::String(text) => text.chars().count(),
          _ => return Err("length of a value that is no collection".to_string()),
        };
        Ok(Value::from(length as u64))
      }),
    ),
    (
      "values",
      FuncDef::builder()
        .param(ParamType::Any)
        .build(|args| Ok(Value::Array(object(&args[0])?.into_values().collect()))),
    ),
    (
      "one",
      FuncDef::builder()
        .param(ParamType::Any)
        .build(|args| match list(&args[0])?.as_slice() {
          [] => Ok(Value::Null),
          [only] => Ok(only.clone()),
          _ => Err("more than one element".to_string()),
        }),
    ),
  ];
  let mut ctx = Context::new();
  for (name, def) in defs {
    ctx.declare_func(name, def);
  }
  ctx.declare_func(
    "coalesce",
    FuncDef::builder()
      .variadic_param(ParamType::Any)
      .build(|args| {
        args
          .variadic_args()
          .find(|value| !matches!(value, Value::Null) && value.as_str() != Some(""))
          .cloned()
          .ok_or_else(|| "no non-empty argument".to_string())
      }),
  );
  ctx
}

/// `data.type.name` or `type.name` (a whole block, no attribute after it):
/// the block ident, type and name.
pub(crate) fn reference(expr: &Expression) -> Option<(&'static str, String, String)> {
  let (root, names) = traversal(expr)?;
  match (root.as_str(), names.as_slice()) {
    ("data", [ty, name]) => Some(("data", ty.clone(), name.clone())),
    (ty, [name]) => Some(("resource", ty.to_string(), name.clone())),
    _ => None,
  }
}

/// A traversal made of attribute accesses only: its root and the names.
pub(crate) fn traversal(expr: &Expression) -> Option<(String, Vec<String>)> {
  let Expression::Traversal(traversal) = expr else {
    return None;
  };
  let Expression::Variable(root) = &traversal.expr else {
    return None;
  };
  let names = traversal
    .operators
    .iter()
    .map(|op| match op {
      TraversalOperator::GetAttr(name) => Some(name.to_string()),
      _ => None,
    })
    .collect::<Option<Vec<_>>>()?;
  Some((root.to_string(), names))
}

/// Where expressions of a module evaluate: one environment's variables and
/// locals.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
  pub env: Option<String>,
  pub ctx: Context<'static>,
}

/// One instance of a block: its `for_each` key, if any, and its context.
#[derive(Debug, Clone)]
pub(crate) struct Instance {
  pub key: Option<Value>,
  pub ctx: Context<'static>,
}

impl Instance {
  /// The value of an expression, when it evaluates.
  pub(crate) fn eval(&self, expr: &Expression) -> Option<Value> {
    expr.evaluate(&self.ctx).ok()
  }

  /// The string an attribute evaluates to.
  pub(crate) fn string(&self, block: &Block, key: &str) -> Option<String> {
    match self.eval(&block.attr(key)?.expr)? {
      Value::String(text) => Some(text),
      _ => None,
    }
  }

  /// The strings an expression evaluates to: one string or a list of them.
  pub(crate) fn strings(&self, expr: &Expression) -> Option<Vec<String>> {
    match self.eval(expr)? {
      Value::String(text) => Some(vec![text]),
      Value::Array(items) => items
        .into_iter()
        .map(|item| match item {
          Value::String(text) => Some(text),
          _ => None,
        })
        .collect(),
      _ => None,
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  const MAIN: &str = r#"variable "environment" {
  type = string
}

locals {
  stack = "acme-${var.environment}"
  names = { a = "${local.stack}/a", b = "${local.stack}/b" }
}

resource "aws_ecr_repository" "service" {
  for_each = local.names

  name = each.value
}

resource "aws_x" "y" {
  for_each = aws_ecr_repository.service
  name     = "${each.key}-${data.aws_caller_identity.current.account_id}"
}
"#;

  #[test]
  fn evaluates_names_per_environment_with_lines() {
    let file = parse("infra/main.tf", MAIN).unwrap();
    let tfvars = parse(
      "infra/environments/staging.tfvars",
      "environment = \"staging\"\n",
    )
    .unwrap();
    let module = Module {
      dir: "infra".into(),
      files: vec![file],
    };
    let scope = module.scope(Some("staging"), Some(&tfvars));
    let (_, block) = module
      .find("resource", "aws_ecr_repository", "service")
      .unwrap();
    assert_eq!(block.line, 10);
    assert_eq!(block.line_of("name"), 13);
    let names: Vec<_> = module
      .instances(&scope, block)
      .iter()
      .map(|instance| instance.string(block, "name").unwrap())
      .collect();
    assert_eq!(names, ["acme-staging/a", "acme-staging/b"]);
    let (_, other) = module.find("resource", "aws_x", "y").unwrap();
    let instances = module.instances(&scope, other);
    assert_eq!(instances.len(), 2);
    assert_eq!(instances[0].key, Some(Value::from("a")));
    assert_eq!(instances[0].string(other, "name"), None);
    assert_eq!(parse("x.tf", "a = 1\nb = = 2\n").unwrap_err().line, 2);
  }

  #[test]
  fn evaluates_the_functions_names_are_built_with() {
    let file = parse(
      "infra/main.tf",
      "locals {\n  a = format(\"%s-%d\", lower(\"ACME\"), 2)\n  b = join(\"/\", concat([\"x\"], tolist([\"y\"])))\n  c = keys(merge({ k = 1 }, { l = 2 }))\n  d = coalesce(\"\", replace(\"a.b\", \".\", \"-\"))\n  e = toset([\"p\", \"p\"])\n}\n",
    )
    .unwrap();
    let module = Module {
      dir: "infra".into(),
      files: vec![file],
    };
    let scope = module.scope(None, None);
    let local = |name: &str| {
      <hcl::Expression as std::str::FromStr>::from_str(&format!("local.{name}"))
        .ok()
        .and_then(|expr| expr.evaluate(&scope.ctx).ok())
    };
    assert_eq!(local("a"), Some(Value::from("acme-2")));
    assert_eq!(local("b"), Some(Value::from("x/y")));
    assert_eq!(local("c"), Some(Value::from(vec!["k", "l"])));
    assert_eq!(local("d"), Some(Value::from("a-b")));
    assert_eq!(local("e"), Some(Value::from(vec!["p"])));
  }

  #[test]
  fn evaluates_a_module_per_account_once_per_account() {
    let text = r#"data "aws_caller_identity" "current" {}

variable "environments" {
  type    = list(string)
  default = []
}

locals {
  accounts   = { dev = "111122223333", staging = "111122223333", production = "444455556666" }
  account_id = data.aws_caller_identity.current.account_id
  envs = length(var.environments) > 0 ? var.environments : [
    for env, account in local.accounts : env if account == local.account_id
  ]
  roles = { for env in local.envs : env => "acme-${env}-terraform" }
}

resource "aws_iam_role" "terraform" {
  for_each = local.roles

  name = "${each.value}@${terraform.workspace}"
}
"#;
    let module = Module {
      dir: "infra/bootstrap".to_string(),
      files: vec![parse("infra/bootstrap/main.tf", text).unwrap()],
    };
    let (_, role) = module
      .find("resource", "aws_iam_role", "terraform")
      .unwrap();
    let names: Vec<Vec<String>> = module
      .account_scopes()
      .unwrap()
      .iter()
      .map(|scope| {
        module
          .instances(scope, role)
          .iter()
          .filter_map(|instance| instance.string(role, "name"))
          .collect()
      })
      .collect();
    assert_eq!(
      names,
      [
        vec![
          "acme-dev-terraform@111122223333".to_string(),
          "acme-staging-terraform@111122223333".to_string()
        ],
        vec!["acme-production-terraform@444455556666".to_string()],
      ]
    );
    // Without the caller's account, once with the defaults.
    let single = Module {
      dir: "infra/bootstrap".to_string(),
      files: vec![
        parse(
          "infra/bootstrap/main.tf",
          &text.replace("data \"aws_caller_identity\" \"current\" {}", ""),
        )
        .unwrap(),
      ],
    };
    assert!(single.account_scopes().is_none());
  }
}
