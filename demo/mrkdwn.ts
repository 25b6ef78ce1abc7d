/**
 * Slack's mrkdwn as simple HTML, for the demo page. Pure. Every piece of text leaves through `escapeHtml`, and a
 * link is made only for an http(s) or mailto URL, so no text from Halo or Slack can become markup or script.
 * Slack's own escaping (`&amp;`, `&lt;`, `&gt;`, the only entities it decodes) is undone first, exactly once.
 */

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text or attribute value as inert HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** Slack decodes these three entities and no other: `&quot;` stays as it is written. */
function decodeSlack(s: string): string {
  return s.replace(/&(amp|lt|gt);/g, (_, name: string) => ({ amp: '&', lt: '<', gt: '>' })[name]!);
}

/**
 * The emoji this bot's messages use (test/unit/demo-render.test.ts lists them from the renderers' source); any
 * other `:name:` is shown as written.
 */
const EMOJI: Readonly<Record<string, string>> = {
  rotating_light: '🚨',
  red_circle: '🔴',
  large_orange_diamond: '🔶',
  small_blue_diamond: '🔹',
  information_source: 'ℹ️',
  warning: '⚠️',
  white_check_mark: '✅',
  wastebasket: '🗑️',
  mute: '🔇',
  loud_sound: '🔊',
  test_tube: '🧪',
  hourglass: '⌛',
  eyes: '👀',
  bell: '🔔',
  mag: '🔍',
  lock: '🔒',
  key: '🔑',
  bar_chart: '📊',
  ghost: '👻',
  memory: '📝',
};

/** `:red_circle:` → 🔴 for the names above. */
export function emojify(s: string): string {
  return s.replace(/:([a-z0-9_+-]+):/g, (whole, name: string) => EMOJI[name] ?? whole);
}

/** A `plain_text` object: shown literally, emoji names aside. */
export function plainToHtml(text: string, emoji = true): string {
  return escapeHtml(emoji ? emojify(text) : text);
}

export interface MrkdwnOptions {
  /** Display names for `<@U…>` mentions; others show their ID. */
  readonly people?: Readonly<Record<string, string>>;
  /** Names for `<#C…>` channel links without a label; others show their ID. */
  readonly channels?: Readonly<Record<string, string>>;
}

/** A `mrkdwn` text as HTML: code blocks and spans, bold, italic, strike, links, mentions, dates, line breaks. */
export function mrkdwnToHtml(text: string, options: MrkdwnOptions = {}): string {
  return text
    .split('```')
    .map((part, i) =>
      i % 2 === 1
        ? `<pre>${escapeHtml(decodeSlack(part.replace(/^\n|\n$/g, '')))}</pre>`
        : inline(part, options).replace(/\n/g, '<br>'),
    )
    .join('');
}

/**
 * One pass over the text, left to right: a control sequence (`<…>`), a code span, a bold, italic or struck
 * run, or an emoji name, whichever starts first; the text between is plain. A formatting mark counts only at a
 * word's edge, as in Slack, so `snake_case_names` stay as they are.
 */
const INLINE =
  /<([^<>\n]+)>|`([^`\n]+)`|(?<![\w*])\*([^*\n]+)\*(?![\w*])|(?<![\w_])_([^_\n]+)_(?![\w_])|(?<![\w~])~([^~\n]+)~(?![\w~])|:([a-z0-9_+-]+):/g;

function inline(text: string, options: MrkdwnOptions): string {
  let html = '';
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    html += plainRun(text.slice(last, match.index));
    last = match.index + match[0].length;
    const [whole, control, codeSpan, bold, italic, strike, emoji] = match;
    if (control !== undefined) html += controlSequence(control, options);
    else if (codeSpan !== undefined) html += `<code>${escapeHtml(decodeSlack(codeSpan))}</code>`;
    else if (bold !== undefined) html += `<b>${inline(bold, options)}</b>`;
    else if (italic !== undefined) html += `<i>${inline(italic, options)}</i>`;
    else if (strike !== undefined) html += `<s>${inline(strike, options)}</s>`;
    else html += escapeHtml(EMOJI[emoji!] ?? whole);
  }
  return html + plainRun(text.slice(last));
}

function plainRun(s: string): string {
  return escapeHtml(decodeSlack(s));
}

/** `<@U1>`, `<#C1|name>`, `<!here>`, `<!date^…|fallback>`, `<url|label>`: what Slack shows for each. */
function controlSequence(body: string, options: MrkdwnOptions): string {
  const bar = body.indexOf('|');
  const target = bar === -1 ? body : body.slice(0, bar);
  const label = bar === -1 ? undefined : body.slice(bar + 1);
  if (target.startsWith('@')) {
    const id = target.slice(1);
    return `<span class="mention">@${escapeHtml(options.people?.[id] ?? label ?? id)}</span>`;
  }
  if (target.startsWith('#')) {
    const id = target.slice(1);
    return `<span class="mention">#${escapeHtml(label ?? options.channels?.[id] ?? id)}</span>`;
  }
  if (target.startsWith('!date^')) return `<time>${plainRun(slackDate(target) ?? label ?? '')}</time>`;
  if (target.startsWith('!subteam^')) return `<span class="mention">${plainRun(label ?? '@group')}</span>`;
  if (target.startsWith('!')) return `<span class="mention">@${plainRun(target.slice(1))}</span>`;
  const url = decodeSlack(target);
  const shown = label === undefined ? plainRun(target) : inline(label, options);
  if (!/^(https?:\/\/|mailto:)/i.test(url)) return shown;
  return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${shown}</a>`;
}

/** `!date^1700000000^{date_short_pretty} {time}` as `2023-11-14 22:13 UTC`; the page has no reader's zone. */
function slackDate(target: string): string | undefined {
  const seconds = Number(target.split('^')[1]);
  if (!Number.isFinite(seconds)) return undefined;
  const date = new Date(seconds * 1000);
  if (!Number.isFinite(date.getTime())) return undefined;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
