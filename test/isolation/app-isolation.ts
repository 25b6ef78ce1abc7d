/**
 * The app-level isolation suite's driver (issue 19, "Isolation: the part that must not fail"): random signed
 * requests (app-steps.ts) against the real bot of app-world.ts, and after each, oracles that read the fakes and
 * the store:
 * - every Slack Web API call the step made carried the token of the workspace the request resolved to, and named
 *   only that workspace's channels (or one the request itself named: Slack resolves a channel ID within the
 *   token's workspace, so a forged foreign ID reaches nothing);
 * - every Halo request carried a key of that workspace's accounts;
 * - the bot answered only on the response_url the request carried;
 * - nothing shown (answers, response_url posts, modals, App Home, messages) holds another workspace's event IDs,
 *   channel IDs, account names or IDs, key hints or hosts, unless the requester itself named it before;
 * - the store rows and the Halo events of the workspace a forged step aimed at are unchanged (after each forged
 *   step), and so are every bystander's (every `fingerprintEvery` steps).
 */
import { postToBot } from '../../fakes/sign.ts';
import { SIGNING_SECRET } from '../harness.ts';
import { randomStep, type Sent } from './app-steps.ts';
import { buttonsOf, remember } from './app-shown.ts';
import type { AppWorld, WorkspaceFixture } from './app-world.ts';
import { prng } from './world.ts';

export interface AppViolation {
  readonly step: number;
  readonly name: string;
  readonly what: string;
}

export interface AppRun {
  readonly seed: number;
  readonly steps: number;
  readonly forged: number;
  readonly ran: Record<string, number>;
  readonly violations: AppViolation[];
}

const REFUSAL = 'refused a request of a workspace that has not installed the app';

/** One workspace's rows as its views read them, and its accounts' events in Halo. */
async function fingerprint(world: AppWorld, w: WorkspaceFixture): Promise<string> {
  const { tenants } = world.bot.bot;
  // The workspace's own trail (its env-account scope: connects and disconnects), and each account's rows.
  const trail = await tenants.scoped({ workspace: w.key, account: 'env' }).recentAudit(10);
  const rows = await Promise.all(
    w.accounts.map(async (account) => {
      const view = tenants.scoped({ workspace: w.key, account: account.id });
      return Promise.all([
        view.subscriptions(),
        view.activeMutes(0),
        view.recentAudit(10),
        view.stats(),
        view.watchedEventIds(),
        view.eventMessages(account.eventIds),
        Promise.all(account.eventIds.map((id) => view.deletion(id))),
      ]);
    }),
  );
  const accounts = (await tenants.accounts(w.key)).map((a) => [a.id, a.name, a.apiKey, a.status]);
  const installation = (await tenants.installation(w.key))?.botToken ?? null;
  const halo = w.accounts.map((a) => a.halo.events.map((e) => e.event_id));
  return JSON.stringify([trail, rows, accounts, installation, halo]);
}

interface Mark {
  readonly calls: number;
  readonly halo: number;
  readonly responses: number;
  readonly logs: number;
}

async function settle(world: AppWorld, sent: Sent, mark: Mark): Promise<boolean> {
  const { slack } = world.fakes;
  const { done } = sent;
  const deadline = Date.now() + 10_000;
  let quietSince = Date.now();
  let last = -1;
  for (;;) {
    const total = slack.calls.length + slack.responses.length + world.fakes.halo.requests.length;
    if (total !== last) {
      last = total;
      quietSince = Date.now();
    }
    const finished =
      done.kind === 'response'
        ? slack.responses.slice(mark.responses).some((r) => r.id === done.id)
        : done.kind === 'publish'
          ? slack.calls
              .slice(mark.calls)
              .some((c) => c.method === 'views.publish' && c.args.user_id === done.user)
          : done.kind === 'submission'
            ? slack.calls
                .slice(mark.calls)
                .some((c) => c.method === 'views.update' && c.args.view_id === done.viewId)
            : done.kind === 'refused'
              ? world.bot.logs.slice(mark.logs).some((line) => line.includes(REFUSAL))
              : Date.now() - quietSince >= 40;
    if (finished) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, done.kind === 'quiet' ? 10 : 1));
  }
}

/** What the step made the bot do, read from the fakes since `mark`. */
function oracle(
  world: AppWorld,
  sent: Sent,
  mark: Mark,
  known: Map<WorkspaceFixture, Set<string>>,
): string[] {
  const problems: string[] = [];
  const { slack, halo } = world.fakes;
  const { actor } = sent;
  const calls = slack.calls.slice(mark.calls);
  const responses = slack.responses.slice(mark.responses);
  const named = (text: string) => sent.body.includes(text) || sent.body.includes(encodeURIComponent(text));
  if (actor === null) {
    if (calls.length + responses.length + halo.requests.length - mark.halo > 0)
      problems.push('a request of no installed workspace made the bot call Slack or Halo');
    return problems;
  }
  const mine = known.get(actor)!;
  for (const call of calls) {
    if (call.token !== actor.token)
      problems.push(
        `Slack ${call.method} with ${call.token === undefined ? 'no' : "another workspace's"} token`,
      );
    const channel = call.args.channel;
    if (
      typeof channel === 'string' &&
      /^C/.test(channel) &&
      !actor.channels.includes(channel) &&
      !mine.has(channel)
    )
      problems.push(`Slack ${call.method} to ${channel}, not a channel of ${actor.key}`);
  }
  const keys = new Set(actor.accounts.map((a) => a.apiKey));
  for (const request of halo.requests.slice(mark.halo))
    if (request.apiKey === undefined || !keys.has(request.apiKey))
      problems.push(`Halo ${request.path} with a key that is not ${actor.key}'s`);
  for (const response of responses)
    if (!sent.responseIds.includes(response.id))
      problems.push(`answered on a response_url the request did not carry (${response.id})`);
  const shown = [
    ...responses.map((r) => JSON.stringify(r.body)),
    ...calls.map((c) => JSON.stringify(c.args)),
  ].join('\n');
  for (const other of world.workspaces)
    if (other !== actor)
      for (const foreign of other.marks)
        if (shown.includes(foreign) && !named(foreign) && !mine.has(foreign))
          problems.push(`shown to ${actor.key}: ${foreign}, of ${other.key}`);
  return problems;
}

