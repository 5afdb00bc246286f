// Benchmark: the same training step (presnet-tiny, SimCLR / GIM / LoCo) in TensorFlow.js 4.x
// on each of its backends and in LoCo Lab's page, in ONE headless Chromium run; prints s/step
// and each row's time relative to LoCo Lab's CPU (wasm) step. A benchmark: CI does not run it.
// Usage: (cd bench/tfjs && npm install) && scripts/build-web.sh &&
//        node bench/tfjs/run.mjs [batch=32] [steps=5] [tfjs backends=wasm,cpu,webgl,webgpu] [ours=cpu,webgpu]
// `ours` entries may name the page's threads: cpu@1 (the single-thread build), cpu@2, ...; plain
// `cpu` takes the page's default (every core the browser reports).
import { openBrowser, openPage, stepTo, median } from '../chromium.mjs';

const batch = Number(process.argv[2] || 32);
const steps = Number(process.argv[3] || 5);
const tfBackends = (process.argv[4] || 'wasm,cpu,webgl,webgpu').split(',');
const ourBackends = (process.argv[5] || 'cpu,webgpu').split(',');
const methods = ['simclr', 'gim', 'loco'];
const b = await openBrowser({ swiftshader: true });
const browser = b.browser;
const rows = [];
try {
  // LoCo Lab's page, one method at a time (as bench/browser-step.mjs).
  for (const entry of ourBackends) {
    const [backend, threads] = entry.split('@');
    for (const method of methods) {
      const page = await openPage(b, `methods=${method}&backend=${backend}&batch=${batch}&preset=browser&monitor=100000&autosave=0${threads ? `&threads=${threads}` : ''}`);
      let used = await page.locator('#backend-used').textContent();
      if (used === 'cpu') used += ` (${await page.locator('#threads-used').textContent()} threads)`;
      const secs = [];
      for (let i = 0; i <= steps; i++) {
        await stepTo(page, i + 1);
        if (i > 0) secs.push(batch / Number(await page.locator('#speed').textContent()));
      }
      rows.push({ who: 'LoCo Lab (burn, wasm)', backend: used, method, s: median(secs) });
      await page.close();
    }
  }
  // TensorFlow.js, one backend and method at a time, each in a fresh page.
  for (const backend of tfBackends) {
    for (const method of methods) {
      const page = await browser.newPage();
      await page.goto(b.url("bench/tfjs/index.html"));
      await page.waitForFunction(() => document.getElementById('status').textContent === 'ready', null, { timeout: 120_000 });
      // The plain-JS cpu backend is slow: fewer steps.
      const n = backend === 'cpu' ? Math.min(steps, 2) : steps;
      try {
        const r = await page.evaluate(([b, m, bs, k]) => window.bench(b, m, bs, k), [backend, method, batch, n]);
        rows.push({ who: `TF.js ${r.version}${r.info ? ` (${r.info})` : ''}`, backend, method, s: r.median });
      } catch (e) {
        rows.push({ who: 'TF.js', backend, method, s: null, error: String(e.message ?? e).split('\n')[0].slice(0, 120) });
      }
      await page.close();
    }
  }
} finally {
  await b.close();
}
// The reference row per method: our first CPU entry.
const ours = {};
for (const r of rows) if (r.who.startsWith('LoCo') && r.backend.startsWith('cpu') && !(r.method in ours)) ours[r.method] = r.s;
console.log(`presnet-tiny, batch ${batch}, median of ${steps} steps after one warm-up (TF.js cpu: ${Math.min(steps, 2)}), headless Chromium`);
console.log('| library | backend | method | s/step | images/s | time vs LoCo Lab cpu |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  if (r.s == null) { console.log(`| ${r.who} | ${r.backend} | ${r.method} | failed: ${r.error} | | |`); continue; }
  const ratio = ours[r.method] ? `${(r.s / ours[r.method]).toFixed(2)}x` : '';
  console.log(`| ${r.who} | ${r.backend} | ${r.method} | ${r.s.toFixed(3)} | ${(batch / r.s).toFixed(1)} | ${ratio} |`);
}
