// A group of consecutive local units of a parallel run (the page's "units in parallel"): its
// own wasm instance (the CPU build), each unit with its own modules and optimizer. Units in
// other groups are reached over MessagePorts; units in this group over in-worker queues, their
// loops interleaving at every wait, so one worker per core serves any number of units.
//
// The protocol lives in Rust (src/worker/): each unit says what it needs next (`need()`), this
// file fetches it from the right port and routes what the unit sends. Nothing here knows the
// order of a batch.
const wasm = import('../pkg-cpu/locolab.js').then(async (mod) => {
  await mod.default();
  return mod;
});

// Messages arrive in order per port; `inbox(port)(...kinds)` hands out the first that has
// arrived of those kinds, waiting when none has yet.
function inbox(port) {
  const queue = [];
  let waiting = null; // {kinds, resolve}
  port.onmessage = (e) => {
    if (waiting?.kinds.includes(e.data.kind)) {
      const { resolve } = waiting;
      waiting = null;
      resolve(e.data);
    } else {
      queue.push(e.data);
    }
  };
  return (...kinds) => {
    const at = queue.findIndex((m) => kinds.includes(m.kind));
    if (at >= 0) return Promise.resolve(queue.splice(at, 1)[0]);
    return new Promise((resolve) => { waiting = { kinds, resolve }; });
  };
}

// Two ends of a link between units of this worker, with a MessagePort's interface.
function localLink() {
  const a = { onmessage: null };
  const b = { onmessage: null };
  a.postMessage = (data) => b.onmessage({ data });
  b.postMessage = (data) => a.onmessage({ data });
  return [a, b];
}

self.onmessage = async (e) => {
  const msg = e.data;
  if (msg.cmd !== 'run') return;
  try {
    await runGroup(msg);
  } catch (err) {
    let panic;
    try { panic = (await wasm).takePanic(); } catch { /* a trapped instance */ }
    self.postMessage({ kind: 'error', error: panic ?? String(err?.message ?? err) });
  }
};

// Units `first..first+count` of the trainer in `bundle`, until the end of the run comes up from
// below; `lower`/`upper` link the group's bottom and top units to the neighbouring groups,
// `feed` brings the views (and the end) to unit 0.
async function runGroup({ bundle, first, count, lower, upper, feed }) {
  const mod = await wasm;
  const bytes = new Uint8Array(bundle);
  const runners = [];
  for (let k = 0; k < count; k++) runners.push(mod.UnitRunner.create(bytes, first + k));
  const links = Array.from({ length: count - 1 }, localLink);
  self.postMessage({ kind: 'ready' });
  const loops = runners.map((runner, k) => unit(runner, {
    feed: first + k === 0 ? feed : null,
    lower: k === 0 ? lower : links[k - 1][1],
    upper: k === count - 1 ? upper : links[k][0],
  }));
  const parts = await Promise.all(loops);
  const transfer = parts.flatMap((p) => [p.model.buffer, p.optim.buffer]);
  self.postMessage({ kind: 'done', first, parts }, transfer);
}

async function unit(runner, { feed, lower, upper }) {
  const fromFeed = feed ? inbox(feed) : null;
  const fromLower = lower ? inbox(lower) : null;
  const fromUpper = upper ? inbox(upper) : null;
  const send = (m) => {
    if (m.to === 'page') self.postMessage({ kind: 'report', report: m.report });
    else if (m.kind === 'end') upper?.postMessage(m); // the top unit's end goes nowhere
    else (m.to === 'upper' ? upper : lower).postMessage(m, [m.values.buffer]);
  };
  for (let need = runner.need(); need !== 'done'; need = runner.need()) {
    if (need === 'input') {
      const input = fromFeed ? await fromFeed('views', 'end') : await fromLower('act', 'end');
      if (input.kind === 'end') {
        runner.giveEnd(send);
        continue;
      }
      runner.giveInput(input.values, input.shape, send);
      // Let the other units of this worker (and incoming messages) run between batches.
      await new Promise((r) => setTimeout(r, 0));
    } else if (need === 'lower') {
      const m = await fromLower('grad', 'end');
      if (m.kind === 'end') runner.giveEnd(send);
      else runner.giveGrad(false, m.values, m.present, send);
    } else {
      const m = await fromUpper('grad');
      runner.giveGrad(true, m.values, m.present, send);
    }
  }
  const part = runner.finish();
  runner.free();
  return part;
}
