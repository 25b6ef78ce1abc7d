/**
 * How urgent an event is. The built-in table is the one place that says so for Halo's event types;
 * `HALO_SEVERITY` overrides it per key. Pure: config parsing, routing and rendering all read it.
 */

/** Most urgent first. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * What a key not in the table gets when no word of it suggests better: Halo adds types, and a new one deserves a
 * look, not silence.
 */
export const UNKNOWN_SEVERITY: Severity = 'medium';

/**
 * How a key the table does not rate is guessed, from the words of its key and its name in Halo's catalogue: the
 * table's keys are the project's reading of Halo's, and a real account's may differ (`target-issue-new` rather
 * than `issue-new`). The first rule that matches wins, so that good news and removals are read before the words
 * that would otherwise raise them ("issue resolved" is info, "API key deleted" low). The same judgement as the
 * table's, which every key of the table gets back from its words (see the severity tests).
 */
const GUESSES: readonly (readonly [RegExp, Severity])[] = [
  [/\b(resolv|clos|fixed|remediat|complet|finish|start|ready|succe)/, 'info'],
  [/\b(delet|remov|revok)/, 'low'],
  [
    /\b(issue|vulnerab|exploit|malware|breach|expos|risk)|\bport.*\bopen|\bopen.*\bport|\b(api ?key|key|token|secret|credential)s?\b.*\b(add|added|new|creat\w*)\b/,
    'high',
  ],
  [
    /\b(fail|error|expir|permission|role|login|password|access)|\buser.*\b(add|added|new|invit\w*)\b/,
    'medium',
  ],
  [/\b(domain|subdomain|target|host|asset|website)s?\b.*\b(add|added|new|found|discover\w*)\b/, 'low'],
];

/** The severity the words of `key` and its `subject` (its name in `types.json`) suggest; see {@link GUESSES}. */
export function guessSeverity(key: string, subject = ''): Severity {
  // `target-port-open` and "New Open Port" alike become words: `apikey` stays one, as Halo writes it.
  const words = `${key} ${subject}`.toLowerCase().replace(/[^a-z0-9]+/g, ' ');
  return GUESSES.find(([pattern]) => pattern.test(words))?.[1] ?? UNKNOWN_SEVERITY;
}

/** The part a type plays in a scan's thread. */
export type ScanRole = 'start' | 'end';

export interface EventTypeInfo {
  readonly severity: Severity;
  readonly role?: ScanRole;
  /** How a scan's summary counts it: `[one, many]`, e.g. "1 new issue", "3 new issues". */
  readonly noun?: readonly [string, string];
}

/**
 * Halo's event types (`/halo types`) and how urgent each is. The judgement, written down once:
 * - high: something an attacker could use appeared (a new issue, an open port, a new API key, a risky
 *   certificate);
 * - medium: access or coverage changed in a way someone should confirm (a new user, a certificate about to
 *   expire, a scan that failed and so left a target unchecked);
 * - low: inventory changed (domains, users or keys removed);
 * - info: progress and good news (scans started and completed, issues resolved, ports closed, reports ready).
 */
export const EVENT_TYPES: Readonly<Record<string, EventTypeInfo>> = {
  'target-scan-start': { severity: 'info', role: 'start' },
  'target-scan-complete': { severity: 'info', role: 'end' },
  'target-scan-fail': { severity: 'medium', role: 'end' },
  'issue-new': { severity: 'high', noun: ['new issue', 'new issues'] },
  'issue-resolved': { severity: 'info', noun: ['issue resolved', 'issues resolved'] },
  'port-open': { severity: 'high', noun: ['port opened', 'ports opened'] },
  'port-close': { severity: 'info', noun: ['port closed', 'ports closed'] },
  'account-apikey-add': { severity: 'high' },
  'account-apikey-delete': { severity: 'low' },
  'account-user-add': { severity: 'medium' },
  'account-user-delete': { severity: 'low' },
  'domain-add': { severity: 'low' },
  'domain-delete': { severity: 'low' },
  'website-cert-risk': { severity: 'high', noun: ['certificate risk', 'certificate risks'] },
  'website-cert-expire': { severity: 'medium', noun: ['certificate expiring', 'certificates expiring'] },
  'pci-report-complete': { severity: 'info' },
};

