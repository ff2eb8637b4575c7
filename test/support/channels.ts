/**
 * Endpoints (src/microkernel/ipc.ts) in one thread, for the IPC tests: ports
 * that are closed after each test, a pair of Endpoints over any two PortLikes,
 * and the small values those tests pass around.
 */
import { once } from 'node:events';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { vi } from 'vitest';
import seedrandom from 'seedrandom';
import { Counters } from '../../src/metrics/counters.js';
import type { Reply } from '../../src/protocol.js';
import { Endpoint, type EndpointOptions, type PortLike } from '../../src/microkernel/ipc.js';

/**
 * The MessagePorts a test file opened. `closeAll()` (in afterEach) closes both
 * ports of every channel and waits for their 'close' events, so no port keeps
 * the test process alive.
 */
export class OpenPorts {
  private readonly open: { port: MessagePort; closed: Promise<unknown> }[] = [];

  /** A new MessageChannel whose two ports are closed by closeAll(). */
  channel(): MessageChannel {
    const ch = new MessageChannel();
    for (const port of [ch.port1, ch.port2]) this.open.push({ port, closed: once(port, 'close') });
    return ch;
  }

  async closeAll(): Promise<void> {
    for (const { port } of this.open) port.close();
    await Promise.all(this.open.map((o) => o.closed));
    this.open.length = 0;
  }
}

export type Side = Partial<EndpointOptions>;

/**
 * Endpoint `A` on `portA` and `B` on `portB`, each with its own counters (made
 * here unless given) and a vi.fn() as onCrash; `a` and `b` override the options.
 */
export function endpointPair(portA: PortLike, portB: PortLike, a: Side = {}, b: Side = {}, ca = new Counters(), cb = new Counters()) {
  const crashA = vi.fn();
  const crashB = vi.fn();
  const A = new Endpoint(portA, { counters: ca, deadlineMs: 10_000, onCall: null, onCrash: crashA, label: 'a', ...a });
  const B = new Endpoint(portB, { counters: cb, deadlineMs: 10_000, onCall: null, onCrash: crashB, label: 'b', ...b });
  return { A, B, ca, cb, crashA, crashB };
}

/** An ok reply carrying `value`. */
export const okv = <T>(value: T): Reply<T> => ({ ok: true, value });

/** A promise and its resolver. */
export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Shuffles `items` in place (Fisher-Yates) in the order the rng seeded with `seed` gives. */
export function shuffle<T>(items: T[], seed: string): void {
  const rng = seedrandom(seed);
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
}

/**
 * Answers each held call with `{ echo: n }`, in the order given, mixing
 * synchronous, microtask and macrotask (setImmediate) delays in turn.
 */
export function answerMixed(held: readonly { n: number; answer: (r: Reply<unknown>) => void }[]): void {
  held.forEach(({ n, answer }, i) => {
    const go = () => answer(okv({ echo: n }));
    if (i % 3 === 0) go();
    else if (i % 3 === 1) queueMicrotask(go);
    else setImmediate(go);
  });
}
