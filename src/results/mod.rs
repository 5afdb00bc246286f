//! Results as data, on every target: an experiment's spec, its runs' results and their
//! summary over seeds (the one aggregation the markdown table, the figures and the page's
//! long-run panel read). Running experiments is native ([`crate::experiment`]), and so are the
//! figures ([`crate::report`]).
//!
//! [`spec`]: what an experiment is and what its runs wrote; [`summary`]: the mean and spread
//! over seeds, per method and stage; [`paired`]: the differences between methods seed for seed,
//! with their uncertainty.

mod paired;
mod spec;
mod summary;

pub use paired::*;
pub use spec::*;
pub use summary::*;
