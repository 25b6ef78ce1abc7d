import { formatEventsCommand } from '../commands/parse.ts';
import type { DigestSummary } from '../domain/digest.ts';
import { DEFAULT_DISPLAY, type Display } from '../domain/display.ts';
import type { HaloEvent } from '../halo/types.ts';
import type { Notice } from '../pipeline/notices.ts';
import type { OutboxItem } from '../store/store.ts';
import { renderAlert, renderDigest, type SlackMessage } from './blocks/index.ts';
import { renderNotice } from './notices.ts';

/** Outbox rows hold data, not blocks: rendering happens at delivery, so a row written before an upgrade gets today's layout. */
export function renderOutboxItem(item: OutboxItem, display: Display = DEFAULT_DISPLAY): SlackMessage {
  if (item.kind === 'digest')
    return renderDigest(JSON.parse(item.payload) as DigestSummary, formatEventsCommand, display);
  if (item.kind === 'notice') return renderNotice(JSON.parse(item.payload) as Notice);
  return renderEventAlert(JSON.parse(item.payload) as HaloEvent, display);
}

/** An event's alert as the channel sees it: severity from the table (and HALO_SEVERITY), times in Halo's zone. */
export function renderEventAlert(
  event: HaloEvent,
  display: Display,
  summary?: string,
  inChannel = true,
): SlackMessage {
  return renderAlert(event, {
    severity: display.severityOf(event.key),
    timeZone: display.timeZone,
    inChannel,
    ...(summary === undefined ? {} : { summary }),
  });
}
