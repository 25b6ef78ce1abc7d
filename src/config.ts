/**
 * Configuration is read once, here, from the environment (dotenv fills gaps from `.env`; a real variable wins).
 * Every problem is collected so that a user fixes them all in one go rather than one per restart.
 */
import { parseDelayOverrides, PRODUCTION_DELAYS, type Delays } from './delays.ts';
import { createRedactor } from './redact.ts';
import { parseEncryptionKeys } from './encryption-keys.ts';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { isSeverity, parseSeverityOverrides, SEVERITIES, type Severity } from './domain/severity.ts';
import { closestKeys } from './domain/suggest.ts';
import { isValidTimeZone } from './domain/halo-time.ts';
import { parseShape, type Shape, type SlackOAuth } from './config-shape.ts';

export type { Shape, SlackOAuth } from './config-shape.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Config {
  /** `single`: SLACK_BOT_TOKEN and HALO_API_KEY (one workspace); `distributed`: OAuth installs, many workspaces. */
  readonly shape: Shape;
  readonly slack: {
    /** '' in the distributed shape, where each installation has its own. */
    readonly botToken: string;
    /** The app's OAuth credentials: set in the distributed shape only. */
    readonly oauth: SlackOAuth | null;
    /** Empty in Socket Mode, where it is not needed. */
    readonly signingSecret: string;
    /** The app-level token (`xapp-…`): set, the bot runs in Socket Mode; null, it serves HTTP. */
    readonly appToken: string | null;
    /** Always ends with `/`: the WebClient appends method names to it. */
    readonly apiUrl: string;
    readonly adminUsers: readonly string[];
  };
  readonly halo: {
    /** '' in the distributed shape, where each account connected with `/halo connect` has its own. */
    readonly apiKey: string;
    /** Never ends with `/`. In the distributed shape, the API address of connected accounts by default. */
    readonly apiUrl: string;
    /** HALO_ALLOWED_API_URLS: the other API addresses `/halo connect` accepts (none end with `/`). */
    readonly allowedApiUrls: readonly string[];
    /** HALO_ACCOUNT_NAME: the name of the env account (HALO_API_KEY) in the single shape. */
    readonly accountName: string;
    readonly pollIntervalMs: number;
    readonly timeoutMs: number;
    readonly scanConcurrency: number;
    /** List requests one poll may make, all its scans together: past it, a scan is cut short. */
    readonly maxRequestsPerPoll: number;
    /** `BENCH_HALO_HTTP=transport` (bench only): requests skip ky, to measure what ky costs. */
    readonly bareTransport: boolean;
    /** The IANA zone Halo's `date_created` is in (it carries none). */
    readonly timeZone: string;
  };
  readonly alerts: {
    readonly channel: string | null;
    readonly keys: readonly string[];
    readonly targetIds: readonly number[];
    readonly backfill: number;
    readonly digestThreshold: number;
    /** `HALO_ALERT_CHANNEL` receives only events this severe or more; null: all. */
    readonly minSeverity: Severity | null;
    /** `HALO_SEVERITY`: per-key levels that override the built-in table. */
    readonly severity: Readonly<Record<string, Severity>>;
    /** A scan's events go into the thread of its Scan Started alert. */
    readonly threads: boolean;
  };
  readonly database: DatabaseConfig;
  /** This process's name among replicas: shown in /healthz and /halo status. */
  readonly replicaId: string;
  readonly port: number;
  /** The address the HTTP server listens on; null: every interface (Node's default). */
  readonly host: string | null;
  /**
   * Where `/metrics` is served. Null (no METRICS_PORT or METRICS_HOST): on the public port beside `/slack/events`;
   * otherwise on a server of its own, so that it can be kept to loopback or an internal address.
   */
  readonly metrics: { readonly port: number; readonly host: string } | null;
  readonly logLevel: LogLevel;
  /** `text` (one readable line an event) or `json` (one object a line). */
  readonly logFormat: 'text' | 'json';
  /** Production delays unless `TEST_DELAYS` shortens some (tests only). */
  readonly delays: Delays;
  /** What one user or channel may make the bot do (README, Security). */
  readonly limits: Limits;
  /** `HALO_WORKFLOW_DELETE=on`: the Workflow Builder step Delete Halo event may delete (still admins only). */
  readonly workflowDelete: boolean;
  /** HALO_ENCRYPTION_KEYS, newest first: what seals secrets at rest. Empty: none can be saved. */
  readonly encryptionKeys: readonly Uint8Array[];
}

