/**
 * Which replica polls Halo and posts. Every replica answers Slack; exactly one, the leader, runs the duties with
 * side effects (polling, delivery, mute announcements). The election itself is a port: PostgreSQL implements it
 * with an advisory lock on a dedicated connection; SQLite, one process by construction, always leads.
 */
import { sleep } from '../clock.ts';
import type { Logger } from '../log.ts';

export interface LeaderView {
  readonly role: 'leader' | 'standby';
  /** The replica that leads (or led last), null when unknown. */
  readonly leader: string | null;
}

export interface LeaderElection {
  /** This replica's name. */
  readonly self: string;
  /** Takes the lead if it is free, or confirms it is still held; says who leads. Never throws. */
  check(): Promise<LeaderView>;
  /** Whether this replica can prove, right now, that it still leads. Checked before each poll and each post. */
  stillLeads(): Promise<boolean>;
  /** Gives the lead up so that another replica takes it at once (SIGTERM). Never throws. */
  release(): Promise<void>;
}

/** SQLite: the file lock already makes this the only process, so it leads from start to stop. */
export function singleProcess(self: string): LeaderElection {
  return {
    self,
    check: () => Promise.resolve({ role: 'leader', leader: self }),
    stillLeads: () => Promise.resolve(true),
    release: () => Promise.resolve(),
  };
}

export interface Duties {
  /** Starts polling and delivery. */
  lead(): Promise<void>;
  /** Stops them, letting a post in flight finish (bounded). */
  follow(): Promise<void>;
}

/**
 * Checks the election every `heartbeatMs` and starts or stops the duties as the role changes. A standby takes
 * over within one heartbeat of the lead being released (SIGTERM) or of the old leader's session ending (kill -9).
 */
export class LeaderLoop {
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private leading = false;
  private current: LeaderView = { role: 'standby', leader: null };

  constructor(
    private readonly election: LeaderElection,
    private readonly duties: Duties,
    private readonly heartbeatMs: number,
    private readonly log: Logger,
  ) {}

  /** Resolves after the first check, so that a lone replica leads before it says it started. */
  async start(): Promise<void> {
    await this.tick();
    this.loop = this.run();
  }

  view(): LeaderView & { self: string } {
    return { ...this.current, self: this.election.self };
  }

  private async run(): Promise<void> {
    while (!this.isStopping()) {
      await sleep(this.heartbeatMs, this.stopping.signal);
      if (this.isStopping()) return;
      await this.tick();
    }
  }

  /** A method, not `signal.aborted` inline: the flag changes across awaits, which narrowing cannot see. */
  private isStopping(): boolean {
    return this.stopping.signal.aborted;
  }

  private async tick(): Promise<void> {
    const view = await this.election.check();
    this.current = view;
    try {
      if (view.role === 'leader' && !this.leading) {
        this.leading = true;
        this.log.info('leadership: this replica leads now; polling and posting', {
          replica: this.election.self,
        });
        await this.duties.lead();
      } else if (view.role === 'standby' && this.leading) {
        this.leading = false;
        this.log.warn('leadership: lost; stopped polling and posting', {
          replica: this.election.self,
          leader: view.leader ?? 'unknown',
        });
        await this.duties.follow();
      }
    } catch (error) {
      this.log.error('leadership: the duties could not be switched', { error });
    }
  }

  /** Stops the duties, then releases the lead: a standby takes over within its next heartbeat. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    if (this.leading) {
      this.leading = false;
      await this.duties.follow();
    }
    await this.election.release();
  }
}
