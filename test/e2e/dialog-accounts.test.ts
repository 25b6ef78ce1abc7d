/**
 * The subscribe dialog in a workspace of several Halo accounts (issue 19), in the distributed shape over HTTP:
 * workspace A connects `lab` and `prod`, each with its own catalogue and events, and workspace B one account.
 * A's dialog has an account field listing A's two accounts only; picking one shows that account's event types
 * and previews and suggests from that account's Halo; saving subscribes in the account picked, whose alerts then
 * reach the channel (and the other account's do not). A forged account ID (B's, or none) is refused in the field
 * and saves nothing. B's dialog, of one account, has no account field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeHaloAccount } from '../../fakes/halo.ts';
import { blockSuggestionPayload, homeClickPayload, modalActionPayload } from '../../fakes/sign.ts';
import { NO_SUCH_ACCOUNT } from '../../src/slack/listeners/dialog-listeners.ts';
import { DIALOG_IDS, targetsBlockId } from '../../src/slack/blocks/dialog-payloads.ts';
import { ACTION_IDS } from '../../src/slack/blocks/payloads.ts';
import { inProcessBot, startFakes, visibleText, type Fakes, type InProcessBot } from '../harness.ts';
import {
  block,
  dialogDriver,
  fields,
  modalOf,
  option,
  type DialogDriver,
  type Modal,
} from './dialog-driver.ts';
import {
  ALPHA_BETA_KEYS,
  installAlphaBeta,
  distributedEnv,
  until,
  workspaces,
  type Workspaces,
} from './workspaces.ts';

const KEYS = ALPHA_BETA_KEYS;

let fakes: Fakes;
let bot: InProcessBot;
let people: Workspaces;
let prod: FakeHaloAccount;
let lab: FakeHaloAccount;
const ids = { prod: '', lab: '', beta: '' };
let driver: DialogDriver;

beforeAll(async () => {
  fakes = await startFakes();
  prod = fakes.halo.addAccount(KEYS.prod);
  prod.types = [
    { subject: 'Port Opened', key: 'port-open' },
    { subject: 'Prod Only Type', key: 'prod-only' },
  ];
  lab = fakes.halo.addAccount(KEYS.lab);
  lab.types = [
    { subject: 'Port Opened', key: 'port-open' },
    { subject: 'Lab Only Type', key: 'lab-only' },
  ];
  fakes.halo.addAccount(KEYS.beta);
  bot = await inProcessBot(distributedEnv(fakes));
  people = workspaces(fakes, bot);
  driver = dialogDriver(fakes, bot);
  await installAlphaBeta(people);
  for (const [team, name] of [
    ['TA', 'prod'],
    ['TA', 'lab'],
    ['TB', 'beta'],
  ] as const) {
    const records = await bot.bot.tenants.accounts(team);
    ids[name] = records.find((r) => r.name === (name === 'beta' ? 'prod' : name))!.id;
  }
  await until('every account polled once', async () => {
    const all = [...(await bot.bot.tenants.accounts('TA')), ...(await bot.bot.tenants.accounts('TB'))];
    return all.length === 3 && all.every((a) => a.lastPollAt !== null);
  });
  // Each account's alerts of port-open in a channel of its own, so that the events posted are "seen".
  expect(await people.slash('TA', 'subscribe key:port-open account:lab', 'CLAB')).toContain('Subscribed');
  expect(await people.slash('TA', 'subscribe key:port-open account:prod', 'CPROD')).toContain('Subscribed');
  // A target each account has alerted on, which the targets field suggests in that account only.
  prod.addEvent({
    key: 'port-open',
    target_id: 71,
    target: { target_name: 'shop', target_id: 71, target: 'shop.prod.example' },
  });
  lab.addEvent({
    key: 'port-open',
    target_id: 72,
    target: { target_name: 'bench', target_id: 72, target: 'bench.lab.example' },
  });
  await fakes.slack.waitFor(() => posted('CPROD', 'shop') && posted('CLAB', 'bench'), 20_000);
});

const posted = (channel: string, text: string): boolean =>
  fakes.slack
    .postsTo(channel)
    .some((p) => visibleText(p as unknown as Record<string, unknown>).includes(text));

afterAll(async () => {
  await bot.stop();
  await fakes.close();
});

const typeKeys = (view: Modal) => block(view, DIALOG_IDS.types)!.element.options!.map((o) => o.value);

describe('the subscribe dialog in a workspace of several accounts', () => {
  it('has an account field listing this workspace’s accounts only, starting on the first by name', async () => {
    const { view } = await driver.openFrom('TA', 'subscribe', 'CDLG');
    const field = block(view, DIALOG_IDS.account)!;
    expect(field.type).toBe('input');
    expect(field.element).toEqual({
      type: 'static_select',
      action_id: DIALOG_IDS.account,
      placeholder: { type: 'plain_text', text: 'Pick an account' },
      options: [option(ids.lab, 'lab'), option(ids.prod, 'prod')],
      initial_option: option(ids.lab, 'lab'),
    });
    // Between the channel and the types; B's account (also named prod) is not offered.
    expect(view.blocks.map((b) => b.block_id).slice(0, 3)).toEqual([
      DIALOG_IDS.channel,
      DIALOG_IDS.account,
      DIALOG_IDS.types,
    ]);
    expect(JSON.stringify(view)).not.toContain(ids.beta);
    expect(typeKeys(view)).toEqual(['lab-only', 'port-open']);
  });

  it('`account:NAME` starts it on that account, with its catalogue', async () => {
    const { view } = await driver.openFrom('TA', 'subscribe account:prod', 'CDLG');
    expect(block(view, DIALOG_IDS.account)!.element.initial_option).toEqual(option(ids.prod, 'prod'));
    expect(typeKeys(view)).toEqual(['port-open', 'prod-only']);
  });

  it('picking an account shows its types, previews and suggests from its Halo, and saves in it', async () => {
    const { id } = await driver.openFrom('TA', 'subscribe', 'CDLG');
    const prodLists = prod.listRequests().length;
    const labLists = lab.listRequests().length;
    const shown = await driver.pickAccount('TA', id, ids.prod, ['port-open']);
    expect(typeKeys(shown)).toEqual(['port-open', 'prod-only']);
    expect(block(shown, DIALOG_IDS.account)!.element.initial_option).toEqual(option(ids.prod, 'prod'));
    // Prod's figures: its one port-open event, on its own target.
    expect(
      visibleText({ blocks: shown.blocks.filter((b) => b.block_id === DIALOG_IDS.preview) }).trim(),
    ).toMatch(
      /^Halo holds 1 events of these types for these targets; 1 arrived in the last 7 days \(1 \w+\); latest: \*[^*]+\* on shop\.prod\.example, \d+ min ago\.$/,
    );
    // The preview's total was asked of prod's Halo, with prod's key; nothing of lab's.
    expect(
      prod
        .listRequests()
        .slice(prodLists)
        .some((r) => r.query.get('limit') === '1'),
    ).toBe(true);
    // (Lab's own polls go on meanwhile: only a preview's total, one entry, would be the dialog's.)
    expect(
      lab
        .listRequests()
        .slice(labLists)
        .filter((r) => r.query.get('limit') === '1'),
    ).toEqual([]);

    // The targets field suggests prod's targets (as picked in the field, whatever the metadata says).
    const suggested = (await driver.send(
      'TA',
      blockSuggestionPayload({
        userId: 'UADMIN',
        modal: driver.current(id, fields({ account: ids.prod })),
        actionId: DIALOG_IDS.targets,
        blockId: DIALOG_IDS.targets,
        value: '',
      }),
    )) as { options: { value: string; text: { text: string } }[] };
    expect(suggested.options.map((o) => o.text.text)).toEqual(['shop (71)']);

    expect(
      await driver.submit(
        'TA',
        id,
        fields({ channel: 'CDLG', account: ids.prod, keys: ['port-open', 'prod-only'] }),
      ),
    ).toMatchObject({ response_action: 'update' });
    await fakes.slack.waitFor(() =>
      visibleText({ blocks: fakes.slack.openModals.get(id)!.view.blocks }).includes('Subscribed'),
    );
    expect(await people.slash('TA', 'subscriptions account:prod', 'CDLG')).toMatch(/port-open.*prod-only/s);
    expect(await people.slash('TA', 'subscriptions account:lab', 'CDLG')).not.toContain('port-open');

    // Prod's alerts reach the channel; lab's, seen by lab's own subscription, do not.
    lab.addEvent({ key: 'port-open', subject: 'Lab port opened', target_id: 5 });
    prod.addEvent({ key: 'port-open', subject: 'Prod port opened', target_id: 6 });
    await fakes.slack.waitFor(
      () => posted('CDLG', 'Prod port opened') && posted('CLAB', 'Lab port opened'),
      20_000,
    );
    await fakes.slack.waitFor(() => posted('CPROD', 'Prod port opened'), 20_000);
    expect(posted('CDLG', 'Lab port opened')).toBe(false);
  });

  it('drops the targets picked in one account when another is picked, and refuses to save them in it', async () => {
    const { id, view } = await driver.openFrom('TA', 'subscribe', 'CSTALE');
    const targetsOf = (modal: Modal) =>
      modal.blocks.find((b) => String(b.block_id).startsWith(DIALOG_IDS.targets)) as {
        block_id: string;
        element: Record<string, unknown>;
      };
    expect(targetsOf(view).block_id).toBe(targetsBlockId(ids.lab));
    // Lab's target 5 picked, then prod: the update shows prod's targets field, empty (another block, which Slack
    // shows without the picks of lab's).
    const shown = await driver.pickAccount('TA', id, ids.prod, [], { targets: [5], targetsOf: ids.lab });
    expect(targetsOf(shown).block_id).toBe(targetsBlockId(ids.prod));
    expect(targetsOf(shown).element.initial_options).toBeUndefined();
    // Saved before that update landed: lab's target in prod is refused in its field, and nothing is saved.
    expect(
      await driver.submit(
        'TA',
        id,
        fields({
          channel: 'CSTALE',
          account: ids.prod,
          keys: ['port-open'],
          targets: [5],
          targetsOf: ids.lab,
        }),
      ),
    ).toEqual({
      response_action: 'errors',
      errors: {
        [targetsBlockId(ids.lab)]: 'These targets were picked in another Halo account: pick this account’s.',
      },
    });
    for (const account of ['lab', 'prod'])
      expect(await people.slash('TA', `subscriptions account:${account}`, 'CSTALE')).not.toContain(
        'port-open',
      );
  });

  it('refuses a forged account ID (another workspace’s, or none) in the field, and saves nothing', async () => {
    const { id } = await driver.openFrom('TA', 'subscribe', 'CFORGED');
    for (const forged of [ids.beta, 'no-such-account']) {
      expect(
        await driver.submit('TA', id, fields({ channel: 'CFORGED', account: forged, keys: ['port-open'] })),
      ).toEqual({
        response_action: 'errors',
        errors: { [DIALOG_IDS.account]: NO_SUCH_ACCOUNT },
      });
    }
    expect(
      await driver.submit('TA', id, fields({ channel: 'CFORGED', account: '', keys: ['port-open'] })),
    ).toEqual({
      response_action: 'errors',
      errors: { [DIALOG_IDS.account]: 'Pick a Halo account from the list.' },
    });
    // A forged pick on a field change asks no Halo and updates nothing; its options request gets none.
    const refusals = () =>
      bot.logs.filter((line) => line.includes('its account is not one of this workspace')).length;
    const seen = refusals();
    const before = fakes.slack.modals.length;
    const asked = fakes.halo.requests.length;
    await driver.send(
      'TA',
      modalActionPayload({
        userId: 'UADMIN',
        modal: driver.current(id, fields({ account: ids.beta, keys: ['port-open'] })),
        actionId: DIALOG_IDS.account,
        action: { type: 'static_select', selected_option: option(ids.beta) },
      }),
    );
    const suggested = await driver.send(
      'TA',
      blockSuggestionPayload({
        userId: 'UADMIN',
        modal: driver.current(id, fields({ account: ids.beta })),
        actionId: DIALOG_IDS.targets,
        blockId: DIALOG_IDS.targets,
        value: '',
      }),
    );
    expect(suggested).toEqual({ options: [] });
    await until('both forged picks refused', () => Promise.resolve(refusals() >= seen + 2));
    // No preview total (one entry) and no catalogue read; the polls go on meanwhile.
    const previews = fakes.halo.requests
      .slice(asked)
      .filter((r) => r.query.get('limit') === '1' || r.path.endsWith('/types.json'));
    expect(previews).toEqual([]);
    expect(fakes.slack.modals.slice(before).filter((c) => c.method === 'views.update')).toEqual([]);
    for (const team of ['TA', 'TB'])
      for (const account of team === 'TA' ? ['lab', 'prod'] : ['prod'])
        expect(await people.slash(team, `subscriptions account:${account}`, 'CFORGED')).not.toContain(
          'port-open',
        );
  });

  it('App Home’s New subscription opens it with the account field', async () => {
    const before = fakes.slack.modals.length;
    const home = await people.home('TA');
    const blocks = (home.args.view as { blocks: unknown[] }).blocks;
    await driver.send(
      'TA',
      homeClickPayload({ actionId: ACTION_IDS.homeNewSubscription, value: '', userId: 'UADMIN', blocks }),
    );
    const opened = modalOf(
      await fakes.slack.waitFor(() =>
        fakes.slack.modals.slice(before).find((c) => c.method === 'views.open'),
      ),
    );
    expect(block(opened, DIALOG_IDS.account)!.element.options).toEqual([
      option(ids.lab, 'lab'),
      option(ids.prod, 'prod'),
    ]);
  });
  it('App Home’s Edit opens it in the subscription’s account, which it names and keeps', async () => {
    const home = await people.home('TA');
    const blocks = (home.args.view as { blocks: { accessory?: unknown; elements?: unknown[] }[] }).blocks;
    const buttons = blocks.flatMap((b) => [
      ...(b.elements ?? []),
      ...(b.accessory === undefined ? [] : [b.accessory]),
    ]) as {
      action_id: string;
      value?: string;
    }[];
    const edit = buttons.find(
      (b) => b.action_id === ACTION_IDS.homeEditSubscription && b.value?.startsWith('CLAB:'),
    )!;
    const before = fakes.slack.modals.length;
    await driver.send(
      'TA',
      homeClickPayload({ actionId: edit.action_id, value: edit.value!, userId: 'UADMIN', blocks }),
    );
    const opened = modalOf(
      await fakes.slack.waitFor(() =>
        fakes.slack.modals.slice(before).find((c) => c.method === 'views.open'),
      ),
    );
    expect(block(opened, DIALOG_IDS.account)).toEqual({
      type: 'context',
      block_id: DIALOG_IDS.account,
      elements: [
        { type: 'mrkdwn', text: 'Halo account: *lab* (an edit stays in its account)', verbatim: true },
      ],
    });
    expect(typeKeys(opened)).toEqual(['port-open', 'lab-only']);
    expect(JSON.parse(opened.private_metadata)).toEqual({ a: ids.lab, e: edit.value });
  });
});

describe('the subscribe dialog in a workspace of one account', () => {
  it('has no account field, as before accounts', async () => {
    const { id, view } = await driver.openFrom('TB', 'subscribe', 'CBETA');
    expect(view.blocks.map((b) => b.block_id)).toEqual([
      DIALOG_IDS.channel,
      DIALOG_IDS.types,
      DIALOG_IDS.targets,
      DIALOG_IDS.severity,
      DIALOG_IDS.preview,
    ]);
    // A's account ID in B's dialog is refused: B's own is the only one there.
    expect(
      await driver.submit('TB', id, fields({ channel: 'CBETA', account: ids.prod, keys: ['port-open'] })),
    ).toEqual({
      response_action: 'errors',
      errors: { [DIALOG_IDS.account]: NO_SUCH_ACCOUNT },
    });
    expect(await driver.submit('TB', id, fields({ channel: 'CBETA', keys: ['port-open'] }))).toMatchObject({
      response_action: 'update',
    });
    await fakes.slack.waitFor(() =>
      visibleText({ blocks: fakes.slack.openModals.get(id)!.view.blocks }).includes('Subscribed'),
    );
    expect(await people.slash('TB', 'subscriptions', 'CBETA')).toContain('port-open');
  });

  it('answered each request once, and none failed', () => {
    expect(bot.logs.join('\n')).not.toMatch(/a listener failed|unknown action|ack\(\) already/i);
  });
});
