//! Parallel units natively: each local unit of a plan on its own OS thread, with its own
//! single-threaded CPU kernels, driven by [`crate::method::pipeline`]'s schedule over channels.
//!
//! The coordinator (the caller's thread) samples and augments the batches on one more thread,
//! collects each unit's report and calls back once every unit has finished a batch. Messages
//! are the pipeline's plain values, so the same schedule runs in Web Workers in the page; a
//! transport across GPUs or machines would carry the same messages (README, "Parallel units").

use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};

use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use web_time::Instant;

use crate::config::TrainConfig;
use crate::data::augment::Views;
use crate::error::{Error, Result};
use crate::method::pipeline::{Activation, SharedGrads, UnitBatch, UnitNet, UnitWorker};
use crate::method::{flat_params, Plan, Schedule};
use crate::model::Network;

/// What a parallel run gives back.
pub struct Outcome {
    /// Each unit's modules and optimizer, unit order ([`crate::train::Trainer::adopt_units`]).
    pub parts: Vec<(UnitNet, ModuleOptimizer)>,
    /// Largest |difference| between a shared stage's two copies after the same number of
    /// updates (0 when the copies stayed equal, as the schedule promises; 0 without sharing).
    pub copy_gap: f32,
}

/// Why a worker stopped: its own error, or a neighbour that went away (a consequence).
enum Stop {
    Own(Error),
    Peer,
}
impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Own(e)
    }
}

/// A unit's sending and receiving ends of the shared-gradient channels in one direction.
type LinkEnds = (Option<Sender<SharedGrads>>, Option<Receiver<SharedGrads>>);

struct Links {
    input: Receiver<Activation>,
    up_act: Option<SyncSender<Activation>>,
    to_upper: Option<Sender<SharedGrads>>,
    from_upper: Option<Receiver<SharedGrads>>,
    to_lower: Option<Sender<SharedGrads>>,
    from_lower: Option<Receiver<SharedGrads>>,
    reports: Sender<UnitBatch>,
}

fn recv<T>(rx: &Option<Receiver<T>>) -> std::result::Result<T, Stop> {
    rx.as_ref().expect("a link exists where the schedule shares").recv().map_err(|_| Stop::Peer)
}
fn send<T>(tx: &Option<Sender<T>>, v: T) -> std::result::Result<(), Stop> {
    tx.as_ref().expect("a link exists where the schedule shares").send(v).map_err(|_| Stop::Peer)
}

/// One unit's loop over `n` batches. Returns its modules, optimizer and, for the owner of a
/// shared bottom stage, that stage's values before its last (owner-only) update.
fn work(mut w: UnitWorker, l: Links, n: usize) -> std::result::Result<(UnitNet, ModuleOptimizer, Option<Vec<Tensor<1>>>), Stop> {
    let mut before_last = None;
    if w.shares_bottom() {
        let first = recv(&l.from_lower)?;
        w.settle_bottom(Some(first))?;
    }
    for b in 0..n {
        let input = l.input.recv().map_err(|_| Stop::Peer)?.into_tensor(w.device());
        if let Some(act) = w.forward(input) {
            l.up_act.as_ref().expect("a unit above").send(act).map_err(|_| Stop::Peer)?;
        }
        let out = w.backward()?;
        if let Some(m) = out.to_upper {
            send(&l.to_upper, m)?;
        }
        if let Some(m) = out.to_lower {
            // The unit below has stopped after its last batch; it needs none for ours.
            if b + 1 < n {
                send(&l.to_lower, m)?;
            }
        }
        if w.shares_top() {
            // The unit above's gradient on its batch b-1 (it has none before our first batch).
            let theirs = if b == 0 { None } else { Some(recv(&l.from_upper)?) };
            w.settle_top(theirs)?;
        }
        if w.shares_bottom() {
            // The unit below's gradient on its batch b+1 (none after its last).
            let theirs = if b + 1 < n { Some(recv(&l.from_lower)?) } else { None };
            if b + 1 == n {
                before_last = Some(flat_params(w.bottom_stage()));
            }
            w.settle_bottom(theirs)?;
        }
        let mut report = out.report;
        report.update_seconds += w.settle_seconds();
        l.reports.send(report).map_err(|_| Stop::Peer)?;
    }
    let (net, optim) = w.finish();
    Ok((net, optim, before_last))
}

