import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/commands/command-parse.ts';
import { renderAlert, renderTestAlert, sampleEvent } from '../../src/slack/blocks/index.ts';

describe('renderTestAlert', () => {
  it('is the real alert, marked as a test at the top and in the notification, without the Delete button', () => {
    const event = sampleEvent('2026-11-29 14:05');
    const alert = renderAlert(event);
    const sample = renderTestAlert(event, 'U123');
    expect(sample.text).toBe(`[Test] ${alert.text}`);
    expect(sample.blocks[0]).toEqual({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          verbatim: true,
          text: ':test_tube: *Test alert* sent by <@U123> with `/halo test`: new Halo Security events will look like this here. Not a real event; nothing to do.',
        },
      ],
    });
    expect(sample.blocks.slice(1)).toEqual(alert.blocks.filter((block) => block.type !== 'actions'));
    expect(alert.blocks.some((block) => block.type === 'actions')).toBe(true);
  });

  it('never mentions a user ID that is not one', () => {
    expect(
      JSON.stringify(renderTestAlert(sampleEvent('2026-11-29 14:05'), '<!channel>').blocks[0]),
    ).toContain('sent by someone');
  });
});

describe('parseCommand: test', () => {
  it('takes no arguments', () => {
    expect(parseCommand('test')).toEqual({ ok: true, command: { kind: 'test' } });
    expect(parseCommand('TEST')).toEqual({ ok: true, command: { kind: 'test' } });
    expect(parseCommand('test x')).toEqual({
      ok: false,
      error: 'Unexpected extra argument “x”: test takes none.',
      usage: '/halo test',
    });
  });
});
