/**
 * When a run's requests ended ok, by the millisecond of the run: enough to say
 * how fast the run went once it was under way. A run starts cold in both
 * kernels (the buffer cache is empty, and every thread compiles its code
 * afresh, the microkernel's three as the monolith's one), so a short run's
 * throughput over its whole time is partly its start; the second half of its
 * time is the same run without it.
 */
export class OkTimeline {
  private counts = new Uint32Array(4096);
  private last = -1;

  /** One request ended ok, `atMs` after the run's first request was sent. */
  note(atMs: number): void {
    const i = atMs > 0 ? Math.floor(atMs) : 0;
    if (i >= this.counts.length) {
      const grown = new Uint32Array(Math.max(i + 1, this.counts.length * 2));
      grown.set(this.counts);
      this.counts = grown;
    }
    this.counts[i]++;
    if (i > this.last) this.last = i;
  }

  /**
   * Requests ended ok per second over the later half of a run of `elapsedMs`
   * (the milliseconds from its middle on, whole), or null for a run too short to
   * halve (under 2 ms).
   */
  secondHalfPerSec(elapsedMs: number): number | null {
    if (!(elapsedMs >= 2)) return null;
    const from = Math.ceil(elapsedMs / 2);
    let ok = 0;
    for (let i = from; i <= this.last; i++) ok += this.counts[i];
    return (ok / (elapsedMs - from)) * 1000;
  }
}
