/**
 * `npm run rotate-keys`: re-encrypts every secret the store holds (bot tokens, Halo keys) under the newest key of
 * HALO_ENCRYPTION_KEYS, so that the older keys can then be dropped from it. Reads the settings as `npm start`
 * does (`--no-env-file`: the real environment only). With SQLite, stop the bot first (it holds the file); with
 * PostgreSQL it may run beside the bots, once each of them has the new key first in its list.
 */
import { ConfigError, parseConfig } from './config.ts';
import { loadEnvFile } from './env-file.ts';
import { createLogger } from './log.ts';
import { openStore } from './store/open.ts';
import { fingerprint } from './store/secret-box.ts';
import { StoreError } from './pipeline/store-port.ts';

const NO_ENV_FILE = '--no-env-file';

async function rotate(): Promise<string> {
  const args = process.argv.slice(2);
  const unknown = args.filter((arg) => arg !== NO_ENV_FILE);
  if (unknown.length > 0)
    throw new ConfigError([`unknown argument ${JSON.stringify(unknown[0])}; the only one is ${NO_ENV_FILE}`]);
  let env: Readonly<Record<string, string | undefined>> = process.env;
  let problems: readonly string[] = [];
  if (!args.includes(NO_ENV_FILE)) ({ env, problems } = loadEnvFile('.env', process.env));
  const config = parseConfig(env, problems);
  const newest = config.encryptionKeys[0];
  if (newest === undefined)
    throw new ConfigError([
      'HALO_ENCRYPTION_KEYS is not set: put the new key first (`openssl rand -base64 32`), then the old ones',
    ]);
  const log = createLogger({ level: 'warn', format: config.logFormat, secrets: [] });
  const { tenants } = await openStore(config.database, {
    log,
    replicaId: config.replicaId,
    leaseTtlMs: 10_000,
    encryptionKeys: config.encryptionKeys,
  });
  try {
    const rewritten = await tenants.reencryptSecrets();
    const others = config.encryptionKeys.length - 1;
    return (
      `Re-encrypted ${rewritten} secret${rewritten === 1 ? '' : 's'} under the key ${fingerprint(newest)}.` +
      (others > 0
        ? ` Every secret is now under it: the other ${others === 1 ? 'key' : `${others} keys`} may be removed from HALO_ENCRYPTION_KEYS once every replica runs with this key first.`
        : '')
    );
  } finally {
    await tenants.close();
  }
}

rotate().then(
  (done) => process.stdout.write(`${done}\n`),
  (error: unknown) => {
    const message =
      error instanceof ConfigError
        ? `halo-slack rotate-keys: settings to fix:\n${error.problems.map((p) => `  - ${p}`).join('\n')}`
        : error instanceof StoreError
          ? `halo-slack rotate-keys: ${error.message}`
          : `halo-slack rotate-keys failed: ${error instanceof Error ? error.message : String(error)}`;
    process.stderr.write(`${message}\nNothing was changed.\n`);
    process.exitCode = 1;
  },
);
