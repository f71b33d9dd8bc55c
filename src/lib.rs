//! oi-gen renders a platform repository for AWS from one blueprint file.

pub mod blueprint;
pub mod diagnostic;
pub mod render;
