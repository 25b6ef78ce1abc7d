import type { HaloEvent } from '../../domain/event.ts';
import { renderAlert } from './alert.ts';
import { mentionUser } from './escape.ts';
import { mrkdwnText } from './text.ts';
import type { SlackMessage } from './types.ts';

/**
 * `/halo test`'s sample: the real alert renderer's output (so it follows every change to alerts), marked as a
 * test at the top and in the notification text, and without the Delete button: there is no event to delete.
 */
export function renderTestAlert(event: HaloEvent, requestedBy: string): SlackMessage {
  const alert = renderAlert(event);
  const note =
    `:test_tube: *Test alert* sent by ${mentionUser(requestedBy)} with \`/halo test\`: ` +
    'new Halo Security events will look like this here. Not a real event; nothing to do.';
  return {
    text: `[Test] ${alert.text}`,
    blocks: [
      { type: 'context', elements: [mrkdwnText(note)] },
      ...alert.blocks.filter((block) => block.type !== 'actions'),
    ],
  };
}

/** A typical event for the sample: a port opened on a web server, created at `dateCreated` (Halo's format). */
export function sampleEvent(dateCreated: string): HaloEvent {
  return {
    eventId: 'sample',
    subject: 'New Open Port',
    dateCreated,
    key: 'port-open',
    url: '',
    target: { name: 'Web server', id: null, host: 'www.example.com' },
  };
}
