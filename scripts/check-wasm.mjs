// Refuses a page module that holds a relaxed-SIMD instruction: Safari rejects such a module
// outright, and the page's modules must load in every browser that runs wasm SIMD 1.0.
// The test is V8's own validator with relaxed SIMD switched off, then on: a module that is
// valid only with it holds a relaxed-SIMD instruction. (Run by scripts/build-web.sh on every
// module it builds; cheap: a few seconds, no extra tool.)
// Usage: node scripts/check-wasm.mjs MODULE.wasm...
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

if (process.argv[2] === '--validate') {
  // Child: print whether this V8 (with the flags it was started with) accepts the module.
  process.stdout.write(String(WebAssembly.validate(readFileSync(process.argv[3]))));
  process.exit(0);
}
const validate = (file, relaxed) => execFileSync(process.execPath,
  [relaxed ? '--experimental-wasm-relaxed-simd' : '--no-experimental-wasm-relaxed-simd', fileURLToPath(import.meta.url), '--validate', file],
  { encoding: 'utf8' }) === 'true';
let failed = false;
for (const file of process.argv.slice(2)) {
  if (validate(file, false)) {
    console.log(`${file}: no relaxed-SIMD instruction (valid for wasm SIMD 1.0)`);
  } else if (validate(file, true)) {
    console.error(`${file}: holds a relaxed-SIMD instruction (valid only with relaxed SIMD); Safari would refuse to load it. Was +relaxed-simd set in RUSTFLAGS or .cargo/config.toml?`);
    failed = true;
  } else {
    console.error(`${file}: not a valid wasm module for this Node's V8, with or without relaxed SIMD`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
