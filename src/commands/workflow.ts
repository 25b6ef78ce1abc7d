/**
 * The Workflow Builder steps (custom functions): list events, get one, delete one, each in the Halo account its
 * optional `account` input names (the workspace's only one when empty). Each takes the inputs Slack sends and
 * answers either the outputs or a reason fit to show in Workflow Builder's activity log: Halo's
 * failures are put in words, never passed on raw, and never carry the key.
 */
import { findNamed } from '../domain/account-name.ts';
import { haloDateToUnix } from '../domain/halo-time.ts';
import { HaloApiError, HaloError } from '../pipeline/halo-errors.ts';
import { redactEvent } from '../pipeline/secrets.ts';
import type { EventListFilter, HaloEvent } from '../domain/event.ts';
import type { Logger } from '../log.ts';
import type { AccountOf, HaloAccount, Workspace } from './accounts.ts';
import { readListing } from './listings.ts';
import { NOT_ALLOWED } from './service.ts';

export const WORKFLOW_STEPS = {
  list: 'halo_list_events',
  get: 'halo_get_event',
  delete: 'halo_delete_event',
} as const;

export type StepResult =
  | { readonly ok: true; readonly outputs: Readonly<Record<string, string | number>> }
  | { readonly ok: false; readonly error: string };

/** Events the list step names at most, and by default: a workflow message has room for a short list. */
export const LIST_LIMIT = { max: 20, default: 10 } as const;
const MAX_ID = 200;

export const NO_ACCOUNT = 'This workspace has no Halo Security account connected to the bot.';
/** A workspace of several accounts, and the step names none: which one would be a guess. */
export function severalAccounts(names: readonly string[]): string {
  return `This workspace has ${names.length} Halo Security accounts connected: give the step’s “Halo account” input one of ${names.join(', ')}.`;
}

/** The step names an account this workspace does not have (another workspace's are never looked at). */
export function noAccountNamed(name: string, names: readonly string[]): string {
  return `This workspace has no Halo Security account named “${name}”; its accounts: ${names.join(', ')}.`;
}

export const BAD_ACCOUNT_INPUT =
  'The Halo account must be an account’s name, as /halo accounts lists them (or empty when the workspace has one).';
export const DELETE_OFF =
  'The Delete Halo event step is turned off: an admin of the bot can turn it on with HALO_WORKFLOW_DELETE=on.';
export const NO_USER =
  'This step needs to know who ran the workflow: give its "Run by" input the interactivity of the trigger.';

export interface WorkflowStepsOptions {
  /** The workspace's accounts; each carries the deleter its Delete button uses, so both share one call per event. */
  readonly accountOf: AccountOf;
  /** The admin rule of the workspace the step runs in. */
  readonly canManage: (userId: string, workspace: Workspace) => Promise<boolean>;
  /** `HALO_WORKFLOW_DELETE`. */
  readonly deleteEnabled: boolean;
  /** The zone Halo's dates are in (`HALO_TIMEZONE`). */
  readonly timeZone: string;
  /** Removes every secret from a text that may reach Slack. */
  readonly redact: (text: string) => string;
  readonly log: Logger;
}

export class WorkflowSteps {
  constructor(private readonly options: WorkflowStepsOptions) {}

  /** Inputs `type` (an event key), `target` (a target ID) and `limit`, all optional; outputs `count` and `events`. */
  list(workspace: Workspace, inputs: Readonly<Record<string, unknown>>): Promise<StepResult> {
    return this.step(WORKFLOW_STEPS.list, workspace, inputs, async (account) => {
      const filter: { -readonly [K in keyof EventListFilter]: EventListFilter[K] } = {};
      const type = optionalText(inputs.type);
      if (type === null) return failed('The event type must be an event key such as target-scan-start.');
      if (type !== undefined) filter.key = type;
      const target = optionalInteger(inputs.target, 1, Number.MAX_SAFE_INTEGER);
      if (target === null) return failed('The target must be a Halo target ID: a whole number such as 42.');
      if (target !== undefined) filter.target_id = target;
      const limit = optionalInteger(inputs.limit, 1, LIST_LIMIT.max);
      if (limit === null) return failed(`The limit must be a whole number from 1 to ${LIST_LIMIT.max}.`);
      const listing = await readListing(account.halo, filter, account.haloRequests);
      const shown = listing.events.slice(0, limit ?? LIST_LIMIT.default);
      // An event's texts can quote the bot's API key: redacted before they become outputs Slack keeps.
      const lines = shown.map((event) => `• ${this.describe(redactEvent(event, this.options.redact))}`);
      if (listing.total > shown.length) lines.push(`… and ${listing.total - shown.length} more`);
      return {
        ok: true,
        outputs: {
          count: listing.total,
          events: lines.length === 0 ? 'No matching events.' : lines.join('\n'),
        },
      };
    });
  }

  /** Input `event_id`; outputs `subject`, `type`, `target`, `time` and `link`. */
  get(workspace: Workspace, inputs: Readonly<Record<string, unknown>>): Promise<StepResult> {
    return this.step(WORKFLOW_STEPS.get, workspace, inputs, async (account) => {
      const eventId = eventIdOf(inputs.event_id);
      if (eventId === null) return failed('The event ID is missing or not an event ID.');
      const event = redactEvent(await account.halo.getEvent(eventId), this.options.redact);
      return {
        ok: true,
        outputs: {
          subject: clean(event.subject),
          type: clean(event.key),
          target: targetOf(event),
          time: this.time(event),
          link: /^https:\/\//.test(event.url) ? event.url : '',
        },
      };
    });
  }

