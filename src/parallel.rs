//! Parallel units natively: a transport of OS threads for [`crate::worker`]'s protocol. Each
//! local unit runs on its own thread, with its own single-threaded CPU kernels, and answers
//! [`UnitWorker::need`] from its inboxes; what [`UnitWorker::give`] sends goes into the
//! neighbours' inboxes. The caller's thread samples and augments the batches on one more thread
//! and hands each unit's report to `on_report` (a [`crate::worker::Collector`] assembles steps).

use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};

use burn::optim::ModuleOptimizer;

use crate::data::augment::Views;
use crate::error::{Error, Result};
use crate::method::{flat_params, UnitNet};
use crate::worker::{Activation, Incoming, Need, Outgoing, SharedGrads, UnitBatch, UnitWorker};

/// What a parallel run gives back.
pub struct Outcome {
    /// Each unit's modules and optimizer, unit order ([`crate::train::Trainer::adopt_units`]).
    pub parts: Vec<(UnitNet, ModuleOptimizer)>,
    /// Largest |difference| between a shared stage's two copies after the same number of
    /// updates (0 when the copies stayed equal, as the schedule promises; 0 without sharing).
    pub copy_gap: f32,
}

/// A unit's inboxes (one per [`Need`]) and the neighbours' inboxes it sends to. `None` on an
/// input or from-below link is [`Incoming::End`]: a unit that ends sends it on both links to
/// the unit above, which reads it from whichever it waits on.
struct Ends {
    input: Receiver<Option<Activation>>,
    from_upper: Receiver<SharedGrads>,
    from_lower: Receiver<Option<SharedGrads>>,
    up_input: Option<SyncSender<Option<Activation>>>,
    up_from_lower: Option<Sender<Option<SharedGrads>>>,
    down_from_upper: Option<Sender<SharedGrads>>,
    reports: Sender<UnitBatch>,
}

/// Why a unit stopped: its own error, or a neighbour that went away (a consequence).
enum Stop {
    Own(Error),
    Peer,
}

/// One unit's loop: answer `need()` until done.
fn work(mut w: UnitWorker, e: Ends) -> std::result::Result<UnitWorker, Stop> {
    let peer_gone = std::cell::Cell::new(false);
    let gone = || {
        peer_gone.set(true);
        Error::Device("a neighbouring unit stopped".into())
    };
    loop {
        let msg = match w.need() {
            Need::Input => e.input.recv().map(|m| m.map_or(Incoming::End, Incoming::Input)),
            Need::FromUpper => e.from_upper.recv().map(Incoming::FromUpper),
            Need::FromLower => e.from_lower.recv().map(|m| m.map_or(Incoming::End, Incoming::FromLower)),
            Need::Done => return Ok(w),
        }
        .map_err(|_| Stop::Peer)?;
        let mut send = |out: Outgoing| -> Result<()> {
            match out {
                Outgoing::Activation(a) => e.up_input.as_ref().expect("a unit above").send(Some(a)).map_err(|_| gone()),
                Outgoing::ToUpper(g) => e.up_from_lower.as_ref().expect("a unit above").send(Some(g)).map_err(|_| gone()),
                Outgoing::ToLower(g) => e.down_from_upper.as_ref().expect("a unit below").send(g).map_err(|_| gone()),
                Outgoing::Report(r) => e.reports.send(r).map_err(|_| gone()),
                Outgoing::End => {
                    // The unit above may already be done (an error): nothing waits then.
                    if let (Some(input), Some(grads)) = (&e.up_input, &e.up_from_lower) {
                        let _ = input.send(None);
                        let _ = grads.send(None);
                    }
                    Ok(())
                }
            }
        };
        w.give(msg, &mut send).map_err(|err| if peer_gone.get() { Stop::Peer } else { Stop::Own(err) })?;
    }
}

