/**
 * Prints the fault report: one table of every fault test's row (`task.meta.fault`), at the end of any run
 * that included `test/faults`. Registered in vitest.config.ts beside the default reporter.
 */
import type { Reporter, TestCase, TestModule } from 'vitest/node';
import type { FaultRow } from './row.ts';

const FAULT_DIR = /[\\/]test[\\/]faults[\\/]/;
const AREAS = ['Halo', 'Slack', 'Database', 'Process', 'Input', 'Secrets'];

interface Line {
  readonly row: FaultRow;
  readonly state: string;
}

export default class FaultReporter implements Reporter {
  onTestRunEnd(testModules: readonly TestModule[]): void {
    const lines: Line[] = [];
    for (const module of testModules) {
      if (!FAULT_DIR.test(module.moduleId)) continue;
      for (const test of module.children.allTests()) lines.push(lineOf(test));
    }
    const order = (line: Line): number => {
      const at = AREAS.indexOf(line.row.area);
      return at === -1 ? AREAS.length : at;
    };
    // Stable: within an area, rows keep the order of their tests.
    lines.sort((a, b) => order(a) - order(b));
    if (lines.length > 0) process.stdout.write(renderReport(lines));
  }
}

function lineOf(test: TestCase): Line {
  const state = test.result().state;
  const row = test.meta().fault ?? {
    area: '?',
    fault: test.name,
    behaviour: state === 'skipped' ? '(skipped)' : '(no row recorded: the test failed before counting)',
    expected: null,
    delivered: null,
    duplicated: null,
  };
  return { row, state: state === 'passed' ? 'pass' : state === 'failed' ? 'FAIL' : state };
}

const num = (n: number | null | undefined): string => (n === null || n === undefined ? '–' : String(n));

export function renderReport(lines: readonly Line[]): string {
  const sum = (pick: (row: FaultRow) => number | null | undefined): number =>
    lines.reduce((total, { row }) => total + (pick(row) ?? 0), 0);
  const lost = (row: FaultRow): number | null =>
    row.expected === null || row.delivered === null ? null : row.expected - row.delivered;
  const header = [
    'Area',
    'Fault',
    'What the bot did',
    'Expected',
    'Delivered',
    'Lost',
    'Duplicated',
    'Failed*',
    'kill -9',
    'Secrets†',
    'Test',
  ];
  const rows = lines.map(({ row, state }) => [
    row.area,
    row.fault,
    row.behaviour,
    num(row.expected),
    num(row.delivered),
    num(lost(row)),
    num(row.duplicated),
    num(row.failed),
    num(row.kills),
    row.secrets === undefined ? '–' : row.secrets.leaks === 0 ? 'none' : `${row.secrets.leaks} LEAKED`,
    state,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const numeric = new Set([3, 4, 5, 6, 7, 8]);
  const format = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (numeric.has(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;

  const kills = sum((r) => r.kills);
  const excess = sum((r) => Math.max(0, (r.duplicated ?? 0) - (r.kills ?? 0)));
  const failedTests = lines.filter((l) => l.state === 'FAIL').length;
  const summary =
    `${lines.length} fault tests, ${failedTests} failing. Alerts: ${sum((r) => r.expected)} expected, ` +
    `${sum((r) => r.delivered)} delivered, ${sum(lost)} lost, ${sum((r) => r.duplicated)} duplicated ` +
    `(${excess} beyond the one allowed per kill -9; ${kills} kill -9 in all), ` +
    `${sum((r) => r.failed)} recorded as failed. Secrets leaked: ${sum((r) => r.secrets?.leaks)}.`;
  return [
    '',
    'Fault report',
    '',
    format(header),
    rule,
    ...rows.map(format),
    '',
    summary,
    'Lost = expected − delivered. * Failed: alerts Slack refused for good (a broken channel, a rejected message),',
    '  recorded as failed and shown in /halo status; not counted as expected. † Secrets: the API key, bot token',
    '  and signing secret searched for in every log line, Slack call and message, response_url body and HTTP',
    '  answer of the test; "none" = none found.',
    '',
  ].join('\n');
}
