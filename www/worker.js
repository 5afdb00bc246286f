// The trainer runs here, off the page's main thread, so the UI never freezes.
// One Lab (model + optimizer) per method; the page asks for steps in turns.
import init, { Lab, presets, configLimits, methods, lenientSettings, takePanic, debugPanic, evaluateCheckpoint } from '../pkg/locolab.js';

const ready = init();
const labs = new Map();
let data = null;

async function handle(msg) {
  await ready;
  switch (msg.cmd) {
    case 'meta':
      return { presets: presets(), limits: configLimits(), methods: methods(), settings: lenientSettings(msg.settings ?? []) };
    case 'data':
      data = { train: new Uint8Array(msg.train), test: new Uint8Array(msg.test ?? new ArrayBuffer(0)) };
      return { ok: true };
    case 'create': {
      if (!data) throw new Error('no CIFAR-10 data loaded yet');
      const old = labs.get(msg.method);
      if (old) old.free();
      labs.delete(msg.method);
      const lab = await Lab.create(msg.config, msg.backend, data.train, data.test);
      labs.set(msg.method, lab);
      return { backend: lab.backend, backendNote: lab.backendNote, units: lab.units, config: lab.config };
    }
    case 'save': {
      const bytes = lab(msg.method).save();
      return { bytes, step: lab(msg.method).stepCount };
    }
    case 'restore': {
      // Built first, swapped in only if it loaded: a refused file leaves training untouched.
      if (!data) throw new Error('no CIFAR-10 data loaded yet');
      const made = await Lab.restore(new Uint8Array(msg.bytes), msg.name, msg.pageConfig, msg.backend, data.train, data.test);
      const method = made.config.method;
      labs.get(method)?.free();
      labs.set(method, made);
      return { method, backend: made.backend, backendNote: made.backendNote, units: made.units, config: made.config, step: made.stepCount, imagesSeen: made.imagesSeen };
    }
    case 'evaluate-checkpoint':
      if (!data) throw new Error('no CIFAR-10 data loaded yet');
      return await evaluateCheckpoint(msg.state, new Uint8Array(msg.model), msg.name, msg.backend, data.train, data.test, msg.nTrain, msg.nTest);
    case 'step':
      return await lab(msg.method).step();
    case 'evaluate':
      return await lab(msg.method).evaluate(msg.nTrain, msg.nTest);
    case 'views':
      return lab(msg.method).views(msg.count);
    case 'debug-panic':
      return debugPanic(msg.message ?? 'a panic requested by a test');
    default:
      throw new Error(`unknown command ${msg.cmd}`);
  }
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
      const panic = safeTakePanic();
      const error = panic ?? String(err?.message ?? err);
      const fatal = panic !== undefined || err instanceof WebAssembly.RuntimeError || error.startsWith('device error');
      self.postMessage({ id, ok: false, fatal, error });
    }
  });
};

function safeTakePanic() {
  try { return takePanic(); } catch { return undefined; }
}
