/**
 * What each `/halo` subcommand does, independent of Bolt: it takes a parsed command and returns the answer.
 * Halo failures become a sentence for the user; nothing here throws for a user's mistake or Halo's.
 */
import PQueue from 'p-queue';
import type { Clock } from '../clock.ts';
import type { HaloClient } from '../pipeline/halo-port.ts';
import { HaloError } from '../pipeline/halo-errors.ts';
import type { EventListFilter, HaloEvent } from '../domain/event.ts';
import { PRODUCTION_DELAYS } from '../delays.ts';
import type { Logger } from '../log.ts';
import type { SeverityOf } from '../domain/severity.ts';
import type { Route } from '../pipeline/routes.ts';
import { redactEvent, type Redact } from '../pipeline/secrets.ts';
import { unknownKeys, type UnknownKey } from '../domain/suggest.ts';
import type { RouteStart } from '../pipeline/route-start.ts';
import type { Store, Subscription } from '../pipeline/store-port.ts';
import { notice, type Answer, type StatusView } from './answers.ts';
import { ListingCache, readListing } from './listings.ts';
import { rateLimited, UserRateLimit, type RateDecision } from './rate-limit.ts';
import { Mutes } from './mute-commands.ts';
import { type HaloCommand } from './command-parse.ts';
import { formatSubscribeCommand } from '../domain/command-text.ts';
import { helpText } from './usage.ts';
import { summaryCommand } from './summary-commands.ts';

export interface CommandContext {
  readonly userId: string;
  readonly channelId: string;
  /** A subscription the new one replaces (the dialog's Edit): not counted against the caps. */
  readonly replacing?: { readonly channel: string; readonly id: number };
}

export interface CommandServiceOptions {
  readonly halo: HaloClient;
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly defaultRoute: Route | null;
  /** The one bound on Halo requests in flight, shared with polls (required: see PollerOptions.haloRequests). */
  readonly haloRequests: PQueue;
  /** How long a `/halo events` listing serves its Next page buttons; production: 5 minutes. */
  readonly listingCacheMs?: number;
  /** May this Slack user change subscriptions and delete events? */
  readonly canManage: (userId: string) => Promise<boolean>;
  readonly status: () => Promise<StatusView>;
  /** Sets where a new subscription starts, so that every later event reaches it (see pipeline/route-start.ts). */
  readonly startSubscription: (subscription: Subscription) => Promise<RouteStart>;
  /**
   * Posts `/halo test`'s sample alert (an event created at `dateCreated`, in Halo's format) in a channel as the
   * bot; `error` is Slack's error code.
   */
  readonly postTest: (
    channel: string,
    requestedBy: string,
    dateCreated: string,
  ) => Promise<{ readonly ok: true } | { readonly ok: false; readonly error: string }>;
  /** The bot's own user ID, for "invite me" answers. */
  readonly botUserId: string;
  /** Each key's severity, and whether it is only guessed: `/halo types` shows both. */
  readonly ratings?: { readonly severityOf: SeverityOf; readonly isAssumed: (key: string) => boolean };
  /** Replaces known secrets in the texts of the events shown (see pipeline/secrets.ts). */
  readonly redact?: Redact;
  /** HALO_TIMEZONE, which `/halo summary` times are read in; absent: UTC. */
  readonly timeZone?: string;
  /**
   * The per-user share of commands, when several services (one per Halo account) must count against one share;
   * absent: a share of this service's own.
   */
  readonly perUser?: UserRateLimit;
  /** The account this service acts in ({@link Scope.account}), which the answers' buttons name. */
  readonly account?: string;
  /** HALO_COMMANDS_PER_MINUTE and the subscription caps; absent: {@link DEFAULT_LIMITS}. */
  readonly limits?: CommandLimits;
}

export interface CommandLimits {
  /** `/halo` commands (help aside) one user may run in a minute. */
  readonly commandsPerMinute: number;
  readonly subscriptionsPerChannel: number;
  /** All channels together. */
  readonly subscriptions: number;
}

/** The settings' defaults (src/config.ts). */
export const DEFAULT_LIMITS: CommandLimits = {
  commandsPerMinute: 20,
  subscriptionsPerChannel: 10,
  subscriptions: 50,
};

/** Slack's answers to a post in a conversation the bot is not a member of. */
const NOT_A_MEMBER = new Set(['not_in_channel', 'channel_not_found']);

