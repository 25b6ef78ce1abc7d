/**
 * Issue 13's figures: what polling a million events costs, each beside its target. Pure: the runs are measured by
 * `run.ts`, this file only turns them into rows, so the targets live in one place.
 */

/** What `run.ts` measured for one account size (the subset this file reads). */
export interface SizeFigures {
  readonly events: number;
  readonly pollMs: readonly number[];
  readonly cpuMsPerPoll: number;
  readonly rssMb: number;
  /** `/halo types` acknowledgements that landed inside a scan, in ms; undefined when not measured. */
  readonly acksInScan?: readonly number[];
}

export interface FigureRow {
  readonly figure: string;
  readonly measured: string;
  readonly target: string;
  /** undefined: could not be measured. */
  readonly ok: boolean | undefined;
}

/**
 * The least a poll can take: every page is one request of `latencyMs`, `concurrency` at a time. A poll can be no
 * faster than this whatever the bot does, so each poll time reads as a ratio to it.
 */
export function networkFloorMs(
  events: number,
  pageSize: number,
  latencyMs: number,
  concurrency: number,
): number {
  return (Math.ceil(events / pageSize) * latencyMs) / concurrency;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const median = (values: readonly number[]): number => percentile(values, 50);

export function millionRows(
  hundredK: SizeFigures | undefined,
  million: SizeFigures | undefined,
  floor: (events: number) => number,
): FigureRow[] {
  const rows: FigureRow[] = [];
  const na = (figure: string, target: string): FigureRow => ({
    figure,
    measured: 'n/a',
    target,
    ok: undefined,
  });

  const rssFigure = 'resident memory after polling 1,000,000 events (bot VmRSS)';
  rows.push(
    million === undefined
      ? na(rssFigure, '≤ 200 MB')
      : {
          figure: rssFigure,
          measured: `${million.rssMb.toFixed(0)} MB`,
          target: '≤ 200 MB',
          ok: million.rssMb <= 200,
        },
  );

  const growthFigure = 'RSS growth from 100,000 to 1,000,000 events';
  if (million === undefined || hundredK === undefined) rows.push(na(growthFigure, '≤ +20 MB'));
  else {
    const growth = million.rssMb - hundredK.rssMb;
    rows.push({
      figure: growthFigure,
      measured: `${growth >= 0 ? '+' : ''}${growth.toFixed(0)} MB (${hundredK.rssMb.toFixed(0)} → ${million.rssMb.toFixed(0)} MB)`,
      target: '≤ +20 MB',
      ok: growth <= 20,
    });
  }

  const pollFigure = 'steady poll, 1,000,000 events at 20 ms/request, concurrency 4';
  if (million === undefined || million.pollMs.length === 0)
    rows.push(na(pollFigure, '≤ 1.25 × network floor'));
  else {
    const limit = floor(million.events);
    const worst = Math.max(...million.pollMs);
    rows.push({
      figure: pollFigure,
      measured:
        `${million.pollMs.map((ms) => (ms / 1000).toFixed(2)).join(', ')} s: max ${(worst / 1000).toFixed(2)} s ` +
        `= ${(worst / limit).toFixed(2)} × floor (${(limit / 1000).toFixed(1)} s)`,
      target: `≤ 1.25 × network floor (≤ ${((1.25 * limit) / 1000).toFixed(2)} s)`,
      ok: worst <= 1.25 * limit,
    });
  }

  const cpuFigure = 'bot CPU per steady poll, per 1,000 events (1,000,000 events)';
  if (million === undefined) rows.push(na(cpuFigure, '≤ 2 ms'));
  else {
    const perK = million.cpuMsPerPoll / (million.events / 1000);
    rows.push({
      figure: cpuFigure,
      measured: `${perK.toFixed(2)} ms (${(million.cpuMsPerPoll / 1000).toFixed(2)} s a poll)`,
      target: '≤ 2 ms',
      ok: perK <= 2,
    });
  }

  const ackFigure = '`/halo types` acknowledgement during 1,000,000-event scans, p99';
  const acks = million?.acksInScan;
  if (acks === undefined || acks.length === 0) rows.push(na(ackFigure, '≤ 20 ms'));
  else {
    const p99 = percentile(acks, 99);
    rows.push({
      figure: ackFigure,
      measured: `${p99.toFixed(1)} ms (p50 ${median(acks).toFixed(1)} ms, n=${acks.length}, max ${Math.max(...acks).toFixed(1)} ms)`,
      target: '≤ 20 ms',
      ok: p99 <= 20,
    });
  }
  return rows;
}
