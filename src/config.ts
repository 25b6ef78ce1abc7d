/**
 * Configuration is read once, here, from the environment (dotenv fills gaps from `.env`; a real variable wins).
 * Every problem is collected so that a user fixes them all in one go rather than one per restart.
 */
import { parseDelayOverrides, PRODUCTION_DELAYS, type Delays } from './delays.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Config {
  readonly slack: {
    readonly botToken: string;
    readonly signingSecret: string;
    /** Always ends with `/`: the WebClient appends method names to it. */
    readonly apiUrl: string;
    readonly adminUsers: readonly string[];
  };
  readonly halo: {
    readonly apiKey: string;
    /** Never ends with `/`. */
    readonly apiUrl: string;
    readonly pollIntervalMs: number;
    readonly timeoutMs: number;
    readonly scanConcurrency: number;
  };
  readonly alerts: {
    readonly channel: string | null;
    readonly keys: readonly string[];
    readonly targetIds: readonly number[];
    readonly backfill: number;
    readonly digestThreshold: number;
  };
  readonly databasePath: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  /** Production delays unless `TEST_DELAYS` shortens some (tests only). */
  readonly delays: Delays;
}

export class ConfigError extends Error {
  override name = 'ConfigError' as const;
  constructor(readonly problems: readonly string[]) {
    super(
      `halo-slack cannot start: ${problems.length} setting${problems.length === 1 ? '' : 's'} to fix ` +
        `(set them in the environment or in .env; .env.example documents each):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export function parseConfig(env: Env): Config {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const required = (name: string, hint: string): string => {
    const value = read(name);
    if (value === undefined) problems.push(`${name} is missing: ${hint}`);
    return value ?? '';
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return Number(raw);
  };
  const url = (name: string, fallback: string): string => {
    const raw = read(name) ?? fallback;
    try {
      const parsed = new URL(raw);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http');
    } catch {
      problems.push(`${name} must be an http(s) URL, got "${withoutPassword(raw)}"`);
    }
    return raw;
  };
  const list = (name: string): string[] =>
    (read(name) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');

  const botToken = required(
    'SLACK_BOT_TOKEN',
    'copy the Bot User OAuth Token (xoxb-…) from your Slack app, OAuth & Permissions page',
  );
  if (botToken !== '' && !botToken.startsWith('xoxb-')) {
    problems.push('SLACK_BOT_TOKEN must be a bot token starting with "xoxb-" (OAuth & Permissions page)');
  }
  const signingSecret = required(
    'SLACK_SIGNING_SECRET',
    'copy the Signing Secret from your Slack app, Basic Information page',
  );
  const apiKey = required('HALO_API_KEY', 'create an API key in Halo Security under Account → API');

  let slackApiUrl = url('SLACK_API_URL', 'https://slack.com/api/');
  if (!slackApiUrl.endsWith('/')) slackApiUrl += '/';
  const haloApiUrl = url('HALO_API_URL', 'https://api.halosecurity.com/api/v1').replace(/\/+$/, '');

  const channel = read('HALO_ALERT_CHANNEL') ?? null;
  if (channel !== null && !/^[CGD][A-Z0-9]{2,}$/.test(channel)) {
    problems.push(
      `HALO_ALERT_CHANNEL must be a channel ID like C0123ABCD (open the channel's details in Slack, the ID is at the bottom), got "${channel}"`,
    );
  }
  const alertKeys = list('HALO_ALERT_KEYS');
  if (channel === null && (alertKeys.length > 0 || read('HALO_ALERT_TARGET_IDS') !== undefined)) {
    // Filters without the channel they filter would be ignored silently: the user surely meant something.
    problems.push(
      'HALO_ALERT_KEYS and HALO_ALERT_TARGET_IDS filter HALO_ALERT_CHANNEL, which is not set: set it, or remove the filters and use /halo subscribe',
    );
  }
  const targetIds: number[] = [];
  for (const raw of list('HALO_ALERT_TARGET_IDS')) {
    if (/^\d+$/.test(raw) && Number(raw) > 0 && Number(raw) <= 2 ** 31 - 1) targetIds.push(Number(raw));
    else problems.push(`HALO_ALERT_TARGET_IDS must be a comma list of positive whole numbers, got "${raw}"`);
  }
  const adminUsers = list('HALO_ADMIN_USERS');
  for (const user of adminUsers) {
    if (!/^[UW][A-Z0-9]{2,}$/.test(user)) {
      problems.push(
        `HALO_ADMIN_USERS must be a comma list of Slack user IDs like U0123ABCD (profile → ⋮ → Copy member ID), got "${user}"`,
      );
    }
  }

  const databaseUrl = read('DATABASE_URL') ?? 'sqlite:./data/halo-slack.db';
  let databasePath = '';
  if (databaseUrl.startsWith('sqlite:') && databaseUrl.length > 'sqlite:'.length) {
    databasePath = databaseUrl.slice('sqlite:'.length);
  } else {
    problems.push(
      `DATABASE_URL must look like sqlite:./data/halo-slack.db, got "${withoutPassword(databaseUrl)}"`,
    );
  }

  const logLevelRaw = (read('LOG_LEVEL') ?? 'info').toLowerCase();
  const logLevel = LOG_LEVELS.find((level) => level === logLevelRaw);
  if (logLevel === undefined)
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevelRaw}"`);

  const { overrides, problems: delayProblems } = parseDelayOverrides(read('TEST_DELAYS'));
  problems.push(...delayProblems);
  const { pollIntervalMs, haloTimeoutMs, ...delayOverrides } = overrides;
  const intervalSeconds = integer('HALO_POLL_INTERVAL_SECONDS', 60, 1, 86_400);
  const timeoutSeconds = integer('HALO_TIMEOUT_SECONDS', 10, 1, 300);

  const config: Config = {
    slack: { botToken, signingSecret, apiUrl: slackApiUrl, adminUsers },
    halo: {
      apiKey,
      apiUrl: haloApiUrl,
      pollIntervalMs: pollIntervalMs ?? intervalSeconds * 1000,
      timeoutMs: haloTimeoutMs ?? timeoutSeconds * 1000,
      scanConcurrency: integer('HALO_SCAN_CONCURRENCY', 4, 1, 16),
    },
    alerts: {
      channel,
      keys: alertKeys,
      targetIds,
      backfill: integer('HALO_BACKFILL', 0, 0, 1000),
      digestThreshold: integer('HALO_DIGEST_THRESHOLD', 20, 1, 10_000),
    },
    databasePath,
    port: integer('PORT', 3000, 0, 65_535),
    logLevel: logLevel ?? 'info',
    delays: { ...PRODUCTION_DELAYS, ...delayOverrides },
  };
  if (problems.length > 0) {
    // A secret pasted into the wrong variable would be echoed in a problem, and from there into a terminal or CI log.
    const secrets = [botToken, signingSecret, apiKey]
      .filter((s) => s.length >= 6)
      .sort((a, b) => b.length - a.length);
    throw new ConfigError(
      problems.map((problem) =>
        secrets.reduce((text, secret) => text.split(secret).join('[redacted]'), problem),
      ),
    );
  }
  return config;
}

/** `postgres://user:pass@host/db` and the like carry a password: a problem may show the URL, never that. */
function withoutPassword(raw: string): string {
  return raw.replace(/^([a-z][a-z\d+.-]*:\/\/[^/?#@:]*):[^/?#@]*@/i, '$1:[redacted]@');
}
