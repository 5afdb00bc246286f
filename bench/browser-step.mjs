// Benchmark: seconds per training step of each method in headless Chromium, on the CPU (wasm)
// and WebGPU backends, through the real page (wall time per step). Prints a markdown table.
// On the CPU, each thread count in `threads` (1: the single-thread build; more: the threaded
// build, rayon's pool of Web Workers) side by side.
// Usage: scripts/build-web.sh && node bench/browser-step.mjs [batch=32] [steps=5] [backends=cpu,webgpu] [threads=1]
import { openBrowser, openPage, stepTo, median } from './chromium.mjs';

const batch = Number(process.argv[2] || 32);
const steps = Number(process.argv[3] || 5);
const backends = (process.argv[4] || 'cpu,webgpu').split(',');
const threadCounts = (process.argv[5] || '1').split(',').map(Number);
const b = await openBrowser();
console.log(`| backend | threads | method | median s/step (batch ${batch}, ${steps} steps after 1 warm-up) | images/s |`);
console.log('|---|---|---|---|---|');
try {
  for (const [backend, threads] of backends.flatMap((be) => (be === 'cpu' ? threadCounts.map((t) => [be, t]) : [[be, 1]]))) {
    for (const method of ['simclr', 'gim', 'loco']) {
      const page = await openPage(b, `methods=${method}&backend=${backend}&batch=${batch}&preset=browser&threads=${threads}`);
      const used = await page.locator('#backend-used').textContent();
      const usedThreads = await page.locator('#threads-used').textContent();
      const secs = [];
      for (let i = 0; i <= steps; i++) {
        // Wall time of the click (the page's images/s has one decimal: too coarse for slow steps).
        const t = await stepTo(page, i + 1);
        if (i > 0) secs.push(t);
      }
      const s = median(secs);
      console.log(`| ${used} | ${usedThreads} | ${method} | ${s.toFixed(3)} | ${(batch / s).toFixed(1)} |`);
      await page.close();
    }
  }
} finally {
  await b.close();
}