export interface Limits {
  /** `/halo` commands one Slack user may run in a minute. */
  readonly commandsPerMinute: number;
  /** Subscriptions one channel may have. */
  readonly subscriptionsPerChannel: number;
  /** Subscriptions the workspace may have, all channels together. */
  readonly subscriptions: number;
}

/** `sqlite:` keeps one process on one file; `postgres:` lets several replicas share one database. */
export type DatabaseConfig =
  { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: string };

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

/**
 * The example values of `.env.example`. Copied unchanged they would fail later and less clearly (Slack's
 * `invalid_auth`), so they are refused as clearly as missing values. Its example channel and user IDs are
 * refused too: the channel would make every alert fail with `channel_not_found`, and the admin list would lock
 * every real admin out without a word.
 */
export const PLACEHOLDERS: Readonly<Record<string, readonly string[]>> = {
  SLACK_BOT_TOKEN: ['xoxb-your-bot-token'],
  SLACK_SIGNING_SECRET: ['your-signing-secret'],
  SLACK_APP_TOKEN: ['xapp-your-app-level-token'],
  HALO_API_KEY: ['your-halo-api-key'],
  HALO_ALERT_CHANNEL: ['C0123ABCD'],
  HALO_ADMIN_USERS: ['U0123ABCD', 'U0456EFGH'],
};

function isPlaceholder(name: string, value: string): boolean {
  return PLACEHOLDERS[name]?.includes(value) === true;
}

