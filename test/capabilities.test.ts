/**
 * Capabilities hold: a server reaches only what it was granted.
 *
 * End to end, a rogue module is placed as a server (KernelConfig.serverModules)
 * and serves it correctly, while it tries at init to reach past its grants:
 * process-wide channels (BroadcastChannel, postMessageToThread, a thread of its
 * own), the harness's environment, a port on globalThis, calls to servers it
 * holds no grant to, forged handles. Its findings come back through its
 * failure and its counters (test/support/rogue-disk.ts says how); this thread
 * listens on the channels it would use. The run must end ok with the digest of
 * an unmodified run.
 *
 * In this thread, a property over random grant graphs: with one capability
 * table (Links) per domain and real endpoints only for granted pairs, a call
 * is delivered iff it was granted; every other one is refused with
 * ECALLDENIED and counted, and a forged generation gets ESTALE.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BroadcastChannel, threadId, Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { run, type RunOptions, type RunReport } from '../src/run.js';
import { bootByName, loadServerModule, placedModules } from '../src/boot.js';
import { DEFAULT_KERNEL_CONFIG, type KernelConfig } from '../src/config.js';
import { Counters } from '../src/metrics/counters.js';
import type { Reply, ServerName } from '../src/protocol.js';
import { Endpoint } from '../src/microkernel/ipc.js';
import { Links } from '../src/microkernel/links.js';
import type { Handle } from '../src/servers/server.js';
import { OpenPorts } from './support/channels.js';
import { DENIED_PROBES, PROBE_NAMES, SECRET_NAME } from './support/rogue-disk.js';

const ROGUE_DISK = fileURLToPath(new URL('./support/rogue-disk.ts', import.meta.url));
const ROGUE_APP = fileURLToPath(new URL('./support/rogue-app.ts', import.meta.url));
const SRC = fileURLToPath(new URL('../src', import.meta.url));

const BASE: RunOptions = { mode: 'microkernel', workload: 'specweb96', seed: 11, requests: 300 };

/** What this thread hears on the channels a domain could reach it by without a port: BroadcastChannel names, and its thread id. */
const heard: string[] = [];
const ears: BroadcastChannel[] = [];
/** What the control thread (no prelude) posts. */
const CONTROL = 'from an unhardened thread';
const onThreadMessage = (value: unknown) => heard.push(`thread ${threadId}: ${String(value)}`);

beforeAll(() => {
  // a variable of the harness's: no domain may see it
  process.env[SECRET_NAME] = 'for the harness only';
  for (const name of PROBE_NAMES) {
    const ch = new BroadcastChannel(name);
    ch.onmessage = (e) => heard.push(`${name}: ${String((e as MessageEvent).data)}`);
    ch.unref();
    ears.push(ch);
  }
  process.on('workerMessage', onThreadMessage);
});

afterAll(() => {
  delete process.env[SECRET_NAME];
  for (const ch of ears) ch.close();
  process.off('workerMessage', onThreadMessage);
});

/** Settles after `ms`: long enough for a message posted before to arrive. */
const settle = (ms = 50) => new Promise((res) => setTimeout(res, ms));

function cleanRun(r: RunReport): void {
  expect(r.problems).toEqual([]);
  expect(r.faults).toEqual([]);
  expect(r.status).toBe('ok');
}

/** `c` without the counters named. */
function without(c: RunReport['countersByServer'][ServerName], ...names: string[]) {
  return Object.fromEntries(Object.entries(c).filter(([k]) => !names.includes(k)));
}

describe('the listening is not vacuous', () => {
  it('a thread started without the domains\' prelude reaches this thread by name and by id, and sees the harness\'s environment', async () => {
    // Atomics.waitAsync, which postMessageToThread waits on, keeps no thread alive: the interval
    // holds the thread until the post is answered or times out, else a slow answer (a loaded
    // machine) lets the thread end without its report
    const code = `
      const { BroadcastChannel, parentPort, postMessageToThread } = require('node:worker_threads');
      const keep = setInterval(() => {}, 1000);
      const ch = new BroadcastChannel('disk');
      ch.postMessage('${CONTROL}');
      ch.close();
      const sent = typeof postMessageToThread === 'function' ? postMessageToThread(0, '${CONTROL}', 20000).then(() => true, () => false) : Promise.resolve(false);
      sent.then((byId) => { clearInterval(keep); parentPort.postMessage({ secret: process.env.${SECRET_NAME} ?? null, byId }); });
    `;
    const w = new Worker(code, { eval: true });
    const [report] = (await new Promise((res, rej) => {
      w.once('message', (m) => res([m]));
      w.once('error', rej);
      w.once('exit', (c) => rej(new Error(`the control thread exited (code ${c}) without its report`)));
    })) as [{ secret: string | null; byId: boolean }];
    await w.terminate();
    expect(report.secret).toBe('for the harness only');
    // a BroadcastChannel message has no answer to wait for: poll, bounded
    for (let i = 0; i < 200 && !heard.includes(`disk: ${CONTROL}`); i++) await settle(25);
    expect(heard).toContain(`disk: ${CONTROL}`);
    // this fork's main thread is thread 0 (vitest's forks pool); postMessageToThread resolves once it was heard
    if (threadId === 0 && report.byId) expect(heard).toContain(`thread 0: ${CONTROL}`);
    heard.length = 0;
  });
});

