//! The CLI door's own modules: the clap definitions and the printing.
pub mod args;
pub mod output;
