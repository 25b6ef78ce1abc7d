export type Subcommand =
  | 'events'
  | 'event'
  | 'types'
  | 'subscribe'
  | 'unsubscribe'
  | 'subscriptions'
  | 'mute'
  | 'mutes'
  | 'unmute'
  | 'summary'
  | 'status'
  | 'test'
  | 'connect'
  | 'accounts'
  | 'disconnect'
  | 'help';

/** One line per subcommand; shown after every parse error so the user sees the right shape at once. */
export const USAGE: Readonly<Record<Subcommand, string>> = {
  events: '/halo events [key:K] [target:ID] [subject:TEXT] [detail:TEXT] [limit:N]',
  event: '/halo event ID',
  types: '/halo types [TEXT]',
  subscribe: '/halo subscribe [key:K]… [target:ID]… [severity:LEVEL]',
  unsubscribe: '/halo unsubscribe ID|all',
  subscriptions: '/halo subscriptions',
  mute: '/halo mute key:K [target:ID] for:DURATION',
  mutes: '/halo mutes',
  unmute: '/halo unmute ID',
  summary: '/halo summary daily HH:MM|weekly DAY HH:MM|off|now',
  status: '/halo status',
  test: '/halo test',
  connect: '/halo connect',
  accounts: '/halo accounts',
  disconnect: '/halo disconnect NAME',
  help: '/halo help',
};

interface HelpEntry {
  readonly subcommand: Subcommand;
  readonly description: string;
  readonly example: string;
}

// Order is the order a new user needs them: look around first, then subscribe.
const HELP: readonly HelpEntry[] = [
  {
    subcommand: 'events',
    description: 'List events matching the filters, 20 a page (limit:N sets the page size, 1–20).',
    example: '/halo events key:target-scan-start subject:"Scan Started" limit:5',
  },
  { subcommand: 'event', description: 'Show one event in full.', example: '/halo event 123456' },
  {
    subcommand: 'types',
    description: 'List the event types (subject and key), optionally only those matching TEXT.',
    example: '/halo types scan',
  },
  {
    subcommand: 'subscribe',
    description:
      'Post new events matching the filters in this channel. Several keys or targets match any of them. severity:high means high and critical (levels: critical, high, medium, low, info). With no filter, opens a dialog that shows what the subscription would post before you save it.',
    example: '/halo subscribe key:target-scan-start target:42',
  },
  {
    subcommand: 'unsubscribe',
    description: "Remove one of this channel's subscriptions, or all of them.",
    example: '/halo unsubscribe 3',
  },
  {
    subcommand: 'subscriptions',
    description: "List this channel's subscriptions.",
    example: '/halo subscriptions',
  },
  {
    subcommand: 'mute',
    description:
      'Stop posting matching events in this channel for a while (30m, 24h, 7d; at most 30d). target:ID alone mutes one target. Muted events are still counted, and critical ones are never muted unless key: names their type.',
    example: '/halo mute key:target-scan-start for:24h',
  },
  {
    subcommand: 'mutes',
    description: "List this channel's mutes, with their IDs, who made them and when they end.",
    example: '/halo mutes',
  },
  { subcommand: 'unmute', description: 'End a mute now.', example: '/halo unmute 2' },
  { subcommand: 'status', description: "Show the bot's status.", example: '/halo status' },
  {
    subcommand: 'test',
    description:
      'Post a sample alert, marked as a test, in this channel: shows the format and that the bot can post here.',
    example: '/halo test',
  },
  {
    subcommand: 'summary',
    description:
      'Post a summary of what this channel was told, and of what is still open, every day or week at that time (in HALO_TIMEZONE); off stops it (both admins only), now shows you the summary so far, no argument shows the setting.',
    example: '/halo summary weekly mon 09:00',
  },
  {
    subcommand: 'accounts',
    description:
      "List this workspace's Halo accounts: status, last poll, last error, and the last 4 characters of each key.",
    example: '/halo accounts',
  },
  {
    subcommand: 'connect',
    description:
      'Connect a Halo account (admins only): a dialog asks its name, API key and API URL, and checks the key with Halo before saving it. The same name again gives that account a new key. The key is never shown again.',
    example: '/halo connect',
  },
  {
    subcommand: 'disconnect',
    description:
      'Disconnect an account (admins only, after a confirmation): its polling stops, and its key, subscriptions, mutes and history here are deleted.',
    example: '/halo disconnect Staging',
  },
  { subcommand: 'help', description: 'Show this help.', example: '/halo help' },
];

/** Plain text; the caller escapes it for mrkdwn. */
export function helpText(): string {
  const sections = HELP.map(
    ({ subcommand, description, example }) =>
      `${USAGE[subcommand]}\n    ${description}\n    Example: ${example}`,
  );
  return [
    'Halo Security commands:',
    ...sections,
    'Filters are name:value (name=value works too). Quote values with spaces: subject:"Scan Started".',
    'With several Halo accounts, account:NAME says which one a command acts in (/halo accounts lists them); with one, it is not needed. Without it, subscriptions and mutes list every account’s, and unsubscribe and unmute find the ID in whichever account has it.',
  ].join('\n\n');
}
