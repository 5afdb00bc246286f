// Shared by the browser benchmarks: serve the repository over HTTP and open headless Chromium
// (Debian's, through playwright-core), and time steps of the real page.
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '../node_modules/playwright-core/index.mjs';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// `swiftshader`: also offer WebGL/WebGPU on Chromium's software renderer (for TF.js's webgl).
// `args`: more Chromium flags (bench/browser-profile.mjs: V8's profiler).
export async function openBrowser({ swiftshader = false, args = [] } = {}) {
  const port = 8600 + Math.floor(Math.random() * 300);
  // Cross-origin isolated (scripts/serve.py), as scripts/demo.sh serves: the page may use threads.
  const server = spawn('python3', ['scripts/serve.py', String(port)], { cwd: root, stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    try { if ((await fetch(`http://127.0.0.1:${port}/index.html`)).ok) break; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--enable-unsafe-webgpu', ...(swiftshader ? ['--enable-unsafe-swiftshader', '--use-angle=swiftshader'] : []),
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage', ...args],
  });
  return {
    browser,
    url: (path) => `http://127.0.0.1:${port}/${path}`,
    close: async () => { await browser.close(); server.kill(); },
  };
}

export const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

// Open the page at `query` and wait until it is ready (or refused); returns the page.
export async function openPage(b, query) {
  const page = await b.browser.newPage();
  await page.goto(b.url(`?${query}`));
  await page.waitForFunction(() => document.getElementById('message').textContent === 'ready'
    || document.getElementById('message').className === 'error', null, { timeout: 300_000 });
  return page;
}

// Click "Single step" and wait for the step counter to reach `n`; resolves to the seconds it took.
export async function stepTo(page, n) {
  const t0 = Date.now();
  await page.click('#step');
  await page.waitForFunction((k) => Number(document.getElementById('step-count').textContent) >= k, n, { timeout: 900_000 });
  return (Date.now() - t0) / 1000;
}
