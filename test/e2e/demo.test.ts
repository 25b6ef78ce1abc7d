/**
 * `npm run demo`, as a person uses it: the demo runs as its own process (package.json's "demo" command), its
 * page is opened in headless chromium, an alert arrives, `/halo types` is typed and answered, an alert is
 * acknowledged and another deleted (after the confirmation dialog) and each updates in place, an alert's Halo
 * link pasted in the composer is previewed under the message (and acknowledged from there), the Block Kit
 * Builder link carries the message's blocks, and Ctrl-C (SIGINT) ends the demo cleanly with exit code 0.
 * On the way it takes the README's pictures (docs/*.png) of an alert, a scan thread, a digest and a link
 * preview, so that they always show what the bot posts now.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ROOT } from '../harness.ts';
import { describeBrowser, launchBrowser } from '../browser.ts';

/** package.json's "demo" script, `node <flags> demo/main.ts`, as this node binary's arguments. */
function demoCommand(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { demo: string } };
  const words = pkg.scripts.demo.trim().split(/\s+/);
  expect(words[0]).toBe('node');
  return words.slice(1);
}

/** The README's pictures. A clone that cannot be written (or a changed picture) never fails the run. */
async function picture(card: Locator, name: string): Promise<void> {
  const png = await card.screenshot({ animations: 'disabled' });
  // A PNG of a whole card: its signature, and a width and height (IHDR) that a readable message has.
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  expect(png.readUInt32BE(16)).toBeGreaterThan(300);
  expect(png.readUInt32BE(20)).toBeGreaterThan(100);
  try {
    writeFileSync(join(ROOT, 'docs', name), png);
  } catch (error) {
    process.stderr.write(`demo test: docs/${name} not regenerated: ${String(error)}\n`);
  }
}

