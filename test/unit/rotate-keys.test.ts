/**
 * `npm run rotate-keys` (src/rotate-keys.ts), run as a process on a database whose secrets are sealed under an
 * old key: every secret is re-sealed under the new one, and the old key can go.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteTenants } from '../../src/store/sqlite.ts';
import { fingerprint } from '../../src/store/secret-box.ts';
import { ROOT } from '../harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'halo-rotate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const [OLD, NEW] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** The command as a process, with exactly these settings (no .env). */
function rotateKeys(env: Record<string, string>): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(
    process.execPath,
    ['--import', TSX, join(ROOT, 'src', 'rotate-keys.ts'), '--no-env-file'],
    {
      cwd: dir,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '',
        SLACK_BOT_TOKEN: 'xoxb-1111-2222-abcdefghijklmnop',
        SLACK_SIGNING_SECRET: 'signing-secret-0123456789abcdef',
        HALO_API_KEY: 'halo-api-key-0123456789abcdef',
        ...env,
      },
    },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm run rotate-keys', { timeout: 60_000 }, () => {
  it('re-encrypts every secret under the newest key, says how many, and the old key can then go', async () => {
    const path = join(dir, 'halo.db');
    let tenants = openSqliteTenants(path, [OLD]);
    const installation = {
      workspace: 'T1',
      teamId: 'T1',
      enterpriseId: null,
      isEnterpriseInstall: false,
      botUserId: 'UBOT',
      botId: 'BBOT',
      botToken: 'xoxb-T1-token',
      raw: '{}',
      installedBy: 'U1',
      installedAt: 1,
    };
    await tenants.saveInstallation(installation);
    const { account } = await tenants.connectAccount({
      workspace: 'T1',
      name: 'prod',
      apiUrl: 'https://api.example',
      apiKey: 'hk-0123456789',
      createdBy: 'U1',
      createdAt: 2,
    });
    await tenants.close();

    const keys = `${NEW.toString('base64')},${OLD.toString('base64')}`;
    const env = { DATABASE_URL: `sqlite:${path}`, HALO_ENCRYPTION_KEYS: keys };
    const first = rotateKeys(env);
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe(
      `Re-encrypted 3 secrets under the key ${fingerprint(NEW)}. Every secret is now under it: the other key may be removed from HALO_ENCRYPTION_KEYS once every replica runs with this key first.\n`,
    );
    expect(first.code).toBe(0);
    expect(rotateKeys(env).stdout).toMatch(/^Re-encrypted 0 secrets /);

    tenants = openSqliteTenants(path, [NEW]);
    expect(await tenants.installation('T1')).toEqual(installation);
    expect(await tenants.accounts()).toEqual([account]);
    await tenants.close();
  });

  it('refuses to run without HALO_ENCRYPTION_KEYS, saying what to set', () => {
    const run = rotateKeys({ DATABASE_URL: `sqlite:${join(dir, 'none.db')}` });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'halo-slack rotate-keys: settings to fix:\n  - HALO_ENCRYPTION_KEYS is not set: put the new key first (`openssl rand -base64 32`), then the old ones\nNothing was changed.\n',
    );
  });
});
