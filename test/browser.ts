/**
 * Tests that drive a real headless browser: Debian's chromium through playwright-core. When chromium is not
 * installed, they fail under CI=true (`.ci/run` installs it) and are skipped elsewhere with one loud line.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { describe } from 'vitest';

export const CHROMIUM = '/usr/bin/chromium';

const INSTALL = 'apt-get install -y --no-install-recommends chromium';

if (!existsSync(CHROMIUM)) {
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing; CI needs it (${INSTALL}).`);
  process.stderr.write(
    `\n!!! SKIPPING browser tests: ${CHROMIUM} is missing. Install it (${INSTALL}) to run them.\n\n`,
  );
}

/** `describe` when chromium is installed, `describe.skip` otherwise. */
export const describeBrowser = existsSync(CHROMIUM) ? describe : describe.skip;

/** Flags for a quiet, local-only headless chromium: no sandbox (root in a container), no background traffic. */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A fresh browser profile in a temporary directory; `close()` ends the browser and removes the profile. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'halo-slack-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
