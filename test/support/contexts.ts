/**
 * Hand-made ServerContexts for calling a server's handlers in-process through
 * bootServer: heap blocks, a seeded rng, the `call` the test gives, every
 * server up in its first incarnation, and timers for `sleep`. And `handled`,
 * which handles a message as both kernels do (faults/inject.ts handleMessage):
 * counted as the server's next message, where a planned fault may strike.
 */
import seedrandom from 'seedrandom';
import { handleMessage, type FaultInjector } from '../../src/faults/inject.js';
import type { Counters } from '../../src/metrics/counters.js';
import type { Reply, ServerName } from '../../src/protocol.js';
import { fail, heapBlocks, type Handle, type ServerContext, type ServerInstance } from '../../src/servers/server.js';

/**
 * What a test's fake sees of a call: the callee's name, the message, and the
 * handle the call went through if it went through one (else undefined).
 */
export type FakeCall = (to: ServerName, msg: any, via?: Handle) => Reply<unknown> | Promise<Reply<unknown>>;

/** The handle every server has in a lone test context: its first incarnation, up. */
export function firstHandle<S extends ServerName>(to: S): Handle<S> {
  return { server: to, gen: 1, state: 'up' };
}

/**
 * The context of server `name`, counting into `counters`, calling others
 * through `call` (by name, whether the server called by name or through a
 * handle; the handle is passed as the third argument).
 */
export function serverContext(name: ServerName, counters: Counters, call: FakeCall | ServerContext['call']): ServerContext {
  const fake = call as FakeCall;
  return {
    name,
    blocks: heapBlocks,
    counters,
    rng: seedrandom('x'),
    call: ((to: ServerName | Handle, msg: any) => (typeof to === 'string' ? fake(to, msg) : fake(to.server, msg, to))) as ServerContext['call'],
    handle: firstHandle,
    sleep: (ms) => new Promise((res) => setTimeout(res, ms)),
  };
}

/** The reply a garbage fault answers with, as a test sees it. */
const garbage = (): Reply<unknown> => fail('EINVAL', 'garbage');

/**
 * Handle `msg` in `srv` as the kernels do: counted as its next message
 * (`messagesHandled`), with `injector`'s planned faults striking there, then
 * dispatched in `ctx` (default: the server's own context).
 */
export function handled(srv: ServerInstance, msg: { type: string }, opts: { injector?: FaultInjector | null; ctx?: ServerContext } = {}) {
  return handleMessage(srv, opts.injector ?? null, msg, opts.ctx ?? srv.ctx, garbage);
}
