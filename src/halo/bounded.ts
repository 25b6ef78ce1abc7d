import type PQueue from 'p-queue';
import type { HaloClient } from '../pipeline/halo-port.ts';

/**
 * The client with its requests held to `queue`'s bound, the one bound on Halo requests in flight that polls and
 * commands share (HALO_SCAN_CONCURRENCY): a burst of `/halo` commands during a large scan cannot multiply the
 * load on Halo. `listEvents` and `scan` are not wrapped: a scan queues each page on this same queue (wrapping them
 * too would make a page wait for a slot its own scan holds).
 */
export function boundedHaloClient(client: HaloClient, queue: PQueue): HaloClient {
  const bounded = <T>(signal: AbortSignal | undefined, request: () => Promise<T>): Promise<T> =>
    queue.add(request, signal === undefined ? {} : { signal });
  return {
    listEvents: (filter, options) => client.listEvents(filter, options),
    scan: (filter, options) => client.scan(filter, options),
    getEvent: (eventId, signal) => bounded(signal, () => client.getEvent(eventId, signal)),
    deleteEvent: (eventId, signal) => bounded(signal, () => client.deleteEvent(eventId, signal)),
    listTypes: (signal) => bounded(signal, () => client.listTypes(signal)),
  };
}
