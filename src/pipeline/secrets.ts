/**
 * Halo events carry text the bot does not control: an event's subject can quote the bot's own API key (an API
 * key added, a misconfigured integration). Every text of an event is redacted before it is kept in the outbox
 * or shown in Slack, with the same redaction as the logs (src/redact.ts), so that no known secret is posted.
 */
import type { HaloEvent } from '../domain/event.ts';

export type Redact = (text: string) => string;

/** The event with every secret in its texts replaced; the same object when none held one. */
export function redactEvent(event: HaloEvent, redact: Redact): HaloEvent {
  const subject = redact(event.subject);
  const url = redact(event.url);
  const key = redact(event.key);
  const target =
    event.target === null
      ? null
      : { ...event.target, name: redact(event.target.name), host: redact(event.target.host) };
  const same =
    subject === event.subject &&
    url === event.url &&
    key === event.key &&
    (event.target === null || (target!.name === event.target.name && target!.host === event.target.host));
  return same ? event : { ...event, subject, url, key, target };
}
