/**
 * The payload transports through the data-path IPC: two Endpoints
 * (src/microkernel/ipc.ts) over an in-thread MessageChannel, each end with a
 * codec (src/microkernel/transport.ts). The bytes that arrive, the bytes each
 * transport copies, and the shared pool's descriptors end to end: pinned in
 * flight and while the receiver holds them, refused (EFAULT) when forged or stale.
 *
 * Both "domains" live in this thread: each has its own PoolMapping of one
 * PoolMemory, as two workers would. Every test closes both ports and waits for
 * their 'close' events in afterEach.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { newPoolMemory, PoolBlocks, PoolMapping, type Descriptor, type PoolMemory } from '../src/microkernel/pool.js';
import { copyCodec, keptBuffers, release, sharedCodec, transferCodec, type Codec, type Held } from '../src/microkernel/transport.js';
import { bytes } from './support/bytes.js';
import { deferred, endpointPair, okv, OpenPorts, type Side } from './support/channels.js';

const openPorts = new OpenPorts();

afterEach(() => openPorts.closeAll());

/** `a` (the caller, e.g. app) on port1 and `b` (the callee, e.g. disk) on port2, each with its own counters. */
function pair(a: Side = {}, b: Side = {}) {
  const { port1, port2 } = openPorts.channel();
  return endpointPair(port1, port2, a, b);
}

const SLOT = 4096;

/** One pool (id 0, 8 slots) and each domain's mapping and codec. */
function sharedPool(slots = 8): { mem: PoolMemory; app: PoolMapping; disk: PoolMapping; appCodec: Codec; diskCodec: Codec } {
  const mem = newPoolMemory(0, slots, SLOT);
  const app = new PoolMapping(mem);
  const disk = new PoolMapping(mem);
  return { mem, app, disk, appCodec: sharedCodec([app]), diskCodec: sharedCodec([disk]) };
}

/** Every slot's reference count. */
const allRefs = (p: PoolMapping) => Array.from({ length: p.mem.slots }, (_, s) => p.refs(s));

describe.each([
  ['copy', () => copyCodec],
  ['transfer', () => transferCodec],
  ['shared', () => sharedCodec([])],
] as const)('%s transport: payload slices in a reply', (_name, codec) => {
  it('arrive with the same bytes, in order, and the rest of the reply intact', async () => {
    const file = bytes(10_000, 3);
    const { A } = pair(
      { codec: codec() },
      {
        codec: codec(),
        onCall: () => okv({ data: [file.subarray(0, 4096), file.subarray(4096, 8192), file.subarray(8192)], length: 10_000 }),
      },
    );
    const r = await A.call({ type: 'DISK_READ' });
    expect(r.ok).toBe(true);
    const v = (r as { value: { data: Uint8Array[]; length: number } }).value;
    expect(v.length).toBe(10_000);
    expect(v.data.map((d) => d.length)).toEqual([4096, 4096, 1808]);
    const joined = new Uint8Array(10_000);
    let at = 0;
    for (const d of v.data) {
      expect(d).toBeInstanceOf(Uint8Array);
      joined.set(d, at);
      at += d.length;
    }
    expect(joined).toEqual(bytes(10_000, 3));
  });

  it('payload slices in a call arrive with the same bytes at the handler', async () => {
    const got = deferred<Uint8Array[]>();
    const head = bytes(41, 100);
    const body = bytes(3000, 9);
    const { A } = pair(
      { codec: codec() },
      { codec: codec(), onCall: (m) => (got.resolve((m as unknown as { body: Uint8Array[] }).body), okv({ frames: 3 })) },
    );
    const sentHead = [...head];
    const sentBody = [...body.subarray(1000, 3000)];
    expect(await A.call({ type: 'NET_SEND', body: [head, body.subarray(1000, 3000)] } as { type: string })).toEqual(okv({ frames: 3 }));
    const arrived = await got.promise;
    expect([...arrived[0]]).toEqual(sentHead);
    expect([...arrived[1]]).toEqual(sentBody);
  });
});

