/**
 * A client's calls to a server that may die and be restarted under it, in
 * server code (kernel-neutral): what is safe to repeat is repeated, in order.
 *
 * A call that failed because its callee died or restarted (EPEERDIED: it may or
 * may not have been done; EDEADDST, ESTALE: it was not delivered) is repeated
 * on the callee's next incarnation, at most `attempts` times, like MINIX's VFS
 * repeating a block request after a driver restart. That is safe only for calls
 * that do the same thing however often they are done: every disk call is such
 * a call (a lookup, a read, and a write of given bytes at an explicit offset,
 * which NFS calls idempotent), and so is a receive (NET_ACCEPT), which takes
 * nothing until it is answered.
 *
 * Idempotent is not enough for writes: two writes to the same bytes must also
 * stay in order, or an older write repeated late would cover a newer one that
 * was acknowledged. So while the callee is down every call waits at one gate,
 * and they all go again in the order they were first sent.
 */
import type { Errno, Msg, MsgType, Rep, Reply, ServerName } from '../protocol.js';
import type { Handle, ServerContext } from './server.js';

/** The callee died or restarted under the call. */
export const RESTART_ERRNOS: ReadonlySet<Errno> = new Set<Errno>(['EPEERDIED', 'EDEADDST', 'ESTALE']);

export interface RetryPolicy {
  /** Repeats of one call at most (MINIX's VFS: 5). */
  attempts: number;
  /** How long to wait for a new incarnation, ms, before a call gives up waiting. */
  waitMs: number;
}

export class RetryingClient<S extends ServerName> {
  private current: Handle<S>;
  private recovering: Promise<void> | null = null;

  constructor(
    private readonly server: S,
    ctx: ServerContext,
    private readonly policy: RetryPolicy,
  ) {
    this.current = ctx.handle(server);
  }

  /** The incarnation calls go to now. */
  get handle(): Handle<S> {
    return this.current;
  }

  /** Call the server, repeating the call on its next incarnation if it died under it. */
  async call<K extends MsgType<S>>(ctx: ServerContext, msg: Msg<S, K>): Promise<Reply<Rep<S, K>>> {
    for (let attempt = 0; ; attempt++) {
      while (this.recovering) await this.recovering;
      const via = this.current;
      const r = await ctx.call(via, msg);
      if (r.ok || !RESTART_ERRNOS.has(r.errno) || attempt >= this.policy.attempts) return r;
      ctx.counters.add('retries');
      if (!this.recovering) {
        const p: Promise<void> = this.recover(ctx, via.gen).finally(() => {
          if (this.recovering === p) this.recovering = null;
        });
        this.recovering = p;
      }
      await this.recovering;
      // no new incarnation came within the wait: repeating would only wait again
      if (this.current.gen === via.gen && this.current.state === 'down') return r;
    }
  }

  /** Wait until the server has an incarnation after `gen` (or is given up, or the wait is over). */
  private async recover(ctx: ServerContext, gen: number): Promise<void> {
    let waited = 0;
    let step = 1;
    for (;;) {
      const h = ctx.handle(this.server);
      if (h.gen !== gen || h.state !== 'down' || waited >= this.policy.waitMs) {
        this.current = h;
        return;
      }
      await ctx.sleep(step);
      waited += step;
      step = Math.min(step * 2, 50);
    }
  }
}
