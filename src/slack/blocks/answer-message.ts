/**
 * Pure renderers for `/halo` answers. Anything from Halo or from the user's own text is escaped on the way in.
 */
import type { Answer, EventListPage, RatedEventType, StatusView } from '../../commands/answers.ts';
import { formatDuration } from '../../domain/duration.ts';
import { LAST_SUCCESS_SHARE_MS } from '../../domain/last-success.ts';
import { formatEventsCommand, formatSubscribeCommand } from '../../domain/command-text.ts';
import type { HaloEvent, EventListFilter } from '../../domain/event.ts';
import { DEFAULT_DISPLAY, type Display } from '../../domain/display.ts';
import { SEVERITIES, severitySetting, type Severity, type UnratedType } from '../../domain/severity.ts';
import { NONE_HELD, type AssumedHeld } from '../../domain/severity.ts';
import { unknownKeyText, type UnknownKey } from '../../domain/suggest.ts';
import type { RouteStart } from '../../pipeline/route-start.ts';
import type { Subscription } from '../../pipeline/store-port.ts';
import {
  ACTION_IDS,
  describeMute,
  encodeEventsPage,
  haloDate,
  heldText,
  severityLabel,
  cleanText,
  code,
  LIMITS,
  mentionUser,
  mrkdwn,
  mrkdwnLink,
  mrkdwnText,
  oneLine,
  plain,
  plainText,
  slackDate,
  truncate,
  type Block,
  type MuteView,
  type SlackMessage,
} from './index.ts';
import { failureFix } from './slack-errors.ts';
import { renderEventAlert } from './outbox-message.ts';
import { renderAccounts, renderDisconnectConfirm } from './accounts-message.ts';
import { renderSummary } from './summary-message.ts';

export const NEXT_PAGE_ACTION_ID = ACTION_IDS.nextPage;

/** The message for a command's answer. */
export function renderAnswer(answer: Answer, display: Display = DEFAULT_DISPLAY): SlackMessage {
  switch (answer.kind) {
    case 'notice':
      return renderNotice(answer.text);
    case 'usage':
      return renderUsageError(answer.error, answer.usage);
    case 'help':
      return renderHelp(answer.help, answer.unknown);
    case 'events':
      return renderEventList(answer.list, display);
    case 'event':
      return renderEventAlert(answer.event, display, undefined, false, answer.account);
    case 'types':
      return renderTypes(answer.types, answer.query);
    case 'subscriptions':
      return renderSubscriptions(answer.channel, answer.subscriptions, answer.defaultRoute);
    case 'subscribed':
      return renderSubscribed(answer.subscription, answer.created, answer.start, answer.unknownKeys);
    case 'status':
      return renderStatus(answer.status);
    case 'muted':
      return renderMuted(answer.mute, answer.durationMs, answer.unknownKey);
    case 'unmuted':
      return renderMrkdwn(
        `:loud_sound: Unmuted ${describeMute(answer.mute)} in ${channelRef(answer.mute.channel)} (mute #${answer.mute.id}); it had held back ${heldText(answer.mute.held)}.`,
        `Unmuted (mute #${answer.mute.id})`,
      );
    case 'mutes':
      return renderMutes(answer.channel, answer.mutes);
    case 'summary':
      return renderSummary(answer.summary);
    case 'accounts':
      return renderAccounts(answer.accounts);
    case 'disconnectConfirm':
      return renderDisconnectConfirm(answer.account);
    case 'testFailed':
      return answer.notMember
        ? renderMrkdwn(
            `I could not post here: I am not a member of this channel. Invite me with \`/invite ${mentionUser(answer.botUserId)}\` ` +
              '(or channel details → Integrations → Add apps), then run `/halo test` again. ' +
              'In a direct message or a group DM I cannot post: try it in a channel.',
            'I could not post here: invite me to this channel with /invite, then run /halo test again.',
          )
        : renderNotice(
            `Slack refused the test alert (${answer.error}). If that names a permission, reinstall the app with the scopes of manifest.yml.`,
          );
  }
}