/// Run `workers` (unit order) on one thread each for `n` batches. `views(b)` gives batch `b`'s
/// views (called on a producer thread, in order; the end of the run follows the last);
/// `on_report` is called on this thread with each unit's report as it arrives.
pub fn run(
    workers: Vec<UnitWorker>,
    n: usize,
    views: &(dyn Fn(usize) -> Views + Sync),
    mut on_report: impl FnMut(UnitBatch),
) -> Result<Outcome> {
    let units = workers.len();
    // Inputs are bounded (a fast unit does not run far ahead); gradient links are not.
    let (input_tx, input_rx): (Vec<_>, Vec<_>) = (0..units).map(|_| sync_channel::<Option<Activation>>(2)).unzip();
    let (upper_tx, upper_rx): (Vec<_>, Vec<_>) = (0..units).map(|_| channel::<SharedGrads>()).unzip();
    let (lower_tx, lower_rx): (Vec<_>, Vec<_>) = (0..units).map(|_| channel::<Option<SharedGrads>>()).unzip();
    let (rep_tx, rep_rx) = channel::<UnitBatch>();
    let views_tx = input_tx[0].clone();
    let results = std::thread::scope(|s| {
        let mut handles = Vec::new();
        for ((j, w), ((input, from_upper), from_lower)) in workers.into_iter().enumerate().zip(input_rx.into_iter().zip(upper_rx).zip(lower_rx)) {
            let ends = Ends {
                input,
                from_upper,
                from_lower,
                up_input: input_tx.get(j + 1).cloned(),
                up_from_lower: lower_tx.get(j + 1).cloned(),
                down_from_upper: j.checked_sub(1).map(|k| upper_tx[k].clone()),
                reports: rep_tx.clone(),
            };
            handles.push(s.spawn(move || single_threaded(|| work(w, ends))));
        }
        drop((rep_tx, input_tx, upper_tx, lower_tx));
        s.spawn(move || {
            for b in 0..n {
                if views_tx.send(Some(Activation::from(views(b)))).is_err() {
                    return; // the bottom unit stopped; its error is reported
                }
            }
            let _ = views_tx.send(None);
        });
        while let Ok(r) = rep_rx.recv() {
            on_report(r);
        }
        handles.into_iter().map(|h| h.join()).collect::<Vec<_>>()
    });
    let mut done = Vec::with_capacity(units);
    let mut first_err = None;
    for (j, r) in results.into_iter().enumerate() {
        match r {
            Ok(Ok(w)) => done.push(w),
            Ok(Err(Stop::Own(e))) => {
                first_err.get_or_insert(e);
            }
            Ok(Err(Stop::Peer)) => {}
            Err(_) => {
                first_err.get_or_insert(Error::Device(format!("unit {j}'s thread panicked")));
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    if done.len() != units {
        return Err(Error::Device("a unit stopped without an error".into()));
    }
    // Copies of a shared stage: the lower unit's after its last update against the owner's
    // after the same number of updates.
    let mut copy_gap = 0f32;
    for j in 0..units.saturating_sub(1) {
        if let (true, Some(owner)) = (done[j].shares_top(), done[j + 1].bottom_before_last()) {
            let copy = flat_params(done[j].top_stage());
            for (a, b) in copy.into_iter().zip(owner.iter().cloned()) {
                let d = crate::device::floats((a - b).abs().max().try_into_data())?;
                copy_gap = copy_gap.max(d.first().copied().unwrap_or(f32::NAN));
            }
        }
    }
    Ok(Outcome { parts: done.into_iter().map(UnitWorker::finish).collect(), copy_gap })
}

/// Run `f` on the first thread of rayon's global pool when called from outside any pool (the
/// native training thread), else right here. A training step is hundreds of kernels, each split
/// over the pool's threads: from outside the pool every one is handed in and the caller sleeps
/// until it is done, while from a pool thread the caller works on its share and the other thread
/// steals the rest. This module is native only (the page's worker runs its steps in a
/// `rayon::scope` of its own: src/web/lab.rs); the same arithmetic runs either way, only on
/// another thread (docs/BENCHMARKS.md "The step on the pool's first thread, taken").
pub fn on_pool_thread<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    #[cfg(feature = "threads")]
    if rayon::current_thread_index().is_none() && rayon::current_num_threads() > 1 {
        let job = std::sync::Mutex::new(Some(f));
        let mut out = rayon::broadcast(|ctx| {
            let f = if ctx.index() == 0 { job.lock().map(|mut j| j.take()).ok().flatten() } else { None };
            f.map(|f| f())
        });
        if let Some(t) = out.swap_remove(0) {
            return t;
        }
        unreachable!("rayon's broadcast ran every thread's closure, thread 0's first in the list");
    }
    f()
}

/// Run `f` with burn's CPU kernels on one thread (its own rayon pool), so units do not
/// compete for the global pool; without the `threads` feature they are single-threaded anyway.
pub fn single_threaded<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    #[cfg(feature = "threads")]
    if let Ok(pool) = rayon::ThreadPoolBuilder::new().num_threads(1).build() {
        return pool.install(f);
    }
    f()
}
