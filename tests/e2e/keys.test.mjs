// The README's list of the page's URL keys and `hide` ids is the table the page reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markdown, PAGE_KEYS, PANELS } from '../../www/keys.js';
import { BEGIN, END } from '../../scripts/page-keys.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test("the README lists every page key and hide id from the page's table", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = readme.slice(readme.indexOf(BEGIN) + BEGIN.length, readme.indexOf(END)).trim();
  assert.equal(block, markdown(), 'run: node scripts/page-keys.mjs --write');
  // Every hide id is an element of the page.
  const html = readFileSync(join(root, 'index.html'), 'utf8');
  for (const p of PANELS) assert.match(html, new RegExp(`id="${p.id}"`), p.id);
  // Every key the page reads from the URL is in the table.
  const read = new Set();
  for (const f of ['www/settings.js', 'www/isolate.js']) {
    for (const m of readFileSync(join(root, f), 'utf8').matchAll(/q\.(?:get|has)\('([a-z]+)'\)|\.get\('([a-z]+)'\)/g)) read.add(m[1] ?? m[2]);
  }
  const keys = PAGE_KEYS.map((k) => k.key);
  for (const k of read) assert.ok(keys.includes(k), `the page reads ${k} from the URL but keys.js does not list it`);
});
