/**
 * A controller of its own that also aborts when any of `parents` does (with that parent's reason), and lets go of
 * them when released. `AbortSignal.any([parent, …])` does the first, but on Node 20 it leaves an entry in each
 * parent for ever: on the bot's long-lived stop signal that is one entry per Halo request, never freed. Call
 * `release()` when done.
 */
export function childController(...parents: (AbortSignal | undefined)[]): {
  readonly controller: AbortController;
  release(): void;
} {
  const controller = new AbortController();
  const aborted = parents.find((parent) => parent?.aborted === true);
  if (aborted !== undefined) {
    controller.abort(aborted.reason);
    return { controller, release: () => undefined };
  }
  const follows = parents.flatMap((parent) => {
    if (parent === undefined) return [];
    const follow = (): void => controller.abort(parent.reason);
    parent.addEventListener('abort', follow, { once: true });
    return [{ parent, follow }];
  });
  return {
    controller,
    release: () => follows.forEach(({ parent, follow }) => parent.removeEventListener('abort', follow)),
  };
}
