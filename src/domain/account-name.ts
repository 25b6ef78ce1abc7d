/**
 * A Halo account's name within a workspace: what `account:NAME` names and `/halo accounts` shows. Letters,
 * digits, spaces, `-`, `_` and `.`, so that it reads safely in any answer and is typed without surprises.
 */
export const MAX_ACCOUNT_NAME = 40;

/** What is wrong with a name, or null. */
export function accountNameProblem(name: string): string | null {
  if (name.trim() === '') return 'The account name is empty.';
  if (Array.from(name).length > MAX_ACCOUNT_NAME)
    return `The account name is longer than ${MAX_ACCOUNT_NAME} characters.`;
  if (!/^[\p{L}\p{N}][\p{L}\p{N} ._-]*$/u.test(name) || name !== name.trim() || /\s{2}/u.test(name))
    return 'An account name has letters, digits, single spaces, “-”, “_” and “.”, and starts with a letter or digit.';
  return null;
}

/** `account:NAME` as a command takes it: quoted when it holds a space. */
export function accountFilter(name: string): string {
  return /\s/u.test(name) ? `account:"${name}"` : `account:${name}`;
}

/**
 * The one of `items` named `name`: exactly, or ignoring ASCII case when only one matches so (what `account:NAME`
 * and a workflow step's account input both mean by a name).
 */
export function findNamed<T>(items: readonly T[], name: string, nameOf: (item: T) => string): T | undefined {
  const exact = items.find((item) => nameOf(item) === name);
  if (exact !== undefined) return exact;
  const folded = items.filter((item) => asciiLower(nameOf(item)) === asciiLower(name));
  return folded.length === 1 ? folded[0] : undefined;
}

function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