/** What this thread heard, less the control thread's posts (which, timed out under load, may still arrive late). */
const heardFromRogues = () => heard.filter((h) => !h.endsWith(CONTROL));

describe('a rogue server, end to end', () => {
  let baseline: RunReport;

  beforeAll(async () => {
    baseline = await run(BASE);
  });

  it('microkernel: a rogue disk and a rogue app serve correctly and reach nothing they were not granted', async () => {
    cleanRun(baseline);
    // the shipped servers make no call they hold no grant for
    for (const s of ['disk', 'net', 'app'] as const) expect(baseline.countersByServer[s].callsDenied).toBe(0);

    const r = await run({ ...BASE, serverModules: { disk: ROGUE_DISK, app: ROGUE_APP } });
    expect(r.config.serverModules).toEqual({ disk: ROGUE_DISK, app: ROGUE_APP });
    // (a), (b), (c): the rogues' own probes found nothing (else boot would have failed naming it),
    // and nothing they could have posted by name or thread id reached this thread
    await settle();
    expect(heardFromRogues()).toEqual([]);
    // the run is the unmodified one: same responses, nothing failed
    cleanRun(r);
    expect(r.outcomes).toEqual(baseline.outcomes);
    expect(r.digest).toBe(baseline.digest);
    // (d), (e): every call the disk holds no grant for, by name or through a forged handle, was
    // refused with ECALLDENIED and counted; every forged generation the app tried got ESTALE
    // (else it would have crashed), after which it made its one denied call
    expect(r.countersByServer.disk.callsDenied).toBe(DENIED_PROBES.length);
    // and logged, caller and callee named
    expect(r.deniedCalls.filter((d) => d.startsWith('disk -> ')).length).toBe(DENIED_PROBES.length);
    expect(r.deniedCalls.some((d) => d.startsWith('disk -> net: '))).toBe(true);
    expect(baseline.deniedCalls).toEqual([]);
    expect(r.countersByServer.app.callsDenied).toBe(1);
    // and none of them was delivered: net counted exactly what it counts in the unmodified run,
    // the disk and the app all but their denied calls
    expect(r.countersByServer.net).toEqual(baseline.countersByServer.net);
    expect(without(r.countersByServer.disk, 'callsDenied')).toEqual(without(baseline.countersByServer.disk, 'callsDenied'));
    expect(without(r.countersByServer.app, 'callsDenied')).toEqual(without(baseline.countersByServer.app, 'callsDenied'));
  });

  it('monolith: the kernel\'s call path still refuses calls without a grant', async () => {
    // In the monolith a module has the whole kernel: it shares globalThis, the
    // built-ins' prototypes and the heap with every other server (it could
    // patch Uint8Array.prototype or Promise and see or change everything they
    // do), it could reach their state through whatever they leave there, and
    // a forged handle is not checked at all (there is one incarnation of each
    // server, and no generation to compare). None of that is asserted here.
    // What holds is the kernel's own call path: it checks the grants. (The
    // rogue's domain probes pass here too, because the harness hardens the
    // kernel's thread like any domain: no environment, no BroadcastChannel;
    // that says nothing about isolation between servers inside it.)
    const r = await run({ ...BASE, mode: 'monolithic', serverModules: { disk: ROGUE_DISK } });
    await settle();
    expect(heardFromRogues()).toEqual([]);
    cleanRun(r);
    expect(r.digest).toBe(baseline.digest);
    expect(r.countersByServer.disk.callsDenied).toBe(DENIED_PROBES.length);
    expect(r.countersByServer.net.callsDenied + r.countersByServer.app.callsDenied).toBe(0);
  });
});

