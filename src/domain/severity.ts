/**
 * How urgent an event is. The built-in table is the one place that says so for Halo's event types;
 * `HALO_SEVERITY` overrides it per key. Pure: config parsing, routing and rendering all read it.
 */

/** Most urgent first. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** What a key not in the table gets: Halo adds types, and a new one deserves a look, not silence. */
export const UNKNOWN_SEVERITY: Severity = 'medium';

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

/** The table with `overrides` (from `HALO_SEVERITY`) on top. */
export function severityTable(overrides: Readonly<Record<string, Severity>> = {}): SeverityOf {
  return (key) => overrides[key] ?? EVENT_TYPES[key]?.severity ?? UNKNOWN_SEVERITY;
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
