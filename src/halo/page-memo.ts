/**
 * What this process has already read of Halo's list pages. A steady poll asks Halo for the same pages as the poll
 * before, and when nothing changed Halo answers each with the same bytes: a page byte for byte identical (same
 * SHA-256) to one whose every event was already recorded holds nothing new, and need not be read again. Its
 * counts are remembered, so a poll reports the same figures either way.
 *
 * One entry per page position, so the memo is about a thousandth of Halo's event count and bounded by
 * `maxPages`; past that, the oldest positions are forgotten and simply read in full.
 */
import { createHash } from 'node:crypto';
import type { ScanMemo } from '../pipeline/halo-port.ts';

export interface PageCounts {
  readonly total: number | null;
  readonly invalid: number;
  readonly returned: number;
}

export class PageMemo implements ScanMemo {
  readonly kind = 'scan-memo' as const;
  private readonly pages = new Map<string, { digest: string; counts: PageCounts }>();

  constructor(private readonly maxPages = 20_000) {}

  /** The SHA-256 of a body, given in the chunks it arrived in. */
  static digest(chunks: readonly Uint8Array[]): string {
    const hash = createHash('sha256');
    for (const chunk of chunks) hash.update(chunk);
    return hash.digest('base64');
  }

  /** The counts of the page last recorded at `request` if its body was `digest`. */
  known(request: string, digest: string): PageCounts | undefined {
    const entry = this.pages.get(request);
    return entry?.digest === digest ? entry.counts : undefined;
  }

  /** Call only once every event of the page is recorded as seen. */
  remember(request: string, digest: string, counts: PageCounts): void {
    this.pages.delete(request);
    this.pages.set(request, { digest, counts });
    if (this.pages.size > this.maxPages) this.pages.delete(this.pages.keys().next().value!);
  }

  /** After a page failed to record, or anything that may make its bytes mean something else. */
  forget(request: string): void {
    this.pages.delete(request);
  }

  get size(): number {
    return this.pages.size;
  }
}