describe('placing a server module', () => {
  let dir: string;
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'microlith-modules-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a default or a named export `server` is taken', async () => {
    const named = file('named.mjs', "export const server = { name: 'disk', init: () => ({}), calls: { DISK_STAT: () => ({ ok: true, value: 1 }) } };");
    const dflt = file('default.mjs', "export default { name: 'net', init: () => ({}), calls: {}, start: async () => {}, clientDied() {} };");
    expect((await loadServerModule('disk', named)).name).toBe('disk');
    expect((await loadServerModule('net', dflt)).name).toBe('net');
    const placed = await placedModules({ ...DEFAULT_KERNEL_CONFIG, mode: 'monolithic', serverModules: { net: dflt } });
    expect(Object.keys(placed)).toEqual(['net']);
    // none placed: nothing loaded
    expect(await placedModules({ ...DEFAULT_KERNEL_CONFIG, mode: 'monolithic' })).toEqual({});
  });

  it('a bad module is an Error naming the file and exactly what is missing or wrong', async () => {
    const none = file('none.mjs', 'export const other = 1;');
    await expect(loadServerModule('disk', none)).rejects.toThrow(`server module ${none} for disk: no export \`server\` (a default or named export \`server\` is needed)`);
    const bad = file('bad.mjs', "export const server = { name: 'net', init: 3, calls: { DISK_READ: () => {}, DISK_STAT: 'no' }, start: 1 };");
    await expect(loadServerModule('disk', bad)).rejects.toThrow(
      `server module ${bad} for disk: \`server.name\` must be 'disk' (the server it replaces), got "net"; \`server.init\` must be a function; \`server.calls.DISK_STAT\` must be a function; \`server.start\` must be a function if given`,
    );
    const noCalls = file('nocalls.mjs', "export const server = { name: 'app', init() {}, clientDied: {} };");
    await expect(loadServerModule('app', noCalls)).rejects.toThrow(
      `server module ${noCalls} for app: \`server.calls\` must be an object of handler functions; \`server.clientDied\` must be a function if given`,
    );
    const notObject = file('fn.mjs', 'export default function server() {}');
    await expect(loadServerModule('app', notObject)).rejects.toThrow(`server module ${notObject} for app: its export \`server\` is a function, not an object`);
    const missing = join(dir, 'missing.mjs');
    await expect(loadServerModule('disk', missing)).rejects.toThrow(`server module ${missing} for disk could not be loaded: `);
  });

  it('a module placed but not loaded is refused at boot, not silently replaced by the shipped one', () => {
    const cfg: KernelConfig = { ...DEFAULT_KERNEL_CONFIG, mode: 'monolithic', serverModules: { disk: ROGUE_DISK } };
    expect(() => bootByName('disk', cfg, null as never, null as never)).toThrow(/was not loaded/);
  });

  it.each(['microkernel', 'monolithic'] as const)('%s: a run with a bad module fails at boot, naming it', async (mode) => {
    const none = file(`none-${mode}.mjs`, 'export const other = 1;');
    await expect(run({ ...BASE, mode, requests: 10, serverModules: { disk: none } })).rejects.toThrow(`server module ${none} for disk: no export \`server\``);
  });
});

describe('nothing in the project uses a process-wide channel', () => {
  it('BroadcastChannel and postMessageToThread appear in src only where domains are stripped of them', () => {
    const files = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? files(join(d, f)) : [join(d, f)]));
    const users = files(SRC).filter((f) => /BroadcastChannel|postMessageToThread/.test(readFileSync(f, 'utf8')));
    expect(users.map((f) => f.slice(SRC.length + 1))).toEqual(['harness/domain.ts']);
    expect(readFileSync(join(SRC, 'harness/domain.ts'), 'utf8')).toMatch(/delete globalThis\.BroadcastChannel/);
  });
});

// ------------------------------------------------------------------ property

const DOMAINS = ['disk', 'net', 'app', 'fs', 'vm'] as unknown as ServerName[];

interface Case {
  n: number;
  /** Granted directed pairs [from, to], by index. */
  grants: [number, number][];
  /** Each domain's incarnation. */
  gens: number[];
  /** Attempted calls: from, to, and through a handle forging a generation (offset from the real one; 0 = by name). */
  calls: { from: number; to: number; forge: number }[];
}

