/**
 * The clients' clock and the open loop's pacing rule: a request is sent at its
 * scheduled arrival or after it, never before. Node's timers wake early and in
 * whole ms, so a wait sleeps on a timer for its coarse part and turns the event
 * loop for the rest. The clock is injected, so the rule is tested on a virtual
 * clock without real time.
 */

/**
 * A timer set for the coarse part of a wait stops this far before the arrival:
 * setTimeout counts whole ms from a cached loop time, so it wakes up to ~1.5 ms
 * early (or late) by performance.now(); the rest is waited out by loop turns.
 */
const TIMER_MARGIN_MS = 1;

/** An arrival released this much after its scheduled time counts as late in the pacing figures, ms. */
export const LATE_MS = 1;

/** The clock the clients keep time by: the host's, unless a test injects one. */
export interface WireClock {
  /** Milliseconds, monotonic (performance.now()). */
  now(): number;
  /** Resolves about `ms` later: possibly a little early or late by `now()`. */
  sleep(ms: number): Promise<void>;
  /** Resolves after the event loop has turned once (I/O and timers have had their chance). */
  turn(): Promise<void>;
}

export const hostClock: WireClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((res) => setTimeout(res, ms)),
  turn: () => new Promise((res) => setImmediate(res)),
};

/**
 * Resolves when `clock.now() >= dueMs`, never before: a timer for all but the
 * last TIMER_MARGIN_MS, then loop turns until due (a timer that woke early is
 * caught by the check). True if it waited at all (the event loop turned).
 */
export async function waitUntil(dueMs: number, clock: WireClock): Promise<boolean> {
  let waited = false;
  for (let left = dueMs - clock.now(); left > 0; left = dueMs - clock.now()) {
    await (left > TIMER_MARGIN_MS ? clock.sleep(left - TIMER_MARGIN_MS) : clock.turn());
    waited = true;
  }
  return waited;
}

/**
 * How well an open loop kept its schedule (host-measured). A request is released
 * at its scheduled arrival or after it, never before; if `maxInFlight` requests
 * are outstanding it then waits for a slot, which is queueing: it shows in the
 * request's latency, not here.
 */
export interface Pacing {
  /** Requests handed to the net server before their scheduled arrival: 0 unless the pacing is broken. */
  sentEarly: number;
  /** Requests released more than 1 ms after their scheduled arrival (the host's timers or event loop fell behind). */
  sentLateOver1Ms: number;
  /** How long after its scheduled arrival each request was released, µs (to the µs, at least 1). */
  lateUs: { p50: number; p99: number; max: number };
}
