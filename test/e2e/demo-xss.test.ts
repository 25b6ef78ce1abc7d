/**
 * The demo page in a real browser, fed a message as hostile as Slack's API lets anyone send: markup and script in
 * every kind of text, a `javascript:` link. Whatever the text, the page shows it and runs none of it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startFakeSlack, type FakeSlack } from '../../fakes/slack.ts';
import { Feed } from '../../demo/feed.ts';
import { startPageServer, type PageServer } from '../../demo/server.ts';
import { createLogger } from '../../src/log.ts';
import { describeBrowser, launchBrowser } from '../browser.ts';

const SCRIPT = `<img src=x onerror="window.pwned=1;alert(1)"><script>window.pwned=2</script>`;

describeBrowser('demo page: hostile message text', () => {
  let slack: FakeSlack;
  let server: PageServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  let page: Page;
  const dialogs: string[] = [];

  beforeAll(async () => {
    slack = await startFakeSlack();
    server = await startPageServer(0, {
      feed: new Feed(slack, { botName: 'Halo', userName: 'you', channel: 'CDEMO' }),
      botUrl: 'http://127.0.0.1:9',
      signingSecret: 'secret-0123456789abcdef',
      userId: 'UDEMO',
      userName: 'you',
      channel: 'CDEMO',
      log: createLogger({ level: 'error', secrets: [], write: () => undefined }),
    });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(server.url);
  });

  afterAll(async () => {
    await browser?.close();
    await server.close();
    await slack.close();
  });

  it('shows markup and script as text and runs none of it', async () => {
    const blocks = [
      { type: 'header', text: { type: 'plain_text', text: SCRIPT } },
      { type: 'section', text: { type: 'mrkdwn', text: `*${SCRIPT}* <javascript:window.pwned=3|click me>` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `&lt;b onclick=alert(1)&gt;x&lt;/b&gt;` }] },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: 'x"><img src=x onerror=alert(1)>',
            text: { type: 'plain_text', text: SCRIPT },
          },
        ],
      },
    ];
    const response = await fetch(`${slack.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${slack.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'CDEMO', text: SCRIPT, blocks }),
    });
    expect(await response.json()).toMatchObject({ ok: true });

    const card = page.locator('article.msg.channel');
    await expect.poll(() => card.count(), { timeout: 5000 }).toBe(1);
    expect(await card.locator('h3').innerText()).toBe(SCRIPT);
    // In mrkdwn, `<…>` is Slack's control syntax: what it does not know is shown inert, without the brackets.
    const inert = 'img src=x onerror="window.pwned=1;alert(1)"scriptwindow.pwned=2/script';
    expect(await card.locator('.bk-text').innerText()).toBe(`${inert} click me`);
    expect(await card.locator('.bk-text b').innerText()).toBe(inert);
    expect(await card.locator('.bk-context').innerText()).toBe('<b onclick=alert(1)>x</b>');
    expect(await card.locator('a:not(.bkb)').count()).toBe(0);
    await card.getByText('click me').click();
    expect(await page.locator('#feed img, #feed script, #feed [onerror], #feed [onclick]').count()).toBe(0);
    expect(await page.evaluate('typeof window.pwned')).toBe('undefined');
    expect(dialogs).toEqual([]);
  });
});
