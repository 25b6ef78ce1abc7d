import { describe, expect, it } from 'vitest';
import { startupMessage } from '../../src/startup-message.ts';

describe('startupMessage', () => {
  it('keeps the lines of a list, escapes control characters within them, and redacts every secret', () => {
    const env = {
      HALO_API_KEY: 'halo-api-key-0123456789',
      SLACK_APP_TOKEN: 'xapp-1-A111-222-abcdef',
      DATABASE_URL: 'postgres://bot:db-s3cr3t-pw-42@db.internal/halo',
    };
    expect(
      startupMessage(
        'cannot start:\n  - password "db-s3cr3t-pw-42" rejected\u001b[2J\n  - key HALO-API-KEY-0123456789\u202E xapp-1-A111-222-abcdef',
        env,
      ),
    ).toBe(
      'cannot start:\n  - password "[redacted]" rejected\\u001B[2J\n  - key [redacted]\\u202E [redacted]\n',
    );
  });
});
