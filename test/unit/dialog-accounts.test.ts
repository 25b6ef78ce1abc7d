/**
 * The subscribe dialog's account field (issue 19): its rendering (none with one account, a select with several,
 * the account's name for an edit) and its payloads' one encoder and decoder.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeAccountOption,
  decodeDialogChange,
  decodeDialogState,
  dialogAccount,
  DIALOG_IDS,
  encodeAccountOption,
  targetsBlockId,
} from '../../src/slack/blocks/dialog-payloads.ts';
import { renderSubscribeModal, type DialogView } from '../../src/slack/blocks/subscribe-modal.ts';

const base: DialogView = {
  metadata: { editing: null, account: 'acc-2' },
  channel: 'C1',
  accounts: [],
  types: [{ subject: 'Port Opened', key: 'port-open' }],
  keys: [],
  targets: [],
  minSeverity: null,
  preview: null,
};
const two = [
  { id: 'acc-1', name: 'lab' },
  { id: 'acc-2', name: 'prod' },
];
const ids = (view: DialogView) =>
  renderSubscribeModal(view).blocks.map((b) => (b as { block_id?: string }).block_id);

describe('the dialog’s account field', () => {
  it('is not there with one account (or none): the dialog is as before accounts', () => {
    const before = [
      DIALOG_IDS.channel,
      DIALOG_IDS.types,
      DIALOG_IDS.targets,
      DIALOG_IDS.severity,
      DIALOG_IDS.preview,
    ];
    expect(ids(base)).toEqual(before);
    expect(ids({ ...base, accounts: [two[1]!] })).toEqual(before);
  });

  it('is a select of the accounts by name, their IDs as values, on the account picked, after the channel', () => {
    const modal = renderSubscribeModal({ ...base, accounts: two });
    expect(modal.blocks[1]).toEqual({
      type: 'input',
      block_id: 'halo_sub_account',
      label: { type: 'plain_text', text: 'Halo account' },
      optional: false,
      dispatch_action: true,
      hint: { type: 'plain_text', text: 'The event types, targets and preview below are this account’s.' },
      element: {
        type: 'static_select',
        action_id: 'halo_sub_account',
        placeholder: { type: 'plain_text', text: 'Pick an account' },
        options: [
          { text: { type: 'plain_text', text: 'lab' }, value: 'acc-1' },
          { text: { type: 'plain_text', text: 'prod' }, value: 'acc-2' },
        ],
        initial_option: { text: { type: 'plain_text', text: 'prod' }, value: 'acc-2' },
      },
    });
    expect(modal.private_metadata).toBe('{"a":"acc-2","e":null}');
  });

  it('names the account of an edit, which stays in it', () => {
    const modal = renderSubscribeModal({
      ...base,
      accounts: two,
      metadata: { editing: { channel: 'C1', id: 4 }, account: 'acc-1' },
    });
    expect(modal.blocks[1]).toEqual({
      type: 'context',
      block_id: 'halo_sub_account',
      elements: [
        { type: 'mrkdwn', text: 'Halo account: *lab* (an edit stays in its account)', verbatim: true },
      ],
    });
  });
  it('starts on the environment’s account when the metadata names none (as before accounts)', () => {
    const modal = renderSubscribeModal({
      ...base,
      accounts: [{ id: 'env', name: 'Halo' }, two[0]!],
      metadata: { editing: null },
    });
    expect((modal.blocks[1] as { element: { initial_option: unknown } }).element.initial_option).toEqual({
      text: { type: 'plain_text', text: 'Halo' },
      value: 'env',
    });
  });
});

describe('the account field’s payloads', () => {
  it('an option is the account’s ID; anything else is refused', () => {
    expect(decodeAccountOption(encodeAccountOption('acc-7'))).toBe('acc-7');
    expect(encodeAccountOption('x'.repeat(151))).toBeUndefined();
    for (const bad of ['', 'a\u0000b', 'x'.repeat(151), 7, null]) expect(decodeAccountOption(bad)).toBeNull();
  });

  const values = (account: unknown, channel: unknown = 'C01') => ({
    [DIALOG_IDS.channel]: { [DIALOG_IDS.channel]: { selected_conversation: channel } },
    [DIALOG_IDS.account]: {
      [DIALOG_IDS.account]: { selected_option: account === undefined ? null : { value: account } },
    },
  });

  it('the fields carry the pick; a forged one is the field’s error', () => {
    expect(decodeDialogState(values('acc-1'))).toEqual({
      ok: true,
      channel: 'C01',
      account: 'acc-1',
      keys: [],
      targetIds: [],
      targets: [],
      minSeverity: null,
    });
    expect(decodeDialogState(values(undefined))).not.toHaveProperty('account');
    expect(decodeDialogState(values(''))).toEqual({
      ok: false,
      errors: { [DIALOG_IDS.account]: 'Pick a Halo account from the list.' },
    });
  });

  it('a change needs no channel yet; a submission does', () => {
    expect(decodeDialogChange(values('acc-1', null))).toMatchObject({
      ok: true,
      channel: null,
      account: 'acc-1',
    });
    expect(decodeDialogState(values('acc-1', null))).toEqual({
      ok: false,
      errors: { [DIALOG_IDS.channel]: 'Pick the channel the alerts go to.' },
    });
    expect(decodeDialogChange(values('acc-1', 'not a channel'))).toMatchObject({ ok: false });
  });

  it('the targets field is a block of its account’s: picks made in another account’s are not this one’s', () => {
    expect(targetsBlockId(undefined)).toBe('halo_sub_targets');
    expect(targetsBlockId('env')).toBe('halo_sub_targets');
    expect(targetsBlockId('acc-2')).toBe('halo_sub_targets.acc-2');
    const picked = (account: string, block: string) => ({
      ...values(account),
      [block]: {
        [DIALOG_IDS.targets]: {
          type: 'multi_external_select',
          selected_options: [{ value: '5', text: { type: 'plain_text', text: 'lab (5)' } }],
        },
      },
    });
    expect(decodeDialogState(picked('acc-1', 'halo_sub_targets.acc-1'))).toMatchObject({
      ok: true,
      targetIds: [5],
    });
    // acc-2 picked while the field shown is still acc-1's: a change drops them, a submission is refused.
    expect(decodeDialogChange(picked('acc-2', 'halo_sub_targets.acc-1'))).toMatchObject({
      ok: true,
      account: 'acc-2',
      targetIds: [],
      targets: [],
    });
    expect(decodeDialogState(picked('acc-2', 'halo_sub_targets.acc-1'))).toEqual({
      ok: false,
      errors: {
        'halo_sub_targets.acc-1': 'These targets were picked in another Halo account: pick this account’s.',
      },
    });
  });

  it('renders the targets field as the picked account’s block only where the account can be switched', () => {
    const targets = (view: DialogView) =>
      renderSubscribeModal(view).blocks.map((b) => (b as { block_id?: string }).block_id)[3];
    expect(targets({ ...base, accounts: two })).toBe('halo_sub_targets.acc-2');
    expect(
      targets({ ...base, metadata: { editing: { channel: 'C1', id: 7 }, account: 'acc-2' }, accounts: two }),
    ).toBe('halo_sub_targets');
  });

  it('the account acted in: an edit’s own, else the pick, else the metadata’s', () => {
    expect(dialogAccount({ editing: null, account: 'acc-1' }, 'acc-2')).toBe('acc-2');
    expect(dialogAccount({ editing: null, account: 'acc-1' }, undefined)).toBe('acc-1');
    expect(dialogAccount({ editing: { channel: 'C1', id: 3 }, account: 'acc-1' }, 'acc-2')).toBe('acc-1');
  });
});
