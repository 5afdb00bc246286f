// The page's languages without a browser: every text the page writes through `t()` (a literal
// template), every text of index.html marked `data-i18n*`, and every panel and key of keys.js
// has its Persian, no Persian entry is left over from text that is gone, and the Persian keeps
// each template's placeholders. What the core and the worker write arrives whole and goes
// through `tr()`; the page test in Persian (page.test.mjs) checks that none of it stays English.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FA, FOREIGN } from '../../www/lang/fa.js';
import { PANELS, PAGE_KEYS } from '../../www/keys.js';
import { t, tr, num, setLang, pickLang, missing } from '../../www/i18n.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const www = join(root, 'www');

// The string literals (joined by `+`) that open every `t(` call of a source.
export function templatesIn(source) {
  const out = [];
  const lit = /\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|`((?:[^`\\$]|\\.)*)`)\s*/y;
  const call = /(?<![\w.$])t\(/g;
  let m;
  while ((m = call.exec(source))) {
    let at = call.lastIndex;
    let text = '';
    let ok = false;
    for (;;) {
      lit.lastIndex = at;
      const l = lit.exec(source);
      if (!l) break;
      ok = true;
      text += (l[1] ?? l[2] ?? l[3]).replace(/\\(.)/g, '$1');
      at = lit.lastIndex;
      if (source[at] !== '+') break;
      at += 1;
    }
    if (ok && (source[at] === ')' || source[at] === ',')) out.push(text);
    else out.push(null); // t(variable): allowed only where the test below lists the source
  }
  return out;
}

const norm = (s) => s.replace(/\s+/g, ' ').trim();
export function marked(html) {
  const out = [];
  for (const m of html.matchAll(/<(\w+)([^>]*\bdata-i18n\b(?!-)[^>]*)>([\s\S]*?)<\/\1>/g)) out.push(norm(m[3]));
  for (const m of html.matchAll(/<\w+[^>]*\bdata-i18n-title\b[^>]*>/g)) out.push(norm(/title="([^"]*)"/.exec(m[0])[1]));
  for (const m of html.matchAll(/<\w+[^>]*\bdata-i18n-aria\b[^>]*>/g)) out.push(norm(/aria-label="([^"]*)"/.exec(m[0])[1]));
  out.push(norm(/<title>([\s\S]*?)<\/title>/.exec(html)[1]));
  return out.map((s) => s.replace(/&amp;/g, '&'));
}

function pageTemplates() {
  const found = new Set();
  const dynamic = [];
  for (const f of readdirSync(www).filter((x) => x.endsWith('.js'))) {
    for (const k of templatesIn(readFileSync(join(www, f), 'utf8'))) {
      if (k === null) dynamic.push(f); else found.add(k);
    }
  }
  for (const k of marked(readFileSync(join(root, 'index.html'), 'utf8'))) found.add(k.replace(/&#39;/g, "'"));
  for (const p of PANELS) found.add(p.what);
  return { found, dynamic };
}

test('every text the page writes has its Persian, and no Persian is left over', () => {
  const { found, dynamic } = pageTemplates();
  // t() of a variable: only i18n.js itself (localise) and embed.js (the panels of keys.js).
  assert.deepEqual([...new Set(dynamic)].sort(), ['embed.js', 'i18n.js']);
  const lacking = [...found].filter((k) => FA[k] == null);
  assert.deepEqual(lacking, [], `no Persian for:\n${lacking.join('\n')}`);
  const stale = Object.keys(FA).filter((k) => !found.has(k));
  assert.deepEqual(stale, [], `Persian for text the page no longer writes (or move it to FOREIGN):\n${stale.join('\n')}`);
  assert.ok(found.size > 100, `found ${found.size} texts`);
});

test("every Persian keeps its template's placeholders, and is Persian", () => {
  for (const [en, fa] of [...Object.entries(FA), ...Object.entries(FOREIGN)]) {
    const holes = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    assert.deepEqual(holes(fa), holes(en), `placeholders of "${en}"`);
    assert.match(fa, /[\u0600-\u06FF]/, `"${en}" -> "${fa}" has no Persian letter`);
  }
});

test('templates fill, and text written elsewhere is translated back through its template', () => {
  setLang('fa');
  try {
    assert.equal(num(12.5, 1), '۱۲٫۵');
    assert.equal(num(1280), '۱۲۸۰');
    assert.equal(t('resumed at step {step}', { step: 40 }), FA['resumed at step {step}'].replace('{step}', '۴۰'));
    // A worker's note with a nested reason: both parts translated.
    const note = 'one thread: this page is not cross-origin isolated (the service worker is off (sw=0): docs/page.md, "The page\'s threads")';
    missing.clear();
    const got = tr(note);
    assert.equal(missing.size, 0, [...missing].join(' | '));
    assert.match(got, /^یک رشته: .*service worker خاموش است \(sw=0\)/, got);
    assert.equal(tr('a text nobody wrote'), 'a text nobody wrote');
    assert.ok(missing.has('a text nobody wrote'));
  } finally {
    setLang('en');
  }
  assert.equal(t('resumed at step {step}', { step: 40 }), 'resumed at step 40');
  assert.equal(num(12.5, 1), '12.5');
});

test('the language comes from lang=, else from the browser, else English', () => {
  assert.deepEqual(pickLang('fa', ['en-US']), { lang: 'fa', bad: null });
  assert.deepEqual(pickLang(null, ['fa-IR', 'en']), { lang: 'fa', bad: null });
  assert.deepEqual(pickLang(null, ['de-DE', 'en-GB']), { lang: 'en', bad: null });
  assert.deepEqual(pickLang('xx', ['fa']), { lang: 'fa', bad: 'xx' });
  assert.ok(PAGE_KEYS.find((k) => k.key === 'lang').values.includes('fa'));
});