describe('bytesCopied, counted per transport', () => {
  /**
   * A reply carrying 50 bytes of a 1000-byte buffer and a whole 100-byte buffer:
   *   copy      the clone copies both buffers whole: 1000 + 100
   *   transfer  the part is copied out (50) and moved; the whole buffer moves: 50
   *   shared    neither is in the pool, so the clone copies both: 1000 + 100
   */
  it.each([
    ['copy', copyCodec, 1100],
    ['transfer', transferCodec, 50],
    ['shared', sharedCodec([]), 1100],
  ] as const)('%s: a reply with a part of a buffer and a whole buffer counts %i bytes at the callee', async (_n, codec, want) => {
    const big = bytes(1000);
    const small = bytes(100, 50);
    const { A, ca, cb } = pair({ codec }, { codec, onCall: () => okv({ data: [big.subarray(100, 150), small] }) });
    const r = (await A.call({ type: 'X' })) as { ok: true; value: { data: Uint8Array[] } };
    expect([...r.value.data[0]]).toEqual([...bytes(50, 100)]);
    expect([...r.value.data[1]]).toEqual([...bytes(100, 50)]);
    expect(cb.get('bytesCopied')).toBe(want);
    expect(ca.get('bytesCopied')).toBe(0); // the call carried no payload
    expect(ca.get('ipcMessages') + cb.get('ipcMessages')).toBe(2);
  });

  it('transfer: a moved buffer is gone from the sender; a kept (cache) buffer stays and is copied out', async () => {
    const whole = bytes(300);
    const block = bytes(4096);
    keptBuffers.add(block.buffer);
    const { A, cb } = pair({ codec: transferCodec }, { codec: transferCodec, onCall: () => okv({ data: [whole, block.subarray(0, 500)] }) });
    const r = (await A.call({ type: 'X' })) as { ok: true; value: { data: Uint8Array[] } };
    expect(r.value.data.map((d) => d.length)).toEqual([300, 500]);
    expect([...r.value.data[0]]).toEqual([...bytes(300)]);
    expect(whole.buffer.byteLength).toBe(0); // detached: it moved to the caller
    expect(block.buffer.byteLength).toBe(4096); // the cache keeps its block
    expect(cb.get('bytesCopied')).toBe(500);
  });

  it('shared: a reply from pool slots copies 0 bytes; a heap header next to it copies its own buffer', async () => {
    const { mem, app, disk, appCodec, diskCodec } = sharedPool();
    const blocks = new PoolBlocks(disk);
    const block = blocks.alloc(SLOT);
    block.set(bytes(SLOT, 1));
    const head = bytes(41);
    const { A, cb } = pair({ codec: appCodec }, { codec: diskCodec, onCall: () => okv({ body: [head, block.subarray(0, 2000)] }) });
    const held: Held = [];
    const r = (await A.call({ type: 'X' }, held)) as { ok: true; value: { body: Uint8Array[] } };
    expect(cb.get('bytesCopied')).toBe(41);
    expect(r.value.body[1].buffer).toBe(mem.data);
    expect(held).toHaveLength(1);
    release(held);
    expect(allRefs(app).every((n) => n === 0)).toBe(true);
  });
});

