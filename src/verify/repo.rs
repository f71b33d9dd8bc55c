//! The parts of a rendered repository the rules compare, read from disk:
//! Terraform modules and variable files, chart values and templates, cluster
//! manifests and add-on values, workflows and the add-on install script.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use super::Finding;
use super::terraform::{self, Module, Scope};
use super::yaml::{self, Blanked, Node};
use crate::error::{Error, Message, Op};

/// A YAML file and its documents.
#[derive(Debug, Clone)]
pub(crate) struct YamlFile {
  pub path: String,
  pub docs: Vec<Node>,
}

/// A chart template: its text and, for YAML templates that still parse once
/// their actions are blanked, its documents.
#[derive(Debug, Clone)]
pub(crate) struct Template {
  pub path: String,
  pub text: String,
  pub blanked: Option<(Blanked, Vec<Node>)>,
}

/// One chart: its folder name, values files and templates.
#[derive(Debug, Clone, Default)]
pub(crate) struct Chart {
  pub name: String,
  /// `values.yaml`.
  pub values: Option<YamlFile>,
  /// `values-<env>.yaml` by environment.
  pub env_values: BTreeMap<String, YamlFile>,
  pub templates: Vec<Template>,
}

/// The repository as the rules see it.
#[derive(Debug, Default)]
pub(crate) struct Repo {
  /// Files that did not parse.
  pub problems: Vec<Finding>,
  /// The environments of `infra/`: the names of `infra/environments/*.tfvars`.
  pub environments: Vec<String>,
  /// `spec.delivery.github.repository` of `platform.yaml`.
  pub github_repository: Option<String>,
  /// Terraform modules (folders of `.tf` files under `infra/`).
  pub modules: Vec<Module>,
  /// `infra/environments/<env>.tfvars` by environment.
  pub tfvars: BTreeMap<String, terraform::File>,
  pub charts: Vec<Chart>,
  /// YAML under `cluster/`: manifests and add-on values.
  pub cluster: Vec<YamlFile>,
  pub workflows: Vec<YamlFile>,
  /// `cluster/install.sh`.
  pub install: Option<String>,
  /// The evaluation scopes, by index into `modules` (see [`Repo::scopes`]).
  scopes: Vec<(usize, Scope)>,
  /// Every file read or skipped, by its path relative to the repository.
  pub files: std::collections::BTreeSet<String>,
}

const SKIPPED: &[&str] = &[".git", ".oi-gen", ".terraform", "node_modules", "target"];

