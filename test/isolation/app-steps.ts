/**
 * The app-level isolation suite's steps: random signed requests from a user of workspace A. Honest ones act on
 * A's own objects; forged ones aim at workspace B's: B's event IDs and account IDs in button values (the very
 * buttons B was shown), B's channel IDs, B's account names, a subscribe dialog naming B's account, mismatched
 * team/enterprise fields, a replay of one of B's signed requests, B's response_url in A's request. Each step
 * says which workspace it resolves to (its actor: the only one it may touch) and what ends it.
 */
import {
  blockActionBody,
  buttonClickPayload,
  eventCallbackBody,
  homeClickPayload,
  slashCommandBody,
  viewSubmissionPayload,
} from '../../fakes/sign.ts';
import { DISCONNECT_ACTION_ID } from '../../src/slack/blocks/accounts-message.ts';
import { ACTION_IDS, encodeAckValue, encodeDeleteValue } from '../../src/slack/blocks/payloads.ts';
import {
  DIALOG_IDS,
  encodeAccountOption,
  encodeDialogMetadata,
} from '../../src/slack/blocks/dialog-payloads.ts';
import type { Shown } from './app-shown.ts';
import { commandFrom, stampPayload, type AppWorld, type WorkspaceFixture } from './app-world.ts';

/** What ends a step: its answer on its response_url, a Home published, a dialog's update, or a quiet bot. */
export type Done =
  | { readonly kind: 'response'; readonly id: string }
  | { readonly kind: 'publish'; readonly user: string }
  | { readonly kind: 'submission'; readonly viewId: string }
  | { readonly kind: 'refused' }
  | { readonly kind: 'quiet' };

export interface Sent {
  readonly name: string;
  /** The workspace it resolves to (as Bolt's authorize reads a request); null: none (it must be refused). */
  readonly actor: WorkspaceFixture | null;
  /** The workspace it aims at, for a forged step. */
  readonly victim: WorkspaceFixture | null;
  readonly body: string;
  readonly json: boolean;
  readonly timestamp: number;
  readonly done: Done;
  /** The response_url IDs the request carries (the only ones the bot may answer on). */
  readonly responseIds: readonly string[];
}

let counter = 0;

