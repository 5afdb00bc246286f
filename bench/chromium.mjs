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

// Train continuously (the Start button, as a visitor does) and time each step by when the page's
// step counter changes; resolves to the seconds of steps warm+1 .. warm+steps (after `warm`
// steps), then stops the run. Clicking "Single step" per step instead adds ~40 ms of click and
// polling latency per step that continuous training does not have (measured: 5-7 ms of page
// overhead per step while training, 35-45 ms per click).
export async function trainSteps(page, warm, steps) {
  await page.evaluate(() => {
    window.__stepTimes = [];
    const el = document.getElementById('step-count');
    window.__stepObserver = new MutationObserver(() => window.__stepTimes.push([performance.now(), Number(el.textContent)]));
    window.__stepObserver.observe(el, { childList: true, characterData: true, subtree: true });
  });
  await page.click('#start');
  await page.waitForFunction((k) => Number(document.getElementById('step-count').textContent) >= k, warm + steps, { timeout: 900_000 });
  await page.click('#start'); // the same button stops
  const times = await page.evaluate(() => { window.__stepObserver.disconnect(); return window.__stepTimes; });
  const at = new Map();
  for (const [t, n] of times) if (!at.has(n)) at.set(n, t);
  const secs = [];
  for (let n = warm + 1; n <= warm + steps; n++) {
    if (!at.has(n) || !at.has(n - 1)) throw new Error(`step ${n} was not seen on its own (the counter skipped it)`);
    secs.push((at.get(n) - at.get(n - 1)) / 1000);
  }
  return secs;
}
