// The trainer runs here, off the page's main thread, so the UI never freezes.
// One Lab (model + optimizer) per method; the page asks for steps in turns.
//
// The core comes in two builds: pkg-cpu/ (burn's flex CPU backend only: small, loaded first,
// serves every page on the CPU path) and pkg/ (flex + WebGPU, loaded only when the page trains
// on WebGPU). Which one a trainer uses is the core's choice (browserBackend), from the
// preference and what this browser's adapter says of itself.
const BUILDS = { cpu: '../pkg-cpu/locolab.js', webgpu: '../pkg/locolab.js' };
const loaded = {}; // build -> module (initialised)
async function load(build) {
  if (!loaded[build]) {
    const mod = await import(BUILDS[build]);
    await mod.default();
    loaded[build] = mod;
  }
  return loaded[build];
}
const ready = load('cpu');

let adapter = null;
// Facts about the WebGPU adapter, gathered once; the core judges them.
async function adapterFacts() {
  if (adapter) return adapter;
  adapter = { present: false };
  try {
    const a = await navigator.gpu?.requestAdapter();
    if (a) {
      const info = a.info ?? {};
      adapter = {
        present: true,
        is_fallback: Boolean(info.isFallbackAdapter ?? a.isFallbackAdapter),
        vendor: info.vendor ?? '', architecture: info.architecture ?? '', description: info.description ?? '',
      };
    }
  } catch { /* no WebGPU here: the CPU path */ }
  return adapter;
}

// The build and backend for a preference (auto, webgpu, cpu), with the core's reason.
async function backendFor(pref) {
  const cpu = await ready;
  const choice = cpu.browserBackend(pref, await adapterFacts());
  return { mod: await load(choice.backend), backend: choice.backend, note: choice.note };
}

const labs = new Map(); // method -> Lab (of whichever build made it)
let data = null;
let current = null; // the build the last trainer was made with

function keep(method, lab, mod) {
  labs.get(method)?.free();
  labs.set(method, lab);
  current = mod;
}
function described(lab, note) {
  return { backend: lab.backend, backendNote: note || lab.backendNote, units: lab.units, config: lab.config, step: lab.stepCount, imagesSeen: lab.imagesSeen };
}

async function handle(msg) {
  const cpu = await ready;
  switch (msg.cmd) {
    case 'meta':
      return { presets: cpu.presets(), knobs: cpu.knobs(), methods: cpu.methods(), randomInit: cpu.randomInitStyle(), settings: cpu.lenientSettings(msg.settings ?? []) };
    case 'summarise':
      return cpu.summarise(msg.results);
    case 'data':
      data = { train: new Uint8Array(msg.train), test: new Uint8Array(msg.test ?? new ArrayBuffer(0)) };
      return { ok: true };
    case 'create': {
      if (!data) throw new Error('no CIFAR-10 data loaded yet');
      labs.get(msg.method)?.free();
      labs.delete(msg.method);
      const { mod, backend, note } = await backendFor(msg.backend);
      const lab = await mod.Lab.create(msg.config, backend, data.train, data.test);
      keep(msg.method, lab, mod);
      return described(lab, note);
    }
    case 'save': {
      const bytes = lab(msg.method).save();
      return { bytes, step: lab(msg.method).stepCount };
    }
    case 'restore': {
      // Built first, swapped in only if it loaded: a refused file leaves training untouched.
      if (!data) throw new Error('no CIFAR-10 data loaded yet');
      const { mod, backend, note } = await backendFor(msg.backend);
      const made = await mod.Lab.restore(new Uint8Array(msg.bytes), msg.name, msg.pageConfig, backend, data.train, data.test);
      const method = made.config.method;
      keep(method, made, mod);
      return { method, ...described(made, note) };
    }
    case 'evaluate-checkpoint': {
      if (!data) throw new Error('no CIFAR-10 data loaded yet');
      const { mod, backend } = await backendFor(msg.backend);
      return await mod.evaluateCheckpoint(msg.state, new Uint8Array(msg.model), msg.name, backend, data.train, data.test, msg.nTrain, msg.nTest);
    }
    case 'step':
      return await lab(msg.method).step();
    case 'step-parallel':
      return await stepParallel(lab(msg.method), msg.steps);
    case 'evaluate':
      return await lab(msg.method).evaluate(msg.nTrain, msg.nTest);
    case 'views':
      return lab(msg.method).views(msg.count);
    case 'debug-panic':
      return (current ?? cpu).debugPanic(msg.message ?? 'a panic requested by a test');
    default:
      throw new Error(`unknown command ${msg.cmd}`);
  }
}

// ---- units in parallel: groups of consecutive units, one Web Worker each ----
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
async function stepParallel(l, steps) {
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

function lab(method) {
  const l = labs.get(method);
  if (!l) throw new Error(`no trainer for ${method}; press Reset`);
  return l;
}

// Messages are handled one at a time: a Lab must not be used by two steps at once.
let queue = Promise.resolve();
self.onmessage = (e) => {
  const { id, ...msg } = e.data;
  queue = queue.then(async () => {
    try {
      self.postMessage({ id, ok: true, value: await handle(msg) });
    } catch (err) {
      // A panic (or an out-of-memory abort) traps the wasm instance: nothing in it can be
      // trusted any more, so the page is told to replace this worker. A device error (a lost
      // WebGPU device, a failed read-back) leaves the module sound but the device unusable:
      // the page offers the CPU path in the same way.
      const panic = takePanic();
      const error = panic ?? String(err?.message ?? err);
      const fatal = panic !== undefined || err instanceof WebAssembly.RuntimeError || error.startsWith('device error');
      self.postMessage({ id, ok: false, fatal, error });
    }
  });
};

function takePanic() {
  for (const mod of Object.values(loaded)) {
    try {
      const p = mod.takePanic();
      if (p !== undefined) return p;
    } catch { /* a trapped instance */ }
  }
  return undefined;
}
