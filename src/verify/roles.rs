//! The workflows against Terraform: `role-trusted` (every role a job assumes
//! with aws-actions/configure-aws-credentials exists and trusts the `sub` of
//! that job's OIDC token) and `ecr-repository` (every repository a job pushes
//! to exists).

use hcl::Value;
use hcl::expr::{Expression, TraversalOperator};

use super::repo::YamlFile;
use super::terraform::{self, Block, Instance, Module};
use super::yaml::Node;
use super::{Finding, Repo, list};

/// A role Terraform creates and the `sub` conditions of its trust policy
/// (`None` when the policy cannot be read).
struct Role {
  name: String,
  address: String,
  subjects: Option<Vec<(String, Vec<String>)>>,
}

/// A job of a workflow.
struct Job<'a> {
  file: &'a YamlFile,
  doc: &'a Node,
  job: &'a Node,
}

impl Job<'_> {
  fn environment(&self) -> Option<&str> {
    let env = self.job.get("environment")?;
    env.str().or_else(|| env.str_at(&["name"]))
  }

  fn steps(&self) -> &[Node] {
    self.job.get("steps").map_or(&[], Node::items)
  }
}

fn jobs(repo: &Repo) -> Vec<Job<'_>> {
  let mut out = Vec::new();
  for file in &repo.workflows {
    for doc in &file.docs {
      for entry in doc.get("jobs").map_or(&[][..], Node::entries) {
        out.push(Job {
          file,
          doc,
          job: &entry.value,
        });
      }
    }
  }
  out
}

fn uses(step: &Node, action: &str) -> bool {
  step
    .str_at(&["uses"])
    .and_then(|uses| uses.split('@').next())
    .is_some_and(|name| name == action)
}

pub(super) fn check_roles(repo: &Repo) -> Vec<Finding> {
  let roles = roles(repo);
  let mut findings = Vec::new();
  for job in jobs(repo) {
    for step in job.steps() {
      if !uses(step, "aws-actions/configure-aws-credentials") {
        continue;
      }
      let Some(arn) = step.at(&["with", "role-to-assume"]) else {
        continue;
      };
      let Some(name) = arn
        .str()
        .and_then(|arn| arn.rsplit_once(":role/"))
        .map(|(_, path)| path.rsplit('/').next().unwrap_or(path))
        .filter(|name| !name.contains("${{") && !name.is_empty())
      else {
        continue;
      };
      let subject = expected_subject(&job, repo.github_repository.as_deref());
      let found: Vec<&Role> = roles.iter().filter(|role| role.name == name).collect();
      let message = if found.is_empty() {
        format!("the job assumes role `{name}`, which no aws_iam_role in infra/ creates")
      } else if job.environment().is_some_and(|env| env.contains("${{"))
        || found.iter().any(|role| trusts_all(role, &subject))
      {
        continue;
      } else if found.iter().all(|role| role.subjects.is_none()) {
        format!(
          "the job assumes role `{name}`, whose trust policy ({}) cannot be read: verify reads aws_iam_policy_document and jsonencode policies",
          found[0].address
        )
      } else {
        let allowed: Vec<String> = found
          .iter()
          .flat_map(|role| role.subjects.iter().flatten())
          .flat_map(|(_, values)| values.iter().map(|value| format!("`{value}`")))
          .collect();
        let missing = Subject {
          repository: subject.repository.clone(),
          claims: subject
            .claims
            .iter()
            .filter(|claim| {
              !found.iter().any(|role| {
                trusts(
                  role,
                  &Subject {
                    repository: subject.repository.clone(),
                    claims: vec![(*claim).clone()],
                  },
                )
              })
            })
            .cloned()
            .collect(),
        };
        format!(
          "role `{name}` does not trust this job: its token's sub is `{}`, the role's trust allows {}",
          if missing.claims.is_empty() {
            subject.shown()
          } else {
            missing.shown()
          },
          if allowed.is_empty() {
            "no sub condition".to_string()
          } else {
            list(&allowed)
          }
        )
      };
      findings.push(Finding::new(
        &job.file.path,
        arn.line,
        "role-trusted",
        message,
      ));
    }
  }
  findings
}

