// Quick check of the threaded build: open the page with threads=N and step, printing the
// status line and the losses (not part of the test suite: tests/e2e/page.test.mjs checks it).
import { openBrowser, openPage, stepTo } from './chromium.mjs';
const threads = (process.argv[2] || '1,2').split(',');
const b = await openBrowser();
try {
  for (const t of threads) {
    const page = await openPage(b, `methods=gim&backend=cpu&batch=8&seed=5&monitor=1000&autosave=0&threads=${t}`);
    page.on('console', (m) => console.log('console:', m.text()));
    const used = await page.locator('#threads-used').textContent();
    const note = await page.locator('#threads-note').textContent();
    const msg = await page.locator('#message').textContent();
    const secs = [];
    for (let i = 1; i <= 3; i++) secs.push(await stepTo(page, i));
    const losses = await page.evaluate(() => window.locolabDebug.lastLosses('gim'));
    console.log(JSON.stringify({ asked: t, used, note, msg, secs, losses }));
    await page.close();
  }
} finally {
  await b.close();
}
