/**
 * A controller of its own that also aborts when `parent` does, and lets go of `parent` when released.
 * `AbortSignal.any([parent, …])` does the first, but on Node 20 it leaves an entry in `parent` for ever: on the
 * bot's long-lived stop signal that is one entry per Halo request, never freed. Call `release()` when done.
 */
export function childController(parent: AbortSignal | undefined): {
  readonly controller: AbortController;
  release(): void;
} {
  const controller = new AbortController();
  if (parent === undefined) return { controller, release: () => undefined };
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { controller, release: () => undefined };
  }
  const follow = (): void => controller.abort(parent.reason);
  parent.addEventListener('abort', follow, { once: true });
  return { controller, release: () => parent.removeEventListener('abort', follow) };
}