/// The `sub` claims of a job's token, after `repo:<owner>/<name>:`.
struct Subject {
  repository: Option<String>,
  claims: Vec<String>,
}

impl Subject {
  fn shown(&self) -> String {
    let claims = self.claims.join("` or `");
    match &self.repository {
      Some(repository) => format!("repo:{repository}:{claims}"),
      None => format!("repo:<repository>:{claims}"),
    }
  }
}

fn expected_subject(job: &Job<'_>, repository: Option<&str>) -> Subject {
  let claims = if let Some(env) = job.environment() {
    vec![format!("environment:{env}")]
  } else {
    let on = job.doc.get("on");
    let mut claims = Vec::new();
    for (event, prefix) in [("push", "branches"), ("push", "tags")] {
      if !runs_on(job, event) {
        continue;
      }
      let refs = on.and_then(|on| on.at(&[event, prefix]));
      for branch in refs
        .map_or(&[][..], Node::items)
        .iter()
        .filter_map(Node::str)
      {
        let kind = if prefix == "branches" {
          "heads"
        } else {
          "tags"
        };
        claims.push(format!("ref:refs/{kind}/{branch}"));
      }
    }
    if on.is_some_and(|on| on.get("pull_request").is_some()) && runs_on(job, "pull_request") {
      claims.push("pull_request".to_string());
    }
    claims
  };
  Subject {
    repository: repository.map(str::to_string),
    claims,
  }
}

/// Whether a job may run on `event`, as far as its `if:` tells: a condition
/// `github.event_name == '<e>'` limits it to `<e>`, `github.event_name !=
/// '<e>'` excludes `<e>`; a condition with `||` limits nothing.
fn runs_on(job: &Job<'_>, event: &str) -> bool {
  let Some(condition) = job.job.get("if").and_then(Node::str) else {
    return true;
  };
  if condition.contains("||") {
    return true;
  }
  let compact: String = condition.chars().filter(|c| !c.is_whitespace()).collect();
  let named = |op: &str| -> Vec<String> {
    compact
      .match_indices(&format!("github.event_name{op}"))
      .filter_map(|(at, found)| {
        let rest = &compact[at + found.len()..];
        let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
        let rest = &rest[1..];
        rest.find(quote).map(|end| rest[..end].to_string())
      })
      .collect()
  };
  let only = named("==");
  if !only.is_empty() && !only.iter().any(|e| e == event) {
    return false;
  }
  !named("!=").iter().any(|e| e == event)
}

/// The role trusts every `sub` the job's token may carry (at least one).
fn trusts_all(role: &Role, subject: &Subject) -> bool {
  !subject.claims.is_empty()
    && subject.claims.iter().all(|claim| {
      trusts(
        role,
        &Subject {
          repository: subject.repository.clone(),
          claims: vec![claim.clone()],
        },
      )
    })
}

fn trusts(role: &Role, subject: &Subject) -> bool {
  role.subjects.iter().flatten().any(|(test, values)| {
    values.iter().any(|value| {
      let Some((repository, claim)) = value
        .strip_prefix("repo:")
        .and_then(|rest| rest.split_once(':'))
      else {
        return false;
      };
      let like = test == "StringLike";
      let same = |pattern: &str, text: &str| {
        if like {
          glob(pattern, text)
        } else {
          pattern == text
        }
      };
      subject
        .repository
        .as_deref()
        .is_none_or(|expected| same(repository, expected))
        && subject.claims.iter().any(|expected| same(claim, expected))
    })
  })
}

/// IAM's `StringLike`: `*` any run of characters, `?` one character.
fn glob(pattern: &str, text: &str) -> bool {
  let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
  let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
  while j < t.len() {
    if i < p.len() && (p[i] == '?' || p[i] == t[j]) {
      i += 1;
      j += 1;
    } else if i < p.len() && p[i] == '*' {
      star = Some(i);
      mark = j;
      i += 1;
    } else if let Some(s) = star {
      i = s + 1;
      mark += 1;
      j = mark;
    } else {
      return false;
    }
  }
  p[i..].iter().all(|c| *c == '*')
}

