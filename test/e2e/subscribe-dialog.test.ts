/**
 * The subscribe dialog as Slack drives it over HTTP: `/halo subscribe` alone opens a modal (views.open), the
 * targets field loads its options as the user types (block_suggestion), a change of the fields updates the
 * preview line (block_actions from the view, answered with views.update), and submitting (view_submission)
 * saves the subscription as the command would. Each request is signed as Slack signs it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appHomeOpenedBody,
  blockActionBody,
  homeClickPayload,
  blockSuggestionPayload,
  modalActionPayload,
  postToBot,
  viewSubmissionPayload,
  type ModalState,
} from '../../fakes/sign.ts';
import type { SlackCall } from '../../fakes/slack.ts';
import { ACTION_IDS } from '../../src/slack/blocks/payloads.ts';
import { DIALOG_IDS } from '../../src/slack/blocks/dialog-payloads.ts';
import {
  botEnv,
  inProcessBot,
  SIGNING_SECRET,
  startFakes,
  visibleText,
  waitFor,
  type Fakes,
  type InProcessBot,
} from '../harness.ts';
import { slackUser, text, type SlackUser } from './user.ts';

let fakes: Fakes;
let bot: InProcessBot;
let admin: SlackUser;

beforeAll(async () => {
  fakes = await startFakes();
  // One event before the first poll (the baseline: not posted), then two more of it and one of another type and
  // target, posted to CALERTS.
  fakes.halo.addEvent({
    key: 'port-open',
    target_id: 7,
    target: { target_name: '', target_id: 7, target: 'api.acme.example' },
  });
  bot = await inProcessBot(botEnv(fakes, { HALO_ADMIN_USERS: 'UADMIN' }));
  admin = slackUser(fakes, bot, 'UADMIN');
  await waitFor('the first poll', () => bot.logs.some((line) => line.includes('poll: baseline recorded')));
  for (let i = 0; i < 2; i++)
    fakes.halo.addEvent({
      key: 'port-open',
      target_id: 7,
      target: { target_name: '', target_id: 7, target: 'api.acme.example' },
    });
  fakes.halo.addEvent({ key: 'target-scan-start', target_id: 8 });
  // Logged once the alert is recorded as posted, which is what the dialog reads.
  await waitFor(
    'the alerts recorded',
    () => bot.logs.filter((line) => /alert posted.*\bkind\W+alert\b/.test(line)).length >= 3,
  );
});

afterAll(async () => {
  await bot.stop();
  await fakes.close();
});

const modalOf = (call: SlackCall) =>
  call.args.view as Record<string, unknown> & { blocks: Record<string, unknown>[] };

/** The modal Slack now shows for this view ID, with `values` as the user's fields hold them. */
function current(id: string, values: ModalState['values']): ModalState {
  const shown = fakes.slack.openModals.get(id)!;
  return { id, hash: shown.hash, view: shown.view, values };
}

async function send(payload: Record<string, unknown>) {
  const ack = await postToBot(bot.url, blockActionBody(payload), { signingSecret: SIGNING_SECRET });
  expect(ack.status).toBe(200);
  return ack;
}

const opened = async (): Promise<{ id: string; call: SlackCall }> => {
  const before = fakes.slack.modals.length;
  const answer = await admin.slash('subscribe', 'CSECOPS');
  expect(text(answer)).toContain('The subscribe dialog is open');
  const call = await fakes.slack.waitFor(() =>
    fakes.slack.modals.slice(before).find((c) => c.method === 'views.open'),
  );
  return { id: [...fakes.slack.openModals.keys()].at(-1)!, call };
};

