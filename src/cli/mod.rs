//! The CLI door: the clap definitions, the commands and the printing.
pub mod args;
pub mod commands;
pub mod output;
