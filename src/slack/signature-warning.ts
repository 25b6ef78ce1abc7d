import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';

/** One line a minute at most: a wrong secret fails every request, and a scanner may send thousands. */
export const SIGNATURE_WARNING_INTERVAL_MS = 60_000;

/**
 * Call on each request whose signature does not match. The first is logged at once, naming the setting to
 * check; later ones within the interval are only counted, and the next line says how many there were.
 */
export function signatureMismatchWarning(
  log: Logger,
  clock: Clock,
  intervalMs = SIGNATURE_WARNING_INTERVAL_MS,
): () => void {
  let lastAt: number | undefined;
  let unlogged = 0;
  return () => {
    const now = clock.now();
    if (lastAt !== undefined && now - lastAt < intervalMs) {
      unlogged++;
      return;
    }
    const more =
      unlogged === 0
        ? ''
        : ` (${unlogged} more since the last such line, ${Math.round(intervalMs / 1000)} s ago or more)`;
    log.warn(
      `rejected a Slack request: its signature does not match SLACK_SIGNING_SECRET. If Slack's own requests fail, ` +
        `check SLACK_SIGNING_SECRET (your Slack app → Basic Information → Signing Secret) and restart${more}`,
    );
    lastAt = now;
    unlogged = 0;
  };
}
