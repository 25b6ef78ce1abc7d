import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, type Config } from '../../src/config.ts';

const TOKEN = 'xoxb-1111-2222-abcdefghijklmnop';
const SIGNING_SECRET = 'signing-secret-0123456789abcdef';
const API_KEY = 'halo-api-key-0123456789abcdef';

const NEW_KEY = Buffer.alloc(32, 7);
const OLD_KEY = Buffer.alloc(32, 9);

const REQUIRED = { SLACK_BOT_TOKEN: TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, HALO_API_KEY: API_KEY };

const DEFAULTS: Config = {
  shape: 'single',
  slack: {
    botToken: TOKEN,
    oauth: null,
    signingSecret: SIGNING_SECRET,
    appToken: null,
    apiUrl: 'https://slack.com/api/',
    adminUsers: [],
  },
  halo: {
    apiKey: API_KEY,
    apiUrl: 'https://api.halosecurity.com/api/v1',
    allowedApiUrls: [],
    accountName: 'Halo',
    pollIntervalMs: 60_000,
    timeoutMs: 10_000,
    scanConcurrency: 4,
    maxRequestsPerPoll: 5000,
    bareTransport: false,
    timeZone: 'UTC',
  },
  alerts: {
    channel: null,
    keys: [],
    targetIds: [],
    backfill: 0,
    digestThreshold: 10,
    minSeverity: null,
    severity: {},
    threads: true,
  },
  database: { kind: 'sqlite', path: './data/halo-slack.db' },
  replicaId: `${hostname()}-${process.pid}`,
  port: 3000,
  host: null,
  metrics: null,
  logLevel: 'info',
  logFormat: 'text',
  // The production delays the README promises (Operations): tests shorten them only through TEST_DELAYS.
  delays: {
    slackTimeoutMs: 10_000,
    slackGapMs: 1000,
    slackBackoffMs: 2000,
    slackBackoffCapMs: 60_000,
    deliveryTickMs: 1000,
    pollBackoffMs: 1000,
    pollBackoffCapMs: 30_000,
    haloBackoffMs: 300,
    drainMs: 6000,
    listingCacheMs: 300_000,
    needsKeyPollMs: 3_600_000,
  },
  // Issue 23, items 7 and 8: what one user or channel may make the bot do.
  limits: { commandsPerMinute: 20, subscriptionsPerChannel: 10, subscriptions: 50 },
  workflowDelete: false,
  encryptionKeys: [],
};

