// A start that fails half-way, and an exception nothing catches while running: the process must end, not hang
// or run on in an unknown state.
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startBot } from '../../src/app.ts';
import { parseConfig } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { delay, FAST, ROOT } from '../harness.ts';
import { record, ROOMY, scenarioPerTest } from './scenario.ts';

const scenario = scenarioPerTest();

/** A port nobody listens on, or null when `port` is taken. */
function tryListen(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : null));
    });
  });
}

describe('a start that fails after the server is listening', ROOMY, () => {
  it('closes the server and stops what it started, so that the process can exit', async (context) => {
    const s = scenario.current;
    const { halo } = await s.start();
    halo.addEvent();
    const port = (await tryListen(0))!;
    const config = parseConfig(s.env({ PORT: String(port) }));
    const lines: string[] = [];
    const base = createLogger({
      level: 'debug',
      secrets: s.secrets(),
      write: (line) => lines.push(line),
    });
    // The start's last step fails (here its "started" line): the server listens and the poll loop runs by then.
    const log: Logger = {
      ...base,
      info(message, fields) {
        if (message === 'halo-slack started') throw new Error('injected: the last step of the start failed');
        base.info(message, fields);
      },
    };
    await expect(startBot(config, { log })).rejects.toThrow('injected');
    s.said.push(lines.join('\n'));
    expect(await tryListen(port), 'the port is free again').toBe(port);
    const requests = halo.requests.length;
    await delay(4 * FAST.pollInterval);
    expect(halo.requests.length, 'no poll after the failed start').toBe(requests);
    record(context, {
      area: 'Process',
      fault: 'start fails after the HTTP server listens',
      behaviour: 'closed the server (port free again) and stopped polling; the error reaches the caller',
      expected: null,
      delivered: null,
      duplicated: null,
    });
  });
});

describe('an exception nothing catches while running', ROOMY, () => {
  it('is logged, and the process exits 1 for its supervisor to restart it', async (context) => {
    const s = scenario.current;
    const { halo } = await s.start();
    halo.addEvent();
    const { code, output } = await s.runToExit(s.env(), 30_000, {
      preload: [join(ROOT, 'test', 'fixtures', 'throw-once-started.ts')],
    });
    expect(output).toMatch(/ERROR uncaught exception: exiting so that the supervisor restarts the bot/);
    expect(output).toContain('injected: an exception nothing catches');
    expect(code).toBe(1);
    record(context, {
      area: 'Process',
      fault: 'an exception nothing catches, while running',
      behaviour: `logged "uncaught exception", exit ${code}`,
      expected: null,
      delivered: null,
      duplicated: null,
    });
  });
});