/** "Halo lists no event type `x` (did you mean …?); used as given": a warning, never a refusal. */
function unknownKeyWarning(entry: UnknownKey): string {
  return `${mrkdwn(unknownKeyText(entry), 600)}. The subscription uses it as given: Halo may add types.`;
}

/** One mute as a line of a list: ID, what, until when, who, held back. */
export function muteLine(mute: MuteView): string {
  const until = slackDate(new Date(mute.expiresAt)) ?? 'unknown';
  return `*#${mute.id}*: ${describeMute(mute)} until ${until}, by ${mentionUser(mute.createdBy)}, held back ${heldText(mute.held)}`;
}

function renderMuted(mute: MuteView, durationMs: number, unknownKey: boolean): SlackMessage {
  const warning =
    unknownKey && mute.key !== null
      ? `:warning: Halo lists no event type ${code(mute.key, 200)} (${code('/halo types', 20)} lists them); the mute is added anyway.\n`
      : '';
  const until = slackDate(new Date(mute.expiresAt)) ?? '';
  const critical =
    mute.key === null
      ? ' Critical events still come through: only a mute with key: naming their type holds them back.'
      : '';
  const text =
    `${warning}:mute: Muted ${describeMute(mute)} in ${channelRef(mute.channel)} for ` +
    `${formatDuration(durationMs)}, until ${until} (mute #${mute.id}). Matching events are counted, not posted.` +
    `${critical} ${code(`/halo unmute ${mute.id}`, 40)} ends it early.`;
  return {
    text: `Muted for ${formatDuration(durationMs)} (mute #${mute.id})`,
    blocks: [{ type: 'section', text: mrkdwnText(text) }],
  };
}

function renderMutes(channel: string, mutes: readonly MuteView[]): SlackMessage {
  if (mutes.length === 0) {
    return renderMrkdwn(
      `${channelRef(channel)} has no mutes. Add one with ${code('/halo mute key:KEY for:24h', 60)}.`,
      'No mutes',
    );
  }
  const lines = mutes.map((mute) => `• ${muteLine(mute)}`);
  return sections(
    `*Mutes of ${channelRef(channel)}*\n${lines.join('\n')}`,
    `${mutes.length} mute${mutes.length === 1 ? '' : 's'}`,
    undefined,
    { noun: 'mutes', tail: `End one with ${code('/halo unmute ID', 40)}.` },
  );
}

/** Plain sentences (errors, confirmations): escaped, one section. */
export function renderNotice(text: string): SlackMessage {
  const safe = mrkdwn(text, LIMITS.sectionText);
  return { text: safe, blocks: [{ type: 'section', text: mrkdwnText(safe) }] };
}

/** Text that is already safe mrkdwn (built from escaped parts), over as many sections as it needs. */
export function renderMrkdwn(safe: string, fallback: string): SlackMessage {
  return sections(safe, fallback);
}

/** `<#C…>` for a channel ID from Slack's signed payload, checked so that no other markup can ride along. */
export function channelRef(channel: string): string {
  return /^[CGD][A-Z0-9]{2,30}$/.test(channel) ? `<#${channel}>` : code(channel, 40);
}

export function renderUsageError(error: string, usage: string): SlackMessage {
  const text = `${mrkdwn(error, 1000)}\nUsage: ${code(usage, 500)}\nSee ${code('/halo help', 20)} for every command.`;
  return { text: mrkdwn(error, 1000), blocks: [{ type: 'section', text: mrkdwnText(text) }] };
}

export function renderHelp(help: string, unknown?: string): SlackMessage {
  const intro = unknown === undefined ? '' : `Unknown command ${code(unknown, 60)}.\n`;
  const body = help
    .split('\n')
    .map((line) => (line.startsWith('/halo') ? code(line, 300) : mrkdwn(line, 300)))
    .join('\n');
  return sections(`${intro}${body}`, 'How to use /halo');
}