export const NOT_ALLOWED =
  'You are not allowed to do that: only the users in HALO_ADMIN_USERS (or, when it is empty, workspace admins and owners) may change subscriptions or delete events.';

/** `/halo help`: the same in every account, and read from nothing (it answers while the database is down). */
export function helpAnswer(command: Extract<HaloCommand, { kind: 'help' }>): Answer {
  return command.unknown === undefined
    ? { kind: 'help', help: helpText() }
    : { kind: 'help', help: helpText(), unknown: command.unknown };
}

/** Said when the workspace's accounts cannot be read: nothing was done, and the user can simply try again. */
export const STORE_UNAVAILABLE =
  'The bot cannot read its database just now, so nothing was done. Try again in a minute; /halo help still works.';

export class CommandService {
  readonly mutes: Mutes;
  private readonly listings: ListingCache;
  private readonly limits: CommandLimits;
  private readonly perUser: UserRateLimit;

  constructor(private readonly options: CommandServiceOptions) {
    this.limits = options.limits ?? DEFAULT_LIMITS;
    this.perUser = options.perUser ?? new UserRateLimit(this.limits.commandsPerMinute, options.clock);
    this.mutes = new Mutes(options);
    this.listings = new ListingCache(
      options.listingCacheMs ?? PRODUCTION_DELAYS.listingCacheMs,
      options.clock,
    );
  }

  /**
   * Counts one unit of `userId`'s per-minute share (HALO_COMMANDS_PER_MINUTE) for work a command did not start
   * (the subscribe dialog's preview): the same share, so the dialog is no way around the limit.
   */
  allow(userId: string): RateDecision {
    return this.perUser.take(userId);
  }

  async run(command: HaloCommand, context: CommandContext): Promise<Answer> {
    if (command.kind !== 'help') {
      const share = this.perUser.take(context.userId);
      if (!share.ok) {
        this.options.log.info('command: refused, the user is over their share', {
          user: context.userId,
          command: command.kind,
        });
        return notice(rateLimited(share.asked, share.retryInSeconds));
      }
    }
    try {
      return await this.dispatch(command, context);
    } catch (error) {
      if (error instanceof HaloError) {
        this.options.log.warn('command: Halo call failed', { command: command.kind, error: error.message });
        return notice(error.userMessage);
      }
      this.options.log.error('command failed unexpectedly', { command: command.kind, error });
      return notice('Something went wrong on the bot’s side; the details are in its log.');
    }
  }

