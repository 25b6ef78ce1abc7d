import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { startupFields } from '../../src/startup-summary.ts';

const REQUIRED = {
  SLACK_BOT_TOKEN: 'xoxb-1111-2222-abcdefghijklmnop',
  SLACK_SIGNING_SECRET: 'signing-secret-0123456789abcdef',
  HALO_API_KEY: 'halo-api-key-0123456789abcdef',
};

describe('startupFields: the halo-slack started line', () => {
  it('names HTTP mode and where it listens, the SQLite file, the Halo URL, the interval and /metrics', () => {
    const config = parseConfig({
      ...REQUIRED,
      HALO_ALERT_CHANNEL: 'CALERTS',
      HALO_POLL_INTERVAL_SECONDS: '90',
    });
    expect(
      startupFields(config, {
        port: 3000,
        metricsPort: null,
        connection: 'HTTP (Events API at /slack/events)',
      }),
    ).toEqual({
      port: 3000,
      mode: 'http',
      connection: 'HTTP (Events API at /slack/events), listening on 0.0.0.0:3000 (every interface)',
      database: `sqlite ${resolve('./data/halo-slack.db')}`,
      haloUrl: 'https://api.halosecurity.com/api/v1',
      pollIntervalSeconds: 90,
      alertChannel: 'CALERTS',
      metrics: '0.0.0.0:3000/metrics (the public port)',
    });
  });

  it('names Socket Mode and its connection, and PostgreSQL without its password or query', () => {
    const config = parseConfig({
      ...REQUIRED,
      SLACK_APP_TOKEN: 'xapp-1-A1-123-abcdef',
      DATABASE_URL: 'postgres://halo:s3cret-pa55@db.internal:5432/halo?sslpassword=other',
      HALO_API_URL: 'http://127.0.0.1:8080/api/v1?debug=1',
      METRICS_PORT: '9100',
      HOST: '::1',
    });
    const fields = startupFields(config, {
      port: 3000,
      metricsPort: 9100,
      connection: 'Socket Mode, connected',
    });
    expect(fields).toMatchObject({
      mode: 'socket',
      connection: 'Socket Mode, connected',
      database: 'postgres://halo:***@db.internal:5432/halo',
      haloUrl: 'http://127.0.0.1:8080/api/v1',
      metrics: '127.0.0.1:9100/metrics',
    });
    expect(JSON.stringify(fields)).not.toContain('s3cret');
  });
});