const caseArb: fc.Arbitrary<Case> = fc.integer({ min: 3, max: 5 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    grants: fc.uniqueArray(
      fc.tuple(fc.nat(n - 1), fc.nat(n - 1)).filter(([a, b]) => a !== b),
      { selector: ([a, b]) => `${a}>${b}`, maxLength: n * (n - 1) },
    ),
    gens: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: n, maxLength: n }),
    calls: fc.array(fc.record({ from: fc.nat(n - 1), to: fc.nat(n - 1), forge: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: -2, max: 2 })) }), { maxLength: 30 }),
  }),
);

describe('property: over random grant graphs, a call is delivered iff it was granted', () => {
  it('delivered ⊆ granted; every other call ECALLDENIED and counted; a forged generation ESTALE; every granted call delivered', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const ports = new OpenPorts();
        try {
          const names = DOMAINS.slice(0, c.n);
          const may = (a: number, b: number) => c.grants.some(([x, y]) => x === a && y === b);
          const counters = names.map(() => new Counters());
          const links = names.map((name, i) => new Links(name, counters[i]));
          const delivered: string[] = [];
          /** Each domain's end of each channel, by `${self}>${peer}`. */
          const ends = new Map<string, Endpoint>();
          // one channel per pair with a grant either way, as the kernel makes them
          for (let a = 0; a < c.n; a++) {
            for (let b = a + 1; b < c.n; b++) {
              if (!may(a, b) && !may(b, a)) continue;
              const ch = ports.channel();
              const end = (self: number, peer: number, port: typeof ch.port1) => {
                const ep = new Endpoint(port, {
                  counters: counters[self],
                  deadlineMs: 10_000,
                  label: `${names[self]}<->${names[peer]}`,
                  onCrash: (e) => {
                    throw e;
                  },
                  // the callee knows its caller by the channel the call came over, not by what it says
                  onCall: may(peer, self)
                    ? (m) => {
                        delivered.push(`${peer}>${self}`);
                        return { ok: true, value: { from: (m as unknown as { from: number }).from } };
                      }
                    : null,
                });
                ends.set(`${self}>${peer}`, ep);
                return ep;
              };
              links[a].up(names[b], c.gens[b], end(a, b, ch.port1), may(a, b));
              links[b].up(names[a], c.gens[a], end(b, a, ch.port2), may(b, a));
            }
          }

          const replies: Reply<unknown>[] = await Promise.all(
            c.calls.map(({ from, to, forge }) => {
              const target: ServerName | Handle = forge === 0 ? names[to] : { server: names[to], gen: c.gens[to] + forge, state: 'up' };
              return links[from].call(target, { type: 'PROBE', from } as { type: string }, []);
            }),
          );

          const expectedDelivered: string[] = [];
          c.calls.forEach(({ from, to, forge }, i) => {
            const r = replies[i];
            if (!may(from, to)) {
              // no grant: refused before the generation is looked at
              expect(r).toMatchObject({ ok: false, errno: 'ECALLDENIED' });
            } else if (forge !== 0) {
              expect(r).toMatchObject({ ok: false, errno: 'ESTALE' });
            } else {
              // delivered over the caller's own channel
              expect(r).toEqual({ ok: true, value: { from } });
              expectedDelivered.push(`${from}>${to}`);
            }
          });
          // delivered ⊆ granted, and exactly the granted calls (as a multiset)
          for (const d of delivered) expect(c.grants.map(([a, b]) => `${a}>${b}`)).toContain(d);
          expect([...delivered].sort()).toEqual([...expectedDelivered].sort());
          // every refused call without a grant counted in its caller's callsDenied, and no other
          for (let i = 0; i < c.n; i++) {
            const denied = c.calls.filter((x) => x.from === i && !may(x.from, x.to)).length;
            expect(counters[i].get('callsDenied')).toBe(denied);
          }

          // a domain that skips its table and calls on a channel it may only answer on is refused by the receiver
          for (let a = 0; a < c.n; a++) {
            for (let b = 0; b < c.n; b++) {
              if (a === b || may(a, b) || !may(b, a)) continue;
              const ep = ends.get(`${a}>${b}`)!;
              const before = delivered.length;
              expect(await ep.call({ type: 'PROBE', from: a } as { type: string })).toMatchObject({ ok: false, errno: 'ECALLDENIED' });
              expect(delivered.length).toBe(before);
            }
          }
        } finally {
          await ports.closeAll();
        }
      }),
      { numRuns: 50 },
    );
  });
});
