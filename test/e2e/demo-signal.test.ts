/**
 * Ctrl-C while `npm run demo` is still starting (the bot is up, the page not yet): the demo waits for the start
 * to finish, then stops everything it started and exits 0, without ever printing an address.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../harness.ts';

it('stops cleanly when Ctrl-C (SIGINT) comes during start-up', async () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { demo: string } };
  const [node, ...args] = pkg.scripts.demo.trim().split(/\s+/);
  expect(node).toBe('node');
  const child = spawn(process.execPath, [...args, '--port', '0'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  try {
    await expect.poll(() => output, { timeout: 20_000, interval: 5 }).toContain('demo: the bot is up');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  expect(output).toContain('halo-slack demo: stopping');
  expect(output).toContain('halo-slack demo: stopped');
  expect(output).not.toContain('in a browser');
});
