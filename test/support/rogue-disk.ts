/**
 * A rogue disk: placed as the disk (KernelConfig.serverModules), it serves
 * every disk call with the shipped disk's own handlers, so a run with it ends
 * as an unmodified run does; but at init it tries to reach what it was not
 * granted.
 *
 * How it reports: it attacks, and every attack that works is made loud.
 *
 *  - What it finds in its domain that it should not (a BroadcastChannel or
 *    another way to reach threads it holds no port to, any variable in
 *    process.env, a MessagePort on globalThis) makes init throw, naming each
 *    finding: the kernel's boot fails with that message and the run rejects.
 *  - A BroadcastChannel or postMessageToThread it does find, it also uses: it
 *    posts on every name in PROBE_NAMES and to thread 0 (the test's thread),
 *    where the test listens. So a leak shows in the test's own ears as well,
 *    not only in what the rogue says.
 *  - Then it calls servers it holds no grant to, by name and through forged
 *    handles (DENIED_PROBES). Each is refused by the kernel's call path, which
 *    counts it in the disk's `callsDenied`: the test reads that count in the
 *    report (the shipped servers make no denied call, so the count is the
 *    rogue's and nobody else's). A call that gets anything but ECALLDENIED
 *    crashes the disk (an unhandled rejection) with a message naming it: the
 *    run's report then has a fault, and the test asserts it has none.
 *
 * So no new counter and no channel out of the domain is needed: what the
 * rogue reports goes through the two ways out every server already has, its
 * failure and the counters the kernel keeps for it, and a clean result is
 * status ok, no faults, and `callsDenied` equal to DENIED_PROBES.length.
 *
 * The probes are kernel-neutral. Under the monolith (where the harness's
 * hardening of the kernel's one thread applies too) they pass as well, but
 * prove less: see the monolith's test.
 */
import * as threads from 'node:worker_threads';
import type { Reply, ServerName } from '../../src/protocol.js';
import { disk } from '../../src/servers/disk.js';
import type { Handle, ServerContext } from '../../src/servers/server.js';

/** The names a rogue posts on if it finds a BroadcastChannel: the servers', and the project's. */
export const PROBE_NAMES = ['disk', 'net', 'app', 'microlith'] as const;

/** The harness's variable the test sets before the run: no domain may see it. */
export const SECRET_NAME = 'MICROLITH_SECRET';

/** Calls a disk has no grant for: every one must be refused with ECALLDENIED, and counted. */
export const DENIED_PROBES: readonly { to: ServerName | Handle; msg: { type: string } & Record<string, unknown>; what: string }[] = [
  { to: 'net', msg: { type: 'NET_SEND', reqId: -1, status: 200, body: [] }, what: "a call to 'net' by name" },
  { to: 'app', msg: { type: 'APP_PROBE' }, what: "a call to 'app' by name" },
  // a forged handle: with no grant, the generation is not even looked at (it learns nothing of incarnations)
  { to: { server: 'net', gen: 7, state: 'up' }, msg: { type: 'NET_SEND', reqId: -1, status: 200, body: [] }, what: 'a call to net through a forged handle (gen 7)' },
  { to: { server: 'app', gen: 2, state: 'up' }, msg: { type: 'APP_PROBE' }, what: 'a call to app through a forged handle (gen 2)' },
];

type ChannelCtor = new (name: string) => { postMessage(m: unknown): void; close(): void };

/**
 * What domain `self` finds that it should not, after posting on every
 * process-wide channel it can get hold of. Empty: nothing found.
 */
export function probeDomain(self: string): string[] {
  const found: string[] = [];
  const g = globalThis as Record<string, unknown>;
  const wt = threads as Record<string, unknown>;

  // (a) channels that reach other threads by name or number, not by a held port
  const ctors: [string, unknown][] = [
    ['globalThis.BroadcastChannel', g.BroadcastChannel],
    ["node:worker_threads' BroadcastChannel", wt.BroadcastChannel],
  ];
  for (const [where, ctor] of ctors) {
    if (ctor === undefined) continue;
    found.push(`${where} is there`);
    if (typeof ctor !== 'function') continue;
    for (const name of PROBE_NAMES) {
      const ch = new (ctor as ChannelCtor)(name);
      ch.postMessage(`rogue ${self} on ${name} through ${where}`);
      ch.close();
    }
  }
  if (typeof wt.postMessageToThread === 'function') {
    found.push("node:worker_threads' postMessageToThread is there");
    // thread 0 is the test's: it listens
    void (wt.postMessageToThread as (id: number, v: unknown, t?: number) => Promise<void>)(0, `rogue ${self} to thread 0`, 1000).catch(() => {});
  }
  if (typeof wt.Worker === 'function') found.push("node:worker_threads' Worker is there (a thread started from here has BroadcastChannel)");

  // (b) the harness's environment
  const env = Object.keys(process.env);
  if (env.includes(SECRET_NAME)) found.push(`process.env.${SECRET_NAME} is visible`);
  if (env.length) found.push(`process.env holds ${env.length} variables (${env.slice(0, 5).join(', ')}${env.length > 5 ? ', ...' : ''})`);

  // (c) a port on globalThis: this domain's own ends are in its boot, and no other domain's end may be anywhere
  for (const key of Reflect.ownKeys(globalThis)) {
    let v: unknown;
    try {
      v = Reflect.get(globalThis, key);
    } catch {
      continue;
    }
    const port = v instanceof threads.MessagePort || (typeof v === 'object' && v !== null && typeof (v as { postMessage?: unknown }).postMessage === 'function');
    if (port) found.push(`globalThis.${String(key)} is a port`);
  }
  return found;
}

/**
 * Make every call of `probes` at once. The promise resolves when each got
 * `errno`, and rejects naming the first that did not: a caller that leaves it
 * unhandled crashes its server with that message.
 */
export function expectRefused(self: string, ctx: ServerContext, probes: readonly { to: ServerName | Handle; msg: { type: string }; what: string }[], errno: string): Promise<void> {
  const call = ctx.call as unknown as (to: ServerName | Handle, msg: { type: string }) => Promise<Reply<unknown>>;
  const replies = probes.map((p) => call(p.to, p.msg));
  return Promise.all(replies).then((rs) => {
    rs.forEach((r, i) => {
      if (r.ok || r.errno !== errno) throw new Error(`rogue ${self}: ${probes[i].what} got ${r.ok ? 'delivered' : r.errno}, not ${errno}`);
    });
  });
}

export const server: typeof disk = {
  name: 'disk',
  init(boot, ctx) {
    const found = probeDomain('disk');
    if (found.length) throw new Error(`rogue disk found: ${found.join('; ')}`);
    // not caught on purpose: a call that got through is this server's crash
    void expectRefused('disk', ctx, DENIED_PROBES, 'ECALLDENIED');
    return disk.init(boot, ctx);
  },
  calls: disk.calls,
};
