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

describe('architecture boundaries (eslint no-restricted-imports, one rule a folder)', () => {
  it.each([
    // The core: no adapter, no Slack SDK, no Node built-in, no adapter's package, no composition root.
    ['src/pipeline/delivery.ts', `import { createSlackChat } from '../slack/slack-chat.ts';`],
    ['src/pipeline/outbox.ts', `import { renderDigest } from '../slack/blocks/index.ts';`],
    ['src/pipeline/delivery.ts', `import type { SlackMessage } from '../slack/blocks/types.ts';`],
    ['src/commands/service.ts', `import { renderAlert } from '../slack/blocks/alert.ts';`],
    ['src/commands/service.ts', `import { webApi } from '@slack/bolt';`],
    ['src/pipeline/poller.ts', `import { openSqliteStore } from '../store/sqlite.ts';`],
    ['src/commands/delete.ts', `import { PgStore } from '../store/postgres.ts';`],
    ['src/pipeline/poller.ts', `import { parseEventPage } from '../halo/response-parse.ts';`],
    ['src/commands/service.ts', `import { createHaloClient } from '../halo/client.ts';`],
    ['src/pipeline/poller.ts', `import type { PageMemo } from '../halo/page-memo.ts';`],
    ['src/commands/delete.ts', `import { HaloApiError } from '../halo/errors.ts';`],
    ['src/pipeline/poller.ts', `import { request } from '../halo/transport.ts';`],
    ['src/pipeline/poller.ts', `import { request } from 'node:http';`],
    ['src/commands/listings.ts', `import ky from 'ky';`],
    ['src/pipeline/health.ts', `import type { Config } from '../config.ts';`],
    ['src/pipeline/health.ts', `import { startBot } from '../app.ts';`],
    ['src/pipeline/poller.ts', `const store = await import('../store/sqlite.ts');`],
    // The pure parts.
    ['src/slack/blocks/alert.ts', `import type { KnownBlock } from '@slack/types';`],
    ['src/slack/blocks/alert.ts', `import { startBot } from '../../app.ts';`],
    ['src/slack/blocks/alert.ts', `import { HaloApiError } from '../../halo/errors.ts';`],
    ['src/domain/severity.ts', `import { readFileSync } from 'node:fs';`],
    ['src/domain/digest.ts', `import type { Store } from '../pipeline/store-port.ts';`],
    ['src/domain/digest.ts', `import { createRedactor } from '../redact.ts';`],
    // The adapters: no other adapter, no core logic beyond their port, no composition root.
    ['src/halo/client.ts', `import type { Store } from '../store/sql-store.ts';`],
    ['src/halo/client.ts', `import { Poller } from '../pipeline/poller.ts';`],
    ['src/halo/client.ts', `import { CommandService } from '../commands/service.ts';`],
    ['src/halo/client.ts', `import type { Config } from '../config.ts';`],
    ['src/store/sql-store.ts', `import { createHaloClient } from '../halo/client.ts';`],
    ['src/store/sql-store.ts', `import { routeStaged } from '../pipeline/poll-steps.ts';`],
    ['src/store/sql-store.ts', `import type { HaloClient } from '../pipeline/halo-port.ts';`],
    ['src/halo/client.ts', `import type { Store } from '../pipeline/store-port.ts';`],
    ['src/store/open.ts', `import type { DatabaseConfig } from '../config.ts';`],
    ['src/slack/bolt-app.ts', `import { openSqliteStore } from '../store/sqlite.ts';`],
    ['src/slack/listeners/actions.ts', `import { HaloApiError } from '../../halo/errors.ts';`],
    ['src/slack/bolt-app.ts', `import { startBot } from '../app.ts';`],
    // The kernel imports no layer.
    ['src/log.ts', `import { Poller } from './pipeline/poller.ts';`],
    ['src/redact.ts', `import { renderAlert } from './slack/blocks/alert.ts';`],
    // Nothing in src/ imports the stand-ins, the demo, the tests or the bench; the demo imports no test.
    ['src/app.ts', `import { startFakeHalo } from '../fakes/halo.ts';`],
    ['src/slack/slack-chat.ts', `import { startDemo } from '../../demo/run.ts';`],
    ['src/pipeline/delivery.ts', `import { FAST } from '../../test/harness.ts';`],
    ['src/domain/digest.ts', `import type { FakeSlack } from '../../fakes/slack.ts';`],
    ['demo/run.ts', `import { botEnv } from '../test/harness.ts';`],
    ['fakes/slack.ts', `import { BenchBot } from '../bench/bot.ts';`],
  ])('%s may not: %s', (file, source) => {
    expect(problems(file, source)).not.toEqual([]);
  });

  it.each([
    ['src/pipeline/delivery.ts', `import type { Store } from './store-port.ts';`],
    ['src/pipeline/outbox.ts', `import { summarizeDigest } from '../domain/digest.ts';`],
    ['src/commands/service.ts', `import { routesFor } from '../pipeline/routes.ts';`],
    ['src/pipeline/poller.ts', `import type { Logger } from '../log.ts';`],
    ['src/pipeline/poller.ts', `import PQueue from 'p-queue';`],
    ['src/slack/slack-chat.ts', `import type { ChatPort } from '../pipeline/chat-port.ts';`],
    ['src/slack/listeners/actions.ts', `import type { CommandService } from '../../commands/service.ts';`],
    ['src/slack/bolt-app.ts', `import type { Config } from '../config.ts';`],
    ['src/slack/blocks/digest-message.ts', `import type { DigestSummary } from '../../domain/digest.ts';`],
    ['src/store/sql-store.ts', `import { FencedError } from '../pipeline/store-port.ts';`],
    ['src/store/open.ts', `import { singleProcessLeases } from '../pipeline/lease-port.ts';`],
    ['src/store/tenants.ts', `import type { TenantStore } from '../pipeline/tenancy-port.ts';`],
    ['src/store/sql-store.ts', `import { Kysely } from 'kysely';`],
    ['src/halo/transport.ts', `import { request } from 'node:http';`],
    ['src/halo/client.ts', `import type { HaloEvent } from '../domain/event.ts';`],
    ['src/halo/client.ts', `import type { HaloClient } from '../pipeline/halo-port.ts';`],
    ['src/halo/client.ts', `import { HaloApiError } from '../pipeline/halo-errors.ts';`],
    ['src/commands/delete.ts', `import { HaloApiError } from '../pipeline/halo-errors.ts';`],
    ['src/pipeline/poller.ts', `import type { HaloClient } from './halo-port.ts';`],
    ['src/slack/listeners/actions.ts', `import { HaloError } from '../../pipeline/halo-errors.ts';`],
    ['src/log.ts', `import { createRedactor } from './redact.ts';`],
    ['src/app.ts', `import { openSqliteStore } from './store/sqlite.ts';`],
    ['demo/run.ts', `import { startBot } from '../src/app.ts';`],
    ['demo/run.ts', `import { startFakeHalo } from '../fakes/halo.ts';`],
    ['test/harness.ts', `import { startFakeHalo } from '../fakes/halo.ts';`],
    ['test/harness.ts', `const m = await import('../src/store/sqlite.ts');`],
  ])('%s may: %s', (file, source) => {
    expect(problems(file, source)).toEqual([]);
  });
});
