import { defaultSeverityOf, type SeverityOf } from './severity.ts';

/** What every renderer of an event needs besides the event: how urgent it is, and the zone of Halo's dates. */
export interface Display {
  readonly severityOf: SeverityOf;
  /** `HALO_TIMEZONE`: the IANA zone Halo's `date_created` is in. */
  readonly timeZone: string;
  /** The Halo account's name, set when its workspace has more than one: alerts and digests then name theirs. */
  readonly accountName?: string;
}

export const DEFAULT_DISPLAY: Display = { severityOf: defaultSeverityOf, timeZone: 'UTC' };
