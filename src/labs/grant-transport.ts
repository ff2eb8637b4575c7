/**
 * The grant-transport lab (implementation): the student writes a transport
 * of MINIX 3-style memory grants (`transport.ts` in their directory, loaded
 * through the `transportModule` extension point, microkernel/transport-module.ts),
 * and the checks are:
 *
 *   digests   the microkernel with the student's transport answers every
 *             request as the monolith does (same digest, same seed)
 *   copies    bytesCopied is exactly what the design allows: every payload
 *             byte that crosses a domain boundary copied once, where it lands
 *             — the bytes the messages carried (ipcPayloadBytes, the same for
 *             every transport: taken from a reference run with the shipped
 *             copy transport)
 *   refuses   the module driven directly: a forged, stale, revoked, foreign
 *             or out-of-bounds grant is refused, and a good one copies the
 *             granted bytes
 *   no-leaks  traffic through the kernel's adapter (the codec every domain
 *             runs) in one thread: afterwards no grant is live and no memory
 *             pinned
 *
 * Every criterion is counted or compared byte for byte, never timed. A
 * `transport.ts` that Node would not load as an ES module (no package.json of
 * `"type": "module"` governs it: the server threads could not load it) fails
 * every check with what to add, before anything loads it.
 */
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { run, type RunReport, type RunOptions } from '../run.js';
import { Counters } from '../metrics/counters.js';
import type { ServerName } from '../protocol.js';
import { release, type Held } from '../microkernel/transport.js';
import {
  GRANT_LAYOUT,
  GrantDomain,
  grantCodec,
  grantGen,
  grantId,
  grantIndex,
  liveGrants,
  loadTransportModule,
  newGrantMemory,
  pinnedSlots,
  type GrantMemory,
  type TransportModule,
} from '../microkernel/transport-module.js';
import type { CheckOutcome, GradeContext, Lab, LabCheck } from './types.js';
import { moduleScopeProblem, seededChecks, type SeededRuns } from './common.js';

/** Requests per run, and closed-loop clients. */
export const REQUESTS = 300;
const CLIENTS = 4;
/** A run that takes longer than this is stopped (a run takes a second or two). */
const WALL_BOUND_MS = 120_000;
/** Messages of the no-leaks traffic, per seed. */
const LEAK_MESSAGES = 200;

const LAB_NAME = 'grant-transport';

/** The student's module file in `dir`. */
export const moduleFile = (dir: string) => join(dir, 'transport.ts');

const why = (e: unknown) => (e instanceof Error ? e.message : String(e));

interface SeedRuns {
  seed: number | string;
  monolith: RunReport;
  /** The shipped copy transport: the traffic every transport carries (ipcPayloadBytes). */
  reference: RunReport;
  student: RunReport;
}

type Runs = SeededRuns<SeedRuns>;


function options(seed: number | string, extra: Partial<RunOptions>): RunOptions {
  return { workload: 'specweb96', seed, requests: REQUESTS, clients: CLIENTS, abortSignal: AbortSignal.timeout(WALL_BOUND_MS), ...extra };
}

async function runAll(ctx: GradeContext): Promise<Runs> {
  const file = moduleFile(ctx.dir);
  const scope = moduleScopeProblem(file, LAB_NAME);
  if (scope !== null) return { ok: false, message: scope };
  const seeds: SeedRuns[] = [];
  for (const seed of ctx.seeds) {
    try {
      const monolith = await run(options(seed, { mode: 'monolithic' }));
      const reference = await run(options(seed, { mode: 'microkernel', transport: 'copy' }));
      const student = await run(options(seed, { mode: 'microkernel', transportModule: file }));
      seeds.push({ seed, monolith, reference, student });
    } catch (e) {
      return { ok: false, message: `seed ${seed}: the run could not start: ${why(e)}` };
    }
  }
  return { ok: true, seeds };
}

/** A check over every seed's runs: `each` returns the first problem of one seed, or null. */
const runCheck = seededChecks(runAll);

/** (a) The same answers as the monolith. */
function digests(s: SeedRuns): string | null {
  const r = s.student;
  const refused = r.counters.descriptorsRefused;
  if (r.digest === s.monolith.digest && r.status === 'ok') return null;
  const hint = refused > 0 ? `: ${refused} payloads were refused (EFAULT): safecopy refused a grant it should have allowed (${r.problems[0] ?? 'see the run report'})` : r.digest !== s.monolith.digest ? ': the bytes a grant delivers are not the bytes granted (is the granted memory pinned until the grant ends? does safecopy read from OFFSET of the owner\'s memory?)' : '';
  if (r.digest !== s.monolith.digest) return `the responses' digest ${r.digest} differs from the monolith's ${s.monolith.digest}${hint}`;
  return `the run's status is ${r.status}${r.problems.length ? ` (${r.problems[0]})` : ''}${hint}`;
}