export function randomStep(world: AppWorld, random: () => number, history: readonly Sent[]): Sent {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const { workspaces, fakes } = world;
  const a = pick(workspaces);
  const b = pick(workspaces.filter((w) => w !== a));
  const user = random() < 0.85 ? pick(a.admins) : a.member;
  const own = pick(a.accounts);
  const theirs = pick(b.accounts);
  const id = `step-${++counter}`;
  const url = fakes.slack.responseUrl(id);
  const now = Math.floor(Date.now() / 1000);
  const step = (
    name: string,
    body: string,
    done: Done,
    over: Partial<Pick<Sent, 'actor' | 'victim' | 'json' | 'responseIds'>> = {},
  ): Sent => ({
    name,
    actor: a,
    victim: null,
    json: false,
    timestamp: now,
    done,
    responseIds: [id],
    body,
    ...over,
  });
  const command = (text: string, channel = pick(a.channels), responseUrl = url) =>
    commandFrom(a, { text, user, channel, responseUrl });
  const answered = { kind: 'response', id } as const;

  const click = (button: Shown, over: { channel?: string } = {}): { body: string; done: Done } => {
    if (button.on === 'home') {
      const payload = stampPayload(
        homeClickPayload({ actionId: button.actionId, value: button.value ?? '', userId: user }),
        a,
      );
      const publishes = [ACTION_IDS.homeUnmute, ACTION_IDS.homeUnsubscribe, ACTION_IDS.homePage] as string[];
      return {
        body: blockActionBody(payload),
        done: publishes.includes(button.actionId) ? { kind: 'publish', user } : { kind: 'quiet' },
      };
    }
    const payload = buttonClickPayload({
      actionId: button.actionId,
      value: button.value ?? '',
      userId: user,
      channelId: over.channel ?? pick(a.channels),
      responseUrl: url,
      messageTs: button.messageTs ?? '1700000000.000100',
      messageBlocks: button.blocks ?? [],
      ...(button.color === undefined ? {} : { messageColor: button.color }),
      ...(button.selected === undefined ? {} : { selected: button.selected }),
    });
    return { body: blockActionBody(stampPayload(payload, a)), done: answered };
  };

  /**
   * The subscribe dialog's submission, in `account` (by ID) for `channel`: named by its metadata, or, half the
   * time, picked in its account field (a workspace of several accounts has one).
   */
  const dialog = (account: string, channel: string): { body: string; done: Done } => {
    const viewId = `VSUB${counter}`;
    const inField = random() < 0.5;
    const payload = viewSubmissionPayload({
      userId: user,
      modal: {
        id: viewId,
        hash: 'h',
        view: {
          type: 'modal',
          callback_id: DIALOG_IDS.callback,
          private_metadata: encodeDialogMetadata({ editing: null, ...(inField ? {} : { account }) }),
          blocks: [],
          title: { type: 'plain_text', text: 'Subscribe' },
        },
        values: {
          [DIALOG_IDS.channel]: {
            [DIALOG_IDS.channel]: { type: 'conversations_select', selected_conversation: channel },
          },
          ...(inField
            ? {
                [DIALOG_IDS.account]: {
                  [DIALOG_IDS.account]: {
                    type: 'static_select',
                    selected_option: { value: encodeAccountOption(account) },
                  },
                },
              }
            : {}),
          [DIALOG_IDS.severity]: {
            [DIALOG_IDS.severity]: { type: 'static_select', selected_option: { value: 'high' } },
          },
        },
      },
    });
    return { body: blockActionBody(stampPayload(payload, a)), done: { kind: 'submission', viewId } };
  };

  const roll = random();
  // Honest (about 45%).
  if (roll < 0.45) {
    const honest = Math.floor(random() * 12);
    switch (honest) {
      case 0:
        return step('events', command(`events account:${own.name}`), answered);
      case 1:
        return step('event (own)', command(`event ${pick(own.eventIds)} account:${own.name}`), answered);
      case 2:
        return step('subscriptions', command('subscriptions'), answered);
      case 3:
        return step('mutes', command('mutes'), answered);
      case 4:
        return step('accounts', command('accounts'), answered);
      case 5:
        return step('mute', command(`mute key:port-open for:1h account:${own.name}`, own.channel), answered);
      case 6:
        return step('unmute', command(`unmute ${1 + Math.floor(random() * 12)}`), answered);
      case 7:
        return step(
          'subscribe',
          command(`subscribe severity:high account:${own.name}`, own.channel),
          answered,
        );
      case 8:
        return step('disconnect (asks)', command(`disconnect ${own.name}`), answered);
      case 9: {
        const body = eventCallbackBody(
          { type: 'app_home_opened', user, channel: 'DHOME', tab: 'home' },
          {
            teamId: a.teamId,
            ...(a.enterpriseId === null ? {} : { enterpriseId: a.enterpriseId }),
            isEnterpriseInstall: a.orgWide,
          },
        );
        return step('home opened', body, { kind: 'publish', user }, { json: true, responseIds: [] });
      }
      case 10: {
        const { body, done } = dialog(own.id, own.channel);
        return step('dialog (own account)', body, done, { responseIds: [] });
      }
      default: {
        // Never the disconnect confirmation: the fixtures keep their accounts.
        const shown = random() < 0.5 ? a.alerts : a.buttons;
        const buttons = shown.filter((x) => x.actionId !== DISCONNECT_ACTION_ID);
        if (buttons.length === 0) return step('types', command(`types account:${own.name}`), answered);
        const button = pick(buttons);
        const { body, done } = click(button, button.channel === undefined ? {} : { channel: button.channel });
        return step(
          `click ${button.actionId} (own)`,
          body,
          done,
          button.on === 'home' ? { responseIds: [] } : {},
        );
      }
    }
  }
  const forged = { victim: b } as const;
  const forgery = Math.floor(random() * 15);
  switch (forgery) {
    case 0:
    case 1:
    case 2: {
      const shown = random() < 0.5 ? b.alerts : b.buttons;
      if (shown.length === 0) break;
      const button = pick(shown);
      // In A's channel, or in the very channel of B's message.
      const channel = random() < 0.5 || button.channel === undefined ? pick(a.channels) : button.channel;
      const { body, done } = click(button, { channel });
      return step(`forged click ${button.actionId} of B`, body, done, {
        ...forged,
        ...(button.on === 'home' ? { responseIds: [] } : {}),
      });
    }
    case 12: {
      // B's event ID in a Delete or Acknowledge value of A's own account: asked of A's Halo, recorded in A's rows.
      const event = pick(theirs.eventIds);
      const actionId = random() < 0.5 ? ACTION_IDS.deleteEvent : ACTION_IDS.acknowledge;
      const value = (actionId === ACTION_IDS.deleteEvent ? encodeDeleteValue : encodeAckValue)(
        event,
        own.id,
      )!;
      const template = a.buttons.find((x) => x.on === 'message' && x.actionId === actionId);
      const { body, done } = click({ ...(template ?? { on: 'message' }), actionId, value });
      return step(`B's event in A's ${actionId}`, body, done, forged);
    }
    case 3:
      return step(
        'forged event of B',
        command(`event ${pick(theirs.eventIds)} account:${random() < 0.5 ? own.name : theirs.name}`),
        answered,
        forged,
      );
    case 4:
      return step('forged events account:B', command(`events account:${theirs.name}`), answered, forged);
    case 5:
      return step(
        "forged command in B's channel",
        command(
          pick([
            `subscribe severity:high account:${own.name}`,
            `mute key:port-open for:1h account:${own.name}`,
            'subscriptions',
            'mutes',
            `unsubscribe ${1 + Math.floor(random() * 12)}`,
            `unmute ${1 + Math.floor(random() * 12)}`,
          ]),
          pick(b.channels),
        ),
        answered,
        forged,
      );
    case 6:
      return step('forged disconnect of B', command(`disconnect ${theirs.name}`), answered, forged);
    case 7: {
      const { body, done } = dialog(theirs.id, pick([...a.channels, ...b.channels]));
      return step("forged dialog in B's account", body, done, { ...forged, responseIds: [] });
    }
    case 8:
    case 14: {
      // Authoritative fields A's, the others B's: user.team_id, view/team enterprise, a Grid organisation.
      // Any button of A's (but its own disconnect confirmation) or of B's.
      const safe = [
        ...a.alerts,
        ...a.buttons.filter((x) => x.actionId !== DISCONNECT_ACTION_ID),
        ...b.alerts,
        ...b.buttons,
      ];
      if (safe.length === 0) break;
      // Mostly B's alert buttons: B's values with B's team where authorize does not look.
      const button = random() < 0.6 && b.alerts.length > 0 ? pick(b.alerts) : pick(safe);
      const { body, done } = click(button);
      const payload = JSON.parse(decodeURIComponent(body.slice('payload='.length))) as Record<
        string,
        unknown
      >;
      payload.user = { ...(payload.user as Record<string, unknown>), team_id: b.teamId };
      if (!a.orgWide && b.enterpriseId !== null) payload.enterprise = { id: b.enterpriseId, name: 'other' };
      return step('mismatched user.team_id/enterprise', blockActionBody(payload), done, {
        ...forged,
        ...(button.on === 'home' ? { responseIds: [] } : {}),
      });
    }
    case 9: {
      // A's team claiming B's organisation without an org-wide flag: A's own team install answers.
      if (a.orgWide || b.enterpriseId === null) break;
      const body = slashCommandBody({
        text: 'accounts',
        user_id: user,
        channel_id: pick(a.channels),
        team_id: a.teamId,
        enterprise_id: b.enterpriseId,
        is_enterprise_install: false,
        response_url: url,
      });
      return step("A's team under B's enterprise_id", body, answered, forged);
    }
    case 10: {
      // B's team_id with A's user and channel: it is B's request, and may touch nothing of A's.
      const body = commandFrom(b, {
        text: pick(['mutes', 'subscriptions', 'accounts']),
        user,
        channel: pick(a.channels),
        responseUrl: url,
      });
      return step("A's user and channel under B's team", body, answered, { actor: b, victim: a });
    }
    case 11: {
      const earlier = history.filter((h) => h.actor === b && h.responseIds.length > 0);
      if (earlier.length === 0) break;
      if (random() < 0.5) {
        // The very request again, signature and all: it acts as B (if at all), as it first did.
        const replay = pick(earlier);
        return { ...replay, name: `replay of B's ${replay.name.replace(/^replay of B's /, '')}`, victim: a };
      }
      // B's response_url in A's request: the answer is A's, on the URL A gave.
      const theirsUrl = fakes.slack.responseUrl(pick(earlier).responseIds[0]);
      const replayed = theirsUrl.slice(theirsUrl.lastIndexOf('/') + 1);
      return step(
        "B's response_url in A's request",
        command(pick(['accounts', 'mutes', 'subscriptions']), undefined, theirsUrl),
        {
          kind: 'response',
          id: decodeURIComponent(replayed),
        },
        { ...forged, responseIds: [decodeURIComponent(replayed)] },
      );
    }
    case 13: {
      // A workspace that never installed the app: refused before any listener runs.
      const body = slashCommandBody({
        text: 'accounts',
        user_id: user,
        channel_id: 'CNEVER',
        team_id: 'TNEVER',
        response_url: url,
      });
      return step('a workspace never installed', body, { kind: 'refused' }, { actor: null, victim: null });
    }
  }
  return step('types', command(`types account:${own.name}`), answered);
}