/// Every role of every module and scope.
fn roles(repo: &Repo) -> Vec<Role> {
  let mut out = Vec::new();
  for (module, scope) in repo.scopes() {
    for (_, block) in module.of_type("resource", "aws_iam_role") {
      for instance in module.instances(scope, block) {
        let Some(name) = instance.string(block, "name") else {
          continue;
        };
        let subjects = block
          .attr("assume_role_policy")
          .and_then(|policy| trust(module, scope, block, &instance, &policy.expr));
        out.push(Role {
          name,
          address: block.address(),
          subjects,
        });
      }
    }
  }
  out
}

/// The `sub` conditions of a role's trust policy: an
/// `aws_iam_policy_document` (`data.aws_iam_policy_document.x[.key].json`, or
/// `each.value.json` over such documents) or a `jsonencode` of the policy.
fn trust(
  module: &Module,
  scope: &terraform::Scope,
  role: &Block,
  instance: &Instance,
  policy: &Expression,
) -> Option<Vec<(String, Vec<String>)>> {
  if let Expression::FuncCall(call) = policy
    && call.name.name.as_str() == "jsonencode"
  {
    return call
      .args
      .first()
      .and_then(|arg| instance.eval(arg))
      .map(|value| json_subjects(&value));
  }
  let Expression::Traversal(traversal) = policy else {
    return None;
  };
  let Expression::Variable(root) = &traversal.expr else {
    return None;
  };
  let names = |ops: &[TraversalOperator]| -> Vec<Option<String>> {
    ops
      .iter()
      .map(|op| match op {
        TraversalOperator::GetAttr(name) => Some(name.to_string()),
        _ => None,
      })
      .collect()
  };
  let ops = &traversal.operators;
  let (doc_name, key) = match root.as_str() {
    "data" => {
      let attrs = names(ops);
      if attrs.first()?.as_deref() != Some("aws_iam_policy_document") {
        return None;
      }
      let name = attrs.get(1).cloned()??;
      let key = match ops.get(2) {
        Some(TraversalOperator::Index(index)) => instance.eval(index),
        _ => instance.key.clone(),
      };
      (name, key)
    }
    "each" => {
      let for_each = &role.attr("for_each")?.expr;
      let (ident, ty, name) = terraform::reference(for_each)?;
      if ident != "data" || ty != "aws_iam_policy_document" {
        return None;
      }
      (name, instance.key.clone())
    }
    _ => return None,
  };
  let (_, doc) = module.find("data", "aws_iam_policy_document", &doc_name)?;
  let instances = module.instances(scope, doc);
  let doc_instance = if doc.attr("for_each").is_some() {
    instances
      .into_iter()
      .find(|candidate| candidate.key == key)?
  } else {
    instances.into_iter().next()?
  };
  let mut subjects = Vec::new();
  for statement in doc.nested("statement") {
    if statement
      .attr("effect")
      .and_then(|effect| doc_instance.eval(&effect.expr))
      .is_some_and(|effect| effect == Value::from("Deny"))
    {
      continue;
    }
    for condition in statement.nested("condition") {
      let variable = condition
        .attr("variable")
        .and_then(|v| doc_instance.eval(&v.expr));
      if !matches!(&variable, Some(Value::String(v)) if v.ends_with(":sub")) {
        continue;
      }
      let test = condition
        .attr("test")
        .and_then(|test| doc_instance.eval(&test.expr))
        .and_then(|test| test.as_str().map(str::to_string))?;
      let values = doc_instance.strings(&condition.attr("values")?.expr)?;
      subjects.push((test, values));
    }
  }
  Some(subjects)
}

/// The `sub` conditions of a JSON policy: `Statement[].Condition.<test>.<…:sub>`.
fn json_subjects(policy: &Value) -> Vec<(String, Vec<String>)> {
  let statements = match field(policy, "Statement") {
    Some(Value::Array(items)) => items.clone(),
    Some(one @ Value::Object(_)) => vec![one.clone()],
    _ => Vec::new(),
  };
  let mut out = Vec::new();
  for statement in statements {
    if field(&statement, "Effect") == Some(&Value::from("Deny")) {
      continue;
    }
    let Some(Value::Object(conditions)) = field(&statement, "Condition") else {
      continue;
    };
    for (test, variables) in conditions {
      let Value::Object(variables) = variables else {
        continue;
      };
      for (variable, values) in variables {
        if !variable.ends_with(":sub") {
          continue;
        }
        let values = match values {
          Value::String(one) => vec![one.clone()],
          Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
          _ => Vec::new(),
        };
        out.push((test.clone(), values));
      }
    }
  }
  out
}