impl Repo {
  /// Reads the repository in `dir`; a folder that holds none of its parts is
  /// a usage error.
  pub(crate) fn read(dir: &Path) -> Result<Repo, Error> {
    let meta = fs::metadata(dir).map_err(Error::io(Op::Read, dir))?;
    if !meta.is_dir() {
      return Err(Error::Usage(Message::new(format!(
        "`{}` is not a folder",
        dir.display()
      ))));
    }
    if !["infra", "charts", "cluster", ".github/workflows"]
      .iter()
      .any(|part| dir.join(part).is_dir())
    {
      return Err(Error::Usage(
        Message::new(format!(
          "`{}` holds no rendered platform: no infra/, charts/, cluster/ or .github/workflows/",
          dir.display()
        ))
        .with_help(
          "run `oi-gen verify` in the repository `oi-gen render` wrote, or pass its folder",
        ),
      ));
    }
    let mut repo = Repo::default();
    let mut modules: BTreeMap<String, Vec<terraform::File>> = BTreeMap::new();
    let mut charts: BTreeMap<String, Chart> = BTreeMap::new();
    let walk = walkdir::WalkDir::new(dir)
      .sort_by_file_name()
      .into_iter()
      .filter_entry(|entry| {
        entry.depth() == 0 || !SKIPPED.contains(&entry.file_name().to_string_lossy().as_ref())
      });
    for entry in walk {
      let entry = entry.map_err(|error| {
        let path = error.path().unwrap_or(dir).to_path_buf();
        Error::Io {
          op: Op::Read,
          path,
          source: error.into(),
        }
      })?;
      if !entry.file_type().is_file() {
        continue;
      }
      let Ok(relative) = entry.path().strip_prefix(dir) else {
        continue;
      };
      let relative = relative
        .components()
        .map(|part| part.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/");
      repo.files.insert(relative.clone());
      let Some(kind) = kind(&relative) else {
        continue;
      };
      let bytes = fs::read(entry.path()).map_err(Error::io(Op::Read, entry.path()))?;
      let Ok(text) = String::from_utf8(bytes) else {
        repo
          .problems
          .push(Finding::new(&relative, 1, "parse", "not UTF-8 text"));
        continue;
      };
      repo.add(kind, relative, text, &mut modules, &mut charts);
    }
    repo.modules = modules
      .into_iter()
      .map(|(dir, files)| Module { dir, files })
      .collect();
    repo.charts = charts.into_values().collect();
    repo.environments = repo.tfvars.keys().cloned().collect();
    repo.scopes = repo.evaluate_scopes();
    Ok(repo)
  }

  fn add(
    &mut self,
    kind: Kind,
    path: String,
    text: String,
    modules: &mut BTreeMap<String, Vec<terraform::File>>,
    charts: &mut BTreeMap<String, Chart>,
  ) {
    match kind {
      Kind::Terraform { dir } => match terraform::parse(&path, &text) {
        Ok(file) => modules.entry(dir).or_default().push(file),
        Err(error) => self.syntax(&path, error.line, &error.message),
      },
      Kind::Tfvars { env } => match terraform::parse(&path, &text) {
        Ok(file) => {
          self.tfvars.insert(env, file);
        }
        Err(error) => self.syntax(&path, error.line, &error.message),
      },
      Kind::Platform => {
        if let Some(docs) = self.yaml(&path, &text) {
          self.github_repository = docs
            .first()
            .and_then(|doc| doc.str_at(&["spec", "delivery", "github", "repository"]))
            .map(str::to_string);
        }
      }
      Kind::Values { chart, env } => {
        if let Some(docs) = self.yaml(&path, &text) {
          let chart = charts.entry(chart.clone()).or_insert_with(|| Chart {
            name: chart,
            ..Chart::default()
          });
          let file = YamlFile { path, docs };
          match env {
            Some(env) => {
              chart.env_values.insert(env, file);
            }
            None => chart.values = Some(file),
          }
        }
      }
      Kind::Template { chart } => {
        let blanked =
          (path.ends_with(".yaml") || path.ends_with(".yml")).then(|| yaml::blank(&text));
        let blanked = blanked.and_then(|blanked| {
          let docs = yaml::parse(&blanked.text).ok()?;
          Some((blanked, docs))
        });
        charts
          .entry(chart.clone())
          .or_insert_with(|| Chart {
            name: chart.clone(),
            ..Chart::default()
          })
          .templates
          .push(Template {
            path,
            text,
            blanked,
          });
      }
      Kind::Cluster => {
        if let Some(docs) = self.yaml(&path, &text) {
          self.cluster.push(YamlFile { path, docs });
        }
      }
      Kind::Workflow => {
        if let Some(docs) = self.yaml(&path, &text) {
          self.workflows.push(YamlFile { path, docs });
        }
      }
      Kind::Install => self.install = Some(text),
    }
  }

  fn yaml(&mut self, path: &str, text: &str) -> Option<Vec<Node>> {
    match yaml::parse(text) {
      Ok(docs) => Some(docs),
      Err(error) => {
        self.syntax(path, error.line, &error.message);
        None
      }
    }
  }

  fn syntax(&mut self, path: &str, line: usize, message: &str) {
    self.problems.push(Finding::new(
      path,
      line.max(1),
      "parse",
      format!("does not parse: {message}"),
    ));
  }

  /// The environment a file belongs to: `values-<env>.yaml`, or a folder
  /// `<env>/` under `cluster/manifests/`; `None` for every environment.
  pub(crate) fn env_of(&self, path: &str) -> Option<String> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if let Some(env) = name.strip_prefix("values-").and_then(|rest| {
      rest
        .strip_suffix(".yaml")
        .or_else(|| rest.strip_suffix(".yml"))
    }) {
      return Some(env.to_string());
    }
    let parts: Vec<&str> = path.split('/').collect();
    if let ["cluster", "manifests", env, _, ..] = parts.as_slice()
      && self.environments.iter().any(|known| known == env)
    {
      return Some((*env).to_string());
    }
    None
  }

