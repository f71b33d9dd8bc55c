//! oi-gen renders a platform repository for AWS from one blueprint file.

mod base;
pub mod blueprint;
pub mod builtin;
pub mod cli;
mod command;
pub mod diagnostic;
mod doctor;
pub mod error;
mod fsutil;
pub mod lock;
mod merge;
mod migrations;
mod names;
pub mod render;
mod report;
pub mod run;
mod runlock;
mod schema;
mod ui;
mod verify;
pub mod versions;
pub mod workspace;