/**
 * Long texts split over several sections at line ends, each within Slack's limit (as the alert renderer does).
 * When the message runs out of blocks, the lines left over are counted instead: "and 12 more mutes". `tail`
 * (how to act on the list) always ends the message.
 */
function sections(
  text: string,
  fallback: string,
  header?: string,
  list: { readonly noun?: string; readonly tail?: string } = {},
): SlackMessage {
  fallback = mrkdwn(fallback, 300);
  const blocks: Block[] =
    header === undefined ? [] : [{ type: 'header', text: plainText(plain(header, LIMITS.headerText)) }];
  // Room for the tail and the "and N more" line.
  const room = LIMITS.blocksPerMessage - 2;
  const lines = text.split('\n').map(fitLine);
  let chunk = '';
  let used = 0;
  for (const line of lines) {
    if (chunk !== '' && chunk.length + line.length + 1 > LIMITS.sectionText) {
      // This chunk, and the one the loop goes on to fill, must both fit.
      if (blocks.length + 2 > room) break;
      blocks.push({ type: 'section', text: mrkdwnText(chunk) });
      chunk = '';
    }
    chunk = chunk === '' ? line : `${chunk}\n${line}`;
    used++;
  }
  if (chunk !== '') blocks.push({ type: 'section', text: mrkdwnText(chunk) });
  if (used < lines.length)
    blocks.push({
      type: 'context',
      elements: [mrkdwnText(`…and ${lines.length - used} more ${list.noun ?? 'lines'}`)],
    });
  if (list.tail !== undefined) blocks.push({ type: 'section', text: mrkdwnText(fitLine(list.tail)) });
  return { text: fallback, blocks };
}

/**
 * A line of safe mrkdwn within a section's limit: one longer (never built here, but cheap to guard) is cut at
 * its last space before the limit, where no markup (`<…>`, `&…;`, a backtick span of one word) is split.
 */
function fitLine(line: string): string {
  if (line.length <= LIMITS.sectionText) return line;
  const space = line.lastIndexOf(' ', LIMITS.sectionText - 2);
  return `${line.slice(0, space > 0 ? space : LIMITS.sectionText - 1)}…`;
}

function describeFilter(filter: EventListFilter): string {
  const command = formatEventsCommand(filter);
  return command === '/halo events' ? 'all events' : code(command, 300);
}

export function renderEventList(list: EventListPage, display: Display = DEFAULT_DISPLAY): SlackMessage {
  const { page, pageSize, events } = list;
  const pages = Math.max(1, Math.ceil(events.length / pageSize));
  const shown = events.slice(page * pageSize, (page + 1) * pageSize);
  if (events.length === 0)
    return renderMrkdwn(
      `No Halo events match ${describeFilter(list.filter)}.` +
        (list.filter.key === undefined
          ? ''
          : ` If the key is mistyped, ${code('/halo types', 20)} lists every event type and its key.`) +
        (list.filter.key !== undefined
          ? ''
          : ` ${code('/halo types', 20)} lists the event types to filter by.`),
      'No events',
    );
  if (shown.length === 0)
    return renderNotice(`That page is empty now: the events may have changed. Run the command again.`);
  const blocks: Block[] = [
    {
      type: 'section',
      text: mrkdwnText(
        `*${events.length} event${events.length === 1 ? '' : 's'}* matching ${describeFilter(list.filter)}, newest first — page ${page + 1} of ${pages}`,
      ),
    },
    { type: 'divider' },
  ];
  for (const event of shown) blocks.push({ type: 'section', text: mrkdwnText(eventLine(event, display)) });
  if (list.truncated) {
    blocks.push({
      type: 'context',
      elements: [
        mrkdwnText(
          `Halo holds ${list.total} matching events; only the first ${events.length} were read. Add filters to narrow the list.`,
        ),
      ],
    });
  }
  if (page + 1 < pages) {
    const value = encodeEventsPage({
      filter: list.filter,
      pageSize,
      page: page + 1,
      ...(list.account === undefined ? {} : { account: list.account }),
    });
    if (value !== undefined) {
      blocks.push({
        type: 'actions',
        block_id: 'halo_events_pager',
        elements: [{ type: 'button', text: plainText('Next page'), action_id: NEXT_PAGE_ACTION_ID, value }],
      });
    }
  }
  return {
    text: `${events.length} Halo event${events.length === 1 ? '' : 's'}, page ${page + 1} of ${pages}`,
    blocks,
  };
}

