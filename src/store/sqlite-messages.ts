/**
 * The SQLite side of {@link MessageStore}: the messages that show each alerted event, and whether the latest
 * conclusive scans still listed those events. Only alerted events are watched, so every query here is bounded by
 * how many alerts were posted, never by how many events Halo holds.
 */
import type Database from 'better-sqlite3';
import type { Acknowledgement, MessageStore, NewOutboxItem, ScanCoverage } from './store.ts';

/** Schema version 3. */
export const MESSAGES_SCHEMA = `
CREATE TABLE watched_events (
  event_id TEXT PRIMARY KEY,
  key TEXT NOT NULL,
  target_id INTEGER,
  listed_at INTEGER NOT NULL,
  misses INTEGER NOT NULL DEFAULT 0,
  gone_at INTEGER
);
CREATE INDEX watched_events_key ON watched_events (key) WHERE gone_at IS NULL;
CREATE INDEX watched_events_target ON watched_events (target_id) WHERE gone_at IS NULL;
CREATE TABLE event_messages (
  channel TEXT NOT NULL,
  ts TEXT NOT NULL,
  event_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  summary TEXT,
  PRIMARY KEY (channel, ts)
);
CREATE INDEX event_messages_event ON event_messages (event_id);
`;

interface MessageRow {
  channel: string;
  ts: string;
  event_id: string;
  payload: string;
  summary: string | null;
}

export function sqliteMessages(db: Database.Database): MessageStore {
  const insertOutbox = db.prepare(
    `INSERT INTO outbox (channel, kind, payload, dedup_key, created_at, next_attempt_at)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING`,
  );
  const markListed = db.prepare(
    `UPDATE watched_events SET listed_at = max(listed_at, ?), misses = 0
     WHERE event_id IN (SELECT value FROM json_each(?))`,
  );
  // `covered` is the same predicate in both statements: the scopes of the conclusive scans.
  const covered = `(? = 1 OR key IN (SELECT value FROM json_each(?)) OR target_id IN (SELECT value FROM json_each(?)))`;
  const countMiss = db.prepare(
    `UPDATE watched_events SET misses = misses + 1 WHERE gone_at IS NULL AND listed_at < ? AND ${covered}`,
  );
  const missed = db.prepare(
    `SELECT event_id FROM watched_events WHERE gone_at IS NULL AND misses >= ? ORDER BY event_id`,
  );
  return {
    recordMessage(message, now) {
      const goneAt = db.transaction(() => {
        db.prepare(
          `INSERT INTO watched_events (event_id, key, target_id, listed_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (event_id) DO NOTHING`,
        ).run(message.eventId, message.key, message.targetId, now);
        db.prepare(
          `INSERT INTO event_messages (channel, ts, event_id, payload) VALUES (?, ?, ?, ?)
           ON CONFLICT (channel, ts) DO NOTHING`,
        ).run(message.channel, message.ts, message.eventId, message.payload);
        const row = db
          .prepare('SELECT gone_at FROM watched_events WHERE event_id = ?')
          .get(message.eventId) as {
          gone_at: number | null;
        };
        return row.gone_at;
      })();
      return Promise.resolve({ goneAt });
    },

    setMessageSummary(channel, ts, summary) {
      const row = db
        .prepare(
          `UPDATE event_messages SET summary = ? WHERE channel = ? AND ts = ?
           RETURNING (SELECT gone_at FROM watched_events w WHERE w.event_id = event_messages.event_id) AS gone_at`,
        )
        .get(summary, channel, ts) as { gone_at: number | null } | undefined;
      return Promise.resolve({ goneAt: row?.gone_at ?? null });
    },

    watchedEventIds() {
      const rows = db.prepare('SELECT event_id FROM watched_events WHERE gone_at IS NULL').all() as {
        event_id: string;
      }[];
      return Promise.resolve(rows.map((row) => row.event_id));
    },

    markListed(eventIds, scanStartedAt) {
      if (eventIds.length > 0) markListed.run(scanStartedAt, JSON.stringify(eventIds));
      return Promise.resolve();
    },

    countMisses(coverage: ScanCoverage, scanStartedAt, threshold) {
      const ids = db.transaction(() => {
        if (coverage.all || coverage.keys.length > 0 || coverage.targetIds.length > 0) {
          countMiss.run(
            scanStartedAt,
            coverage.all ? 1 : 0,
            JSON.stringify(coverage.keys),
            JSON.stringify(coverage.targetIds),
          );
        }
        return (missed.all(threshold) as { event_id: string }[]).map((row) => row.event_id);
      })();
      return Promise.resolve(ids);
    },

    eventMessages(eventIds) {
      if (eventIds.length === 0) return Promise.resolve([]);
      const rows = db
        .prepare(
          `SELECT channel, ts, event_id, payload, summary FROM event_messages
           WHERE event_id IN (SELECT value FROM json_each(?)) ORDER BY event_id, ts, channel`,
        )
        .all(JSON.stringify(eventIds)) as MessageRow[];
      const acks = db.prepare(
        `SELECT user_id, at FROM acknowledgements WHERE channel = ? AND message_ts = ? ORDER BY at, user_id`,
      );
      return Promise.resolve(
        rows.map((row) => ({
          channel: row.channel,
          ts: row.ts,
          eventId: row.event_id,
          payload: row.payload,
          summary: row.summary,
          acks: (acks.all(row.channel, row.ts) as { user_id: string; at: number }[]).map(
            (ack): Acknowledgement => ({
              channel: row.channel,
              messageTs: row.ts,
              eventId: row.event_id,
              userId: ack.user_id,
              at: ack.at,
            }),
          ),
        })),
      );
    },

    markGone(eventIds, items: readonly NewOutboxItem[], now) {
      db.transaction(() => {
        db.prepare(
          `UPDATE watched_events SET gone_at = ? WHERE gone_at IS NULL AND event_id IN (SELECT value FROM json_each(?))`,
        ).run(now, JSON.stringify(eventIds));
        for (const item of items)
          insertOutbox.run(item.channel, item.kind, item.payload, item.dedupKey, now, now);
      })();
      return Promise.resolve();
    },
  };
}