describe('shared transport: a DISK_READ-like reply from pool slots', () => {
  /**
   * A disk side that caches two blocks of "file" bytes in pool slots and answers
   * reads with views of them: consecutive slots, or with a slot between (`apart`).
   */
  function diskWithTwoBlocks(pool: ReturnType<typeof sharedPool>, apart = false) {
    const blocks = new PoolBlocks(pool.disk);
    const b0 = blocks.alloc(SLOT);
    if (apart) blocks.alloc(SLOT);
    const b1 = blocks.alloc(SLOT);
    b0.set(bytes(SLOT, 0));
    b1.set(bytes(SLOT, 96)); // not bytes(SLOT, 4096): mod 256 that equals block 0's pattern
    const onCall = vi.fn(() => okv({ data: [b0.subarray(100), b1.subarray(0, 1000)], length: SLOT - 100 + 1000 }));
    return { blocks, b0, b1, s0: pool.disk.slotOf(b0), s1: pool.disk.slotOf(b1), onCall };
  }

  /** The bytes the two-block read answers: the end of block 0, then the start of block 1. */
  const fileBytes = () => [...bytes(SLOT - 100, 100), ...bytes(1000, 96)];

  it('from consecutive slots, arrives as one view (one extent descriptor) of the same bytes, zero bytes copied', async () => {
    const pool = sharedPool();
    const d = diskWithTwoBlocks(pool);
    expect(d.s1).toBe(d.s0 + 1);
    const { A, ca, cb } = pair({ codec: pool.appCodec }, { codec: pool.diskCodec, onCall: d.onCall });
    const held: Held = [];
    const r = (await A.call({ type: 'DISK_READ' }, held)) as { ok: true; value: { data: Uint8Array[]; length: number } };
    expect(r.value.length).toBe(4996);
    expect(r.value.data).toHaveLength(1);
    const [v] = r.value.data;
    expect(v.buffer).toBe(pool.mem.data);
    expect(v.byteOffset).toBe(d.s0 * SLOT + 100);
    expect(v.length).toBe(4996);
    expect([...v]).toEqual(fileBytes());
    expect(cb.get('bytesCopied') + ca.get('bytesCopied')).toBe(0);
    expect(cb.get('ipcPayloadBytes')).toBe(4996); // the bytes described, as with two descriptors
    release(held);
    expect(allRefs(pool.app)).toEqual(new Array(8).fill(0));
  });

  it('from slots apart, arrives as views of the same SharedArrayBuffer, the same bytes, with zero bytes copied', async () => {
    const pool = sharedPool();
    const d = diskWithTwoBlocks(pool, true);
    const { A, ca, cb } = pair({ codec: pool.appCodec }, { codec: pool.diskCodec, onCall: d.onCall });
    const held: Held = [];
    const r = (await A.call({ type: 'DISK_READ', ino: 1, offset: 100, length: 4996 } as { type: string }, held)) as {
      ok: true;
      value: { data: Uint8Array[]; length: number };
    };
    expect(r.ok).toBe(true);
    expect(r.value.length).toBe(4996);
    const [v0, v1] = r.value.data;
    expect(v0.buffer).toBe(pool.mem.data);
    expect(v1.buffer).toBe(pool.mem.data);
    expect(v0.byteOffset).toBe(d.s0 * SLOT + 100);
    expect(v0.length).toBe(SLOT - 100);
    expect(v1.byteOffset).toBe(d.s1 * SLOT);
    expect(v1.length).toBe(1000);
    expect([...v0]).toEqual([...bytes(SLOT - 100, 100)]);
    expect([...v1]).toEqual([...bytes(1000, 96)]);
    expect(cb.get('bytesCopied')).toBe(0);
    expect(ca.get('bytesCopied')).toBe(0);
    expect(ca.get('descriptorsRefused') + cb.get('descriptorsRefused')).toBe(0);
    release(held);
  });

  it('the slots stay pinned while the caller holds them, and are unpinned by release', async () => {
    const pool = sharedPool();
    const d = diskWithTwoBlocks(pool);
    const { A } = pair({ codec: pool.appCodec }, { codec: pool.diskCodec, onCall: d.onCall });
    expect([pool.app.refs(d.s0), pool.app.refs(d.s1)]).toEqual([0, 0]);
    const held: Held = [];
    const r = await A.call({ type: 'DISK_READ' }, held);
    expect(r.ok).toBe(true);
    expect(held.map((h) => [h.slot, h.slots ?? 1])).toEqual([[d.s0, 2]]); // one extent of both slots
    expect(held.every((h) => h.pool === pool.app)).toBe(true); // pinned in the caller's own mapping
    expect([pool.disk.refs(d.s0), pool.disk.refs(d.s1)]).toEqual([1, 1]);
    // while pinned the owner cannot reuse them: an evicted block waits
    d.blocks.free(d.b0);
    expect(() => pool.disk.claim(d.s0)).toThrow();
    release(held);
    expect(held).toEqual([]);
    expect(allRefs(pool.disk)).toEqual(new Array(8).fill(0));
    // now it can be reused, with a new generation
    const gen = pool.disk.generation(d.s0);
    pool.disk.claim(d.s0);
    expect(pool.disk.generation(d.s0)).toBe(gen + 1);
  });

  it('two reads of the same blocks pin each slot twice; each release unpins its own', async () => {
    const pool = sharedPool();
    const d = diskWithTwoBlocks(pool);
    const { A } = pair({ codec: pool.appCodec }, { codec: pool.diskCodec, onCall: d.onCall });
    const h1: Held = [];
    const h2: Held = [];
    await Promise.all([A.call({ type: 'DISK_READ' }, h1), A.call({ type: 'DISK_READ' }, h2)]);
    expect([pool.app.refs(d.s0), pool.app.refs(d.s1)]).toEqual([2, 2]);
    release(h1);
    expect([pool.app.refs(d.s0), pool.app.refs(d.s1)]).toEqual([1, 1]);
    release(h2);
    expect([pool.app.refs(d.s0), pool.app.refs(d.s1)]).toEqual([0, 0]);
  });

  it('passed on to a third domain (app -> net), the views cross again as descriptors, and each hop unpins its own pin', async () => {
    const pool = sharedPool();
    const d = diskWithTwoBlocks(pool);
    const net = new PoolMapping(pool.mem);
    const atNet = deferred<{ refs: number[]; body: Uint8Array[] }>();
    const disk = pair({ codec: pool.appCodec }, { codec: pool.diskCodec, onCall: d.onCall });
    const toNet = pair(
      { codec: pool.appCodec },
      {
        codec: sharedCodec([net]),
        onCall: (m) => {
          const body = (m as unknown as { body: Uint8Array[] }).body;
          atNet.resolve({ refs: [net.refs(d.s0), net.refs(d.s1)], body });
          return okv({ frames: 4 });
        },
      },
    );
    const held: Held = [];
    const read = (await disk.A.call({ type: 'DISK_READ' }, held)) as { ok: true; value: { data: Uint8Array[] } };
    const head = bytes(41);
    const sent = await toNet.A.call({ type: 'NET_SEND', body: [head, ...read.value.data] } as { type: string });
    expect(sent).toEqual(okv({ frames: 4 }));
    const seen = await atNet.promise;
    expect(seen.refs).toEqual([2, 2]); // the app's pin and the one for the message to net
    expect(seen.body).toHaveLength(2); // the header, and one view of the extent
    expect(seen.body[1].buffer).toBe(pool.mem.data);
    expect([...seen.body[1]]).toEqual(fileBytes());
    expect(toNet.ca.get('bytesCopied')).toBe(41); // only the header was cloned
    // net released its pin when it replied
    expect([pool.app.refs(d.s0), pool.app.refs(d.s1)]).toEqual([1, 1]);
    release(held);
    expect(allRefs(pool.app)).toEqual(new Array(8).fill(0));
  });

  it('a handler receiving pool views holds them pinned until its reply is sent', async () => {
    const pool = sharedPool();
    const slot = pool.app.slotOf(new PoolBlocks(pool.app).alloc(SLOT));
    const during = deferred<number>();
    const answer = deferred();
    const { A, cb } = pair(
      { codec: pool.appCodec },
      {
        codec: pool.diskCodec,
        onCall: async (_m, held) => {
          during.resolve(held.length);
          await answer.promise;
          return okv({ done: true });
        },
      },
    );
    const call = A.call({ type: 'X', data: [new Uint8Array(pool.mem.data, slot * SLOT + 8, 8)] } as { type: string });
    expect(await during.promise).toBe(1);
    expect(pool.disk.refs(slot)).toBe(1);
    answer.resolve();
    expect(await call).toEqual(okv({ done: true }));
    expect(pool.disk.refs(slot)).toBe(0);
    expect(cb.get('descriptorsRefused')).toBe(0);
  });
});