  private async dispatch(command: HaloCommand, context: CommandContext): Promise<Answer> {
    const { halo, store, clock } = this.options;
    switch (command.kind) {
      case 'help':
        return helpAnswer(command);
      case 'events':
        return this.eventsPage(command.filter, command.limit, 0);
      case 'event':
        return {
          kind: 'event',
          event: this.shown(await halo.getEvent(command.eventId)),
          ...this.account(),
        };
      case 'types': {
        const query = command.query.toLowerCase();
        const types = (await halo.listTypes())
          .filter(
            (t) =>
              query === '' || t.subject.toLowerCase().includes(query) || t.key.toLowerCase().includes(query),
          )
          .sort((a, b) => a.subject.localeCompare(b.subject) || a.key.localeCompare(b.key));
        const ratings = this.options.ratings;
        // Halo's catalogue is text from elsewhere too (see pipeline/secrets.ts).
        const { redact = (text: string) => text } = this.options;
        return {
          kind: 'types',
          types: types.map((t) => {
            const shown = { subject: redact(t.subject), key: redact(t.key) };
            return ratings === undefined
              ? shown
              : { ...shown, severity: ratings.severityOf(t.key), assumed: ratings.isAssumed(t.key) };
          }),
          query: command.query,
        };
      }
      case 'subscriptions': {
        const subs = await store.subscriptions(context.channelId);
        const route = this.options.defaultRoute;
        return {
          kind: 'subscriptions',
          channel: context.channelId,
          subscriptions: subs,
          defaultRoute: route?.channel === context.channelId ? route : null,
        };
      }
      case 'subscribe': {
        if (!(await this.options.canManage(context.userId))) return notice(NOT_ALLOWED);
        const full = await this.subscriptionsFull(context.channelId, context.replacing);
        if (full !== null) return notice(full);
        const { subscription, created } = await store.addSubscription({
          channel: context.channelId,
          keys: command.keys,
          targetIds: command.targetIds,
          minSeverity: command.minSeverity,
          createdBy: context.userId,
          createdAt: clock.now(),
        });
        const unknown = await this.unknownKeys(command.keys);
        // An Edit: the old subscription goes once the new one is saved (never before: a failure would lose both).
        const replaced = await this.removeReplaced(context, subscription.id);
        if (replaced !== null) return notice(replaced);
        if (!created)
          return { kind: 'subscribed', subscription, created, start: 'started', unknownKeys: unknown };
        await store.audit({
          at: clock.now(),
          userId: context.userId,
          action: 'subscribe',
          channel: context.channelId,
          detail: `#${subscription.id} ${formatSubscribeCommand(subscription.keys, subscription.targetIds, subscription.minSeverity)}`,
        });
        this.options.log.info('subscription added', {
          id: subscription.id,
          channel: context.channelId,
          by: context.userId,
        });
        const start = await this.options.startSubscription(subscription);
        return { kind: 'subscribed', subscription, created, start, unknownKeys: unknown };
      }
      case 'unsubscribe': {
        if (!(await this.options.canManage(context.userId))) return notice(NOT_ALLOWED);
        if (command.target === 'all') {
          const removed = await store.removeAllSubscriptions(context.channelId);
          if (removed > 0) {
            await store.audit({
              at: clock.now(),
              userId: context.userId,
              action: 'unsubscribe',
              channel: context.channelId,
              detail: `all (${removed})`,
            });
          }
          this.options.log.info('subscriptions removed', {
            channel: context.channelId,
            removed,
            by: context.userId,
          });
          return notice(
            removed === 0
              ? 'This channel had no subscriptions.'
              : `Removed ${removed} subscription${removed === 1 ? '' : 's'} of this channel.`,
          );
        }
        const removed = await this.unsubscribe(context.channelId, command.target.id, context.userId);
        return notice(
          removed
            ? `Removed subscription #${command.target.id}.`
            : `This channel has no subscription #${command.target.id}. /halo subscriptions lists them.`,
        );
      }
      case 'mute':
        return this.mutes.mute({
          channel: context.channelId,
          userId: context.userId,
          key: command.key,
          targetId: command.targetId,
          durationMs: command.durationMs,
        });
      case 'mutes':
        return this.mutes.list(context.channelId);
      case 'unmute':
        return this.mutes.unmute(command.id, context.userId, context.channelId);
      case 'status':
        try {
          return { kind: 'status', status: await this.options.status() };
        } catch (error) {
          // The status is read from the store alone: its failure is the database's, which the user is told.
          this.options.log.warn('/halo status: the store could not be read', { error: String(error) });
          return notice(STORE_UNAVAILABLE);
        }
      case 'test':
        return this.postTest(context);
      case 'connect':
      case 'accounts':
      case 'disconnect':
        // The workspace's, not an account's: the account administration answers them (account-admin.ts).
        return notice('This command is about the workspace’s accounts; it is not run in one account.');
      case 'summary':
        return summaryCommand(
          { ...this.options, timeZone: this.options.timeZone ?? 'UTC' },
          command.schedule,
          context,
        );
    }
  }

  /** `/halo test`: a sample alert in the channel the command was typed in, and what to do if that fails. */
  private async postTest(context: CommandContext): Promise<Answer> {
    const { clock, log, botUserId } = this.options;
    // Halo's date format: `YYYY-MM-DD HH:MM`, UTC.
    const now = new Date(clock.now()).toISOString().slice(0, 16).replace('T', ' ');
    const result = await this.options.postTest(context.channelId, context.userId, now);
    log.info('command: test alert', {
      channel: context.channelId,
      result: result.ok ? 'posted' : result.error,
    });
    if (result.ok) {
      return notice(
        'Posted a test alert in this channel: new Halo events will look like it. It is marked as a test; nothing to do.',
      );
    }
    return { kind: 'testFailed', error: result.error, notMember: NOT_A_MEMBER.has(result.error), botUserId };
  }

  private shown(event: HaloEvent): HaloEvent {
    return this.options.redact === undefined ? event : redactEvent(event, this.options.redact);
  }

