import { formatEventsCommand } from '../../domain/command-text.ts';
import type { ConnectedNotice, NeedsKeyNotice, Notice } from '../../pipeline/notice-payloads.ts';
import { describeRoute } from './answer-message.ts';
import { renderMuteEnded, type SlackMessage } from './index.ts';
import { mrkdwnText } from './text.ts';

/** An outbox notice row's message: each notice kind has its own renderer. */
export function renderNotice(notice: Notice): SlackMessage {
  switch (notice.notice) {
    case 'mute_ended':
      return renderMuteEnded(notice.mute, formatEventsCommand);
    case 'connected':
      return renderConnected(notice);
    case 'needs_key':
      return renderNeedsKey(notice);
  }
}

/** Halo refused an account's key: what stopped, and who does what to resume it. */
export function renderNeedsKey(notice: NeedsKeyNotice): SlackMessage {
  const name = plainName(notice.account);
  const fix =
    notice.fix === 'env'
      ? 'An admin must set a new key in `HALO_API_KEY` and restart the bot.'
      : `An admin can give it a new key with \`/halo connect\` (same name, *${name}*): polling resumes where it stopped, without posting old events again.`;
  const text =
    `:warning: *Halo refused the API key of the account ${name}* (the key ending in \`${plainName(notice.keyHint)}\`). ` +
    `I now check it only once an hour, so new events of this account are not posted. ${fix}`;
  return {
    text: `Halo refused the API key of the account ${name}`,
    blocks: [{ type: 'section', text: mrkdwnText(text) }],
  };
}

/** A name typed by a user, shown in mrkdwn without its control characters (`*`, `_`, `` ` ``, `<`, `>`, `&`). */
function plainName(name: string): string {
  return name.replace(/[*_`~<>&]/g, '');
}

/** The first start's message to HALO_ALERT_CHANNEL: it works, what became the starting point, what comes next. */
export function renderConnected(notice: ConnectedNotice): SlackMessage {
  const { route, baseline, backfill } = notice;
  const counted = `${baseline.toLocaleString('en-US')} existing Halo event${baseline === 1 ? '' : 's'}`;
  const newest =
    backfill === 0
      ? 'and will not post them'
      : `and post only the ${backfill === 1 ? 'newest, below' : `${backfill} newest, below`}`;
  const what = describeRoute(route.keys, route.targetIds, route.minSeverity ?? null);
  const text =
    `:white_check_mark: *Connected to Halo Security.* I recorded ${counted} as the starting point ${newest}. ` +
    `From now on I post each new event here: ${what}.\n` +
    'Try `/halo test` to see what an alert looks like, or `/halo events` to list recent events.';
  return {
    text: `Connected to Halo Security: ${counted} recorded as the starting point`,
    blocks: [{ type: 'section', text: mrkdwnText(text) }],
  };
}
