/**
 * The subscribe dialog's payloads: its IDs, its `private_metadata`, its options' values and what its fields hold
 * (`view.state.values`), each with one encoder and one decoder. A payload can be forged by anyone who can sign a
 * request: decoders check every field, and an account named here is only ever looked up among the request's own
 * workspace's accounts (never trusted as such).
 */
import { valueProblem } from '../../domain/command-text.ts';
import { isSeverity, type Severity } from '../../domain/severity.ts';
import { LIMITS } from './limits.ts';
import {
  CHANNEL_ID,
  decodeSubscriptionRef,
  encodeSubscriptionRef,
  ENV,
  isAccountId,
  POSITIVE_ID,
} from './payloads.ts';

/**
 * The dialog's callback ID, and one block and action ID per field (the same for both, so that the state Slack
 * sends back is read at `values[id][id]`). The account field sits between channel and types, shown only in a
 * workspace of several Halo accounts.
 */
export const DIALOG_IDS = {
  callback: 'halo_subscribe_dialog',
  channel: 'halo_sub_channel',
  account: 'halo_sub_account',
  types: 'halo_sub_types',
  targets: 'halo_sub_targets',
  severity: 'halo_sub_severity',
  preview: 'halo_sub_preview',
} as const;

/**
 * The targets field's block ID names its account (none for the env account): a field of another account is
 * another block, which Slack shows empty, since it keeps what the user picked only in a block of the same ID.
 * So targets picked in one account (their IDs are that account's) never stay picked, or get saved, in another.
 */
export function targetsBlockId(account: string | undefined): string {
  return account === undefined || account === ENV ? DIALOG_IDS.targets : `${DIALOG_IDS.targets}.${account}`;
}

/** The targets field among the state's blocks, and the account its block ID names. */
function targetsBlock(values: unknown): { readonly id: string; readonly account: string } {
  const prefix = `${DIALOG_IDS.targets}.`;
  const keys = typeof values === 'object' && values !== null ? Object.keys(values) : [];
  const id = keys.find((k) => k === DIALOG_IDS.targets || k.startsWith(prefix)) ?? DIALOG_IDS.targets;
  return { id, account: id === DIALOG_IDS.targets ? ENV : id.slice(prefix.length) };
}

/**
 * The dialog's `private_metadata`: the subscription it edits (its channel and ID), or none for a new one, and
 * the account whose catalogue and preview it shows (absent: the env account, as in a dialog opened before
 * accounts). With an account field, the field's pick is the account saved in; an edit stays in its own.
 */
export interface DialogMetadata {
  readonly editing: { readonly channel: string; readonly id: number } | null;
  readonly account?: string;
}

/** `''` or `C1:7` for the env account; `{"a":ACCOUNT,"e":"C1:7"|null}` for another. */
export function encodeDialogMetadata(metadata: DialogMetadata): string {
  const ref =
    metadata.editing === null ? null : encodeSubscriptionRef(metadata.editing.channel, metadata.editing.id);
  if (metadata.account !== undefined && metadata.account !== ENV)
    return JSON.stringify({ a: metadata.account, e: ref });
  return ref ?? '';
}

export function decodeDialogMetadata(value: unknown): DialogMetadata | null {
  if (value === '' || value === undefined) return { editing: null };
  if (typeof value === 'string' && value.startsWith('{')) {
    let data: { a?: unknown; e?: unknown } | null;
    try {
      data = JSON.parse(value) as { a?: unknown; e?: unknown } | null;
    } catch {
      return null;
    }
    const { a, e } = data ?? {};
    if (!isAccountId(a)) return null;
    if (e === null) return { editing: null, account: a };
    const editing = decodeSubscriptionRef(e);
    return editing === null ? null : { editing, account: a };
  }
  const editing = decodeSubscriptionRef(value);
  return editing === null ? null : { editing };
}

/**
 * The account the dialog acts in: an edit's own (its metadata's), else the account field's pick, else the
 * metadata's (a workspace of one account shows no field).
 */
export function dialogAccount(metadata: DialogMetadata, picked: string | undefined): string | undefined {
  return metadata.editing !== null ? metadata.account : (picked ?? metadata.account);
}

/** A target option's value: the target's ID. */
export function encodeTargetOption(id: number): string {
  return String(id);
}

export function decodeTargetOption(value: unknown): number | null {
  return typeof value === 'string' && POSITIVE_ID.test(value) && Number(value) <= 2 ** 31 - 1
    ? Number(value)
    : null;
}

/** An account option's value: the account's ID (never its name, which another account could take later). */
export function encodeAccountOption(accountId: string): string | undefined {
  return isAccountId(accountId) && accountId.length <= LIMITS.optionValue ? accountId : undefined;
}

export function decodeAccountOption(value: unknown): string | null {
  return typeof value === 'string' && value.length <= LIMITS.optionValue && isAccountId(value) ? value : null;
}

