// The page's one session object: what the core said about itself (methods, presets, knobs),
// the settings (mirrored in the URL), and one object per trainer. Every module reads and
// writes this object; nothing is read back from the page's text.
export const $ = (id) => document.getElementById(id);

export const session = {
  // From the core (`meta`): [{kind, title, colour, summary, details, end_to_end, ...}].
  methods: [],
  ref: null, // the end-to-end reference method (SimCLR)
  randomInitStyle: { title: 'random init', colour: 'grey' }, // from the core, with the methods'
  knnK: 200, // the kNN's k, from the core
  presets: {},
  knobs: [], // the knob table's page knobs ([{name, kind, range, page: {label, options}, help}])
  // The settings; the training knobs' keys are added from the table (null: the preset's).
  state: { methods: null, preset: 'browser', backend: 'auto', embed: false, hide: [], autostart: false, parallel: false },
  // method -> {units, config, backend, threads, curve: {x, ys}, mem, knn: {x, y}, stages, parallel, sequential}
  trainers: {},
  randomInit: null, // per-stage kNN of the untrained encoder (every method starts from it)
  stageNames: [],
  timing: { train: 0, monitor: 0 }, // seconds, to show what the monitor costs
  stepCount: 0,
  monitorSteps: [], // the steps of the kNN monitor points so far (0: the random-init line)
  running: false,
  dataset: null, // the CIFAR-10 bytes, kept to re-send to a restarted worker
};

export const info = (m) => session.methods.find((x) => x.kind === m);
export const colour = (m) => info(m)?.colour ?? session.randomInitStyle.colour;
export const active = () => session.state.methods.filter((m) => session.trainers[m]);

// A trainer the worker made (created or restored), with empty curves.
export function trainerFrom(made) {
  return { units: made.units, colours: made.unit_colours, config: made.config, backend: made.backend, backendNote: made.backend_note, threads: made.threads,
    curve: { x: [], ys: made.units.map(() => []) }, mem: null, knn: { x: [], y: [] }, stages: null };
}
// Where the trainers run: every trainer of a page shares one backend preference.
export const onGpu = () => Object.values(session.trainers).some((t) => t.backend === 'webgpu');

export function showError(msg) { const m = $('message'); m.textContent = msg; m.className = 'error'; }
export function showInfo(msg) { const m = $('message'); m.textContent = msg; m.className = ''; }
export function showWarnings(list) {
  const ul = $('warnings');
  ul.innerHTML = '';
  for (const w of list) { const li = document.createElement('li'); li.textContent = w; ul.appendChild(li); }
  ul.hidden = list.length === 0;
}
