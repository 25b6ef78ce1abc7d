/**
 * The PostgreSQL side of {@link ActionStore}: acknowledgements, mutes and the audit log, as in sqlite-actions.ts.
 */
import type pg from 'pg';
import type { Acknowledgement, ActionStore, AuditEntry, Mute } from './store.ts';
import { MUTE_COLUMNS, toMute, type MuteRow } from './rows.ts';

type Query = <R extends pg.QueryResultRow>(sql: string, values?: unknown[]) => Promise<R[]>;

export function pgActions(query: Query): ActionStore {
  return {
    async acknowledge(ack): Promise<Acknowledgement[]> {
      // Two statements, not one with a CTE: a CTE's select would not see the row its own insert adds.
      await query(
        `INSERT INTO halo_acknowledgements (channel, message_ts, user_id, event_id, at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel, message_ts, user_id) DO NOTHING`,
        [ack.channel, ack.messageTs, ack.userId, ack.eventId, ack.at],
      );
      const rows = await query<{
        channel: string;
        message_ts: string;
        user_id: string;
        event_id: string;
        at: number;
      }>(
        `SELECT * FROM halo_acknowledgements WHERE channel = $1 AND message_ts = $2 ORDER BY at, user_id COLLATE "C"`,
        [ack.channel, ack.messageTs],
      );
      return rows.map((row) => ({
        channel: row.channel,
        messageTs: row.message_ts,
        userId: row.user_id,
        eventId: row.event_id,
        at: row.at,
      }));
    },

    async addMute(mute): Promise<Mute> {
      const rows = await query<MuteRow>(
        `INSERT INTO halo_mutes (channel, key, target_id, target_label, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${MUTE_COLUMNS}`,
        [
          mute.channel,
          mute.key,
          mute.targetId,
          mute.targetLabel,
          mute.createdBy,
          mute.createdAt,
          mute.expiresAt,
        ],
      );
      return toMute(rows[0]!);
    },

    async removeMute(id, now, channel): Promise<Mute | null> {
      const rows = await query<MuteRow>(
        `UPDATE halo_mutes SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL AND ($3::text IS NULL OR channel = $3)
         RETURNING ${MUTE_COLUMNS}`,
        [now, id, channel ?? null],
      );
      return rows[0] === undefined ? null : toMute(rows[0]);
    },

    async activeMutes(now, channel): Promise<Mute[]> {
      const rows = await query<MuteRow>(
        `SELECT ${MUTE_COLUMNS} FROM halo_mutes
         WHERE ended_at IS NULL AND expires_at > $1 AND ($2::text IS NULL OR channel = $2) ORDER BY id`,
        [now, channel ?? null],
      );
      return rows.map(toMute);
    },

    async countMuted(held): Promise<void> {
      if (held.size === 0) return;
      await query(
        `UPDATE halo_mutes SET held = held + h.count
         FROM unnest($1::bigint[], $2::bigint[]) AS h(id, count) WHERE halo_mutes.id = h.id`,
        [[...held.keys()], [...held.values()]],
      );
    },

    async expiredMutes(now): Promise<Mute[]> {
      const rows = await query<MuteRow>(
        `SELECT ${MUTE_COLUMNS} FROM halo_mutes WHERE ended_at IS NULL AND expires_at <= $1 ORDER BY expires_at, id`,
        [now],
      );
      return rows.map(toMute);
    },

    async endMutes(ids, now): Promise<void> {
      if (ids.length === 0) return;
      await query('UPDATE halo_mutes SET ended_at = $1 WHERE id = ANY($2::bigint[]) AND ended_at IS NULL', [
        now,
        ids,
      ]);
    },

    async mutedTotal(): Promise<number> {
      const rows = await query<{ n: number }>('SELECT coalesce(sum(held), 0)::bigint AS n FROM halo_mutes');
      return rows[0]?.n ?? 0;
    },

    async audit(entry): Promise<void> {
      await query(
        'INSERT INTO halo_audit (at, user_id, action, channel, detail) VALUES ($1, $2, $3, $4, $5)',
        [entry.at, entry.userId, entry.action, entry.channel, entry.detail],
      );
    },

    async recentAudit(limit): Promise<AuditEntry[]> {
      const rows = await query<{
        id: number;
        at: number;
        user_id: string;
        action: AuditEntry['action'];
        channel: string | null;
        detail: string;
      }>(
        'SELECT id, at, user_id, action, channel, detail FROM halo_audit ORDER BY at DESC, id DESC LIMIT $1',
        [limit],
      );
      return rows.map((row) => ({
        id: row.id,
        at: row.at,
        userId: row.user_id,
        action: row.action,
        channel: row.channel,
        detail: row.detail,
      }));
    },
  };
}
