// Settings: the URL's keys, the controls built from the core's knob table, and the config a
// trainer is made from. The core checks every training setting (`meta` judges the URL's).
import { $, session, showWarnings } from './session.js';
import { BACKENDS, PAGE_KEY_NAMES } from './keys.js';
import { t, tr, LANGS } from './i18n.js';

// URL keys the page itself reads (keys.js); every other key is a training setting, checked by the core.
// Steps between kNN monitor points and autosaves (0: off); threads of the CPU build (1: the
// single-thread build; more need a cross-origin-isolated page).
export const DEFAULTS = { monitor: 30, autosave: 200, threads: Math.max(1, Math.min(64, navigator.hardwareConcurrency || 1)) };
const { state } = session;
state.monitor = DEFAULTS.monitor;
state.autosave = DEFAULTS.autosave;
state.threads = DEFAULTS.threads;
let urlMethods = null;

const training = () => session.knobs.map((k) => k.name);
// The controls that mirror a setting: the preset, every page knob, the backend.
const controls = () => ['preset', ...training(), 'backend'];

// The URL's training settings as [key, text] pairs, for the core to judge; the page's own keys.
export function readUrl() {
  const q = new URLSearchParams(location.search);
  if (q.has('methods')) urlMethods = q.get('methods').split(',').map((m) => m.trim()).filter(Boolean);
  if (q.has('backend')) state.backend = q.get('backend');
  state.embed = q.get('embed') === '1';
  state.hide = (q.get('hide') || '').split(',').filter(Boolean);
  state.autostart = q.get('autostart') === '1';
  if (q.has('monitor')) state.monitor = q.get('monitor');
  if (q.has('autosave')) state.autosave = q.get('autosave');
  if (q.has('threads')) state.threads = q.get('threads');
  state.parallel = q.get('parallel') === '1';
  state.lang = q.get('lang') || null;
  return [...q.entries()].filter(([k]) => !PAGE_KEY_NAMES.includes(k));
}

// A page key that must be a whole number in [lo, hi]; `warn(values)` words the warning.
function wholeNumber(key, lo, hi, warn) {
  const v = Number(state[key]);
  if (Number.isInteger(v) && v >= lo && v <= hi) { state[key] = v; return null; }
  const warning = warn({ key, value: String(state[key]).slice(0, 40), lo, hi });
  state[key] = DEFAULTS[key];
  return warning;
}

// The URL's settings as the core judged them: bad ones fall back to the preset, with a warning.
export function applySettings(settings) {
  const warnings = settings.warnings.map(tr);
  state.preset = settings.preset;
  for (const k of training()) state[k] = settings.overrides[k] ?? null;
  const kinds = session.methods.map((m) => m.kind);
  state.methods = [...kinds];
  if (urlMethods) {
    const unknown = urlMethods.filter((m) => !kinds.includes(m));
    if (unknown.length) warnings.push(t('unknown method {names} ignored; methods are {kinds}', { names: unknown.map((m) => `'${m.slice(0, 40)}'`).join(', '), kinds: kinds.join(', ') }));
    const known = urlMethods.filter((m) => kinds.includes(m));
    if (known.length) state.methods = known; else warnings.push(t('no known method named: showing all'));
  }
  const steps = (v) => t('{key}={value} ignored; expected a whole number of steps in [{lo}, {hi}]', v);
  warnings.push(wholeNumber('monitor', 1, 100000, steps),
    wholeNumber('autosave', 0, 100000, (v) => t('{key}={value} ignored; expected a whole number of steps in [{lo}, {hi}] (0: off)', v)),
    wholeNumber('threads', 1, 64, (v) => t('{key}={value} ignored; expected a whole number of threads in [{lo}, {hi}]', v)));
  if (!BACKENDS.includes(state.backend)) {
    warnings.push(t('backend={value} ignored; expected {expected}', { value: String(state.backend).slice(0, 40), expected: BACKENDS.join(', ') }));
    state.backend = 'auto';
  }
  if (state.lang && !LANGS[state.lang]) {
    warnings.push(t('lang={value} ignored; expected {expected}', { value: String(state.lang).slice(0, 40), expected: Object.keys(LANGS).join(', ') }));
    state.lang = null;
  }
  showWarnings(warnings.filter(Boolean));
}

