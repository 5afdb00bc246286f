// A group of consecutive local units of a parallel run (the page's "units in parallel"): its
// own wasm instance (the CPU build), each unit with its own modules and optimizer. Units in
// other groups are reached over MessagePorts; units in this group over in-worker queues, their
// loops interleaving at every wait, so one worker per core serves any number of units.
//
// Each unit follows the library's schedule (src/method/pipeline.rs): per batch, forward
// (activation up), backward (shared-stage gradients down and up), settle the shared top stage
// with the unit above's gradient, settle the owned bottom stage with the unit below's.
const wasm = import('../pkg-cpu/locolab.js').then(async (mod) => {
  await mod.default();
  return mod;
});

// Messages arrive in order per port; `inbox(port)` hands them out by kind, waiting when none
// has arrived yet.
function inbox(port) {
  const queues = {};
  const waiting = {};
  port.onmessage = (e) => {
    const { kind } = e.data;
    if (waiting[kind]?.length) waiting[kind].shift()(e.data);
    else (queues[kind] ??= []).push(e.data);
  };
  return (kind) => (queues[kind]?.length ? Promise.resolve(queues[kind].shift()) : new Promise((r) => (waiting[kind] ??= []).push(r)));
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

// Units `first..first+count` of the trainer in `bundle`; `lower`/`upper` link the group's
// bottom and top units to the neighbouring groups, `feed` brings the views to unit 0.
async function runGroup({ bundle, first, count, steps, lower, upper, feed }) {
  const mod = await wasm;
  const bytes = new Uint8Array(bundle);
  const runners = [];
  for (let k = 0; k < count; k++) runners.push(mod.UnitRunner.create(bytes, first + k, steps));
  const links = Array.from({ length: count - 1 }, localLink);
  self.postMessage({ kind: 'ready' });
  const loops = runners.map((runner, k) => unit(runner, first + k, steps, {
    feed: first + k === 0 ? feed : null,
    lower: k === 0 ? lower : links[k - 1][1],
    upper: k === count - 1 ? upper : links[k][0],
  }));
  const parts = await Promise.all(loops);
  const transfer = parts.flatMap((p) => [p.model.buffer, p.optim.buffer]);
  self.postMessage({ kind: 'done', first, parts }, transfer);
}

async function unit(runner, j, steps, { feed, lower, upper }) {
  const fromFeed = feed ? inbox(feed) : null;
  const fromLower = lower ? inbox(lower) : null;
  const fromUpper = upper ? inbox(upper) : null;
  const shared = (m) => (m ? [m.values, m.present] : [undefined, undefined]);
  const send = (port, kind, m) => port.postMessage({ kind, ...m }, [m.values.buffer]);
  if (runner.sharesBottom) runner.settleBottom(...shared(await fromLower('grad')));
  for (let b = 0; b < steps; b++) {
    const input = fromFeed ? await fromFeed('views') : await fromLower('act');
    const act = runner.forward(input.values, input.shape);
    if (act) send(upper, 'act', act);
    const out = runner.backward();
    if (out.toUpper) send(upper, 'grad', out.toUpper);
    // The unit below stops after its last batch and needs none for ours.
    if (out.toLower && b + 1 < steps) send(lower, 'grad', out.toLower);
    if (runner.sharesTop) runner.settleTop(...shared(b === 0 ? null : await fromUpper('grad')));
    if (runner.sharesBottom) runner.settleBottom(...shared(b + 1 < steps ? await fromLower('grad') : null));
    self.postMessage({ kind: 'report', report: out.report });
    // Let the other units of this worker (and incoming messages) run between batches.
    await new Promise((r) => setTimeout(r, 0));
  }
  const part = runner.finish();
  runner.free();
  return part;
}
