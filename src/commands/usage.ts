export type Subcommand =
  'events' | 'event' | 'types' | 'subscribe' | 'unsubscribe' | 'subscriptions' | 'status' | 'help';

/** One line per subcommand; shown after every parse error so the user sees the right shape at once. */
export const USAGE: Readonly<Record<Subcommand, string>> = {
  events: '/halo events [key:K] [target:ID] [subject:TEXT] [detail:TEXT] [limit:N]',
  event: '/halo event ID',
  types: '/halo types [TEXT]',
  subscribe: '/halo subscribe [key:K]… [target:ID]…',
  unsubscribe: '/halo unsubscribe ID|all',
  subscriptions: '/halo subscriptions',
  status: '/halo status',
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
      'Post new events matching the filters in this channel. Several keys or targets match any of them; no filter matches everything.',
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
  { subcommand: 'status', description: "Show the bot's status.", example: '/halo status' },
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
  ].join('\n\n');
}
