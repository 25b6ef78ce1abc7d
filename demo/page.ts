/**
 * The demo page's three static files. No framework: the server renders each message to escaped HTML
 * (demo/render.ts) and streams it with Server-Sent Events; the script only places cards and sends what the
 * person types or clicks back to the server, which signs it and passes it to the bot as Slack would. The page is
 * served with a Content-Security-Policy allowing its own script only, so even a rendering mistake could not run
 * an inline script.
 */

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>halo-slack demo</title>
<link rel="stylesheet" href="/style.css">
<script src="/client.js" defer></script>
</head>
<body>
<header>
  <h1>halo-slack demo</h1>
  <p>The real bot, polling a simulated Halo Security account and posting to a local stand-in for Slack.
  Nothing leaves this machine. Type a <code>/halo</code> command below, use the buttons on an alert, or paste an
  alert's “View in Halo” link to see its preview.
  <span id="status" role="status">connecting…</span></p>
</header>
<main>
  <h2>#halo-alerts</h2>
  <div id="feed" aria-live="polite"></div>
</main>
<form id="composer" autocomplete="off">
  <input id="command" name="command" value="/halo " aria-label="Slash command" spellcheck="false">
  <button type="submit">Send</button>
  <span class="hint">Try <code>/halo help</code>, <code>/halo types</code>, <code>/halo events limit:5</code>,
  <code>/halo status</code>, <code>/halo summary now</code> (the channel's summary so far),
  <code>/halo subscribe</code> (its dialog), or a Halo event link.</span>
</form>
</body>
</html>
`;

export const STYLE_CSS = `
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1d1c1d;
  background: #f8f8f8; padding-bottom: 6rem; }
header { background: #3f0e40; color: #fff; padding: 0.75rem 1.25rem; }
header h1 { margin: 0; font-size: 1.2rem; }
header p { margin: 0.25rem 0 0; opacity: 0.9; font-size: 0.9rem; }
header code { background: rgba(255,255,255,0.15); color: #fff; }
#status { margin-left: 0.5rem; font-weight: 600; }
main { max-width: 52rem; margin: 0 auto; padding: 0 1rem; }
main h2 { font-size: 1rem; color: #616061; }
.msg { background: #fff; border: 1px solid #e8e8e8; border-left: 4px solid #e8e8e8; border-radius: 6px;
  margin: 0.6rem 0; padding: 0.5rem 0.75rem; }
.msg.ephemeral { background: #f4f9ff; border-style: dashed; }
.msg.user { background: #f1f1f1; }
.thread { margin-left: 1.5rem; }
.thread:empty { display: none; }
.meta { font-size: 0.8rem; color: #616061; display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; }
.meta b { color: #1d1c1d; font-size: 0.9rem; }
.app { background: #e8e8e8; border-radius: 3px; padding: 0 0.25rem; font-size: 0.65rem; font-weight: 700; }
.badge { font-style: italic; }
.body.deleted { color: #616061; font-style: italic; }
.bk-header { margin: 0.35rem 0; font-size: 1.05rem; }
.bk-section { margin: 0.35rem 0; display: flex; flex-wrap: wrap; gap: 0.5rem; }
.bk-text { flex: 1 1 100%; }
.bk-fields { display: grid; grid-template-columns: 1fr 1fr; gap: 0.35rem 1rem; flex: 1 1 100%; }
.bk-input { margin: 0.5rem 0; display: flex; flex-direction: column; gap: 0.2rem; max-width: 30rem; }
.bk-label { font-weight: 600; font-size: 0.9rem; }
.bk-context { font-size: 0.8rem; color: #616061; margin: 0.35rem 0; display: flex; gap: 0.5rem; flex-wrap: wrap; }
.bk-actions { display: flex; gap: 0.5rem; flex-wrap: wrap; margin: 0.5rem 0 0.25rem; }
.bk-button, .bk-select { font: inherit; font-size: 0.85rem; padding: 0.25rem 0.75rem; border: 1px solid #bbb;
  border-radius: 4px; background: #fff; cursor: pointer; color: #1d1c1d; text-decoration: none; }
.bk-button.bk-danger { background: #e01e5a; border-color: #e01e5a; color: #fff; }
.bk-button.bk-primary { background: #007a5a; border-color: #007a5a; color: #fff; }
.bk-button:disabled { opacity: 0.5; cursor: wait; }
.bk-unsupported { color: #a00; font-size: 0.8rem; }
.mention { background: #e8f5fa; color: #1264a3; border-radius: 3px; padding: 0 2px; }
code { background: #f3f3f3; border: 1px solid #e0e0e0; border-radius: 3px; padding: 0 3px; font-size: 0.85em;
  color: #c01343; }
pre { background: #f8f8f8; border: 1px solid #e0e0e0; border-radius: 4px; padding: 0.5rem; white-space: pre-wrap; }
a { color: #1264a3; }
.tools { text-align: right; font-size: 0.75rem; }
#composer { position: fixed; bottom: 0; left: 0; right: 0; background: #fff; border-top: 1px solid #ddd;
  padding: 0.6rem 1rem; display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; }
#command { flex: 1 1 20rem; font: inherit; padding: 0.4rem 0.6rem; border: 1px solid #bbb; border-radius: 4px; }
#composer button { font: inherit; padding: 0.4rem 1rem; background: #007a5a; color: #fff; border: 0;
  border-radius: 4px; cursor: pointer; }
.hint { font-size: 0.8rem; color: #616061; }
`;

/** Kept to what every current browser runs as it is: no build step. */
export const CLIENT_JS = `'use strict';
const feed = document.getElementById('feed');
const statusLine = document.getElementById('status');
const COLOR = /^#[0-9a-f]{6}$/i;

function nearBottom() {
  return window.innerHeight + window.scrollY >= document.body.scrollHeight - 80;
}

// The HTML comes from the demo's server, which escaped every text in it.
function place(item) {
  const follow = nearBottom();
  let card = document.getElementById('m-' + item.id);
  if (card === null) {
    card = document.createElement('article');
    card.id = 'm-' + item.id;
    card.className = 'msg ' + item.kind;
    card.dataset.messageId = item.id;
    const main = document.createElement('div');
    main.className = 'main';
    const thread = document.createElement('div');
    thread.className = 'thread';
    card.append(main, thread);
    const parent = item.parent === null ? null : document.getElementById('m-' + item.parent);
    (parent === null ? feed : parent.querySelector(':scope > .thread')).append(card);
  }
  card.querySelector(':scope > .main').innerHTML = item.html;
  card.style.borderLeftColor = COLOR.test(item.color || '') ? item.color : '';
  if (follow) window.scrollTo(0, document.body.scrollHeight);
}

async function send(path, body) {
  try {
    const response = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = await response.json();
    statusLine.textContent = answer.ok ? 'connected' : answer.error;
  } catch (error) {
    statusLine.textContent = 'the demo is not answering (was it stopped?)';
  }
}

const events = new EventSource('/events');
events.addEventListener('message', (event) => place(JSON.parse(event.data)));
events.addEventListener('open', () => (statusLine.textContent = 'connected'));
events.addEventListener('error', () => (statusLine.textContent = 'disconnected: is the demo still running?'));

document.addEventListener('click', async (event) => {
  const button = event.target.closest('button[data-action-id]');
  if (button === null) return;
  const card = button.closest('[data-message-id]');
  const title = button.dataset.confirmTitle;
  // Slack asks before a button with a confirm object acts; so does the page, with the browser's dialog.
  if (title !== undefined && !window.confirm(title + '\\n\\n' + (button.dataset.confirmText || ''))) return;
  button.disabled = true;
  await send('/action', { message: card.dataset.messageId, actionId: button.dataset.actionId });
  button.disabled = false;
});

document.addEventListener('change', async (event) => {
  const select = event.target.closest('select[data-action-id]');
  if (select === null || select.value === '') return;
  const card = select.closest('[data-message-id]');
  await send('/action', { message: card.dataset.messageId, actionId: select.dataset.actionId, selected: select.value });
});

document.getElementById('composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = document.getElementById('command');
  const text = input.value.trim();
  if (text === '' || text === '/halo') return;
  input.value = '/halo ';
  await send('/command', { text });
});
`;
