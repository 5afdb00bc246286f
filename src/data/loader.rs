//! From (seed, step) to a batch of two views. [`Sampler`]: epochs without replacement, one
//! seeded permutation of the training images per epoch; the sample stream is the epochs one
//! after another and step `s` takes positions `s * batch .. (s + 1) * batch` of it (a batch may
//! straddle two epochs). [`Loader`]: augments a step's batch, natively on worker threads into a
//! bounded prefetch queue so the training step does not wait for its data.
//!
//! Everything derives from (seed, position): the permutation of an epoch from (seed, epoch),
//! every image's augmentation from (seed, position in the stream). No thread decides anything,
//! so any worker count gives bit-identical batches, and resuming at a step needs only the step.

use std::sync::Arc;

use rand::seq::SliceRandom;

use super::augment::{keyed_rng, Augment, Views};
use super::set::Splits;

/// Keys that separate the generators of one seed: permutations and augmentations.
const PERMUTATION_KEY: u64 = 0x7065_726d_0000_0000;

/// Which training image sits at each position of the sample stream.
#[derive(Clone, Debug)]
pub struct Sampler {
    pub images: usize,
    pub batch: usize,
    pub seed: u64,
}

impl Sampler {
    /// The permutation of epoch `epoch` (0-based).
    pub fn permutation(&self, epoch: u64) -> Vec<u32> {
        let mut p: Vec<u32> = (0..self.images as u32).collect();
        p.shuffle(&mut keyed_rng(self.seed, PERMUTATION_KEY ^ epoch));
        p
    }

    /// `(image index, stream position)` of every image of step `step` (0-based).
    pub fn batch(&self, step: usize) -> Vec<(usize, u64)> {
        let n = self.images as u64;
        let first = (step * self.batch) as u64;
        let mut out = Vec::with_capacity(self.batch);
        let mut perm: Option<(u64, Vec<u32>)> = None;
        for position in first..first + self.batch as u64 {
            let epoch = position / n;
            if perm.as_ref().is_none_or(|(e, _)| *e != epoch) {
                perm = Some((epoch, self.permutation(epoch)));
            }
            let p = &perm.as_ref().expect("set above").1;
            out.push((p[(position % n) as usize] as usize, position));
        }
        out
    }

    /// Epochs completed after `steps` steps (fractional).
    pub fn epochs_after(&self, steps: usize) -> f64 {
        (steps * self.batch) as f64 / self.images.max(1) as f64
    }
}

/// The default number of loader workers: a quarter of the cores, at least 1, at most 8 (the
/// step's own kernels use every core; augmentation of CIFAR-size images is cheap).
pub fn default_workers() -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::thread::available_parallelism().map_or(1, |n| n.get()).div_ceil(4).clamp(1, 8)
    }
    #[cfg(target_arch = "wasm32")]
    {
        0
    }
}

/// The augmented two-view batches of a run.
pub struct Loader {
    data: Arc<Splits>,
    augment: Augment,
    sampler: Sampler,
    #[cfg(not(target_arch = "wasm32"))]
    prefetch: Option<prefetch::Prefetch>,
}

impl Loader {
    pub fn new(data: Arc<Splits>, augment: Augment, seed: u64, batch: usize) -> Self {
        let sampler = Sampler { images: data.train.len(), batch, seed };
        Self {
            data,
            augment,
            sampler,
            #[cfg(not(target_arch = "wasm32"))]
            prefetch: None,
        }
    }

    pub fn sampler(&self) -> &Sampler {
        &self.sampler
    }

    pub fn augment(&self) -> &Augment {
        &self.augment
    }

    /// The two views of step `step`'s batch, computed here (no queue).
    pub fn views(&self, step: usize) -> Views {
        self.augment.views(&self.data.train, &self.sampler.batch(step), self.sampler.seed)
    }

