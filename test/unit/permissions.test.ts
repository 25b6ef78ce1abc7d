import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { createPermissionCheck } from '../../src/slack/permissions.ts';
import type { BotTeam } from '../../src/slack/web-client.ts';
import { startFakeSlack, TEAM_ID, type FakeSlack } from '../../fakes/slack.ts';

let slack: FakeSlack;
const lines: string[] = [];
const log = createLogger({ level: 'debug', secrets: [], write: (line) => lines.push(line) });
const clock = { now: () => Date.now() };

beforeAll(async () => {
  slack = await startFakeSlack({ token: 'xoxb-1' });
});
afterAll(() => slack.close());
beforeEach(() => {
  slack.users.clear();
  slack.calls.length = 0;
  lines.length = 0;
});

function check(team?: BotTeam, adminUsers: string[] = []) {
  const client = new webApi.WebClient('xoxb-1', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
  return createPermissionCheck({ adminUsers, client, clock, log, ...(team === undefined ? {} : { team }) });
}

describe('createPermissionCheck across organisations', () => {
  it('allows the admins and owners of the bot’s own workspace', async () => {
    slack.users.set('UADMIN', { is_admin: true });
    slack.users.set('UOWNER', { is_owner: true });
    slack.users.set('UMEMBER', {});
    const allowed = check({ teamId: TEAM_ID });
    expect([await allowed('UADMIN'), await allowed('UOWNER'), await allowed('UMEMBER')]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('denies an admin of another organisation (Slack Connect), and says so in the log', async () => {
    slack.users.set('UEXTERNAL', { is_admin: true, is_owner: true, team_id: 'TOTHER' });
    expect(await check({ teamId: TEAM_ID })('UEXTERNAL')).toBe(false);
    expect(lines.join('\n')).toMatch(
      /an admin of another workspace or organisation is no admin here.*UEXTERNAL/,
    );
  });

  it('denies when users.info answers about someone other than the user asked about', async () => {
    slack.users.set('UASKED', { is_admin: true, id: 'USOMEONEELSE' });
    expect(await check({ teamId: TEAM_ID })('UASKED')).toBe(false);
  });

  it('on Enterprise Grid, allows an admin of the same organisation from another of its workspaces', async () => {
    const grid = { teamId: TEAM_ID, enterpriseId: 'E1' };
    slack.users.set('UGRID', {
      is_admin: true,
      team_id: 'T2',
      enterprise_user: { id: 'UGRID', enterprise_id: 'E1' },
    });
    slack.users.set('UOTHERORG', {
      is_admin: true,
      team_id: 'T3',
      enterprise_user: { id: 'UOTHERORG', enterprise_id: 'E2' },
    });
    const allowed = check(grid);
    expect([await allowed('UGRID'), await allowed('UOTHERORG')]).toEqual([true, false]);
    // Without Grid, another workspace is another workspace.
    expect(await check({ teamId: TEAM_ID })('UGRID')).toBe(false);
  });

  it('asks auth.test for the bot’s team when start-up could not, and denies while Slack cannot say', async () => {
    slack.users.set('UADMIN', { is_admin: true });
    const allowed = check();
    expect(await allowed('UADMIN')).toBe(true);
    expect(slack.calls.filter((c) => c.method === 'auth.test')).toHaveLength(1);
    slack.fault = ({ method }) => (method === 'auth.test' ? { kind: 'status', status: 503 } : undefined);
    try {
      expect(await check()('UADMIN')).toBe(false);
    } finally {
      slack.fault = undefined;
    }
  });

  it('lets HALO_ADMIN_USERS decide alone, whatever team a listed user is in', async () => {
    slack.users.set('UEXTERNAL', { is_admin: true, team_id: 'TOTHER' });
    const listed = check({ teamId: TEAM_ID }, ['UEXTERNAL']);
    expect([await listed('UEXTERNAL'), await listed('UADMIN')]).toEqual([true, false]);
    expect(slack.calls.filter((c) => c.method === 'users.info')).toHaveLength(0);
  });
});