  /**
   * Input `event_id`, and `user` (the interactivity of the trigger, which names who ran the workflow: the admin
   * rule applies to them); output `result`. Refused unless HALO_WORKFLOW_DELETE=on.
   */
  delete(workspace: Workspace, inputs: Readonly<Record<string, unknown>>): Promise<StepResult> {
    return this.step(WORKFLOW_STEPS.delete, workspace, inputs, async (account) => {
      if (!this.options.deleteEnabled) return failed(DELETE_OFF);
      const eventId = eventIdOf(inputs.event_id);
      if (eventId === null) return failed('The event ID is missing or not an event ID.');
      const userId = interactorOf(inputs.user);
      if (userId === null) return failed(NO_USER);
      if (!(await this.options.canManage(userId, workspace))) {
        this.options.log.warn('workflow: delete refused: user not allowed', { user: userId, event: eventId });
        return failed(NOT_ALLOWED);
      }
      const outcome = await account.deleter.delete(eventId, userId);
      if (outcome.kind === 'failed') return failed(`The event was not deleted: ${outcome.message}`);
      return {
        ok: true,
        outputs: {
          result: outcome.record.alreadyDeleted
            ? `Event ${clean(eventId)} was already deleted in Halo.`
            : `Event ${clean(eventId)} deleted.`,
        },
      };
    });
  }

  /**
   * Runs a step in the account its `account` input names (or the workspace's only one), turning every failure
   * into a sentence for Workflow Builder. The accounts are the workflow's own workspace's: a name is looked up
   * there and nowhere else.
   */
  private async step(
    name: string,
    workspace: Workspace,
    inputs: Readonly<Record<string, unknown>>,
    run: (account: HaloAccount) => Promise<StepResult>,
  ): Promise<StepResult> {
    const { log, redact } = this.options;
    const wanted = optionalText(inputs.account);
    if (wanted === null) return failed(BAD_ACCOUNT_INPUT);
    const accounts = await this.options.accountOf(workspace);
    if (accounts.length === 0) {
      log.warn('workflow: a step ran in a workspace without a Halo account', {
        step: name,
        team: workspace.teamId,
      });
      return failed(NO_ACCOUNT);
    }
    const names = accounts.map((a) => a.name);
    const account =
      wanted === undefined
        ? accounts.length === 1
          ? accounts[0]
          : undefined
        : findNamed(accounts, wanted, (a) => a.name);
    if (account === undefined)
      // None named in a workspace of several: acting on one would be a guess.
      return failed(wanted === undefined ? severalAccounts(names) : noAccountNamed(clean(wanted), names));
    try {
      const result = await run(account);
      return result.ok ? result : failed(redact(result.error));
    } catch (error) {
      if (error instanceof HaloApiError) {
        log.warn('workflow: Halo refused a request', { step: name, error: error.message });
        // Halo's own words are raw text from elsewhere: a code is said instead.
        return failed(
          error.notFound
            ? 'Halo has no such event in this workspace’s account.'
            : `Halo refused the request (Halo error code ${error.code}).`,
        );
      }
      if (error instanceof HaloError) {
        log.warn('workflow: Halo call failed', { step: name, error: error.message });
        return failed(redact(error.userMessage));
      }
      log.error('workflow: a step failed unexpectedly', { step: name, error });
      return failed('Something went wrong on the bot’s side; the details are in its log.');
    }
  }

  /** `Subject — key on host (ID) at time`: one line a reader takes in at a glance. */
  private describe(event: HaloEvent): string {
    const target = targetOf(event);
    const on = target === '' ? '' : ` on ${target}`;
    return `${clean(event.subject) || 'Halo event'} — ${clean(event.key)}${on}, ${this.time(event)} (ID ${clean(event.eventId)})`;
  }

  /** ISO 8601 in UTC when Halo's date parses in its zone; Halo's text as given otherwise. */
  private time(event: HaloEvent): string {
    const seconds = haloDateToUnix(event.dateCreated, this.options.timeZone);
    return seconds === null
      ? clean(event.dateCreated)
      : new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
  }
}

function failed(error: string): StepResult {
  return { ok: false, error };
}

/**
 * Text from Halo made safe for wherever a workflow puts it: one line, no control characters, and `&`, `<`, `>`
 * escaped so that a subject cannot become `<!channel>` in a workflow's message.
 */
function clean(text: string): string {
  return text
    .replace(/[\p{Cc}\p{Cf}\s]+/gu, ' ')
    .trim()
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');
}

function targetOf(event: HaloEvent): string {
  const target = event.target;
  if (target === null) return '';
  const where = clean(target.host) || clean(target.name);
  return target.id === null ? where : `${where} (target ${target.id})`.trim();
}

/** Absent or empty: undefined; a usable string: it; anything else: null. */
function optionalText(value: unknown): string | undefined | null {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || value.length > MAX_ID || /\p{Cc}/u.test(value)) return null;
  return value.trim() === '' ? undefined : value.trim();
}

/** Slack sends numbers as numbers, but a text input may hold one too. */
function optionalInteger(value: unknown, min: number, max: number): number | undefined | null {
  if (value === undefined || value === null || value === '') return undefined;
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\s*\d+\s*$/.test(value)
        ? Number(value)
        : NaN;
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : null;
}

function eventIdOf(value: unknown): string | null {
  const id = optionalText(value);
  return id === undefined ? null : id;
}

/** The user an interactivity input names (`{interactivity_pointer, interactor: {id}}`): Slack fills it, not the author. */
function interactorOf(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return null;
  const interactor = (value as { interactor?: unknown }).interactor;
  if (typeof interactor !== 'object' || interactor === null) return null;
  const id = (interactor as { id?: unknown }).id;
  return typeof id === 'string' && /^[UW][A-Z0-9]{2,}$/.test(id) ? id : null;
}
