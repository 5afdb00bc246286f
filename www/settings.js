// Settings: the URL's keys, the controls built from the core's knob table, and the config a
// trainer is made from. The core checks every training setting (`meta` judges the URL's).
import { $, lab, showWarnings } from './session.js';
import { PAGE_KEYS, PAGE_KEY_NAMES } from './keys.js';

// URL keys the page itself reads (keys.js); every other key is a training setting, checked by the core.
const BACKENDS = PAGE_KEYS.find((k) => k.key === 'backend').values;
// Steps between kNN monitor points and autosaves (0: off); threads of the CPU build (1: the
// single-thread build; more need a cross-origin-isolated page).
export const DEFAULTS = { monitor: 30, autosave: 200, threads: Math.max(1, Math.min(64, navigator.hardwareConcurrency || 1)) };
const { state } = lab;
state.monitor = DEFAULTS.monitor;
state.autosave = DEFAULTS.autosave;
state.threads = DEFAULTS.threads;
let urlMethods = null;

const training = () => lab.knobs.map((k) => k.name);
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
  return [...q.entries()].filter(([k]) => !PAGE_KEY_NAMES.includes(k));
}

function wholeNumber(key, lo, hi, extra = '', what = 'steps') {
  const v = Number(state[key]);
  if (Number.isInteger(v) && v >= lo && v <= hi) { state[key] = v; return null; }
  const warning = `${key}=${String(state[key]).slice(0, 40)} ignored; expected a whole number of ${what} in [${lo}, ${hi}]${extra}`;
  state[key] = DEFAULTS[key];
  return warning;
}

// The URL's settings as the core judged them: bad ones fall back to the preset, with a warning.
export function applySettings(settings) {
  const warnings = [...settings.warnings];
  state.preset = settings.preset;
  for (const k of training()) state[k] = settings.overrides[k] ?? null;
  const kinds = lab.methods.map((m) => m.kind);
  state.methods = [...kinds];
  if (urlMethods) {
    const unknown = urlMethods.filter((m) => !kinds.includes(m));
    if (unknown.length) warnings.push(`unknown method ${unknown.map((m) => `'${m.slice(0, 40)}'`).join(', ')} ignored; methods are ${kinds.join(', ')}`);
    const known = urlMethods.filter((m) => kinds.includes(m));
    if (known.length) state.methods = known; else warnings.push('no known method named: showing all');
  }
  warnings.push(wholeNumber('monitor', 1, 100000), wholeNumber('autosave', 0, 100000, ' (0: off)'), wholeNumber('threads', 1, 64, '', 'threads'));
  if (!BACKENDS.includes(state.backend)) {
    warnings.push(`backend=${String(state.backend).slice(0, 40)} ignored; expected ${BACKENDS.join(', ')}`);
    state.backend = 'auto';
  }
  showWarnings(warnings.filter(Boolean));
}

// The method checkboxes, the explanations, and one control per page knob of the core's table.
export function buildControls(onChange) {
  $('methods').innerHTML = '<legend>Methods</legend>' + lab.methods.map((m) => `<label><input type="checkbox" name="method" value="${m.kind}"> ${m.title}</label>`).join('\n');
  $('method-details').innerHTML = lab.methods.map((m) => `<dt>${m.title}</dt><dd>${m.details}</dd>`).join('');
  const box = $('training-knobs');
  box.innerHTML = '';
  for (const k of lab.knobs) {
    const label = document.createElement('label');
    label.title = k.help.trim();
    label.append(`${k.page.label} `);
    let input;
    if (k.page.options.length) {
      input = document.createElement('select');
      for (const [value, text] of k.page.options) input.add(new Option(text, value));
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
    const p = lab.presets[$('preset').value];
    for (const k of training()) setControl(k, p[k]);
  });
}

// A select shows a value the URL set even when it is not one of the offered options.
function setControl(k, value) {
  const el = $(k);
  if (el.tagName === 'SELECT' && value != null && ![...el.options].some((o) => o.value === String(value))) el.add(new Option(String(value), String(value)));
  el.value = value ?? '';
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
  $('preset').innerHTML = Object.keys(lab.presets).map((p) => `<option>${p}</option>`).join('');
  const p = lab.presets[state.preset] || lab.presets.browser;
  for (const k of training()) if (state[k] === null) state[k] = p[k];
  for (const k of controls()) setControl(k, state[k]);
  document.querySelectorAll('input[name=method]').forEach((c) => { c.checked = state.methods.includes(c.value); });
  $('parallel').checked = state.parallel;
  document.body.classList.toggle('embed', state.embed);
  for (const id of state.hide) $(id)?.classList.add('hidden');
}

// The controls into the state (numbers as the knob table types them), then into the URL.
export function readControls() {
  const numeric = new Set(lab.knobs.filter((k) => k.kind === 'integer' || k.kind === 'number').map((k) => k.name));
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
