/**
 * The subscribe dialog's logic, independent of Bolt: the event types it offers (Halo's catalogue, kept at most
 * an hour), the targets it suggests as the user types, the preview line's figures, and saving, which is
 * `/halo subscribe` itself (the same admin rule, caps, checks and typo warnings).
 *
 * The preview must answer within Slack's 3 s: Halo's totals cost one `list.json` request of one entry each
 * (`pagination.total`), at most {@link MAX_TOTAL_REQUESTS} per change; the recent counts come from the store's
 * watched events. Nothing here reads a whole listing.
 */
import type PQueue from 'p-queue';
import type { Clock } from '../clock.ts';
import type { EventListFilter, HaloEvent, HaloEventType } from '../domain/event.ts';
import { atLeast, SEVERITIES, type Severity, type SeverityOf } from '../domain/severity.ts';
import type { Logger } from '../log.ts';
import type { PostedTarget, Store, Subscription } from '../pipeline/store-port.ts';
import type { Answer } from './answers.ts';
import type { CommandContext } from './service.ts';
import type { HaloCommand } from './command-parse.ts';

/** Halo's catalogue changes rarely: the dialog reads it at most once an hour. */
export const TYPES_CACHE_MS = 60 * 60 * 1000;
/** Halo requests one preview may make: one per type (and target) selected. */
export const MAX_TOTAL_REQUESTS = 10;
/** The preview's recent window. */
export const RECENT_MS = 7 * 24 * 60 * 60 * 1000;
/** Targets the suggestions read from the store; older ones are not suggested (a typed ID still works). */
export const TARGETS_READ = 10_000;
/** How long the targets read serve the suggestions. */
export const TARGETS_CACHE_MS = 30_000;
/** Slack shows at most 100 options. */
export const MAX_OPTIONS = 100;
/** Past this the preview says it is slow rather than miss Slack's 3 s for the update. */
export const PREVIEW_BUDGET_MS = 2000;

export interface DialogSelection {
  readonly channel: string;
  readonly keys: readonly string[];
  readonly targetIds: readonly number[];
  readonly minSeverity: Severity | null;
}

/** What a preview reads: the filters, whether a channel is picked yet or not. */
export type PreviewSelection = Omit<DialogSelection, 'channel'> & { readonly channel?: string | null };

export interface TargetOption {
  readonly id: number;
  readonly label: string;
}

export interface Preview {
  /** Halo's total over the requests made, null when none answered in time. */
  readonly total: number | null;
  /** Some type-and-target pairs were not asked (over {@link MAX_TOTAL_REQUESTS}), or did not answer. */
  readonly partial: boolean;
  /** The budget ran out: the figures are what had come. */
  readonly slow: boolean;
  readonly recent: number;
  readonly recentBySeverity: readonly { readonly severity: Severity; readonly count: number }[];
  readonly latest: { readonly subject: string; readonly where: string; readonly at: number } | null;
  readonly now: number;
}

/** What the dialog asks Halo (the Halo client's `listTypes` and `listEvents`, of which only the total is read). */
export interface DialogHalo {
  listTypes(): Promise<HaloEventType[]>;
  listEvents(
    filter: EventListFilter,
    options: { readonly start: number; readonly limit: number; readonly signal?: AbortSignal },
  ): Promise<{ readonly total: number | null }>;
}

export interface SubscribeDialogOptions {
  readonly halo: DialogHalo;
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly haloRequests: PQueue;
  readonly severityOf: SeverityOf;
  /** `/halo subscribe` as the command runs it. */
  readonly run: (command: HaloCommand, context: CommandContext) => Promise<Answer>;
  readonly previewBudgetMs?: number;
}

export class SubscribeDialog {
  private types: { at: number; list: Promise<HaloEventType[]> } | null = null;
  private targets: { at: number; list: Promise<PostedTarget[]> } | null = null;

  constructor(private readonly options: SubscribeDialogOptions) {}

  /** Halo's event types, sorted by name; empty (and read again next time) when Halo cannot be read. */
  async eventTypes(): Promise<readonly HaloEventType[]> {
    const { clock, halo, log } = this.options;
    const now = clock.now();
    if (this.types === null || now - this.types.at >= TYPES_CACHE_MS) {
      const list = halo
        .listTypes()
        .then((types) =>
          [...types].sort((a, b) => a.subject.localeCompare(b.subject) || a.key.localeCompare(b.key)),
        );
      this.types = { at: now, list };
    }
    try {
      return await this.types.list;
    } catch (error) {
      log.warn('subscribe dialog: Halo event types could not be read', { error });
      this.types = null;
      return [];
    }
  }

  /**
   * Targets whose ID or name holds `query`, newest first: a typed ID comes first, accepted even if the bot never
   * saw an event of it (Halo knows targets the bot has not alerted on).
   */
  async targetOptions(query: string): Promise<TargetOption[]> {
    const wanted = query.trim().toLowerCase();
    const options: TargetOption[] = [];
    const typed = /^[1-9][0-9]{0,9}$/.test(wanted) ? Number(wanted) : null;
    if (typed !== null && typed <= 2 ** 31 - 1) options.push({ id: typed, label: `Target ${typed}` });
    for (const row of await this.postedTargets()) {
      if (options.length >= MAX_OPTIONS) break;
      if (row.targetId === typed) {
        options[0] = { id: typed, label: targetLabel(row.targetId, row.payload) };
        continue;
      }
      const label = targetLabel(row.targetId, row.payload);
      if (wanted === '' || label.toLowerCase().includes(wanted)) options.push({ id: row.targetId, label });
    }
    return options;
  }

