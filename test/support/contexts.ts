/**
 * Hand-made ServerContexts for calling a server's handlers in-process through
 * bootServer: heap blocks, a seeded rng, and the `call` the test gives.
 */
import seedrandom from 'seedrandom';
import type { Counters } from '../../src/metrics/counters.js';
import type { ServerName } from '../../src/protocol.js';
import { heapBlocks, type ServerContext } from '../../src/servers/server.js';

/** The context of server `name`, counting into `counters`, calling others through `call`. */
export function serverContext(name: ServerName, counters: Counters, call: ServerContext['call']): ServerContext {
  return { name, blocks: heapBlocks, counters, rng: seedrandom('x'), call };
}
