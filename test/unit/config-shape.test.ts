import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.ts';

const SIGNING_SECRET = 'signing-secret-qwertyuiopasdf';
const CLIENT_SECRET = 'client-secret-zxcvbnmlkjhgfd';
const STATE_SECRET = 'state-secret-poiuytrewqlkjh';
const KEY = Buffer.alloc(32, 9).toString('base64');
const OAUTH = {
  HALO_ENCRYPTION_KEYS: KEY,
  SLACK_CLIENT_ID: '1234567890.9876543210',
  SLACK_CLIENT_SECRET: CLIENT_SECRET,
  SLACK_STATE_SECRET: STATE_SECRET,
  SLACK_SIGNING_SECRET: SIGNING_SECRET,
};
const SINGLE = {
  SLACK_BOT_TOKEN: 'xoxb-1111-2222-abcdefghijklmnop',
  SLACK_SIGNING_SECRET: SIGNING_SECRET,
  HALO_API_KEY: 'halo-api-key-0123456789abcdef',
};

function problems(env: Record<string, string | undefined>): readonly string[] {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(Object.keys(env))} to be rejected`);
}

describe('parseConfig: one workspace or many (issue 19)', () => {
  it('is the distributed shape with the OAuth trio and no bot token, needing no HALO_API_KEY', () => {
    const config = parseConfig({ ...OAUTH, HALO_API_URL: 'https://halo.example.org/api/v1/' });
    expect(config.shape).toBe('distributed');
    expect(config.slack).toEqual({
      botToken: '',
      oauth: {
        clientId: '1234567890.9876543210',
        clientSecret: CLIENT_SECRET,
        stateSecret: STATE_SECRET,
      },
      signingSecret: SIGNING_SECRET,
      appToken: null,
      apiUrl: 'https://slack.com/api/',
      adminUsers: [],
    });
    expect(config.halo.apiKey).toBe('');
    expect(config.halo.apiUrl).toBe('https://halo.example.org/api/v1');
  });

  it('stays the single shape without the trio, its account named Halo unless HALO_ACCOUNT_NAME says', () => {
    expect(parseConfig(SINGLE)).toMatchObject({
      shape: 'single',
      slack: { oauth: null },
      halo: { accountName: 'Halo', allowedApiUrls: [] },
    });
    expect(parseConfig({ ...SINGLE, HALO_ACCOUNT_NAME: 'prod_2' }).halo.accountName).toBe('prod_2');
  });

  it('reports every problem of a distributed set-up together: Socket Mode, an env key, an env channel, a bad ID', () => {
    expect(
      problems({
        ...OAUTH,
        SLACK_CLIENT_ID: 'my-app',
        SLACK_APP_TOKEN: 'xapp-1-A111-222-abcdef',
        HALO_API_KEY: 'halo-api-key-0123456789abcdef',
        HALO_ALERT_CHANNEL: 'C0SECURITY',
      }),
    ).toEqual([
      'SLACK_CLIENT_ID must be your app\'s Client ID, from its Basic Information page (digits, a dot, digits), got "my-app"',
      'SLACK_APP_TOKEN (Socket Mode) cannot serve a distributed app: Slack requires HTTP (Events API at /slack/events) for apps installed in other workspaces; remove SLACK_APP_TOKEN and use manifest.yml',
      'HALO_API_KEY has no workspace in the distributed shape: each workspace connects its own accounts with /halo connect; remove HALO_API_KEY (HALO_API_URL stays the accounts’ default API address)',
      'HALO_ALERT_CHANNEL names a channel of one workspace, and the distributed shape serves many: remove it; each workspace subscribes its channels with /halo subscribe',
    ]);
  });

  it('refuses the distributed shape without an encryption key for the tokens it stores', () => {
    expect(problems({ ...OAUTH, HALO_ENCRYPTION_KEYS: undefined })).toEqual([
      'HALO_ENCRYPTION_KEYS is missing: a distributed app stores each workspace’s bot token and Halo keys encrypted; set it to a key made with `openssl rand -base64 32`',
    ]);
    // The single shape starts without one (it refuses /halo connect instead).
    expect(parseConfig(SINGLE).encryptionKeys).toEqual([]);
  });

  it('refuses half of the OAuth trio, naming what is set and what is missing', () => {
    expect(problems({ ...SINGLE, SLACK_CLIENT_ID: '1.2' })).toEqual([
      'SLACK_CLIENT_ID is set but not SLACK_CLIENT_SECRET and SLACK_STATE_SECRET: the distributed shape (many workspaces, "Add to Slack") takes all three from your app\'s Basic Information page (the state secret is any long random text: openssl rand -hex 32); for one workspace, remove it and set SLACK_BOT_TOKEN',
    ]);
    const two = problems({
      SLACK_CLIENT_ID: '1.2',
      SLACK_CLIENT_SECRET: CLIENT_SECRET,
      SLACK_SIGNING_SECRET: 's',
    });
    expect(two[0]).toBe(
      'SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set but not SLACK_STATE_SECRET: the distributed shape (many workspaces, "Add to Slack") takes all three from your app\'s Basic Information page (the state secret is any long random text: openssl rand -hex 32); for one workspace, remove them and set SLACK_BOT_TOKEN',
    );
    // Half a trio is not the distributed shape: the single shape's requirements still stand.
    expect(two.slice(1)).toEqual([
      'SLACK_BOT_TOKEN is missing: copy the Bot User OAuth Token (xoxb-…) from your Slack app, OAuth & Permissions page',
      'HALO_API_KEY is missing: create an API key in Halo Security under Account → API',
    ]);
  });

  it('refuses a bot token beside the trio, and a short state secret, never echoing a secret', () => {
    const found = problems({ ...SINGLE, ...OAUTH, SLACK_STATE_SECRET: 'short' });
    expect(found).toEqual([
      'SLACK_BOT_TOKEN and SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET are all set: set SLACK_BOT_TOKEN for one workspace, or the three OAuth settings (and no SLACK_BOT_TOKEN) for a distributed app installed with "Add to Slack"',
      "SLACK_STATE_SECRET must be at least 16 characters of random text (openssl rand -hex 32): it signs the install link's state",
    ]);
    const pasted = problems({ ...OAUTH, HALO_ACCOUNT_NAME: `${CLIENT_SECRET.slice(0, 12)} x` });
    expect(pasted).toEqual([
      "HALO_ACCOUNT_NAME must be one word of 1 to 40 letters, digits, '.', '_' or '-' (what account:NAME names), got a value like one of the secrets (not shown)",
    ]);
  });

  it('takes only plain https addresses in HALO_ALLOWED_API_URLS', () => {
    expect(
      problems({
        ...OAUTH,
        HALO_ALLOWED_API_URLS: 'http://10.0.0.1/api,https://u:p@halo.example.org,https://ok.example.org/api/',
      }),
    ).toEqual([
      'HALO_ALLOWED_API_URLS must be a comma list of https:// URLs, got "http://10.0.0.1/api"',
      'HALO_ALLOWED_API_URLS must hold plain API addresses, without user:pass@, ?query or #fragment',
    ]);
    expect(
      parseConfig({ ...OAUTH, HALO_ALLOWED_API_URLS: 'https://ok.example.org/api/' }).halo.allowedApiUrls,
    ).toEqual(['https://ok.example.org/api']);
  });

  it('refuses an account name that is not one word', () => {
    expect(problems({ ...SINGLE, HALO_ACCOUNT_NAME: 'two words' })).toEqual([
      "HALO_ACCOUNT_NAME must be one word of 1 to 40 letters, digits, '.', '_' or '-' (what account:NAME names), got \"two words\"",
    ]);
  });
});
