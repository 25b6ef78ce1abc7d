import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { webApi } from '@slack/bolt';
import { systemClock } from '../../src/clock.ts';
import type { Logger } from '../../src/log.ts';
import { Delivery } from '../../src/pipeline/delivery.ts';
import type { Store } from '../../src/pipeline/store-port.ts';
import type { SlackMessage } from '../../src/slack/blocks/index.ts';
import { WorkspaceClients } from '../../src/slack/workspace-clients.ts';
import { startFakeSlack, type FakeSlack } from '../../fakes/slack.ts';
import { openSqliteStore } from '../stores.ts';

// Per-workspace Web API clients, and what a revoked bot token means for delivery end to end: Slack's
// invalid_auth makes that workspace's outbox wait; the reinstall (a new token) resumes it, nothing lost or repeated.

const quiet: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

let slack: FakeSlack;
const stores: Store[] = [];
const deliveries: Delivery<SlackMessage>[] = [];

beforeAll(async () => {
  slack = await startFakeSlack();
});
afterEach(async () => {
  await Promise.all(deliveries.splice(0).map((d) => d.stop(200)));
  await Promise.all(stores.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await slack.close();
});

/** Tokens as the registry would give them, by workspace; a test changes them as installs would. */
function registry(tokens: Record<string, string>): {
  tokens: Record<string, string>;
  lookups: string[];
  clients: WorkspaceClients;
} {
  const lookups: string[] = [];
  const clients = new WorkspaceClients({
    token: (workspace) => {
      lookups.push(workspace);
      return Promise.resolve(tokens[workspace] ?? null);
    },
    create: (token) =>
      new webApi.WebClient(token, {
        slackApiUrl: slack.apiUrl,
        retryConfig: { retries: 0 },
        logLevel: webApi.LogLevel.ERROR,
      }),
  });
  return { tokens, lookups, clients };
}

function install(teamId: string): string {
  const answer = slack.oauth.access({
    client_id: slack.oauth.clientId,
    client_secret: slack.oauth.clientSecret,
    code: slack.oauth.grant({ teamId }),
  });
  if (!answer.ok) throw new Error(answer.error);
  return answer.result.access_token as string;
}

describe('WorkspaceClients', () => {
  it('builds one client per workspace from its token, until the workspace is forgotten', async () => {
    const r = registry({ TA: install('TA') });
    const first = await r.clients.clientFor('TA');
    expect(await r.clients.clientFor('TA')).toBe(first);
    expect(r.lookups).toEqual(['TA']);
    r.clients.forget('TA');
    expect(await r.clients.clientFor('TA')).not.toBe(first);
    expect(r.lookups).toEqual(['TA', 'TA']);
    // No installation: no client, and nothing cached (an install later is seen at once).
    expect(await r.clients.clientFor('TB')).toBeNull();
    expect(await r.clients.clientFor('TB')).toBeNull();
    expect(r.lookups).toEqual(['TA', 'TA', 'TB', 'TB']);
  });

  it('answers auth.test with each token’s own team', async () => {
    const r = registry({ TA: install('TA'), TB: install('TB') });
    const a = await (await r.clients.clientFor('TA'))!.auth.test();
    const b = await (await r.clients.clientFor('TB'))!.auth.test();
    expect([a.team_id, b.team_id]).toEqual(['TA', 'TB']);
  });

  it('makes a workspace whose token Slack refuses wait, the other posting, and resumes it on reinstall', async () => {
    const r = registry({ TA: install('TA'), TB: install('TB') });
    const outboxes = { TA: openSqliteStore(':memory:'), TB: openSqliteStore(':memory:') };
    stores.push(outboxes.TA, outboxes.TB);
    const rows = (channel: string, names: string[]) =>
      names.map((name) => ({
        channel,
        kind: 'alert' as const,
        payload: '{}',
        dedupKey: `${channel}:${name}`,
      }));
    await outboxes.TA.route(rows('CA', ['a1', 'a2']), [], Date.now());
    await outboxes.TB.route(rows('CB', ['b1', 'b2']), [], Date.now());
    const revokedToken = r.tokens.TA!;
    slack.oauth.revoke(revokedToken);
    const deliveryOf = (workspace: 'TA' | 'TB') => {
      const delivery = new Delivery<SlackMessage>({
        store: outboxes[workspace],
        chat: r.clients.chatFor(workspace),
        clock: systemClock,
        log: quiet,
        render: (row) => ({ text: row.dedupKey, blocks: [] }),
        gapMs: 1,
        backoffMs: 600_000,
        backoffCapMs: 600_000,
        tickMs: 10,
      });
      deliveries.push(delivery);
      return delivery;
    };
    const a = deliveryOf('TA');
    const b = deliveryOf('TB');
    a.start();
    b.start();
    await slack.waitFor(() => a.waitingForToken() && slack.postsTo('CB').length === 2);
    expect(slack.postsTo('CB').map((p) => p.text)).toEqual(['CB:b1', 'CB:b2']);
    expect(slack.postsTo('CA')).toEqual([]);
    expect(await outboxes.TA.stats()).toMatchObject({ pending: 2, failed: 0 });
    // Slack was asked once, with the revoked token, and answered invalid_auth.
    const refused = slack.calls.filter((c) => c.token === revokedToken && c.method === 'chat.postMessage');
    expect(refused.map((c) => c.error)).toEqual(['invalid_auth']);

    // Installed again: a new token in the registry, the cached client forgotten, delivery resumed.
    r.tokens.TA = install('TA');
    r.clients.forget('TA');
    a.resume();
    await slack.waitFor(() => slack.postsTo('CA').length === 2);
    expect(slack.postsTo('CA').map((p) => p.text)).toEqual(['CA:a1', 'CA:a2']);
    const posts = slack.calls.filter(
      (c) => c.method === 'chat.postMessage' && c.args.channel === 'CA' && c.ok,
    );
    expect(new Set(posts.map((c) => c.token))).toEqual(new Set([r.tokens.TA]));
    // The fake sees the post before the delivery marks its row: wait for the mark.
    await expect.poll(() => outboxes.TA.stats()).toMatchObject({ pending: 0, failed: 0, delivered: 2 });
  });

  it('makes an uninstalled workspace (no token at all) wait like a revoked one', async () => {
    const r = registry({});
    const result = await r.clients.chatFor('TGONE').post('CX', { text: 'x', blocks: [] }, { dedupKey: 'k' });
    expect(result).toEqual({ ok: false, kind: 'revoked', error: 'not_installed' });
    expect(await r.clients.chatFor('TGONE').find('CX', 'k', 0)).toEqual({ unknown: 'not_installed' });
  });
});
