import type { App, BlockAction, ButtonAction, Context, webApi } from '@slack/bolt';
import type { Workspace } from '../../commands/accounts.ts';
import type { LinkPreview, LinkPreviews } from '../../commands/link-preview.ts';
import type { Acknowledgement } from '../../pipeline/store-port.ts';
import type { Display } from '../../domain/display.ts';
import type { Logger } from '../../log.ts';
import { renderNotice } from '../blocks/answer-message.ts';
import { decodeUnfurlAck, renderPreview, UNFURL_ACK_ACTION_ID, type PreviewView } from '../blocks/index.ts';
import { reply } from './reply.ts';

export interface LinkDeps {
  readonly previews: LinkPreviews;
  readonly display: Display;
  readonly log: Logger;
}

/** Where a preview goes: the posted message, or the message still being written (`composer`). */
type Target = { channel: string; ts: string } | { unfurl_id: string; source: 'composer' };

/**
 * Link previews: `link_shared` (HTTP or Socket Mode alike) answered with `chat.unfurl` for the Halo event links
 * this workspace's account holds, and nothing for any other link. The preview's Acknowledge button records the
 * acknowledgement on the message the preview sits in and redraws the preview with `chat.unfurl`: the message is
 * someone else's, so `response_url` cannot replace it.
 */
export function registerLinks(app: App, deps: LinkDeps): void {
  const { log, previews } = deps;

  const unfurl = async (
    client: webApi.WebClient,
    target: Target,
    cards: Record<string, ReturnType<typeof renderPreview>>,
  ): Promise<boolean> => {
    if (Object.keys(cards).length === 0) return true;
    try {
      await client.chat.unfurl({ ...target, unfurls: cards });
      return true;
    } catch (error) {
      log.warn('preview: chat.unfurl failed', { error });
      return false;
    }
  };

  app.event('link_shared', async ({ event, client, context }) => {
    const workspace = workspaceOf(context);
    const links = [...new Set(event.links.map((link) => link.url))];
    const cards: Record<string, ReturnType<typeof renderPreview>> = {};
    for (const link of links) {
      const preview = await previews.preview(workspace, link);
      if (preview !== null)
        cards[link] = renderPreview(link, view(preview, deps.display), deps.display.timeZone);
    }
    // A posted message is named by channel and ts (as the Acknowledge button's redraw does); a message still
    // being written has only its unfurl_id.
    const target: Target =
      event.source === 'composer' && event.unfurl_id !== undefined
        ? { unfurl_id: event.unfurl_id, source: 'composer' }
        : { channel: event.channel, ts: event.message_ts };
    await unfurl(client, target, cards);
  });

  app.action<BlockAction<ButtonAction>>(
    UNFURL_ACK_ACTION_ID,
    async ({ ack, body, action, client, respond, context }) => {
      await ack();
      const decoded = decodeUnfurlAck(action.value);
      const container = body.container as {
        type?: unknown;
        is_app_unfurl?: unknown;
        channel_id?: unknown;
        message_ts?: unknown;
      };
      // Slack sends a click on an app's unfurl from a `message_attachment` container marked `is_app_unfurl`.
      // Any other container is forged: it could name an alert message elsewhere, and the acknowledgement
      // would be recorded there for this event.
      const fromUnfurl = container.type === 'message_attachment' && container.is_app_unfurl === true;
      if (!fromUnfurl)
        log.warn('preview: Acknowledge refused: the click does not come from a link preview', {
          user: body.user.id,
          container: typeof container.type === 'string' ? container.type : null,
        });
      const channel = typeof container.channel_id === 'string' ? container.channel_id : body.channel?.id;
      const messageTs = container.message_ts;
      if (!fromUnfurl || decoded === null || channel === undefined || typeof messageTs !== 'string') {
        await reply(
          respond,
          renderNotice('This button does not name a Halo event that can be acknowledged.'),
          log,
        );
        return;
      }
      const workspace = workspaceOf(context);
      // Shown only for what this workspace's account holds: a forged button gets no preview of another account's event.
      const before = await previews.preview(workspace, decoded.link);
      if (before?.kind !== 'event') {
        await reply(respond, renderNotice('This Halo event can no longer be acknowledged here.'), log);
        return;
      }
      // Recorded in the account that holds the event, of this workspace (the preview was looked up in it).
      const acks: Acknowledgement[] = await before.account.acknowledger.acknowledge({
        channel,
        messageTs,
        eventId: decoded.eventId,
        userId: body.user.id,
      });
      const after = (await previews.preview(workspace, decoded.link, acks)) ?? before;
      const card = renderPreview(decoded.link, view(after, deps.display), deps.display.timeZone);
      if (!(await unfurl(client, { channel, ts: messageTs }, { [decoded.link]: card })))
        await reply(respond, renderNotice('Acknowledged, but the preview could not be updated.'), log);
    },
  );
}

/** The workspace as Bolt's `authorize` resolved it, never as the payload names it. */
function workspaceOf(context: Context): Workspace {
  return {
    teamId: context.teamId,
    enterpriseId: context.enterpriseId,
    isEnterpriseInstall: context.isEnterpriseInstall,
  };
}

function view(preview: LinkPreview, display: Display): PreviewView {
  if (preview.kind === 'event') {
    return {
      kind: 'event',
      event: preview.event,
      severity: display.severityOf(preview.event.key),
      acks: preview.acks.map((a) => ({ userId: a.userId, at: new Date(a.at) })),
    };
  }
  const { deletion, event } = preview;
  return {
    kind: 'gone',
    eventId: preview.eventId,
    event,
    severity: event === null ? null : display.severityOf(event.key),
    deletedBy: deletion === null ? null : { userId: deletion.userId, at: new Date(deletion.at) },
  };
}
