// Where the browser's CPU step spends its time: runs steps of one method in the real page with
// V8's sampling profiler on in every thread that trains (through the DevTools protocol) and
// prints the heaviest functions by self time (wasm ones by their Rust names) with their share of
// the samples.
//
// threads=1: the single-thread module (pkg-cpu/); the training runs in the page's worker.
// threads>1: the threaded module (pkg-mt/); the step runs on rayon's pool of Web Workers
// (wasm-bindgen-rayon's, started from blob: URLs), so every pool worker is profiled, each sample is marked busy or waiting
// (a thread that waits sits in the futex wait of rayon's sleep or a latch), and the step's wall
// time is split by how many threads were busy at once. The time with one busy thread is where the
// second core had nothing to do: its heaviest functions are printed too.
//
// Usage (names need a profiling build in place of the module the run loads):
//   LOCOLAB_WASM_OPT="-O -g" LOCOLAB_BUILDS=cpu,mt bash scripts/build-web.sh   # function names kept
//   node bench/browser-profile.mjs [method=loco] [batch=32] [steps=6] [top=25] [threads=1]
//   rm pkg-cpu/.stamp pkg-mt/.stamp && bash scripts/build-web.sh   # afterwards: the release modules back
import { openBrowser, openPage, stepTo } from './chromium.mjs';

const method = process.argv[2] || 'loco';
const batch = Number(process.argv[3] || 32);
const steps = Number(process.argv[4] || 6);
const top = Number(process.argv[5] || 25);
const threads = Number(process.argv[6] || 1);

const IDLE = new Set(['(idle)', '(program)']);
// Where a thread has no work: blocked in std's futex wait (memory.atomic.wait32, whose samples land
// in the Condvar's wait under rayon's sleep and its latches) or JavaScript's Atomics.wait, or
// spinning in rayon's idle loop before it sleeps (`wait_until_cold`).
const waiting = (name) => IDLE.has(name) || /futex_wait|atomic_wait|Condvar>::wait|wait_until_cold|^wait$|Atomics\.wait/.test(name);

const b = await openBrowser();
const profiles = [];
try {
  const page = await openPage(b, `methods=${method}&backend=cpu&batch=${batch}&preset=browser&threads=${threads}&monitor=100000&autosave=0`);
  await stepTo(page, 1); // warm-up, unprofiled
  const cdp = await b.browser.newBrowserCDPSession();
  const { targetInfos } = await cdp.send('Target.getTargets');
  const trainer = targetInfos.filter((t) => t.type === 'worker' && t.url.endsWith('/www/worker.js'));
  // wasm-bindgen-rayon starts its workers from blob: URLs.
  const pool = targetInfos.filter((t) => t.type === 'worker' && t.url.startsWith('blob:'));
  const targets = threads > 1 ? pool : trainer;
  if (!targets.length) throw new Error(`no ${threads > 1 ? 'pool' : 'training'} worker among ${targetInfos.map((t) => t.type + ' ' + t.url).join(', ')}`);
  if (threads > 1 && pool.length !== threads) throw new Error(`asked for ${threads} threads, found ${pool.length} pool workers`);
  let next = 1;
  const pending = new Map();
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const msg = JSON.parse(e.message);
    if (pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); }
  });
  const sessions = [];
  for (const t of targets) {
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: t.targetId, flatten: false });
    sessions.push((method, params = {}) => new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result)));
      cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) });
    }));
  }
  for (const send of sessions) {
    await send('Profiler.enable');
    await send('Profiler.setSamplingInterval', { interval: 200 });
  }
  for (const send of sessions) await send('Profiler.start');
  // Training continuously (Start), as a visitor does: no gaps of click latency between steps.
  await page.click('#start');
  await page.waitForFunction((k) => Number(document.getElementById('step-count').textContent) >= k, steps + 1, { timeout: 900_000 });
  for (const send of sessions) profiles.push((await send('Profiler.stop')).profile);
  await page.click('#start'); // stops
  await page.close();
} finally {
  await b.close();
}

