import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { openStore } from '../../src/store/open.ts';
import { StoreError } from '../../src/pipeline/store-port.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const options = {
  log: createLogger({ level: 'error', secrets: [], write: () => undefined }),
  replicaId: 'r',
  leaseTtlMs: 3000,
};

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'halo-slack-open-'));
  dirs.push(dir);
  return dir;
}

describe('openStore: the SQLite file’s folder', () => {
  it('creates the file’s own folder when its parent exists', async () => {
    const dir = tempDir();
    const { tenants } = await openStore({ kind: 'sqlite', path: join(dir, 'data', 'halo.db') }, options);
    await tenants.close();
    expect(existsSync(join(dir, 'data', 'halo.db'))).toBe(true);
  });

  it('creates nothing above it: a deeper missing folder is refused, saying what to create', async () => {
    const dir = tempDir();
    const path = join(dir, 'nowhere', 'data', 'halo.db');
    const error = await openStore({ kind: 'sqlite', path }, options).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toBe(
      `The database ${path} cannot be created: neither its folder ${join(dir, 'nowhere', 'data')} nor ${join(dir, 'nowhere')} exists, and the bot creates only the last folder of the path. Create ${join(dir, 'nowhere')}, or set DATABASE_URL to a file in an existing folder (sqlite:./data/halo-slack.db is relative to the working folder).`,
    );
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
  });
});
