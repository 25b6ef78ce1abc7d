// compose.yaml cannot be run here (no container engine): check what would break it on a real one. The bot's
// DATABASE_URL must reach the postgres service with that service's own user, password and database, and be a
// setting the bot accepts; two replicas, which cannot share a host port; time for the bot's shutdown drain.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';

interface Service {
  image?: string;
  build?: string;
  environment?: Record<string, string>;
  env_file?: string;
  deploy?: { replicas?: number };
  ports?: string[];
  stop_grace_period?: string;
  depends_on?: Record<string, { condition?: string }>;
}

const compose = parse(readFileSync(new URL('../../compose.yaml', import.meta.url), 'utf8')) as {
  services: Record<string, Service>;
};

/** Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}` over `vars` (as it reads them from .env). */
function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, op?: string, arg?: string) => {
    const value = vars[name];
    if (value !== undefined && value !== '') return value;
    if (op === '-') return arg ?? '';
    throw new Error(`compose would stop: ${arg ?? `${name} is not set`}`);
  });
}

describe('compose.yaml', () => {
  const { bot, postgres } = compose.services;

  it('runs two replicas of the image built from the Dockerfile, with settings from .env', () => {
    expect(bot?.build).toBe('.');
    expect(bot?.deploy?.replicas).toBe(2);
    expect(bot?.env_file).toBe('.env');
    expect(bot?.depends_on?.postgres?.condition).toBe('service_healthy');
  });

  it("points the bot's DATABASE_URL at the postgres service, with its user, password and database", () => {
    const vars = { POSTGRES_PASSWORD: 's3cret-from-dotenv' };
    const env = postgres!.environment!;
    const url = new URL(interpolate(bot!.environment!.DATABASE_URL!, vars));
    expect(url.protocol).toBe('postgres:');
    expect(url.hostname).toBe('postgres');
    expect(url.port).toBe('5432');
    expect(url.username).toBe(env.POSTGRES_USER);
    expect(url.password).toBe(interpolate(env.POSTGRES_PASSWORD!, vars));
    expect(url.pathname).toBe(`/${env.POSTGRES_DB!}`);
    const config = parseConfig({
      SLACK_BOT_TOKEN: 'xoxb-1111-2222-abcdefghijklmnop',
      SLACK_SIGNING_SECRET: 'signing-secret-0123456789abcdef',
      HALO_API_KEY: 'halo-api-key-0123456789abcdef',
      DATABASE_URL: url.href,
    });
    expect(config.database.kind).toBe('postgres');
  });

  it('refuses to start without a database password rather than use a default one', () => {
    expect(() => interpolate(postgres!.environment!.POSTGRES_PASSWORD!, {})).toThrow(/POSTGRES_PASSWORD/);
    expect(() => interpolate(bot!.environment!.DATABASE_URL!, {})).toThrow(/POSTGRES_PASSWORD/);
  });

  it("publishes no host port (two replicas cannot share one), and waits longer than the bot's shutdown drain", () => {
    expect(bot?.ports).toBeUndefined();
    // main.ts ends the process at the latest 9.5 s after SIGTERM.
    expect(Number(/^(\d+)s$/.exec(bot!.stop_grace_period!)?.[1])).toBeGreaterThan(10);
  });
});
