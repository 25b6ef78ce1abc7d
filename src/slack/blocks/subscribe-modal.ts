/**
 * The subscribe dialog (a modal): channel, Halo account (in a workspace of several), event types, targets and
 * minimum severity, with a preview line of what the subscription would post. Pure: the listener gathers the
 * accounts, the catalogue and the preview and opens what this returns. Every field but the channel dispatches its
 * changes, so that the preview (and, for the account, the types offered) follows the inputs.
 */
import type { HaloEventType } from '../../domain/event.ts';
import { SEVERITIES, type Severity } from '../../domain/severity.ts';
import type { Preview, TargetOption } from '../../commands/subscribe-dialog.ts';
import { oneLine, plainText, mrkdwnText } from './text.ts';
import { mrkdwn, truncate } from './escape.ts';
import { LIMITS } from './limits.ts';
import {
  DIALOG_IDS,
  encodeAccountOption,
  encodeDialogMetadata,
  encodeTargetOption,
  targetsBlockId,
  type DialogMetadata,
} from './dialog-payloads.ts';
import { ENV } from './payloads.ts';
import { SEVERITY_STYLE } from './severity-style.ts';
import type { Block, PlainText } from './types.ts';

interface Option {
  readonly text: PlainText;
  readonly value: string;
}

/** The fields' elements and the input block: Block Kit's shapes for a modal, which messages never use. */
type DialogElement =
  | {
      readonly type: 'conversations_select';
      readonly action_id: string;
      readonly initial_conversation?: string;
      readonly filter: { readonly include: readonly string[]; readonly exclude_bot_users: boolean };
    }
  | {
      readonly type: 'multi_static_select' | 'multi_external_select' | 'static_select';
      readonly action_id: string;
      readonly placeholder: PlainText;
      readonly options?: readonly Option[];
      readonly initial_options?: readonly Option[];
      readonly initial_option?: Option;
      readonly min_query_length?: number;
      readonly max_selected_items?: number;
    };

interface InputBlock {
  readonly type: 'input';
  readonly block_id: string;
  readonly label: PlainText;
  readonly element: DialogElement;
  readonly optional: boolean;
  readonly dispatch_action: boolean;
  readonly hint?: PlainText;
}

export interface ModalView {
  readonly type: 'modal';
  readonly callback_id: string;
  readonly title: PlainText;
  readonly submit?: PlainText;
  readonly close: PlainText;
  readonly private_metadata: string;
  readonly blocks: readonly (Block | InputBlock)[];
}

/** A Halo account the dialog offers: its ID (the option's value) and its name (what the user reads). */
export interface AccountOption {
  readonly id: string;
  readonly name: string;
}

/** What the dialog shows: the choices it offers and what is picked. */
export interface DialogView {
  /** Its `account` is the account picked (an edit's own), whose catalogue `types` is. */
  readonly metadata: DialogMetadata;
  readonly channel: string | null;
  /** The workspace's accounts: the account field is shown when there are several (none with one). */
  readonly accounts: readonly AccountOption[];
  readonly types: readonly HaloEventType[];
  readonly keys: readonly string[];
  readonly targets: readonly TargetOption[];
  readonly minSeverity: Severity | null;
  /** null: not computed yet (the dialog just opened with nothing picked); text: why there are no figures. */
  readonly preview: Preview | string | null;
}

const option = (text: string, value: string): Option => ({
  text: plainText(truncate(oneLine(text), LIMITS.optionText) || value),
  value,
});

const severityOption = (severity: Severity): Option => option(SEVERITY_STYLE[severity].word, severity);

