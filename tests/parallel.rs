//! Parallel units (`Trainer::run_parallel`): GIM's pipelined update is the sequential one
//! exactly; LoCo's two copies of each shared stage stay equal; what cannot run in parallel is
//! refused in one line; a failing unit leaves the trainer as it was. Native: the page's
//! Web Workers are tested end to end (tests/e2e).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::module::{Module, ModuleMapper, Param};
use burn::prelude::*;
use locolab::config::{MethodKind, SharingMode, TrainConfig};
use locolab::parallel::single_threaded;
use locolab::{Error, Trainer};

fn cfg(method: MethodKind) -> TrainConfig {
    TrainConfig { steps: 12, warmup_steps: 2, ..common::tiny(method) }
}

fn values<M: Module>(m: &M) -> Vec<f32> {
    locolab::method::flat_params(m).into_iter().flat_map(|p| p.into_data().try_to_vec::<f32>().unwrap()).collect()
}

/// Eval-mode features of a fixed batch: these read BatchNorm's running statistics too.
fn features(t: &Trainer) -> Vec<f32> {
    let x = t.batch_views(999).into_tensor(&t.device().clone().inner());
    t.eval_network().features(x).into_iter().flat_map(|f| f.into_data().try_to_vec::<f32>().unwrap()).collect()
}

#[test]
fn parallel_gim_equals_the_sequential_update_exactly() {
    // Both on single-threaded kernels, so every reduction runs in the same order.
    single_threaded(|| {
        let c = cfg(MethodKind::Gim);
        let mut seq = Trainer::new(c.clone(), common::cifar(), &Device::flex()).unwrap();
        let mut par = Trainer::new(c, common::cifar(), &Device::flex()).unwrap();
        let want = seq.run(6, |_| {}).unwrap();
        // Two calls: each fills and drains the pipeline, which GIM does not notice.
        let mut got = par.run_parallel(3, |_| {}).unwrap().reports;
        got.extend(par.run_parallel(3, |_| {}).unwrap().reports);
        for (w, g) in want.iter().zip(&got) {
            assert_eq!(w.step, g.step);
            assert_eq!(w.losses, g.losses, "step {}: per-unit losses", w.step);
        }
        assert_eq!(par.step_count(), 6);
        assert_eq!(par.images_seen(), seq.images_seen());
        assert!(values(seq.network()) == values(par.network()), "parameters after 6 steps differ");
        assert!(features(&seq) == features(&par), "BatchNorm running statistics after 6 steps differ");
        // The merged optimizer state continues exactly: one more sequential step on both.
        let (a, b) = (seq.step().unwrap(), par.step().unwrap());
        assert_eq!(a.losses, b.losses, "the step after a parallel run");
        assert!(values(seq.network()) == values(par.network()), "parameters after the next step differ");
    });
}

#[test]
fn parallel_loco_keeps_both_copies_of_each_shared_stage_equal() {
    for sharing in [SharingMode::Hard, SharingMode::UpperOnly, SharingMode::Blocks(1)] {
        let c = TrainConfig { sharing, ..cfg(MethodKind::Loco) };
        let mut t = Trainer::new(c.clone(), common::cifar(), &Device::flex()).unwrap();
        let before = values(t.network());
        let run = t.run_parallel(5, |_| {}).unwrap();
        assert_eq!(run.copy_gap, 0.0, "{sharing}: the lower unit's copy and the owner's stage after the same updates");
        assert_eq!(run.reports.len(), 5);
        assert!(run.reports.iter().all(|r| r.losses.len() == t.plan().units.len() && r.losses.iter().all(|l| l.is_finite())), "{sharing}");
        let after = values(t.network());
        assert!(before != after, "{sharing}: the run trains");
        // The schedule differs from the sequential one (the lower unit sees the shared stage
        // one update behind), but not by much after 5 steps.
        let mut seq = Trainer::new(c, common::cifar(), &Device::flex()).unwrap();
        let want = seq.run(5, |_| {}).unwrap();
        assert_eq!(want[0].losses[0], run.reports[0].losses[0], "{sharing}: the bottom unit's first loss comes before any shared update");
        let (s, p) = (values(seq.network()), values(t.network()));
        let worst = s.iter().zip(&p).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst > 0.0 && worst < 0.05, "{sharing}: parallel vs sequential after 5 steps differ by {worst}");
        // And the run goes on sequentially from the merged state.
        assert!(t.step().unwrap().losses.iter().all(|l| l.is_finite()));
    }
}

#[test]
fn what_cannot_run_in_parallel_is_refused_in_one_line() {
    let c = TrainConfig { sharing: SharingMode::Soft { l2: 1e-3 }, ..cfg(MethodKind::Loco) };
    let mut t = Trainer::new(c, common::cifar(), &Device::flex()).unwrap();
    let err = t.run_parallel(2, |_| {}).unwrap_err().to_string();
    assert!(err.contains("soft sharing") && !err.contains('\n'), "{err}");
    assert_eq!(t.step_count(), 0);
}

struct Poison;
impl ModuleMapper for Poison {
    fn map_float<const D: usize>(&mut self, p: Param<Tensor<D>>) -> Param<Tensor<D>> {
        p.map(|t| t.mul_scalar(f32::NAN).detach().require_grad())
    }
}