/** `earlier`: problems already found in how the settings were read (a `.env` line cut short), reported first. */
export function parseConfig(env: Env, earlier: readonly string[] = []): Config {
  const problems: string[] = [...earlier];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  // .env.example's placeholders are no secrets, and redacting their words would garble the hints that name them.
  const secrets = [
    ...[
      'SLACK_BOT_TOKEN',
      'SLACK_SIGNING_SECRET',
      'SLACK_APP_TOKEN',
      'HALO_API_KEY',
      'SLACK_CLIENT_SECRET',
      'SLACK_STATE_SECRET',
    ].map((name) => {
      const value = read(name) ?? '';
      return isPlaceholder(name, value) ? '' : value;
    }),
    databasePassword(read('DATABASE_URL') ?? ''),
  ];
  const shown = (raw: string): string => quoteUnlessSecret(raw, secrets);
  const required = (name: string, hint: string): string => {
    const value = read(name);
    if (value === undefined) problems.push(`${name} is missing: ${hint}`);
    else if (isPlaceholder(name, value)) {
      problems.push(`${name} is still the example value from .env.example: ${hint}`);
      return '';
    }
    return value ?? '';
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got ${shown(raw)}`);
      return fallback;
    }
    return Number(raw);
  };
  const url = (name: string, fallback: string, authenticatesWith: string): string => {
    const raw = read(name) ?? fallback;
    let parsed: URL | undefined;
    try {
      parsed = new URL(raw);
    } catch {
      // reported below
    }
    if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      problems.push(`${name} must be an http(s) URL, got ${shownUrl(raw, secrets)}`);
    } else if (parsed.username !== '' || parsed.password !== '') {
      // fetch refuses such a URL with an error that quotes it whole, password included, into logs and answers.
      problems.push(
        `${name} must not contain a user name or password (user:pass@): the bot authenticates with ${authenticatesWith}, sent as a header; remove them from the URL`,
      );
    }
    return raw;
  };
  const list = (name: string): string[] =>
    (read(name) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');

  const shape = parseShape({ read, problems, shown });
  const distributed = shape.shape === 'distributed';
  const botToken = distributed
    ? ''
    : required(
        'SLACK_BOT_TOKEN',
        'copy the Bot User OAuth Token (xoxb-…) from your Slack app, OAuth & Permissions page',
      );
  if (botToken.startsWith('xapp-')) {
    problems.push(
      'SLACK_BOT_TOKEN holds an app-level token (xapp-…): that one belongs in SLACK_APP_TOKEN; SLACK_BOT_TOKEN takes the Bot User OAuth Token (xoxb-…, OAuth & Permissions page)',
    );
  } else if (botToken !== '' && !botToken.startsWith('xoxb-')) {
    problems.push('SLACK_BOT_TOKEN must be a bot token starting with "xoxb-" (OAuth & Permissions page)');
  }
  const appToken = read('SLACK_APP_TOKEN') ?? null;
  if (appToken !== null && isPlaceholder('SLACK_APP_TOKEN', appToken)) {
    problems.push(
      'SLACK_APP_TOKEN is still the example value from .env.example: create an app-level token with the connections:write scope (Basic Information → App-Level Tokens), or leave it unset for HTTP mode',
    );
  } else if (appToken !== null && !appToken.startsWith('xapp-')) {
    problems.push(
      appToken.startsWith('xoxb-')
        ? 'SLACK_APP_TOKEN holds a bot token (xoxb-…): it takes the app-level token (xapp-…) from Basic Information → App-Level Tokens, with the connections:write scope'
        : 'SLACK_APP_TOKEN must be an app-level token starting with "xapp-" (Basic Information → App-Level Tokens, with the connections:write scope)',
    );
  }
  // Socket Mode needs no signing secret: Slack's requests arrive over a connection the bot opened itself.
  const signingSecret =
    appToken === null
      ? required(
          'SLACK_SIGNING_SECRET',
          'copy the Signing Secret from your Slack app, Basic Information page (or, for Socket Mode, set SLACK_APP_TOKEN instead)',
        )
      : (read('SLACK_SIGNING_SECRET') ?? '');
  const apiKey = distributed
    ? ''
    : required('HALO_API_KEY', 'create an API key in Halo Security under Account → API');

  let slackApiUrl = url('SLACK_API_URL', 'https://slack.com/api/', 'SLACK_BOT_TOKEN');
  if (!slackApiUrl.endsWith('/')) slackApiUrl += '/';
  const haloApiUrl = url('HALO_API_URL', 'https://api.halosecurity.com/api/v1', 'HALO_API_KEY').replace(
    /\/+$/,
    '',
  );

  const channel = read('HALO_ALERT_CHANNEL') ?? null;
  if (channel !== null && isPlaceholder('HALO_ALERT_CHANNEL', channel)) {
    problems.push(
      `HALO_ALERT_CHANNEL is still the example value from .env.example: set your channel's ID (open the channel's details in Slack, the ID is at the bottom), or leave it unset and use /halo subscribe`,
    );
  } else if (channel !== null && !/^[CGD][A-Z0-9]{2,}$/.test(channel)) {
    problems.push(
      `HALO_ALERT_CHANNEL must be a channel ID like C0123ABCD (open the channel's details in Slack, the ID is at the bottom), got ${shown(channel)}`,
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
    else
      problems.push(
        `HALO_ALERT_TARGET_IDS must be a comma list of positive whole numbers, got ${shown(raw)}`,
      );
  }
  const adminUsers = list('HALO_ADMIN_USERS');
  const exampleAdmins = adminUsers.filter((user) => isPlaceholder('HALO_ADMIN_USERS', user));
  if (exampleAdmins.length > 0) {
    // Set, the list replaces the workspace admins: made-up IDs would leave nobody allowed to manage the bot.
    problems.push(
      `HALO_ADMIN_USERS holds the example ID${exampleAdmins.length === 1 ? '' : 's'} ${exampleAdmins.join(', ')} from .env.example: list your admins' member IDs (profile → ⋮ → Copy member ID), or leave it unset to let workspace admins and owners manage the bot`,
    );
  }
  for (const user of adminUsers) {
    if (!/^[UW][A-Z0-9]{2,}$/.test(user)) {
      problems.push(
        `HALO_ADMIN_USERS must be a comma list of Slack user IDs like U0123ABCD (profile → ⋮ → Copy member ID), got ${shown(user)}`,
      );
    }
  }

  const databaseUrl = read('DATABASE_URL') ?? 'sqlite:./data/halo-slack.db';
  let database: DatabaseConfig = { kind: 'sqlite', path: '' };
  if (databaseUrl.startsWith('sqlite:///')) {
    // Two readings are common (SQLAlchemy's is relative, a file URL's absolute): guessing wrong writes elsewhere.
    const rest = databaseUrl.slice('sqlite:///'.length);
    problems.push(
      `DATABASE_URL "sqlite:///…" is ambiguous: write sqlite:./${rest} for a path relative to the working folder, or sqlite:/${rest} for an absolute one`,
    );
  } else if (databaseUrl.startsWith('sqlite://') && databaseUrl.length > 'sqlite://'.length) {
    // `sqlite://data/x.db` means the relative path `data/x.db`; read as `sqlite:`, it was `/data/x.db`.
    database = { kind: 'sqlite', path: databaseUrl.slice('sqlite://'.length) };
  } else if (databaseUrl.startsWith('sqlite:') && databaseUrl.length > 'sqlite:'.length) {
    database = { kind: 'sqlite', path: databaseUrl.slice('sqlite:'.length) };
  } else if (/^postgres(ql)?:\/\/[^/]/.test(databaseUrl) && URL.canParse(databaseUrl)) {
    database = { kind: 'postgres', url: databaseUrl };
  } else {
    problems.push(
      `DATABASE_URL must look like sqlite:./data/halo-slack.db or postgres://host:5432/database, got ${shownUrl(databaseUrl, secrets)}`,
    );
  }
  const replicaId =
    read('REPLICA_ID') ?? `${hostname()}-${process.pid}`.replace(/[^A-Za-z\d._-]/g, '-').slice(-64);
  // Shown in the public /healthz: a short name, never anything that could be (or hold part of) a secret.
  if (!/^[A-Za-z\d._-]{1,64}$/.test(replicaId))
    problems.push(
      `REPLICA_ID must be a short name: 1 to 64 letters, digits, '.', '_' or '-', got ${shown(replicaId)}`,
    );
  else if (sharesWithSecret(replicaId, secrets) || /^xox[a-z]-|^xapp-/i.test(replicaId))
    problems.push(
      'REPLICA_ID looks like a token or shares 8+ characters with one of the secrets; it is shown in the public /healthz: choose a plain name such as bot-a',
    );

  const host = read('HOST') ?? null;
  const hostProblem = (name: string, value: string | null): void => {
    if (value !== null && !isIP(value) && !/^[a-z\d]([a-z\d.-]{0,252})$/i.test(value))
      problems.push(
        `${name} must be an IP address (127.0.0.1, ::1, 0.0.0.0) or a host name, got ${shown(value)}`,
      );
  };
  hostProblem('HOST', host);
  const metricsHost = read('METRICS_HOST') ?? null;
  hostProblem('METRICS_HOST', metricsHost);

  const severity = parseSeverityOverrides(read('HALO_SEVERITY') ?? '', shown);
  if (!severity.ok) for (const problem of severity.problems) problems.push(`HALO_SEVERITY: ${problem}`);
  const minSeverityRaw = read('HALO_ALERT_MIN_SEVERITY')?.toLowerCase() ?? null;
  if (minSeverityRaw !== null && !isSeverity(minSeverityRaw)) {
    problems.push(
      `HALO_ALERT_MIN_SEVERITY must be one of ${SEVERITIES.join(', ')}, got ${shown(minSeverityRaw)}`,
    );
  }
  if (channel === null && minSeverityRaw !== null) {
    problems.push(
      'HALO_ALERT_MIN_SEVERITY filters HALO_ALERT_CHANNEL, which is not set: set it, or use /halo subscribe severity:LEVEL',
    );
  }
  const timeZone = read('HALO_TIMEZONE') ?? 'UTC';
  if (!isValidTimeZone(timeZone)) {
    problems.push(
      `HALO_TIMEZONE must be an IANA time zone such as UTC, Europe/Paris or America/New_York, got ${shown(timeZone)}`,
    );
  }
  const benchHttp = read('BENCH_HALO_HTTP') ?? 'ky';
  if (!['ky', 'transport'].includes(benchHttp))
    problems.push(`BENCH_HALO_HTTP must be ky or transport (bench only), got ${shown(benchHttp)}`);
  const threadsRaw = (read('HALO_THREADS') ?? 'on').toLowerCase();
  if (!['on', 'off'].includes(threadsRaw))
    problems.push(`HALO_THREADS must be on or off, got ${shown(threadsRaw)}`);

  const workflowDeleteRaw = (read('HALO_WORKFLOW_DELETE') ?? 'off').toLowerCase();
  if (!['on', 'off'].includes(workflowDeleteRaw))
    problems.push(`HALO_WORKFLOW_DELETE must be on or off, got ${shown(workflowDeleteRaw)}`);

  const logLevelRaw = read('LOG_LEVEL') ?? 'info';
  const logLevel = LOG_LEVELS.find((level) => level === logLevelRaw.toLowerCase());
  if (logLevel === undefined) {
    const [closest] = closestKeys(logLevelRaw.toLowerCase(), LOG_LEVELS, 1);
    const hint = closest === undefined ? '' : ` (did you mean ${closest}?)`;
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${shown(logLevelRaw)}${hint}`);
  }
  const logFormatRaw = read('LOG_FORMAT') ?? 'text';
  const logFormat = (['text', 'json'] as const).find((format) => format === logFormatRaw.toLowerCase());
  if (logFormat === undefined) problems.push(`LOG_FORMAT must be text or json, got ${shown(logFormatRaw)}`);

  const { overrides, problems: delayProblems } = parseDelayOverrides(read('TEST_DELAYS'));
  problems.push(...delayProblems);
  const { pollIntervalMs, haloTimeoutMs, ...delayOverrides } = overrides;
  const intervalSeconds = integer('HALO_POLL_INTERVAL_SECONDS', 60, 1, 86_400);
  const timeoutSeconds = integer('HALO_TIMEOUT_SECONDS', 10, 1, 300);
  const scanConcurrency = integer('HALO_SCAN_CONCURRENCY', 4, 1, 16);
  // 5,000 pages of 1,000: an account of 5,000,000 events. A page of one entry a request cannot run forever.
  const maxRequestsPerPoll = integer('HALO_MAX_REQUESTS_PER_POLL', 5000, 1, 100_000);
  const backfill = integer('HALO_BACKFILL', 0, 0, 1000);
  // 10, not 20: with scan threads, only what is not a reply fills the channel (see docs/design.md, Digests).
  const digestThreshold = integer('HALO_DIGEST_THRESHOLD', 10, 1, 10_000);
  const port = integer('PORT', 3000, 0, 65_535);
  const metricsPort = integer('METRICS_PORT', 9091, 0, 65_535);
  if (read('METRICS_PORT') !== undefined && metricsPort === port && port !== 0)
    problems.push(
      `METRICS_PORT must differ from PORT (${port}): it serves /metrics apart from Slack's requests; leave it unset to serve them together`,
    );

  const encryption = parseEncryptionKeys(read('HALO_ENCRYPTION_KEYS'));
  problems.push(...encryption.problems);
  // A distributed app stores every workspace's bot token: it cannot start without a key to seal them with.
  if (distributed && read('HALO_ENCRYPTION_KEYS') === undefined)
    problems.push(
      'HALO_ENCRYPTION_KEYS is missing: a distributed app stores each workspace’s bot token and Halo keys encrypted; set it to a key made with `openssl rand -base64 32`',
    );

  const config: Config = {
    shape: shape.shape,
    slack: { botToken, oauth: shape.oauth, signingSecret, appToken, apiUrl: slackApiUrl, adminUsers },
    halo: {
      apiKey,
      apiUrl: haloApiUrl,
      allowedApiUrls: shape.allowedApiUrls,
      accountName: shape.accountName,
      pollIntervalMs: pollIntervalMs ?? intervalSeconds * 1000,
      timeoutMs: haloTimeoutMs ?? timeoutSeconds * 1000,
      scanConcurrency,
      maxRequestsPerPoll,
      bareTransport: benchHttp === 'transport',
      timeZone,
    },
    alerts: {
      channel,
      keys: alertKeys,
      targetIds,
      backfill,
      digestThreshold,
      minSeverity: minSeverityRaw !== null && isSeverity(minSeverityRaw) ? minSeverityRaw : null,
      severity: severity.ok ? severity.overrides : {},
      threads: threadsRaw !== 'off',
    },
    database,
    replicaId,
    port,
    host,
    // Either setting moves /metrics off the public port; the host alone defaults to loopback's usual port.
    metrics:
      read('METRICS_PORT') === undefined && metricsHost === null
        ? null
        : { port: metricsPort, host: metricsHost ?? '127.0.0.1' },
    logLevel: logLevel ?? 'info',
    logFormat: logFormat ?? 'text',
    delays: { ...PRODUCTION_DELAYS, ...delayOverrides },
    limits: {
      commandsPerMinute: integer('HALO_COMMANDS_PER_MINUTE', 20, 1, 1000),
      subscriptionsPerChannel: integer('HALO_MAX_SUBSCRIPTIONS_PER_CHANNEL', 10, 1, 1000),
      subscriptions: integer('HALO_MAX_SUBSCRIPTIONS', 50, 1, 10_000),
    },
    workflowDelete: workflowDeleteRaw === 'on',
    encryptionKeys: encryption.keys,
  };
  if (problems.length > 0) {
    // Nothing above quotes a secret; this is the net under it, in case a future problem does.
    const redact = createRedactor(secrets);
    throw new ConfigError(problems.map(redact));
  }
  return config;
}

