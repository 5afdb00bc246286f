// Benchmark: seconds per training step of each method in headless Chromium, on the CPU (wasm)
// and WebGPU backends, through the real page training continuously (Start; the wall time between
// the page's step counter changes, so the page's own per-step work is in it: 5-7 ms). Prints a
// markdown table.
// On the CPU, each thread count in `threads` (1: the single-thread build; more: the threaded
// build, rayon's pool of Web Workers) side by side.
//
// With a native binary (`native=PATH`, e.g. $CARGO_TARGET_DIR/release/locolab), the same step
// natively (`locolab bench --preset browser`, RAYON_NUM_THREADS = the page's thread count) runs
// right after each page measurement, and `rounds` repeats the whole sweep: this machine's speed
// drifts by 20% between minutes, so page / native ratios come from interleaved pairs, never from
// runs minutes apart. The table then gives medians over rounds and the ratios issue 21 asks for.
// Usage: scripts/build-web.sh && node bench/browser-step.mjs [batch=32] [steps=5] [backends=cpu,webgpu] [threads=1] [native=PATH] [rounds=1]
import { execFileSync } from 'node:child_process';
import { openBrowser, openPage, trainSteps, median } from './chromium.mjs';

const batch = Number(process.argv[2] || 32);
const steps = Number(process.argv[3] || 5);
const backends = (process.argv[4] || 'cpu,webgpu').split(',');
const threadCounts = (process.argv[5] || '1').split(',').map(Number);
const native = process.argv[6] || '';
const rounds = Number(process.argv[7] || 1);
const methods = ['simclr', 'gim', 'loco'];

const nativeStep = (method, threads) => {
  const out = execFileSync(native, ['bench', '--preset', 'browser', '--arch', 'presnet-tiny', '--batch', String(batch),
    '--steps', String(steps), '--methods', method, '--json'], { env: { ...process.env, RAYON_NUM_THREADS: String(threads) }, stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(out)[0].median_step_seconds;
};

const b = await openBrowser();
const results = new Map(); // "backend|threads|method" -> { page: [...], native: [...] }
try {
  for (let round = 0; round < rounds; round++) {
    for (const [backend, threads] of backends.flatMap((be) => (be === 'cpu' ? threadCounts.map((t) => [be, t]) : [[be, 1]]))) {
      for (const method of methods) {
        // No monitor point or autosave inside the timed steps.
        const page = await openPage(b, `methods=${method}&backend=${backend}&batch=${batch}&preset=browser&threads=${threads}&monitor=100000&autosave=0`);
        const used = await page.locator('#backend-used').textContent();
        const usedThreads = await page.locator('#threads-used').textContent();
        const secs = await trainSteps(page, 1, steps);
        await page.close();
        const key = `${used}|${usedThreads}|${method}`;
        if (!results.has(key)) results.set(key, { page: [], native: [] });
        results.get(key).page.push(median(secs));
        if (native && used === 'cpu') results.get(key).native.push(nativeStep(method, Number(usedThreads)));
      }
    }
  }
} finally {
  await b.close();
}

const fmt = (xs) => xs.map((x) => x.toFixed(3)).join(', ');
console.log(`batch ${batch}, median of ${steps} steps after 1 warm-up per page, ${rounds} round(s)${native ? `; native: ${native}` : ''}\n`);
console.log(`| backend | threads | method | page s/step (median over rounds) | page images/s |${native ? ' native s/step | page / native time | rounds: page; native |' : ''}`);
console.log(`|---|---|---|---|---|${native ? '---|---|---|' : ''}`);
for (const [key, r] of results) {
  const [backend, threads, method] = key.split('|');
  const p = median(r.page);
  let row = `| ${backend} | ${threads} | ${method} | ${p.toFixed(3)} | ${(batch / p).toFixed(1)} |`;
  if (native) row += r.native.length ? ` ${median(r.native).toFixed(3)} | ${(p / median(r.native)).toFixed(2)}x | ${fmt(r.page)}; ${fmt(r.native)} |` : ' | | |';
  console.log(row);
}
// Thread scaling, page and native, for every pair of thread counts measured.
if (threadCounts.length > 1 && results.size) {
  const one = threadCounts[0];
  console.log(`\n| method | threads | page speed-up over ${one} thread | native speed-up over ${one} thread | page / native images/s at this count |`);
  console.log('|---|---|---|---|---|');
  for (const method of methods) {
    const base = results.get(`cpu|${one}|${method}`);
    for (const t of threadCounts.slice(1)) {
      const r = results.get(`cpu|${t}|${method}`);
      if (!base || !r) continue;
      const ps = median(base.page) / median(r.page);
      const ns = native ? (median(base.native) / median(r.native)).toFixed(2) + 'x' : '';
      const pn = native ? (median(r.native) / median(r.page)).toFixed(2) : '';
      console.log(`| ${method} | ${t} | ${ps.toFixed(2)}x | ${ns} | ${pn} |`);
    }
  }
}