describe('shared transport: forged and stale descriptors are refused with EFAULT', () => {
  it('a forged descriptor sent as a message: EFAULT, the handler is never called, descriptorsRefused counts it', async () => {
    const pool = sharedPool();
    const handler = vi.fn(() => okv({ data: [] }));
    const { A, ca, cb, crashB } = pair({ codec: pool.appCodec }, { codec: pool.diskCodec, onCall: handler });
    const forged: Descriptor = { pool: 0, slot: 0, offset: 0, length: 10, gen: 999 };
    const r = await A.call({ type: 'DISK_READ', data: [forged] } as { type: string });
    expect(r).toMatchObject({ ok: false, errno: 'EFAULT' });
    expect(handler).not.toHaveBeenCalled();
    expect(crashB).not.toHaveBeenCalled();
    expect(cb.get('descriptorsRefused')).toBe(1);
    expect(ca.get('descriptorsRefused')).toBe(0);
    expect(cb.get('ipcMessages')).toBe(1); // the refusal is a reply
    expect(allRefs(pool.disk)).toEqual(new Array(8).fill(0)); // nothing pinned by the refusal
    // the channel keeps working
    expect(await A.call({ type: 'DISK_READ' })).toEqual(okv({ data: [] }));
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['an unpinned slot at its current generation', { pool: 0, slot: 1, offset: 0, length: 10, gen: 0 }],
    ['a slot out of range', { pool: 0, slot: 8, offset: 0, length: 10, gen: 0 }],
    ['a slice past the slot end', { pool: 0, slot: 2, offset: 4000, length: 200, gen: 0 }],
    ['a negative offset', { pool: 0, slot: 2, offset: -1, length: 1, gen: 0 }],
    ['a pool nobody maps', { pool: 9, slot: 2, offset: 0, length: 1, gen: 0 }],
  ])('%s: EFAULT and the handler never runs', async (_what, d) => {
    const pool = sharedPool();
    pool.disk.pin(2); // slot 2 is pinned at generation 0, so only the named defect is wrong
    const handler = vi.fn(() => okv({}));
    const { A, cb } = pair({ codec: pool.appCodec }, { codec: pool.diskCodec, onCall: handler });
    expect(await A.call({ type: 'X', data: [d] } as { type: string })).toMatchObject({ ok: false, errno: 'EFAULT' });
    expect(handler).not.toHaveBeenCalled();
    expect(cb.get('descriptorsRefused')).toBe(1);
    expect(allRefs(pool.disk)).toEqual([0, 0, 1, 0, 0, 0, 0, 0]);
  });

  it('a forged descriptor in a send (no reply) is dropped: the handler never runs, descriptorsRefused counts it', async () => {
    const pool = sharedPool();
    const seen: string[] = [];
    const { A, cb } = pair({ codec: pool.appCodec }, { codec: pool.diskCodec, onCall: (m) => (seen.push(m.type), okv('pong')) });
    A.send({ type: 'FIRE', data: [{ pool: 0, slot: 0, offset: 0, length: 10, gen: 999 }] } as { type: string });
    expect(await A.call({ type: 'PING' })).toEqual(okv('pong')); // ordered channel: the send was handled first
    expect(seen).toEqual(['PING']);
    expect(cb.get('descriptorsRefused')).toBe(1);
  });

  it('a stale descriptor in a reply (the slot was reused since): the caller gets EFAULT and holds nothing', async () => {
    const pool = sharedPool();
    const blocks = new PoolBlocks(pool.disk);
    const block = blocks.alloc(SLOT); // generation 1
    const slot = pool.disk.slotOf(block);
    const old = pool.disk.describe(block.subarray(0, 64))!;
    expect(old.gen).toBe(1);
    pool.disk.claim(slot); // reused: generation 2
    pool.disk.pin(slot); // and pinned for its new contents, so only the generation is wrong
    const { A, ca, cb } = pair({ codec: pool.appCodec }, { codec: pool.diskCodec, onCall: () => okv({ data: [old], length: 64 }) });
    const held: Held = [];
    const r = await A.call({ type: 'DISK_READ' }, held);
    expect(r).toMatchObject({ ok: false, errno: 'EFAULT' });
    expect((r as { detail: string }).detail).toMatch(/stale/);
    expect(held).toEqual([]);
    expect(ca.get('descriptorsRefused')).toBe(1);
    expect(cb.get('descriptorsRefused')).toBe(0);
    expect(pool.disk.refs(slot)).toBe(1); // the owner's pin, untouched
  });

  it('with the copy codec a descriptor-shaped object is just data: never resolved, never refused', async () => {
    const got = deferred<unknown>();
    const { A, cb } = pair({}, { onCall: (m) => (got.resolve(m), okv({})) });
    const d = { pool: 0, slot: 0, offset: 0, length: 10, gen: 999 };
    expect(await A.call({ type: 'X', data: [d] } as { type: string })).toEqual(okv({}));
    expect(await got.promise).toEqual({ type: 'X', data: [d] });
    expect(cb.get('descriptorsRefused')).toBe(0);
  });
});