  /**
   * The targets posted, read once per {@link TARGETS_CACHE_MS}: a user typing a name asks for options at each
   * keystroke, and the list changes only as alerts are posted.
   */
  private postedTargets(): Promise<readonly PostedTarget[]> {
    const now = this.options.clock.now();
    if (this.targets === null || now - this.targets.at >= TARGETS_CACHE_MS) {
      const list = this.options.store.postedTargets(TARGETS_READ);
      this.targets = { at: now, list };
      list.catch(() => {
        this.targets = null;
      });
    }
    return this.targets.list;
  }

  /** The preview line's figures for `selection` (whichever channel), within the budget. */
  async preview(selection: PreviewSelection): Promise<Preview> {
    const { clock, store, severityOf } = this.options;
    const now = clock.now();
    const keys = selection.keys.filter((key) => atLeast(severityOf(key), selection.minSeverity));
    // Every type below the minimum: nothing would be posted.
    const none = selection.keys.length > 0 && keys.length === 0;
    const budget = new AbortController();
    let slow = false;
    const timer = setTimeout(() => {
      slow = true;
      budget.abort();
    }, this.options.previewBudgetMs ?? PREVIEW_BUDGET_MS);
    try {
      const [totals, posted] = await Promise.all([
        none
          ? Promise.resolve({ total: 0, partial: false })
          : this.totals(keys, selection.targetIds, budget.signal),
        none
          ? Promise.resolve({ counts: [], latest: null })
          : store.postedSince(keys, selection.targetIds, now - RECENT_MS),
      ]);
      const bySeverity = new Map<Severity, number>();
      let recent = 0;
      for (const { key, count } of posted.counts) {
        const severity = severityOf(key);
        if (!atLeast(severity, selection.minSeverity)) continue;
        bySeverity.set(severity, (bySeverity.get(severity) ?? 0) + count);
        recent += count;
      }
      return {
        ...totals,
        slow,
        recent,
        recentBySeverity: SEVERITIES.flatMap((severity) => {
          const count = bySeverity.get(severity);
          return count === undefined ? [] : [{ severity, count }];
        }),
        latest: posted.latest === null ? null : latestOf(posted.latest.payload, posted.latest.at),
        now,
      };
    } finally {
      clearTimeout(timer);
    }
  }

  /** One request of one entry per type and target, for `pagination.total`; at most {@link MAX_TOTAL_REQUESTS}. */
  private async totals(
    keys: readonly string[],
    targetIds: readonly number[],
    signal: AbortSignal,
  ): Promise<{ total: number | null; partial: boolean }> {
    const filters: EventListFilter[] = [];
    for (const key of keys.length === 0 ? [undefined] : keys)
      for (const target of targetIds.length === 0 ? [undefined] : targetIds)
        filters.push({
          ...(key === undefined ? {} : { key }),
          ...(target === undefined ? {} : { target_id: target }),
        });
    const asked = filters.slice(0, MAX_TOTAL_REQUESTS);
    const { halo, haloRequests, log } = this.options;
    const answers = await Promise.allSettled(
      asked.map((filter) =>
        haloRequests.add(() => halo.listEvents(filter, { start: 0, limit: 1, signal }), { signal }),
      ),
    );
    let total: number | null = null;
    let missing = filters.length - asked.length;
    for (const answer of answers) {
      if (answer.status === 'fulfilled' && answer.value.total !== null)
        total = (total ?? 0) + answer.value.total;
      else {
        missing++;
        if (answer.status === 'rejected' && !signal.aborted)
          log.debug('subscribe dialog: a preview total failed', { error: answer.reason as unknown });
      }
    }
    return { total, partial: missing > 0 };
  }

  /** The subscription an Edit button names, or null once it is gone. */
  async find(channel: string, id: number): Promise<Subscription | null> {
    return (await this.options.store.subscriptions(channel)).find((sub) => sub.id === id) ?? null;
  }

  /** The names the suggestions would show for these targets (`Target ID` for one never posted). */
  async targetLabels(ids: readonly number[]): Promise<TargetOption[]> {
    if (ids.length === 0) return [];
    const known = new Map((await this.postedTargets()).map((row) => [row.targetId, row.payload]));
    return ids.map((id) => {
      const payload = known.get(id);
      return { id, label: payload === undefined ? `Target ${id}` : targetLabel(id, payload) };
    });
  }

  /**
   * Saves as `/halo subscribe` would, typed in the channel chosen; an edit's subscription (`replacing`) is not
   * counted against the caps, since the command removes it once the new one is saved.
   */
  save(selection: DialogSelection, userId: string, replacing?: CommandContext['replacing']): Promise<Answer> {
    return this.options.run(
      {
        kind: 'subscribe',
        keys: [...selection.keys],
        targetIds: [...selection.targetIds],
        minSeverity: selection.minSeverity,
      },
      { userId, channelId: selection.channel, ...(replacing === undefined ? {} : { replacing }) },
    );
  }
}

function parseEvent(payload: string): Partial<HaloEvent> | null {
  try {
    const value: unknown = JSON.parse(payload);
    return typeof value === 'object' && value !== null ? value : null;
  } catch {
    return null;
  }
}

/** A target's name as its event named it: the friendly name, else the host, with the ID. */
function targetLabel(id: number, payload: string): string {
  const target = parseEvent(payload)?.target;
  const name = typeof target?.name === 'string' && target.name !== '' ? target.name : target?.host;
  return typeof name === 'string' && name !== '' ? `${name} (${id})` : `Target ${id}`;
}

function latestOf(payload: string, at: number): Preview['latest'] {
  const event = parseEvent(payload);
  if (event === null || typeof event.subject !== 'string') return null;
  const target = event.target;
  const where = typeof target?.host === 'string' && target.host !== '' ? target.host : (target?.name ?? '');
  return { subject: event.subject, where: typeof where === 'string' ? where : '', at };
}
