//! The command-line side of the binary (when not running in Lambda).

pub mod generate;
pub mod invoke;
