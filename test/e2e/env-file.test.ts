// A user's `.env` must not change what a test runs: bots started by the harness get `--no-env-file` and exactly
// the environment the test gives them. The same `.env` is read when the bot is started as a user starts it.
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  botEnv,
  delay,
  getJson,
  ROOT,
  runBotToExit,
  spawnBot,
  startFakes,
  waitFor,
  type ChildBot,
  type Fakes,
} from '../harness.ts';

/** A realistic `.env` of someone trying the bot: real-looking secrets, one alert key, slow polls, quiet log. */
const USER_ENV_FILE = [
  'SLACK_BOT_TOKEN=xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx',
  'SLACK_SIGNING_SECRET=8f14e45fceea167a5a36dedd4bea2543',
  'HALO_API_KEY=4b9e2c0f7d1a4e6b8c3d5f7a9b1c2d3e',
  'HALO_ALERT_CHANNEL=C0SECURITY',
  'HALO_ALERT_KEYS=issue-new',
  'HALO_POLL_INTERVAL_SECONDS=3600',
  'LOG_LEVEL=error',
  '',
].join('\n');

let fakes: Fakes | undefined;
const bots: ChildBot[] = [];

afterEach(async () => {
  for (const bot of bots.splice(0)) {
    bot.child.kill('SIGKILL');
    await bot.exited;
  }
  await fakes?.close();
  fakes = undefined;
});

/** A folder holding the user's `.env`, used as the bot's working directory (where `npm start` looks for it). */
function folderWithEnvFile(text = USER_ENV_FILE): string {
  const dir = mkdtempSync(join(tmpdir(), 'halo-slack-envfile-'));
  writeFileSync(join(dir, '.env'), text);
  return dir;
}

/** Starts a bot in `cwd`, lets it record its baseline, adds a scan-start and a new-issue event: what is posted? */
async function postedKeys(readEnvFile: boolean): Promise<string[]> {
  fakes = await startFakes();
  const { halo, slack } = fakes;
  halo.addEvent();
  // Neither HALO_ALERT_KEYS nor any filter: the test means every event to reach CALERTS.
  const bot = await spawnBot(botEnv(fakes), { cwd: folderWithEnvFile(), readEnvFile });
  bots.push(bot);
  await waitFor('the baseline', () => /poll: baseline recorded/.test(bot.output()), 20_000);
  halo.addEvent({ key: 'target-scan-start' });
  halo.addEvent({ key: 'issue-new' });
  // Both were added at once, so one poll finds both: once the new issue is posted and the outbox is empty,
  // whatever that poll routed has been posted.
  for (;;) {
    const { body } = await getJson(`${bot.url}/healthz`);
    if (slack.posts.some((p) => p.text.includes('New Issue Found')) && body.alertsPending === 0) break;
    await delay(50);
  }
  return slack.posts.map((p) => (p.text.includes('Scan Started') ? 'target-scan-start' : 'issue-new'));
}

describe('.env', () => {
  it('is not read by a bot a test starts: the test environment is the whole environment', async () => {
    expect(await postedKeys(false)).toEqual(['target-scan-start', 'issue-new']);
  });

  it('is read by npm start without --no-env-file (the real environment still wins)', async () => {
    // HALO_ALERT_KEYS comes from .env; the poll interval and log level given by the test win over .env's.
    expect(await postedKeys(true)).toEqual(['issue-new']);
  });
});

describe('npm start with a .env a new user wrote', () => {
  it('.env.example copied unchanged: exit 1 naming each placeholder, like missing values', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'halo-slack-envfile-'));
    copyFileSync(join(ROOT, '.env.example'), join(dir, '.env'));
    const { code, output } = await runBotToExit({}, 20_000, { cwd: dir, readEnvFile: true });
    expect(code).toBe(1);
    expect(output).toContain('halo-slack cannot start: 3 settings to fix');
    expect(output).toContain('SLACK_BOT_TOKEN is still the example value from .env.example');
    expect(output).toContain('SLACK_SIGNING_SECRET is still the example value from .env.example');
    expect(output).toContain('HALO_API_KEY is still the example value from .env.example');
    expect(output, 'no stack trace').not.toMatch(/^\s+at /m);
  });

  it('HALO_ALERT_CHANNEL=#security: exit 1 saying "#" made it empty and that it takes a channel ID', async () => {
    fakes = await startFakes();
    const env = botEnv(fakes);
    delete env.HALO_ALERT_CHANNEL;
    const dir = folderWithEnvFile('# alerts\nHALO_ALERT_CHANNEL=#security\n');
    const { code, output } = await runBotToExit(env, 20_000, { cwd: dir, readEnvFile: true });
    expect(code).toBe(1);
    expect(output).toContain(
      'HALO_ALERT_CHANNEL in .env (line 2) starts with "#", which .env reads as a comment, so the setting was empty: ' +
        'HALO_ALERT_CHANNEL takes a channel ID like C0123ABCD',
    );
  });
});
