// Benchmark: seconds per training step of each method in headless Chromium, on the CPU (wasm)
// and WebGPU backends, through the real page (wall time per step). Prints a markdown table.
// Usage: scripts/build-web.sh && node bench/browser-step.mjs [batch=32] [steps=5] [backends=cpu,webgpu]
import { openBrowser, openPage, stepTo, median } from './chromium.mjs';

const batch = Number(process.argv[2] || 32);
const steps = Number(process.argv[3] || 5);
const backends = (process.argv[4] || 'cpu,webgpu').split(',');
const b = await openBrowser();
console.log(`| backend | method | median s/step (batch ${batch}, ${steps} steps after 1 warm-up) | images/s |`);
console.log('|---|---|---|---|');
try {
  for (const backend of backends) {
    for (const method of ['simclr', 'gim', 'loco']) {
      const page = await openPage(b, `methods=${method}&backend=${backend}&batch=${batch}&preset=browser`);
      const used = await page.locator('#backend-used').textContent();
      const secs = [];
      for (let i = 0; i <= steps; i++) {
        // Wall time of the click (the page's images/s has one decimal: too coarse for slow steps).
        const t = await stepTo(page, i + 1);
        if (i > 0) secs.push(t);
      }
      const s = median(secs);
      console.log(`| ${used} | ${method} | ${s.toFixed(3)} | ${(batch / s).toFixed(1)} |`);
      await page.close();
    }
  }
} finally {
  await b.close();
}
