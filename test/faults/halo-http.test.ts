// Halo answering badly: error statuses, an HTML page, truncated JSON, JSON of the wrong shape.
import { describe, it } from 'vitest';
import { haloOutage, type HaloOutage } from './halo-outage.ts';
import { onList, ROOMY, scenarioPerTest } from './scenario.ts';

const scenario = scenarioPerTest();

const GATEWAY_PAGE =
  '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>';
const ERROR_PAGE =
  '<!DOCTYPE html><html><head><title>Halo Security | Error</title></head><body><p>Something went wrong.</p></body></html>';
const TRUNCATED =
  '{"request":{"sort":0,"start":0},"pagination":{"total":5,"start":0,"limit":1000},"list":[{"event":{"event_id":"ev-1","subj';

const outages: HaloOutage[] = [
  {
    fault: 'HTTP 500 (Halo error body)',
    apply: (s) => (s.fakes.halo.fault = onList({ kind: 'status', status: 500 })),
    clear: (s) => (s.fakes.halo.fault = undefined),
    lastError: /HTTP 500/,
  },
  {
    fault: 'HTTP 502 with a gateway HTML page',
    apply: (s) => (s.fakes.halo.fault = onList({ kind: 'status', status: 502, body: GATEWAY_PAGE })),
    clear: (s) => (s.fakes.halo.fault = undefined),
    lastError: /HTTP 502/,
  },
  {
    fault: 'HTTP 503 + Retry-After: 0.3, 3 polls running',
    apply: (s) =>
      (s.fakes.halo.fault = onList({
        kind: 'status',
        status: 503,
        body: '',
        headers: { 'retry-after': '0.3' },
      })),
    clear: (s) => (s.fakes.halo.fault = undefined),
    lastError: /HTTP 503/,
    failures: 3,
  },
  {
    fault: 'HTML error page with HTTP 200',
    apply: (s) => (s.fakes.halo.fault = onList({ kind: 'body', body: ERROR_PAGE })),
    clear: (s) => (s.fakes.halo.fault = undefined),
    lastError: /HTML/,
  },
  {
    fault: 'truncated JSON',
    apply: (s) => (s.fakes.halo.fault = onList({ kind: 'body', body: TRUNCATED })),
    clear: (s) => (s.fakes.halo.fault = undefined),
    lastError: /not JSON/,
  },
  {
    fault: 'well-formed JSON of the wrong shape',
    apply: (s) =>
      (s.fakes.halo.fault = onList({ kind: 'body', body: '{"data":{"events":[]},"status":"ok"}' })),
    clear: (s) => (s.fakes.halo.fault = undefined),
    lastError: /"list"|list/,
  },
];

describe(
  'Halo answers badly: the bot stays up, backs off, reports it, and posts the waiting events once',
  ROOMY,
  () => {
    for (const outage of outages) {
      it(outage.fault, (context) => haloOutage(context, scenario.current, outage));
    }
  },
);
