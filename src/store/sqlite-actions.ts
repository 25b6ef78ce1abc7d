/**
 * The SQLite side of {@link ActionStore}: acknowledgements, mutes and the audit log. Kept apart from the outbox
 * so that each file stays readable; `SqliteStore` delegates to it.
 */
import type Database from 'better-sqlite3';
import type { Acknowledgement, ActionStore, AuditEntry, Mute, NewAuditEntry, NewMute } from './store.ts';
import { toMute, type MuteRow } from './rows.ts';

export const ACTIONS_SCHEMA = `
CREATE TABLE IF NOT EXISTS acknowledgements (
  channel TEXT NOT NULL,
  message_ts TEXT NOT NULL,
  user_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (channel, message_ts, user_id)
);
CREATE TABLE IF NOT EXISTS mutes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  channel TEXT NOT NULL,
  key TEXT,
  target_id INTEGER,
  target_label TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  held INTEGER NOT NULL DEFAULT 0,
  ended_at INTEGER
);
CREATE INDEX IF NOT EXISTS mutes_open ON mutes (ended_at, expires_at);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  action TEXT NOT NULL,
  channel TEXT,
  detail TEXT NOT NULL
);
`;

interface AckRow {
  channel: string;
  message_ts: string;
  user_id: string;
  event_id: string;
  at: number;
}

export function sqliteActions(db: Database.Database): ActionStore {
  const muteColumns = 'id, channel, key, target_id, target_label, created_by, created_at, expires_at, held';
  return {
    acknowledge(ack: Acknowledgement): Promise<Acknowledgement[]> {
      const rows = db.transaction(() => {
        db.prepare(
          `INSERT INTO acknowledgements (channel, message_ts, user_id, event_id, at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (channel, message_ts, user_id) DO NOTHING`,
        ).run(ack.channel, ack.messageTs, ack.userId, ack.eventId, ack.at);
        return db
          .prepare('SELECT * FROM acknowledgements WHERE channel = ? AND message_ts = ? ORDER BY at, user_id')
          .all(ack.channel, ack.messageTs) as AckRow[];
      })();
      return Promise.resolve(
        rows.map((row) => ({
          channel: row.channel,
          messageTs: row.message_ts,
          userId: row.user_id,
          eventId: row.event_id,
          at: row.at,
        })),
      );
    },

    addMute(mute: NewMute): Promise<Mute> {
      const row = db
        .prepare(
          `INSERT INTO mutes (channel, key, target_id, target_label, created_by, created_at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING ${muteColumns}`,
        )
        .get(
          mute.channel,
          mute.key,
          mute.targetId,
          mute.targetLabel,
          mute.createdBy,
          mute.createdAt,
          mute.expiresAt,
        ) as MuteRow;
      return Promise.resolve(toMute(row));
    },

    removeMute(id: number, now: number, channel?: string): Promise<Mute | null> {
      // Ended, not deleted: what it held back still counts in the totals, and it is never announced.
      const row = (
        channel === undefined
          ? db
              .prepare(
                `UPDATE mutes SET ended_at = ? WHERE id = ? AND ended_at IS NULL RETURNING ${muteColumns}`,
              )
              .get(now, id)
          : db
              .prepare(
                `UPDATE mutes SET ended_at = ? WHERE id = ? AND channel = ? AND ended_at IS NULL
                 RETURNING ${muteColumns}`,
              )
              .get(now, id, channel)
      ) as MuteRow | undefined;
      return Promise.resolve(row === undefined ? null : toMute(row));
    },

    activeMutes(now: number, channel?: string): Promise<Mute[]> {
      const rows = (
        channel === undefined
          ? db
              .prepare(
                `SELECT ${muteColumns} FROM mutes WHERE ended_at IS NULL AND expires_at > ? ORDER BY id`,
              )
              .all(now)
          : db
              .prepare(
                `SELECT ${muteColumns} FROM mutes WHERE ended_at IS NULL AND expires_at > ? AND channel = ?
                 ORDER BY id`,
              )
              .all(now, channel)
      ) as MuteRow[];
      return Promise.resolve(rows.map(toMute));
    },

    countMuted(held: ReadonlyMap<number, number>): Promise<void> {
      const add = db.prepare('UPDATE mutes SET held = held + ? WHERE id = ?');
      db.transaction(() => {
        for (const [id, count] of held) add.run(count, id);
      })();
      return Promise.resolve();
    },

    expiredMutes(now: number): Promise<Mute[]> {
      const rows = db
        .prepare(
          `SELECT ${muteColumns} FROM mutes WHERE ended_at IS NULL AND expires_at <= ? ORDER BY expires_at, id`,
        )
        .all(now) as MuteRow[];
      return Promise.resolve(rows.map(toMute));
    },

    endMutes(ids: readonly number[], now: number): Promise<void> {
      const end = db.prepare('UPDATE mutes SET ended_at = ? WHERE id = ? AND ended_at IS NULL');
      db.transaction(() => {
        for (const id of ids) end.run(now, id);
      })();
      return Promise.resolve();
    },

    mutedTotal(): Promise<number> {
      const row = db.prepare('SELECT coalesce(sum(held), 0) AS n FROM mutes').get() as { n: number };
      return Promise.resolve(row.n);
    },

    audit(entry: NewAuditEntry): Promise<void> {
      db.prepare('INSERT INTO audit (at, user_id, action, channel, detail) VALUES (?, ?, ?, ?, ?)').run(
        entry.at,
        entry.userId,
        entry.action,
        entry.channel,
        entry.detail,
      );
      return Promise.resolve();
    },

    recentAudit(limit: number): Promise<AuditEntry[]> {
      const rows = db
        .prepare(
          'SELECT id, at, user_id, action, channel, detail FROM audit ORDER BY at DESC, id DESC LIMIT ?',
        )
        .all(limit) as {
        id: number;
        at: number;
        user_id: string;
        action: AuditEntry['action'];
        channel: string | null;
        detail: string;
      }[];
      return Promise.resolve(
        rows.map((row) => ({
          id: row.id,
          at: row.at,
          userId: row.user_id,
          action: row.action,
          channel: row.channel,
          detail: row.detail,
        })),
      );
    },
  };
}