  /// The environments a file applies to: its own, or every one.
  pub(crate) fn envs_of(&self, path: &str) -> Vec<String> {
    self
      .env_of(path)
      .map_or_else(|| self.environments.clone(), |env| vec![env])
  }

  /// Each module with its scopes: `infra/` (the root the environments'
  /// `.tfvars` files belong to) once per environment, a module applied per
  /// AWS account (`infra/bootstrap/` with per-environment accounts) once per
  /// account it names, any other module once with its defaults. Evaluated once, when the repository is read.
  pub(crate) fn scopes(&self) -> impl Iterator<Item = (&Module, &Scope)> {
    self
      .scopes
      .iter()
      .map(|(index, scope)| (&self.modules[*index], scope))
  }

  fn evaluate_scopes(&self) -> Vec<(usize, Scope)> {
    let mut out = Vec::new();
    for (index, module) in self.modules.iter().enumerate() {
      if module.dir == "infra" && !self.tfvars.is_empty() {
        for (env, tfvars) in &self.tfvars {
          out.push((index, module.scope(Some(env), Some(tfvars))));
        }
      } else if let Some(scopes) = module.account_scopes() {
        out.extend(scopes.into_iter().map(|scope| (index, scope)));
      } else {
        out.push((index, module.scope(None, None)));
      }
    }
    out
  }

  /// The YAML documents under `cluster/` with their file.
  pub(crate) fn cluster_docs(&self) -> impl Iterator<Item = (&YamlFile, &Node)> {
    self
      .cluster
      .iter()
      .flat_map(|file| file.docs.iter().map(move |doc| (file, doc)))
  }
}

enum Kind {
  Terraform { dir: String },
  Tfvars { env: String },
  Platform,
  Values { chart: String, env: Option<String> },
  Template { chart: String },
  Cluster,
  Workflow,
  Install,
}

/// What a path of the repository is to the rules, if anything.
fn kind(path: &str) -> Option<Kind> {
  let parts: Vec<&str> = path.split('/').collect();
  let yaml = path.ends_with(".yaml") || path.ends_with(".yml");
  match parts.as_slice() {
    ["platform.yaml"] => Some(Kind::Platform),
    ["infra", "environments", name] => name.strip_suffix(".tfvars").map(|env| Kind::Tfvars {
      env: env.to_string(),
    }),
    ["infra", .., _] if path.ends_with(".tf") => Some(Kind::Terraform {
      dir: parts[..parts.len() - 1].join("/"),
    }),
    ["charts", chart, name] if yaml && name.starts_with("values") => Some(Kind::Values {
      chart: (*chart).to_string(),
      env: name
        .strip_prefix("values-")
        .and_then(|rest| rest.rsplit_once('.'))
        .map(|(env, _)| env.to_string()),
    }),
    ["charts", chart, "templates", ..] => Some(Kind::Template {
      chart: (*chart).to_string(),
    }),
    ["cluster", "install.sh"] => Some(Kind::Install),
    ["cluster", ..] if yaml => Some(Kind::Cluster),
    [".github", "workflows", _] if yaml => Some(Kind::Workflow),
    _ => None,
  }
}
