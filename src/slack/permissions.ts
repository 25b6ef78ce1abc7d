import type { webApi } from '@slack/bolt';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { teamOf, type BotTeam } from './web-client.ts';

/**
 * Who may delete events and change subscriptions: the users in HALO_ADMIN_USERS, or, when that list is empty,
 * the admins and owners of the bot's own workspace (or Enterprise Grid organisation) per `users.info`. An admin
 * of another organisation, met in a Slack Connect channel, is no admin here: `users.info` describes them with
 * their own team's flags, so their team must be the bot's, and the answer must be about the user asked about.
 * Answers are cached briefly so that a burst of clicks costs one lookup; a failed lookup denies (failing closed
 * is the only safe default for a delete button).
 */
export function createPermissionCheck(options: {
  adminUsers: readonly string[];
  client: webApi.WebClient;
  clock: Clock;
  log: Logger;
  /** From `auth.test` at start-up; asked again here when Slack could not be reached then. */
  team?: BotTeam;
  cacheMs?: number;
}): (userId: string) => Promise<boolean> {
  const { adminUsers, client, clock, log } = options;
  const cacheMs = options.cacheMs ?? 60_000;
  const cache = new Map<string, { allowed: boolean; until: number }>();
  let team = options.team;
  const ownTeam = async (): Promise<BotTeam | undefined> => (team ??= teamOf(await client.auth.test()));
  return async (userId) => {
    if (adminUsers.length > 0) return adminUsers.includes(userId);
    const cached = cache.get(userId);
    if (cached !== undefined && cached.until > clock.now()) return cached.allowed;
    try {
      const [own, result] = await Promise.all([ownTeam(), client.users.info({ user: userId })]);
      const user = result.user;
      const isAdmin = user?.is_admin === true || user?.is_owner === true || user?.is_primary_owner === true;
      const sameUser = user?.id === userId;
      const sameTeam =
        own !== undefined &&
        (user?.team_id === own.teamId ||
          (own.enterpriseId !== undefined && user?.enterprise_user?.enterprise_id === own.enterpriseId));
      if (isAdmin && !(sameUser && sameTeam)) {
        log.warn('permissions: an admin of another workspace or organisation is no admin here; denying', {
          user: userId,
        });
      }
      const allowed = isAdmin && sameUser && sameTeam;
      cache.set(userId, { allowed, until: clock.now() + cacheMs });
      return allowed;
    } catch (error) {
      log.warn('permissions: users.info failed; denying', {
        user: userId,
        error,
      });
      return false;
    }
  };
}
