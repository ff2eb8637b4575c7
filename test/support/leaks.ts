/**
 * Leak observation for the tests: an async_hooks hook that follows every async
 * resource of the named types from creation to destruction, and on Linux the
 * OS threads of this process counted from /proc/self/task.
 */
import { createHook, type AsyncHook } from 'node:async_hooks';
import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';

/** Resources of the tracked types, as the hook sees them. */
export interface Tracker<T extends string> {
  /** Live tracked async resources: id -> type. */
  readonly live: Map<number, T>;
  /** Every tracked resource ever created, in creation order. */
  readonly created: { id: number; type: T }[];
  /** How many of `type` are alive now. */
  liveCount(type: T): number;
}

/**
 * Tracks the async resources of `types` from the beforeAll to the afterAll of
 * the suite (or describe block) this is called in.
 */
export function trackResources<T extends string>(types: readonly T[]): Tracker<T> {
  const tracked: ReadonlySet<string> = new Set(types);
  const live = new Map<number, T>();
  const created: { id: number; type: T }[] = [];
  let hook: AsyncHook;
  beforeAll(() => {
    hook = createHook({
      init(id, type) {
        if (!tracked.has(type)) return;
        live.set(id, type as T);
        created.push({ id, type: type as T });
      },
      destroy(id) {
        live.delete(id);
      },
    }).enable();
  });
  afterAll(() => {
    hook.disable();
  });
  const liveCount = (type: T) => {
    let n = 0;
    for (const t of live.values()) if (t === type) n++;
    return n;
  };
  return { live, created, liveCount };
}

export const HAVE_PROC = existsSync('/proc/self/task');

/** OS threads of this process (Linux), or NaN elsewhere. */
export function osThreads(): number {
  return HAVE_PROC ? readdirSync('/proc/self/task').length : NaN;
}

/**
 * A few turns of the event loop (immediates only: no timers, no wall-clock
 * wait). Enough for async_hooks to deliver the destroy events of anything
 * already closed: Node emits them in a batch from an immediate.
 */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((res) => setImmediate(res));
}