/// Run `n` batches of `plan` with every unit on its own thread, starting from `net` and
/// `optim` at trainer step `first_step`. `views(b)` gives batch `b`'s views (called on a
/// producer thread, in order); `on_batch` is called on this thread as each batch completes.
#[allow(clippy::too_many_arguments)]
pub fn run(
    plan: &Plan,
    schedule: &Schedule,
    net: &Network,
    optim: &ModuleOptimizer,
    config: &TrainConfig,
    device: &Device,
    first_step: usize,
    n: usize,
    views: &(dyn Fn(usize) -> Views + Sync),
    mut on_batch: impl FnMut(usize, &[UnitBatch], f64),
) -> Result<Outcome> {
    let units = plan.units.len();
    let started = Instant::now();
    // Per unit: its input (views or the activation from below; a small bound keeps a fast
    // unit from running far ahead), and the shared-gradient channels between neighbours.
    let (mut in_tx, mut in_rx): (Vec<_>, Vec<_>) = (0..units).map(|_| sync_channel::<Activation>(2)).map(|(t, r)| (Some(t), Some(r))).unzip();
    let mut up: Vec<LinkEnds> = (0..units).map(|_| (None, None)).collect();
    let mut down: Vec<LinkEnds> = (0..units).map(|_| (None, None)).collect();
    for j in 0..units {
        if schedule.shares_top[j] {
            let (t, r) = channel();
            up[j].0 = Some(t); // j -> j+1
            up[j + 1].1 = Some(r);
            let (t, r) = channel();
            down[j + 1].0 = Some(t); // j+1 -> j
            down[j].1 = Some(r);
        }
    }
    let (rep_tx, rep_rx) = channel::<UnitBatch>();
    let views_tx = in_tx[0].take().expect("the bottom unit's input");
    let results = std::thread::scope(|s| {
        let mut handles = Vec::new();
        for j in 0..units {
            let links = Links {
                input: in_rx[j].take().expect("one input per unit"),
                up_act: (j + 1 < units).then(|| in_tx[j + 1].take().expect("one sender per unit")),
                to_upper: up[j].0.take(),
                from_upper: down[j].1.take(),
                to_lower: down[j].0.take(),
                from_lower: up[j].1.take(),
                reports: rep_tx.clone(),
            };
            let worker = UnitWorker::new(plan, schedule, j, UnitNet::of(net, plan, j), optim.clone(), config, device, first_step, n);
            handles.push(s.spawn(move || single_threaded(|| work(worker, links, n))));
        }
        drop(rep_tx);
        s.spawn(move || {
            for b in 0..n {
                if views_tx.send(Activation::from(views(b))).is_err() {
                    return; // the bottom unit stopped; its error is reported
                }
            }
        });
        // Collect reports; a batch is complete when every unit has reported it.
        let mut pending: Vec<Vec<Option<UnitBatch>>> = vec![vec![None; units]; n];
        let mut complete = vec![0usize; n];
        let mut emitted = 0;
        while let Ok(r) = rep_rx.recv() {
            let b = r.batch;
            let u = r.unit;
            pending[b][u] = Some(r);
            complete[b] += 1;
            while emitted < n && complete[emitted] == units {
                let row: Vec<UnitBatch> = pending[emitted].iter_mut().map(|r| r.take().expect("complete")).collect();
                on_batch(emitted, &row, started.elapsed().as_secs_f64());
                emitted += 1;
            }
        }
        handles.into_iter().map(|h| h.join()).collect::<Vec<_>>()
    });
    let mut parts = Vec::with_capacity(units);
    let mut first_err = None;
    for (j, r) in results.into_iter().enumerate() {
        match r {
            Ok(Ok(p)) => parts.push(p),
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
    if parts.len() != units {
        return Err(Error::Device("a unit stopped without an error".into()));
    }
    // Copies of a shared stage: the lower unit's after its last update against the owner's
    // after the same number of updates.
    let mut copy_gap = 0f32;
    for j in 0..units {
        if schedule.shares_top[j] {
            if let Some(owner) = &parts[j + 1].2 {
                let copy = flat_params(parts[j].0.stages.last().expect("a unit has stages"));
                for (a, b) in copy.into_iter().zip(owner.iter().cloned()) {
                    let d = crate::device::floats((a - b).abs().max().try_into_data())?;
                    copy_gap = copy_gap.max(d.first().copied().unwrap_or(f32::NAN));
                }
            }
        }
    }
    let parts = parts.into_iter().map(|(net, optim, _)| (net, optim)).collect();
    Ok(Outcome { parts, copy_gap })
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