/** A link longer than this is left out: the rest of an event's row is under 1000, the section's limit 3000. */
const MAX_ROW_LINK = 2000;

function eventLine(event: HaloEvent, display: Display): string {
  const raw = oneLine(cleanText(event.subject));
  const subject = mrkdwn(raw, 200) || '(no subject)';
  // mrkdwnLink escapes the label itself: the escaped `subject` would show `&` as `&amp;`.
  const link = mrkdwnLink(event.url, truncate(raw, 200) || '(no subject)');
  // A URL cannot be shortened without breaking it: a long one costs the link, not the whole message.
  const title = link !== undefined && link.length <= MAX_ROW_LINK ? link : subject;
  // An account event has no target: no dangling "on".
  const where =
    mrkdwn(oneLine(event.target?.host ?? ''), 200) || mrkdwn(oneLine(event.target?.name ?? ''), 200);
  const host = where === '' ? '' : ` on ${where}`;
  // Each event is two lines: a newline in Halo's key, date or ID would break the row (and its code spans).
  const details = [
    code(oneLine(event.key), 120),
    haloDate(event.dateCreated, display.timeZone, 120),
    `ID ${code(oneLine(event.eventId), 120)}`,
  ];
  const severity = severityLabel(display.severityOf(event.key));
  return `${severity} · *${title}*${host}\n${details.filter((part) => part !== '').join(' · ')}`;
}

export function renderTypes(types: readonly RatedEventType[], query: string): SlackMessage {
  if (types.length === 0) {
    return renderNotice(query === '' ? 'Halo lists no event types.' : `No event type matches “${query}”.`);
  }
  const lines = types.map((t) => {
    const rated =
      t.severity === undefined
        ? ''
        : ` · ${severityLabel(t.severity)}${t.assumed === true ? ' (guessed)' : ''}`;
    return `• ${mrkdwn(oneLine(t.subject), 200) || '(no subject)'} — ${code(t.key, 200)}${rated}`;
  });
  const guessed = types.flatMap((t) =>
    t.assumed === true && t.severity !== undefined
      ? [{ key: t.key, subject: t.subject, severity: t.severity }]
      : [],
  );
  if (guessed.length > 0) lines.push(unratedNote(guessed));
  const plural = types.length === 1 ? '' : 's';
  const heading =
    query === ''
      ? `${types.length} Halo event type${plural}`
      : `${types.length} event type${plural} matching “${query}”`;
  const message = sections(
    `${lines.join('\n')}\nSubscribe a channel with ${code('/halo subscribe key:KEY', 60)}.`,
    heading,
    heading,
  );
  return message;
}

export function renderSubscriptions(
  channel: string,
  subscriptions: readonly Subscription[],
  defaultRoute: { keys: readonly string[]; targetIds: readonly number[] } | null,
): SlackMessage {
  const lines: string[] = [];
  if (defaultRoute !== null) {
    lines.push(
      `• From the bot's settings (HALO_ALERT_CHANNEL): ${describeRoute(defaultRoute.keys, defaultRoute.targetIds)}`,
    );
  }
  for (const sub of subscriptions) {
    lines.push(
      `• *#${sub.id}*: ${describeRoute(sub.keys, sub.targetIds)} — added by ${mentionUser(sub.createdBy)} ${slackDate(new Date(sub.createdAt)) ?? ''}`,
    );
  }
  if (lines.length === 0) {
    return renderMrkdwn(
      `${channelRef(channel)} has no subscriptions. Add one with \`/halo subscribe key:KEY\`, or \`/halo subscribe\` for every event.`,
      'No subscriptions',
    );
  }
  return sections(
    `*Subscriptions of ${channelRef(channel)}*\n${lines.join('\n')}\nRemove one with ${code('/halo unsubscribe ID', 40)}.`,
    'Subscriptions',
  );
}

