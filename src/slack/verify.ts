import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack's rule: a request stamped more than five minutes from now, either way, is refused. */
export const MAX_SKEW_SECONDS = 300;

/**
 * The request's timestamp in seconds if it may pass: a plain whole number (digits only, so `Infinity`, `1e400`,
 * `1.5` and `-0` never do) within five minutes of `nowMs` either way. Null otherwise.
 */
export function acceptedTimestamp(header: string | undefined, nowMs: number): number | null {
  if (header === undefined || !/^\d{1,12}$/.test(header)) return null;
  const seconds = Number(header);
  return Math.abs(seconds - nowMs / 1000) <= MAX_SKEW_SECONDS ? seconds : null;
}

/**
 * Slack's request signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`, computed over the raw bytes
 * as received (a decode and re-encode could make two different bodies look alike), compared in constant time.
 */
export function validSignature(
  signingSecret: string,
  timestamp: string,
  signature: string | undefined,
  body: Buffer,
): boolean {
  if (signingSecret === '' || signature === undefined || !/^v0=[0-9a-f]{64}$/.test(signature)) return false;
  const expected = createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(signature.slice(3), 'hex'));
}
