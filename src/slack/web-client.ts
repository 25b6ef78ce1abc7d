import { webApi } from '@slack/bolt';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { boltLogger } from './bolt-logger.ts';

/**
 * A WebClient with a retry policy chosen on purpose: the default retries for about 30 minutes, which would hide
 * an outage and hold a channel. `retries: 0` is for delivery, which keeps its own schedule in the outbox.
 */
export function createWebClient(
  config: Config,
  log: Logger,
  retries: number,
  /** A workspace's installation's; the env one (SLACK_BOT_TOKEN) by default. */
  token: string = config.slack.botToken,
): webApi.WebClient {
  return new webApi.WebClient(token, {
    slackApiUrl: config.slack.apiUrl,
    logger: boltLogger(log),
    logLevel: webApi.LogLevel.WARN,
    timeout: config.delays.slackTimeoutMs,
    rejectRateLimitedCalls: true,
    retryConfig: { retries, factor: 2, minTimeout: 500, maxTimeout: 4000 },
  });
}

export interface BotIdentity {
  readonly botId: string;
  readonly botUserId: string;
  /** The bot's own workspace and, on Enterprise Grid, organisation; undefined when Slack could not be asked. */
  readonly team?: BotTeam;
}

export interface BotTeam {
  readonly teamId: string;
  readonly enterpriseId?: string;
}

export class SlackAuthError extends Error {
  override name = 'SlackAuthError' as const;
}

/**
 * Checks the token once at start-up. A rejected token stops the bot with a clear message; Slack being unreachable
 * does not (alerts wait in the outbox), so placeholders stand in for the identity Bolt would otherwise fetch.
 */
export async function identify(client: webApi.WebClient, log: Logger): Promise<BotIdentity> {
  try {
    const result = await client.auth.test();
    const team = teamOf(result);
    return {
      botId: result.bot_id ?? 'B_UNKNOWN',
      botUserId: result.user_id ?? 'U_UNKNOWN',
      ...(team === undefined ? {} : { team }),
    };
  } catch (error) {
    const code = (error as { data?: { error?: unknown } }).data?.error;
    if (
      typeof code === 'string' &&
      ['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked'].includes(code)
    ) {
      throw new SlackAuthError(
        `Slack rejected SLACK_BOT_TOKEN (${code}). Copy the Bot User OAuth Token (xoxb-…) from your app's OAuth & Permissions page.`,
      );
    }
    log.warn('Slack could not be reached at start-up; alerts will wait in the outbox until it can', {
      error,
    });
    return { botId: 'B_UNKNOWN', botUserId: 'U_UNKNOWN' };
  }
}

/** The team (and organisation) an `auth.test` answer names, when it names one. */
export function teamOf(result: { team_id?: string; enterprise_id?: string }): BotTeam | undefined {
  if (typeof result.team_id !== 'string' || result.team_id === '') return undefined;
  return typeof result.enterprise_id === 'string' && result.enterprise_id !== ''
    ? { teamId: result.team_id, enterpriseId: result.enterprise_id }
    : { teamId: result.team_id };
}
