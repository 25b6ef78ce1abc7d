import type { webApi } from '@slack/bolt';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';

/**
 * Who may delete events and change subscriptions: the users in HALO_ADMIN_USERS, or, when that list is empty,
 * the workspace's admins and owners per `users.info`. Answers are cached briefly so that a burst of clicks
 * costs one lookup; a failed lookup denies (failing closed is the only safe default for a delete button).
 */
export function createPermissionCheck(options: {
  adminUsers: readonly string[];
  client: webApi.WebClient;
  clock: Clock;
  log: Logger;
  cacheMs?: number;
}): (userId: string) => Promise<boolean> {
  const { adminUsers, client, clock, log } = options;
  const cacheMs = options.cacheMs ?? 60_000;
  const cache = new Map<string, { allowed: boolean; until: number }>();
  return async (userId) => {
    if (adminUsers.length > 0) return adminUsers.includes(userId);
    const cached = cache.get(userId);
    if (cached !== undefined && cached.until > clock.now()) return cached.allowed;
    try {
      const result = await client.users.info({ user: userId });
      const user = result.user;
      const allowed = user?.is_admin === true || user?.is_owner === true || user?.is_primary_owner === true;
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
