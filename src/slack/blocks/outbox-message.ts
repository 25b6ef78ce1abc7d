import { formatEventsCommand } from '../../domain/command-text.ts';
import type { DigestSummary } from '../../domain/digest.ts';
import { DEFAULT_DISPLAY, type Display } from '../../domain/display.ts';
import type { HaloEvent } from '../../domain/event.ts';
import type { GoneNotice } from '../../pipeline/gone-tracking.ts';
import type { Notice } from '../../pipeline/notice-payloads.ts';
import type { OutboxItem } from '../../pipeline/store-port.ts';
import type { SummaryPayload } from '../../pipeline/summaries.ts';
import { renderAlert, renderDigest, renderGone, type SlackMessage } from './index.ts';
import { renderNotice } from './notice-message.ts';
import { renderSummary } from './summary-message.ts';

/** Outbox rows hold data, not blocks: rendering happens at delivery, so a row written before an upgrade gets today's layout. */
/** `account`: the outbox's account, which an alert's buttons name (absent: the env account). */
export function renderOutboxItem(
  item: OutboxItem,
  display: Display = DEFAULT_DISPLAY,
  account?: string,
): SlackMessage {
  if (item.kind === 'digest')
    return renderDigest(JSON.parse(item.payload) as DigestSummary, formatEventsCommand, display);
  if (item.kind === 'notice') return renderNotice(JSON.parse(item.payload) as Notice);
  if (item.kind === 'summary') return renderSummary(JSON.parse(item.payload) as SummaryPayload);
  if (item.kind === 'gone') return renderGoneNotice(JSON.parse(item.payload) as GoneNotice, display);
  return renderEventAlert(JSON.parse(item.payload) as HaloEvent, display, undefined, true, account);
}

/** A message whose event is gone from Halo, as it looked (thread summary included) with its actions removed. */
export function renderGoneNotice(notice: GoneNotice, display: Display): SlackMessage {
  const alert = renderEventAlert(notice.event, display, notice.summary ?? undefined);
  return renderGone(alert, {
    eventId: notice.event.eventId,
    noticedAt: new Date(notice.noticedAt),
    acks: notice.acks.map((ack) => ({ userId: ack.userId, at: new Date(ack.at) })),
    deletion:
      notice.deletion === null
        ? null
        : {
            userId: notice.deletion.userId,
            at: new Date(notice.deletion.at),
            alreadyDeleted: notice.deletion.alreadyDeleted,
          },
  });
}

/** An event's alert as the channel sees it: severity from the table (and HALO_SEVERITY), times in Halo's zone. */
export function renderEventAlert(
  event: HaloEvent,
  display: Display,
  summary?: string,
  inChannel = true,
  account?: string,
): SlackMessage {
  // The answer's own account, else the pipeline's (each account's pipeline renders with its own Display).
  const named = account ?? display.account;
  return renderAlert(event, {
    severity: display.severityOf(event.key),
    timeZone: display.timeZone,
    inChannel,
    ...(named === undefined ? {} : { account: named }),
    ...(summary === undefined ? {} : { summary }),
    ...(display.accountName === undefined ? {} : { accountName: display.accountName }),
  });
}