/** Runs `steps` random requests against the bot; every violation of the oracles is returned. */
export async function runAppIsolation(
  world: AppWorld,
  options: {
    steps: number;
    seed: number;
    fingerprintEvery?: number;
    onStep?: (step: number, sent: Sent, answers: readonly Record<string, unknown>[]) => void;
  },
): Promise<AppRun> {
  const random = prng(options.seed);
  const every = options.fingerprintEvery ?? 25;
  const history: Sent[] = [];
  const violations: AppViolation[] = [];
  const ran: Record<string, number> = {};
  const known = new Map(world.workspaces.map((w) => [w, new Set<string>()]));
  const prints = new Map<WorkspaceFixture, string>();
  for (const w of world.workspaces) prints.set(w, await fingerprint(world, w));
  let forged = 0;
  const { slack, halo } = world.fakes;
  for (let step = 1; step <= options.steps; step++) {
    const sent = randomStep(world, random, history);
    history.push(sent);
    if (history.length > 200) history.shift();
    ran[sent.name] = (ran[sent.name] ?? 0) + 1;
    if (sent.victim !== null) forged++;
    const fail = (what: string) => violations.push({ step, name: sent.name, what });
    const mark: Mark = {
      calls: slack.calls.length,
      halo: halo.requests.length,
      responses: slack.responses.length,
      logs: world.bot.logs.length,
    };
    const ack = await postToBot(world.bot.url, sent.body, {
      signingSecret: SIGNING_SECRET,
      timestampSec: sent.timestamp,
      ...(sent.json ? { contentType: 'application/json' } : {}),
    });
    if (ack.status !== 200) fail(`HTTP ${ack.status}`);
    const errors = (ack.json as { response_action?: string } | undefined)?.response_action === 'errors';
    const settled = (sent.done.kind === 'submission' && errors) || (await settle(world, sent, mark));
    if (!settled) fail(`no end seen (${sent.done.kind})`);
    if (sent.actor !== null) {
      // What the requester named is theirs to see again; what it was shown, it may click.
      const mine = known.get(sent.actor)!;
      for (const other of world.workspaces)
        for (const foreign of other.marks)
          if (sent.body.includes(foreign) || sent.body.includes(encodeURIComponent(foreign)))
            mine.add(foreign);
    }
    for (const what of oracle(world, sent, mark, known)) fail(what);
    if (ack.text !== '' && sent.actor !== null) {
      for (const other of world.workspaces)
        if (other !== sent.actor)
          for (const foreign of other.marks)
            if (ack.text.includes(foreign) && !known.get(sent.actor)!.has(foreign))
              fail(`acknowledged with ${foreign}, of ${other.key}`);
    }
    if (sent.actor !== null) harvest(world, sent.actor, mark);
    const checks = new Set<WorkspaceFixture>();
    if (sent.victim !== null && sent.victim !== sent.actor) checks.add(sent.victim);
    if (step % every === 0) for (const w of world.workspaces) if (w !== sent.actor) checks.add(w);
    for (const w of checks)
      if ((await fingerprint(world, w)) !== prints.get(w)) {
        fail(`${w.key}'s rows or Halo events changed`);
        prints.set(w, await fingerprint(world, w));
      }
    if (sent.actor !== null) prints.set(sent.actor, await fingerprint(world, sent.actor));
    options.onStep?.(
      step,
      sent,
      slack.responses.slice(mark.responses).map((r) => r.body),
    );
  }
  return { seed: options.seed, steps: options.steps, forged, ran, violations };
}

/** The buttons the step showed its workspace (answers, modals, its Home), for later steps to click. */
function harvest(world: AppWorld, w: WorkspaceFixture, mark: Mark): void {
  const { slack } = world.fakes;
  for (const response of slack.responses.slice(mark.responses)) {
    const body = response.body as {
      blocks?: unknown[];
      attachments?: { blocks?: unknown[]; color?: string }[];
    };
    const blocks = body.blocks ?? body.attachments?.[0]?.blocks ?? [];
    const color = body.attachments?.[0]?.color;
    remember(w, buttonsOf(blocks, { on: 'message', blocks, ...(color === undefined ? {} : { color }) }));
  }
  for (const call of slack.calls.slice(mark.calls))
    if (call.method === 'views.publish' && call.ok)
      remember(w, buttonsOf((call.args.view as { blocks?: unknown[] }).blocks, { on: 'home' }));
}
