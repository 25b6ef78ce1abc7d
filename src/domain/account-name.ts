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