export function isSeverity(value: string): value is Severity {
  return (SEVERITIES as readonly string[]).includes(value);
}

/** Larger is more urgent: critical 4 … info 0. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.length - 1 - SEVERITIES.indexOf(severity);
}

/** Whether `severity` is `minimum` or more urgent; no minimum lets everything through. */
export function atLeast(severity: Severity, minimum: Severity | null): boolean {
  return minimum === null || severityRank(severity) >= severityRank(minimum);
}

/** The most urgent of several, `undefined` for none. */
export function highest(severities: Iterable<Severity>): Severity | undefined {
  let best: Severity | undefined;
  for (const s of severities) if (best === undefined || severityRank(s) > severityRank(best)) best = s;
  return best;
}

export type SeverityOf = (key: string) => Severity;

/**
 * The table with `overrides` (from `HALO_SEVERITY`) on top, and a guess for any other key, from its words and
 * its name (`subjectOf`, from Halo's catalogue once read).
 */
export function severityTable(
  overrides: Readonly<Record<string, Severity>> = {},
  subjectOf: (key: string) => string | undefined = () => undefined,
): SeverityOf {
  return (key) => overrides[key] ?? EVENT_TYPES[key]?.severity ?? guessSeverity(key, subjectOf(key));
}

/** Whether neither `HALO_SEVERITY` nor the table rates `key`: its severity is then only a guess. */
export function isAssumed(key: string, overrides: Readonly<Record<string, Severity>> = {}): boolean {
  return !Object.hasOwn(overrides, key) && !Object.hasOwn(EVENT_TYPES, key);
}

/** An event type of Halo's catalogue that nothing rates, with the severity guessed for it. */
export interface UnratedType {
  readonly key: string;
  readonly subject: string;
  readonly severity: Severity;
}

/** The types of `types` that nothing rates, in their order, each with its guess. */
export function unratedTypes(
  types: readonly { readonly key: string; readonly subject: string }[],
  overrides: Readonly<Record<string, Severity>> = {},
): UnratedType[] {
  return types
    .filter((type) => isAssumed(type.key, overrides))
    .map((type) => ({
      key: type.key,
      subject: type.subject,
      severity: guessSeverity(type.key, type.subject),
    }));
}

/** "HALO_SEVERITY=target-issue-new=high,…": the setting that rates `types` as guessed, to copy and adjust. */
export function severitySetting(types: readonly UnratedType[]): string {
  return `HALO_SEVERITY=${types.map((type) => `${type.key}=${type.severity}`).join(',')}`;
}

export const defaultSeverityOf: SeverityOf = severityTable();

export type SeverityParse =
  | { readonly ok: true; readonly overrides: Readonly<Record<string, Severity>> }
  | { readonly ok: false; readonly problems: readonly string[] };

/** `key=level` pairs, comma-separated, as `HALO_SEVERITY` takes them; each bad pair is named. */
export function parseSeverityOverrides(
  text: string,
  show: (value: string) => string = (value) => `"${value}"`,
): SeverityParse {
  const overrides: Record<string, Severity> = {};
  const problems: string[] = [];
  for (const pair of text.split(',').map((p) => p.trim())) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    const key = at === -1 ? '' : pair.slice(0, at).trim();
    const level =
      at === -1
        ? ''
        : pair
            .slice(at + 1)
            .trim()
            .toLowerCase();
    if (key === '' || level === '') {
      problems.push(`${show(pair)} is not key=level (e.g. issue-new=critical)`);
    } else if (!isSeverity(level)) {
      problems.push(`${show(pair)} has an unknown level: use one of ${SEVERITIES.join(', ')}`);
    } else {
      overrides[key] = level;
    }
  }
  return problems.length === 0 ? { ok: true, overrides } : { ok: false, problems };
}

export interface AssumedHeld {
  /** Events held back since the database was created. */
  readonly count: number;
  /** The same, by event key. */
  readonly byKey: Readonly<Record<string, number>>;
}

export const NONE_HELD: AssumedHeld = { count: 0, byKey: {} };
