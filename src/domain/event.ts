/** One Halo Security event, as the bot uses it (validated and renamed from the API's snake_case). */
export interface HaloEvent {
  readonly eventId: string;
  readonly subject: string;
  /** `YYYY-MM-DD HH:MM` as Halo sends it: no zone, minute resolution. Kept verbatim; may be malformed. */
  readonly dateCreated: string;
  readonly key: string;
  /** Link to the event in the Halo app; empty when Halo sent none. */
  readonly url: string;
  readonly target: HaloTarget | null;
}

export interface HaloTarget {
  /** Friendly name; often empty. */
  readonly name: string;
  readonly id: number | null;
  /** Host or address scanned, e.g. `www.example.com`. */
  readonly host: string;
}

/** One entry of `event/types.json`. */
export interface HaloEventType {
  readonly subject: string;
  readonly key: string;
}

/** Filters of `event/list.json`, as the API names them. */
export interface EventListFilter {
  readonly key?: string;
  readonly subject?: string;
  readonly detail?: string;
  readonly target_id?: number;
}