/** The problems parseConfig reports for `env`; fails the test when it does not throw a ConfigError. */
function problems(env: Record<string, string | undefined>): readonly string[] {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be rejected`);
}

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig: defaults and every variable', () => {
  it('takes the default of every optional setting', () => {
    expect(parseConfig(REQUIRED)).toEqual(DEFAULTS);
  });

  it('treats empty and blank values as unset', () => {
    const blank = {
      SLACK_API_URL: '',
      HALO_API_URL: '  ',
      HALO_POLL_INTERVAL_SECONDS: '',
      HALO_ALERT_CHANNEL: ' ',
      HALO_ALERT_KEYS: ' , ,',
      HALO_ALERT_TARGET_IDS: '',
      HALO_ADMIN_USERS: '',
      DATABASE_URL: '',
      PORT: '',
      LOG_LEVEL: '\t',
    };
    expect(parseConfig({ ...REQUIRED, ...blank })).toEqual(DEFAULTS);
  });

  it('reads every variable, trimming spaces', () => {
    const config = parseConfig({
      SLACK_BOT_TOKEN: `  ${TOKEN}\n`,
      SLACK_SIGNING_SECRET: ` ${SIGNING_SECRET} `,
      HALO_API_KEY: `${API_KEY}\r\n`,
      SLACK_API_URL: 'http://127.0.0.1:9999/api',
      HALO_API_URL: 'http://127.0.0.1:8888/api/v1//',
      HALO_POLL_INTERVAL_SECONDS: '15',
      HALO_TIMEOUT_SECONDS: '300',
      HALO_SCAN_CONCURRENCY: '16',
      HALO_MAX_REQUESTS_PER_POLL: '200',
      HALO_ALERT_CHANNEL: 'C0SECURITY',
      HALO_ALERT_KEYS: 'target-scan-start, website-cert-risk ,,',
      HALO_ALERT_TARGET_IDS: '42, 43,2147483647',
      HALO_ADMIN_USERS: 'U0ALICE1, W0456EFGH',
      HALO_BACKFILL: '1000',
      HALO_DIGEST_THRESHOLD: '1',
      HALO_ALERT_MIN_SEVERITY: 'High',
      HALO_SEVERITY: 'issue-new=critical, domain-add = INFO',
      HALO_TIMEZONE: 'Europe/Paris',
      HALO_THREADS: 'off',
      HALO_WORKFLOW_DELETE: 'ON',
      HALO_ENCRYPTION_KEYS: ` ${NEW_KEY.toString('base64')} ,${OLD_KEY.toString('base64')}`,
      DATABASE_URL: 'sqlite:/var/lib/halo-slack/bot.db',
      REPLICA_ID: 'bot-a',
      LOG_FORMAT: 'JSON',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'DEBUG',
      HALO_COMMANDS_PER_MINUTE: '5',
      HALO_MAX_SUBSCRIPTIONS_PER_CHANNEL: '3',
      HALO_MAX_SUBSCRIPTIONS: '7',
      HALO_ALLOWED_API_URLS: ' https://api.eu.example.com/api/v1/ ,https://halo.example.org',
      HALO_ACCOUNT_NAME: 'acme-prod',
    });
    expect(config).toEqual({
      shape: 'single',
      slack: {
        botToken: TOKEN,
        oauth: null,
        signingSecret: SIGNING_SECRET,
        appToken: null,
        apiUrl: 'http://127.0.0.1:9999/api/',
        adminUsers: ['U0ALICE1', 'W0456EFGH'],
      },
      halo: {
        apiKey: API_KEY,
        apiUrl: 'http://127.0.0.1:8888/api/v1',
        allowedApiUrls: ['https://api.eu.example.com/api/v1', 'https://halo.example.org'],
        accountName: 'acme-prod',
        pollIntervalMs: 15_000,
        timeoutMs: 300_000,
        scanConcurrency: 16,
        maxRequestsPerPoll: 200,
        bareTransport: false,
        timeZone: 'Europe/Paris',
      },
      alerts: {
        channel: 'C0SECURITY',
        keys: ['target-scan-start', 'website-cert-risk'],
        targetIds: [42, 43, 2147483647],
        backfill: 1000,
        digestThreshold: 1,
        minSeverity: 'high',
        severity: { 'issue-new': 'critical', 'domain-add': 'info' },
        threads: false,
      },
      database: { kind: 'sqlite', path: '/var/lib/halo-slack/bot.db' },
      replicaId: 'bot-a',
      port: 0,
      host: '127.0.0.1',
      metrics: null,
      logLevel: 'debug',
      logFormat: 'json',
      delays: DEFAULTS.delays,
      limits: { commandsPerMinute: 5, subscriptionsPerChannel: 3, subscriptions: 7 },
      workflowDelete: true,
      encryptionKeys: [new Uint8Array(NEW_KEY), new Uint8Array(OLD_KEY)],
    } satisfies Config);
  });

  it('keeps a Slack API URL that already ends with a slash, and accepts an in-memory database', () => {
    const config = parseConfig({
      ...REQUIRED,
      SLACK_API_URL: 'https://slack.example/api/',
      DATABASE_URL: 'sqlite::memory:',
    });
    expect(config.slack.apiUrl).toBe('https://slack.example/api/');
    expect(config.database).toEqual({ kind: 'sqlite', path: ':memory:' });
  });

  it('accepts the bounds of every number', () => {
    const low = parseConfig({
      ...REQUIRED,
      HALO_POLL_INTERVAL_SECONDS: '1',
      HALO_TIMEOUT_SECONDS: '1',
      HALO_SCAN_CONCURRENCY: '1',
      HALO_BACKFILL: '0',
      HALO_DIGEST_THRESHOLD: '1',
      PORT: '0',
    });
    expect([low.halo.pollIntervalMs, low.halo.timeoutMs, low.halo.scanConcurrency]).toEqual([1000, 1000, 1]);
    expect([low.alerts.backfill, low.alerts.digestThreshold, low.port]).toEqual([0, 1, 0]);
    const high = parseConfig({
      ...REQUIRED,
      HALO_POLL_INTERVAL_SECONDS: '86400',
      HALO_TIMEOUT_SECONDS: '300',
      HALO_SCAN_CONCURRENCY: '16',
      HALO_BACKFILL: '1000',
      HALO_DIGEST_THRESHOLD: '10000',
      PORT: '65535',
    });
    expect([high.halo.pollIntervalMs, high.halo.timeoutMs, high.halo.scanConcurrency]).toEqual([
      86_400_000, 300_000, 16,
    ]);
    expect([high.alerts.backfill, high.alerts.digestThreshold, high.port]).toEqual([1000, 10_000, 65_535]);
  });

  it('accepts every log level in any case, and G and D channel IDs', () => {
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      expect(parseConfig({ ...REQUIRED, LOG_LEVEL: level.toUpperCase() }).logLevel).toBe(level);
    }
    expect(parseConfig({ ...REQUIRED, HALO_ALERT_CHANNEL: 'G01ABC' }).alerts.channel).toBe('G01ABC');
    expect(parseConfig({ ...REQUIRED, HALO_ALERT_CHANNEL: 'D01ABC' }).alerts.channel).toBe('D01ABC');
  });
});

describe('parseConfig: TEST_DELAYS', () => {
  it('shortens only the delays it names, the poll interval and Halo timeout included', () => {
    const config = parseConfig({
      ...REQUIRED,
      HALO_POLL_INTERVAL_SECONDS: '30',
      TEST_DELAYS: 'slackTimeout=500, slackBackoff=20,drain=0,pollInterval=150,haloTimeout=250',
    });
    expect(config.delays).toEqual({
      ...DEFAULTS.delays,
      slackTimeoutMs: 500,
      slackBackoffMs: 20,
      drainMs: 0,
    });
    expect([config.halo.pollIntervalMs, config.halo.timeoutMs]).toEqual([150, 250]);
  });

  it('refuses an unknown name or a value that is not whole milliseconds, echoing no value', () => {
    expect(problems({ ...REQUIRED, TEST_DELAYS: 'slackBackof=20,drain=-1,xoxb-123-secret' })).toEqual([
      'TEST_DELAYS must be a comma list of name=milliseconds (0-9999999) with names from slackTimeout, slackGap, slackBackoff, slackBackoffCap, deliveryTick, pollBackoff, pollBackoffCap, haloBackoff, drain, listingCache, needsKeyPoll, pollInterval, haloTimeout; check "slackBackof" (leave TEST_DELAYS unset outside tests)',
      'TEST_DELAYS must be a comma list of name=milliseconds (0-9999999) with names from slackTimeout, slackGap, slackBackoff, slackBackoffCap, deliveryTick, pollBackoff, pollBackoffCap, haloBackoff, drain, listingCache, needsKeyPoll, pollInterval, haloTimeout; check "drain" (leave TEST_DELAYS unset outside tests)',
      'TEST_DELAYS must be a comma list of name=milliseconds (0-9999999) with names from slackTimeout, slackGap, slackBackoff, slackBackoffCap, deliveryTick, pollBackoff, pollBackoffCap, haloBackoff, drain, listingCache, needsKeyPoll, pollInterval, haloTimeout (leave TEST_DELAYS unset outside tests)',
    ]);
  });
});

describe('parseConfig: Socket Mode', () => {
  const APP_TOKEN = 'xapp-1-A0123-4567-abcdefghijklmnop';

  it('runs in Socket Mode with an app-level token, and then needs no signing secret', () => {
    const config = parseConfig({ SLACK_BOT_TOKEN: TOKEN, SLACK_APP_TOKEN: APP_TOKEN, HALO_API_KEY: API_KEY });
    expect(config.slack).toEqual({ ...DEFAULTS.slack, signingSecret: '', appToken: APP_TOKEN });
    expect(parseConfig({ ...REQUIRED, SLACK_APP_TOKEN: ` ${APP_TOKEN} ` }).slack.appToken).toBe(APP_TOKEN);
    expect(parseConfig({ ...REQUIRED, SLACK_APP_TOKEN: '' }).slack.appToken).toBeNull();
  });

  it('says which token went into which variable, without echoing either', () => {
    const swapped = problems({ SLACK_BOT_TOKEN: APP_TOKEN, SLACK_APP_TOKEN: TOKEN, HALO_API_KEY: API_KEY });
    expect(swapped).toEqual([
      'SLACK_BOT_TOKEN holds an app-level token (xapp-…): that one belongs in SLACK_APP_TOKEN; SLACK_BOT_TOKEN takes the Bot User OAuth Token (xoxb-…, OAuth & Permissions page)',
      'SLACK_APP_TOKEN holds a bot token (xoxb-…): it takes the app-level token (xapp-…) from Basic Information → App-Level Tokens, with the connections:write scope',
    ]);
    expect(problems({ ...REQUIRED, SLACK_APP_TOKEN: 'xoxp-user-token-0123456789' })).toEqual([
      'SLACK_APP_TOKEN must be an app-level token starting with "xapp-" (Basic Information → App-Level Tokens, with the connections:write scope)',
    ]);
    const message = configError({
      SLACK_BOT_TOKEN: APP_TOKEN,
      SLACK_APP_TOKEN: TOKEN,
      HALO_API_KEY: API_KEY,
    }).message;
    for (const secret of [APP_TOKEN, TOKEN]) expect(message).not.toContain(secret);
  });

  it('refuses the example app token of .env.example', () => {
    expect(problems({ ...REQUIRED, SLACK_APP_TOKEN: 'xapp-your-app-level-token' })).toEqual([
      'SLACK_APP_TOKEN is still the example value from .env.example: create an app-level token with the connections:write scope (Basic Information → App-Level Tokens), or leave it unset for HTTP mode',
    ]);
  });

  it('asks for the signing secret or an app token when neither is set', () => {
    expect(problems({ SLACK_BOT_TOKEN: TOKEN, HALO_API_KEY: API_KEY })).toEqual([
      'SLACK_SIGNING_SECRET is missing: copy the Signing Secret from your Slack app, Basic Information page (or, for Socket Mode, set SLACK_APP_TOKEN instead)',
    ]);
  });
});

describe('parseConfig: problems', () => {
  it('names each missing required variable with where to find it', () => {
    expect(problems({})).toEqual([
      'SLACK_BOT_TOKEN is missing: copy the Bot User OAuth Token (xoxb-…) from your Slack app, OAuth & Permissions page',
      'SLACK_SIGNING_SECRET is missing: copy the Signing Secret from your Slack app, Basic Information page (or, for Socket Mode, set SLACK_APP_TOKEN instead)',
      'HALO_API_KEY is missing: create an API key in Halo Security under Account → API',
    ]);
  });

  it('reports every problem together in one message, one line each, with the count', () => {
    const error = configError({});
    expect(error.name).toBe('ConfigError');
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe(
      'halo-slack cannot start: 3 settings to fix (set them in the environment or in .env; .env.example documents each):\n' +
        '  - SLACK_BOT_TOKEN is missing: copy the Bot User OAuth Token (xoxb-…) from your Slack app, OAuth & Permissions page\n' +
        '  - SLACK_SIGNING_SECRET is missing: copy the Signing Secret from your Slack app, Basic Information page (or, for Socket Mode, set SLACK_APP_TOKEN instead)\n' +
        '  - HALO_API_KEY is missing: create an API key in Halo Security under Account → API',
    );
  });

  it('says "1 setting" for a single problem', () => {
    expect(configError({ ...REQUIRED, PORT: 'http' }).message).toBe(
      'halo-slack cannot start: 1 setting to fix (set them in the environment or in .env; .env.example documents each):\n' +
        '  - PORT must be a whole number from 0 to 65535, got "http"',
    );
  });

  it('reports a malformed value of every variable at once, in a fixed order', () => {
    expect(
      problems({
        SLACK_BOT_TOKEN: 'xoxp-user-token-not-a-bot-token',
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        HALO_API_KEY: API_KEY,
        SLACK_API_URL: 'slack.com/api',
        HALO_API_URL: 'ftp://api.halosecurity.com/api/v1',
        HALO_ALERT_CHANNEL: '#security',
        HALO_ALERT_TARGET_IDS: '42,abc,0,-1,1.5,2147483648',
        HALO_ADMIN_USERS: 'U0ALICE1,@alice,u0123abcd',
        DATABASE_URL: './data/halo-slack.db',
        LOG_LEVEL: 'Verbose',
        HALO_POLL_INTERVAL_SECONDS: '0',
        HALO_TIMEOUT_SECONDS: '301',
        HALO_SCAN_CONCURRENCY: '17',
        HALO_MAX_REQUESTS_PER_POLL: '0',
        HALO_BACKFILL: '1001',
        HALO_DIGEST_THRESHOLD: '0',
        PORT: '65536',
      }),
    ).toEqual([
      'SLACK_BOT_TOKEN must be a bot token starting with "xoxb-" (OAuth & Permissions page)',
      'SLACK_API_URL must be an http(s) URL, got "slack.com/api"',
      'HALO_API_URL must be an http(s) URL, got "ftp://api.halosecurity.com/…"',
      `HALO_ALERT_CHANNEL must be a channel ID like C0123ABCD (open the channel's details in Slack, the ID is at the bottom), got "#security"`,
      'HALO_ALERT_TARGET_IDS must be a comma list of positive whole numbers, got "abc"',
      'HALO_ALERT_TARGET_IDS must be a comma list of positive whole numbers, got "0"',
      'HALO_ALERT_TARGET_IDS must be a comma list of positive whole numbers, got "-1"',
      'HALO_ALERT_TARGET_IDS must be a comma list of positive whole numbers, got "1.5"',
      'HALO_ALERT_TARGET_IDS must be a comma list of positive whole numbers, got "2147483648"',
      'HALO_ADMIN_USERS must be a comma list of Slack user IDs like U0123ABCD (profile → ⋮ → Copy member ID), got "@alice"',
      'HALO_ADMIN_USERS must be a comma list of Slack user IDs like U0123ABCD (profile → ⋮ → Copy member ID), got "u0123abcd"',
      'DATABASE_URL must look like sqlite:./data/halo-slack.db or postgres://host:5432/database, got "./data/halo-slack.db"',
      'LOG_LEVEL must be one of debug, info, warn, error, got "Verbose"',
      'HALO_POLL_INTERVAL_SECONDS must be a whole number from 1 to 86400, got "0"',
      'HALO_TIMEOUT_SECONDS must be a whole number from 1 to 300, got "301"',
      'HALO_SCAN_CONCURRENCY must be a whole number from 1 to 16, got "17"',
      'HALO_MAX_REQUESTS_PER_POLL must be a whole number from 1 to 100000, got "0"',
      'HALO_BACKFILL must be a whole number from 0 to 1000, got "1001"',
      'HALO_DIGEST_THRESHOLD must be a whole number from 1 to 10000, got "0"',
      'PORT must be a whole number from 0 to 65535, got "65536"',
    ]);
  });

  it('rejects numbers that are not plain whole numbers', () => {
    for (const raw of ['1.5', '-1', '+5', '1e3', '0x10', '６０', '60s', '99999999999999999999']) {
      expect(problems({ ...REQUIRED, HALO_POLL_INTERVAL_SECONDS: raw })).toEqual([
        `HALO_POLL_INTERVAL_SECONDS must be a whole number from 1 to 86400, got "${raw}"`,
      ]);
    }
  });

  it('rejects URLs that are not http(s), showing only their scheme and host, and a DATABASE_URL without a path', () => {
    for (const [raw, shown] of [
      ['javascript:alert(1)', '"javascript:…"'],
      ['file:///etc/passwd', '"file:…"'],
      ['ftp://files.example', '"ftp://files.example"'],
      ['not a url', '"not a url"'],
      ['https//x', '"https//x"'],
    ]) {
      expect(problems({ ...REQUIRED, HALO_API_URL: raw })).toEqual([
        `HALO_API_URL must be an http(s) URL, got ${shown}`,
      ]);
    }
    expect(problems({ ...REQUIRED, DATABASE_URL: 'sqlite:' })).toEqual([
      'DATABASE_URL must look like sqlite:./data/halo-slack.db or postgres://host:5432/database, got "sqlite:"',
    ]);
  });

  it('rejects channel IDs of the wrong shape', () => {
    for (const raw of ['c0123abcd', 'C1', 'U0123ABCD', '<#C0123ABCD>', 'C0123 ABCD']) {
      expect(problems({ ...REQUIRED, HALO_ALERT_CHANNEL: raw })).toHaveLength(1);
    }
  });

  it('refuses alert filters without the alert channel they filter', () => {
    const expected = [
      'HALO_ALERT_KEYS and HALO_ALERT_TARGET_IDS filter HALO_ALERT_CHANNEL, which is not set: set it, or remove the filters and use /halo subscribe',
    ];
    expect(problems({ ...REQUIRED, HALO_ALERT_KEYS: 'port-open' })).toEqual(expected);
    expect(problems({ ...REQUIRED, HALO_ALERT_TARGET_IDS: '42' })).toEqual(expected);
  });

  it('is missing-first: a missing token is not also reported as having the wrong prefix', () => {
    expect(problems({ ...REQUIRED, SLACK_BOT_TOKEN: '   ' })).toEqual([
      'SLACK_BOT_TOKEN is missing: copy the Bot User OAuth Token (xoxb-…) from your Slack app, OAuth & Permissions page',
    ]);
  });
});

