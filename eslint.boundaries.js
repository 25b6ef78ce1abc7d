// @ts-check
/**
 * The arrows of the architecture, as lint rules, one rule a folder. Arrows point inward:
 *
 * | folder                      | what it is                                   | may import                                       |
 * | --------------------------- | -------------------------------------------- | ------------------------------------------------ |
 * | `domain/`                   | pure data and rules (events, severity, time) | `domain/` only                                   |
 * | `slack/blocks/`             | pure Block Kit renderers                     | itself, `domain/`                                |
 * | `pipeline/`, `commands/`    | the core: polling, routing, delivery, `/halo` | the core, `domain/`, the kernel; defines ports   |
 * | `halo/`, `store/`           | adapters that implement the core's ports     | their own folder, their port, `domain/`, kernel  |
 * | `slack/`                    | the driving adapter (Bolt, HTTP, Socket Mode) | the core, `domain/`, the kernel, `config.ts`     |
 * | kernel (`log`, `clock` …)   | what every layer shares                      | other kernel files                               |
 * | `app.ts`, `main.ts` …       | the composition root: wires, nothing more    | anything in `src/`                               |
 * | `fakes/`, `demo/`           | stand-ins and the demo, shipped              | `src/`, `fakes/`                                 |
 *
 * So the core never imports an adapter (not even its error classes or helpers), no adapter imports another, and
 * nothing in `src/` imports the stand-ins, the demo, the tests or the bench. Dynamic `import()` is refused in
 * `src/` altogether, since a path computed at run time would pass every rule here. test/unit/boundaries.test.ts
 * checks that each rule does fail a bad import and lets a good one through.
 */

/** An import path that reaches `folder/rest` through relative steps, e.g. `../slack/slack-chat.ts`. */
const into = (/** @type {string} */ folder, rest = '') => `^(\\.\\.?/)+(.*/)?${folder}/${rest}`;

/** The composition root and the edge services it builds: only the root imports them. */
const ROOT_ONLY =
  '(app|app-[\\w-]+|main|config|config-[\\w-]+|metrics|env-file|runtime-memory|startup-[\\w-]+)';
/** A file of `src/` itself (the kernel or the root), reached from one folder down. */
const rootFile = (/** @type {string} */ name) => `^\\.\\./${name}(\\.ts)?$`;

const noDynamicImport = {
  selector: 'ImportExpression',
  message:
    'No dynamic import() in src/: a path chosen at run time escapes the boundary rules. Import statically.',
};

/** Imports that nothing in `src/` may make. */
export const botRestrictions = [
  {
    regex: into('(fakes|demo|test|bench)'),
    message: 'The bot (src/) never imports the stand-ins, the demo, the tests or the bench: they use it.',
  },
];

/** What the core (`pipeline/`, `commands/`) may not import. */
export const coreRestrictions = [
  {
    regex: '^@slack/',
    message: 'The core does not know Slack: define a port (see src/pipeline/chat-port.ts).',
  },
  {
    // Listed: async_hooks carries a poll's priority lane through its Halo requests (pipeline/halo-lane.ts); it
    // does no I/O.
    regex: '^node:(?!async_hooks$)',
    message:
      'The core uses no Node built-in but node:async_hooks: I/O belongs to an adapter behind a port the core defines.',
  },
  {
    regex: '^(ky|kysely|pg|better-sqlite3|prom-client|dotenv)$',
    message: 'That package is an adapter’s: the core reaches it through a port.',
  },
  {
    regex: into('slack'),
    message:
      'The core defines ports and slack/ implements them (see src/pipeline/chat-port.ts): do not import slack/.',
  },
  {
    regex: into('store'),
    message:
      'The core owns the Store port (src/pipeline/store-port.ts); store/ implements it: do not import store/.',
  },
  {
    regex: into('halo'),
    message:
      'The core owns the Halo port (src/pipeline/halo-port.ts); halo/ implements it: do not import halo/.',
  },
  {
    regex: rootFile(ROOT_ONLY),
    message: 'The core never imports the composition root or its edge services (app, config, metrics …).',
  },
];