  /**
   * Why this channel may not have another subscription, or null: each one adds Halo requests to every poll,
   * so their number is capped per channel and for the workspace.
   */
  private async subscriptionsFull(
    channel: string,
    replacing?: CommandContext['replacing'],
  ): Promise<string | null> {
    const all = (await this.options.store.subscriptions()).filter(
      (sub) => sub.id !== replacing?.id || sub.channel !== replacing.channel,
    );
    const here = all.filter((sub) => sub.channel === channel).length;
    const { subscriptionsPerChannel, subscriptions } = this.limits;
    if (here >= subscriptionsPerChannel)
      return `This channel has ${here} subscriptions, the most HALO_MAX_SUBSCRIPTIONS_PER_CHANNEL allows (${subscriptionsPerChannel}). Remove one first (/halo subscriptions lists them, /halo unsubscribe <id> removes one), or widen one: a subscription takes several keys.`;
    if (all.length >= subscriptions)
      return `The workspace has ${all.length} subscriptions, the most HALO_MAX_SUBSCRIPTIONS allows (${subscriptions}). Remove one in some channel first (/halo unsubscribe <id> there, or the App Home).`;
    return null;
  }

  /**
   * Removes the subscription an Edit replaces, once its replacement `savedId` is saved; what went wrong, or null.
   * The store has no transaction over both: a failure here leaves both, and the answer says which to remove.
   */
  private async removeReplaced(context: CommandContext, savedId: number): Promise<string | null> {
    const old = context.replacing;
    if (old === undefined || (old.id === savedId && old.channel === context.channelId)) return null;
    try {
      await this.unsubscribe(old.channel, old.id, context.userId);
      return null;
    } catch (error) {
      this.options.log.error('subscribe: the replaced subscription could not be removed', {
        id: old.id,
        error,
      });
      return `Saved as #${savedId}, but the subscription it replaces (#${old.id} in channel ${old.channel}) could not be removed, so both are active: remove it with /halo unsubscribe ${old.id} in that channel, or from the App Home.`;
    }
  }

  /** Removes one subscription (the command, or the App Home's button) and records who did it. */
  async unsubscribe(channel: string, id: number, userId: string): Promise<boolean> {
    const { store, clock, log } = this.options;
    const subscription = (await store.subscriptions(channel)).find((sub) => sub.id === id);
    const removed = await store.removeSubscription(channel, id);
    if (!removed) return false;
    await store.audit({
      at: clock.now(),
      userId,
      action: 'unsubscribe',
      channel,
      detail:
        subscription === undefined
          ? `#${id}`
          : `#${id} ${formatSubscribeCommand(subscription.keys, subscription.targetIds)}`,
    });
    log.info('subscription removed', { id, by: userId });
    return true;
  }

  /**
   * The keys Halo's catalogue (`types.json`) does not list, with the closest it does: a warning, since Halo may
   * add types. Nothing when the catalogue cannot be read: a subscription must not wait on that.
   */
  private async unknownKeys(keys: readonly string[]): Promise<UnknownKey[]> {
    if (keys.length === 0) return [];
    try {
      const types = await this.options.halo.listTypes();
      return unknownKeys(
        keys,
        types.map((type) => type.key),
      );
    } catch (error) {
      this.options.log.debug('subscribe: event types could not be read to check the keys', { error });
      return [];
    }
  }

  /**
   * One page of `/halo events`, newest first: the command (page 0) reads the listing afresh, a Next page click
   * uses it while it is young enough (see listings.ts). Halo's failures are thrown: `run` makes a sentence of
   * them; the Next page button answers them privately, keeping the list.
   */
  /** An event was deleted (by a button here): no kept listing may show it on its Next page. */
  eventDeleted(eventId: string): void {
    this.listings.forgetEvent(eventId);
  }

  async eventsPage(filter: EventListFilter, pageSize: number, page: number): Promise<Answer> {
    const queue = this.options.haloRequests;
    const listing = await this.listings.get(
      filter,
      () => readListing(this.options.halo, filter, queue),
      page === 0,
    );
    // Only the page shown is redacted: a listing holds up to 20,000 events, and this runs on the event loop.
    const start = page * pageSize;
    const events = listing.events.map((event, i) =>
      i >= start && i < start + pageSize ? this.shown(event) : event,
    );
    return { kind: 'events', list: { filter, pageSize, page, ...listing, events, ...this.account() } };
  }

  /** The account the answers' buttons name (absent: the env account, as before accounts). */
  private account(): { account?: string } {
    return this.options.account === undefined ? {} : { account: this.options.account };
  }
}
