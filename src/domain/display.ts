import { defaultSeverityOf, type SeverityOf } from './severity.ts';

/** What every renderer of an event needs besides the event: how urgent it is, and the zone of Halo's dates. */
export interface Display {
  readonly severityOf: SeverityOf;
  /** `HALO_TIMEZONE`: the IANA zone Halo's `date_created` is in. */
  readonly timeZone: string;
}

export const DEFAULT_DISPLAY: Display = { severityOf: defaultSeverityOf, timeZone: 'UTC' };
