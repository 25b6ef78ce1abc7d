import { describe, expect, it } from 'vitest';
import type { AccountView } from '../../src/commands/workspace-accounts.ts';
import { renderAccounts, renderDisconnectConfirm } from '../../src/slack/blocks/accounts-message.ts';
import { renderConnectModal, renderConnectResult } from '../../src/slack/blocks/connect-modal.ts';
import { checkLimits } from '../../src/slack/blocks/limits.ts';
import { CONNECT_IDS } from '../../src/slack/blocks/payloads.ts';

const account = (over: Partial<AccountView> = {}): AccountView => ({
  workspace: 'T1',
  id: 'acc-7',
  name: 'Client <A>',
  apiUrl: 'https://api.example/api/v1',
  keyHint: '1234',
  status: 'active',
  lastPollAt: null,
  lastError: null,
  createdBy: 'U1',
  createdAt: 0,
  ...over,
});

describe('/halo accounts and the disconnect confirmation', () => {
  it('lists each account with its health and its key’s last 4 characters, names escaped', () => {
    const message = renderAccounts([
      account(),
      account({
        id: 'acc-8',
        name: 'Prod',
        status: 'needs_key',
        lastPollAt: 1_700_000_000_000,
        lastError: 'halo_unauthorized',
      }),
    ]);
    expect(message.text).toBe('Halo accounts: Client &lt;A&gt;, Prod');
    expect(message.blocks.map((b) => (b.type === 'section' ? b.text?.text : b.type))).toEqual([
      '*Halo accounts of this workspace (2)* — name one in a command with `account:NAME`',
      '*Client &lt;A&gt;* — :white_check_mark: active · not polled yet · key …1234',
      '*Prod* — :red_circle: needs a new key · last poll <!date^1700000000^{date_short_pretty} {time}|2023-11-14T22:13:20.000Z> · last error `halo_unauthorized` · key …1234',
    ]);
    expect(checkLimits(message)).toEqual([]);
    expect(renderAccounts([]).text).toBe(
      'This workspace has no Halo account connected: an admin connects one with `/halo connect`.',
    );
  });

  it('asks to confirm a disconnect with a button naming the account by ID', () => {
    const message = renderDisconnectConfirm(account());
    expect(message.blocks[1]).toEqual({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Disconnect' },
          action_id: 'halo_disconnect_confirm',
          value: 'acc-7',
          style: 'danger',
          confirm: {
            title: { type: 'plain_text', text: 'Disconnect this account?' },
            text: { type: 'plain_text', text: 'Client <A>: its key and everything stored for it go now.' },
            confirm: { type: 'plain_text', text: 'Disconnect' },
            deny: { type: 'plain_text', text: 'Cancel' },
          },
        },
      ],
    });
    expect(checkLimits(message)).toEqual([]);
  });
});

describe('the connect modal', () => {
  it('asks name, key and an optional URL, and keeps the channel it was opened in', () => {
    const modal = renderConnectModal('C0123ABC', 'https://api.halosecurity.com/api/v1');
    expect(modal.callback_id).toBe(CONNECT_IDS.callback);
    expect(modal.private_metadata).toBe('C0123ABC');
    const inputs = modal.blocks.filter((b) => b.type === 'input');
    expect(inputs.map((b) => [b.block_id, b.optional, 'element' in b ? b.element.action_id : null])).toEqual([
      [CONNECT_IDS.name, false, CONNECT_IDS.name],
      [CONNECT_IDS.key, false, CONNECT_IDS.key],
      [CONNECT_IDS.url, true, CONNECT_IDS.url],
    ]);
    // The key field never holds a key: it starts empty every time.
    expect(JSON.stringify(modal)).not.toContain('initial_value');
  });

  it('says what was connected by name and the key’s last 4 characters', () => {
    const shown = JSON.stringify(renderConnectResult('Client A', '1234', true));
    expect(shown).toContain('Connected the Halo account *Client A* (key …1234)');
    expect(shown).toContain('/halo subscribe account:\\"Client A\\"');
    expect(JSON.stringify(renderConnectResult('Prod', '9999', false))).toContain('Gave a new key to');
  });
});
