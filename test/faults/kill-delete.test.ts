// kill -9 while a Delete button's call to Halo hangs; restart; the user clicks again.
import { describe, expect, it } from 'vitest';
import { DELETE_ACTION_ID } from '../../src/slack/blocks/index.ts';
import { waitFor } from '../harness.ts';
import {
  ADMIN,
  ALERTS,
  completedPolls,
  countAlerts,
  countsRow,
  expectCounts,
  kill9,
  logMatch,
  markupProblems,
  record,
  ROOMY,
  scenarioPerTest,
  to,
} from './scenario.ts';

const scenario = scenarioPerTest();

const variants = [
  { name: 'Halo never got the delete', processed: false, answer: /deleted by <@UADMIN>/ },
  { name: 'Halo deleted it, the answer hung', processed: true, answer: /already deleted in Halo/ },
];

describe('kill -9 during a delete, restart, click again', ROOMY, () => {
  for (const variant of variants) {
    it(variant.name, async (context) => {
      const s = scenario.current;
      const { halo, slack } = await s.start();
      halo.addEvent();
      const env = s.env({ HALO_ADMIN_USERS: ADMIN, HALO_TIMEOUT_SECONDS: '30' });
      const first = await s.spawn(env);
      await logMatch(first, /poll: baseline recorded/);
      const target = halo.addEvent({ subject: 'Delete me' });
      const post = await slack.waitFor(() => slack.posts[0], 20_000);

      let deletes = 0;
      halo.fault = (req) => {
        if (!req.path.endsWith('/event/delete.json')) return undefined;
        deletes++;
        if (variant.processed) halo.events = halo.events.filter((e) => e.event_id !== target.event_id);
        return { kind: 'hang' };
      };
      const click = await s.click(first, { actionId: DELETE_ACTION_ID, value: target.event_id, post });
      expect(click.ack.status).toBe(200);
      await waitFor('the delete reaching Halo', () => deletes > 0);
      const meanwhile = halo.addEvent({ subject: 'Arrived during the delete' });
      await kill9(first);
      halo.fault = undefined;

      const second = await s.spawn(env);
      const again = await s.click(second, { actionId: DELETE_ACTION_ID, value: target.event_id, post });
      expect(again.ack.status).toBe(200);
      const answer = await s.response(again.responseId);
      expect(answer.replace_original).toBe(true);
      expect(String(answer.text)).toMatch(variant.answer);
      expect(markupProblems(answer, [ADMIN])).toEqual([]);
      expect(halo.events.some((e) => e.event_id === target.event_id)).toBe(false);

      await slack.waitFor(() => slack.posts.length >= 2, 20_000);
      await completedPolls(second, 2);
      const counts = countAlerts(slack.posts, to(ALERTS, target, meanwhile));
      record(context, {
        area: 'Process',
        fault: `kill -9 during a delete (${variant.name})`,
        behaviour: `second click answered "${variant.processed ? 'already deleted in Halo' : 'Deleted by'}"; alerts intact`,
        ...countsRow(counts),
        kills: 1,
      });
      expectCounts(counts, 1);
    });
  }
});
