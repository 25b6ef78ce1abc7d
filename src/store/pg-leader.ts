/**
 * Leader election on PostgreSQL: a session-level advisory lock held on a connection of its own (a pooled one
 * could be handed back and its lock with it). Winning bumps the fencing token in `halo_leader`; every outbox claim
 * carries it, so a leader that paused and lost the lock can no longer claim or mark a row.
 *
 * What bounds a leader that dies without closing its connection (a host lost, a network cut, a frozen process),
 * set on this connection by the bot itself so that no server setting is needed:
 * - `idle_session_timeout`: the leader queries every heartbeat; a session silent for longer is ended by the
 *   server, which frees the lock. A `kill -9` on a live host needs none of this: the kernel closes the socket and
 *   the server ends the session (and frees the lock) at once.
 * - `tcp_keepalives_idle/interval/count`: a peer that vanished mid-query is noticed within ~11 s.
 * - `client_connection_check_interval`: a long query notices a client gone within 2 s.
 */
import pg from 'pg';
import type { Logger } from '../log.ts';
import type { LeaderElection, LeaderView } from '../pipeline/leadership.ts';
import { connectionConfig, LOCK_CLASS, lockKey } from './postgres.ts';

/** The session settings above, for a heartbeat of `heartbeatMs`. */
export function leaderSessionSettings(heartbeatMs: number): Record<string, string> {
  return {
    idle_session_timeout: `${Math.max(5000, 5 * heartbeatMs)}ms`,
    tcp_keepalives_idle: '5',
    tcp_keepalives_interval: '2',
    tcp_keepalives_count: '3',
    client_connection_check_interval: '2000ms',
  };
}

export class PgLeaderElection implements LeaderElection {
  private client: pg.Client | null = null;
  private token: number | null = null;

  constructor(
    private readonly url: string,
    /** Every view of the database carries the token from the win on (tenants.ts). */
    private readonly store: { setFence(token: number): void },
    readonly self: string,
    private readonly heartbeatMs: number,
    private readonly log: Logger,
  ) {}

  private async connection(): Promise<pg.Client> {
    if (this.client !== null) return this.client;
    const client = new pg.Client({ ...connectionConfig(this.url, this.self), query_timeout: 5000 });
    // The lock lives and dies with this connection: losing it is losing the lead, at once.
    client.on('error', (error) => {
      this.log.warn('leadership: the leader connection was lost', { error });
      this.drop(client);
    });
    await client.connect();
    for (const [name, value] of Object.entries(leaderSessionSettings(this.heartbeatMs))) {
      // Older servers lack some settings (idle_session_timeout needs PostgreSQL 14): say so, go on without.
      await client.query(`SELECT set_config($1, $2, false)`, [name, value]).catch((error: unknown) => {
        this.log.warn('leadership: a session setting is not supported by this server', {
          setting: name,
          error,
        });
      });
    }
    this.client = client;
    return client;
  }

  private drop(client: pg.Client): void {
    if (this.client === client) {
      this.client = null;
      this.token = null;
    }
    client.end().catch(() => undefined);
  }

  /**
   * One query at a time on the leader connection: the heartbeat's check and the poller's or delivery's
   * stillLeads run on their own schedules, and pg deprecates queueing a query behind a running one.
   */
  private turn: Promise<unknown> = Promise.resolve();
  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const run = this.turn.then(work, work);
    this.turn = run.catch(() => undefined);
    return run;
  }

  check(): Promise<LeaderView> {
    return this.inTurn(() => this.checkNow());
  }

  private async checkNow(): Promise<LeaderView> {
    let client: pg.Client | undefined;
    try {
      client = await this.connection();
      if (this.token === null) {
        const got = await client.query<{ got: boolean }>(
          `SELECT pg_try_advisory_lock(${LOCK_CLASS}, ${lockKey('leader')}) AS got`,
        );
        if (got.rows[0]?.got === true) {
          const won = await client.query<{ token: number }>(
            `UPDATE halo_leader SET token = token + 1, holder = $1, since = $2 WHERE id = 1 RETURNING token`,
            [this.self, Date.now()],
          );
          this.token = won.rows[0]!.token;
          this.store.setFence(this.token);
          return { role: 'leader', leader: this.self };
        }
      }
      const row = (
        await client.query<{ token: number; holder: string | null }>(
          'SELECT token, holder FROM halo_leader WHERE id = 1',
        )
      ).rows[0];
      if (this.token !== null && row?.token === this.token) return { role: 'leader', leader: this.self };
      if (this.token !== null) {
        // Someone else bumped the token: this session lost the lock without noticing. Start afresh.
        this.log.error('leadership: another replica took over; this one stops at once', {
          leader: row?.holder,
        });
        this.drop(client);
      }
      return { role: 'standby', leader: row?.holder ?? null };
    } catch (error) {
      if (this.token !== null) this.log.warn('leadership: cannot prove the lead; stepping down', { error });
      if (client !== undefined) this.drop(client);
      this.token = null;
      return { role: 'standby', leader: null };
    }
  }

  stillLeads(): Promise<boolean> {
    return this.inTurn(() => this.stillLeadsNow());
  }

  private async stillLeadsNow(): Promise<boolean> {
    const client = this.client;
    const token = this.token;
    if (client === null || token === null) return false;
    try {
      const row = (await client.query<{ token: number }>('SELECT token FROM halo_leader WHERE id = 1'))
        .rows[0];
      return row?.token === token && this.token === token;
    } catch {
      return false;
    }
  }

  release(): Promise<void> {
    return this.inTurn(() => this.releaseNow());
  }

  private async releaseNow(): Promise<void> {
    const client = this.client;
    if (client === null) return;
    try {
      if (this.token !== null) {
        await client.query('UPDATE halo_leader SET holder = NULL WHERE id = 1 AND token = $1', [this.token]);
        await client.query(`SELECT pg_advisory_unlock(${LOCK_CLASS}, ${lockKey('leader')})`);
      }
    } catch (error) {
      this.log.warn('leadership: could not hand over cleanly; the lock ends with the connection', { error });
    } finally {
      this.client = null;
      this.token = null;
      await client.end().catch(() => undefined);
    }
  }
}
