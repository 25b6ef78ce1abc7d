// @ts-check
/**
 * Compiles src/ to dist/ with TypeScript (tsconfig.build.json), so that `npm start` runs plain JavaScript
 * (`node dist/main.js`): no TypeScript loader in production, and no loader's start-up time or memory.
 *
 *   node build.js                         build now (`npm run build`)
 *   node build.js --if-stale              build only if dist/ is missing or older than src/ (`prestart`)
 *   node build.js --if-stale --optional   the same, but without TypeScript say so and succeed (`prepare`)
 *
 * `prepare` runs on every `npm ci`, including a production one (`npm ci --omit=dev`), which installs no
 * TypeScript: there the hook must not fail the install, since the build output may come from elsewhere (the
 * Dockerfile's build stage). `prestart` then refuses to start a missing or stale dist/ and says how to fix it.
 * Plain JavaScript, not TypeScript, because it must run where only production dependencies are installed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('.', import.meta.url));
const DIST = join(ROOT, 'dist');
/** Written last, with the time the build began: a build cut short, or a source saved during it, reads as stale. */
const STAMP = join(DIST, '.built');
/** Everything the output depends on; a directory's time changes when a file in it is removed or renamed. */
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json'];

const args = process.argv.slice(2);
const unknown = args.filter((arg) => arg !== '--if-stale' && arg !== '--optional');
if (unknown.length > 0) {
  fail(`unknown argument ${JSON.stringify(unknown[0])}; the options are --if-stale and --optional`);
}

/** The newest modification time among `path` and, for a directory, everything below it. */
function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

function isCurrent() {
  if (!existsSync(STAMP)) return false;
  const inputs = INPUTS.map((name) => join(ROOT, name)).filter((path) => existsSync(path));
  // Without sources (an image or a folder holding only the build output) dist/ is all there is.
  return inputs.every((path) => newest(path) <= statSync(STAMP).mtimeMs);
}

/**
 * @param {string} message
 * @returns {never}
 */
function fail(message) {
  process.stderr.write(`halo-slack build: ${message}\n`);
  process.exit(1);
}

if (args.includes('--if-stale') && isCurrent()) process.exit(0);

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  const why =
    'TypeScript is not installed (a production install, `npm ci --omit=dev`, leaves it out), and dist/ is ' +
    `${existsSync(STAMP) ? 'older than src/' : 'missing'}.`;
  if (args.includes('--optional')) {
    process.stderr.write(`halo-slack build: skipped: ${why} \`npm start\` will need dist/ built.\n`);
    process.exit(0);
  }
  fail(
    `${why} Run \`npm ci\` (with the dev dependencies) and \`npm run build\` here, or copy in a dist/ built ` +
      'from the same sources.',
  );
}

if (!existsSync(join(ROOT, 'src'))) fail(`there is no src/ in ${ROOT} to build dist/ from.`);
const began = new Date();
// From scratch, so that a module removed from src/ does not linger in dist/.
rmSync(DIST, { recursive: true, force: true });
process.stderr.write('halo-slack build: compiling src/ to dist/ (tsc -p tsconfig.build.json) …\n');
const result = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], {
  cwd: ROOT,
  stdio: 'inherit',
});
if (result.status !== 0) {
  fail(`tsc failed (${String(result.status ?? result.signal)}): fix the errors above, then build again.`);
}
writeFileSync(STAMP, '');
utimesSync(STAMP, began, began);