fn field<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
  value.as_object()?.get(key)
}

pub(super) fn check_ecr(repo: &Repo) -> Vec<Finding> {
  let mut repositories: Vec<(Option<String>, String)> = Vec::new();
  for (module, scope) in repo.scopes() {
    for (_, block) in module.of_type("resource", "aws_ecr_repository") {
      for instance in module.instances(scope, block) {
        if let Some(name) = instance.string(block, "name") {
          repositories.push((scope.env.clone(), name));
        }
      }
    }
  }
  let mut findings = Vec::new();
  for job in jobs(repo) {
    let env = job
      .environment()
      .filter(|env| repo.environments.iter().any(|known| known == env));
    for step in job.steps() {
      for (line, pushed) in pushes(step, job.job) {
        let exists = repositories.iter().any(|(scope, name)| {
          name == &pushed && (scope.is_none() || env.is_none() || scope.as_deref() == env)
        });
        if !exists {
          let within = env.map(|env| format!(" in {env}")).unwrap_or_default();
          findings.push(Finding::new(
            &job.file.path,
            line,
            "ecr-repository",
            format!("the job pushes to ECR repository `{pushed}`, which no aws_ecr_repository in infra/ creates{within}"),
          ));
        }
      }
    }
  }
  findings
}

/// The repositories a step pushes to, with the line that names each:
/// docker/build-push-action's `tags`, and `$REPOSITORY` (from the step's or
/// the job's `env`) in a script that tags or pushes an image.
fn pushes(step: &Node, job: &Node) -> Vec<(usize, String)> {
  let mut out = Vec::new();
  if uses(step, "docker/build-push-action")
    && step.str_at(&["with", "push"]) != Some("false")
    && let Some(tags) = step.at(&["with", "tags"])
    && let Some(text) = tags.str()
  {
    for tag in text
      .split([',', '\n'])
      .map(str::trim)
      .filter(|tag| !tag.is_empty())
    {
      if let Some(repository) = repository_of(tag) {
        out.push((tags.line, repository));
      }
    }
  }
  if let Some(script) = step.str_at(&["run"])
    && script.contains("$REPOSITORY")
    && (script.contains("--tag") || script.contains("docker push") || script.contains("crane copy"))
  {
    let env = step
      .at(&["env", "REPOSITORY"])
      .or_else(|| job.at(&["env", "REPOSITORY"]));
    if let Some(node) = env
      && let Some(name) = node.str().filter(|name| !name.contains("${{"))
    {
      out.push((node.line, name.to_string()));
    }
  }
  out
}

/// The repository of an image reference: without its registry host and its
/// tag or digest; `None` when it is an expression.
fn repository_of(image: &str) -> Option<String> {
  let (first, rest) = image.split_once('/')?;
  let path = if first.contains("${{")
    || first.contains('.')
    || first.contains(':')
    || first == "localhost"
  {
    rest
  } else {
    image
  };
  let end = path.find([':', '@']).unwrap_or(path.len());
  let repository = &path[..end];
  (!repository.contains("${{") && !repository.is_empty()).then(|| repository.to_string())
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn globs_like_iam() {
    assert!(glob("repo:a/b:*", "repo:a/b:environment:x"));
    assert!(glob("ref:refs/heads/?ain", "ref:refs/heads/main"));
    assert!(!glob("environment:staging", "environment:production"));
  }

  #[test]
  fn finds_the_repository_of_an_image() {
    assert_eq!(
      repository_of("${{ steps.ecr.outputs.registry }}/acme/staging/web:${{ github.sha }}")
        .as_deref(),
      Some("acme/staging/web")
    );
    assert_eq!(
      repository_of("123.dkr.ecr.x.amazonaws.com/a/b@sha256:1").as_deref(),
      Some("a/b")
    );
    assert_eq!(repository_of("${{ env.IMAGE }}"), None);
  }
}