/** The bytes the design allows a run to copy: each byte its messages carried across a domain boundary, once. */
export function allowedCopies(reference: RunReport): number {
  return reference.counters.ipcPayloadBytes;
}

/** (b) Every payload byte copied once per crossing. */
function copies(s: SeedRuns): string | null {
  const allowed = allowedCopies(s.reference);
  const copied = s.student.counters.bytesCopied;
  if (s.student.counters.ipcPayloadBytes !== allowed) {
    return `the messages carried ${s.student.counters.ipcPayloadBytes} payload bytes, not the ${allowed} the same workload carries with the shipped transport: a grant token must carry its view's length`;
  }
  if (copied === allowed) return null;
  const ratio = copied / allowed;
  const x = `${ratio.toFixed(2)}×`;
  const per = (b: number) => Math.round(b / REQUESTS);
  if (ratio >= 1.9) {
    return `copied ${x} the payload bytes (${copied} for ${allowed} that crossed, ${per(copied)} a request for ${per(allowed)}): a grant's data must be copied once, by the receiver, straight from the owner's memory into its own (no bounce buffer, no copy into the sender's memory first)`;
  }
  if (ratio > 1) {
    const byServer = Object.entries(s.student.countersByServer).map(([n, c]) => `${n} ${c.bytesCopied}`).join(', ');
    return `copied ${copied} bytes, ${copied - allowed} more than the ${allowed} that crossed (${x}; by domain: ${byServer}): a view in your memory must cross as a grant (an inline view is cloned whole, with all of its buffer), and each granted byte copied once`;
  }
  return `counted ${copied} bytes copied, but ${allowed} crossed (${x}): every byte safecopy copies must be counted with ctx.copied(n)`;
}

// ------------------------------------------------ the module driven directly

/** Three domains' contexts over one fresh grant memory, each with its own instance of the module. */
interface Bench {
  mem: GrantMemory;
  counters: Counters;
  dom: Record<ServerName, GrantDomain>;
  mod: Record<ServerName, TransportModule>;
}

async function bench(file: string, tag: string): Promise<Bench> {
  const mem = newGrantMemory({ poolBlocks: 64, cacheBlocks: 0 });
  const counters = new Counters();
  const names: ServerName[] = ['disk', 'net', 'app'];
  const dom = Object.fromEntries(names.map((n) => [n, new GrantDomain(n, mem, counters)])) as Bench['dom'];
  const mod = {} as Bench['mod'];
  for (const n of names) mod[n] = await loadTransportModule(file, `${tag}-${n}`);
  return { mem, counters, dom, mod };
}

let benches = 0;

/** Each seed's checks of the module driven directly; the first problem, or null. */
function direct(name: string, title: string, each: (b: Bench, rng: seedrandom.PRNG) => string | null): LabCheck {
  return {
    name,
    title,
    async run(ctx: GradeContext): Promise<CheckOutcome> {
      const scope = moduleScopeProblem(moduleFile(ctx.dir), LAB_NAME);
      if (scope !== null) return { ok: false, message: scope };
      for (const seed of ctx.seeds) {
        let b: Bench;
        try {
          b = await bench(moduleFile(ctx.dir), `${name}-${++benches}`);
        } catch (e) {
          return { ok: false, message: why(e) };
        }
        let problem: string | null;
        try {
          problem = each(b, seedrandom(`grant-transport:${name}:${seed}`));
        } catch (e) {
          problem = `the module threw where it should not: ${why(e)}`;
        }
        if (problem !== null) return { ok: false, message: `seed ${seed}: ${problem}` };
      }
      return { ok: true };
    },
  };
}

/** `f()` threw (refused), or the problem `what` if it returned; a refusal must also copy nothing into `into`. */
function mustRefuse(what: string, into: Uint8Array, f: () => unknown): string | null {
  const before = into.slice();
  try {
    f();
  } catch {
    if (into.some((v, i) => v !== before[i])) return `${what} was refused, but only after copying into the buffer: check first, copy after`;
    return null;
  }
  return `${what} returned data: it must throw`;
}

