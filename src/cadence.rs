//! When a training run evaluates, keeps a snapshot and ends a parallel stretch: one definition
//! for both doors. `locolab train` and `locolab compare` follow it in [`crate::run::Run::train`]
//! (checkpoints, the kNN monitor); the page follows it through the `Cadence` its worker asks
//! after every round of steps (autosaves, the kNN monitor, the length of a parallel chunk).
//!
//! The points, for a run whose schedule ends at step `end` (its config's `steps`; the page goes
//! on past it at the schedule's last rate):
//! - a **monitor point** at step 0 (the untrained encoder), at every multiple of
//!   `monitor_every`, and at `end`: the same steps on the page and in `compare`;
//! - a **save point** (a checkpoint, an autosave) at every multiple of `save_every` and at `end`;
//! - a **stretch** (the steps run without stopping, e.g. units in parallel) ends at the next
//!   point of either kind.

use serde::{Deserialize, Serialize};

/// Every how many steps a run is evaluated and saved, and where its schedule ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cadence {
    /// kNN monitor every this many steps, besides step 0 and the end; 0: only those two;
    /// `None`: no monitor at all (`locolab train`).
    pub monitor_every: Option<usize>,
    /// A snapshot every this many steps, besides the end; 0: none (the page's autosave off).
    pub save_every: usize,
    /// The schedule's last step (the run's `steps`).
    pub end: usize,
}

/// What falls due at a step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Due {
    pub monitor: bool,
    pub save: bool,
}

impl Due {
    pub fn any(self) -> bool {
        self.monitor || self.save
    }
}

impl Cadence {
    /// A monitored run's cadence: `compare`'s runs (`eval_every`, `checkpoint_every`) and the
    /// page's trainers (`monitor`, `autosave`) both come from here.
    pub fn monitored(monitor_every: usize, save_every: usize, end: usize) -> Self {
        Self { monitor_every: Some(monitor_every), save_every, end }
    }

    /// What falls due once step `step` is done (step 0: before the first).
    pub fn due(&self, step: usize) -> Due {
        let every = |n: usize| n > 0 && step % n == 0;
        let monitor = self.monitor_every.is_some_and(|n| step == 0 || step == self.end || every(n));
        let save = step > 0 && ((self.save_every > 0 && step == self.end) || every(self.save_every));
        Due { monitor, save }
    }

    /// Steps to run from step `at` without stopping, at most `max` (at least 1): up to the next
    /// step at which something falls due.
    pub fn stretch(&self, at: usize, max: usize) -> usize {
        let max = max.max(1);
        (1..max).find(|k| self.due(at + k).any()).unwrap_or(max)
    }

    /// The monitor points from step 0 up to `last` (inclusive).
    pub fn monitor_steps(&self, last: usize) -> Vec<usize> {
        (0..=last).filter(|&s| self.due(s).monitor).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitor_points_are_the_start_every_multiple_and_the_end() {
        let c = Cadence { monitor_every: Some(3), save_every: 4, end: 7 };
        assert_eq!(c.monitor_steps(10), vec![0, 3, 6, 7, 9]);
        assert_eq!(Cadence { monitor_every: Some(0), ..c }.monitor_steps(10), vec![0, 7]);
        assert!(Cadence { monitor_every: None, ..c }.monitor_steps(10).is_empty());
    }

    #[test]
    fn save_points_are_every_multiple_and_the_end_never_the_start() {
        let c = Cadence { monitor_every: None, save_every: 4, end: 7 };
        let saves: Vec<usize> = (0..=12).filter(|&s| c.due(s).save).collect();
        assert_eq!(saves, vec![4, 7, 8, 12]);
        // Autosave off (0): no save at all, not even at the end.
        assert!((0..=12).all(|s| !Cadence { save_every: 0, ..c }.due(s).save));
    }

    #[test]
    fn a_stretch_ends_at_the_next_point_of_either_kind() {
        let c = Cadence { monitor_every: Some(10), save_every: 7, end: 95 };
        assert_eq!(c.stretch(0, 20), 7); // save at 7
        assert_eq!(c.stretch(7, 20), 3); // monitor at 10
        assert_eq!(c.stretch(10, 20), 4); // save at 14
        assert_eq!(c.stretch(0, 5), 5); // at most max
        assert_eq!(c.stretch(91, 20), 4); // the end, 95
        assert_eq!(c.stretch(95, 20), 3); // past the end: save at 98
        let quiet = Cadence { monitor_every: None, save_every: 0, end: 3 };
        assert_eq!(quiet.stretch(10, 10), 10);
        assert_eq!(quiet.stretch(10, 0), 1);
    }
}
