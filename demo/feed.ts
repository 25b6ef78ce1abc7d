/**
 * What the person watching the demo sees of the Slack stand-in: one channel's messages (posts, thread replies,
 * edits), the private ones (ephemeral messages, `response_url` answers), and the commands they typed. Follows
 * Slack's rules for `response_url`: `replace_original` edits the message the button was on, `delete_original`
 * removes it, anything else is a new message, private unless `response_type` is `in_channel`.
 */
import { randomBytes } from 'node:crypto';
import { visible, type FakeSlack, type SlackChange } from '../fakes/slack.ts';
import { cardHtml, type CardView } from './render.ts';
import type { MrkdwnOptions } from './mrkdwn.ts';

export interface FeedMessage extends CardView {
  readonly id: string;
  readonly channel: string;
  /** Slack's ts for a channel post; null for private answers. */
  readonly ts: string | null;
  /** The thread parent's feed ID, for a reply. */
  readonly parent: string | null;
  /** The colour bar, `#RRGGBB`, if any. */
  readonly color: string | null;
  /** For a link preview: the URL it previews (`ts` is then the message it sits under). */
  readonly unfurl?: string;
}

/** What the page receives for each new or changed message. */
export interface FeedItem {
  readonly id: string;
  readonly parent: string | null;
  readonly kind: FeedMessage['kind'];
  readonly color: string | null;
  readonly html: string;
}

const COLOR = /^#[0-9A-Fa-f]{6}$/;

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** Text, blocks and colour of a message body (top-level blocks, or those of its one coloured attachment). */
function content(body: Record<string, unknown>): { text: string; blocks: unknown[]; color: string | null } {
  const shown = visible(body);
  const color = shown.color !== undefined && COLOR.test(shown.color) ? shown.color : null;
  return { text: typeof body.text === 'string' ? body.text : '', blocks: shown.blocks, color };
}

export class Feed {
  private readonly messages = new Map<string, FeedMessage>();
  private readonly byTs = new Map<string, string>();
  /** response_url ID → the message its answers may replace (null: a slash command's, which replaces nothing). */
  private readonly origins = new Map<string, string | null>();
  private readonly listeners = new Set<(item: FeedItem) => void>();
  private counter = 0;

  constructor(
    private readonly slack: FakeSlack,
    private readonly options: MrkdwnOptions & {
      readonly botName: string;
      readonly userName: string;
      /** Where commands are typed, and so where their private answers appear. */
      readonly channel: string;
    },
  ) {
    slack.onChange = (change) => this.apply(change);
  }

  /** A response_url for a command (null) or for a click on message `messageId`. */
  responseUrl(messageId: string | null): string {
    // Unguessable: a response_url ID is all it takes to post as the bot into the demo's channel.
    const id = `r${++this.counter}-${randomBytes(16).toString('hex')}`;
    this.origins.set(id, messageId);
    return this.slack.responseUrl(id);
  }

  get(id: string): FeedMessage | undefined {
    return this.messages.get(id);
  }

  /** Every message, oldest first (a parent before its replies). */
  items(): FeedItem[] {
    return [...this.messages.values()].map((m) => this.item(m));
  }