describeBrowser('npm run demo in a browser', () => {
  let child: ChildProcess | undefined;
  let output = '';
  let exited: Promise<number | string>;
  let url: string;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  let page: Page;

  beforeAll(async () => {
    // Only PATH: the demo writes the bot's whole environment itself, and reads no .env.
    const demo = spawn(process.execPath, [...demoCommand(), '--port', '0', '--step-ms', '300'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child = demo;
    demo.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    demo.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    exited = new Promise((resolve) =>
      demo.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
    );
    const [started, launched] = await Promise.all([
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`the demo did not print its URL:\n${output}`)),
          20_000,
        );
        demo.stdout.on('data', () => {
          const match = /open (http:\/\/127\.0\.0\.1:\d+) in a browser/.exec(output);
          if (match !== null) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
        void exited.then((code) => reject(new Error(`the demo exited (${code}):\n${output}`)));
      }),
      launchBrowser(),
    ]);
    url = started;
    browser = launched;
    page = await launched.context.newPage();
    await page.goto(url);
  });

  afterAll(async () => {
    await browser?.close();
    // Only if a test failed before Ctrl-C: the demo must not outlive the suite.
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  /** The card of a channel alert that still has its Delete button, by its position among those. */
  const alert = (n: number) =>
    page.locator('article.msg.channel', { has: page.getByRole('button', { name: 'Delete event' }) }).nth(n);

  it('shows the alerts the bot posts, rendered from their blocks', async () => {
    await expect.poll(() => alert(1).count(), { timeout: 10_000 }).toBe(1);
    await expect
      .poll(() => alert(0).locator('h3.bk-header').innerText())
      .toMatch(/^(🔴 High|🔶 Medium|ℹ️ Info|🔹 Low) · /);
    expect(await page.locator('#status').innerText()).toBe('connected');
  });

  it('takes the README’s pictures: an alert, a scan thread and a digest', async () => {
    const top = (header: string) =>
      page.locator('#feed > article.msg.channel', {
        has: page.locator(':scope > .main h3.bk-header', { hasText: header }),
      });
    const alertCard = top('API Key Added').first();
    const scan = top('Scan Started').filter({ hasText: 'Scan complete ·' }).first();
    const digest = top('new Halo events').first();
    await expect.poll(() => digest.count(), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => scan.count(), { timeout: 20_000 }).toBe(1);
    // The composer is fixed over the page's foot: out of the pictures.
    const composer = (display: string) =>
      page.evaluate(`document.getElementById('composer').style.display = '${display}'`);
    await composer('none');
    await picture(alertCard, 'alert.png');
    await picture(scan, 'scan-thread.png');
    await picture(digest, 'digest.png');
    await composer('');
  });

  it('prints its address last, and again when Enter is pressed', () => {
    const lines = output.trimEnd().split('\n');
    // Alerts have been posted since it was printed: none of them wrote a line under it.
    expect(lines.at(-2)).toContain(`open ${url} in a browser`);
    child!.stdin!.write('\n');
    return expect.poll(() => output.split(`open ${url} in a browser`).length - 1, { timeout: 5000 }).toBe(2);
  });

  it('answers /halo types typed in the page, privately', async () => {
    await page.locator('#command').fill('/halo types');
    await page.locator('#command').press('Enter');
    const answer = page.locator('article.msg.ephemeral', { hasText: 'target-scan-start' });
    await expect.poll(() => answer.count(), { timeout: 5000 }).toBe(1);
    expect(await answer.innerText()).toContain('Only visible to you');
    expect(await page.locator('article.msg.user').last().innerText()).toContain('/halo types');
  });

  it('shows the channel’s summary on demand, typed in the page', async () => {
    await page.locator('#command').fill('/halo summary now');
    await page.locator('#command').press('Enter');
    const answer = page.locator('article.msg.ephemeral', { hasText: 'Halo summary' });
    await expect.poll(() => answer.count(), { timeout: 5000 }).toBe(1);
    expect(await answer.innerText()).toMatch(/last 24 hours, UTC[\s\S]*\d+ events? posted/);
  });

  it('shows the subscribe dialog that /halo subscribe opens, with its fields and the channel it was typed in', async () => {
    await page.locator('#command').fill('/halo subscribe');
    await page.locator('#command').press('Enter');
    const dialog = page.locator('article.msg.ephemeral', { hasText: 'Dialog: New subscription' });
    await expect.poll(() => dialog.count(), { timeout: 5000 }).toBe(1);
    const labels = await dialog.locator('label.bk-label').allInnerTexts();
    expect(labels).toEqual(['Channel', 'Event types', 'Targets', 'Minimum severity']);
    // The event types are the simulated account's catalogue; the channel, the page's.
    expect(await dialog.locator('.bk-input select').nth(1).locator('option').count()).toBeGreaterThan(1);
    expect(await dialog.locator('.bk-input select').first().innerText()).toMatch(/^#C/);
    expect(await dialog.innerText()).toContain('Pick event types or targets to see what this would post.');
  });

  it('acknowledges an alert in place', async () => {
    const card = alert(1);
    const id = await card.getAttribute('id');
    await card.getByRole('button', { name: 'Acknowledge' }).click();
    await expect
      .poll(() => page.locator(`#${id}`).innerText(), { timeout: 5000 })
      .toContain('Acknowledged by');
    expect(await page.locator(`#${id}`).innerText()).toContain('@you');
  });

  it('previews a pasted Halo event link under the message, and acknowledges from the preview', async () => {
    // Not the alert acknowledged above: the preview shows the acknowledgements of the event's alerts too.
    const card = alert(2);
    // The card's own link and header come first: a scan's parent also holds its thread's replies.
    const link = await card.getByRole('link', { name: 'View in Halo' }).first().getAttribute('href');
    const subject = (await card.locator('h3.bk-header').first().innerText())
      .split(' · ')
      .slice(1)
      .join(' · ');
    expect(link).toMatch(/^https:\/\/www\.halosecurity\.com\/link\?q=user-event&id=/);
    await page.locator('#command').fill(`have a look: ${link!}`);
    await page.locator('#command').press('Enter');
    const preview = page.locator('article.msg.channel', { hasText: 'Link preview' }).last();
    await expect.poll(() => preview.count(), { timeout: 5000 }).toBe(1);
    expect(await page.locator('article.msg.user').last().innerText()).toContain('have a look');
    expect(await preview.innerText()).toContain(subject);
    expect(await preview.getByRole('button', { name: 'Delete event' }).count()).toBe(0);
    expect(await preview.innerText()).not.toContain('Acknowledged by');
    const id = await preview.getAttribute('id');
    await page.evaluate(`document.getElementById('composer').style.display = 'none'`);
    await picture(preview, 'link-preview.png');
    await page.evaluate(`document.getElementById('composer').style.display = ''`);
    await preview.getByRole('button', { name: 'Acknowledge' }).click();
    await expect
      .poll(() => page.locator(`#${id}`).innerText(), { timeout: 5000 })
      .toContain('Acknowledged by @you');
  });

  it('deletes an alert after the confirmation, and the message says so', async () => {
    const card = alert(0);
    const id = await card.getAttribute('id');
    const dialog = page.waitForEvent('dialog').then(async (d) => {
      const message = d.message();
      await d.accept();
      return { type: d.type(), message };
    });
    await card.getByRole('button', { name: 'Delete event' }).click();
    const shown = await dialog;
    expect(shown.type).toBe('confirm');
    expect(shown.message).toContain('Delete this event?');
    const updated = page.locator(`#${id}`);
    await expect.poll(() => updated.innerText(), { timeout: 5000 }).toContain('Deleted by @you');
    expect(await updated.getByRole('button', { name: 'Delete event' }).count()).toBe(0);
  });

  it('links each message to Block Kit Builder with its blocks', async () => {
    const href = await alert(0).locator('a.bkb').getAttribute('href');
    const prefix = 'https://app.slack.com/block-kit-builder/#';
    expect(href?.startsWith(prefix)).toBe(true);
    const message = JSON.parse(decodeURIComponent(href!.slice(prefix.length))) as {
      blocks: { type: string }[];
    };
    expect(message.blocks[0]).toMatchObject({ type: 'header' });
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(true);
  });

  it('stops cleanly on Ctrl-C (SIGINT)', async () => {
    child!.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('halo-slack demo: stopped');
    // The demo's fake tokens are redacted like real ones: none of them is ever printed.
    expect(output).not.toMatch(/xoxb-demo-[0-9a-f]{6}/);
  });
});
