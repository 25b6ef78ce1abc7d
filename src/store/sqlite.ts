import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { HaloEvent } from '../halo/types.ts';
import { toOutboxItem, toSubscription, type OutboxRow, type SubscriptionRow } from './rows.ts';
import { ACTIONS_SCHEMA, sqliteActions } from './sqlite-actions.ts';
import { MESSAGES_SCHEMA, sqliteMessages } from './sqlite-messages.ts';
import {
  StoreError,
  type ActionStore,
  type MessageStore,
  type DeletionRecord,
  type FailedDelivery,
  type NewOutboxItem,
  type OutboxItem,
  type OutboxKind,
  type Store,
  type StoreStats,
  type NewSubscription,
  type ScanThread,
  type Subscription,
} from './store.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS seen (event_id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS staged (
  event_id TEXT PRIMARY KEY,
  event TEXT NOT NULL,
  date_created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  channel TEXT NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  dedup_key TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  done_at INTEGER,
  sent_at INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, channel, next_attempt_at, id);
CREATE TABLE IF NOT EXISTS subscriptions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  channel TEXT NOT NULL,
  keys TEXT NOT NULL,
  target_ids TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS deletions (
  event_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  already_deleted INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/** Rolls back `replaceWithDigest`'s transaction. */
class NotReplaced extends Error {}

interface ThreadRow {
  channel: string;
  target_id: number;
  parent_ts: string;
  parent: string;
  counts: string;
  opened_at: number;
}

/** Opens (creating if needed) the SQLite store and takes it for this process alone. */
export function openSqliteStore(path: string): Store {
  const file = path === ':memory:' ? path : resolve(path);
  let db: Database.Database | undefined;
  try {
    if (file !== ':memory:') makeFolder(dirname(file));
    db = new Database(file, { timeout: 2000 });
    // Exclusive locking: a second bot on the same file would post every alert twice. The lock is taken by the
    // first write below and held until close; the OS releases it if the process dies.
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode loses at most the last transactions on power loss, never on a process crash.
    db.pragma('synchronous = NORMAL');
    migrate(db, file);
    db.prepare(
      `INSERT INTO state (key, value) VALUES ('opened_at', ?)
                ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    ).run(String(Date.now()));
  } catch (error) {
    db?.close();
    throw error instanceof StoreError ? error : new StoreError(describeOpenError(file, error));
  }
  return new SqliteStore(db);
}

/** The schema this version writes, kept in SQLite's `user_version`. Raise it with each step added below. */
export const SQLITE_SCHEMA_VERSION = 3;

/**
 * Brings the file to the current schema in one transaction: a crash mid-way leaves the old schema whole. A file
 * from a newer version is refused rather than used blindly, since its rows may mean what this version cannot know.
 * Version 0 is a new file or one made before versions were kept (with or without `outbox.sent_at`).
 */
function migrate(db: Database.Database, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SQLITE_SCHEMA_VERSION)
    throw new StoreError(newerSchema(file, version, SQLITE_SCHEMA_VERSION));
  if (version === SQLITE_SCHEMA_VERSION) return;
  db.transaction(() => {
    if (version < 1) {
      // Version 1: everything up to this point, whichever of it an unversioned file already has. A change to the
      // schema from now on is a new numbered step here (and in pg-schema.ts), never an edit of this one.
      db.exec(SCHEMA);
      db.exec(ACTIONS_SCHEMA);
      const columns = db.pragma('table_info(outbox)') as { name: string }[];
      if (!columns.some((column) => column.name === 'sent_at'))
        db.exec('ALTER TABLE outbox ADD COLUMN sent_at INTEGER');
    }
    // Version 2: a subscription's minimum severity, and scan threads (their parent's ts survives restarts).
    if (version < 2)
      db.exec(`ALTER TABLE subscriptions ADD COLUMN min_severity TEXT;
      CREATE TABLE threads (
        channel TEXT NOT NULL,
        target_id INTEGER NOT NULL,
        parent_ts TEXT NOT NULL,
        parent TEXT NOT NULL,
        counts TEXT NOT NULL,
        opened_at INTEGER NOT NULL,
        PRIMARY KEY (channel, target_id)
      );`);
    // Version 3: the messages showing each alerted event, to update them once the event is gone from Halo.
    db.exec(MESSAGES_SCHEMA);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
  })();
}

export function newerSchema(where: string, found: number, known: number): string {
  return `The database ${where} was written by a newer version of halo-slack (schema version ${found}; this version knows up to ${known}). Upgrade halo-slack, or set DATABASE_URL to another database.`;
}

/**
 * `mkdir -p` one level at a time. Node's recursive mkdir retries for ever, synchronously, where creating a folder
 * says "no such file" although its parent exists (procfs): the process would hang before it could say anything.
 */
function makeFolder(folder: string): void {
  const missing: string[] = [];
  let current = folder;
  while (!existsSync(current)) {
    missing.unshift(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  if (!statSync(current).isDirectory())
    throw Object.assign(new Error(`${current} is a file`), { code: 'ENOTDIR' });
  for (const level of missing) mkdirSync(level);
}

function describeOpenError(file: string, error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const detail = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_BUSY' || /locked|busy/i.test(detail)) {
    return `The database ${file} is in use by another process (is another halo-slack running?). Stop it, or set DATABASE_URL to another file.`;
  }
  if (code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || code === 'EACCES' || code === 'EROFS') {
    return `The database ${file} cannot be written (${detail}). Make its folder writable by this user, or set DATABASE_URL to a writable path.`;
  }
  if (code === 'EEXIST' || code === 'ENOTDIR') {
    return `The database ${file} cannot be created: part of its folder path is a file, not a folder. Set DATABASE_URL to a path in a folder.`;
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return `The file ${file} is not a halo-slack database (${detail}). Set DATABASE_URL to another file.`;
  }
  return `The database ${file} could not be opened: ${detail}. Check DATABASE_URL.`;
}

class SqliteStore implements Store {
  private readonly insertSeen;
  private readonly insertSeenPage;
  private readonly insertStaged;
  private readonly recordPageTx;
  private readonly selectUnseen;
  private readonly actions: ActionStore;
  private readonly messages: MessageStore;

  constructor(private readonly db: Database.Database) {
    this.actions = sqliteActions(db);
    this.messages = sqliteMessages(db);
    this.insertSeen = db.prepare('INSERT OR IGNORE INTO seen (event_id) VALUES (?)');
    this.insertStaged = db.prepare(
      'INSERT OR IGNORE INTO staged (event_id, event, date_created) VALUES (?, ?, ?)',
    );
    // One statement for the whole page: a scan records 1000 IDs a page, nearly all seen before, and one call
    // into SQLite instead of 1000 halves the time the event loop spends here. RETURNING gives only new IDs.
    this.insertSeenPage = db.prepare(
      'INSERT OR IGNORE INTO seen (event_id) SELECT value FROM json_each(?) RETURNING event_id',
    );
    // One statement a page, read only (no write transaction when nothing is new); `key` is the array index.
    this.selectUnseen = db
      .prepare(
        'SELECT key FROM json_each(?) WHERE NOT EXISTS (SELECT 1 FROM seen WHERE event_id = value) ORDER BY key',
      )
      .pluck();
    this.recordPageTx = db.transaction((events: readonly HaloEvent[], news: readonly boolean[]) => {
      const inserted = this.insertSeenPage.all(JSON.stringify(events.map((e) => e.eventId))) as {
        event_id: string;
      }[];
      if (inserted.length === 0) return 0;
      const unseen = new Set(inserted.map((row) => row.event_id));
      let staged = 0;
      for (const [i, event] of events.entries()) {
        // `delete`: an ID listed twice on one page is staged once.
        if (!unseen.delete(event.eventId) || news[i] !== true) continue;
        this.insertStaged.run(event.eventId, JSON.stringify(event), event.dateCreated);
        staged++;
      }
      return staged;
    });
  }

  recordPage(events: readonly HaloEvent[], news: readonly boolean[]): Promise<number> {
    return Promise.resolve(this.recordPageTx(events, news));
  }

  unseen(ids: readonly string[]): Promise<number[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return Promise.resolve(this.selectUnseen.all(JSON.stringify(ids)) as number[]);
  }

  stage(events: readonly HaloEvent[]): Promise<void> {
    this.db.transaction(() => {
      for (const event of events) {
        this.insertSeen.run(event.eventId);
        this.insertStaged.run(event.eventId, JSON.stringify(event), event.dateCreated);
      }
    })();
    return Promise.resolve();
  }

  staged(): Promise<HaloEvent[]> {
    const rows = this.db.prepare('SELECT event FROM staged ORDER BY date_created, event_id').all() as {
      event: string;
    }[];
    return Promise.resolve(rows.map((row) => JSON.parse(row.event) as HaloEvent));
  }

  route(items: readonly NewOutboxItem[], eventIds: readonly string[], now: number): Promise<void> {
    const insert = this.db.prepare(
      `INSERT INTO outbox (channel, kind, payload, dedup_key, created_at, next_attempt_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING`,
    );
    const unstage = this.db.prepare('DELETE FROM staged WHERE event_id = ?');
    this.db.transaction(() => {
      for (const item of items) insert.run(item.channel, item.kind, item.payload, item.dedupKey, now, now);
      for (const id of eventIds) unstage.run(id);
    })();
    return Promise.resolve();
  }

  getState(key: string): Promise<string | null> {
    const row = this.db.prepare('SELECT value FROM state WHERE key = ?').get(key) as
      { value: string } | undefined;
    return Promise.resolve(row?.value ?? null);
  }

  setState(entries: Readonly<Record<string, string>>): Promise<void> {
    const upsert = this.db.prepare(
      'INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(entries)) upsert.run(key, value);
    })();
    return Promise.resolve();
  }

  dueChannels(now: number): Promise<string[]> {
    const rows = this.db
      .prepare(`SELECT DISTINCT channel FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?`)
      .all(now) as { channel: string }[];
    return Promise.resolve(rows.map((row) => row.channel));
  }

  nextDue(channel: string, now: number): Promise<OutboxItem | null> {
    // The channel's oldest pending row, due or not: a later row must never overtake one waiting for its retry,
    // including after a restart, when no in-memory hold remembers the wait.
    const row = this.db
      .prepare(
        `SELECT id, channel, kind, payload, dedup_key, attempts, sent_at, created_at, next_attempt_at FROM outbox
         WHERE state = 'pending' AND channel = ? ORDER BY id LIMIT 1`,
      )
      .get(channel) as (OutboxRow & { next_attempt_at: number }) | undefined;
    if (row === undefined || row.next_attempt_at > now) return Promise.resolve(null);
    return Promise.resolve(toOutboxItem(row));
  }

  unattemptedAlerts(channel: string): Promise<OutboxItem[]> {
    const rows = this.db
      .prepare(
        `SELECT id, channel, kind, payload, dedup_key, attempts, sent_at, created_at FROM outbox
         WHERE state = 'pending' AND channel = ? AND kind = 'alert' AND attempts = 0 AND sent_at IS NULL
         ORDER BY id`,
      )
      .all(channel) as OutboxRow[];
    return Promise.resolve(rows.map(toOutboxItem));
  }

  replaceWithDigest(ids: readonly number[], digest: NewOutboxItem, now: number): Promise<boolean> {
    const remove = this.db.prepare(
      `DELETE FROM outbox WHERE id = ? AND state = 'pending' AND attempts = 0 AND sent_at IS NULL`,
    );
    const insert = this.db.prepare(
      `INSERT INTO outbox (channel, kind, payload, dedup_key, created_at, next_attempt_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING`,
    );
    const replaced = this.db.transaction(() => {
      for (const id of ids) {
        // A row claimed or posted meanwhile must be posted as itself: undo everything.
        if (remove.run(id).changes !== 1) throw new NotReplaced();
      }
      insert.run(digest.channel, digest.kind, digest.payload, digest.dedupKey, now, now);
    });
    try {
      replaced();
      return Promise.resolve(true);
    } catch (error) {
      if (error instanceof NotReplaced) return Promise.resolve(false);
      throw error;
    }
  }

  markSending(id: number, now: number): Promise<boolean> {
    // One process holds the file, so a pending row is always this process's to post.
    const result = this.db
      .prepare(`UPDATE outbox SET sent_at = ? WHERE id = ? AND state = 'pending'`)
      .run(now, id);
    return Promise.resolve(result.changes > 0);
  }

  markDelivered(id: number, now: number): Promise<void> {
    this.db
      .prepare(`UPDATE outbox SET state = 'delivered', attempts = attempts + 1, done_at = ? WHERE id = ?`)
      .run(now, id);
    return Promise.resolve();
  }

  markRetry(id: number, nextAttemptAt: number, error: string): Promise<void> {
    this.db
      .prepare(`UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?`)
      .run(nextAttemptAt, error, id);
    return Promise.resolve();
  }

  markFailed(id: number, error: string, now: number): Promise<void> {
    this.db
      .prepare(
        `UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?, done_at = ? WHERE id = ?`,
      )
      .run(error, now, id);
    return Promise.resolve();
  }

  failChannel(channel: string, error: string, now: number): Promise<number> {
    const result = this.db
      .prepare(
        `UPDATE outbox SET state = 'failed', last_error = ?, done_at = ? WHERE channel = ? AND state = 'pending'`,
      )
      .run(error, now, channel);
    return Promise.resolve(result.changes);
  }

  recentFailures(limit: number): Promise<FailedDelivery[]> {
    const rows = this.db
      .prepare(
        `SELECT channel, kind, last_error AS error, done_at AS at FROM outbox
         WHERE state = 'failed' ORDER BY done_at DESC, id DESC LIMIT ?`,
      )
      .all(limit) as { channel: string; kind: OutboxKind; error: string | null; at: number | null }[];
    return Promise.resolve(
      rows.map((row) => ({ channel: row.channel, kind: row.kind, error: row.error ?? '', at: row.at ?? 0 })),
    );
  }

  prune(before: number): Promise<void> {
    this.db.prepare(`DELETE FROM outbox WHERE state = 'delivered' AND done_at < ?`).run(before);
    return Promise.resolve();
  }

  addSubscription(sub: NewSubscription): Promise<{ subscription: Subscription; created: boolean }> {
    const minSeverity = sub.minSeverity ?? null;
    const keys = JSON.stringify([...sub.keys].sort());
    const targetIds = JSON.stringify([...sub.targetIds].sort((a, b) => a - b));
    return Promise.resolve(
      this.db.transaction(() => {
        const existing = this.db
          .prepare(
            'SELECT * FROM subscriptions WHERE channel = ? AND keys = ? AND target_ids = ? AND min_severity IS ?',
          )
          .get(sub.channel, keys, targetIds, minSeverity) as SubscriptionRow | undefined;
        if (existing !== undefined) return { subscription: toSubscription(existing), created: false };
        const result = this.db
          .prepare(
            'INSERT INTO subscriptions (channel, keys, target_ids, created_by, created_at, min_severity) VALUES (?, ?, ?, ?, ?, ?)',
          )
          .run(sub.channel, keys, targetIds, sub.createdBy, sub.createdAt, minSeverity);
        const row = this.db
          .prepare('SELECT * FROM subscriptions WHERE id = ?')
          .get(result.lastInsertRowid) as SubscriptionRow;
        return { subscription: toSubscription(row), created: true };
      })(),
    );
  }

  removeSubscription(channel: string, id: number): Promise<boolean> {
    const result = this.db.prepare('DELETE FROM subscriptions WHERE channel = ? AND id = ?').run(channel, id);
    return Promise.resolve(result.changes > 0);
  }

  removeAllSubscriptions(channel: string): Promise<number> {
    return Promise.resolve(
      this.db.prepare('DELETE FROM subscriptions WHERE channel = ?').run(channel).changes,
    );
  }

  subscriptions(channel?: string): Promise<Subscription[]> {
    const rows = (
      channel === undefined
        ? this.db.prepare('SELECT * FROM subscriptions ORDER BY id').all()
        : this.db.prepare('SELECT * FROM subscriptions WHERE channel = ? ORDER BY id').all(channel)
    ) as SubscriptionRow[];
    return Promise.resolve(rows.map(toSubscription));
  }

  openThread(thread: Omit<ScanThread, 'counts'>): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO threads (channel, target_id, parent_ts, parent, counts, opened_at) VALUES (?, ?, ?, ?, '{}', ?)
         ON CONFLICT (channel, target_id) DO UPDATE SET parent_ts = excluded.parent_ts, parent = excluded.parent,
           counts = '{}', opened_at = excluded.opened_at`,
      )
      .run(thread.channel, thread.targetId, thread.parentTs, thread.parent, thread.openedAt);
    return Promise.resolve();
  }

  openThreads(): Promise<ScanThread[]> {
    const rows = this.db.prepare('SELECT * FROM threads').all() as ThreadRow[];
    return Promise.resolve(rows.map(toThread));
  }

  thread(channel: string, targetId: number): Promise<ScanThread | null> {
    const row = this.db
      .prepare('SELECT * FROM threads WHERE channel = ? AND target_id = ?')
      .get(channel, targetId) as ThreadRow | undefined;
    return Promise.resolve(row === undefined ? null : toThread(row));
  }

  countReply(channel: string, targetId: number, key: string, count: number): Promise<void> {
    this.db
      .prepare(
        `UPDATE threads SET counts = json_set(counts, '$.' || json_quote(?),
           coalesce(json_extract(counts, '$.' || json_quote(?)), 0) + ?)
         WHERE channel = ? AND target_id = ?`,
      )
      .run(key, key, count, channel, targetId);
    return Promise.resolve();
  }

  closeThread(channel: string, targetId: number): Promise<ScanThread | null> {
    const row = this.db
      .prepare('DELETE FROM threads WHERE channel = ? AND target_id = ? RETURNING *')
      .get(channel, targetId) as ThreadRow | undefined;
    return Promise.resolve(row === undefined ? null : toThread(row));
  }

  recordDeletion(record: DeletionRecord): Promise<void> {
    this.db
      .prepare(
        'INSERT OR REPLACE INTO deletions (event_id, user_id, at, already_deleted) VALUES (?, ?, ?, ?)',
      )
      .run(record.eventId, record.userId, record.at, record.alreadyDeleted ? 1 : 0);
    return Promise.resolve();
  }

  deletion(eventId: string): Promise<DeletionRecord | null> {
    const row = this.db.prepare('SELECT * FROM deletions WHERE event_id = ?').get(eventId) as
      { event_id: string; user_id: string; at: number; already_deleted: number } | undefined;
    if (row === undefined) return Promise.resolve(null);
    return Promise.resolve({
      eventId: row.event_id,
      userId: row.user_id,
      at: row.at,
      alreadyDeleted: row.already_deleted === 1,
    });
  }

  acknowledge: ActionStore['acknowledge'] = (ack) => this.actions.acknowledge(ack);
  addMute: ActionStore['addMute'] = (mute) => this.actions.addMute(mute);
  removeMute: ActionStore['removeMute'] = (id, now, channel) => this.actions.removeMute(id, now, channel);
  activeMutes: ActionStore['activeMutes'] = (now, channel) => this.actions.activeMutes(now, channel);
  countMuted: ActionStore['countMuted'] = (held) => this.actions.countMuted(held);
  expiredMutes: ActionStore['expiredMutes'] = (now) => this.actions.expiredMutes(now);
  endMutes: ActionStore['endMutes'] = (ids, now) => this.actions.endMutes(ids, now);
  mutedTotal: ActionStore['mutedTotal'] = () => this.actions.mutedTotal();
  audit: ActionStore['audit'] = (entry) => this.actions.audit(entry);
  recentAudit: ActionStore['recentAudit'] = (limit) => this.actions.recentAudit(limit);
  recordMessage: MessageStore['recordMessage'] = (message, now) => this.messages.recordMessage(message, now);
  setMessageSummary: MessageStore['setMessageSummary'] = (channel, ts, summary) =>
    this.messages.setMessageSummary(channel, ts, summary);
  watchedEventIds: MessageStore['watchedEventIds'] = () => this.messages.watchedEventIds();
  markListed: MessageStore['markListed'] = (ids, at) => this.messages.markListed(ids, at);
  countMisses: MessageStore['countMisses'] = (coverage, at, threshold) =>
    this.messages.countMisses(coverage, at, threshold);
  eventMessages: MessageStore['eventMessages'] = (ids) => this.messages.eventMessages(ids);
  markGone: MessageStore['markGone'] = (ids, items, now) => this.messages.markGone(ids, items, now);

  stats(): Promise<StoreStats> {
    const count = (sql: string): number => (this.db.prepare(sql).get() as { n: number }).n;
    return Promise.resolve({
      seen: count('SELECT count(*) AS n FROM seen'),
      staged: count('SELECT count(*) AS n FROM staged'),
      pending: count(`SELECT count(*) AS n FROM outbox WHERE state = 'pending'`),
      failed: count(`SELECT count(*) AS n FROM outbox WHERE state = 'failed'`),
      delivered: count(`SELECT count(*) AS n FROM outbox WHERE state = 'delivered'`),
    });
  }

  pendingCount(): Promise<number> {
    const row = this.db.prepare(`SELECT count(*) AS n FROM outbox WHERE state = 'pending'`).get() as {
      n: number;
    };
    return Promise.resolve(row.n);
  }

  close(): Promise<void> {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }
}

function toThread(row: ThreadRow): ScanThread {
  return {
    channel: row.channel,
    targetId: row.target_id,
    parentTs: row.parent_ts,
    parent: row.parent,
    counts: JSON.parse(row.counts) as Record<string, number>,
    openedAt: row.opened_at,
  };
}