  subscribe(listener: (item: FeedItem) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A message the person posted in the channel (a pasted link, say): their own line, with a ts as Slack gives
   * a message, under which the bot's previews appear. Returns that ts.
   */
  said(text: string): string {
    const ts = (Date.now() / 1000).toFixed(6);
    const message = this.add({
      kind: 'user',
      author: this.options.userName,
      channel: this.options.channel,
      ts,
      text,
      blocks: [],
      color: null,
    });
    this.byTs.set(`${message.channel}:${ts}`, message.id);
    return ts;
  }

  /** Shows what the person typed, as their own line in the channel view. */
  typed(text: string): void {
    this.add({
      kind: 'user',
      author: this.options.userName,
      channel: this.options.channel,
      text,
      blocks: [],
      color: null,
    });
  }

  private apply(change: SlackChange): void {
    switch (change.kind) {
      case 'post': {
        const { post } = change;
        const parent =
          post.threadTs === undefined ? null : (this.byTs.get(`${post.channel}:${post.threadTs}`) ?? null);
        const added = this.add({
          kind: 'channel',
          author: this.options.botName,
          channel: post.channel,
          ts: post.ts,
          parent,
          broadcast: post.broadcast === true,
          text: post.text,
          blocks: post.blocks,
          color: post.color !== undefined && COLOR.test(post.color) ? post.color : null,
        });
        this.byTs.set(`${post.channel}:${post.ts}`, added.id);
        return;
      }
      case 'update': {
        const id = this.byTs.get(`${change.post.channel}:${change.post.ts}`);
        const updated = change.post.updated;
        if (id !== undefined && updated !== undefined) {
          this.change(id, {
            text: updated.text,
            blocks: updated.blocks,
            color: updated.color ?? null,
            edited: true,
          });
        }
        return;
      }
      case 'ephemeral': {
        const { args } = change.call;
        this.add({
          kind: 'ephemeral',
          author: this.options.botName,
          channel: String(args.channel),
          ...content(args),
        });
        return;
      }
      case 'response':
        this.respond(change.response.id, record(change.response.body));
        return;
      case 'modal': {
        // Slack shows a dialog over the channel; here it is a card only its user sees, redrawn as it changes.
        const title =
          typeof record(change.view.title).text === 'string'
            ? String(record(change.view.title).text)
            : 'Dialog';
        const blocks = [
          { type: 'header', text: { type: 'plain_text', text: `Dialog: ${title}` } },
          ...(Array.isArray(change.view.blocks) ? (change.view.blocks as unknown[]) : []),
        ];
        const shown = this.byTs.get(`modal:${change.id}`);
        if (shown !== undefined) this.change(shown, { blocks, edited: true });
        else {
          const added = this.add({
            kind: 'ephemeral',
            author: this.options.botName,
            channel: this.options.channel,
            text: title,
            blocks,
            color: null,
          });
          this.byTs.set(`modal:${change.id}`, added.id);
        }
        return;
      }
      case 'unfurl': {
        // A preview sits under its message; a second chat.unfurl of the same link there redraws it.
        const { unfurl } = change;
        if (unfurl.channel === undefined || unfurl.ts === undefined) return;
        const key = `${unfurl.channel}:${unfurl.ts}:${unfurl.url}`;
        const color =
          unfurl.card.color !== undefined && COLOR.test(unfurl.card.color) ? unfurl.card.color : null;
        const shown = this.byTs.get(key);
        if (shown !== undefined) {
          this.change(shown, { blocks: unfurl.card.blocks, color, edited: true });
          return;
        }
        const added = this.add({
          kind: 'channel',
          author: this.options.botName,
          channel: unfurl.channel,
          ts: unfurl.ts,
          preview: true,
          unfurl: unfurl.url,
          text: '',
          blocks: unfurl.card.blocks,
          color,
        });
        this.byTs.set(key, added.id);
        return;
      }
    }
  }

  private respond(responseId: string, body: Record<string, unknown>): void {
    const origin = this.origins.get(responseId) ?? null;
    const original = origin === null ? undefined : this.messages.get(origin);
    if (original !== undefined && body.delete_original === true) {
      this.change(original.id, { deleted: true });
    } else if (original !== undefined && body.replace_original === true) {
      this.change(original.id, { ...content(body), edited: original.kind === 'channel' });
    } else {
      this.add({
        kind: body.response_type === 'in_channel' ? 'channel' : 'ephemeral',
        author: this.options.botName,
        channel: original?.channel ?? this.options.channel,
        ...content(body),
      });
    }
  }

  private add(
    fields: Pick<FeedMessage, 'kind' | 'author' | 'channel' | 'text' | 'blocks' | 'color'> &
      Partial<Pick<FeedMessage, 'ts' | 'parent' | 'broadcast' | 'preview' | 'unfurl'>>,
  ): FeedMessage {
    const message: FeedMessage = {
      id: `m${++this.counter}`,
      at: Date.now(),
      ts: null,
      parent: null,
      broadcast: false,
      edited: false,
      deleted: false,
      ...fields,
      inThread: fields.parent !== undefined && fields.parent !== null,
    };
    this.messages.set(message.id, message);
    this.emit(message);
    return message;
  }

  private change(id: string, fields: Partial<FeedMessage>): void {
    const current = this.messages.get(id);
    if (current === undefined) return;
    const next = { ...current, ...fields };
    this.messages.set(id, next);
    this.emit(next);
  }

  private item(message: FeedMessage): FeedItem {
    return {
      id: message.id,
      parent: message.parent,
      kind: message.kind,
      color: message.deleted ? null : message.color,
      html: cardHtml(message, this.options),
    };
  }

  private emit(message: FeedMessage): void {
    const item = this.item(message);
    for (const listener of this.listeners) listener(item);
  }
}
