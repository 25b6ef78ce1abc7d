/**
 * The demo's Halo: the fake Event API (fakes/halo.ts) fed with a story that looks like a real account's. Hosts
 * are scanned one after another (start, an issue or an open port, complete), an API key or a user is added now
 * and then, and every few rounds a burst of certificate warnings arrives at once, enough for a digest. Event keys
 * and shapes are those of Halo's Event API reference; account events carry the empty target (ID 0) Halo sends.
 *
 * The pace is injected (`stepMs`), so that the e2e test runs the same story in a few seconds.
 */
import { haloDate, type FakeHalo, type FakeHaloEvent } from '../fakes/halo.ts';

type Target = FakeHaloEvent['target'];

/** Reserved `.example` names: nothing in the demo can point at a real host. */
export const HOSTS: readonly Target[] = [
  { target_name: 'Marketing site', target_id: 101, target: 'www.acme.example' },
  { target_name: 'Customer API', target_id: 102, target: 'api.acme.example' },
  { target_name: 'VPN gateway', target_id: 103, target: 'vpn.acme.example' },
  { target_name: '', target_id: 104, target: 'mail.acme.example' },
];

/** The sites whose certificates expire together in a burst (one target each, none of them being scanned). */
const BURST_HOSTS = ['shop', 'blog', 'docs', 'status', 'careers', 'partners', 'events'].map(
  (name, i): Target => ({ target_name: '', target_id: 201 + i, target: `${name}.acme.example` }),
);

/** Account events (a user or a key) concern no target: Halo sends an empty one with ID 0. */
const NO_TARGET: Target = { target_name: '', target_id: 0, target: '' };

/** One step of the story: the events that appear in Halo at the same moment. */
export type Step = readonly { readonly key: string; readonly target: Target }[];

/**
 * Round `round` of the story, one step per entry: a scan of the round's host with what it found (a new issue,
 * then an open port, a risky certificate or a resolved issue), then an account change, and every third round a
 * burst of seven certificate warnings.
 */
export function storyRound(round: number): Step[] {
  const host = HOSTS[round % HOSTS.length]!;
  const finding = ['port-open', 'website-cert-risk', 'issue-resolved'][round % 3]!;
  const account = ['account-apikey-add', 'account-user-add', 'domain-add'][round % 3]!;
  const steps: Step[] = [
    [{ key: 'target-scan-start', target: host }],
    [{ key: 'issue-new', target: host }],
    [{ key: finding, target: host }],
    [{ key: 'target-scan-complete', target: host }],
    [
      {
        key: account,
        target: account === 'domain-add' ? BURST_HOSTS[round % BURST_HOSTS.length]! : NO_TARGET,
      },
    ],
  ];
  if (round % 3 === 2) steps.push(BURST_HOSTS.map((target) => ({ key: 'website-cert-expire', target })));
  return steps;
}

/**
 * What the account held before the demo started, hours ago: the bot records these as its baseline on its first
 * poll (posting only the newest few, `HALO_BACKFILL`), as it would on a real first start.
 */
export const HISTORY: readonly {
  readonly hoursAgo: number;
  readonly key: string;
  readonly target: Target;
}[] = [
  { hoursAgo: 30, key: 'target-scan-start', target: HOSTS[0]! },
  { hoursAgo: 29, key: 'target-scan-complete', target: HOSTS[0]! },
  { hoursAgo: 20, key: 'issue-resolved', target: HOSTS[1]! },
  { hoursAgo: 12, key: 'port-close', target: HOSTS[2]! },
  { hoursAgo: 6, key: 'account-user-add', target: NO_TARGET },
  { hoursAgo: 2, key: 'website-cert-risk', target: HOSTS[3]! },
  { hoursAgo: 1, key: 'account-apikey-add', target: NO_TARGET },
];

export interface SimulatorOptions {
  /** Time between two steps of the story. */
  readonly stepMs: number;
  readonly now?: () => number;
}

export interface Simulator {
  /** Steps taken so far (the first one is taken at once). */
  readonly steps: number;
  stop(): void;
}

/** Adds the demo account's history to `halo`, dated before `now`. Call before the bot's first poll. */
export function seedHistory(halo: FakeHalo, now: number): void {
  for (const { hoursAgo, key, target } of HISTORY) {
    halo.addEvent({ key, target, date_created: haloDate(now - hoursAgo * 3_600_000) });
  }
}

/** Plays the story into `halo`, one step every `stepMs`, until stopped. */
export function startSimulator(halo: FakeHalo, options: SimulatorOptions): Simulator {
  if (!Number.isFinite(options.stepMs) || options.stepMs < 1) {
    throw new RangeError(`Expected \`stepMs\` to be a finite number >= 1, got ${options.stepMs}`);
  }
  const now = options.now ?? Date.now;
  let round = 0;
  let queue: Step[] = [];
  let steps = 0;
  const take = (): void => {
    if (queue.length === 0) queue = storyRound(round++);
    const step = queue.shift()!;
    const date = haloDate(now());
    for (const { key, target } of step) halo.addEvent({ key, target, date_created: date });
    steps++;
  };
  take();
  const timer = setInterval(take, options.stepMs);
  return {
    get steps() {
      return steps;
    },
    stop: () => clearInterval(timer),
  };
}
