// The page in English and Persian. The English text is the key (as gettext does): code writes
// `t('resumed at step {step}', { step })`, and a language's catalogue (www/lang/fa.js) maps that
// template to its own. Text that arrives already written (the core's explanations, the worker's
// notes) goes through `tr(text)`, which finds the template that produced it, captures its
// values, translates those in turn and fills the language's template. English is the fallback:
// a string with no entry shows in English and is recorded in `missing` (the e2e test reads it).
// Numbers keep the English formatting's shape; Persian writes them with its own digits and
// decimal separator. No DOM at module level: node reads this file too (tests/e2e/i18n.test.mjs).
import { FA, FOREIGN } from './lang/fa.js';

export const LANGS = {
  en: { name: 'English', dir: 'ltr', catalogue: null },
  fa: { name: 'فارسی', dir: 'rtl', catalogue: { ...FOREIGN, ...FA } },
};

// `lang=` from the URL if it names a language; else the first of the browser's languages we
// have; else English. Returns {lang, bad}: `bad`, a `lang=` value that names no language.
export function pickLang(asked, browserLangs = []) {
  const bad = asked != null && asked !== '' && !LANGS[asked] ? String(asked) : null;
  return { lang: LANGS[asked] ? asked : fromBrowser(browserLangs), bad };
}
const fromBrowser = (langs) => langs.map((l) => String(l).toLowerCase().split('-')[0]).find((l) => LANGS[l]) ?? 'en';

let current = 'en';
export const missing = new Set();
export const lang = () => current;
export function setLang(l) { current = LANGS[l] ? l : 'en'; }
const catalogue = () => LANGS[current].catalogue;

// A number as the language writes it: `digits` decimals (as toFixed), or as String() gives it.
const PERSIAN_DIGITS = '۰۱۲۳۴۵۶۷۸۹';
export function num(v, digits = null) {
  const s = typeof v === 'number' ? (digits == null ? String(v) : v.toFixed(digits)) : String(v);
  return localDigits(s);
}
// ASCII digits of a text in the language's own (Persian: ۰-۹, '٫' between a number's digits).
export function localDigits(s) {
  if (current !== 'fa') return s;
  return s.replace(/(\d)\.(\d)/g, '$1٫$2').replace(/\d/g, (d) => PERSIAN_DIGITS[d]);
}

const fill = (template, vars) => template.replace(/\{(\w+)\}/g, (whole, k) => {
  if (!(k in vars)) return whole;
  const v = vars[k];
  return typeof v === 'number' ? num(v) : String(v);
});

// The page's own text: `english` is the template, `vars` its values (numbers formatted here;
// strings as given: translate them first where they are words).
export function t(english, vars = {}) {
  const c = catalogue();
  if (!c) return fill(english, vars);
  const own = c[english];
  if (own == null) { missing.add(english); return fill(english, vars); }
  return fill(own, vars);
}

// Templates with placeholders, as regular expressions (built once per catalogue).
const patterns = new Map();
function templatesOf(c) {
  if (!patterns.has(c)) {
    const list = [];
    for (const [english, own] of Object.entries(c)) {
      if (!english.includes('{')) continue;
      const names = [];
      const source = english.split(/(\{\w+\})/).map((part) => {
        const m = /^\{(\w+)\}$/.exec(part);
        if (m) { names.push(m[1]); return '(.+?)'; }
        return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      }).join('');
      list.push({ re: new RegExp(`^${source}$`, 's'), names, own, joined: english.includes('; ') });
    }
    // The most specific template first: the one with the most fixed text.
    list.sort((a, b) => b.re.source.length - a.re.source.length);
    patterns.set(c, list);
  }
  return patterns.get(c);
}

// Text written elsewhere (the core, the worker), translated if a template produced it.
export function tr(text) {
  const c = catalogue();
  if (!c || text == null || text === '') return text;
  const s = String(text);
  if (c[s] != null) return c[s];
  // Already in the language (our own text, translated where it was written).
  if (/[\u0600-\u06FF]/.test(s)) return s;
  if (/^[\d.,\s%±+−-]*$/.test(s)) return localDigits(s);
  for (const { re, names, own, joined } of templatesOf(c)) {
    const m = re.exec(s);
    // A value that spans joined notes belongs to the split below, not to this template.
    if (!m || (!joined && m.slice(1).some((v) => v.includes('; ')))) continue;
    const vars = Object.fromEntries(names.map((n, i) => [n, trValue(n, m[i + 1])]));
    return fill(own, vars);
  }
  // Joined notes ("a; b"), each translated.
  if (s.includes('; ')) return s.split('; ').map(tr).join('؛ ');
  missing.add(s);
  return s;
}
// Placeholders that hold names (files, methods, settings as typed, adapters) keep their text;
// numbers take the language's digits; the rest (a reason) is text to translate in turn.
const NAMES = new Set(['name', 'file', 'files', 'folder', 'source', 'value', 'expected', 'kinds', 'names', 'method', 'key', 'ref', 'stage', 'kind']);
const trValue = (name, v) => (/^[\d.,e+-]+$/.test(v) ? localDigits(v) : NAMES.has(name) ? v : tr(v));

// The static page: elements marked `data-i18n` have their content (HTML: our own, trusted)
// replaced; `data-i18n-title` and `data-i18n-aria` translate those attributes. English needs
// nothing done.
export function localise(root) {
  const c = catalogue();
  const doc = root.ownerDocument ?? root;
  doc.documentElement.lang = current;
  doc.documentElement.dir = LANGS[current].dir;
  if (!c) return;
  const norm = (s) => s.replace(/\s+/g, ' ').trim().replace(/&amp;/g, '&');
  for (const el of root.querySelectorAll('[data-i18n]')) el.innerHTML = t(norm(el.innerHTML));
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(norm(el.title));
  for (const el of root.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(norm(el.getAttribute('aria-label'))));
  doc.title = t(norm(doc.title));
}
