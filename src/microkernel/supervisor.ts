/**
 * The reincarnation server's policy, as pure functions of the restart history:
 * when to restart a server that failed, and when to give up on it.
 *
 * Like MINIX 3's reincarnation server, the first restart comes at once and
 * later ones back off exponentially (capped). Like an OTP supervisor, more than
 * `maxRestarts` restarts within `restartWindowMs` and it gives up: the server is
 * failed for good, and calls to it fail fast with ESERVERFAILED.
 */

export interface RestartPolicy {
  maxRestarts: number;
  restartWindowMs: number;
  /** Backoff of the second restart in a window, ms; each later one doubles it. */
  backoffMs: number;
  /** The longest backoff, ms. */
  maxBackoffMs: number;
}

export const DEFAULT_BACKOFF_MS = 10;
export const MAX_BACKOFF_MS = 1000;

/** What a restart policy decides: restart the server after `delayMs` ms, or give it up (calls to it then fail with ESERVERFAILED), saying why. */
export type RestartDecision = { restart: true; delayMs: number } | { restart: false; reason: string };

/**
 * A server failed at `now`, having been restarted at the times in `history`
 * (ms, oldest first). Restart it after `delayMs`, or give up.
 */
export function decideRestart(history: readonly number[], now: number, p: RestartPolicy): RestartDecision {
  const recent = history.filter((t) => now - t < p.restartWindowMs).length;
  if (recent >= p.maxRestarts) {
    return { restart: false, reason: `it needed more than ${p.maxRestarts} restarts within ${p.restartWindowMs} ms` };
  }
  const delayMs = recent === 0 ? 0 : Math.min(p.maxBackoffMs, p.backoffMs * 2 ** (recent - 1));
  return { restart: true, delayMs };
}
