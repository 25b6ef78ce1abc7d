import type { Block, SlackMessage } from './types.ts';

/**
 * A message as `chat.postMessage`, `chat.update` and `response_url` take it. A message with a colour puts its
 * blocks in one legacy attachment, which Slack draws with a bar of that colour down its side; the top-level
 * `text` stays the notification.
 */
export function messageContent(
  message: SlackMessage,
): { text: string; blocks: Block[] } | { text: string; attachments: [{ color: string; blocks: Block[] }] } {
  return message.color === undefined
    ? { text: message.text, blocks: message.blocks }
    : { text: message.text, attachments: [{ color: message.color, blocks: message.blocks }] };
}

/** The inverse, for a message Slack hands back (an interaction's `message`): its blocks and colour. */
export function readMessage(message: unknown): { blocks: Block[] | undefined; color: string | undefined } {
  if (typeof message !== 'object' || message === null) return { blocks: undefined, color: undefined };
  const { blocks, attachments } = message as { blocks?: unknown; attachments?: unknown };
  if (Array.isArray(blocks) && blocks.length > 0) return { blocks: blocks as Block[], color: undefined };
  const first: unknown = Array.isArray(attachments) ? attachments[0] : undefined;
  if (typeof first !== 'object' || first === null) return { blocks: undefined, color: undefined };
  const inner = first as { blocks?: unknown; color?: unknown };
  // Slack hands a colour back without its `#` (it was sent with one); either way it goes out again with one.
  const color = typeof inner.color === 'string' ? /^#?([0-9A-Fa-f]{6})$/.exec(inner.color)?.[1] : undefined;
  return {
    blocks: Array.isArray(inner.blocks) ? (inner.blocks as Block[]) : undefined,
    color: color === undefined ? undefined : `#${color}`,
  };
}
