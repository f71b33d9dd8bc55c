//! oi-gen renders a platform repository for AWS from one blueprint file.

mod base;
pub mod blueprint;
pub mod builtin;
pub mod cli;
mod command;
pub mod diagnostic;
mod doctor;
pub mod error;
mod explain;
mod fsutil;
pub mod lock;
pub mod merge;
pub mod migrations;
pub mod names;
pub mod render;
mod report;
pub mod run;
mod runlock;
pub mod schema;
mod ui;
pub mod workspace;
