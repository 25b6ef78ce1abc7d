import type PQueue from 'p-queue';
import type { HaloClient } from '../pipeline/halo-port.ts';
import type { Store } from '../pipeline/store-port.ts';
import type { Acknowledger } from './acknowledge.ts';
import type { EventDeleter } from './delete.ts';
import type { RequestWorkspace } from './workspace-accounts.ts';

/** A Halo account of a workspace, as link previews and workflow steps use it: its ID (never its key) and services. */
export interface HaloAccount {
  /** Tells one account's cached answers from another's. */
  readonly id: string;
  /** Its name in the workspace: what `account:NAME` and a workflow step's account input name. */
  readonly name: string;
  readonly halo: HaloClient;
  /** The account's bound on Halo requests in flight, its polls' too: a listing's scan queues its pages on it. */
  readonly haloRequests: PQueue;
  /** The account's scoped view: the alerts it showed and the events deleted with the bot. */
  readonly store: Pick<Store, 'eventMessages' | 'deletion'>;
  readonly acknowledger: Acknowledger;
  readonly deleter: EventDeleter;
}

/** The workspace (and Enterprise Grid organisation) a request came from, as Bolt's `authorize` resolved it. */
export type Workspace = RequestWorkspace;

/**
 * The one question link previews and workflow steps ask before they touch Halo: which accounts this workspace
 * holds, by name. None: the request gets nothing from Halo. Answered by the tenancy seam (workspace-accounts.ts).
 */
export type AccountOf = (workspace: Workspace) => Promise<readonly HaloAccount[]>;
