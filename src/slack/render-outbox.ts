import { formatEventsCommand } from '../commands/parse.ts';
import type { DigestSummary } from '../domain/digest.ts';
import type { HaloEvent } from '../halo/types.ts';
import type { MuteEndedNotice } from '../pipeline/mute-expiry.ts';
import type { OutboxItem } from '../store/store.ts';
import { renderAlert, renderDigest, renderMuteEnded, type SlackMessage } from './blocks/index.ts';

/** Outbox rows hold data, not blocks: rendering happens at delivery, so a row written before an upgrade gets today's layout. */
export function renderOutboxItem(item: OutboxItem): SlackMessage {
  if (item.kind === 'digest')
    return renderDigest(JSON.parse(item.payload) as DigestSummary, formatEventsCommand);
  if (item.kind === 'notice')
    return renderMuteEnded((JSON.parse(item.payload) as MuteEndedNotice).mute, formatEventsCommand);
  return renderAlert(JSON.parse(item.payload) as HaloEvent);
}
