/**
 * How many Slack requests the in-process bot is still working on. Bolt acknowledges first and works after (a
 * listener opens a modal, asks Halo, answers on the response_url once the HTTP answer is gone), so the end of a
 * step's HTTP exchange, or its answer, is not the end of its work: a call of step n seen after step n + 1 began
 * would be charged to n + 1's workspace. The receiver awaits `App.processEvent` until every listener has
 * returned, so counting the calls in progress tells when a step's listeners are done.
 *
 * The count wraps Bolt's prototype, once per process (vitest shares a worker's modules between files): it only
 * counts, and changes nothing the bot sees.
 */
import { App } from '@slack/bolt';

const WRAPPED = Symbol.for('halo-slack.test.processEventCount');

interface Counted {
  [WRAPPED]?: { pending: number };
}

export function trackListeners(): { readonly pending: number } {
  const proto = App.prototype as unknown as Counted & { processEvent: App['processEvent'] };
  const existing = proto[WRAPPED];
  if (existing !== undefined) return existing;
  const count = { pending: 0 };
  const original = proto.processEvent;
  proto.processEvent = async function (this: App, ...args: Parameters<App['processEvent']>) {
    count.pending++;
    try {
      return await original.apply(this, args);
    } finally {
      count.pending--;
    }
  };
  proto[WRAPPED] = count;
  return count;
}
