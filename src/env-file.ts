/**
 * `.env`, read for `npm start`: its values fill gaps in the real environment (a real variable wins), and the
 * lines dotenv would silently misread are reported as configuration problems.
 */
import { readFileSync } from 'node:fs';
import dotenv from 'dotenv';

export interface EnvFile {
  /** The real environment with the file's values added where a variable was not set. */
  readonly env: Record<string, string | undefined>;
  /** Lines whose value dotenv cut short, for variables the real environment does not override. */
  readonly problems: readonly string[];
}

/** Reads `path` if it exists; without it, the real environment alone. */
export function loadEnvFile(path: string, real: Readonly<Record<string, string | undefined>>): EnvFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { env: { ...real }, problems: [] };
    throw error;
  }
  const values = dotenv.parse(text);
  const env: Record<string, string | undefined> = { ...values, ...real };
  const problems = commentCuts(text)
    .filter((cut) => real[cut.name] === undefined)
    .map((cut) => describeCut(cut));
  return { env, problems };
}

export interface CommentCut {
  readonly name: string;
  /** 1-based. */
  readonly line: number;
  /** The value began with `#`, so dotenv read it as empty. */
  readonly emptied: boolean;
}

const ASSIGNMENT = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=(.*)$/;

/**
 * Unquoted values in which `#` is part of the value rather than a comment after a space: dotenv still cuts them
 * there (`HALO_ALERT_CHANNEL=#security` is read as empty, `KEY=abc#def` as `abc`). `KEY=value # note` is a
 * comment on purpose and is left alone. Lines inside a quoted multi-line value are skipped.
 */
export function commentCuts(text: string): CommentCut[] {
  const cuts: CommentCut[] = [];
  let openQuote: string | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    if (openQuote !== undefined) {
      if (raw.includes(openQuote)) openQuote = undefined;
      return;
    }
    const match = ASSIGNMENT.exec(raw);
    if (match === null) return;
    const [, name, rest] = match as unknown as [string, string, string];
    const value = rest.trimStart();
    const quote = value.charAt(0);
    if (quote === '"' || quote === "'" || quote === '`') {
      if (!value.slice(1).includes(quote)) openQuote = quote;
      return;
    }
    const hash = value.indexOf('#');
    if (hash < 0) return;
    // `KEY= # note`: a space before the "#" makes it a comment on purpose, as after a value.
    if (hash === 0 && value === rest) cuts.push({ name, line: index + 1, emptied: true });
    else if (hash > 0 && !/\s/.test(value.charAt(hash - 1)))
      cuts.push({ name, line: index + 1, emptied: false });
  });
  return cuts;
}

/** One problem line; the value itself is never shown (it may be a secret). */
export function describeCut(cut: CommentCut): string {
  const where = `${cut.name} in .env (line ${cut.line})`;
  if (cut.name === 'HALO_ALERT_CHANNEL' && cut.emptied) {
    return (
      `${where} starts with "#", which .env reads as a comment, so the setting was empty: ` +
      'HALO_ALERT_CHANNEL takes a channel ID like C0123ABCD (channel details → the ID at the bottom), not a #name'
    );
  }
  return cut.emptied
    ? `${where} starts with "#", which .env reads as a comment, so the setting was empty: put the value in double quotes`
    : `${where} contains "#", which .env reads as the start of a comment, so the value was cut there: put the value in double quotes`;
}
