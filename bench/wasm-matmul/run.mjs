// Benchmark: the convolution's matrix products in wasm, in headless Chromium (V8), one kernel
// beside the other on the same shapes: gemm 0.19's simd128 kernels (what every build runs
// today) against our packed kernel with wasm SIMD 1.0 (mul + add) and with relaxed SIMD's fused
// `f32x4.relaxed_madd` (crates/matmul). The shapes are presnet-tiny's at the browser preset
// (batch 32, 32 px): forward (fwd), weight gradient (dW), input gradient (dX).
// Usage: node bench/wasm-matmul/run.mjs [reps-seconds=0.3]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from '../../node_modules/playwright-core/index.mjs';
import { root } from '../chromium.mjs';

const target = process.env.CARGO_TARGET_DIR || join(process.env.HOME, '.cache/locolab-target');
execFileSync('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown', '-p', 'locolab-wasm-matmul'], {
  cwd: root, stdio: 'inherit', env: { ...process.env, CARGO_TARGET_DIR: target, RUSTFLAGS: '-C target-feature=+simd128,+relaxed-simd' },
});
const bytes = readFileSync(join(target, 'wasm32-unknown-unknown/release/locolab_wasm_matmul.wasm'));
const seconds = Number(process.argv[2] || 0.3);

// [name, m, n, k, layout]: layout 0 forward, 1 weight gradient, 2 input gradient (conv.rs).
const shapes = [
  ['stage 1 fwd 3x3 16->16 @32', 16, 1024, 144, 0],
  ['stage 1 dW', 16, 144, 1024, 1],
  ['stage 1 dX', 144, 1024, 16, 2],
  ['stage 2 fwd 3x3 24->24 @22', 24, 484, 216, 0],
  ['stage 2 dW', 24, 216, 484, 1],
  ['stage 2 dX', 216, 484, 24, 2],
  ['stage 3 fwd 1x1 64->16 @16', 16, 256, 64, 0],
  ['stage 3 fwd 1x1 16->64 @16', 64, 256, 16, 0],
  ['stage 4 fwd 3x3 g2 12->12 @12', 12, 288, 108, 0],
  ['stage 5 fwd 3x3 g4 8->8 @8', 8, 256, 72, 0],
  ['stage 6 fwd 3x3 g8 6->6 @6', 6, 288, 54, 0],
  ['stage 6 fwd 1x1 48->192 @6', 192, 288, 48, 0],
];
const kernels = [[0, 'gemm simd128'], [1, 'ours 6x8 simd128'], [2, 'ours 4x8 simd128'], [3, 'ours 6x8 relaxed'], [4, 'ours 4x8 relaxed']];

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await browser.newPage();
  const rows = await page.evaluate(async ({ b64, shapes, kernels, seconds }) => {
    const buf = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const { instance } = await WebAssembly.instantiate(buf, {});
    const x = instance.exports;
    const out = [];
    for (const [name, m, n, k, layout] of shapes) {
      x.setup(m, n, k, layout);
      const row = { name, m, n, k, gflops: {}, diff: {} };
      for (const [id, label] of kernels) {
        x.run(id, 3); // warm-up
        let reps = 1, t = 0;
        for (;;) { const t0 = performance.now(); x.run(id, reps); t = (performance.now() - t0) / 1000; if (t > seconds / 4) break; reps *= 2; }
        // Best of three timings of `reps` products.
        let best = t;
        for (let i = 0; i < 2; i++) { const t0 = performance.now(); x.run(id, reps); best = Math.min(best, (performance.now() - t0) / 1000); }
        row.gflops[label] = (2 * m * n * k * reps) / best / 1e9;
        row.diff[label] = x.max_diff(id);
      }
      out.push(row);
    }
    return out;
  }, { b64: bytes.toString('base64'), shapes, kernels, seconds });
  const labels = kernels.map(([, l]) => l);
  console.log(`Chromium ${browser.version()}, GFLOP/s (best of 3), relative to gemm in brackets; last column: max |relaxed 6x8 - gemm| / max |gemm|`);
  console.log(`| product | m x n x k | ${labels.join(' | ')} | rel. diff |`);
  console.log(`|---|---|${labels.map(() => '---|').join('')}---|`);
  const geo = Object.fromEntries(labels.map((l) => [l, 0]));
  for (const r of rows) {
    const g0 = r.gflops[labels[0]];
    console.log(`| ${r.name} | ${r.m}x${r.n}x${r.k} | ${labels.map((l, i) => i ? `${r.gflops[l].toFixed(2)} (${(r.gflops[l] / g0).toFixed(2)}x)` : r.gflops[l].toFixed(2)).join(' | ')} | ${r.diff['ours 6x8 relaxed'].toExponential(1)} |`);
    for (const l of labels) geo[l] += Math.log(r.gflops[l] / g0) / rows.length;
  }
  console.log(`| geometric mean vs gemm | | ${labels.map((l) => `${Math.exp(geo[l]).toFixed(2)}x`).join(' | ')} | |`);
} finally {
  await browser.close();
}
