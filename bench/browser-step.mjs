// Benchmark: seconds per training step of each method in headless Chromium, on the CPU (wasm)
// and WebGPU backends, through the real page. Prints a markdown table.
// Usage: scripts/build-web.sh && node bench/browser-step.mjs [batch=32] [steps=5] [backends=cpu,webgpu]
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const batch = Number(process.argv[2] || 32);
const steps = Number(process.argv[3] || 5);
const backends = (process.argv[4] || 'cpu,webgpu').split(',');
const port = 8900 + Math.floor(Math.random() * 100);
const server = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1'], { cwd: root, stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 800));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
});
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
console.log(`| backend | method | median s/step (batch ${batch}, ${steps} steps after 1 warm-up) | images/s |`);
console.log('|---|---|---|---|');
try {
  for (const backend of backends) {
    for (const method of ['simclr', 'gim', 'loco']) {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/?methods=${method}&backend=${backend}&batch=${batch}&preset=browser`);
      await page.waitForFunction(() => ['ready'].includes(document.getElementById('message').textContent)
        || document.getElementById('message').className === 'error', null, { timeout: 300_000 });
      const used = await page.locator('#backend-used').textContent();
      const secs = [];
      for (let i = 0; i <= steps; i++) {
        await page.click('#step');
        await page.waitForFunction((n) => Number(document.getElementById('step-count').textContent) >= n, i + 1, { timeout: 300_000 });
        const ips = Number(await page.locator('#speed').textContent());
        if (i > 0) secs.push(batch / ips);
      }
      const s = median(secs);
      console.log(`| ${used} | ${method} | ${s.toFixed(3)} | ${(batch / s).toFixed(1)} |`);
      await page.close();
    }
  }
} finally {
  await browser.close();
  server.kill();
}
