import { haloDateToUnix } from '../../domain/halo-time.ts';
import { cleanText, mrkdwn } from './escape.ts';
import { oneLine } from './text.ts';

/**
 * A Halo date as each reader's Slack shows it in their own zone (`<!date^…>`), with Halo's text and zone as the
 * fallback for clients that cannot format it. A date that does not parse is shown as given, escaped, never
 * dropped; `''` only when Halo sent nothing.
 */
export function haloDate(text: string, timeZone: string, budget: number): string {
  const seconds = haloDateToUnix(text, timeZone);
  const given = oneLine(cleanText(text));
  if (seconds === null) return mrkdwn(given, budget);
  // The fallback is digits, spaces, dashes and colons plus a zone name: nothing that could close the control.
  const control = `<!date^${seconds}^{date_short_pretty} {time}|${given} ${timeZone}>`;
  return control.length <= budget ? control : mrkdwn(given, budget);
}
