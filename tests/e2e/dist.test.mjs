// The page as a static site (scripts/dist.sh): written into a temporary folder, served from a
// sub-path by a plain static server with no COOP/COEP headers (`python3 -m http.server`, as
// GitHub Pages or a university server would), it isolates itself through its service worker,
// trains on two threads, loads every file it asks for, and works again offline from the
// worker's cache; with service workers blocked it trains on one thread and says why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const port = 9300 + Math.floor(Math.random() * 100);
const site = mkdtempSync(join(tmpdir(), 'locolab-dist-'));
let server;
let browser;

before(async () => {
  // scripts/test.sh has built the wasm modules: dist.sh only copies them.
  execFileSync('bash', ['scripts/dist.sh', join(site, 'course', 'locolab')], { cwd: root, env: { ...process.env, LOCOLAB_DIST_NO_BUILD: '1' }, stdio: 'inherit' });
  server = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1'], { cwd: site, stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    try { if ((await fetch(`http://127.0.0.1:${port}/course/locolab/index.html`)).ok) break; } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

const url = `http://127.0.0.1:${port}/course/locolab/?methods=simclr,gim,loco&batch=8&seed=5&backend=cpu&monitor=1000&autosave=0&threads=2`;
const ready = (page) => page.waitForFunction(() => document.getElementById('message').textContent === 'ready', null, { timeout: 240_000 });
const atStep = (page, n) => page.waitForFunction((k) => Number(document.getElementById('step-count').textContent) === k, n, { timeout: 240_000 });

async function trainThree(context) {
  const page = await context.newPage();
  const errors = [];
  const missing = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400) missing.push(`${r.status()} ${r.url()}`); });
  await page.goto(url);
  await ready(page);
  const used = {
    isolated: await page.evaluate(() => crossOriginIsolated),
    threads: await page.locator('#threads-used').textContent(),
    note: await page.locator('#threads-note').textContent(),
  };
  for (let i = 1; i <= 3; i++) {
    await page.click('#step');
    await atStep(page, i);
  }
  const losses = await page.evaluate(() => ['simclr', 'gim', 'loco'].map((m) => window.locolabDebug.lastLosses(m)));
  // The long-run panel found its committed results in the site.
  // (A tab stays disabled where its experiment's results.json did not load.)
  const tabs = await page.locator('#longrun-tabs button:not([disabled])').count();
  await page.close();
  return { used, losses, errors, missing, tabs };
}

test('dist.sh writes a site that isolates itself on a plain static host, from a sub-path', { timeout: 600_000 }, async () => {
  for (const f of ['index.html', 'sw.js', 'www/app.js', 'www/isolate.js', 'pkg-cpu/locolab_bg.wasm', 'pkg-mt/locolab_bg.wasm', 'pkg/locolab_bg.wasm', 'docs/results/cifar50k/results.json']) {
    assert.ok(existsSync(join(site, 'course', 'locolab', f)), f);
  }
  const context = await browser.newContext();
  const r = await trainThree(context);
  // Offline: the service worker serves the site it cached; the page loads and trains.
  await context.setOffline(true);
  const offline = await trainThree(context);
  await context.close();
  assert.deepEqual(offline.errors, []);
  assert.equal(offline.used.threads, '2', JSON.stringify(offline.used));
  assert.deepEqual(offline.losses, r.losses, 'offline, the same steps');
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.missing, []);
  assert.equal(r.used.isolated, true, JSON.stringify(r.used));
  assert.equal(r.used.threads, '2', JSON.stringify(r.used));
  assert.ok(r.losses.flat().length >= 1 + 6 + 5 && r.losses.flat().every(Number.isFinite), JSON.stringify(r.losses));
  assert.equal(r.tabs, 3);

  // Service workers blocked (a browser setting): one thread, and the note says why.
  const blocked = await browser.newContext({ serviceWorkers: 'block' });
  const b = await trainThree(blocked);
  await blocked.close();
  assert.deepEqual(b.errors, []);
  assert.equal(b.used.isolated, false);
  assert.equal(b.used.threads, '1');
  assert.match(b.used.note, /not cross-origin isolated \((the service worker could not register|this browser offers no service worker)/, b.used.note);
  assert.deepEqual(b.losses, r.losses, 'one thread trains the same steps as two');
});