/** (c) Forged, stale, revoked, foreign and out-of-bounds grants refused; a good one copies. */
function refuses(b: Bench, rng: seedrandom.PRNG): string | null {
  const { dom, mod } = b;
  const disk = dom.disk.ctx;
  const app = dom.app.ctx;
  const net = dom.net.ctx;
  const mem = disk.memory('disk');
  for (let i = 0; i < 8192; i++) mem[i] = Math.floor(rng() * 256);
  const at = 16 + Math.floor(rng() * 2000);
  const len = 500 + Math.floor(rng() * 1500);
  const view = mem.subarray(at, at + len);
  const id = mod.disk.grant(disk, 'app', view);
  if (id === null || !Number.isSafeInteger(id) || id < 0) return `grant of ${len} bytes of the disk's memory for app returned ${String(id)}, not a grant id`;
  const into = new Uint8Array(len).fill(0xee);
  try {
    mod.app.safecopy(app, 'disk', id, 0, len, into);
  } catch (e) {
    return `safecopy through a live grant, made for app, of all its ${len} bytes was refused: ${why(e)}`;
  }
  if (into.some((v, i) => v !== view[i])) return `safecopy through a live grant copied other bytes than the ${len} granted (from offset ${at} of the disk's memory)`;
  const part = new Uint8Array(len).fill(0xee);
  try {
    mod.app.safecopy(app, 'disk', id, 100, len - 200, part);
  } catch (e) {
    return `safecopy of bytes 100..${len - 100} of a ${len}-byte grant was refused: ${why(e)}`;
  }
  if (part.subarray(0, len - 200).some((v, i) => v !== view[100 + i])) return `safecopy from offset 100 of a grant copied other bytes than those at offset 100 of the granted range`;
  const probe = new Uint8Array(len + 64).fill(0xee);
  // a grant revoked by its owner before anyone copied it
  const gone = mod.disk.grant(disk, 'app', view);
  if (gone === null) return 'a second grant of the same bytes returned null';
  mod.disk.revoke(disk, gone);
  const revoked = mustRefuse('safecopy through a revoked grant', probe, () => mod.app.safecopy(app, 'disk', gone, 0, 10, probe));
  if (revoked) return revoked;
  const refusals: [string, () => unknown][] = [
    [`safecopy of bytes ${len - 10}+20 of a ${len}-byte grant (out of bounds)`, () => mod.app.safecopy(app, 'disk', id, len - 10, 20, probe)],
    [`safecopy at offset -1 of a grant (out of bounds)`, () => mod.app.safecopy(app, 'disk', id, -1, 10, probe)],
    [`safecopy by net through a grant made for app (a grant made for another domain)`, () => mod.net.safecopy(net, 'disk', id, 0, 10, probe)],
    [`safecopy from net's table of a grant id that disk made (a grant net never made)`, () => mod.app.safecopy(app, 'net', id, 0, 10, probe)],
    [`safecopy through a forged grant id (an entry never granted)`, () => mod.app.safecopy(app, 'disk', grantId((grantIndex(id) + 4099) % GRANT_LAYOUT.entries, grantGen(id)), 0, 10, probe)],
    [`safecopy through a forged grant id (the right entry, another generation)`, () => mod.app.safecopy(app, 'disk', grantId(grantIndex(id), grantGen(id) + 7), 0, 10, probe)],
  ];
  for (const [what, f] of refusals) {
    const p = mustRefuse(what, probe, f);
    if (p) return p;
  }
  mod.disk.revoke(disk, id);
  const p = mustRefuse('safecopy through a revoked grant', probe, () => mod.app.safecopy(app, 'disk', id, 0, 10, probe));
  if (p) return p;
  // the entry used again: the old id is stale
  let again: number | null = null;
  for (let i = 0; i <= GRANT_LAYOUT.entries; i++) {
    const g = mod.disk.grant(disk, 'app', view);
    if (g === null) return `grant returned null with ${i} grants made since the last was revoked: a revoked entry must be reusable`;
    if (grantIndex(g) === grantIndex(id)) {
      again = g;
      break;
    }
    mod.disk.revoke(disk, g);
  }
  if (again === null) return `${GRANT_LAYOUT.entries + 1} grants, each revoked, never reused the entry of a revoked grant`;
  if (again === id) return `a grant made again in the entry of a revoked one got the same id ${id}: its generation must change, so that the old id is stale`;
  const q = mustRefuse(`safecopy through a stale grant (its entry reused for grant ${again})`, probe, () => mod.app.safecopy(app, 'disk', id, 0, 10, probe));
  if (q) return q;
  try {
    mod.app.safecopy(app, 'disk', again, 0, 10, probe);
    mod.app.release(app, 'disk', again);
  } catch (e) {
    return `safecopy through the new grant in a reused entry was refused: ${why(e)}`;
  }
  return mustRefuse('safecopy through a grant its grantee had released', probe, () => mod.app.safecopy(app, 'disk', again, 0, 10, probe));
}

