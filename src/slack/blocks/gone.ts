/**
 * An alert once its event no longer exists in Halo: the same message, who acknowledged or deleted it still
 * shown, every action gone (there is nothing left to act on), and one line saying so: when the bot noticed, or
 * who deleted it. Pure.
 */
import { renderAcknowledged, type AckView } from './alert-actions.ts';
import { renderDeleted, type DeletedInfo } from './alert.ts';
import { mrkdwn, slackDate } from './escape.ts';
import { LIMITS } from './limits.ts';
import { mrkdwnText } from './text.ts';
import type { Block, ContextBlock, SlackMessage } from './types.ts';

/** Marks the "no longer exists" note, so rendering it twice replaces it instead of stacking another. */
export const GONE_BLOCK_ID = 'halo_gone';

export interface GoneView {
  readonly eventId: string;
  /** When the bot found the event missing from Halo. */
  readonly noticedAt: Date;
  readonly acks: readonly AckView[];
  /** Set when the bot's own Delete button removed it. */
  readonly deletion: Omit<DeletedInfo, 'eventId'> | null;
}

/**
 * `alert` is the message as first rendered (renderAlert, with a thread summary if it had one). When the bot's own
 * Delete removed the event, its "Deleted by" line already says it is gone: that line alone, not a second one.
 */
export function renderGone(alert: SlackMessage, view: GoneView): SlackMessage {
  let blocks: readonly Block[] = alert.blocks;
  if (view.acks.length > 0) blocks = renderAcknowledged(blocks, view.acks, view.eventId).blocks;
  let text = `Halo event ${mrkdwn(view.eventId, 60)} no longer exists in Halo`;
  const notes: ContextBlock[] = [];
  if (view.deletion !== null) {
    ({ text, blocks } = renderDeleted(blocks, { ...view.deletion, eventId: view.eventId }));
  } else {
    const when = slackDate(view.noticedAt);
    notes.push({
      type: 'context',
      block_id: GONE_BLOCK_ID,
      elements: [
        mrkdwnText(
          `:ghost: This event no longer exists in Halo${when === undefined ? '' : ` (noticed ${when})`}`,
        ),
      ],
    });
  }
  const kept = blocks.filter((block) => block.type !== 'actions' && block.block_id !== GONE_BLOCK_ID);
  return {
    text,
    blocks: [...kept.slice(0, LIMITS.blocksPerMessage - notes.length), ...notes],
    ...(alert.color === undefined ? {} : { color: alert.color }),
  };
}
