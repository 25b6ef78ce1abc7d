/**
 * `npm run demo [-- --port N] [--step-ms N]`: starts the demo (demo/run.ts), prints the page's address (again
 * whenever Enter is pressed), and on Ctrl-C (SIGINT) or SIGTERM stops the bot and every server and exits 0.
 */
import { parseArgs } from 'node:util';
import { startDemo, type RunningDemo } from './run.ts';

const USAGE = 'usage: npm run demo [-- --port N] [--step-ms N]   (port 0: any free port)';
const DEFAULT_PORT = 3030;
/** A new event every few seconds: slow enough to read each alert as it arrives. */
const DEFAULT_STEP_MS = 3000;
/** The bot stops within 10 s (its drain is 6 s); the demo adds its servers to that. */
const HARD_STOP_MS = 12_000;

function wholeNumber(
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
  name: string,
): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new Error(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

async function main(): Promise<void> {
  let port: number;
  let stepMs: number;
  try {
    const { values } = parseArgs({
      options: { port: { type: 'string' }, 'step-ms': { type: 'string' } },
      allowPositionals: false,
    });
    port = wholeNumber(values.port, DEFAULT_PORT, 0, 65_535, 'port');
    stepMs = wholeNumber(values['step-ms'], DEFAULT_STEP_MS, 50, 3_600_000, 'step-ms');
  } catch (error) {
    process.stderr.write(
      `halo-slack demo: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`,
    );
    process.exitCode = 2;
    return;
  }

  const starting = startDemo({ port, stepMs });
  // Listening from the start: Ctrl-C while the demo is still starting waits for it, then stops all of it, so
  // that no server, bot or temporary database outlives the process.
  const state = { stopping: false };
  const shutdown = (): void => {
    if (state.stopping) return;
    state.stopping = true;
    process.stdout.write('halo-slack demo: stopping\n');
    setTimeout(() => process.exit(1), HARD_STOP_MS).unref();
    starting
      .then(
        (demo) => demo.stop(),
        () => undefined,
      )
      .then(() => {
        process.stdout.write('halo-slack demo: stopped\n');
        process.exit(0);
      }, fail);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);

  let demo: RunningDemo;
  try {
    demo = await starting;
  } catch (error) {
    if (state.stopping) return;
    process.stderr.write(
      `halo-slack demo could not start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
    return;
  }
  if (state.stopping) return;
  // Printed last (the bot logs warnings and errors only, so no line a poll scrolls it away), and again on Enter.
  const address =
    `\n  halo-slack demo: open ${demo.url} in a browser. Ctrl-C stops it; Enter shows this again.\n` +
    '  (the real bot against a simulated Halo account and a local Slack stand-in; nothing leaves 127.0.0.1)\n\n';
  process.stdout.write(address);
  process.stdin.on('data', () => process.stdout.write(address));
}

function fail(error: unknown): void {
  process.stderr.write(`halo-slack demo: stopping failed: ${String(error)}\n`);
  process.exit(1);
}

void main();