// PROFILE_OUT=FILE keeps the raw profiles (one per thread) for another look.
if (process.env.PROFILE_OUT) (await import('node:fs')).writeFileSync(process.env.PROFILE_OUT, JSON.stringify(profiles));
const nameOf = (n) => n.callFrame.functionName || `(${n.callFrame.url.split('/').pop() || 'anonymous'})`;
const table = (title, counts, total) => {
  console.log(`\n${title}\n\n| self share | function |\n|---|---|`);
  for (const [name, hits] of [...counts].sort((a, c) => c[1] - a[1]).slice(0, top)) {
    console.log(`| ${(100 * hits / total).toFixed(1)}% | \`${name.replace(/\|/g, '\\|').slice(0, 120)}\` |`);
  }
};
const add = (map, k, v = 1) => map.set(k, (map.get(k) || 0) + v);

// Self samples per function name over every profiled thread.
const self = new Map();
let total = 0;
let idle = 0;
for (const p of profiles) {
  for (const n of p.nodes) {
    const hits = n.hitCount || 0;
    add(self, nameOf(n), hits);
    total += hits;
    if (waiting(nameOf(n))) idle += hits;
  }
}
console.log(`${method}, batch ${batch}, ${steps} steps on the CPU path, ${threads} thread(s): ${total} samples in ${profiles.length} profiled worker(s), ${(100 * idle / total).toFixed(1)}% waiting or idle`);
table('Every profiled thread, by self samples:', self, total);

if (profiles.length > 1) {
  // A timeline per thread: each sample's time and function, then 1 ms bins over the span all
  // threads were profiled; a bin is busy for a thread when most of its samples there are.
  // Each sample also carries its nearest caller in our code or burn's (which op ran serially).
  const ours = /^<?(locolab|burn_flex|burn_autodiff|burn_nn|burn_optim)\[/;
  const lines = profiles.map((p) => {
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map();
    for (const n of p.nodes) for (const c of n.children || []) parent.set(c, n.id);
    const caller = (id) => {
      for (let at = id; at != null; at = parent.get(at)) { const name = nameOf(byId.get(at)); if (ours.test(name)) return name; }
      return '(no caller of ours)';
    };
    let t = p.startTime;
    return { start: p.startTime, end: p.endTime, samples: p.samples.map((id, i) => ({ t: (t += p.timeDeltas[i]), name: nameOf(byId.get(id)), caller: caller(id) })) };
  });
  const from = Math.max(...lines.map((l) => l.start));
  const to = Math.min(...lines.map((l) => l.end));
  const bins = Math.floor((to - from) / 1000);
  const busy = lines.map((l) => {
    const up = new Array(bins).fill(0);
    const all = new Array(bins).fill(0);
    const names = Array.from({ length: bins }, () => new Map());
    const callers = Array.from({ length: bins }, () => new Map());
    for (const s of l.samples) {
      const k = Math.floor((s.t - from) / 1000);
      if (k < 0 || k >= bins) continue;
      all[k]++;
      if (!waiting(s.name)) { up[k]++; add(names[k], s.name); add(callers[k], s.caller); }
    }
    return { on: up.map((u, k) => all[k] > 0 && 2 * u > all[k]), names, callers };
  });
  const byCount = new Array(profiles.length + 1).fill(0);
  const serial = new Map();
  const serialCallers = new Map();
  let serialBins = 0;
  for (let k = 0; k < bins; k++) {
    const on = busy.filter((x) => x.on[k]);
    byCount[on.length]++;
    if (on.length === 1) {
      serialBins++;
      for (const [name, n] of on[0].names[k]) add(serial, name, n);
      for (const [name, n] of on[0].callers[k]) add(serialCallers, name, n);
    }
  }
  console.log(`\nWall time split by busy threads (${bins} bins of 1 ms):`);
  console.log('| busy threads | share of the wall time |\n|---|---|');
  byCount.forEach((n, c) => console.log(`| ${c} | ${(100 * n / bins).toFixed(1)}% |`));
  const serialSamples = [...serial.values()].reduce((a, c) => a + c, 0);
  table(`While exactly one thread was busy (${(100 * serialBins / bins).toFixed(1)}% of the wall time), that thread's functions:`, serial, serialSamples);
  table('The same samples by their nearest caller in our code or burn\'s (the op that ran on one thread):', serialCallers, serialSamples);
}
