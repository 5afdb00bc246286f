// Units in parallel: a trainer's local units in groups of consecutive units, one Web Worker
// (unit-worker.js) each, messages between neighbours over MessagePorts. The protocol is the
// core's (UnitWorker, src/worker/); this only starts the workers and carries the messages.
// At most one worker per core (navigator.hardwareConcurrency): GIM's six units on two cores
// run as two groups of three. Workers are kept between runs and replaced after a failure.
let pool = [];
function unitWorkers(n) {
  while (pool.length < n) pool.push(new Worker(new URL('./unit-worker.js', import.meta.url), { type: 'module' }));
  return pool.slice(0, n);
}
function dropPool() {
  pool.forEach((w) => w.terminate());
  pool = [];
}

// `steps` steps of `l` with its units in parallel, starting from its current state (a bundle,
// the same bytes as Save); the trainer takes the result only if every unit finished. Resolves
// to {reports, seconds, imagesPerSec, workers} (seconds: from the moment every unit was ready).
export async function stepParallel(l, steps) {
  const plan = l.parallelPlan();
  const bundle = l.save();
  const n = plan.units;
  const groups = Math.max(1, Math.min(n, navigator.hardwareConcurrency || 1));
  const sizes = Array.from({ length: groups }, (_, g) => Math.floor(n / groups) + (g < n % groups ? 1 : 0));
  const workers = unitWorkers(groups);
  const links = Array.from({ length: groups - 1 }, () => new MessageChannel());
  const feed = new MessageChannel();
  const batch = l.config.batch;
  const collector = l.collector(steps);
  return await new Promise((resolve, reject) => {
    const reports = [];
    const parts = [];
    let ready = 0, finished = 0, started = 0, failedAlready = false;
    const fail = (error) => {
      if (failedAlready) return;
      failedAlready = true;
      dropPool();
      collector.free();
      reject(new Error(error));
    };
    workers.forEach((w, g) => {
      w.onerror = (e) => fail(`a unit worker failed: ${e.message}`);
      w.onmessage = (e) => {
        const m = e.data;
        if (m.kind === 'error') return fail(m.error);
        if (m.kind === 'ready' && ++ready === groups) {
          started = performance.now();
          collector.start();
          for (let b = 0; b < steps; b++) {
            const v = l.viewsAhead(b);
            feed.port1.postMessage({ kind: 'views', ...v }, [v.values.buffer]);
          }
        }
        if (m.kind === 'report') {
          try {
            reports.push(...collector.add(m.report));
          } catch (err) {
            return fail(String(err?.message ?? err));
          }
        }
        if (m.kind === 'done') {
          m.parts.forEach((p, k) => { parts[m.first + k] = p; });
          if (++finished === groups) {
            const seconds = (performance.now() - started) / 1000;
            try {
              l.adoptUnits(parts.map((p) => p.model), parts.map((p) => p.optim), steps);
            } catch (err) {
              return fail(String(err?.message ?? err));
            }
            collector.free();
            resolve({ reports, seconds, imagesPerSec: (steps * batch) / seconds, workers: groups });
          }
        }
      };
      const firstUnit = sizes.slice(0, g).reduce((a, b) => a + b, 0);
      const lower = g > 0 ? links[g - 1].port2 : null;
      const upper = g < groups - 1 ? links[g].port1 : null;
      const feedPort = g === 0 ? feed.port2 : null;
      w.postMessage(
        { cmd: 'run', bundle: bundle.slice().buffer, first: firstUnit, count: sizes[g], steps, lower, upper, feed: feedPort },
        [lower, upper, feedPort].filter(Boolean),
      );
    });
  });
}
