// @ts-check
/**
 * The arrows of the architecture, as lint rules: `pipeline/` and `commands/` define the ports they need and
 * `slack/`, `store/` and `halo/` implement them, so the inner folders never import the outer ones. Imported by
 * eslint.config.js and by test/unit/boundaries.test.ts, which checks that each rule does fail a bad import.
 */

/** An import path that reaches `folder/rest` through relative steps, e.g. `../slack/slack-chat.ts`. */
const into = (/** @type {string} */ folder, rest = '') => `^(\\.\\.?/)+(.*/)?${folder}/${rest}`;

/** Imports that `pipeline/` and `commands/` must not make. */
export const innerRestrictions = [
  {
    regex: '^@slack/',
    message: 'pipeline/ and commands/ do not know Slack: define a port (see src/pipeline/chat-port.ts).',
  },
  {
    regex: into('slack'),
    message:
      'pipeline/ and commands/ define ports and slack/ implements them (see src/pipeline/chat-port.ts, src/commands/answers.ts): do not import slack/.',
  },
  {
    regex: into('store'),
    message:
      'The core owns the Store port (src/pipeline/store-port.ts); store/ implements it: do not import store/.',
  },
  {
    regex: into('halo', 'response-parse(\\.ts)?$'),
    message: "Halo's response validation is the client's business: use the HaloClient interface.",
  },
  {
    regex: into('halo', 'page-memo(\\.ts)?$'),
    allowTypeImports: true,
    message:
      "The page memo is the Halo client's: take a factory from the composition root (PollerOptions.pageMemo).",
  },
  {
    regex: into('halo', 'client(\\.ts)?$'),
    allowTypeImports: true,
    message: 'Use the HaloClient type; the composition root (src/app.ts) builds the client.',
  },
];

/** Imports that the pure parts (`slack/blocks/`, `domain/`) must not make. */
export const pureRestrictions = [
  { regex: '^@slack/', message: 'Renderers and domain logic are pure data: no Slack SDK.' },
  { regex: '^node:', message: 'Renderers and domain logic are pure: no Node built-ins.' },
  { regex: '(^|/)app(\\.ts)?$', message: 'Renderers and domain logic never import the app.' },
  {
    regex: into('(store|pipeline|commands|config)'),
    message: 'Renderers and domain logic take data, not services.',
  },
];

/**
 * Imports that the bot (`src/`) must not make: the stand-ins, the demo, the tests and the bench use the bot,
 * never the other way round, so that nothing but the real thing can run in production.
 */
export const botRestrictions = [
  {
    regex: into('(fakes|demo|test|bench)'),
    message: 'The bot (src/) never imports the stand-ins, the demo, the tests or the bench: they use it.',
  },
];

/** Imports that the shipped demo and the stand-ins it runs on must not make. */
export const demoRestrictions = [
  {
    regex: into('(test|bench)'),
    message:
      'demo/ and fakes/ are shipped (npm run demo): share what they need from fakes/, not from test/ or bench/.',
  },
];

export const boundaries = [
  // First, so that the narrower groups below (which repeat these patterns) replace it for their files.
  {
    files: ['src/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: botRestrictions }] },
  },
  {
    files: ['demo/**/*.ts', 'fakes/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: demoRestrictions }] },
  },
  {
    files: ['src/pipeline/**/*.ts', 'src/commands/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [...innerRestrictions, ...botRestrictions] },
      ],
    },
  },
  {
    files: ['src/slack/blocks/**/*.ts', 'src/domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [...pureRestrictions, ...botRestrictions] },
      ],
    },
  },
];
