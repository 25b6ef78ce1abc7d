/**
 * `npm test`: type-check, lint and test at once, and fail if any of them fails.
 *
 * Run one after the other they took about 90 s on a 2-core machine, of which the type-check and the type-aware
 * lint were 25 s of one busy core while the tests, which mostly wait on sockets and timers, left the CPU half
 * idle. Run together they share it. The tests' output streams as it comes; the type-check's and the lint's are
 * printed whole when each ends, so that no two outputs interleave.
 */
import { spawn, type ChildProcess } from 'node:child_process';

interface Step {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Streamed as it comes rather than printed at the end. */
  readonly live?: boolean;
}

interface Outcome {
  readonly name: string;
  readonly code: number;
  readonly seconds: number;
}

const bin = (tool: string): string => `node_modules/.bin/${tool}`;

const only = process.argv.slice(2);
/**
 * The tests that run several bots, replicas or database servers at once, or thousands of steps: run after the
 * others, with the CPU to themselves. Beside the type-check, the lint and four other test files, a 2-core
 * machine made their processes wait seconds for a turn, which is what they measure (a replica's heartbeat, a
 * failover), not what the bot does.
 */
const HEAVY = ['test/isolation/', 'test/e2e/sharing', 'test/e2e/replicas', 'test/faults/pg-'];
const TESTS: Step = {
  name: 'tests',
  command: bin('vitest'),
  args: ['run', ...only, ...(only.length > 0 ? [] : HEAVY.map((path) => `--exclude=${path}**`))],
  live: true,
};
const HEAVY_TESTS: Step = {
  name: 'heavy tests',
  command: bin('vitest'),
  args: ['run', '--maxWorkers=2', ...HEAVY],
  live: true,
};
/** With arguments (`npm test -- FILE`), the tests they name only: the quick loop while working on them. */
const STEPS: readonly Step[] =
  only.length > 0
    ? [TESTS]
    : [
        { name: 'typecheck', command: bin('tsc'), args: ['-p', 'tsconfig.json', '--noEmit'] },
        // Prettier after ESLint, in one step: both are quick next to the tests, and read best together.
        { name: 'lint', command: 'sh', args: ['-c', `${bin('eslint')} . && ${bin('prettier')} --check .`] },
        TESTS,
      ];

const children = new Set<ChildProcess>();
// Ctrl-C reaches the whole process group anyway; a SIGTERM (a CI timeout, a supervisor) reaches only this
// process, and must not leave the tests and the bots they started running.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.on(signal, () => {
    for (const child of children) child.kill(signal);
    process.exitCode = 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15);
  });
}

function run(step: Step): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(step.command, step.args, {
      stdio: step.live === true ? 'inherit' : ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? (process.stdout.isTTY ? '1' : '0') },
    });
    children.add(child);
    const output: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
    const finish = (code: number): void => {
      children.delete(child);
      const seconds = (performance.now() - started) / 1000;
      if (step.live !== true) {
        const text = Buffer.concat(output).toString('utf8').trimEnd();
        process.stdout.write(
          `\n── ${step.name} (${code === 0 ? 'ok' : 'FAILED'}) ──\n${text === '' ? '' : `${text}\n`}`,
        );
      }
      resolve({ name: step.name, code, seconds });
    };
    child.on('error', (error) => {
      output.push(Buffer.from(`could not start ${step.command}: ${error.message}`));
      finish(127);
    });
    child.on('close', (code, signal) => finish(code ?? (signal === null ? 1 : 128)));
  });
}

const outcomes = await Promise.all(STEPS.map(run));
// Only after the rest, and only when it passed: a failure above is the one to read.
if (only.length === 0 && outcomes.every((o) => o.code === 0)) outcomes.push(await run(HEAVY_TESTS));
const summary = outcomes
  .map((o) => `${o.name} ${o.code === 0 ? 'ok' : `FAILED (exit ${o.code})`} in ${o.seconds.toFixed(1)} s`)
  .join(', ');
process.stdout.write(`\nnpm test: ${summary}\n`);
process.exitCode ??= outcomes.every((o) => o.code === 0) ? 0 : 1;
