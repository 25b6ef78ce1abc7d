/**
 * The container recipe, proven without a container engine (none runs where the tests run). The Dockerfile's final
 * stage is replayed, instruction by instruction, in a temporary folder that stands for the image's /app; the bot
 * is started there with the image's CMD (which must be `npm start`'s command) and asked with its HEALTHCHECK.
 * The build stage's /app is this checkout after `npm ci` and a build (`node build.js --if-stale`: built here only
 * when dist/ is missing or older than src/).
 *
 * The replay takes two liberties, both for the no-network rule and for speed: `npm ci` runs with `--offline`, from
 * npm's cache, which this checkout's own `npm ci` filled; and `npm cache clean --force` is skipped, since it would
 * empty that cache. `--ignore-scripts` is the Dockerfile's own: better-sqlite3's native binding is not compiled
 * (two minutes) but copied by the Dockerfile's next COPY from the build stage, here this checkout's node_modules,
 * built by its `npm ci` for this machine and Node.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFlags } from '../../bench/bot.ts';
import {
  botEnv,
  getJson,
  ROOT,
  spawnBot,
  startFakes,
  waitFor,
  type ChildBot,
  type Fakes,
} from '../harness.ts';

interface Instruction {
  readonly keyword: string;
  readonly rest: string;
}

/** The Dockerfile's instructions by stage: comments dropped, `\` continuations joined. */
function dockerfileStages(text: string): Instruction[][] {
  const joined = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const stages: Instruction[][] = [];
  for (const line of joined.split('\n')) {
    const match = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (match === null) continue;
    const instruction = { keyword: match[1]!, rest: match[2]!.trim() };
    if (instruction.keyword === 'FROM') stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  return stages;
}

const IMAGE_ROOT = '/app';

/** A path in the image (absolute, or relative to WORKDIR /app) as a path under `folder`. */
function inFolder(folder: string, path: string): string {
  const relative = path.startsWith(`${IMAGE_ROOT}/`) ? path.slice(IMAGE_ROOT.length + 1) : path;
  if (relative.startsWith('/')) throw new Error(`the replay maps only ${IMAGE_ROOT}, not ${path}`);
  return join(folder, relative);
}

/** Runs a command to its end: its exit code (or the signal that ended it, or the error that kept it from starting). */
function run(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): { code: number | string; output: string } {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8' });
  const code = result.status ?? result.signal ?? result.error?.message ?? 'unknown';
  return { code, output: `${result.stdout}${result.stderr}` };
}

/** What `docker build` would run for the final stage, done to `folder`; returns the stage's ENV. */
function replayFinalStage(stage: readonly Instruction[], folder: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { keyword, rest } of stage) {
    if (keyword === 'ENV') {
      const [name, ...value] = rest.split('=');
      env[name!] = value.join('=');
    } else if (keyword === 'COPY') {
      const words = rest.split(/\s+/);
      const fromBuild = words[0] === '--from=build';
      const paths = fromBuild ? words.slice(1) : words;
      const dest = paths.pop()!;
      for (const source of paths) {
        // The build stage's /app is this checkout, built; the build context is this checkout too.
        const from = fromBuild ? inFolder(ROOT, source) : join(ROOT, source);
        const to = dest.endsWith('/')
          ? join(inFolder(folder, dest), source.split('/').at(-1)!)
          : inFolder(folder, dest);
        cpSync(from, to, { recursive: true, dereference: true });
      }
    } else if (keyword === 'RUN') {
      for (const command of rest.split('&&').map((c) => c.trim())) {
        if (command.startsWith('npm ci ')) {
          const result = run(
            'npm',
            [...command.split(/\s+/).slice(1), '--offline', '--no-audit', '--no-fund'],
            folder,
            {
              ...process.env,
              ...env,
            },
          );
          if (result.code !== 0) {
            throw new Error(
              `${command} --offline failed (${String(result.code)}); npm's cache lacks a package? Run \`npm ci\` ` +
                `in the checkout (it fills the cache), then the test again:\n${result.output}`,
            );
          }
        } else if (command === 'npm cache clean --force') {
          // Skipped: the replay's `npm ci --offline` reads that cache.
        } else if (command.startsWith('mkdir -p ')) {
          for (const dir of command.split(/\s+/).slice(2))
            mkdirSync(inFolder(folder, dir), { recursive: true });
        } else if (command.startsWith('chown ')) {
          // Skipped: ownership is the image's user's, checked from USER below.
        } else {
          throw new Error(`the replay does not know the final stage's \`RUN ${command}\`: teach it`);
        }
      }
    }
  }
  return env;
}

/** `CMD ["a", "b"]` (exec form, the only one the recipe uses) as its words. */
function execForm(text: string): string[] {
  return JSON.parse(text) as string[];
}

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const finalStage = dockerfileStages(dockerfile).at(-1)!;
const instruction = (keyword: string): string =>
  finalStage.findLast((i) => i.keyword === keyword)?.rest ?? `(no ${keyword} in the final stage)`;

