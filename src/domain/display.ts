import { defaultSeverityOf, type SeverityOf } from './severity.ts';

/** What every renderer of an event needs besides the event: how urgent it is, and the zone of Halo's dates. */
export interface Display {
  readonly severityOf: SeverityOf;
  /** `HALO_TIMEZONE`: the IANA zone Halo's `date_created` is in. */
  readonly timeZone: string;
  /**
   * The Halo account's ID (`Scope.account`) whose events these are: alerts' buttons carry it, so that they
   * act in that account only. Absent: the env account (whose buttons keep the values of a release before accounts).
   */
  readonly account?: string;
  /** The Halo account's name, set when its workspace has more than one: alerts and digests then name theirs. */
  readonly accountName?: string;
}

export const DEFAULT_DISPLAY: Display = { severityOf: defaultSeverityOf, timeZone: 'UTC' };