export function describeRoute(
  keys: readonly string[],
  targetIds: readonly number[],
  minSeverity: Severity | null = null,
): string {
  const level = minSeverity === null ? '' : severityFloor(minSeverity);
  if (keys.length === 0 && targetIds.length === 0)
    return level === '' ? 'every event' : `every event ${level}`;
  const parts: string[] = [];
  if (keys.length > 0) parts.push(`key ${keys.map((k) => code(k, 120)).join(' or ')}`);
  if (targetIds.length > 0) parts.push(`target ${targetIds.join(' or ')}`);
  return level === '' ? parts.join(' and ') : `${parts.join(' and ')}, ${level}`;
}

/** "of severity high or critical": what `severity:high` lets through, spelled out. */
function severityFloor(minimum: Severity): string {
  const levels = SEVERITIES.slice(0, SEVERITIES.indexOf(minimum) + 1).reverse();
  return levels.length === 1 ? `of severity ${levels[0]!}` : `of severity ${levels.join(' or ')}`;
}

/** `start`: whether the subscription's starting point is recorded yet. */
export function renderSubscribed(
  sub: Subscription,
  created: boolean,
  start: RouteStart,
  unknown: readonly UnknownKey[] = [],
): SlackMessage {
  const what = describeRoute(sub.keys, sub.targetIds, sub.minSeverity);
  const from = {
    started: 'Every new event from now on is posted here; existing ones are not.',
    haloFailed:
      'Halo could not be reached just now, so new events are posted from the next successful poll on; existing ones are not.',
    pending:
      'The replica that polls Halo has not recorded its starting point yet (a poll is still running, or a replica is taking over), so new events are posted from when it does, between its polls; existing ones are not.',
  }[start];
  const text = created
    ? `Subscribed ${channelRef(sub.channel)} to ${what} (subscription #${sub.id}). ${from} Invite the bot here if it is not a member: \`/invite @halo\`.`
    : `${channelRef(sub.channel)} already has this subscription (#${sub.id}): ${code(formatSubscribeCommand(sub.keys, sub.targetIds, sub.minSeverity), 300)}.`;
  const blocks: Block[] = [{ type: 'section', text: mrkdwnText(text) }];
  const warnings = unknown.map((entry) => `:warning: ${unknownKeyWarning(entry)}`);
  if (warnings.length > 0) {
    blocks.push({
      type: 'context',
      elements: [mrkdwnText(warnings.join('\n').slice(0, LIMITS.contextText))],
    });
  }
  return { text: created ? 'Subscribed' : 'Already subscribed', blocks };
}

/** What `SlackFailure.error` holds: Slack's code, `http_503`, or `request_error: ECONNRESET`. */
const ERROR_CODE = /^[a-z][a-z0-9_]{0,79}(?:: [A-Za-z][A-Za-z0-9_]{0,39})?$/;

/** At most this many keys are named in a line of /halo status or the App Home; /halo types lists them all. */
const MAX_KEYS_NAMED = 10;

/** ":warning: 3 event types … guessed: `a` high, `b` medium. Rate them with `HALO_SEVERITY=a=high,b=medium`". */
function unratedNote(unrated: readonly UnratedType[]): string {
  const named = unrated.slice(0, MAX_KEYS_NAMED);
  const more = unrated.length > named.length ? ` and ${unrated.length - named.length} more` : '';
  const plural = unrated.length === 1 ? ' is' : 's are';
  return (
    `:warning: ${unrated.length} event type${plural} not in the severity table, so each severity is guessed from the type's name: ` +
    `${named.map((t) => `${code(t.key, 120)} ${t.severity}`).join(', ')}${more}. ` +
    `A minimum severity filters on these guesses. To rate them, set HALO_SEVERITY, e.g. ${code(severitySetting(named), 1200)} (adjust the levels).`
  );
}

