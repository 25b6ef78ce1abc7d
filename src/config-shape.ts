/**
 * Which shape the deployment has (issue 19), read with the rest of the configuration (config.ts) and reporting
 * into the same list of problems. Single workspace: SLACK_BOT_TOKEN and HALO_API_KEY, as always. Distributed:
 * the OAuth trio (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET) and no SLACK_BOT_TOKEN; workspaces
 * install the app with "Add to Slack" and connect their Halo accounts with `/halo connect`.
 */

/** The app's OAuth credentials (Basic Information page), set only in the distributed shape. */
export interface SlackOAuth {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Signs the OAuth `state` (the install flow's CSRF guard). */
  readonly stateSecret: string;
}

export type Shape = 'single' | 'distributed';

/** The OAuth trio, by variable; each is required once any is set. */
export const OAUTH_VARIABLES = ['SLACK_CLIENT_ID', 'SLACK_CLIENT_SECRET', 'SLACK_STATE_SECRET'] as const;

/** Shorter, the state secret could be guessed, and with it a forged install link made to look like ours. */
const MIN_STATE_SECRET = 16;
/** What `account:NAME` can name: a word, as commands are split on spaces. */
const ACCOUNT_NAME = /^[A-Za-z\d][A-Za-z\d._-]{0,39}$/;

export interface ShapeInput {
  readonly read: (name: string) => string | undefined;
  readonly problems: string[];
  /** `"value"` when fit to show, a description of it otherwise (config.ts's quoteUnlessSecret). */
  readonly shown: (raw: string) => string;
}

export interface ParsedShape {
  readonly shape: Shape;
  readonly oauth: SlackOAuth | null;
  /** HALO_ALLOWED_API_URLS, each without a trailing `/`. */
  readonly allowedApiUrls: readonly string[];
  /** HALO_ACCOUNT_NAME: the env account's name in the single shape. */
  readonly accountName: string;
}

/**
 * The shape, the OAuth credentials and the account settings. The rules that need other variables (a bot token,
 * an app token, an API key) are here too, so that one place says what each shape takes.
 */
export function parseShape({ read, problems, shown }: ShapeInput): ParsedShape {
  const set = OAUTH_VARIABLES.filter((name) => read(name) !== undefined);
  const botToken = read('SLACK_BOT_TOKEN');
  let oauth: SlackOAuth | null = null;
  if (set.length > 0 && set.length < OAUTH_VARIABLES.length) {
    const missing = OAUTH_VARIABLES.filter((name) => !set.includes(name));
    problems.push(
      `${set.join(' and ')} ${set.length === 1 ? 'is' : 'are'} set but not ${missing.join(' and ')}: the distributed shape (many workspaces, "Add to Slack") takes all three from your app's Basic Information page (the state secret is any long random text: openssl rand -hex 32); for one workspace, remove ${set.length === 1 ? 'it' : 'them'} and set SLACK_BOT_TOKEN`,
    );
  } else if (set.length === OAUTH_VARIABLES.length) {
    const [clientId, clientSecret, stateSecret] = OAUTH_VARIABLES.map((name) => read(name) ?? '') as [
      string,
      string,
      string,
    ];
    if (botToken !== undefined) {
      problems.push(
        'SLACK_BOT_TOKEN and SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET are all set: set SLACK_BOT_TOKEN for one workspace, or the three OAuth settings (and no SLACK_BOT_TOKEN) for a distributed app installed with "Add to Slack"',
      );
    }
    if (!/^\d+\.\d+$/.test(clientId)) {
      problems.push(
        `SLACK_CLIENT_ID must be your app's Client ID, from its Basic Information page (digits, a dot, digits), got ${shown(clientId)}`,
      );
    }
    if (stateSecret.length < MIN_STATE_SECRET) {
      problems.push(
        `SLACK_STATE_SECRET must be at least ${MIN_STATE_SECRET} characters of random text (openssl rand -hex 32): it signs the install link's state`,
      );
    }
    oauth = { clientId, clientSecret, stateSecret };
  }
  const distributed = oauth !== null && botToken === undefined;
  if (distributed) {
    if (read('SLACK_APP_TOKEN') !== undefined) {
      problems.push(
        'SLACK_APP_TOKEN (Socket Mode) cannot serve a distributed app: Slack requires HTTP (Events API at /slack/events) for apps installed in other workspaces; remove SLACK_APP_TOKEN and use manifest.yml',
      );
    }
    if (read('HALO_API_KEY') !== undefined) {
      problems.push(
        'HALO_API_KEY has no workspace in the distributed shape: each workspace connects its own accounts with /halo connect; remove HALO_API_KEY (HALO_API_URL stays the accounts’ default API address)',
      );
    }
    if (read('HALO_ALERT_CHANNEL') !== undefined) {
      problems.push(
        'HALO_ALERT_CHANNEL names a channel of one workspace, and the distributed shape serves many: remove it; each workspace subscribes its channels with /halo subscribe',
      );
    }
  }

  const allowedApiUrls: string[] = [];
  for (const raw of (read('HALO_ALLOWED_API_URLS') ?? '').split(',').map((s) => s.trim())) {
    if (raw === '') continue;
    const parsed = URL.canParse(raw) ? new URL(raw) : null;
    // http only to this machine (a local proxy, the tests' stand-ins), as HALO_API_URL allows: a key sent in
    // clear over a network is the risk https avoids.
    const loopback = parsed !== null && /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(parsed.hostname);
    if (parsed === null || (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback))) {
      problems.push(`HALO_ALLOWED_API_URLS must be a comma list of https:// URLs, got ${shown(raw)}`);
    } else if (
      parsed.username !== '' ||
      parsed.password !== '' ||
      parsed.search !== '' ||
      parsed.hash !== ''
    ) {
      problems.push(
        'HALO_ALLOWED_API_URLS must hold plain API addresses, without user:pass@, ?query or #fragment',
      );
    } else allowedApiUrls.push(raw.replace(/\/+$/, ''));
  }

  const accountName = read('HALO_ACCOUNT_NAME') ?? 'Halo';
  if (!ACCOUNT_NAME.test(accountName)) {
    problems.push(
      `HALO_ACCOUNT_NAME must be one word of 1 to 40 letters, digits, '.', '_' or '-' (what account:NAME names), got ${shown(accountName)}`,
    );
  }
  return {
    shape: distributed ? 'distributed' : 'single',
    oauth: distributed ? oauth : null,
    allowedApiUrls,
    accountName,
  };
}
