import { cleanText } from './escape.ts';
import type { MrkdwnText, PlainText } from './types.ts';

/**
 * A mrkdwn text object for text already made safe (see `escape.ts`). `verbatim: true` because Slack's automatic
 * parsing would otherwise link bare URLs and channel names and parse some mentions in Halo's text; the controls
 * we write ourselves (`<url|label>`, `<@U…>`, `<!date…>`) are still honoured.
 */
export function mrkdwnText(text: string): MrkdwnText {
  return { type: 'mrkdwn', text, verbatim: true };
}

export function plainText(text: string): PlainText {
  return { type: 'plain_text', text };
}

/**
 * Folds newlines and runs of spaces: single-line places (headers, list rows, fields) must not be split by Halo's
 * text. Cleaned first, because `\s` counts U+FEFF as a space: `a\uFEFFb` must become `ab`, not `a b`.
 */
export function oneLine(s: string): string {
  return cleanText(s).replace(/\s+/g, ' ').trim();
}
