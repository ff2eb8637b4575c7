/**
 * A domain's table of capabilities: for each server it holds a channel to,
 * which incarnation the channel reaches and whether that incarnation is up.
 * Every call a server makes goes through here first (MINIX's endpoint check,
 * seL4's capability lookup), and is refused without being sent when:
 *
 *   ECALLDENIED    this domain holds no channel to that server, or holds one
 *                  it may only answer on (counted: callsDenied)
 *   ESTALE         the handle names an earlier incarnation: its channel is
 *                  gone, and the new one must not get a call meant for it
 *   ESERVERFAILED  the supervisor gave up on the server
 *   EDEADDST       the server died and its next incarnation is not up yet
 */
import type { Counters } from '../metrics/counters.js';
import type { Reply, ServerName } from '../protocol.js';
import { fail, type Handle } from '../servers/server.js';
import type { Held } from './transport.js';

/** What a link needs of an endpoint. */
export interface LinkEndpoint {
  call(msg: { type: string }, held: Held, reqId?: number): Promise<Reply<unknown>>;
  /** Close the channel; calls pending on it settle as if the peer died (EPEERDIED). */
  abandon(): void;
  readonly pendingCalls: number;
}

interface Link {
  gen: number;
  state: Handle['state'];
  ep: LinkEndpoint | null;
  mayCall: boolean;
}

/** How many refused calls a domain keeps a note of. */
export const DENIED_LOG = 16;

export class Links {
  private readonly table = new Map<ServerName, Link>();
  /** The first calls refused for want of a grant: "from -> to: TYPE". */
  readonly denied: string[] = [];

  constructor(
    private readonly self: ServerName,
    private readonly counters: Counters,
  ) {}

  /** A channel to incarnation `gen` of `peer`, replacing any to an earlier one. Returns a token for `down`. */
  up(peer: ServerName, gen: number, ep: LinkEndpoint, mayCall: boolean): object {
    const old = this.table.get(peer);
    const link: Link = { gen, state: 'up', ep, mayCall };
    this.table.set(peer, link);
    old?.ep?.abandon();
    return link;
  }

  /** `peer` is down (at boot, or its channel closed): calls fail fast until its next incarnation is up. */
  awaiting(peer: ServerName, gen: number, failed: boolean): void {
    this.table.set(peer, { gen, state: failed ? 'failed' : 'down', ep: null, mayCall: true });
  }

  /** The channel of `token` closed; true if it was the current one (its peer is now down). */
  down(token: object): boolean {
    for (const [, link] of this.table) {
      if (link !== token) continue;
      // given up stays given up: the supervisor's word can come before the channel's close
      if (link.state !== 'failed') link.state = 'down';
      link.ep = null;
      return true;
    }
    return false;
  }

  /**
   * The supervisor gave up on incarnation `gen` of `peer`: there is none after it,
   * so whichever of its incarnations we hold is gone for good (false if we hold
   * none, or a later one).
   */
  failed(peer: ServerName, gen: number): boolean {
    const l = this.table.get(peer);
    if (!l || l.gen > gen) return false;
    l.state = 'failed';
    l.ep?.abandon();
    l.ep = null;
    return true;
  }

  handle<S extends ServerName>(to: S): Handle<S> {
    const l = this.table.get(to);
    return { server: to, gen: l?.gen ?? 0, state: l?.state ?? 'failed' };
  }

  get pendingCalls(): number {
    let n = 0;
    for (const l of this.table.values()) n += l.ep?.pendingCalls ?? 0;
    return n;
  }

  /** Call `to` (a name: its current incarnation; a handle: exactly that one), or refuse. `reqId`: the request it belongs to, if traced. */
  call(to: ServerName | Handle, msg: { type: string }, held: Held, reqId?: number): Promise<Reply<unknown>> {
    const name = typeof to === 'string' ? to : to.server;
    const l = this.table.get(name);
    if (!l || !l.mayCall) {
      this.counters.add('callsDenied');
      if (this.denied.length < DENIED_LOG) this.denied.push(`${this.self} -> ${name}: ${String(msg.type)}`);
      return Promise.resolve(fail('ECALLDENIED', `${this.self} holds no grant to call ${name}`));
    }
    if (typeof to !== 'string' && to.gen !== l.gen) return Promise.resolve(fail('ESTALE', `${name} incarnation ${to.gen} is gone (now ${l.gen})`));
    if (l.state === 'failed') return Promise.resolve(fail('ESERVERFAILED', `${name} was given up`));
    if (l.state === 'down' || !l.ep) return Promise.resolve(fail('EDEADDST', `${name} is down`));
    return reqId === undefined ? l.ep.call(msg, held) : l.ep.call(msg, held, reqId);
  }
}
