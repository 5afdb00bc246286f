//! Local units as independent workers: the pipelined schedule of GIM and LoCo.
//!
//! Each unit owns its stages (the stem too, for the bottom unit) and its decoder, with its own
//! optimizer, and runs on its own worker (an OS thread natively, a Web Worker in the page). Unit
//! `k` hands the detached output of the stage unit `k+1` reads to that unit and goes on with the
//! next batch, so unit `k` works on batch `t` while unit `k+1` works on batch `t-1`.
//!
//! **GIM** shares nothing between units: a unit's input for batch `t` is the output of the
//! unit below *before* that unit's update for `t` (as in the sequential engine), so the
//! pipelined run gives exactly the parameters of the sequential one.
//!
//! **LoCo** shares one stage between neighbours: the lower unit holds a copy of its top stage,
//! the upper unit (the stage's owner) the stage itself. Both copies apply the same update, the
//! sum of both units' gradients, with the same optimizer state, so they stay identical. The
//! schedule differs from the sequential one in one way: update `i+1` of a shared stage sums the
//! lower unit's gradient on batch `i` and the upper unit's on batch `i-1`, both taken at the
//! same weights (after update `i`); the sequential engine sums both units' gradients on the same
//! batch. So the lower unit sees the shared stage one update behind the upper unit. At the start
//! of a run the first update has only the lower unit's gradient, at its end the last only the
//! upper unit's; a run split into several calls differs from one call at each split (GIM does
//! not). The copy's BatchNorm running statistics come from the lower unit's batches and are
//! not kept: the owner's stage, with its own statistics, is what the network keeps.
//!
//! **The protocol lives here, once.** A [`UnitWorker`] is a state machine: [`UnitWorker::need`]
//! says which message it waits for ([`Need`]), [`UnitWorker::give`] takes it and returns what to
//! send ([`Outgoing`]). Per batch it needs its input (the views, or the activation of the unit
//! below), runs forward, backward and its own update, sends the activation and its gradient for
//! a shared top stage on, settles that stage with the unit above's gradient, and reports the
//! batch; an owner of a shared bottom stage then settles it with the unit below's gradient on
//! that unit's next batch, and only then sends the unit below its own gradient for the stage
//! (which that unit needs only if it runs another batch). An owner of a shared bottom stage
//! first needs one message before its first batch. The messages it can settle without (the
//! first batch's top, the last batch's bottom) it never asks for.
//!
//! **A run has no length fixed in advance.** The feed gives the bottom unit views and, when the
//! run is to end, [`Incoming::End`]; each unit, once done, passes `End` to the unit above. What
//! depends on whether a batch was the last — whether the unit below needs this unit's gradient
//! on it, whether an owner waits for the unit below's next gradient — waits for the next
//! message from below: the next batch's input or gradient, or `End`. So a transport can keep
//! its units running for as long as it likes (the page keeps them warm across its chunks of
//! steps) and end the run only when it needs the weights: a run ended after `n` batches is the
//! same as one told `n` at the start.
//!
//! A transport (OS threads in [`crate::parallel`], Web Workers in `www/unit-worker.js`)
//! only answers `need()` and delivers `give()`'s messages; [`Collector`] turns the units'
//! reports into [`crate::step::StepReport`]s. Messages are plain `f32` values ([`Activation`],
//! [`SharedGrads`]), so threads and Web Workers carry them alike (and, later, a transport
//! between devices or machines).

mod collect;
mod protocol;
mod unit;

pub use collect::Collector;
pub use protocol::*;
pub use unit::{load_units, UnitRecord, UnitWorker};
