//! The command-line interface: parsed by clap, dispatched by `run` to the
//! commands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Render a complete AWS platform repository from one blueprint.
#[derive(Debug, Parser)]
#[command(name = "oi-gen", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
  #[command(subcommand)]
  pub command: Command,
  /// Print only errors
  #[arg(short, long, global = true, conflicts_with = "verbose")]
  pub quiet: bool,
  /// Print every file written, kept or removed
  #[arg(short, long, global = true)]
  pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
  /// Start a platform repository: write platform.yaml and render it
  Init {
    /// Folder to create the repository in
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Built-in blueprint name or blueprint file to start from
    #[arg(long, value_name = "NAME|FILE", default_value = "openinnovation")]
    from: String,
  },
  /// Check a blueprint without rendering anything
  Validate {
    #[command(flatten)]
    blueprint: Blueprint,
  },
  /// Render the platform repository from a blueprint
  Render {
    #[command(flatten)]
    blueprint: Blueprint,
    /// Output folder [default: the blueprint's folder]
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Write nothing; report files that differ from the render and exit 1 on drift
    #[arg(long)]
    check: bool,
    /// Overwrite or delete generated files even when they were edited by hand
    #[arg(long, conflicts_with = "check")]
    force: bool,
    /// Rebuild a damaged or lost .oi-gen/lock.toml from the base (.oi-gen/base/) and the files; files
    /// changed by hand stay edits
    #[arg(long, conflicts_with_all = ["check", "force"])]
    rebuild_lock: bool,
    /// Take over files oi-gen never wrote that stand at generated paths (all of them, or the
    /// FILEs named): each is saved as FILE.orig, then rendered over and recorded as oi-gen's
    #[arg(long, value_name = "FILE", num_args = 0.., conflicts_with_all = ["check", "rebuild_lock"])]
    adopt: Option<Vec<PathBuf>>,
    /// Report format of --check
    #[arg(long, value_enum, default_value = "text", requires = "check")]
    format: Format,
  },
  /// Migrate the blueprint to the current schema and re-render, merging hand edits
  Upgrade {
    #[command(flatten)]
    blueprint: Blueprint,
    /// Print what would happen to each file, with diffs, and write nothing
    #[arg(long)]
    dry_run: bool,
  },
  /// Record hand edits of generated files as intended, so the drift check accepts them
  ///
  /// The check stays clean while a kept file is as recorded and its render
  /// unchanged; it reports the file again when either changes, and
  /// `oi-gen upgrade` merges a kept file onto the new render. A released
  /// migration named here has its new checksum accepted.
  Keep {
    /// Generated files (or released migrations) edited by hand
    #[arg(required = true, num_args = 1..)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    blueprint: Blueprint,
  },
  /// List the built-in blueprints
  Blueprints,
  /// Print the JSON Schema of the blueprint, for editors
  Schema,
  /// Print a shell completion script
  Completions {
    /// Shell to complete for
    #[arg(value_enum)]
    shell: clap_complete::Shell,
  },
  /// Database migrations (Flyway)
  Migration {
    #[command(subcommand)]
    command: MigrationCommand,
  },
  /// Print the manual page (roff)
  Man,
  /// Check the tools the generated repository relies on
  Doctor,
  /// Show which blueprint fields a generated file comes from and who owns it
  Explain {
    /// A generated file
    file: PathBuf,
  },
  /// Check that the repository on disk still fits together; exit 1 on findings
  #[command(long_about = VERIFY_ABOUT)]
  Verify {
    /// Folder of the rendered repository
    #[arg(default_value = ".")]
    dir: PathBuf,
  },
  /// List what a blueprint pins: each component, its version and the files that carry it
  ///
  /// The versions come from oi-gen's version table, with the blueprint's
  /// `spec.versions` overrides applied; a component is listed when a file
  /// of the render carries it (by version, commit SHA, digest or checksum).
  /// `--all` lists the whole table instead, without a blueprint.
  Versions {
    #[command(flatten)]
    blueprint: Blueprint,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// List oi-gen's whole version table instead (every component with its
    /// kind, version, per-Kubernetes builds, pin and release page); reads no
    /// blueprint
    #[arg(long, conflicts_with = "file")]
    all: bool,
  },
}

const VERIFY_ABOUT: &str = "\
Check that the repository on disk still fits together; exit 1 on findings

Reads the files as they are (hand edits included; nothing is rendered or run) \
and checks the references between its parts. Each finding is printed as \
`file:line: rule: message`, sorted. Rules:

  secret-created   every secret an ExternalSecret reads is created by an
                   aws_secretsmanager_secret, or declared user-provided by a
                   data \"aws_secretsmanager_secret\" of that name
  role-trusted     every role a workflow job assumes exists in Terraform and
                   trusts the job's environment (or each branch, tag and pull
                   request event it runs on) in its sub condition
  ecr-repository   every ECR repository a workflow pushes to exists
  pod-identity     every Pod Identity association names the namespace and
                   service account of an add-on or chart
  host-dns         every host of a chart has external-dns or a Route53 record
  host-issuer      every host of a chart has a Gateway listener with TLS and a
                   certificate issuer that exists
  netpol-dns       every NetworkPolicy lets its pods reach DNS (port 53)
  netpol-database  a chart that uses the database lets its pods reach its port
  chart-values     every .Values path a template reads is set in values.yaml
                   and each values-<env>.yaml
  namespace-quota  the charts at their most replicas fit each environment's
                   ResourceQuota (requests, limits, pods)
  argocd-source    every Argo CD Application syncs a chart of the repository
                   with values files that exist
  argocd-destination
                   every Application deploys into the platform's namespace,
                   which its AppProject allows
  parse            a file the rules read does not parse

Exit codes: 0 no findings, 1 findings, 2 the folder cannot be read or holds no platform.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
  Text,
  Json,
}

#[derive(Debug, Subcommand)]
pub enum MigrationCommand {
  /// Write the next versioned migration and print its path
  New {
    /// What the migration does, e.g. "add users table"
    #[arg(required = true, num_args = 1..)]
    description: Vec<String>,
    #[command(flatten)]
    blueprint: Blueprint,
  },
}

/// The blueprint a command reads.
#[derive(Debug, Args)]
pub struct Blueprint {
  /// Blueprint file
  #[arg(
    short = 'f',
    long = "file",
    value_name = "FILE",
    default_value = "platform.yaml"
  )]
  pub file: PathBuf,
}
