/**
 * Link previews: a Halo event link pasted in Slack becomes a compact card. The event comes from the account of
 * the workspace the link was posted in, through a cache that asks Halo at most once per event per lifetime
 * (10 minutes), however many messages show the link. Whether anyone acknowledged it, and whether it is gone,
 * come from the store, which is local and always current.
 */
import type { Clock } from '../clock.ts';
import { haloEventIdOf } from '../domain/halo-link.ts';
import { HaloApiError } from '../pipeline/halo-errors.ts';
import { redactEvent, type Redact } from '../pipeline/secrets.ts';
import type { HaloEvent } from '../domain/event.ts';
import type { Logger } from '../log.ts';
import type { Acknowledgement, DeletionRecord } from '../pipeline/store-port.ts';
import type { AccountOf, HaloAccount, Workspace } from './accounts.ts';
import { parseEvent } from '../pipeline/outbox.ts';

export type LinkPreview =
  | {
      readonly kind: 'event';
      /** The account that holds it: an acknowledgement is recorded in its scope. */
      readonly account: HaloAccount;
      readonly event: HaloEvent;
      /** Everyone who acknowledged the event, on its alerts or on a preview, each once, earliest first. */
      readonly acks: readonly Acknowledgement[];
    }
  | {
      readonly kind: 'gone';
      readonly account: HaloAccount;
      readonly eventId: string;
      /** The event as an alert showed it, when one did. */
      readonly event: HaloEvent | null;
      /** Who deleted it with the bot, when someone did. */
      readonly deletion: DeletionRecord | null;
    };

/** What Halo said about one event: kept for the cache's lifetime, a failure included (no retry storm). */
type Lookup = { readonly kind: 'found'; readonly event: HaloEvent } | { readonly kind: 'missing' | 'failed' };

export const PREVIEW_CACHE = { lifetimeMs: 10 * 60_000, entries: 1000 } as const;

export interface LinkPreviewsOptions {
  /** The workspace's accounts, each with its store view (its alerts and acknowledgements, its deletions). */
  readonly accountOf: AccountOf;
  readonly clock: Clock;
  /** Removes every secret from a text that may reach Slack: an event's subject can quote the bot's API key. */
  readonly redact: Redact;
  readonly log: Logger;
  readonly cache?: { readonly lifetimeMs: number; readonly entries: number };
}

export class LinkPreviews {
  /** In insertion order, so the oldest goes first when the cache is full. */
  private readonly cache = new Map<string, { readonly at: number; readonly lookup: Promise<Lookup> }>();
  private readonly limits: { readonly lifetimeMs: number; readonly entries: number };

  constructor(private readonly options: LinkPreviewsOptions) {
    this.limits = options.cache ?? PREVIEW_CACHE;
  }

  /**
   * The preview of `link` for a reader in `workspace`; null for anything that is not a Halo event link, a
   * workspace without an account, or an event that account does not hold (or that Halo could not say): the
   * link then shows as Slack shows any link, and nothing about Halo leaks.
   * `acks`: acknowledgements just recorded on this very preview, shown whatever the store says elsewhere.
   */
  async preview(
    workspace: Workspace,
    link: string,
    acks: readonly Acknowledgement[] = [],
  ): Promise<LinkPreview | null> {
    const eventId = haloEventIdOf(link);
    if (eventId === null) return null;
    const accounts = await this.options.accountOf(workspace);
    if (accounts.length === 0) {
      this.options.log.debug('preview: no Halo account for this workspace', { team: workspace.teamId });
      return null;
    }
    // A link names an event, not an account: the first of the workspace's accounts that holds it shows it.
    for (const account of accounts) {
      const found = await this.previewIn(account, eventId, acks);
      if (found !== null) return found;
    }
    return null;
  }

  private async previewIn(
    account: HaloAccount,
    eventId: string,
    acks: readonly Acknowledgement[],
  ): Promise<LinkPreview | null> {
    const [lookup, messages] = await Promise.all([
      this.lookup(`${account.id}\n${eventId}`, () => account.halo.getEvent(eventId)),
      account.store.eventMessages([eventId]),
    ]);
    if (lookup.kind === 'found') {
      return {
        kind: 'event',
        account,
        event: lookup.event,
        acks: firstPerUser([...messages.flatMap((m) => m.acks), ...acks]),
      };
    }
    if (lookup.kind === 'failed') return null;
    // Halo does not know it: an event the bot alerted or deleted is gone; any other ID is no business of ours.
    const deletion = await account.store.deletion(eventId);
    const shown = messages[0];
    if (shown === undefined && deletion === null) return null;
    return {
      kind: 'gone',
      account,
      eventId,
      event: shown === undefined ? null : parseEvent(shown.payload),
      deletion,
    };
  }

  private lookup(key: string, ask: () => Promise<HaloEvent>): Promise<Lookup> {
    const now = this.options.clock.now();
    const cached = this.cache.get(key);
    if (cached !== undefined && now - cached.at < this.limits.lifetimeMs) return cached.lookup;
    this.cache.delete(key);
    for (const [old, entry] of this.cache) {
      if (this.cache.size < this.limits.entries && now - entry.at < this.limits.lifetimeMs) break;
      this.cache.delete(old);
    }
    const lookup = ask().then(
      // Redacted before it is cached: every card drawn from the cache shows the event as Slack may see it.
      (event): Lookup => ({ kind: 'found', event: redactEvent(event, this.options.redact) }),
      (error: unknown): Lookup => {
        if (error instanceof HaloApiError && error.notFound) return { kind: 'missing' };
        this.options.log.warn('preview: Halo could not be asked about a linked event', { error });
        return { kind: 'failed' };
      },
    );
    this.cache.set(key, { at: now, lookup });
    return lookup;
  }
}

function firstPerUser(acks: readonly Acknowledgement[]): Acknowledgement[] {
  const first = new Map<string, Acknowledgement>();
  for (const ack of [...acks].sort((a, b) => a.at - b.at))
    if (!first.has(ack.userId)) first.set(ack.userId, ack);
  return [...first.values()];
}
