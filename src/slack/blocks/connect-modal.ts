/**
 * The connect modal (`/halo connect`): the account's name, its API key and an optional API URL. Pure. The key
 * field starts empty every time and is never filled in: a key, once given, is shown nowhere again.
 */
import { accountFilter } from '../../domain/account-name.ts';
import { plainText, mrkdwnText } from './text.ts';
import { mrkdwn } from './escape.ts';
import { CONNECT_FIELD_MAX, CONNECT_IDS, encodeConnectMetadata } from './payloads.ts';
import type { Block, PlainText } from './types.ts';

interface TextInputBlock {
  readonly type: 'input';
  readonly block_id: string;
  readonly label: PlainText;
  readonly optional: boolean;
  readonly hint?: PlainText;
  readonly element: {
    readonly type: 'plain_text_input';
    readonly action_id: string;
    readonly max_length: number;
    readonly placeholder?: PlainText;
  };
}

export interface ConnectModalView {
  readonly type: 'modal';
  readonly callback_id: string;
  readonly title: PlainText;
  readonly submit?: PlainText;
  readonly close: PlainText;
  readonly private_metadata: string;
  readonly blocks: readonly (Block | TextInputBlock)[];
}

const input = (
  id: string,
  label: string,
  max: number,
  optional: boolean,
  hint: string,
  placeholder?: string,
): TextInputBlock => ({
  type: 'input',
  block_id: id,
  label: plainText(label),
  optional,
  hint: plainText(hint),
  element: {
    type: 'plain_text_input',
    action_id: id,
    max_length: max,
    ...(placeholder === undefined ? {} : { placeholder: plainText(placeholder) }),
  },
});

/** `channel`: where `/halo connect` was typed; `defaultUrl`: HALO_API_URL, used when the URL is left empty. */
export function renderConnectModal(channel: string | null, defaultUrl: string): ConnectModalView {
  return {
    type: 'modal',
    callback_id: CONNECT_IDS.callback,
    title: plainText('Connect Halo account'),
    submit: plainText('Connect'),
    close: plainText('Cancel'),
    private_metadata: encodeConnectMetadata(channel),
    blocks: [
      {
        type: 'section',
        text: mrkdwnText(
          'The key is checked with Halo before it is saved, stored encrypted, and never shown again (only its last 4 characters). The same name as an account already here gives that account a new key.',
        ),
      },
      input(
        CONNECT_IDS.name,
        'Account name',
        CONNECT_FIELD_MAX.name,
        false,
        'What account:NAME calls it in commands: letters, digits, spaces, - _ .',
        'Production',
      ),
      input(
        CONNECT_IDS.key,
        'API key',
        CONNECT_FIELD_MAX.key,
        false,
        'Halo Security: Account → API. A read-only key is enough unless you delete events from Slack.',
      ),
      input(
        CONNECT_IDS.url,
        'API URL (optional)',
        CONNECT_FIELD_MAX.url,
        true,
        `Leave empty for ${defaultUrl.slice(0, 120)}`,
      ),
    ],
  };
}

/** The modal once saved: what was connected, by name and the key's last 4 characters. */
export function renderConnectResult(name: string, keyHint: string, created: boolean): ConnectModalView {
  const what = created ? 'Connected' : 'Gave a new key to';
  const filter = accountFilter(name);
  return {
    type: 'modal',
    callback_id: CONNECT_IDS.callback,
    title: plainText('Connect Halo account'),
    close: plainText('Done'),
    private_metadata: '',
    blocks: [
      {
        type: 'section',
        text: mrkdwnText(
          `:white_check_mark: ${what} the Halo account *${mrkdwn(name, 60)}* (key …${mrkdwn(keyHint, 4)}). ` +
            `Subscribe a channel to it with \`/halo subscribe ${mrkdwn(filter, 80)}\`; \`/halo accounts\` shows its health.`,
        ),
      },
    ],
  };
}
