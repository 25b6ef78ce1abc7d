import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.ts';
import { commentCuts, describeCut, loadEnvFile } from '../../src/env-file.ts';
import { ROOT } from '../harness.ts';

function envFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'halo-slack-envfile-')), '.env');
  writeFileSync(path, text);
  return path;
}

describe('commentCuts', () => {
  it('finds values dotenv cuts at a "#" that belongs to the value', () => {
    const text = [
      '# a comment line',
      'HALO_ALERT_CHANNEL=#security',
      'SLACK_SIGNING_SECRET=abc#def',
      'export HALO_API_KEY=#key',
      'PORT=3000 # a comment on purpose',
      'LOG_LEVEL="#quoted"',
      'HALO_ADMIN_USERS= #only a comment',
    ].join('\n');
    expect(commentCuts(text)).toEqual([
      { name: 'HALO_ALERT_CHANNEL', line: 2, emptied: true },
      { name: 'SLACK_SIGNING_SECRET', line: 3, emptied: false },
      { name: 'HALO_API_KEY', line: 4, emptied: true },
    ]);
    // The premise: dotenv really does read them so.
    expect(dotenv.parse(text)).toMatchObject({
      HALO_ALERT_CHANNEL: '',
      SLACK_SIGNING_SECRET: 'abc',
      HALO_API_KEY: '',
    });
  });

  it('skips the lines of a quoted multi-line value', () => {
    expect(commentCuts('KEY="first\nA=#not-a-setting\n"\nB=x#y')).toEqual([
      { name: 'B', line: 4, emptied: false },
    ]);
  });
});

describe('describeCut', () => {
  it('tells a #channel-name apart from a cut value, and never shows the value', () => {
    expect(describeCut({ name: 'HALO_ALERT_CHANNEL', line: 2, emptied: true })).toBe(
      'HALO_ALERT_CHANNEL in .env (line 2) starts with "#", which .env reads as a comment, so the setting was empty: ' +
        'HALO_ALERT_CHANNEL takes a channel ID like C0123ABCD (channel details → the ID at the bottom), not a #name',
    );
    expect(describeCut({ name: 'SLACK_SIGNING_SECRET', line: 3, emptied: false })).toBe(
      'SLACK_SIGNING_SECRET in .env (line 3) contains "#", which .env reads as the start of a comment, so the value was cut there: put the value in double quotes',
    );
  });
});

describe('loadEnvFile', () => {
  it('fills gaps in the real environment; a real variable wins, and its .env line is then no problem', () => {
    const path = envFile('HALO_ALERT_CHANNEL=#security\nPORT=4000\nLOG_LEVEL=debug\n');
    expect(loadEnvFile(path, { LOG_LEVEL: 'warn' })).toEqual({
      env: { HALO_ALERT_CHANNEL: '', PORT: '4000', LOG_LEVEL: 'warn' },
      problems: [describeCut({ name: 'HALO_ALERT_CHANNEL', line: 1, emptied: true })],
    });
    expect(loadEnvFile(path, { HALO_ALERT_CHANNEL: 'C1' }).problems).toEqual([]);
  });

  it('without a file, is the real environment', () => {
    expect(loadEnvFile(join(tmpdir(), 'no-such-dir-halo', '.env'), { A: '1' })).toEqual({
      env: { A: '1' },
      problems: [],
    });
  });
});

describe('.env.example copied unchanged', () => {
  it('is refused with each placeholder named, as clearly as missing values; its alert channel is commented out', () => {
    const example = dotenv.parse(readFileSync(join(ROOT, '.env.example'), 'utf8'));
    expect(example.HALO_ALERT_CHANNEL, 'HALO_ALERT_CHANNEL is commented out').toBeUndefined();
    let error: unknown;
    try {
      parseConfig(example);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'SLACK_BOT_TOKEN is still the example value from .env.example: copy the Bot User OAuth Token (xoxb-…) from your Slack app, OAuth & Permissions page',
      'SLACK_SIGNING_SECRET is still the example value from .env.example: copy the Signing Secret from your Slack app, Basic Information page (or, for Socket Mode, set SLACK_APP_TOKEN instead)',
      'HALO_API_KEY is still the example value from .env.example: create an API key in Halo Security under Account → API',
    ]);
  });

  it('puts problems found in .env first, with the others', () => {
    expect(() => parseConfig({}, ['first'])).toThrow(
      /4 settings to fix[\s\S]*- first\n {2}- SLACK_BOT_TOKEN is missing/,
    );
  });
});