// The method checkboxes, the explanations, and one control per page knob of the core's table.
export function buildControls(onChange) {
  $('methods').innerHTML = `<legend>${t('Methods')}</legend>` + session.methods.map((m) => `<label><input type="checkbox" name="method" value="${m.kind}"> ${m.title}</label>`).join('\n');
  $('method-details').innerHTML = session.methods.map((m) => `<dt>${m.title}</dt><dd>${tr(m.details)}</dd>`).join('');
  const box = $('training-knobs');
  box.innerHTML = '';
  for (const k of session.knobs) {
    const label = document.createElement('label');
    label.title = tr(k.help.trim().replace(/\s+/g, ' '));
    label.append(`${tr(k.page.label)} `);
    let input;
    if (k.page.options.length) {
      input = document.createElement('select');
      for (const [value, text] of k.page.options) input.add(new Option(tr(text), value));
    } else {
      input = document.createElement('input');
      input.type = k.kind === 'integer' || k.kind === 'number' ? 'number' : 'text';
      if (input.type === 'number') input.step = k.kind === 'integer' ? '1' : 'any';
      if (k.range) [input.min, input.max] = k.range;
    }
    input.id = k.name;
    label.append(input);
    box.append(label);
  }
  for (const k of controls()) $(k).addEventListener('change', onChange);
  document.querySelectorAll('input[name=method]').forEach((c) => c.addEventListener('change', onChange));
  $('parallel').addEventListener('change', onChange);
  $('preset').addEventListener('change', () => {
    const p = session.presets[$('preset').value];
    for (const k of training()) setControl(k, p[k]);
  });
}

// A select shows a value the URL set even when it is not one of the offered options.
function setControl(k, value) {
  const el = $(k);
  if (el.tagName === 'SELECT' && value != null && ![...el.options].some((o) => o.value === String(value))) el.add(new Option(String(value), String(value)));
  el.value = value ?? '';
  // A knob the preset leaves unset (blocks: the network's own) says so instead of showing nothing.
  if (el.tagName === 'INPUT') el.placeholder = value == null ? t("the network's own") : '';
}

// The query of the page's state; `over` replaces keys (a value of '' or null removes one): what
// the Embed / share builder links to.
export function queryFor(over = {}) {
  const q = new URLSearchParams();
  q.set('methods', state.methods.join(','));
  for (const k of controls()) if (state[k] !== null && state[k] !== '') q.set(k, state[k]);
  if (state.embed) q.set('embed', '1');
  if (state.hide.length) q.set('hide', state.hide.join(','));
  if (state.autostart) q.set('autostart', '1');
  if (state.monitor !== DEFAULTS.monitor) q.set('monitor', String(state.monitor));
  if (state.autosave !== DEFAULTS.autosave) q.set('autosave', String(state.autosave));
  if (state.threads !== DEFAULTS.threads) q.set('threads', String(state.threads));
  if (state.parallel) q.set('parallel', '1');
  if (state.lang) q.set('lang', state.lang);
  for (const [k, v] of Object.entries(over)) {
    if (v === null || v === undefined || v === '') q.delete(k);
    else q.set(k, String(v));
  }
  return q;
}

export function writeUrl() {
  history.replaceState(null, '', `${location.pathname}?${queryFor()}`);
}

export function fillControls() {
  // Preset names are the values `preset=` takes: names, not words (translate="no").
  $('preset').innerHTML = Object.keys(session.presets).map((p) => `<option translate="no">${p}</option>`).join('');
  const p = session.presets[state.preset] || session.presets.browser;
  for (const k of training()) if (state[k] === null) state[k] = p[k];
  for (const k of controls()) setControl(k, state[k]);
  document.querySelectorAll('input[name=method]').forEach((c) => { c.checked = state.methods.includes(c.value); });
  $('parallel').checked = state.parallel;
  document.body.classList.toggle('embed', state.embed);
  for (const id of state.hide) $(id)?.classList.add('hidden');
}

// The controls into the state (numbers as the knob table types them), then into the URL.
export function readControls() {
  const numeric = new Set(session.knobs.filter((k) => k.kind === 'integer' || k.kind === 'number').map((k) => k.name));
  for (const k of controls()) state[k] = numeric.has(k) && $(k).value !== '' ? Number($(k).value) : $(k).value;
  state.methods = [...document.querySelectorAll('input[name=method]:checked')].map((c) => c.value);
  state.parallel = $('parallel').checked;
  writeUrl();
}

// Only what the user set: the core merges it over the preset once (TrainConfig::preset_with).
export function configFor(method) {
  const c = { preset: state.preset, method };
  for (const k of training()) if (state[k] !== null && state[k] !== undefined && state[k] !== '') c[k] = state[k];
  return c;
}

// The page's settings follow restored trainers (they share one config but the method).
export function adoptConfig(config) {
  for (const k of training()) state[k] = config[k];
  fillControls();
  writeUrl();
}
