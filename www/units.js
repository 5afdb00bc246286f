// Units in parallel: a trainer's local units in groups of consecutive units, one Web Worker
// (unit-worker.js) each, messages between neighbours over MessagePorts. The protocol is the
// core's (UnitWorker, src/worker/); this only starts the workers and carries the messages.
// At most one worker per core (navigator.hardwareConcurrency): GIM's six units on two cores
// run as two groups of three.
//
// A run starts from the trainer's state (its bundle); its units stay resident in their workers
// for as many chunks as the caller advances it, each chunk feeding more views, until it ends
// (the units' weights and optimizer state go back into the trainer). worker.js decides when:
// before anything that needs the trainer itself (a monitor point, an autosave, a save, a
// sequential step, a new trainer). Each method has its own workers, so methods trained in
// turns all stay warm.

const pools = new Map(); // method -> Worker[]

function workersFor(method, n) {
  const pool = pools.get(method) ?? [];
  while (pool.length < n) pool.push(new Worker(new URL('./unit-worker.js', import.meta.url), { type: 'module' }));
  pools.set(method, pool);
  return pool.slice(0, n);
}

// The workers of `method`, ended: after a failure (their instances may be trapped) or when
// the run is abandoned mid-way (a new trainer replaces the one they ran).
function dropWorkers(method) {
  (pools.get(method) ?? []).forEach((w) => w.terminate());
  pools.delete(method);
}

export class UnitRun {
  // Starts `method`'s units from `l`'s current state; resolves once every group is ready.
  static async start(method, l) {
    const run = new UnitRun(method, l);
    await run.ready;
    return run;
  }

  constructor(method, l) {
    const plan = l.parallelPlan();
    const bundle = l.save();
    const n = plan.units;
    this.method = method;
    this.lab = l;
    this.groups = Math.max(1, Math.min(n, navigator.hardwareConcurrency || 1));
    this.batch = l.config.batch;
    this.collector = l.collector();
    this.steps = 0; // steps fed (and, between chunks, completed) since the run started
    this.reports = [];
    this.waiting = null; // {count, resolve} of the chunk in flight
    this.failure = null;
    const sizes = Array.from({ length: this.groups }, (_, g) => Math.floor(n / this.groups) + (g < n % this.groups ? 1 : 0));
    const workers = workersFor(method, this.groups);
    const links = Array.from({ length: this.groups - 1 }, () => new MessageChannel());
    const feed = new MessageChannel();
    this.feed = feed.port1;
    const parts = [];
    let ready = 0, finished = 0;
    let readyNow, endedNow;
    this.ready = new Promise((resolve, reject) => { readyNow = resolve; this.rejectReady = reject; });
    this.ended = new Promise((resolve, reject) => { endedNow = resolve; this.rejectEnded = reject; });
    this.ended.catch(() => {}); // read by end(); a failure before it is reported by the chunk
    workers.forEach((w, g) => {
      w.onerror = (e) => this.fail(`a unit worker failed: ${e.message}`);
      w.onmessage = (e) => {
        const m = e.data;
        if (m.kind === 'error') return this.fail(m.error);
        if (m.kind === 'ready' && ++ready === this.groups) readyNow();
        if (m.kind === 'report') {
          try {
            this.reports.push(...this.collector.add(m.report));
          } catch (err) {
            return this.fail(String(err?.message ?? err));
          }
          if (this.waiting && this.reports.length >= this.waiting.count) {
            const { resolve } = this.waiting;
            this.waiting = null;
            resolve();
          }
        }
        if (m.kind === 'done') {
          m.parts.forEach((p, k) => { parts[m.first + k] = p; });
          if (++finished === this.groups) endedNow(parts);
        }
      };
      const firstUnit = sizes.slice(0, g).reduce((a, b) => a + b, 0);
      const lower = g > 0 ? links[g - 1].port2 : null;
      const upper = g < this.groups - 1 ? links[g].port1 : null;
      const feedPort = g === 0 ? feed.port2 : null;
      w.postMessage(
        { cmd: 'run', bundle: bundle.slice().buffer, first: firstUnit, count: sizes[g], lower, upper, feed: feedPort },
        [lower, upper, feedPort].filter(Boolean),
      );
    });
  }

  fail(error) {
    if (this.failure) return;
    this.failure = error;
    dropWorkers(this.method);
    this.collector.free();
    const e = new Error(error);
    this.rejectReady(e);
    this.rejectEnded(e);
    this.waiting?.reject(e);
    this.waiting = null;
  }

  // `steps` more steps; resolves to {reports, seconds, images_per_sec, workers} of this chunk
  // (seconds: from the first views fed to the last step completed).
  // The units never run ahead of the chunk: it feeds exactly its own steps and waits for them,
  // so a chunk's images/s is its own and a run can always end at the step the page shows.
  async advance(steps) {
    if (this.failure) throw new Error(this.failure);
    const started = performance.now();
    this.collector.start();
    const done = new Promise((resolve, reject) => { this.waiting = { count: steps, resolve, reject }; });
    // The trainer's step has not moved since the run started: views are counted from there.
    for (let b = 0; b < steps; b++) {
      const v = this.lab.viewsAhead(this.steps + b);
      this.feed.postMessage({ kind: 'views', ...v }, [v.values.buffer]);
    }
    await done;
    this.steps += steps;
    const reports = this.reports.splice(0);
    const seconds = (performance.now() - started) / 1000;
    return { reports, seconds, images_per_sec: (steps * this.batch) / seconds, workers: this.groups };
  }

  // Ends the run: every unit finishes the steps it was fed, and the trainer takes their
  // weights and optimizer state (nothing changes in it if any unit failed).
  async end() {
    if (this.failure) throw new Error(this.failure);
    this.feed.postMessage({ kind: 'end' });
    const parts = await this.ended;
    try {
      this.lab.adoptUnits(parts.map((p) => p.model), parts.map((p) => p.optim), this.steps);
    } finally {
      this.collector.free();
    }
  }

  // Leaves the run without taking its result (its trainer is being replaced).
  abandon() {
    if (this.failure) return;
    this.failure = 'abandoned';
    dropWorkers(this.method);
    this.collector.free();
  }
}