/** (d) Traffic through the adapter: every message delivered, then nothing live and nothing pinned. */
function noLeaks(b: Bench, rng: seedrandom.PRNG): string | null {
  const { dom, mod, mem } = b;
  const diskToApp = grantCodec(mod.disk, dom.disk, 'app');
  const appFromDisk = grantCodec(mod.app, dom.app, 'disk');
  const appToNet = grantCodec(mod.app, dom.app, 'net');
  const netFromApp = grantCodec(mod.net, dom.net, 'app');
  const cache: Uint8Array[] = [];
  for (let i = 0; i < 16; i++) {
    const block = dom.disk.blocks.alloc(4096);
    for (let j = 0; j < block.length; j++) block[j] = Math.floor(rng() * 256);
    cache.push(block);
  }
  for (let m = 0; m < LEAK_MESSAGES; m++) {
    const n = 1 + Math.floor(rng() * 4);
    const data = Array.from({ length: n }, () => {
      const block = cache[Math.floor(rng() * cache.length)];
      const at = Math.floor(rng() * 2048);
      return block.subarray(at, at + 1 + Math.floor(rng() * (4096 - at - 1)));
    });
    // the disk's reply; now and then one that is never sent (abandoned)
    const enc = diskToApp.encode({ data }, b.counters);
    if (m % 10 === 9) {
      diskToApp.abandon(enc.value);
      continue;
    }
    const appHeld: Held = [];
    const reply = structuredClone(enc.value);
    appFromDisk.decode(reply, appHeld);
    const got = reply.data as Uint8Array[];
    if (got.length !== n || got.some((v, i) => v.length !== data[i].length || v.some((x, k) => x !== data[i][k]))) {
      return `message ${m + 1}: the app received other bytes than the disk's reply carried`;
    }
    // the app sends them on to net, behind a header of its own
    const header = new TextEncoder().encode(`HTTP/1.0 200 OK\r\nContent-Length: ${got.reduce((a, v) => a + v.length, 0)}\r\n\r\n`);
    const send = appToNet.encode({ type: 'NET_SEND', body: [header, ...got] }, b.counters);
    const netHeld: Held = [];
    const call = structuredClone(send.value);
    netFromApp.decode(call, netHeld);
    const body = call.body as Uint8Array[];
    if (body.length !== n + 1 || body.slice(1).some((v, i) => v.length !== data[i].length || v.some((x, k) => x !== data[i][k]))) {
      return `message ${m + 1}: net received other bytes than the app sent on`;
    }
    release(netHeld);
    release(appHeld);
  }
  const live = Object.entries(liveGrants(mem)).filter(([, c]) => c > 0);
  if (live.length) {
    return `after ${LEAK_MESSAGES} messages (every tenth never sent), ${live.map(([s, c]) => `${c} grants of ${s}'s table`).join(' and ')} are still live: a grant must end once its receiver has copied it (release) or its message was never sent (revoke)`;
  }
  const pinned = Object.entries(pinnedSlots(mem)).filter(([, c]) => c > 0);
  if (pinned.length) {
    return `every grant has ended, but ${pinned.map(([s, c]) => `${c} slots of ${s}'s memory`).join(' and ')} are still pinned: ending a grant must unpin exactly what making it pinned`;
  }
  return null;
}

export const grantTransportLab: Lab = {
  name: LAB_NAME,
  title: 'Memory grants and safecopy: one copy per crossing',
  difficulty: 'hard',
  kind: 'implementation',
  defaultSeeds: [1, 2],
  checks: [
    runCheck('digests', 'Digests equal the monolith\'s', digests),
    runCheck('copies', 'Each payload byte copied once per crossing', copies, (seeds) =>
      seeds.map((s) => `seed ${s.seed}: ${s.student.counters.bytesCopied} bytes copied, ${Math.round(s.student.counters.bytesCopied / REQUESTS)} a request`).join('; '),
    ),
    direct('refuses', 'Forged, stale, revoked, foreign and out-of-bounds grants refused', refuses),
    direct('no-leaks', 'No grant left live, no memory left pinned', noLeaks),
  ],
};
