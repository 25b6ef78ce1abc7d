import type { Clock } from '../clock.ts';
import type { HaloClient } from '../pipeline/halo-port.ts';
import { HaloApiError, HaloError } from '../pipeline/halo-errors.ts';
import type { Logger } from '../log.ts';
import type { DeletionRecord, Store } from '../pipeline/store-port.ts';

export type DeleteOutcome =
  | { readonly kind: 'done'; readonly record: DeletionRecord }
  | { readonly kind: 'failed'; readonly message: string };

/**
 * Deletes Halo events for the button. Two quick clicks (or two people at once) share one call; a click after
 * the deletion finished is answered from the store without asking Halo again.
 */
export class EventDeleter {
  private readonly inFlight = new Map<string, Promise<DeleteOutcome>>();

  constructor(
    private readonly halo: HaloClient,
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** Told of each event this deleter removed (or found gone), once it is recorded. */
    private readonly onDeleted: (eventId: string) => void = () => undefined,
  ) {}

  /** `channel`: where the button was clicked, for the audit log. */
  delete(eventId: string, userId: string, channel: string | null = null): Promise<DeleteOutcome> {
    const running = this.inFlight.get(eventId);
    if (running !== undefined) return running;
    const attempt = this.run(eventId, userId, channel).finally(() => this.inFlight.delete(eventId));
    this.inFlight.set(eventId, attempt);
    return attempt;
  }

  private async run(eventId: string, userId: string, channel: string | null): Promise<DeleteOutcome> {
    const previous = await this.store.deletion(eventId);
    if (previous !== null) return { kind: 'done', record: previous };
    let alreadyDeleted = false;
    try {
      await this.halo.deleteEvent(eventId);
    } catch (error) {
      if (error instanceof HaloApiError && error.notFound) alreadyDeleted = true;
      else {
        const message =
          error instanceof HaloError ? error.userMessage : 'Something went wrong on the bot’s side.';
        this.log.warn('delete failed', {
          event: eventId,
          user: userId,
          error,
        });
        return { kind: 'failed', message };
      }
    }
    const record: DeletionRecord = { eventId, userId, at: this.clock.now(), alreadyDeleted };
    await this.store.recordDeletion(record);
    this.onDeleted(eventId);
    await this.store.audit({
      at: record.at,
      userId,
      action: 'delete',
      channel,
      detail: alreadyDeleted ? `event ${eventId} (already gone from Halo)` : `event ${eventId}`,
    });
    this.log.info(alreadyDeleted ? 'delete: event was already gone' : 'event deleted', {
      event: eventId,
      user: userId,
    });
    return { kind: 'done', record };
  }
}
