// Password guessing per login name: a few free mistakes, then a wait that doubles with every further failure up to
// a ceiling. At the ceiling a guesser gets 4 attempts an hour, while the person who forgot their password waits
// at most 15 minutes once they remember it.

export interface LoginFailures {
  /** Failed attempts in a row; a successful login clears them. */
  failures: number;
  lastFailureAt: Date;
}

export const loginThrottle = {
  freeFailures: 5,
  firstDelayMs: 1_000,
  maxDelayMs: 15 * 60_000,
} as const;

/** How long this login name must wait before its next attempt is even checked; 0 when it may try now. */
export function loginRetryAfterMs(record: LoginFailures | undefined, now: Date): number {
  if (!record || record.failures < loginThrottle.freeFailures) return 0;
  const delay = Math.min(loginThrottle.firstDelayMs * 2 ** (record.failures - loginThrottle.freeFailures), loginThrottle.maxDelayMs);
  return Math.max(0, record.lastFailureAt.getTime() + delay - now.getTime());
}
