/**
 * Heartbeats: the harness pings every domain's control plane now and then; a
 * domain that has not answered within the timeout is hung (an infinite loop, a
 * deadlock) and is reported, so that a hang ends the run instead of freezing it.
 * A busy domain still answers: the ping waits only for its event loop's next turn.
 */
export interface HeartbeatTarget {
  name: string;
  ping(): Promise<unknown>;
  /** True once the domain has exited: no more heartbeats expected. */
  gone(): boolean;
}

/** Watch `targets`; `onHung` is called once per domain that misses. Returns a stop function. */
export function watchHeartbeats(
  targets: HeartbeatTarget[],
  timeoutMs: number,
  onHung: (name: string, silentMs: number) => void,
): () => void {
  const lastAnswer = new Map(targets.map((t) => [t.name, performance.now()]));
  const outstanding = new Set<string>();
  const hung = new Set<string>();
  const period = Math.max(20, Math.min(500, timeoutMs / 4));
  const timer = setInterval(() => {
    const now = performance.now();
    for (const t of targets) {
      if (hung.has(t.name) || t.gone()) continue;
      const silent = now - lastAnswer.get(t.name)!;
      if (silent > timeoutMs) {
        hung.add(t.name);
        onHung(t.name, silent);
        continue;
      }
      if (outstanding.has(t.name)) continue;
      outstanding.add(t.name);
      t.ping().then(
        () => {
          outstanding.delete(t.name);
          lastAnswer.set(t.name, performance.now());
        },
        () => outstanding.delete(t.name),
      );
    }
  }, period);
  timer.unref();
  return () => clearInterval(timer);
}