describe('parseConfig: secrets', () => {
  it('never echoes a wrong bot token', () => {
    const token = 'xoxp-9999-8888-secretusertoken';
    const error = configError({ ...REQUIRED, SLACK_BOT_TOKEN: token });
    expect(error.message).not.toContain(token);
    expect(error.message).not.toContain('secretusertoken');
  });

  it('never echoes a secret pasted into another variable', () => {
    const error = configError({
      ...REQUIRED,
      HALO_API_URL: API_KEY,
      SLACK_API_URL: SIGNING_SECRET,
      HALO_ALERT_CHANNEL: TOKEN,
      LOG_LEVEL: `${API_KEY}x`,
    });
    expect(error.problems).toHaveLength(4);
    for (const secret of [TOKEN, SIGNING_SECRET, API_KEY]) expect(error.message).not.toContain(secret);
    expect(error.problems).toEqual([
      'SLACK_API_URL must be an http(s) URL, got a value of 31 characters (not shown, in case it is a secret)',
      'HALO_API_URL must be an http(s) URL, got a value of 29 characters (not shown, in case it is a secret)',
      `HALO_ALERT_CHANNEL must be a channel ID like C0123ABCD (open the channel's details in Slack, the ID is at the bottom), got a value of 31 characters (not shown, in case it is a secret)`,
      'LOG_LEVEL must be one of debug, info, warn, error, got a value of 30 characters (not shown, in case it is a secret)',
    ]);
  });

  it('never echoes a secret in another letter case, or a part of one', () => {
    const key = 'HaloKey-AbCdEf0123';
    const error = configError({
      ...REQUIRED,
      HALO_API_KEY: key,
      // LOG_LEVEL used to be echoed lower-cased, which an exact-match redaction of the key cannot recognise.
      LOG_LEVEL: key,
      PORT: key.toUpperCase(),
      HALO_ALERT_CHANNEL: key.slice(0, 10),
      HALO_ADMIN_USERS: `U${TOKEN.slice(5, 15).toUpperCase()}`,
    });
    const text = error.message.toLowerCase();
    for (const secret of [TOKEN, key]) {
      for (let i = 0; i + 8 <= secret.length; i++)
        expect(text).not.toContain(secret.slice(i, i + 8).toLowerCase());
    }
    expect(error.problems.map((p) => p.replace(/^(\w+).*got /, '$1 got '))).toEqual([
      'HALO_ALERT_CHANNEL got a value like one of the secrets (not shown)',
      'HALO_ADMIN_USERS got a value like one of the secrets (not shown)',
      'LOG_LEVEL got a value like one of the secrets (not shown)',
      'PORT got a value like one of the secrets (not shown)',
    ]);
  });

  it('never echoes a long value, which could be a secret the bot does not know', () => {
    const error = configError({ ...REQUIRED, LOG_LEVEL: 'Zm9vYmFyYmF6cXV4cXV1eA' });
    expect(error.problems).toEqual([
      'LOG_LEVEL must be one of debug, info, warn, error, got a value of 22 characters (not shown, in case it is a secret)',
    ]);
  });

  it('refuses a user name or password in HALO_API_URL and SLACK_API_URL, naming neither', () => {
    const error = configError({
      ...REQUIRED,
      HALO_API_URL: 'https://bot:hunter2@api.halosecurity.com/api/v1',
      SLACK_API_URL: 'https://tokenonly@slack.example/api/',
    });
    expect(error.problems).toEqual([
      'SLACK_API_URL must not contain a user name or password (user:pass@): the bot authenticates with SLACK_BOT_TOKEN, sent as a header; remove them from the URL',
      'HALO_API_URL must not contain a user name or password (user:pass@): the bot authenticates with HALO_API_KEY, sent as a header; remove them from the URL',
    ]);
    expect(error.message).not.toMatch(/hunter2|tokenonly/);
  });

  it('never echoes a password in a URL', () => {
    const error = configError({
      ...REQUIRED,
      DATABASE_URL: 'mysql://halo:pa55word@db.internal:5432/halo',
      HALO_API_URL: 'ftp://user:hunter2@files.example/api',
    });
    expect(error.message).not.toContain('pa55word');
    expect(error.message).not.toContain('hunter2');
    expect(error.problems).toEqual([
      'HALO_API_URL must be an http(s) URL, got "ftp://files.example/…"',
      'DATABASE_URL must look like sqlite:./data/halo-slack.db or postgres://host:5432/database, got "mysql://db.internal:5432/…"',
    ]);
  });

  it('takes a postgres:// DATABASE_URL for replicas, and treats its password like a token', () => {
    const url = 'postgresql://halo:s3cret-pa55word@db.internal:5432/halo?sslmode=require';
    expect(parseConfig({ ...REQUIRED, DATABASE_URL: url }).database).toEqual({ kind: 'postgres', url });
    const error = configError({ ...REQUIRED, DATABASE_URL: url, LOG_LEVEL: 's3cret-pa55word' });
    expect(error.problems).toEqual([
      'LOG_LEVEL must be one of debug, info, warn, error, got a value like one of the secrets (not shown)',
    ]);
    expect(problems({ ...REQUIRED, REPLICA_ID: 'bot a' })).toEqual([
      `REPLICA_ID must be a short name: 1 to 64 letters, digits, '.', '_' or '-', got "bot a"`,
    ]);
  });

  it('refuses the example channel and admin IDs of .env.example, which would post nowhere and lock admins out', () => {
    expect(problems({ ...REQUIRED, HALO_ALERT_CHANNEL: 'C0123ABCD' })).toEqual([
      "HALO_ALERT_CHANNEL is still the example value from .env.example: set your channel's ID (open the channel's details in Slack, the ID is at the bottom), or leave it unset and use /halo subscribe",
    ]);
    expect(problems({ ...REQUIRED, HALO_ADMIN_USERS: 'U0123ABCD,U0456EFGH' })).toEqual([
      "HALO_ADMIN_USERS holds the example IDs U0123ABCD, U0456EFGH from .env.example: list your admins' member IDs (profile → ⋮ → Copy member ID), or leave it unset to let workspace admins and owners manage the bot",
    ]);
    expect(problems({ ...REQUIRED, HALO_ADMIN_USERS: 'U0REAL1,U0456EFGH' })).toEqual([
      "HALO_ADMIN_USERS holds the example ID U0456EFGH from .env.example: list your admins' member IDs (profile → ⋮ → Copy member ID), or leave it unset to let workspace admins and owners manage the bot",
    ]);
    expect(parseConfig({ ...REQUIRED, HALO_ADMIN_USERS: 'U0REAL1' }).slack.adminUsers).toEqual(['U0REAL1']);
  });

  it('reads sqlite://path as sqlite:path, and refuses the ambiguous sqlite:///path', () => {
    // Read as `sqlite:` plus the rest, this was `//data/halo.db`: a folder at the root of the disk.
    expect(parseConfig({ ...REQUIRED, DATABASE_URL: 'sqlite://data/halo.db' }).database).toEqual({
      kind: 'sqlite',
      path: 'data/halo.db',
    });
    expect(problems({ ...REQUIRED, DATABASE_URL: 'sqlite:///data/halo.db' })).toEqual([
      'DATABASE_URL "sqlite:///…" is ambiguous: write sqlite:./data/halo.db for a path relative to the working folder, or sqlite:/data/halo.db for an absolute one',
    ]);
    expect(parseConfig({ ...REQUIRED, DATABASE_URL: 'sqlite:/abs/halo.db' }).database).toEqual({
      kind: 'sqlite',
      path: '/abs/halo.db',
    });
  });

  it('refuses a HALO_WORKFLOW_DELETE other than on or off', () => {
    expect(problems({ ...REQUIRED, HALO_WORKFLOW_DELETE: 'yes' })).toEqual([
      'HALO_WORKFLOW_DELETE must be on or off, got "yes"',
    ]);
  });

  it('suggests the closest log level', () => {
    expect(problems({ ...REQUIRED, LOG_LEVEL: 'warning' })).toEqual([
      'LOG_LEVEL must be one of debug, info, warn, error, got "warning" (did you mean warn?)',
    ]);
    expect(problems({ ...REQUIRED, LOG_LEVEL: 'Verbose' })).toEqual([
      'LOG_LEVEL must be one of debug, info, warn, error, got "Verbose"',
    ]);
  });

  it('serves /metrics apart when METRICS_PORT or METRICS_HOST is set, on loopback unless told', () => {
    expect(parseConfig({ ...REQUIRED, METRICS_PORT: '9100' }).metrics).toEqual({
      port: 9100,
      host: '127.0.0.1',
    });
    expect(parseConfig({ ...REQUIRED, METRICS_HOST: '10.0.0.5' }).metrics).toEqual({
      port: 9091,
      host: '10.0.0.5',
    });
    expect(problems({ ...REQUIRED, PORT: '8080', METRICS_PORT: '8080', METRICS_HOST: 'http://x' })).toEqual([
      'METRICS_HOST must be an IP address (127.0.0.1, ::1, 0.0.0.0) or a host name, got "http://x"',
      "METRICS_PORT must differ from PORT (8080): it serves /metrics apart from Slack's requests; leave it unset to serve them together",
    ]);
  });

  it('refuses a REPLICA_ID that holds a secret: /healthz shows it to anyone (issue 23, item 6)', () => {
    const tooClose =
      'REPLICA_ID looks like a token or shares 8+ characters with one of the secrets; it is shown in the public /healthz: choose a plain name such as bot-a';
    // The API key's tail, a token-shaped name, and a URL with a password in it.
    expect(problems({ ...REQUIRED, REPLICA_ID: `bot-${REQUIRED.HALO_API_KEY.slice(4)}` })).toEqual([
      tooClose,
    ]);
    expect(problems({ ...REQUIRED, REPLICA_ID: 'xoxb-1-2-abc' })).toEqual([tooClose]);
    expect(problems({ ...REQUIRED, REPLICA_ID: 'https://u:pw@host' })).toEqual([
      `REPLICA_ID must be a short name: 1 to 64 letters, digits, '.', '_' or '-', got "https://[redacted]@host"`,
    ]);
    expect(problems({ ...REQUIRED, REPLICA_ID: 'a'.repeat(65) })).toEqual([
      `REPLICA_ID must be a short name: 1 to 64 letters, digits, '.', '_' or '-', got a value of 65 characters (not shown, in case it is a secret)`,
    ]);
    expect(parseConfig({ ...REQUIRED, REPLICA_ID: 'bot-a.eu_1' }).replicaId).toBe('bot-a.eu_1');
    expect(parseConfig(REQUIRED).replicaId).toMatch(/^[A-Za-z\d._-]{1,64}$/);
  });

  it('listens on every interface unless HOST names one address', () => {
    expect(parseConfig(REQUIRED).host).toBeNull();
    expect(parseConfig({ ...REQUIRED, HOST: '::1' }).host).toBe('::1');
    expect(parseConfig({ ...REQUIRED, HOST: 'localhost' }).host).toBe('localhost');
    expect(problems({ ...REQUIRED, HOST: 'http://127.0.0.1' })).toEqual([
      'HOST must be an IP address (127.0.0.1, ::1, 0.0.0.0) or a host name, got "http://127.0.0.1"',
    ]);
  });
});