/**
 * Longer values are never quoted: a token, key or signing secret pasted into the wrong variable is long, and
 * it may be one the bot does not know (its own variable left empty). Every value a setting expects that is
 * worth quoting back (a log level, a number, a channel or user ID) is shorter.
 */
const MAX_QUOTED = 20;
/** This many characters in common with a secret, in any letter case, make a value too close to quote. */
const SHARED_WITH_SECRET = 8;

/**
 * `"value"` for a value fit to show in a problem, or a description of it: never a value that could be a
 * secret, in any letter case (a problem lower-casing a value would defeat an exact-match redaction).
 */
function quoteUnlessSecret(raw: string, secrets: readonly string[]): string {
  if (raw.length > MAX_QUOTED)
    return `a value of ${raw.length} characters (not shown, in case it is a secret)`;
  if (sharesWithSecret(raw, secrets)) return 'a value like one of the secrets (not shown)';
  return `"${raw}"`;
}

/**
 * A URL as far as it is safe to show: scheme and host, never user name, password, path or query (a path or
 * query can hold a token, as Slack's webhook URLs do). A value that does not parse is quoted like any other.
 */
function shownUrl(raw: string, secrets: readonly string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return quoteUnlessSecret(raw, secrets);
  }
  const base = parsed.host === '' ? parsed.protocol : `${parsed.protocol}//${parsed.host}`;
  const more = !['', '/'].includes(parsed.pathname) || parsed.search !== '' || parsed.hash !== '';
  const shown = more ? `${base}${parsed.host === '' ? '' : '/'}…` : base;
  return shown.length > 100 || sharesWithSecret(shown, secrets) ? 'a URL (not shown)' : `"${shown}"`;
}

function sharesWithSecret(value: string, secrets: readonly string[]): boolean {
  const lower = value.toLowerCase();
  return secrets.some((secret) => {
    const s = secret.toLowerCase();
    if (s.length < 6) return false;
    if (lower.includes(s)) return true;
    for (let i = 0; i + SHARED_WITH_SECRET <= lower.length; i++) {
      if (s.includes(lower.slice(i, i + SHARED_WITH_SECRET))) return true;
    }
    return false;
  });
}

/** The password in a `postgres://` URL ('' when none): a secret like the tokens, redacted wherever it could show. */
export function databasePassword(url: string): string {
  if (!/^postgres(ql)?:/.test(url) || !URL.canParse(url)) return '';
  return decodeURIComponent(new URL(url).password);
}
