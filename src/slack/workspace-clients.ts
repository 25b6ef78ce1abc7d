/**
 * One Web API client per workspace, built from its installation's bot token (the env token in the single
 * shape), kept while the token is: an install, reinstall or uninstall of a workspace forgets its client, so the
 * next call reads the new token (or finds none). The pipeline posts through `chatFor(workspace)`.
 */
import type { webApi } from '@slack/bolt';
import type { ChatPort } from '../pipeline/chat-port.ts';
import type { SlackMessage } from './blocks/index.ts';
import { createSlackChat } from './slack-chat.ts';

export interface WorkspaceClientsOptions {
  /** The workspace's bot token, in clear; null when it has not installed the app. */
  readonly token: (workspace: string) => Promise<string | null>;
  readonly create: (token: string) => webApi.WebClient;
}

export class WorkspaceClients {
  private readonly clients = new Map<string, webApi.WebClient>();
  /** Bumped by `forget`: a lookup that began before it must not cache the token it read. */
  private readonly generations = new Map<string, number>();

  constructor(private readonly options: WorkspaceClientsOptions) {}

  /** The workspace's client, or null when it has no installation (nothing can be said to it). */
  async clientFor(workspace: string): Promise<webApi.WebClient | null> {
    const cached = this.clients.get(workspace);
    if (cached !== undefined) return cached;
    const generation = this.generations.get(workspace) ?? 0;
    const token = await this.options.token(workspace);
    if (token === null) return null;
    const client = this.options.create(token);
    if ((this.generations.get(workspace) ?? 0) === generation) this.clients.set(workspace, client);
    return client;
  }

  /** The workspace's chat port: each call goes through its current client ('revoked' when it has none). */
  chatFor(workspace: string): ChatPort<SlackMessage> {
    return createSlackChat(() => this.clientFor(workspace));
  }

  /** The workspace was installed again or removed: its token changed. */
  forget(workspace: string): void {
    this.clients.delete(workspace);
    this.generations.set(workspace, (this.generations.get(workspace) ?? 0) + 1);
  }
}