#[test]
fn a_diverged_unit_stops_the_run_and_leaves_the_trainer_as_it_was() {
    let mut t = Trainer::new(cfg(MethodKind::Gim), common::cifar(), &Device::flex()).unwrap();
    t.run_parallel(1, |_| {}).unwrap();
    t.network_mut().stages[2] = t.network().stages[2].clone().map(&mut Poison);
    let before = values(&t.network().stages[0]);
    let err = t.run_parallel(3, |_| {}).unwrap_err();
    assert!(matches!(err, Error::Diverged(_)) && err.to_string().contains("unit 2"), "{err}");
    assert_eq!(t.step_count(), 1, "no step of the failed run is counted");
    assert!(before == values(&t.network().stages[0]), "the trainer keeps its weights from before the run");
}

/// The page's path, natively on one thread: each unit built from a checkpoint bundle
/// (`UnitWorker::from_snapshot`), driven by its protocol (`need`/`give`), handed back as
/// records (`finish_record`) and adopted by the trainer (`adopt_unit_records`). For GIM no unit waits for another, so they can
/// run one after the other over all batches; the result is the sequential engine's.
#[test]
fn units_built_from_a_bundle_and_returned_as_bytes_give_the_sequential_result() {
    use locolab::checkpoint::{read_bundle, Contents};
    use locolab::worker::{Activation, Incoming, Need, Outgoing, UnitWorker};
    single_threaded(|| {
        let c = cfg(MethodKind::Gim);
        let mut seq = Trainer::new(c.clone(), common::cifar(), &Device::flex()).unwrap();
        let mut page = Trainer::new(c, common::cifar(), &Device::flex()).unwrap();
        seq.step().unwrap();
        page.step().unwrap();
        seq.run(4, |_| {}).unwrap();
        let bundle = page.snapshot(Contents::Full).and_then(|s| s.to_bundle()).unwrap();
        let mut inputs: Vec<Activation> = (0..4).map(|b| Activation::from(page.batch_views(1 + b))).collect();
        let mut records = Vec::new();
        for u in 0..page.plan().units.len() {
            let mut w = UnitWorker::from_snapshot(&read_bundle(&bundle, "test bundle").unwrap(), u, &Device::flex()).unwrap();
            let mut next = Vec::new();
            let mut ended = false;
            for input in inputs.into_iter().map(Some).chain([None]) {
                assert_eq!(w.need(), Need::Input);
                let msg = input.map_or(Incoming::End, Incoming::Input);
                w.give(msg, &mut |out| {
                    match out {
                        Outgoing::Activation(a) => next.push(a),
                        Outgoing::End => ended = true,
                        _ => {}
                    }
                    Ok(())
                })
                .unwrap();
            }
            assert_eq!(w.need(), Need::Done);
            assert!(ended, "unit {u} passes the end on");
            // A message after the end is refused in one line.
            let late = w.give(Incoming::End, &mut |_| Ok(())).unwrap_err().to_string();
            assert!(late.contains("waits for Done") && !late.contains('\n'), "{late}");
            inputs = next;
            records.push(w.finish_record().unwrap());
        }
        page.adopt_unit_records(records, 4).unwrap();
        assert_eq!(page.step_count(), 5);
        assert!(values(seq.network()) == values(page.network()), "parameters differ from the sequential run");
        assert!(features(&seq) == features(&page), "running statistics differ from the sequential run");
        assert_eq!(seq.step().unwrap().losses, page.step().unwrap().losses, "the step after");
    });
}

/// Natively a step runs on the first thread of rayon's pool (`parallel::on_pool_thread`), where
/// its serial work shares the pool instead of handing every kernel in from outside: the same
/// arithmetic on another thread, so the same losses and parameters as a step started inside the
/// pool (the old placement's figures are held by tests/recipe.rs's replay of the published step).
#[cfg(feature = "threads")]
#[test]
fn a_step_runs_on_the_pools_first_thread_and_computes_what_it_computes_inside_the_pool() {
    use locolab::parallel::on_pool_thread;
    let first = if rayon::current_num_threads() > 1 { Some(0) } else { None };
    assert_eq!(on_pool_thread(rayon::current_thread_index), first, "from outside the pool");
    // Inside a pool it runs in place, on whichever thread called it.
    let inside = rayon::scope(|_| (rayon::current_thread_index(), on_pool_thread(rayon::current_thread_index)));
    assert_eq!(inside.0, inside.1, "inside the pool");
    assert!(inside.1.is_some());
    for method in [MethodKind::Simclr, MethodKind::Loco] {
        let c = cfg(method);
        let mut outside = Trainer::new(c.clone(), common::cifar(), &Device::flex()).unwrap();
        let mut pooled = Trainer::new(c, common::cifar(), &Device::flex()).unwrap();
        let want: Vec<_> = outside.run(2, |_| {}).unwrap().into_iter().map(|r| r.losses).collect();
        let got: Vec<_> = rayon::scope(|_| pooled.run(2, |_| {})).unwrap().into_iter().map(|r| r.losses).collect();
        assert_eq!(want, got, "{method:?} losses");
        assert!(values(outside.network()) == values(pooled.network()), "{method:?} parameters");
        // BatchNorm's running statistics keep a pending update per thread (docs/design.md):
        // read here, on the test's thread, they hold what the pool's threads wrote.
        assert!(features(&outside) == features(&pooled), "{method:?} running statistics");
    }
}
