import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { signatureMismatchWarning } from '../../src/slack/signature-warning.ts';

describe('signatureMismatchWarning', () => {
  it('logs the first mismatch at once, naming SLACK_SIGNING_SECRET, then one line a minute with the count', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', secrets: [], write: (line) => lines.push(line) });
    let now = 1_000_000;
    const warn = signatureMismatchWarning(log, { now: () => now });

    warn();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      "rejected a Slack request: its signature does not match SLACK_SIGNING_SECRET. If Slack's own requests fail, " +
        'check SLACK_SIGNING_SECRET (your Slack app → Basic Information → Signing Secret) and restart',
    );
    expect(lines[0]).not.toContain('more since');

    for (let i = 0; i < 50; i++) {
      now += 1000;
      warn();
    }
    expect(lines, '50 more within 51 s').toHaveLength(1);
    now += 10_000;
    warn();
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('(50 more since the last such line, 60 s ago or more)');
    warn();
    expect(lines).toHaveLength(2);
  });
});