/** What the dialog's fields hold; `channel` is null only while the user changes fields before picking one. */
interface DialogFields<Channel> {
  readonly ok: true;
  readonly channel: Channel;
  /** The account field's pick; absent when the dialog has no account field (or nothing is picked). */
  readonly account?: string;
  readonly keys: string[];
  readonly targetIds: number[];
  /** The targets with the names their options showed, to show them again. */
  readonly targets: { readonly id: number; readonly label: string }[];
  readonly minSeverity: Severity | null;
}

interface DialogErrors {
  readonly ok: false;
  readonly errors: Record<string, string>;
}

/** What the dialog's fields hold at submission, read from `view.state.values`; each invalid field's problem. */
export type DialogState = DialogFields<string> | DialogErrors;

/** What the fields hold as the user changes them: the channel may not be picked yet. */
export type DialogChange = DialogFields<string | null> | DialogErrors;

/** Limits of the command (command-parse.ts): at most this many keys and targets. */
const MAX_PICKED = 20;

export function decodeDialogState(values: unknown): DialogState {
  return readFields(values, true) as DialogState;
}

/** The fields as a change (block_actions) sends them: a channel not picked yet is no error. */
export function decodeDialogChange(values: unknown): DialogChange {
  return readFields(values, false);
}

function readFields(values: unknown, channelRequired: boolean): DialogChange {
  const field = (id: string, blockId: string = id): Record<string, unknown> => {
    const block = (values as Record<string, unknown> | undefined)?.[blockId];
    const element = (block as Record<string, unknown> | undefined)?.[id];
    return typeof element === 'object' && element !== null ? (element as Record<string, unknown>) : {};
  };
  const picked = (id: string): unknown[] => {
    const options = field(id).selected_options;
    return Array.isArray(options) ? options.map((o) => (o as { value?: unknown } | null)?.value) : [];
  };
  const chosen = (id: string): unknown =>
    (field(id).selected_option as { value?: unknown } | null | undefined)?.value;
  const errors: Record<string, string> = {};
  const rawChannel = field(DIALOG_IDS.channel).selected_conversation;
  const channel = typeof rawChannel === 'string' && CHANNEL_ID.test(rawChannel) ? rawChannel : null;
  if (channel === null && (channelRequired || (rawChannel !== undefined && rawChannel !== null)))
    errors[DIALOG_IDS.channel] = 'Pick the channel the alerts go to.';
  const rawAccount = chosen(DIALOG_IDS.account);
  const account = decodeAccountOption(rawAccount);
  if (rawAccount !== undefined && rawAccount !== null && account === null)
    errors[DIALOG_IDS.account] = 'Pick a Halo account from the list.';
  const rawKeys = picked(DIALOG_IDS.types);
  // A key as the command takes it (`key:K`): no control characters, at most 200 characters.
  const keys = rawKeys.filter(
    (k): k is string => typeof k === 'string' && valueProblem('key', k, false) === null,
  );
  if (keys.length !== rawKeys.length) errors[DIALOG_IDS.types] = 'An event type is not valid; pick it again.';
  else if (keys.length > MAX_PICKED)
    errors[DIALOG_IDS.types] = `At most ${MAX_PICKED} event types, got ${keys.length}.`;
  const shown = targetsBlock(values);
  // Picked in the field of another account than the one picked now (the update that swapped the field has not
  // landed yet): a change drops them from its preview, a submission is refused.
  const otherAccount = account !== null && shown.account !== account;
  const rawTargets = (field(DIALOG_IDS.targets, shown.id).selected_options ?? []) as unknown[];
  const targets = (Array.isArray(rawTargets) ? rawTargets : []).flatMap((o) => {
    const { value, text } = (o ?? {}) as { value?: unknown; text?: { text?: unknown } };
    const id = decodeTargetOption(value);
    const label = typeof text?.text === 'string' && text.text !== '' ? text.text : `Target ${id}`;
    return id === null ? [] : [{ id, label: label.slice(0, LIMITS.optionText) }];
  });
  const targetIds = targets.map((t) => t.id);
  if (!Array.isArray(rawTargets) || targetIds.length !== rawTargets.length)
    errors[shown.id] = 'A target is not a valid ID; pick it again.';
  else if (targetIds.length > MAX_PICKED)
    errors[shown.id] = `At most ${MAX_PICKED} targets, got ${targetIds.length}.`;
  else if (otherAccount && targetIds.length > 0 && channelRequired)
    errors[shown.id] = 'These targets were picked in another Halo account: pick this account’s.';
  const severity = chosen(DIALOG_IDS.severity);
  const minSeverity = typeof severity === 'string' && isSeverity(severity) ? severity : null;
  if (severity !== undefined && severity !== null && minSeverity === null)
    errors[DIALOG_IDS.severity] = 'Pick a severity from the list.';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const unique = otherAccount ? [] : targets.filter((t, i) => targetIds.indexOf(t.id) === i);
  return {
    ok: true,
    channel,
    ...(account === null ? {} : { account }),
    keys: [...new Set(keys)],
    targetIds: unique.map((t) => t.id),
    targets: unique,
    minSeverity,
  };
}