describe('.env.example', () => {
  it('documents every variable the bot reads', () => {
    const asked = new Set<string>();
    const env = new Proxy<Record<string, string | undefined>>(
      { ...REQUIRED },
      {
        get(target, name) {
          if (typeof name === 'string') asked.add(name);
          return target[name as string];
        },
      },
    );
    parseConfig(env);
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    const documented = new Set([...example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    expect([...asked].filter((name) => /^[A-Z][A-Z0-9_]+$/.test(name) && !documented.has(name))).toEqual([]);
    expect(asked.size).toBeGreaterThan(30);
  });
});

describe('HALO_ENCRYPTION_KEYS', () => {
  it('refuses a key that is not base64 of 32 bytes, by position, never quoting it, saying how to make one', () => {
    const short = Buffer.alloc(16, 1).toString('base64');
    const notBase64 = 'this is no key; not even base64!!!!!!!!!!!';
    const found = problems({
      ...REQUIRED,
      HALO_ENCRYPTION_KEYS: `${NEW_KEY.toString('base64')},${short},${notBase64},`,
    });
    const how = 'each must be 32 random bytes in base64, made with `openssl rand -base64 32`';
    expect(found).toEqual([
      `HALO_ENCRYPTION_KEYS: key 2 of 4 is not a base64 key of 32 bytes; ${how}`,
      `HALO_ENCRYPTION_KEYS: key 3 of 4 is not a base64 key of 32 bytes; ${how}`,
      `HALO_ENCRYPTION_KEYS: key 4 of 4 is empty (a comma too many?); ${how}`,
    ]);
    expect(found.join('\n')).not.toContain(short);
    expect(found.join('\n')).not.toContain('no key');
    expect(problems({ ...REQUIRED, HALO_ENCRYPTION_KEYS: short })).toEqual([
      `HALO_ENCRYPTION_KEYS: its key is not a base64 key of 32 bytes; ${how}`,
    ]);
  });
});
