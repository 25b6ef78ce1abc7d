/**
 * How often the replica that polls an account shares its last successful poll with the other replicas (the
 * `last_success_at` state, which `/halo status` on another replica shows; the registry's poll time, which
 * `/halo accounts` shows), when nothing else is written: a steady poll writes no row. Another replica's view of
 * the last poll is at most this much older than the holder's (README, "Several replicas"). Here, not in the
 * poller, because the status text states it too.
 */
export const LAST_SUCCESS_SHARE_MS = 5 * 60_000;