let image: string;
let imageEnv: Record<string, string>;
let fakes: Fakes | undefined;
let bot: ChildBot | undefined;

beforeAll(() => {
  const build = run(process.execPath, [join(ROOT, 'build.js'), '--if-stale'], ROOT);
  if (build.code !== 0) throw new Error(`node build.js --if-stale failed:\n${build.output}`);
  image = mkdtempSync(join(tmpdir(), 'halo-slack-image-'));
  imageEnv = replayFinalStage(finalStage, image);
}, 120_000);

afterAll(async () => {
  if (bot !== undefined && bot.child.exitCode === null) {
    bot.child.kill('SIGKILL');
    await bot.exited;
  }
  await fakes?.close();
  rmSync(image, { recursive: true, force: true });
});

/** Runs the image's HEALTHCHECK command in the image folder, as the engine would inside the container. */
function healthcheck(port: number): number | string {
  const words = execForm(instruction('HEALTHCHECK').replace(/^(--\S+\s+)*CMD\s+/, ''));
  expect(words[0]).toBe('node');
  return run(process.execPath, words.slice(1), image, {
    ...imageEnv,
    PATH: process.env.PATH ?? '',
    PORT: String(port),
  }).code;
}

// npm and a bot start, one after the other: room for a loaded 2-core machine.
describe('the container image, replayed without an engine', { timeout: 90_000 }, () => {
  it('holds the production dependencies only, runs as a non-root user, keeps SQLite in a volume', () => {
    expect(finalStage.some((i) => i.keyword === 'RUN' && i.rest.startsWith('npm ci --omit=dev'))).toBe(true);
    // tsx and TypeScript are build tools: a production install leaves them out.
    for (const dev of ['tsx', 'typescript', 'esbuild', 'vitest']) {
      expect(existsSync(join(image, 'node_modules', dev)), dev).toBe(false);
    }
    expect(
      existsSync(join(image, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node')),
    ).toBe(true);
    expect(instruction('USER')).not.toMatch(/^(root|0)(:|$)/);
    expect(execForm(instruction('VOLUME'))).toEqual([`${IMAGE_ROOT}/data`]);
    expect(dockerfileStages(dockerfile)[0]![0]!.rest).toMatch(/^node:20-slim\b/);
    expect(finalStage[0]!.rest).toMatch(/^node:20-slim$/);
  });

  it('starts with npm start’s command, answers /healthz and its HEALTHCHECK, writes SQLite to the volume', async () => {
    const cmd = execForm(instruction('CMD'));
    expect(cmd).toEqual(['node', ...startFlags(), 'dist/main.js', '--no-env-file']);
    fakes = await startFakes();
    fakes.halo.addEvent();
    // The default DATABASE_URL (sqlite:./data/halo-slack.db): the image's volume.
    const env = botEnv(fakes);
    delete env.DATABASE_URL;
    bot = await spawnBot({ ...env, ...imageEnv }, { cwd: image, args: cmd.slice(1) });
    const health = await getJson(`${bot.url}/healthz`);
    expect(health.status).toBe(200);
    await waitFor('a first poll', () => /poll: baseline recorded/.test(bot!.output()), 20_000);
    expect(existsSync(join(image, 'data', 'halo-slack.db'))).toBe(true);

    // A new event goes all the way to Slack: the compiled bot, on production dependencies only, works.
    fakes.halo.addEvent({ key: 'target-port-open' });
    await fakes.slack.waitFor(() => fakes!.slack.postsTo('CALERTS')[0]);

    const port = Number(new URL(bot.url).port);
    expect(healthcheck(port)).toBe(0);
    bot.child.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
    expect(healthcheck(port)).toBe(1);
  });

  it('on a production install of the sources, prepare does not fail and npm start says how to build', () => {
    // A clone installed with `npm ci --omit=dev`: sources, no TypeScript, no dist/.
    for (const name of ['src', 'tsconfig.json', 'tsconfig.build.json']) {
      cpSync(join(ROOT, name), join(image, name), { recursive: true });
    }
    rmSync(join(image, 'dist'), { recursive: true, force: true });
    const env = { ...process.env, ...imageEnv };
    const prepare = run('npm', ['run', 'prepare'], image, env);
    expect(prepare.code, prepare.output).toBe(0);
    expect(prepare.output).toMatch(/skipped: TypeScript is not installed/);
    const start = run('npm', ['start', '--', '--no-env-file'], image, env);
    expect(start.code).toBe(1);
    expect(start.output).toMatch(/TypeScript is not installed .* and dist\/ is missing\. Run `npm ci`/s);
    expect(start.output).not.toMatch(/halo-slack started/);
  });
});
