import { describe, expect, it } from 'vitest';
import { messageContent, readMessage } from '../../src/slack/blocks/wire.ts';

const blocks = [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text: 'x' } }];

describe('readMessage: a message as Slack hands it back in a click', () => {
  it('reads top-level blocks, and no colour', () => {
    expect(readMessage({ blocks })).toEqual({ blocks, color: undefined });
  });

  it('reads the blocks of a coloured message from its attachment, the colour with or without its #', () => {
    expect(readMessage({ text: '', attachments: [{ id: 1, color: 'E01E5A', blocks }] })).toEqual({
      blocks,
      color: '#E01E5A',
    });
    expect(readMessage({ attachments: [{ color: '#36a64f', blocks }] })).toEqual({
      blocks,
      color: '#36a64f',
    });
    expect(readMessage({ attachments: [{ color: 'red', blocks }] })).toEqual({ blocks, color: undefined });
  });

  it('gives back what messageContent sent', () => {
    const sent = messageContent({ text: 't', blocks, color: '#E01E5A' });
    expect(readMessage(sent)).toEqual({ blocks, color: '#E01E5A' });
    expect(readMessage(null)).toEqual({ blocks: undefined, color: undefined });
  });
});