/** Sent when the dialog opens; each change replaces it (`views.update`). */
export function renderSubscribeModal(view: DialogView): ModalView {
  const editing = view.metadata.editing !== null;
  const typeOptions = view.types
    .filter((type) => type.key.length <= LIMITS.optionValue)
    .slice(0, LIMITS.selectOptions)
    .map((type) => option(`${type.subject} (${type.key})`, type.key));
  // A key Halo no longer lists stays picked: the option is the key itself.
  const picked = view.keys.map((key) => typeOptions.find((o) => o.value === key) ?? option(key, key));
  // Slack requires the picked options among the options: they come first, so that the cut never drops one.
  const offered = [...picked, ...typeOptions.filter((o) => !view.keys.includes(o.value))].slice(
    0,
    LIMITS.selectOptions,
  );
  const typesHint =
    view.types.length === 0
      ? 'Halo’s event types could not be read; none picked means every type.'
      : view.types.length > LIMITS.selectOptions
        ? `None picked means every type. The first ${LIMITS.selectOptions} of Halo’s ${view.types.length} types are listed; /halo subscribe key:… takes any.`
        : 'None picked means every type.';
  const blocks: (Block | InputBlock)[] = [
    {
      type: 'input',
      block_id: DIALOG_IDS.channel,
      label: plainText('Channel'),
      optional: false,
      dispatch_action: false,
      element: {
        type: 'conversations_select',
        action_id: DIALOG_IDS.channel,
        ...(view.channel === null ? {} : { initial_conversation: view.channel }),
        filter: { include: ['public', 'private'], exclude_bot_users: true },
      },
    },
    ...accountField(view, editing),
    {
      type: 'input',
      block_id: DIALOG_IDS.types,
      label: plainText('Event types'),
      optional: true,
      dispatch_action: true,
      hint: plainText(typesHint),
      element: {
        type: 'multi_static_select',
        action_id: DIALOG_IDS.types,
        placeholder: plainText('Every type'),
        options: offered,
        max_selected_items: 20,
        ...(picked.length === 0 ? {} : { initial_options: picked }),
      },
    },
    {
      type: 'input',
      // Only a field that can switch accounts needs its block to name one: the dialog is otherwise as before.
      block_id: targetsBlockId(view.accounts.length > 1 && !editing ? view.metadata.account : undefined),
      label: plainText('Targets'),
      optional: true,
      dispatch_action: true,
      hint: plainText('None picked means every target. Type a name, or a target ID.'),
      element: {
        type: 'multi_external_select',
        action_id: DIALOG_IDS.targets,
        placeholder: plainText('Every target'),
        min_query_length: 0,
        max_selected_items: 20,
        ...(view.targets.length === 0
          ? {}
          : { initial_options: view.targets.map((t) => option(t.label, encodeTargetOption(t.id))) }),
      },
    },
    {
      type: 'input',
      block_id: DIALOG_IDS.severity,
      label: plainText('Minimum severity'),
      optional: true,
      dispatch_action: true,
      element: {
        type: 'static_select',
        action_id: DIALOG_IDS.severity,
        placeholder: plainText('Any severity'),
        options: SEVERITIES.map(severityOption),
        ...(view.minSeverity === null ? {} : { initial_option: severityOption(view.minSeverity) }),
      },
    },
    {
      type: 'context',
      block_id: DIALOG_IDS.preview,
      elements: [
        mrkdwnText(
          view.preview === null
            ? 'Pick event types or targets to see what this would post.'
            : typeof view.preview === 'string'
              ? view.preview
              : previewText(view.preview),
        ),
      ],
    },
  ];
  return {
    type: 'modal',
    callback_id: DIALOG_IDS.callback,
    title: plainText(editing ? 'Edit subscription' : 'New subscription'),
    submit: plainText(editing ? 'Save' : 'Subscribe'),
    close: plainText('Cancel'),
    private_metadata: encodeDialogMetadata(view.metadata),
    blocks,
  };
}

/**
 * The account field, in a workspace of several accounts: a select of them (its pick drives the types offered,
 * the targets suggested and the preview), or, for an edit, which stays in its account, that account's name.
 */
function accountField(view: DialogView, editing: boolean): (Block | InputBlock)[] {
  if (view.accounts.length < 2) return [];
  // No account in the metadata: the env account's dialog (its metadata is as before accounts).
  const current = view.metadata.account ?? ENV;
  const chosen = view.accounts.find((a) => a.id === current);
  if (editing)
    return chosen === undefined
      ? []
      : [
          {
            type: 'context',
            block_id: DIALOG_IDS.account,
            elements: [
              mrkdwnText(`Halo account: *${mrkdwn(chosen.name, 100)}* (an edit stays in its account)`),
            ],
          },
        ];
  const options = view.accounts.slice(0, LIMITS.selectOptions).flatMap((account) => {
    const value = encodeAccountOption(account.id);
    return value === undefined ? [] : [option(account.name, value)];
  });
  const initial = options.find((o) => o.value === chosen?.id);
  return [
    {
      type: 'input',
      block_id: DIALOG_IDS.account,
      label: plainText('Halo account'),
      optional: false,
      dispatch_action: true,
      hint: plainText('The event types, targets and preview below are this account’s.'),
      element: {
        type: 'static_select',
        action_id: DIALOG_IDS.account,
        placeholder: plainText('Pick an account'),
        options,
        ...(initial === undefined ? {} : { initial_option: initial }),
      },
    },
  ];
}

/** The dialog after saving: what `/halo subscribe` answered, in place of the fields. */
export function renderDialogResult(blocks: readonly Block[], editing: boolean): ModalView {
  return {
    type: 'modal',
    callback_id: DIALOG_IDS.callback,
    title: plainText(editing ? 'Edit subscription' : 'New subscription'),
    close: plainText('Done'),
    private_metadata: '',
    blocks: blocks.slice(0, 100),
  };
}

const count = (n: number): string => n.toLocaleString('en-US');

function ago(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h ago` : `${Math.round(hours / 24)} days ago`;
}

/**
 * "Halo holds 1,234 events of these types for these targets; 42 arrived in the last 7 days (30 Medium, 12 High);
 * latest: *New Issue Found* on api.acme.example, 2 h ago."
 */
export function previewText(preview: Preview): string {
  const parts: string[] = [];
  if (preview.total === null) parts.push('Halo’s total could not be read in time');
  else
    parts.push(
      `Halo holds ${preview.partial ? 'at least ' : ''}${count(preview.total)} events of these types for these targets`,
    );
  const severities = preview.recentBySeverity
    .map((s) => `${count(s.count)} ${SEVERITY_STYLE[s.severity].word}`)
    .join(', ');
  parts.push(
    `${count(preview.recent)} arrived in the last 7 days${severities === '' ? '' : ` (${severities})`}`,
  );
  if (preview.latest !== null) {
    const where = preview.latest.where === '' ? '' : ` on ${mrkdwn(preview.latest.where, 200)}`;
    parts.push(
      `latest: *${mrkdwn(preview.latest.subject, 300)}*${where}, ${ago(preview.now - preview.latest.at)}`,
    );
  }
  let text = `${parts.join('; ')}.`;
  if (preview.slow) text += '\n:hourglass: Halo is slow to answer: these figures are what came within 2 s.';
  else if (preview.partial) text += `\nTotals are asked for at most 10 type-and-target pairs per change.`;
  return text;
}
