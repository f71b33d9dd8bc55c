//! The integration tests, in one binary so that they link once.
//!
//! Each module covers one area; `support` (in `tests/support/`, which the
//! benchmarks share) runs the binary and reads trees.

#[path = "../support/mod.rs"]
mod support;

mod accounts;
mod adopt;
mod argocd;
mod aws_names;
mod base;
mod charts;
mod cli;
mod delivery;
mod disk_full;
mod dns;
mod egress;
mod help;
mod keep;
mod migrations;
mod overrides;
mod quota;
mod render;
mod repository;
mod safety;
mod secrets;
mod supply_chain;
mod upgrade;
mod validation;
mod verify;
mod versions;
