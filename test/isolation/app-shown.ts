/** The buttons a workspace was shown (on alerts, answers, its App Home), kept for later steps to click. */

/** A button shown to a workspace (on an alert, an answer, its App Home), as a click would send it back. */
export interface Shown {
  readonly actionId: string;
  readonly value?: string;
  readonly selected?: { text: string; value: string };
  /** `home`: on the App Home (no channel, no response_url). */
  readonly on: 'message' | 'home';
  readonly channel?: string;
  readonly messageTs?: string;
  readonly blocks?: unknown[];
  readonly color?: string;
}

/** The buttons (and select menus' options) of a message or view's blocks. */
export function buttonsOf(blocks: unknown, where: Omit<Shown, 'actionId' | 'value' | 'selected'>): Shown[] {
  const found: Shown[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (typeof node === 'object' && node !== null) {
      const element = node as Record<string, unknown>;
      if (typeof element.action_id === 'string') {
        if (typeof element.value === 'string')
          found.push({ ...where, actionId: element.action_id, value: element.value });
        // A select's options, or its groups' (the alert's Mute menu).
        const groups = Array.isArray(element.option_groups)
          ? (element.option_groups as { options?: unknown[] }[])
          : [{ options: element.options as unknown[] | undefined }];
        const options = groups.flatMap((g) =>
          Array.isArray(g.options) ? (g.options as Record<string, unknown>[]) : [],
        );
        for (const option of options.slice(0, 3))
          if (typeof option.value === 'string')
            found.push({
              ...where,
              actionId: element.action_id,
              selected: { text: 'option', value: option.value },
            });
      }
      for (const value of Object.values(element)) if (typeof value === 'object') walk(value);
    }
  };
  walk(blocks);
  return found;
}

export function remember(w: { readonly buttons: Shown[] }, shown: readonly Shown[]): void {
  w.buttons.push(...shown);
  if (w.buttons.length > 300) w.buttons.splice(0, w.buttons.length - 300);
}
