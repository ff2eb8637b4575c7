/**
 * The timer that settles what passed its deadline (calls in ipc.ts, the
 * clients' requests in wire/link.ts): it runs a sweep a few times per deadline
 * while anything waits, never keeps the process alive, and stops when told.
 */
export class Sweeper {
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly deadlineMs: number,
    private readonly sweep: () => void,
  ) {}

  /** Sweep every quarter deadline (5 to 250 ms) from now on, unless already (or the deadline is infinite). */
  start(): void {
    if (this.timer || this.deadlineMs === Infinity) return;
    this.timer = setInterval(this.sweep, Math.max(5, Math.min(250, this.deadlineMs / 4)));
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
