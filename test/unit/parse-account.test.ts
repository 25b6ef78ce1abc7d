import { describe, expect, it } from 'vitest';
import { parseCommand, takeAccount } from '../../src/commands/command-parse.ts';
import { USAGE } from '../../src/commands/usage.ts';

describe('parseCommand: account:NAME', () => {
  it('takes the account wherever it stands, and parses the rest as before', () => {
    expect(parseCommand('events account:Prod key:port-open')).toEqual({
      ok: true,
      command: { kind: 'events', filter: { key: 'port-open' }, limit: 20 },
      account: 'Prod',
    });
    expect(parseCommand('event ev-1 account=Staging')).toEqual({
      ok: true,
      command: { kind: 'event', eventId: 'ev-1' },
      account: 'Staging',
    });
    expect(parseCommand('types scan ACCOUNT:"Client A"')).toEqual({
      ok: true,
      command: { kind: 'types', query: 'scan' },
      account: 'Client A',
    });
    expect(parseCommand('subscribe key:k severity:high account:“Client B”')).toEqual({
      ok: true,
      command: { kind: 'subscribe', keys: ['k'], targetIds: [], minSeverity: 'high' },
      account: 'Client B',
    });
    expect(parseCommand('mute account:Prod key:k for:1h')).toEqual({
      ok: true,
      command: { kind: 'mute', key: 'k', targetId: null, durationMs: 3_600_000 },
      account: 'Prod',
    });
    expect(parseCommand('unmute 3 account:Prod')).toEqual({
      ok: true,
      command: { kind: 'unmute', id: 3 },
      account: 'Prod',
    });
  });

  it('leaves the account out when none is named', () => {
    expect(parseCommand('events')).toEqual({ ok: true, command: { kind: 'events', filter: {}, limit: 20 } });
    expect(parseCommand('subscribe')).toEqual({
      ok: true,
      command: { kind: 'subscribe', keys: [], targetIds: [], minSeverity: null },
    });
    // `account:` inside another value is that value's text.
    expect(parseCommand('events subject:xaccount:Prod')).toEqual({
      ok: true,
      command: { kind: 'events', filter: { subject: 'xaccount:Prod' }, limit: 20 },
    });
  });

  it('refuses an account given twice, an empty or malformed name, and an unterminated quote', () => {
    expect(parseCommand('events account:A account:B')).toEqual({
      ok: false,
      error: 'The account filter is given twice; a command acts in one account.',
      usage: USAGE.events,
    });
    expect(parseCommand('types account:')).toEqual({
      ok: false,
      error: 'The account name is empty in “account:”.',
      usage: USAGE.types,
    });
    expect(parseCommand('events account:"Open')).toEqual({
      ok: false,
      error: 'Unterminated quote in “account:"Open”.',
      usage: USAGE.events,
    });
    expect(parseCommand('events account:<!here>').ok).toBe(false);
    expect(parseCommand('events account:"A"x').ok).toBe(false);
  });

  it('connect, accounts and disconnect NAME take no account filter', () => {
    expect(parseCommand('connect')).toEqual({ ok: true, command: { kind: 'connect' } });
    expect(parseCommand('accounts')).toEqual({ ok: true, command: { kind: 'accounts' } });
    expect(parseCommand('disconnect Client A')).toEqual({
      ok: true,
      command: { kind: 'disconnect', name: 'Client A' },
    });
    expect(parseCommand('disconnect "Client A"')).toEqual({
      ok: true,
      command: { kind: 'disconnect', name: 'Client A' },
    });
    expect(parseCommand('disconnect')).toEqual({
      ok: false,
      error: 'Missing the account name (/halo accounts lists them).',
      usage: USAGE.disconnect,
    });
    expect(parseCommand('accounts now')).toEqual({
      ok: false,
      error: 'Unexpected extra argument “now”: accounts takes none.',
      usage: USAGE.accounts,
    });
  });

  it('takeAccount returns the rest without the filter', () => {
    expect(takeAccount('key:a account:"X Y" limit:5')).toEqual({
      ok: true,
      value: { account: 'X Y', rest: 'key:a  limit:5' },
    });
    expect(takeAccount('key:a')).toEqual({ ok: true, value: { account: null, rest: 'key:a' } });
  });
});