describe('shared transport: pins are never leaked', () => {
  // Regression test (was a bug in src/microkernel/ipc.ts, receiveReply, `if (!p).
  it('a reply that comes after the deadline leaves its slots unpinned', async () => {
    const pool = sharedPool();
    const block = new PoolBlocks(pool.disk).alloc(SLOT);
    const slot = pool.disk.slotOf(block);
    const late = deferred();
    const { A } = pair(
      { codec: pool.appCodec, deadlineMs: 50 },
      {
        codec: pool.diskCodec,
        onCall: async (m) => {
          if (m.type === 'SLOW') await late.promise;
          return okv({ data: [block.subarray(0, 10)] });
        },
      },
    );
    const held: Held = [];
    expect(await A.call({ type: 'SLOW' }, held)).toMatchObject({ errno: 'ETIMEDOUT' });
    late.resolve();
    const h2: Held = [];
    expect((await A.call({ type: 'FAST' }, h2)).ok).toBe(true); // the late reply was received before this one
    release(h2);
    expect(held).toEqual([]);
    expect(pool.disk.refs(slot)).toBe(0);
  });

  // Regression test (was a bug in src/microkernel/ipc.ts, post).
  it('a reply that cannot be sent leaves its slots unpinned', async () => {
    const pool = sharedPool();
    const block = new PoolBlocks(pool.disk).alloc(SLOT);
    const slot = pool.disk.slotOf(block);
    const { A } = pair({ codec: pool.appCodec }, { codec: pool.diskCodec, onCall: () => okv({ data: [block.subarray(0, 8)], fn: () => 1 }) });
    expect(await A.call({ type: 'X' })).toMatchObject({ ok: false, errno: 'EINVAL' });
    expect(pool.disk.refs(slot)).toBe(0);
  });

  // Regression test (was a bug in src/microkernel/transport.ts sharedCodec.decode + ipc.ts receiveCall).
  it('a message refused for one bad descriptor leaves the other slots unpinned', async () => {
    const pool = sharedPool();
    const blocks = new PoolBlocks(pool.app);
    const a = blocks.alloc(SLOT);
    const b = blocks.alloc(SLOT);
    const { A } = pair({ codec: pool.appCodec }, { codec: pool.diskCodec, onCall: () => okv({}) });
    const bad = { pool: 0, slot: 7, offset: 0, length: 1, gen: 999 };
    const r = await A.call({ type: 'X', data: [a.subarray(0, 4), bad, b.subarray(0, 4)] } as { type: string });
    expect(r).toMatchObject({ ok: false, errno: 'EFAULT' });
    expect(allRefs(pool.app)).toEqual(new Array(8).fill(0));
  });
});
