/**
 * What a `/halo` command answers, as data. The service decides the answer; `slack/blocks/answer-message.ts` renders it, so
 * nothing here knows Block Kit.
 */
import type { Severity, UnratedType } from '../domain/severity.ts';
import type { UnknownKey } from '../domain/suggest.ts';
import type { EventListFilter, HaloEvent, HaloEventType } from '../domain/event.ts';
import type { RouteStart } from '../pipeline/route-start.ts';
import type { Route } from '../pipeline/routes.ts';
import type { AssumedHeld } from '../domain/severity.ts';
import type { Mute, Subscription } from '../pipeline/store-port.ts';
import type { SummaryPayload } from '../pipeline/summaries.ts';
import type { AccountView } from './workspace-accounts.ts';

export interface EventListPage {
  readonly filter: EventListFilter;
  readonly pageSize: number;
  readonly page: number;
  /** All matching events read, newest first. */
  readonly events: readonly HaloEvent[];
  /** Halo's total, which may exceed what was read. */
  readonly total: number;
  readonly truncated: boolean;
  /** The account listed, which the Next page button names; absent: the env account. */
  readonly account?: string;
}

export interface StatusView {
  readonly lastSuccessAt: number | null;
  readonly lastError: string | null;
  readonly lastErrorAt: number | null;
  readonly consecutiveFailures: number;
  readonly pollIntervalMs: number;
  readonly seen: number;
  readonly pending: number;
  readonly failed: number;
  /** Events held back by mutes (recorded and counted, not posted). */
  readonly muted: number;
  readonly recentFailures: readonly { channel: string; error: string; at: number }[];
  /** Halo's event types that nothing rates, their severity guessed (see pipeline/type-ratings.ts). */
  readonly unrated?: readonly UnratedType[];
  /** Events a minimum severity held back on a guessed severity. */
  readonly assumedHeld?: AssumedHeld;
  /** The last poll's scans that stopped before their end, and why (see halo/scan.ts). */
  readonly lastPoll?: {
    readonly cutShort: readonly {
      readonly scope: string;
      readonly reason: string;
      readonly detail: string;
    }[];
  } | null;
  /** Which replica polls and posts, and which one answered. */
  readonly leadership?: {
    readonly role: 'leader' | 'standby';
    readonly leader: string | null;
    readonly self: string;
  };
}

/** A type of Halo's catalogue with its severity, and whether that is only guessed (nothing rates its key). */
export interface RatedEventType extends HaloEventType {
  readonly severity?: Severity;
  readonly assumed?: boolean;
}

export type Answer =
  | { readonly kind: 'notice'; readonly text: string }
  | { readonly kind: 'usage'; readonly error: string; readonly usage: string }
  | { readonly kind: 'help'; readonly help: string; readonly unknown?: string }
  | { readonly kind: 'events'; readonly list: EventListPage }
  /** `account`: the event's, which its Delete button names; absent: the env account. */
  | { readonly kind: 'event'; readonly event: HaloEvent; readonly account?: string }
  | { readonly kind: 'types'; readonly types: readonly RatedEventType[]; readonly query: string }
  | {
      readonly kind: 'subscriptions';
      readonly channel: string;
      readonly subscriptions: readonly Subscription[];
      readonly defaultRoute: Pick<Route, 'keys' | 'targetIds'> | null;
    }
  | {
      readonly kind: 'subscribed';
      readonly subscription: Subscription;
      readonly created: boolean;
      /** Whether the subscription's starting point is recorded (see pipeline/route-start.ts). */
      readonly start: RouteStart;
      /** Keys Halo's catalogue does not list (a warning: the subscription uses them as given). */
      readonly unknownKeys: readonly UnknownKey[];
    }
  | { readonly kind: 'status'; readonly status: StatusView }
  | {
      readonly kind: 'muted';
      readonly mute: Mute;
      readonly durationMs: number;
      /** Halo lists no event type with the mute's key: a warning, not a refusal. */
      readonly unknownKey: boolean;
    }
  | { readonly kind: 'unmuted'; readonly mute: Mute }
  /** `/halo test` could not post; `notMember`: the bot is not in the channel (the fix is an invitation). */
  | {
      readonly kind: 'testFailed';
      readonly error: string;
      readonly notMember: boolean;
      readonly botUserId: string;
    }
  | { readonly kind: 'mutes'; readonly channel: string; readonly mutes: readonly Mute[] }
  /** `/halo summary now`: the channel's summary so far, shown to the one who asked. */
  | { readonly kind: 'summary'; readonly summary: SummaryPayload }
  /** `/halo accounts`: the workspace's accounts and their health; never a key, only its last 4 characters. */
  | { readonly kind: 'accounts'; readonly accounts: readonly AccountView[] }
  /** `/halo disconnect NAME`: what would go, and a button to confirm. */
  | { readonly kind: 'disconnectConfirm'; readonly account: AccountView };

export function notice(text: string): Answer {
  return { kind: 'notice', text };
}
