/**
 * Your restart policy (the reincarnation lab). The supervisor calls `policy`
 * every time a server fails, and does what it returns:
 *
 *   { restart: true, delayMs }   start a new incarnation after delayMs ms
 *   { restart: false, reason }   give the server up: calls to it fail fast
 *                                with ESERVERFAILED from then on
 *
 * It must decide synchronously. If it throws or returns anything else, the
 * supervisor gives the server up and the report says why.
 *
 * This starter restarts every failure at once and never gives up. Read the
 * handout (README.md) and make it back off and respect the budget.
 */

/** What the supervisor tells the policy about a failure. */
export interface RestartRequest {
  /** The server that failed: 'disk', 'net' or 'app'. */
  server: string;
  /** How it failed: 'crash', 'exit', 'oom', 'hang' (or 'panic'). */
  kind: string;
  /** The incarnation that failed (1 = the first). */
  incarnation: number;
  /** Epoch ms of each earlier restart of this server that you decided, oldest first. */
  history: readonly number[];
  /** Epoch ms now: when the failure was noticed. */
  now: number;
  /** The restart intensity: at most maxRestarts restarts within any restartWindowMs ms. */
  budget: { maxRestarts: number; restartWindowMs: number };
}

export type RestartDecision = { restart: true; delayMs: number } | { restart: false; reason: string };

export function policy(r: RestartRequest): RestartDecision {
  void r;
  // TODO: back off when the server keeps failing, and give up past the budget
  return { restart: true, delayMs: 0 };
}
