/**
 * What the pipeline reports as it works, for `/metrics`. A port: `src/metrics.ts` implements it with prom-client,
 * tests and tools that need none use {@link NO_METRICS}. Every label value is from a fixed, short list.
 */
export type HaloOutcome = 'ok' | 'auth_error' | 'http_error' | 'error';
export type FailureReason = 'channel' | 'message' | 'attempts' | 'render';

export interface PipelineMetrics {
  pollFinished(result: 'ok' | 'error', seconds: number, eventsSeen: number): void;
  haloRequest(outcome: HaloOutcome): void;
  posted(kind: string, secondsSinceQueued: number): void;
  failed(reason: FailureReason, count: number): void;
  rateLimited(): void;
  commandAcked(seconds: number): void;
}

export const NO_METRICS: PipelineMetrics = {
  pollFinished: () => undefined,
  haloRequest: () => undefined,
  posted: () => undefined,
  failed: () => undefined,
  rateLimited: () => undefined,
  commandAcked: () => undefined,
};