function fieldValues(opts: {
  channel: string;
  keys: string[];
  targets: { id: number; label: string }[];
  severity?: string;
}) {
  const option = (value: string, label = value) => ({ text: { type: 'plain_text', text: label }, value });
  return {
    [DIALOG_IDS.channel]: {
      [DIALOG_IDS.channel]: { type: 'conversations_select', selected_conversation: opts.channel },
    },
    [DIALOG_IDS.types]: {
      [DIALOG_IDS.types]: { type: 'multi_static_select', selected_options: opts.keys.map((k) => option(k)) },
    },
    [DIALOG_IDS.targets]: {
      [DIALOG_IDS.targets]: {
        type: 'multi_external_select',
        selected_options: opts.targets.map((t) => option(String(t.id), t.label)),
      },
    },
    [DIALOG_IDS.severity]: {
      [DIALOG_IDS.severity]: {
        type: 'static_select',
        selected_option: opts.severity === undefined ? null : option(opts.severity),
      },
    },
  };
}

describe('the subscribe dialog', () => {
  it('round trip: opens in the channel typed in, suggests targets, previews, and saves as /halo subscribe', async () => {
    const { id, call } = await opened();
    const view = modalOf(call);
    expect(view.callback_id).toBe(DIALOG_IDS.callback);
    const channel = view.blocks.find((b) => b.block_id === DIALOG_IDS.channel) as {
      element: Record<string, unknown>;
    };
    expect(channel.element.initial_conversation).toBe('CSECOPS');
    // The event types are Halo's catalogue.
    const types = view.blocks.find((b) => b.block_id === DIALOG_IDS.types) as {
      element: { options: { value: string }[] };
    };
    expect(types.element.options.map((o) => o.value)).toContain('port-open');

    // Typing in the targets field: the targets of the events posted, and a typed ID.
    const empty = fieldValues({ channel: 'CSECOPS', keys: [], targets: [] });
    const suggest = async (value: string) =>
      (
        await send(
          blockSuggestionPayload({
            userId: 'UADMIN',
            modal: current(id, empty),
            actionId: DIALOG_IDS.targets,
            blockId: DIALOG_IDS.targets,
            value,
          }),
        )
      ).json as { options: { text: { text: string }; value: string }[] };
    expect((await suggest('acme')).options).toEqual([
      { text: { type: 'plain_text', text: 'api.acme.example (7)' }, value: '7' },
    ]);
    expect((await suggest('')).options.map((o) => o.value).sort()).toEqual(['7', '8']);
    expect((await suggest('4242')).options[0]).toEqual({
      text: { type: 'plain_text', text: 'Target 4242' },
      value: '4242',
    });

    // Picking a type and the target: the preview line follows.
    const picked = fieldValues({
      channel: 'CSECOPS',
      keys: ['port-open'],
      targets: [{ id: 7, label: 'api.acme.example (7)' }],
    });
    const before = fakes.slack.modals.length;
    const listsBefore = fakes.halo.listRequests().length;
    await send(
      modalActionPayload({
        userId: 'UADMIN',
        modal: current(id, picked),
        actionId: DIALOG_IDS.targets,
        action: {
          type: 'multi_external_select',
          selected_options: picked[DIALOG_IDS.targets][DIALOG_IDS.targets].selected_options,
        },
      }),
    );
    const update = await fakes.slack.waitFor(() =>
      fakes.slack.modals.slice(before).find((c) => c.method === 'views.update' && c.ok),
    );
    const preview = visibleText({
      blocks: modalOf(update).blocks.filter((b) => b.block_id === DIALOG_IDS.preview),
    });
    expect(preview).toMatch(
      /Halo holds 3 events of these types for these targets; 2 arrived in the last 7 days \(2 \w+\); latest: \*[^*]+\* on api\.acme\.example, \d+ min ago\./,
    );
    // One request of one entry for the one type-and-target pair: never a full listing.
    const asked = fakes.halo
      .listRequests()
      .slice(listsBefore)
      .filter((r) => r.query.get('limit') === '1');
    expect(asked.length).toBeGreaterThanOrEqual(1);
    // The fields keep what was picked.
    expect(JSON.stringify(modalOf(update).blocks)).toContain('"initial_options"');

    // Submitting: saved in the channel chosen, and the dialog shows the command's answer.
    const submit = await postToBot(
      bot.url,
      blockActionBody(viewSubmissionPayload({ userId: 'UADMIN', modal: current(id, picked) })),
      { signingSecret: SIGNING_SECRET },
    );
    expect(submit.status).toBe(200);
    expect((submit.json as { response_action: string }).response_action).toBe('update');
    const saved = await fakes.slack.waitFor(() =>
      fakes.slack.modals.find(
        (c) =>
          c.method === 'views.update' &&
          c.ok &&
          visibleText({ blocks: modalOf(c).blocks }).includes('Subscribed'),
      ),
    );
    expect(visibleText({ blocks: modalOf(saved).blocks })).toContain('port-open');
    expect(text(await admin.slash('subscriptions', 'CSECOPS'))).toMatch(/#1.*port-open.*target 7/s);
  });

  it('refuses a forged field with the field’s error, and saves nothing', async () => {
    const { id } = await opened();
    const forged = fieldValues({ channel: 'CSECOPS', keys: [], targets: [{ id: 0, label: 'x' }] });
    forged[DIALOG_IDS.targets][DIALOG_IDS.targets].selected_options = [
      { text: { type: 'plain_text', text: 'x' }, value: 'DROP' },
    ];
    const submit = await postToBot(
      bot.url,
      blockActionBody(viewSubmissionPayload({ userId: 'UADMIN', modal: current(id, forged) })),
      { signingSecret: SIGNING_SECRET },
    );
    expect(submit.json).toEqual({
      response_action: 'errors',
      errors: { [DIALOG_IDS.targets]: 'A target is not a valid ID; pick it again.' },
    });
  });

  it('applies the admin rule: a user not allowed gets the refusal, and no dialog', async () => {
    const before = fakes.slack.modals.length;
    const other = slackUser(fakes, bot, 'UOTHER');
    expect(text(await other.slash('subscribe', 'CSECOPS'))).toMatch(/not allowed/);
    expect(fakes.slack.modals.length).toBe(before);
    // And a forged submission from them saves nothing either: the command's own check.
    const { id } = await opened();
    const values = fieldValues({ channel: 'COTHER', keys: ['port-open'], targets: [] });
    await postToBot(
      bot.url,
      blockActionBody(viewSubmissionPayload({ userId: 'UOTHER', modal: current(id, values) })),
      {
        signingSecret: SIGNING_SECRET,
      },
    );
    const refused = await fakes.slack.waitFor(() =>
      fakes.slack.modals.find(
        (c) =>
          c.method === 'views.update' &&
          c.ok &&
          visibleText({ blocks: modalOf(c).blocks }).includes('not allowed'),
      ),
    );
    expect(refused).toBeDefined();
    expect(text(await admin.slash('subscriptions', 'COTHER'))).not.toContain('port-open');
  });

  it('App Home: New subscription opens it empty; Edit opens it filled in and saving replaces the subscription; Remove removes it', async () => {
    const home = await openHome();
    const buttons = homeButtons(home);
    const before = fakes.slack.modals.length;
    await clickHome(
      home,
      buttons.find((b) => b.action_id === ACTION_IDS.homeNewSubscription)!,
    );
    const fresh = await fakes.slack.waitFor(() =>
      fakes.slack.modals.slice(before).find((c) => c.method === 'views.open'),
    );
    expect(modalOf(fresh).title).toEqual({ type: 'plain_text', text: 'New subscription' });
    expect(JSON.stringify(modalOf(fresh).blocks)).not.toContain('initial_conversation');

    // Edit #1 (port-open on target 7, made in the round trip above).
    const edit = buttons.find(
      (b) => b.action_id === ACTION_IDS.homeEditSubscription && b.value === 'CSECOPS:1',
    )!;
    const opening = fakes.slack.modals.length;
    await clickHome(home, edit);
    const filled = await fakes.slack.waitFor(() =>
      fakes.slack.modals.slice(opening).find((c) => c.method === 'views.open'),
    );
    const view = modalOf(filled);
    expect(view.title).toEqual({ type: 'plain_text', text: 'Edit subscription' });
    expect(view.private_metadata).toBe('CSECOPS:1');
    const shown = JSON.stringify(view.blocks);
    expect(shown).toContain('"initial_conversation":"CSECOPS"');
    expect(shown).toMatch(
      /"initial_options":\[\{"text":\{"type":"plain_text","text":"[^"]*port-open[^"]*"\},"value":"port-open"\}\]/,
    );
    expect(shown).toContain(
      '"initial_options":[{"text":{"type":"plain_text","text":"api.acme.example (7)"},"value":"7"}]',
    );
    // The preview follows the opening.
    expect(visibleText({ blocks: view.blocks })).toContain('Computing the preview');
    const id = [...fakes.slack.openModals.keys()].at(-1)!;
    await fakes.slack.waitFor(() =>
      visibleText({ blocks: fakes.slack.openModals.get(id)!.view.blocks }).includes('Halo holds 3 events'),
    );

    const changed = fieldValues({
      channel: 'CSECOPS',
      keys: ['port-open'],
      targets: [{ id: 7, label: 'api.acme.example (7)' }],
      severity: 'info',
    });
    await postToBot(
      bot.url,
      blockActionBody(viewSubmissionPayload({ userId: 'UADMIN', modal: current(id, changed) })),
      {
        signingSecret: SIGNING_SECRET,
      },
    );
    await fakes.slack.waitFor(
      () =>
        fakes.slack.openModals.get(id)!.view.close !== undefined &&
        visibleText({ blocks: fakes.slack.openModals.get(id)!.view.blocks }).includes('Subscribed'),
    );
    const listed = text(await admin.slash('subscriptions', 'CSECOPS'));
    expect(listed).toMatch(/#2/);
    expect(listed).not.toMatch(/#1\b/);

    // Remove #2 from the App Home.
    const after = await openHome();
    const remove = homeButtons(after).find(
      (b) => b.action_id === 'halo_home_unsubscribe' && b.value === 'CSECOPS:2',
    )!;
    expect(remove).toBeDefined();
    await clickHome(after, remove);
    await waitFor('the removal', () =>
      bot.logs.some((line) => /subscription removed.*\bid\W+2\b/.test(line)),
    );
    expect(text(await admin.slash('subscriptions', 'CSECOPS'))).not.toMatch(/#2/);
  });
});

describe('the admin rule on the dialog’s own requests', () => {
  const refusals = () => bot.logs.filter((line) => line.includes('refused, user not allowed')).length;

  it('a non-admin’s forged App Home New subscription or Edit opens no dialog', async () => {
    const before = fakes.slack.modals.length;
    const seen = refusals();
    for (const [actionId, value] of [
      [ACTION_IDS.homeNewSubscription, ''],
      [ACTION_IDS.homeEditSubscription, 'CSECOPS:1'],
    ] as const)
      await send(homeClickPayload({ actionId, value, userId: 'UOTHER' }));
    await waitFor('both refused', () => refusals() >= seen + 2);
    expect(fakes.slack.modals.slice(before).filter((c) => c.method === 'views.open')).toEqual([]);
  });

  it('a non-admin’s forged field change asks Halo nothing and updates no view; their options request gets none', async () => {
    const { id } = await opened();
    const before = fakes.slack.modals.length;
    const listsBefore = fakes.halo.listRequests().length;
    const seen = refusals();
    const picked = fieldValues({ channel: 'CSECOPS', keys: ['port-open'], targets: [] });
    await send(
      modalActionPayload({
        userId: 'UOTHER',
        modal: current(id, picked),
        actionId: DIALOG_IDS.types,
        action: {
          type: 'multi_static_select',
          selected_options: picked[DIALOG_IDS.types][DIALOG_IDS.types].selected_options,
        },
      }),
    );
    const suggested = await send(
      blockSuggestionPayload({
        userId: 'UOTHER',
        modal: current(id, picked),
        actionId: DIALOG_IDS.targets,
        blockId: DIALOG_IDS.targets,
        value: 'acme',
      }),
    );
    expect(suggested.json).toEqual({ options: [] });
    await waitFor('both refused', () => refusals() >= seen + 2);
    const previews = fakes.halo
      .listRequests()
      .slice(listsBefore)
      .filter((r) => r.query.get('limit') === '1');
    expect(previews).toEqual([]);
    expect(fakes.slack.modals.slice(before).filter((c) => c.method === 'views.update')).toEqual([]);
  });
});

describe('an Edit while Halo is slow', () => {
  it('opens the dialog at once, and the preview follows by views.update', async () => {
    expect(text(await admin.slash('subscribe key:port-open', 'CSLOW'))).toContain('Subscribed');
    const subId = /#(\d+)/.exec(text(await admin.slash('subscriptions', 'CSLOW')))![1]!;
    // Every preview total takes 2.5 s: waiting for them before views.open would outlive the 3 s trigger ID.
    fakes.halo.fault = (req) =>
      req.path.endsWith('/list.json') && req.query.get('limit') === '1'
        ? { kind: 'delay', ms: 2500 }
        : undefined;
    try {
      const before = fakes.slack.modals.length;
      const click = homeClickPayload({
        actionId: ACTION_IDS.homeEditSubscription,
        value: `CSLOW:${subId}`,
        userId: 'UADMIN',
      });
      await send(click);
      const open = await fakes.slack.waitFor(() =>
        fakes.slack.modals.slice(before).find((c) => c.method === 'views.open'),
      );
      expect(visibleText({ blocks: modalOf(open).blocks })).toContain('Computing the preview');
      const id = [...fakes.slack.openModals.keys()].at(-1)!;
      const update = await fakes.slack.waitFor(() =>
        fakes.slack.modals
          .slice(before)
          .find((c) => c.method === 'views.update' && c.ok && c.args.view_id === id),
      );
      const preview = visibleText({
        blocks: modalOf(update).blocks.filter((b) => b.block_id === DIALOG_IDS.preview),
      });
      expect(preview).toMatch(/arrived in the last 7 days/);
      expect(preview).not.toContain('Computing');
    } finally {
      fakes.halo.fault = undefined;
    }
  });
});

describe('the per-user limit on previews', () => {
  it('charges each preview to HALO_COMMANDS_PER_MINUTE: over it, no Halo request and the line says so', async () => {
    const limited = await inProcessBot(
      botEnv(fakes, { HALO_ADMIN_USERS: 'UADMIN', HALO_COMMANDS_PER_MINUTE: '1' }),
    );
    try {
      const before = fakes.slack.modals.length;
      const home = homeClickPayload({
        actionId: ACTION_IDS.homeNewSubscription,
        value: '',
        userId: 'UADMIN',
      });
      await postToBot(limited.url, blockActionBody(home), { signingSecret: SIGNING_SECRET });
      await fakes.slack.waitFor(() =>
        fakes.slack.modals.slice(before).find((c) => c.method === 'views.open'),
      );
      const id = [...fakes.slack.openModals.keys()].at(-1)!;
      const previewOf = async (keys: string[]) => {
        const values = fieldValues({ channel: 'CSECOPS', keys, targets: [] });
        const updates = fakes.slack.modals.length;
        const payload = modalActionPayload({
          userId: 'UADMIN',
          modal: current(id, values),
          actionId: DIALOG_IDS.types,
          action: {
            type: 'multi_static_select',
            selected_options: values[DIALOG_IDS.types][DIALOG_IDS.types].selected_options,
          },
        });
        await postToBot(limited.url, blockActionBody(payload), { signingSecret: SIGNING_SECRET });
        const update = await fakes.slack.waitFor(() =>
          fakes.slack.modals.slice(updates).find((c) => c.method === 'views.update' && c.ok),
        );
        return visibleText({
          blocks: modalOf(update).blocks.filter((b) => b.block_id === DIALOG_IDS.preview),
        });
      };
      expect(await previewOf(['port-open'])).toContain('Halo holds');
      const listsBefore = fakes.halo.listRequests().length;
      expect(await previewOf(['target-scan-start'])).toMatch(/No preview: You asked 1 times in a minute/);
      expect(
        fakes.halo
          .listRequests()
          .slice(listsBefore)
          .filter((r) => r.query.get('limit') === '1'),
      ).toEqual([]);
    } finally {
      await limited.stop();
    }
  });
});

describe('editing at the cap', () => {
  it('replaces a channel’s only subscription when HALO_MAX_SUBSCRIPTIONS_PER_CHANNEL is 1', async () => {
    const capped = await inProcessBot(
      botEnv(fakes, { HALO_ADMIN_USERS: 'UADMIN', HALO_MAX_SUBSCRIPTIONS_PER_CHANNEL: '1' }),
    );
    try {
      const user = slackUser(fakes, capped, 'UADMIN');
      expect(text(await user.slash('subscribe key:port-open', 'CCAP'))).toContain('Subscribed');
      const before = fakes.slack.modals.length;
      const payload = homeClickPayload({
        actionId: ACTION_IDS.homeEditSubscription,
        value: 'CCAP:1',
        userId: 'UADMIN',
      });
      const ack = await postToBot(capped.url, blockActionBody(payload), { signingSecret: SIGNING_SECRET });
      expect(ack.status).toBe(200);
      await fakes.slack.waitFor(() =>
        fakes.slack.modals.slice(before).find((c) => c.method === 'views.open'),
      );
      const id = [...fakes.slack.openModals.keys()].at(-1)!;
      const values = fieldValues({ channel: 'CCAP', keys: ['port-open', 'target-scan-start'], targets: [] });
      await postToBot(
        capped.url,
        blockActionBody(viewSubmissionPayload({ userId: 'UADMIN', modal: current(id, values) })),
        { signingSecret: SIGNING_SECRET },
      );
      await fakes.slack.waitFor(() => {
        const shown = fakes.slack.openModals.get(id)!.view;
        return shown.submit === undefined && !JSON.stringify(shown.blocks).includes('Saving');
      });
      const result = visibleText({ blocks: fakes.slack.openModals.get(id)!.view.blocks });
      expect(result).toContain('Subscribed');
      const listed = text(await user.slash('subscriptions', 'CCAP'));
      expect(listed).toMatch(/#2.*target-scan-start/s);
      expect(listed).not.toMatch(/#1\b/);
    } finally {
      await capped.stop();
    }
  });
});

describe('the listeners', () => {
  it('answered each request once, and none failed', () => {
    expect(bot.logs.join('\n')).not.toMatch(/a listener failed|unknown action|ack\(\) already|multiple/i);
  });
});

async function openHome(): Promise<SlackCall> {
  const before = fakes.slack.views.length;
  const ack = await postToBot(bot.url, appHomeOpenedBody('UADMIN'), {
    signingSecret: SIGNING_SECRET,
    contentType: 'application/json',
  });
  expect(ack.status).toBe(200);
  return fakes.slack.waitFor(() => fakes.slack.views.slice(before).find((v) => v.args.user_id === 'UADMIN'));
}

function homeButtons(call: SlackCall): { action_id: string; value?: string }[] {
  const blocks = (call.args.view as { blocks: { accessory?: unknown; elements?: unknown[] }[] }).blocks;
  return blocks.flatMap((b) => [
    ...(b.elements ?? []),
    ...(b.accessory === undefined ? [] : [b.accessory]),
  ]) as {
    action_id: string;
    value?: string;
  }[];
}

async function clickHome(call: SlackCall, button: { action_id: string; value?: string }): Promise<void> {
  const blocks = (call.args.view as { blocks: unknown[] }).blocks;
  const payload = homeClickPayload({
    actionId: button.action_id,
    value: button.value ?? '',
    userId: 'UADMIN',
    blocks,
  });
  await send(payload);
}
