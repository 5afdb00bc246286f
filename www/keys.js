// The page's own URL keys and the panels `hide` takes, as one table: the settings read the keys
// from here (settings.js), the Embed / share builder offers them (embed.js), and the README's
// list is generated from it (`node scripts/page-keys.mjs`, checked by tests/e2e/keys.test.mjs).
// Every other URL key is a training knob of the core's table (`locolab train --help`: the same
// names with `_` for `-`), judged by the core. No DOM here: node reads this file too.

export const PAGE_KEYS = [
  { key: 'methods', example: 'gim,loco', help: 'the methods to train, comma-separated (default: simclr,gim,loco)' },
  { key: 'backend', example: 'cpu', values: ['auto', 'webgpu', 'cpu'], help: 'auto (WebGPU on a hardware adapter, else the CPU), webgpu or cpu' },
  { key: 'threads', example: '2', help: 'CPU threads (default: the cores the browser reports; more than 1 needs a cross-origin-isolated page)' },
  { key: 'parallel', example: '1', help: "each method's local units train at the same time on Web Workers" },
  { key: 'monitor', example: '30', help: 'steps between kNN accuracy points (default 30)' },
  { key: 'autosave', example: '200', help: 'steps between saves to the browser, so a closed tab resumes (default 200; 0: off)' },
  { key: 'autostart', example: '1', help: 'start training as soon as the page is ready' },
  { key: 'embed', example: '1', help: 'the compact layout for an iframe (no header, no explanations, no embed builder)' },
  { key: 'hide', example: 'views,explain', help: 'panels to hide, comma-separated: the ids below' },
  { key: 'lang', example: 'fa', values: ['en', 'fa'], help: "the page's language: en or fa (Persian, right to left); default: the first of the browser's languages the page has" },
  { key: 'sw', example: '0', help: "do not register the site's service worker (it isolates the page on a host without COOP/COEP headers)" },
];

// The ids `hide` takes: the page's panels.
export const PANELS = [
  { id: 'header', what: 'the title and the introduction' },
  { id: 'controls', what: 'the buttons, methods and settings' },
  { id: 'knobs', what: 'the settings only' },
  { id: 'status', what: 'the status line (step, images/s, backend, threads)' },
  { id: 'plots', what: "the loss panels, one per local method against SimCLR's" },
  { id: 'claims', what: 'the memory and accuracy panels' },
  { id: 'memory', what: 'peak memory of one training step' },
  { id: 'accuracy', what: 'kNN accuracy while it trains' },
  { id: 'longrun', what: 'the long native runs and their checkpoints' },
  { id: 'views', what: 'the two augmented views of each image' },
  { id: 'explain', what: 'what each method does' },
];

export const PAGE_KEY_NAMES = PAGE_KEYS.map((k) => k.key);
// The backends `backend=` takes (settings.js checks the URL's, embed.js offers them).
export const BACKENDS = PAGE_KEYS.find((k) => k.key === 'backend').values;

// The README's list (markdown), from the two tables.
export function markdown() {
  const keys = PAGE_KEYS.map((k) => `| \`${k.key}\` | \`${k.key}=${k.example}\` | ${k.help} |`);
  const panels = PANELS.map((p) => `| \`${p.id}\` | ${p.what} |`);
  return ['| key | example | what it does |', '|---|---|---|', ...keys, '', '| `hide` id | the panel |', '|---|---|', ...panels].join('\n');
}