/** The lines naming guessed severities and what a minimum severity held back on them: status and App Home. */
export function severityNotes(unrated: readonly UnratedType[], held: AssumedHeld): string[] {
  const lines: string[] = [];
  if (held.count > 0) {
    const keys = Object.entries(held.byKey)
      .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
      .slice(0, MAX_KEYS_NAMED)
      .map(([key, count]) => `${code(key, 120)} ${count}`);
    lines.push(
      `:warning: Events held back by a minimum severity on a guessed severity: ${held.count} (${keys.join(', ')}). Set HALO_SEVERITY to rate their types.`,
    );
  }
  if (unrated.length > 0) lines.push(unratedNote(unrated));
  return lines;
}

/** The headline's warning, when a minimum severity held events back on a guess: "" otherwise. */
export function heldHeadline(held: AssumedHeld): string {
  return held.count === 0
    ? ''
    : ` · :warning: ${held.count} event${held.count === 1 ? '' : 's'} held back on a guessed severity`;
}

export function renderStatus(status: StatusView): SlackMessage {
  const date = (ms: number | null): string =>
    ms === null ? 'never' : (slackDate(new Date(ms)) ?? 'unknown');
  const held = status.assumedHeld ?? NONE_HELD;
  const cutShort = status.lastPoll?.cutShort ?? [];
  const health =
    (status.consecutiveFailures > 0
      ? `:warning: Halo polls are failing (${status.consecutiveFailures} in a row)`
      : cutShort.length > 0
        ? ':warning: The last poll was cut short: Halo sent more than the bot reads in one poll'
        : ':white_check_mark: Polling normally') + heldHeadline(held);
  const lines = [
    `*${health}*`,
    `Last successful poll: ${date(status.lastSuccessAt)} (every ${Math.round(status.pollIntervalMs / 1000)} s)`,
    `Events seen: ${status.seen}`,
    `Alerts waiting to be posted: ${status.pending}`,
    `Alerts that could not be posted: ${status.failed}`,
    `Events muted (counted, not posted): ${status.muted}`,
  ];
  const lead = status.leadership;
  if (lead !== undefined) {
    lines.push(
      lead.role === 'leader'
        ? `Polling and posting: ${code(lead.self, 100)} (this replica leads)`
        : `Polling and posting: ${lead.leader === null ? 'no replica right now (one takes over within seconds)' : code(lead.leader, 100)}; this answer came from ${code(lead.self, 100)} (standby), which learns the last successful poll from the polling replica every ${LAST_SUCCESS_SHARE_MS / 60_000} minutes`,
    );
  }
  if (status.lastError !== null)
    lines.push(`Last error (${date(status.lastErrorAt)}): ${mrkdwn(status.lastError, 500)}`);
  // Events past a cut were not read, and no alert is marked gone from such a scan.
  for (const cut of cutShort)
    lines.push(`• Scan ${code(cut.scope, 100)} cut short (${cut.reason}): ${mrkdwn(cut.detail, 300)}`);
  for (const failure of status.recentFailures) {
    // Anyone may ask: only an error code is shown, never free text (a row stored by an older version may hold it).
    const known = ERROR_CODE.test(failure.error);
    const error = known ? code(failure.error, 100) : 'unknown error';
    const fix = known ? ` Fix: ${mrkdwn(failureFix(failure.error), 300)}.` : '';
    lines.push(`• Failed post to ${channelRef(failure.channel)}: ${error} ${date(failure.at)}.${fix}`);
  }
  lines.push(...severityNotes(status.unrated ?? [], held));
  return sections(lines.join('\n'), health.replace(/:[a-z_]+: /g, ''));
}
