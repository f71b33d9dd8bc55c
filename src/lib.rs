//! oi-gen renders a platform repository for AWS from one blueprint file.

pub mod blueprint;
pub mod builtin;
pub mod cli;
pub mod diagnostic;
mod fsutil;
pub mod lock;
pub mod render;
pub mod run;
pub mod workspace;
