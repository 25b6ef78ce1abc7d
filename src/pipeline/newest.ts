import type { HaloEvent } from '../domain/event.ts';

/** Keeps the `limit` newest events seen, by Halo's date (which sorts as text), for the first start's backfill. */
export class Newest {
  private readonly kept: HaloEvent[] = [];
  constructor(private readonly limit: number) {}
  offer(event: HaloEvent): void {
    if (this.kept.length === this.limit && event.dateCreated <= this.kept[this.kept.length - 1]!.dateCreated)
      return;
    if (this.kept.some((e) => e.eventId === event.eventId)) return;
    const at = this.kept.findIndex((e) => e.dateCreated < event.dateCreated);
    this.kept.splice(at === -1 ? this.kept.length : at, 0, event);
    if (this.kept.length > this.limit) this.kept.pop();
  }
  events(): HaloEvent[] {
    return [...this.kept];
  }
}
