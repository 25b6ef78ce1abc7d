// Halo not answering, or refusing the key, or answering slowly.
import { describe, it } from 'vitest';
import { FAST_DELAYS } from '../harness.ts';
import { haloOutage, type HaloOutage } from './halo-outage.ts';
import { onList, ROOMY, scenarioPerTest } from './scenario.ts';

const scenario = scenarioPerTest();
let realKey = '';

const outages: HaloOutage[] = [
  {
    fault: 'connection reset',
    apply: (s) => (s.fakes.halo.fault = onList({ kind: 'reset' })),
    clear: (s) => (s.fakes.halo.fault = undefined),
    // /halo status names the setting to check: a refused or reset connection is most often a wrong URL.
    lastError:
      /could not be reached: .*; check HALO_API_URL: its host and port, and does it end in \/api\/v1\?/,
  },
  {
    fault: 'request hangs (HALO_TIMEOUT_SECONDS=1)',
    env: { HALO_TIMEOUT_SECONDS: '1' },
    apply: (s) => (s.fakes.halo.fault = onList({ kind: 'hang' })),
    clear: (s) => (s.fakes.halo.fault = undefined),
    lastError: /timed out/,
  },
  {
    fault: 'API key rejected (HTTP 401)',
    apply: (s) => {
      realKey = s.fakes.halo.apiKey;
      s.fakes.halo.apiKey = 'a-key-the-bot-does-not-have';
    },
    clear: (s) => (s.fakes.halo.apiKey = realKey),
    lastError: /rejected the API key/,
    // The account then needs a new key: one notice, and Halo asked again hourly (shortened here).
    env: { TEST_DELAYS: `${FAST_DELAYS},needsKeyPoll=300` },
    notice: /key/i,
  },
  {
    fault: 'slow responses (1.5 s each, under the timeout)',
    env: { HALO_TIMEOUT_SECONDS: '5' },
    apply: (s) => (s.fakes.halo.latencyMs = 1500),
    clear: (s) => (s.fakes.halo.latencyMs = 0),
    lastError: null,
  },
];

describe(
  'Halo unreachable, refusing or slow: the bot stays up, reports it, and posts the waiting events once',
  ROOMY,
  () => {
    for (const outage of outages) {
      it(outage.fault, (context) => haloOutage(context, scenario.current, outage));
    }
  },
);
