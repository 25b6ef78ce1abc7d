/**
 * The port through which the pipeline speaks to the chat service. The pipeline defines it; `slack/slack-chat.ts`
 * implements it for Slack. `M` is a rendered message, opaque here: the pipeline decides what to post and where,
 * the adapter's renderer decides how it looks.
 */

/**
 * What a failed call means for delivery.
 * - `channel`: this channel can never receive until a person acts (bot removed, channel archived).
 * - `auth`: the token lacks a permission (a scope); retrying may succeed once someone fixes it and restarts.
 * - `revoked`: the token no longer works at all (the app was uninstalled, the token revoked, the workspace
 *   deactivated): every post of that workspace waits, costing no attempt, until it is installed again.
 * - `message`: the service rejects this message itself (too long, bad blocks): retrying it cannot help.
 * - `thread`: the thread a reply was for is gone (its parent was deleted): post it in the channel instead.
 * - `rate_limited`: wait `retryAfterMs`, then the same call will do.
 * - `transient`: network, timeout, 5xx, the service's own hiccups.
 */
export type ChatFailureKind =
  'channel' | 'auth' | 'revoked' | 'message' | 'thread' | 'rate_limited' | 'transient';

export interface ChatFailure {
  readonly kind: ChatFailureKind;
  /**
   * The service's error code (`not_in_channel`, `http_503`, `request_error: ECONNRESET`): a fixed word, never
   * free text, since it is stored and shown to anyone by `/halo status`.
   */
  readonly error: string;
  /** Free text that came with the failure (a message, a code that is no plain word): for the logs only. */
  readonly detail?: string;
  readonly retryAfterMs?: number;
}

export type PostResult = { readonly ok: true; readonly ts: string } | ({ readonly ok: false } & ChatFailure);
export type UpdateResult = { readonly ok: true } | ({ readonly ok: false } & ChatFailure);

/** Whether an earlier post of a message reached its channel; `unknown` says why that cannot be told. */
export type FoundResult =
  { readonly found: true; readonly ts: string } | { readonly found: false } | { readonly unknown: string };

export interface PostOptions {
  /** Tags the post, so that `find` can later recognise it. */
  readonly dedupKey: string;
  /** Posts as a reply in the thread of this message. */
  readonly threadTs?: string;
  /** A reply also shown in the channel. */
  readonly broadcast?: boolean;
}

export interface ChatPort<M> {
  post(channel: string, message: M, options: PostOptions): Promise<PostResult>;
  /** Replaces the message `ts` in `channel`. */
  update(channel: string, ts: string, message: M): Promise<UpdateResult>;
  /** Looks in the channel (or in the thread of `threadTs`), from `sinceMs` on, for a post tagged `dedupKey`. */
  find(channel: string, dedupKey: string, sinceMs: number, threadTs?: string): Promise<FoundResult>;
  /** The sentence an operator needs for a failure, logged beside the error code. */
  hint(failure: ChatFailure, channel: string): string;
}
