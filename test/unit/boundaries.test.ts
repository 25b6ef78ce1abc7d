import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import { boundaries } from '../../eslint.boundaries.js';

/**
 * The lint rules that hold the architecture's arrows (eslint.boundaries.js) run in `npm run lint` over the real
 * files; this checks that each does fail the imports it exists to stop, and lets the ones that are fine through.
 */
const linter = new Linter({ configType: 'flat' });
const config = [
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
  },
  ...boundaries,
] as Linter.Config[];

function problems(file: string, source: string): string[] {
  return linter.verify(source, config, { filename: file }).map((m) => m.message);
}

describe('architecture boundaries (eslint no-restricted-imports)', () => {
  it.each([
    ['src/pipeline/delivery.ts', `import { createSlackChat } from '../slack/slack-chat.ts';`],
    ['src/pipeline/outbox.ts', `import { renderDigest } from '../slack/blocks/index.ts';`],
    ['src/pipeline/delivery.ts', `import type { SlackMessage } from '../slack/blocks/types.ts';`],
    ['src/commands/service.ts', `import { renderAlert } from '../slack/blocks/alert.ts';`],
    ['src/commands/service.ts', `import { webApi } from '@slack/bolt';`],
    ['src/pipeline/poller.ts', `import { openSqliteStore } from '../store/sqlite.ts';`],
    ['src/commands/delete.ts', `import { PgStore } from '../store/postgres.ts';`],
    ['src/pipeline/poller.ts', `import { parseEventPage } from '../halo/response-parse.ts';`],
    ['src/commands/service.ts', `import { createHaloClient } from '../halo/client.ts';`],
    ['src/pipeline/poller.ts', `import { PageMemo } from '../halo/page-memo.ts';`],
    ['src/slack/blocks/alert.ts', `import type { KnownBlock } from '@slack/types';`],
    ['src/slack/blocks/alert.ts', `import { startBot } from '../../app.ts';`],
    ['src/domain/severity.ts', `import { readFileSync } from 'node:fs';`],
    ['src/domain/digest.ts', `import type { Store } from '../pipeline/store-port.ts';`],
    ['src/app.ts', `import { startFakeHalo } from '../fakes/halo.ts';`],
    ['src/slack/slack-chat.ts', `import { startDemo } from '../../demo/run.ts';`],
    ['src/pipeline/delivery.ts', `import { FAST } from '../../test/harness.ts';`],
    ['src/domain/digest.ts', `import type { FakeSlack } from '../../fakes/slack.ts';`],
    ['demo/run.ts', `import { botEnv } from '../test/harness.ts';`],
    ['fakes/slack.ts', `import { BenchBot } from '../bench/bot.ts';`],
  ])('%s may not: %s', (file, source) => {
    expect(problems(file, source)).toHaveLength(1);
  });

  it.each([
    ['src/pipeline/delivery.ts', `import type { Store } from './store-port.ts';`],
    ['src/pipeline/poller.ts', `import type { HaloClient } from '../halo/client.ts';`],
    ['src/pipeline/poll-steps.ts', `import type { PageMemo } from '../halo/page-memo.ts';`],
    ['src/commands/service.ts', `import { HaloError } from '../halo/errors.ts';`],
    ['src/pipeline/outbox.ts', `import { summarizeDigest } from '../domain/digest.ts';`],
    ['src/slack/slack-chat.ts', `import type { ChatPort } from '../pipeline/chat-port.ts';`],
    ['src/slack/blocks/digest-message.ts', `import type { DigestSummary } from '../../domain/digest.ts';`],
    ['src/app.ts', `import { openSqliteStore } from './store/sqlite.ts';`],
    ['demo/run.ts', `import { startBot } from '../src/app.ts';`],
    ['demo/run.ts', `import { startFakeHalo } from '../fakes/halo.ts';`],
    ['test/harness.ts', `import { startFakeHalo } from '../fakes/halo.ts';`],
  ])('%s may: %s', (file, source) => {
    expect(problems(file, source)).toEqual([]);
  });
});