/** What the pure parts (`slack/blocks/`, `domain/`) may not import. */
export const pureRestrictions = [
  { regex: '^@slack/', message: 'Renderers and domain logic are pure data: no Slack SDK.' },
  { regex: '^node:', message: 'Renderers and domain logic are pure: no Node built-ins.' },
  {
    regex: into('(store|halo)'),
    message: 'Renderers and domain logic take data, not services: no adapter.',
  },
  {
    regex: `^(\\.\\./)+${ROOT_ONLY}(\\.ts)?$`,
    message: 'Renderers and domain logic never import the composition root (app, config, metrics …).',
  },
  {
    // Renderers draw the core's data (an Answer, an outbox row), so its types may come in; its code may not.
    regex: into('(pipeline|commands)'),
    allowTypeImports: true,
    message: 'Renderers take the core’s data (type imports), never its services or logic.',
  },
];

/** A renderer draws from data alone: not from the rest of the Slack adapter around it. */
export const blocksRestrictions = [
  {
    regex: '^\\.\\./(?!\\.\\./)',
    message:
      'slack/blocks/ is pure: it never imports the Slack adapter around it (clients, listeners, servers).',
  },
];

/** `domain/` is the innermost ring: it imports only itself. */
export const domainRestrictions = [
  { regex: '^\\.\\./', message: 'domain/ imports only domain/: it is what every other folder builds on.' },
];

/** An adapter implements its port: it may not reach into another adapter, the root, or the core's logic. */
const adapterRestrictions = (/** @type {string} */ self, /** @type {string} */ ports) => [
  {
    regex: into(`(${['slack', 'store', 'halo'].filter((f) => f !== self).join('|')})`),
    message: `${self}/ is an adapter: it never imports another adapter (slack/, store/, halo/). Share through a port.`,
  },
  {
    regex: into('pipeline', `(?!(${ports})(\\.ts)?$)`),
    message: `${self}/ implements the core's port (src/pipeline/${ports.split('|')[0]}.ts) and imports nothing else of the core.`,
  },
  { regex: into('commands'), message: `${self}/ never imports the command logic: that is the core's.` },
  {
    regex: rootFile(ROOT_ONLY),
    message: `${self}/ never imports the composition root: it is handed what it needs.`,
  },
];

export const haloRestrictions = adapterRestrictions('halo', 'halo-port|halo-errors');
export const storeRestrictions = adapterRestrictions('store', 'store-port|tenancy-port|lease-port');

/** The Slack adapter drives the core (commands, views), so it may import inward, but never the other adapters. */
export const slackRestrictions = [
  {
    regex: into('(store|halo)'),
    message: 'slack/ never imports store/ or halo/: it reaches them through the core (src/commands/).',
  },
  { regex: rootFile('(app|main)'), message: 'slack/ never imports the composition root.' },
];

/** The kernel (log, clock, abort, delays, redact) is shared by every layer, so it imports none of them. */
export const kernelRestrictions = [
  {
    regex: '^\\./(pipeline|commands|slack|store|halo|domain)/',
    message:
      'The kernel files (log, clock, abort, delays, redact) import no layer: every layer imports them.',
  },
  { regex: '^\\./(app|main|metrics)(\\.ts)?$', message: 'The kernel never imports the composition root.' },
];

/** Imports that the shipped demo and the stand-ins it runs on must not make. */
export const demoRestrictions = [
  {
    regex: into('(test|bench)'),
    message:
      'demo/ and fakes/ are shipped (npm run demo): share what they need from fakes/, not from test/ or bench/.',
  },
];

/** @returns {import('eslint').Linter.Config} */
const restrict = (/** @type {string[]} */ files, /** @type {object[]} */ patterns) => ({
  files,
  rules: {
    '@typescript-eslint/no-restricted-imports': ['error', { patterns: [...patterns, ...botRestrictions] }],
    'no-restricted-syntax': ['error', noDynamicImport],
  },
});

/** @type {import('eslint').Linter.Config[]} */
export const boundaries = [
  // First, so that the narrower groups below (which repeat these patterns) replace it for their files.
  restrict(['src/**/*.ts'], []),
  {
    files: ['demo/**/*.ts', 'fakes/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: demoRestrictions }] },
  },
  restrict(['src/{abort,clock,delays,log,redact}.ts'], kernelRestrictions),
  restrict(['src/pipeline/**/*.ts', 'src/commands/**/*.ts'], coreRestrictions),
  restrict(['src/halo/**/*.ts'], haloRestrictions),
  restrict(['src/store/**/*.ts'], storeRestrictions),
  restrict(['src/slack/**/*.ts'], slackRestrictions),
  restrict(['src/slack/blocks/**/*.ts'], [...pureRestrictions, ...blocksRestrictions]),
  restrict(['src/domain/**/*.ts'], [...pureRestrictions.slice(0, 2), ...domainRestrictions]),
];
