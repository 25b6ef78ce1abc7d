/**
 * The PostgreSQL side of {@link MessageStore}, as in sqlite-messages.ts: only alerted events are watched, so
 * every query is bounded by how many alerts were posted.
 */
import type pg from 'pg';
import type { MessageStore } from './store.ts';

type Query = <R extends pg.QueryResultRow>(sql: string, values?: unknown[]) => Promise<R[]>;
type Transaction = <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>;

/** Schema step 4. */
export const PG_MESSAGES_SCHEMA = `CREATE TABLE halo_watched_events (
     event_id TEXT PRIMARY KEY,
     key TEXT NOT NULL,
     target_id BIGINT,
     listed_at BIGINT NOT NULL,
     misses INTEGER NOT NULL DEFAULT 0,
     gone_at BIGINT
   );
   CREATE INDEX halo_watched_events_key ON halo_watched_events (key) WHERE gone_at IS NULL;
   CREATE INDEX halo_watched_events_target ON halo_watched_events (target_id) WHERE gone_at IS NULL;
   CREATE TABLE halo_event_messages (
     channel TEXT NOT NULL,
     ts TEXT NOT NULL,
     event_id TEXT NOT NULL,
     payload TEXT NOT NULL,
     summary TEXT,
     PRIMARY KEY (channel, ts)
   );
   CREATE INDEX halo_event_messages_event ON halo_event_messages (event_id);`;

/**
 * `fenced`: the poller's kind of transaction, refused once a newer leader took over (see postgres.ts). Counting
 * misses, recording listings and marking events gone use it, so a replaced leader's last scan cannot count twice.
 */
export function pgMessages(query: Query, transaction: Transaction, fenced: Transaction): MessageStore {
  return {
    async recordMessage(message, now) {
      return transaction(async (client) => {
        await client.query(
          `INSERT INTO halo_watched_events (event_id, key, target_id, listed_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (event_id) DO NOTHING`,
          [message.eventId, message.key, message.targetId, now],
        );
        await client.query(
          `INSERT INTO halo_event_messages (channel, ts, event_id, payload) VALUES ($1, $2, $3, $4)
           ON CONFLICT (channel, ts) DO NOTHING`,
          [message.channel, message.ts, message.eventId, message.payload],
        );
        const rows = await client.query<{ gone_at: number | null }>(
          'SELECT gone_at FROM halo_watched_events WHERE event_id = $1',
          [message.eventId],
        );
        return { goneAt: rows.rows[0]?.gone_at ?? null };
      });
    },

    async setMessageSummary(channel, ts, summary) {
      const rows = await query<{ gone_at: number | null }>(
        `UPDATE halo_event_messages m SET summary = $3 WHERE channel = $1 AND ts = $2
         RETURNING (SELECT gone_at FROM halo_watched_events w WHERE w.event_id = m.event_id) AS gone_at`,
        [channel, ts, summary],
      );
      return { goneAt: rows[0]?.gone_at ?? null };
    },

    async watchedEventIds() {
      const rows = await query<{ event_id: string }>(
        'SELECT event_id FROM halo_watched_events WHERE gone_at IS NULL',
      );
      return rows.map((row) => row.event_id);
    },

    async markListed(eventIds, scanStartedAt) {
      if (eventIds.length === 0) return;
      await fenced((client) =>
        client.query(
          `UPDATE halo_watched_events SET listed_at = GREATEST(listed_at, $2), misses = 0
           WHERE event_id = ANY($1::text[])`,
          [eventIds, scanStartedAt],
        ),
      );
    },

    async countMisses(coverage, scanStartedAt, threshold) {
      return fenced(async (client) => {
        if (coverage.all || coverage.keys.length > 0 || coverage.targetIds.length > 0) {
          await client.query(
            `UPDATE halo_watched_events SET misses = misses + 1
             WHERE gone_at IS NULL AND listed_at < $1
               AND ($2 OR key = ANY($3::text[]) OR target_id = ANY($4::bigint[]))`,
            [scanStartedAt, coverage.all, coverage.keys, coverage.targetIds],
          );
        }
        const rows = await client.query<{ event_id: string }>(
          `SELECT event_id FROM halo_watched_events WHERE gone_at IS NULL AND misses >= $1
           ORDER BY event_id COLLATE "C"`,
          [threshold],
        );
        return rows.rows.map((row) => row.event_id);
      });
    },

    async eventMessages(eventIds) {
      if (eventIds.length === 0) return [];
      const rows = await query<{
        channel: string;
        ts: string;
        event_id: string;
        payload: string;
        summary: string | null;
      }>(
        `SELECT channel, ts, event_id, payload, summary FROM halo_event_messages
         WHERE event_id = ANY($1::text[]) ORDER BY event_id COLLATE "C", ts COLLATE "C", channel COLLATE "C"`,
        [eventIds],
      );
      const acks = await query<{ channel: string; message_ts: string; user_id: string; at: number }>(
        `SELECT a.channel, a.message_ts, a.user_id, a.at FROM halo_acknowledgements a
         JOIN halo_event_messages m ON m.channel = a.channel AND m.ts = a.message_ts
         WHERE m.event_id = ANY($1::text[]) ORDER BY a.at, a.user_id COLLATE "C"`,
        [eventIds],
      );
      return rows.map((row) => ({
        channel: row.channel,
        ts: row.ts,
        eventId: row.event_id,
        payload: row.payload,
        summary: row.summary,
        acks: acks
          .filter((ack) => ack.channel === row.channel && ack.message_ts === row.ts)
          .map((ack) => ({
            channel: row.channel,
            messageTs: row.ts,
            eventId: row.event_id,
            userId: ack.user_id,
            at: ack.at,
          })),
      }));
    },

    async markGone(eventIds, items, now) {
      await fenced(async (client) => {
        await client.query(
          'UPDATE halo_watched_events SET gone_at = $2 WHERE gone_at IS NULL AND event_id = ANY($1::text[])',
          [eventIds, now],
        );
        for (const item of items) {
          await client.query(
            `INSERT INTO halo_outbox (channel, kind, payload, dedup_key, created_at, next_attempt_at)
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (dedup_key) DO NOTHING`,
            [item.channel, item.kind, item.payload, item.dedupKey, now],
          );
        }
      });
    },
  };
}