    /// Augment on `workers` threads ahead of the step (native; 0: on the calling thread).
    /// Changes nothing in the batches, only where and when they are computed.
    pub fn set_workers(&mut self, workers: usize) {
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.prefetch = (workers > 0).then(|| {
                let (data, augment, sampler) = (self.data.clone(), self.augment.clone(), self.sampler.clone());
                prefetch::Prefetch::start(workers, 2 * workers + 1, move |step| augment.views(&data.train, &sampler.batch(step), sampler.seed))
            });
        }
        #[cfg(target_arch = "wasm32")]
        let _ = workers;
    }

    /// The views of step `step` and the seconds the caller waited for them: from the prefetch
    /// queue when workers run (which then moves on to the steps after it), else computed here.
    pub fn next(&mut self, step: usize) -> (Views, f64) {
        let started = web_time::Instant::now();
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(p) = &self.prefetch {
            return p.take(step);
        }
        let v = self.views(step);
        (v, started.elapsed().as_secs_f64())
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod prefetch {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Condvar, Mutex};
    use std::thread::JoinHandle;

    use web_time::Instant;

    use crate::data::augment::Views;

    struct State {
        /// The next step a worker will claim.
        next_claim: usize,
        /// The step the consumer will ask for next; workers stay within `depth` of it.
        wanted: usize,
        ready: BTreeMap<usize, Views>,
        /// Bumped when the consumer jumps: work claimed before it is thrown away.
        generation: u64,
        stop: bool,
    }

    struct Shared {
        state: Mutex<State>,
        changed: Condvar,
    }

    /// Worker threads computing `make(step)` for the steps after the one last taken, at most
    /// `depth` ahead of it.
    pub(super) struct Prefetch {
        shared: Arc<Shared>,
        workers: Vec<JoinHandle<()>>,
    }

    impl Prefetch {
        pub(super) fn start(workers: usize, depth: usize, make: impl Fn(usize) -> Views + Send + Sync + 'static) -> Self {
            let shared = Arc::new(Shared {
                state: Mutex::new(State { next_claim: 0, wanted: 0, ready: BTreeMap::new(), generation: 0, stop: false }),
                changed: Condvar::new(),
            });
            let make = Arc::new(make);
            let workers = (0..workers)
                .map(|w| {
                    let (shared, make) = (shared.clone(), make.clone());
                    std::thread::Builder::new()
                        .name(format!("locolab-loader-{w}"))
                        .spawn(move || work(&shared, &*make, depth))
                        .expect("spawn a loader thread")
                })
                .collect();
            Self { shared, workers }
        }

        /// Step `step`'s views (waiting for a worker if needed) and the seconds waited.
        pub(super) fn take(&self, step: usize) -> (Views, f64) {
            let started = Instant::now();
            let mut s = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
            if s.wanted != step {
                // A jump (resume, a restart): start over from `step`.
                s.generation += 1;
                s.ready.clear();
                s.next_claim = step;
            }
            s.wanted = step;
            self.shared.changed.notify_all();
            loop {
                if let Some(v) = s.ready.remove(&step) {
                    s.wanted = step + 1;
                    self.shared.changed.notify_all();
                    return (v, started.elapsed().as_secs_f64());
                }
                s = self.shared.changed.wait(s).unwrap_or_else(|e| e.into_inner());
            }
        }
    }

    fn work(shared: &Shared, make: &(dyn Fn(usize) -> Views + Send + Sync), depth: usize) {
        loop {
            let (step, generation) = {
                let mut s = shared.state.lock().unwrap_or_else(|e| e.into_inner());
                while !s.stop && s.next_claim >= s.wanted + depth {
                    s = shared.changed.wait(s).unwrap_or_else(|e| e.into_inner());
                }
                if s.stop {
                    return;
                }
                s.next_claim += 1;
                (s.next_claim - 1, s.generation)
            };
            let views = make(step);
            let mut s = shared.state.lock().unwrap_or_else(|e| e.into_inner());
            if s.generation == generation && step >= s.wanted {
                s.ready.insert(step, views);
                shared.changed.notify_all();
            }
        }
    }

    impl Drop for Prefetch {
        fn drop(&mut self) {
            self.shared.state.lock().unwrap_or_else(|e| e.into_inner()).stop = true;
            self.shared.changed.notify_all();
            for w in self.workers.drain(..) {
                let _ = w.join();
            }
        }
    }
}
