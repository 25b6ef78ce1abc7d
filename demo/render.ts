/**
 * A Slack message as the demo page shows it: Block Kit blocks as simple HTML, with working controls (buttons
 * and menus carry their action ID; the page sends a click back as Slack would), and a link to Slack's Block Kit
 * Builder with the same blocks. Pure. Blocks arrive as untyped JSON: what is not understood is named, not shown.
 */
import { escapeHtml, mrkdwnToHtml, plainToHtml, type MrkdwnOptions } from './mrkdwn.ts';

/** Slack's Block Kit Builder takes the message as URL-encoded JSON after the `#`. */
export const BLOCK_KIT_BUILDER = 'https://app.slack.com/block-kit-builder/#';

export function blockKitBuilderUrl(blocks: readonly unknown[]): string {
  return BLOCK_KIT_BUILDER + encodeURIComponent(JSON.stringify({ blocks }));
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

/** A text object: `mrkdwn` formatted, `plain_text` literal. */
export function textObject(value: unknown, options: MrkdwnOptions = {}): string {
  if (!isRecord(value)) return '';
  return value.type === 'mrkdwn'
    ? mrkdwnToHtml(str(value.text), options)
    : plainToHtml(str(value.text), value.emoji !== false);
}

/** `data-*` attributes, each value escaped; empty values left out. */
function data(attributes: Readonly<Record<string, string>>): string {
  return Object.entries(attributes)
    .filter(([, value]) => value !== '')
    .map(([name, value]) => ` data-${name}="${escapeHtml(value)}"`)
    .join('');
}

function button(element: Json): string {
  const label = textObject(element.text);
  const url = str(element.url);
  if (/^https?:\/\//i.test(url)) {
    return `<a class="bk-button" href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${label}</a>`;
  }
  const style = element.style === 'danger' || element.style === 'primary' ? ` bk-${element.style}` : '';
  const confirm = isRecord(element.confirm) ? element.confirm : undefined;
  // The confirmation is shown by the page with the browser's own dialog, which takes plain text.
  const plain = (value: unknown): string => (isRecord(value) ? str(value.text) : '');
  const attributes = data({
    'action-id': str(element.action_id),
    'confirm-title': plain(confirm?.title),
    'confirm-text': plain(confirm?.text),
  });
  return `<button type="button" class="bk-button${style}"${attributes}>${label}</button>`;
}

function option(value: unknown): string {
  if (!isRecord(value)) return '';
  return `<option value="${escapeHtml(str(value.value))}">${textObject(value.text)}</option>`;
}

function staticSelect(element: Json): string {
  const groups = list(element.option_groups).map((group) =>
    isRecord(group)
      ? `<optgroup label="${escapeHtml(isRecord(group.label) ? str(group.label.text) : '')}">` +
        list(group.options).map(option).join('') +
        '</optgroup>'
      : '',
  );
  const placeholder = `<option value="" selected disabled>${textObject(element.placeholder)}</option>`;
  return (
    `<select class="bk-select"${data({ 'action-id': str(element.action_id) })}>` +
    placeholder +
    list(element.options).map(option).join('') +
    groups.join('') +
    '</select>'
  );
}

/** A dialog's control: a menu with its options and what is picked, or the placeholder of one that loads them. */
function field(value: unknown): string {
  if (!isRecord(value)) return '';
  const picked = [
    ...list(value.initial_options),
    ...(isRecord(value.initial_option) ? [value.initial_option] : []),
  ].map((o) => (isRecord(o) ? str(o.value) : ''));
  const choice = (o: unknown): string =>
    isRecord(o)
      ? `<option value="${escapeHtml(str(o.value))}"${picked.includes(str(o.value)) ? ' selected' : ''}>${textObject(o.text)}</option>`
      : '';
  // No action ID on the selects: the page shows the dialog; it does not drive it.
  switch (value.type) {
    case 'conversations_select': {
      const channel = str(value.initial_conversation);
      return `<select class="bk-select" disabled><option>${channel === '' ? 'Pick a channel' : escapeHtml(`#${channel}`)}</option></select>`;
    }
    case 'static_select':
    case 'multi_static_select': {
      const multiple = value.type === 'multi_static_select' ? ' multiple' : '';
      return `<select class="bk-select"${multiple}>${list(value.options).map(choice).join('')}</select>`;
    }
    case 'multi_external_select':
      return `<select class="bk-select" multiple>${list(value.initial_options).map(choice).join('')}<option value="" disabled>${textObject(value.placeholder)}: type to search</option></select>`;
    default:
      return element(value, {});
  }
}

function element(value: unknown, options: MrkdwnOptions): string {
  if (!isRecord(value)) return '';
  switch (value.type) {
    case 'button':
      return button(value);
    case 'static_select':
      return staticSelect(value);
    case 'mrkdwn':
    case 'plain_text':
      return `<span>${textObject(value, options)}</span>`;
    case 'image':
      return `<span class="bk-image">[image: ${escapeHtml(str(value.alt_text))}]</span>`;
    default:
      return `<span class="bk-unsupported">[${escapeHtml(str(value.type))}]</span>`;
  }
}

function block(value: unknown, options: MrkdwnOptions): string {
  if (!isRecord(value)) return '';
  const elements = (items: unknown): string =>
    list(items)
      .map((item) => element(item, options))
      .join('');
  switch (value.type) {
    case 'header':
      return `<h3 class="bk-header">${textObject(value.text)}</h3>`;
    case 'section': {
      const text =
        value.text === undefined ? '' : `<div class="bk-text">${textObject(value.text, options)}</div>`;
      const fields = list(value.fields).map((field) => `<div>${textObject(field, options)}</div>`);
      const fieldsHtml = fields.length === 0 ? '' : `<div class="bk-fields">${fields.join('')}</div>`;
      const accessory =
        value.accessory === undefined
          ? ''
          : `<div class="bk-accessory">${element(value.accessory, options)}</div>`;
      return `<section class="bk-section">${text}${fieldsHtml}${accessory}</section>`;
    }
    case 'context':
      return `<div class="bk-context">${elements(value.elements)}</div>`;
    case 'actions':
      return `<div class="bk-actions">${elements(value.elements)}</div>`;
    case 'divider':
      return '<hr class="bk-divider">';
    case 'input': {
      // A dialog's field: its label, and its control as the page can show it (choices are made in Slack).
      const label = `<label class="bk-label">${textObject(value.label)}</label>`;
      const hint = value.hint === undefined ? '' : `<div class="bk-context">${textObject(value.hint)}</div>`;
      return `<div class="bk-input">${label}${field(value.element)}${hint}</div>`;
    }
    default:
      return `<div class="bk-unsupported">[${escapeHtml(str(value.type))} block]</div>`;
  }
}

/** The blocks of a message; a message without blocks shows its text as mrkdwn, as Slack does. */
export function blocksToHtml(blocks: readonly unknown[], text: string, options: MrkdwnOptions = {}): string {
  if (blocks.length === 0) return `<div class="bk-text">${mrkdwnToHtml(text, options)}</div>`;
  return blocks.map((b) => block(b, options)).join('');
}

/** One message in the page's channel view. */
export interface CardView {
  /** `user`: what the person watching typed; `ephemeral`: only they see it. */
  readonly kind: 'channel' | 'ephemeral' | 'user';
  readonly author: string;
  /** `Date.now()` when it arrived. */
  readonly at: number;
  readonly text: string;
  readonly blocks: readonly unknown[];
  readonly edited: boolean;
  readonly deleted: boolean;
  readonly inThread: boolean;
  /** A thread reply also sent to the channel. */
  readonly broadcast: boolean;
  /** The bot's preview of a link in the message above (`chat.unfurl`), not a message of its own. */
  readonly preview?: boolean;
}

/** The inside of a message's card: who and when, the rendered blocks, and the Block Kit Builder link. */
export function cardHtml(view: CardView, options: MrkdwnOptions = {}): string {
  const badges = [
    view.kind === 'ephemeral' ? 'Only visible to you' : '',
    view.preview === true ? 'Link preview' : '',
    view.inThread ? (view.broadcast ? 'Thread reply, also sent to the channel' : 'Thread reply') : '',
    view.edited ? '(edited)' : '',
  ]
    .filter((badge) => badge !== '')
    .map((badge) => `<span class="badge">${escapeHtml(badge)}</span>`)
    .join('');
  const time = new Date(view.at).toISOString().slice(11, 19);
  const app = view.kind === 'user' ? '' : '<span class="app">APP</span>';
  const meta = `<div class="meta"><b>${escapeHtml(view.author)}</b>${app}<time>${time} UTC</time>${badges}</div>`;
  if (view.deleted) return `${meta}<div class="body deleted">This message was deleted.</div>`;
  if (view.kind === 'user') return `${meta}<div class="body"><code>${escapeHtml(view.text)}</code></div>`;
  const builder =
    `<div class="tools"><a class="bkb" href="${escapeHtml(blockKitBuilderUrl(view.blocks))}" ` +
    'target="_blank" rel="noopener noreferrer">Open in Block Kit Builder</a></div>';
  return `${meta}<div class="body">${blocksToHtml(view.blocks, view.text, options)}</div>${builder}`;
}
