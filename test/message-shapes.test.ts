/**
 * Message shapes (src/microkernel/shapes.ts over protocol.ts SHAPES): what the
 * receiving endpoint refuses (EINVAL for a shape that does not fit, E2BIG for
 * too many bytes), that the checks never throw whatever they are given, and
 * the checks at work in two Endpoints over an in-thread MessageChannel: the
 * receiving handler never sees a refused message and keeps answering, a
 * malformed reply reaches the caller as EINVAL, each refusal is counted, and
 * the pool pins a refused message took are dropped.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DEVICE_MESSAGES,
  MAX_STRING_BYTES,
  RECEIVE_CALLS,
  SERVER_NAMES,
  SHAPES,
  type FieldShape,
  type ServerName,
  type ShapeTable,
} from '../src/protocol.js';
import { checkCall, checkReply } from '../src/microkernel/shapes.js';
import { newPoolMemory, PoolBlocks, PoolMapping } from '../src/microkernel/pool.js';
import { release, sharedCodec, type Held } from '../src/microkernel/transport.js';
import { bytes } from './support/bytes.js';
import { endpointPair, okv, OpenPorts, type Side } from './support/channels.js';

const LIMITS = { maxPayloadBytes: 1000 };

/** A valid message of every type, by server. */
const VALID_CALLS: Record<ServerName, Record<string, Record<string, unknown>>> = {
  disk: {
    DISK_LOOKUP: { type: 'DISK_LOOKUP', path: '/index.html' },
    DISK_STAT: { type: 'DISK_STAT', ino: 3 },
    DISK_READ: { type: 'DISK_READ', ino: 3, offset: 0, length: 4096 },
    DISK_WRITE: { type: 'DISK_WRITE', ino: 3, offset: 10, data: [bytes(100), bytes(20)] },
  },
  net: {
    NET_RECV: { type: 'NET_RECV', reqId: 1, request: 'GET /a' },
    NET_CLOSE: { type: 'NET_CLOSE' },
    NET_ACCEPT: { type: 'NET_ACCEPT' },
    NET_SEND: { type: 'NET_SEND', reqId: 1, status: 200, body: [bytes(41)] },
  },
  app: {},
};

/** A valid ok reply value to every type, by server. */
const VALID_REPLIES: Record<ServerName, Record<string, Record<string, unknown>>> = {
  disk: {
    DISK_LOOKUP: { ino: 3, size: 5000 },
    DISK_STAT: { ino: 3, size: 5000, blocks: 2 },
    DISK_READ: { data: [bytes(4096), bytes(904)], length: 5000 },
    DISK_WRITE: { length: 120 },
  },
  net: {
    NET_RECV: { status: 200 },
    NET_CLOSE: { accepts: 2 },
    NET_ACCEPT: { reqId: 7, request: 'WRITE /f 0', body: [bytes(10)] },
    NET_SEND: { frames: 1, wireBytes: 81 },
  },
  app: {},
};

/** Every [server, type] in the table. */
const ALL_TYPES: [ServerName, string][] = SERVER_NAMES.flatMap((s) => Object.keys(SHAPES[s]).map((t): [ServerName, string] => [s, t]));
/** Every [server, type] a server may be called with over IPC (no device messages). */
const CALL_TYPES = ALL_TYPES.filter(([, t]) => !DEVICE_MESSAGES.has(t));
const fieldsOf = (s: ServerName, t: string, side: 'req' | 'rep') =>
  Object.entries((SHAPES[s] as Record<string, Record<'req' | 'rep', Record<string, FieldShape>>>)[t][side]);

describe('the shape table', () => {
  it('has a valid example of every message type and reply here, and nothing else', () => {
    expect(ALL_TYPES.length).toBe(8);
    for (const s of SERVER_NAMES) {
      expect(Object.keys(VALID_CALLS[s]).sort()).toEqual(Object.keys(SHAPES[s]).sort());
      expect(Object.keys(VALID_REPLIES[s]).sort()).toEqual(Object.keys(SHAPES[s]).sort());
    }
    expect(Object.keys(SHAPES.app)).toEqual([]);
  });

  it('covers the device messages and the receives', () => {
    for (const t of [...DEVICE_MESSAGES, ...RECEIVE_CALLS]) expect(Object.keys(SHAPES.net)).toContain(t);
  });

  it('states the string limits as data: a request line 8 KiB, a path 4 KiB', () => {
    expect(MAX_STRING_BYTES).toEqual({ requestLine: 8192, path: 4096 });
    expect(SHAPES.disk.DISK_LOOKUP.req.path).toEqual({ kind: 'string', maxBytes: 4096 });
    expect(SHAPES.net.NET_RECV.req.request).toEqual({ kind: 'string', maxBytes: 8192 });
    expect(SHAPES.net.NET_ACCEPT.rep.request).toEqual({ kind: 'string', maxBytes: 8192 });
  });

  it('is held to the wire types by the compiler (checked by tsc)', () => {
    const int = { kind: 'int' } as const;
    const wrong: ShapeTable[] = [
      // @ts-expect-error a message type missing
      { ...SHAPES, disk: { DISK_STAT: SHAPES.disk.DISK_STAT, DISK_READ: SHAPES.disk.DISK_READ, DISK_WRITE: SHAPES.disk.DISK_WRITE } },
      // @ts-expect-error a message type extra
      { ...SHAPES, disk: { ...SHAPES.disk, DISK_FORMAT: { req: {}, rep: {} } } },
      // @ts-expect-error a call of a server that answers none
      { ...SHAPES, app: { APP_REQUEST: { req: {}, rep: {} } } },
      // @ts-expect-error a field of the wrong kind
      { ...SHAPES, disk: { ...SHAPES.disk, DISK_STAT: { req: { ino: { kind: 'string', maxBytes: 9 } }, rep: SHAPES.disk.DISK_STAT.rep } } },
      // @ts-expect-error a field missing
      { ...SHAPES, disk: { ...SHAPES.disk, DISK_STAT: { req: {}, rep: SHAPES.disk.DISK_STAT.rep } } },
      // @ts-expect-error a field extra
      { ...SHAPES, disk: { ...SHAPES.disk, DISK_STAT: { req: { ino: int, extra: int }, rep: SHAPES.disk.DISK_STAT.rep } } },
      // @ts-expect-error a field in a request of none
      { ...SHAPES, net: { ...SHAPES.net, NET_ACCEPT: { req: { n: int }, rep: SHAPES.net.NET_ACCEPT.rep } } },
      // @ts-expect-error an optional field not marked optional
      { ...SHAPES, net: { ...SHAPES.net, NET_ACCEPT: { req: {}, rep: { ...SHAPES.net.NET_ACCEPT.rep, body: { kind: 'payload' } } } } },
      // @ts-expect-error a string without its limit
      { ...SHAPES, disk: { ...SHAPES.disk, DISK_LOOKUP: { req: { path: { kind: 'string' } }, rep: SHAPES.disk.DISK_LOOKUP.rep } } },
    ];
    expect(wrong).toHaveLength(9);
  });
});

describe('checkCall', () => {
  it.each(CALL_TYPES)('a valid %s %s fits', (s, t) => {
    expect(checkCall(s, VALID_CALLS[s][t], LIMITS)).toBeNull();
  });

  it('int: a safe integer of at least 0, nothing else', () => {
    const stat = (ino: unknown) => checkCall('disk', { type: 'DISK_STAT', ino }, LIMITS);
    for (const ok of [0, 1, 4096, Number.MAX_SAFE_INTEGER]) expect(stat(ok)).toBeNull();
    for (const bad of [-1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, '1', null, true, 1n, [1], { n: 1 }]) {
      const p = stat(bad);
      expect(p?.errno).toBe('EINVAL');
      expect(p?.detail).toContain('DISK_STAT');
      expect(p?.detail).toContain("'ino'");
      expect(p?.detail).toContain('non-negative safe integer');
    }
  });

  it('string: a string, nothing else', () => {
    const lookup = (path: unknown) => checkCall('disk', { type: 'DISK_LOOKUP', path }, LIMITS);
    for (const ok of ['', '/a', 'é', '🙂']) expect(lookup(ok)).toBeNull();
    for (const bad of [1, null, ['/a'], { path: '/a' }, bytes(3), Symbol('x')]) {
      const p = lookup(bad);
      expect(p).toEqual({ errno: 'EINVAL', detail: expect.stringMatching(/^DISK_LOOKUP: field 'path' must be a string, got /) });
    }
  });

  it('payload: an array of Uint8Array (empty, or Buffers, too), nothing else', () => {
    const write = (data: unknown) => checkCall('disk', { type: 'DISK_WRITE', ino: 1, offset: 0, data }, LIMITS);
    for (const ok of [[], [bytes(1)], [new Uint8Array(0), bytes(5)], [Buffer.from('ab')]]) expect(write(ok)).toBeNull();
    const bad: unknown[] = [
      bytes(3), // a view, not an array of them
      'abc',
      null,
      [1, 2],
      [bytes(2), 'x'],
      [new Uint16Array(2)],
      [new DataView(new ArrayBuffer(2))],
      [new ArrayBuffer(4)],
      [{ pool: 0, slot: 1, offset: 0, length: 4, gen: 1 }], // a descriptor left unmapped
      [undefined],
    ];
    for (const b of bad) {
      const p = write(b);
      expect(p?.errno).toBe('EINVAL');
      expect(p?.detail).toMatch(/^DISK_WRITE: field 'data' must be an array of Uint8Array/);
    }
    expect(write([bytes(2), 'x'])?.detail).toContain('element 1 is a string');
  });

  it('a missing field, or one that is undefined, is EINVAL naming it', () => {
    expect(checkCall('disk', { type: 'DISK_READ', ino: 1, offset: 0 }, LIMITS)).toEqual({
      errno: 'EINVAL',
      detail: "DISK_READ: missing field 'length'",
    });
    expect(checkCall('disk', { type: 'DISK_READ', ino: 1, offset: 0, length: undefined }, LIMITS)).toEqual({
      errno: 'EINVAL',
      detail: "DISK_READ: field 'length' must be a non-negative safe integer, got undefined",
    });
    expect(checkCall('net', { type: 'NET_SEND', reqId: 1, status: 200 }, LIMITS)?.detail).toBe("NET_SEND: missing field 'body'");
  });

  it('an optional field may be absent or undefined, but not of another kind', () => {
    expect(checkCall('net', { type: 'NET_SEND', reqId: 1, status: 200, body: [] }, LIMITS)).toBeNull();
    expect(checkReply('net', 'NET_ACCEPT', { reqId: 1, request: 'GET /' })).toBeNull();
    expect(checkReply('net', 'NET_ACCEPT', { reqId: 1, request: 'GET /', body: undefined })).toBeNull();
    expect(checkReply('net', 'NET_ACCEPT', { reqId: 1, request: 'GET /', body: 'x' })?.detail).toMatch(/field 'body' must be an array/);
  });

  it('an unknown field is EINVAL naming it, also in a request of no fields and as an own __proto__', () => {
    expect(checkCall('disk', { type: 'DISK_STAT', ino: 1, mode: 1 }, LIMITS)).toEqual({
      errno: 'EINVAL',
      detail: "DISK_STAT: unknown field 'mode'",
    });
    expect(checkCall('net', { type: 'NET_ACCEPT', timeout: 5 }, LIMITS)?.detail).toBe("NET_ACCEPT: unknown field 'timeout'");
    expect(checkCall('disk', JSON.parse('{"type":"DISK_STAT","ino":1,"__proto__":{"x":1}}'), LIMITS)?.detail).toBe(
      "DISK_STAT: unknown field '__proto__'",
    );
    expect(checkCall('disk', { type: 'DISK_STAT', ino: 1, constructor: 1 }, LIMITS)?.detail).toBe("DISK_STAT: unknown field 'constructor'");
    const long = 'x'.repeat(1000);
    const p = checkCall('disk', { type: 'DISK_STAT', ino: 1, [long]: 1 }, LIMITS);
    expect(p?.errno).toBe('EINVAL');
    expect(p!.detail.length).toBeLessThan(120);
  });

  it('a message that is not a plain object with a string type is EINVAL', () => {
    class Stat {
      type = 'DISK_STAT';
      ino = 1;
    }
    const notPlain: unknown[] = [null, undefined, 1, 'DISK_STAT', [], ['DISK_STAT'], new Map([['type', 'DISK_STAT']]), new Stat(), bytes(2)];
    for (const m of notPlain) expect(checkCall('disk', m, LIMITS)?.errno).toBe('EINVAL');
    expect(checkCall('disk', new Stat(), LIMITS)?.detail).toBe('message is an object, not a plain object');
    for (const m of [{}, { type: 1 }, { type: null }, { type: ['DISK_STAT'] }]) {
      expect(checkCall('disk', m, LIMITS)?.detail).toMatch(/^message type is .*, not a string$/);
    }
    const bare = Object.assign(Object.create(null) as object, { type: 'DISK_STAT', ino: 1 });
    expect(checkCall('disk', bare, LIMITS)).toBeNull(); // no prototype is plain too
  });

  it('a type the server does not know passes, for the server to answer ENOSYS', () => {
    expect(checkCall('disk', { type: 'DISK_FORMAT', anything: [1] }, LIMITS)).toBeNull();
    expect(checkCall('disk', { type: 'NET_SEND' }, LIMITS)).toBeNull(); // net's, not disk's
    expect(checkCall('disk', { type: 'toString' }, LIMITS)).toBeNull(); // not an inherited entry
    expect(checkCall('app', { type: 'APP_REQUEST', reqId: 1 }, LIMITS)).toBeNull();
  });

  it("a device's message is refused, however well formed", () => {
    for (const t of DEVICE_MESSAGES) {
      expect(checkCall('net', VALID_CALLS.net[t], LIMITS)).toEqual({ errno: 'EINVAL', detail: `${t}: only the device sends ${t}` });
    }
    expect(checkCall('net', { type: 'NET_RECV', reqId: 'x' }, LIMITS)?.detail).toBe('NET_RECV: only the device sends NET_RECV');
  });

  it('E2BIG: the payload bytes of a message past maxPayloadBytes, summed over its slices', () => {
    const write = (...sizes: number[]) => checkCall('disk', { type: 'DISK_WRITE', ino: 1, offset: 0, data: sizes.map((n) => bytes(n)) }, LIMITS);
    expect(write(1000)).toBeNull();
    expect(write(500, 500)).toBeNull();
    expect(write(1001)).toEqual({ errno: 'E2BIG', detail: 'DISK_WRITE: payload of 1001 bytes, more than 1000' });
    expect(write(600, 300, 101)?.errno).toBe('E2BIG');
    // the view's bytes, not its buffer's
    const big = new Uint8Array(10_000);
    expect(checkCall('disk', { type: 'DISK_WRITE', ino: 1, offset: 0, data: [big.subarray(0, 1000)] }, LIMITS)).toBeNull();
    expect(checkCall('net', { type: 'NET_SEND', reqId: 1, status: 200, body: [big] }, { maxPayloadBytes: 10_000 })).toBeNull();
    expect(checkCall('net', { type: 'NET_SEND', reqId: 1, status: 200, body: [big] }, { maxPayloadBytes: 9_999 })?.errno).toBe('E2BIG');
  });

  it('E2BIG: a string past its limit in UTF-8 bytes', () => {
    const lookup = (path: string) => checkCall('disk', { type: 'DISK_LOOKUP', path }, LIMITS);
    expect(lookup('a'.repeat(4096))).toBeNull();
    expect(lookup('a'.repeat(4097))).toEqual({ errno: 'E2BIG', detail: "DISK_LOOKUP: field 'path' is 4097 bytes, more than 4096" });
    expect(lookup('é'.repeat(2048))).toBeNull(); // 2 bytes each
    expect(lookup('é'.repeat(2049))?.detail).toBe("DISK_LOOKUP: field 'path' is 4098 bytes, more than 4096");
    expect(lookup('🙂'.repeat(1024))).toBeNull(); // 4 bytes each, 2 UTF-16 units
    expect(lookup('🙂'.repeat(1024) + 'a')?.errno).toBe('E2BIG');
    expect(lookup('€'.repeat(1365))).toBeNull(); // 3 bytes each: 4095
    expect(lookup('€'.repeat(1366))?.errno).toBe('E2BIG');
    expect(checkCall('disk', { type: 'DISK_LOOKUP', path: 'a'.repeat(1_000_000) }, LIMITS)?.detail).toContain('1000000 bytes');
  });

  it('a shape problem is told before a size one', () => {
    const p = checkCall('disk', { type: 'DISK_WRITE', ino: 1, offset: 0, data: [bytes(2000)], extra: 1 }, LIMITS);
    expect(p).toEqual({ errno: 'EINVAL', detail: "DISK_WRITE: unknown field 'extra'" });
  });

  it('a message whose fields cannot be read is EINVAL, not a throw', () => {
    const trap = new Proxy({}, { getPrototypeOf: () => Object.prototype, get: () => { throw new Error('trap'); } });
    expect(checkCall('disk', trap, LIMITS)).toEqual({ errno: 'EINVAL', detail: 'message cannot be read' });
    const getter = { type: 'DISK_STAT', get ino(): number { throw new Error('no'); } };
    expect(checkCall('disk', getter, LIMITS)?.errno).toBe('EINVAL');
    expect(checkReply('disk', 'DISK_STAT', trap)).toEqual({ errno: 'EINVAL', detail: 'DISK_STAT reply cannot be read' });
  });
});

describe('checkReply', () => {
  it.each(ALL_TYPES)('a valid reply to %s %s fits', (s, t) => {
    expect(checkReply(s, t, VALID_REPLIES[s][t])).toBeNull();
  });

  it('garbage is EINVAL', () => {
    for (const v of ['garbage', 42, null, undefined, [], [1, 2], bytes(3)]) {
      const p = checkReply('disk', 'DISK_STAT', v);
      expect(p?.errno).toBe('EINVAL');
      expect(p?.detail).toMatch(/^DISK_STAT reply is .*, not a plain object$/);
    }
  });

  it('is checked against the reply of the call it answers', () => {
    // a lookup's reply answering a stat: no blocks
    expect(checkReply('disk', 'DISK_STAT', VALID_REPLIES.disk.DISK_LOOKUP)).toEqual({
      errno: 'EINVAL',
      detail: "DISK_STAT reply: missing field 'blocks'",
    });
    expect(checkReply('disk', 'DISK_LOOKUP', VALID_REPLIES.disk.DISK_STAT)?.detail).toBe("DISK_LOOKUP reply: unknown field 'blocks'");
    expect(checkReply('disk', 'DISK_READ', { data: [bytes(1)], length: -1 })?.detail).toMatch(/^DISK_READ reply: field 'length' must be/);
    expect(checkReply('net', 'NET_SEND', { frames: 1, wireBytes: 81, type: 'NET_SEND' })?.detail).toBe("NET_SEND reply: unknown field 'type'");
  });

  it('a reply string past its limit is malformed (EINVAL); reply payloads have no size limit here', () => {
    const accept = (request: string) => checkReply('net', 'NET_ACCEPT', { reqId: 1, request });
    expect(accept('a'.repeat(8192))).toBeNull();
    expect(accept('a'.repeat(8193))).toEqual({ errno: 'EINVAL', detail: "NET_ACCEPT reply: field 'request' is 8193 bytes, more than 8192" });
    expect(checkReply('disk', 'DISK_READ', { data: [new Uint8Array(1 << 20)], length: 1 << 20 })).toBeNull();
  });

  it('a type the server does not know passes', () => {
    expect(checkReply('disk', 'DISK_FORMAT', 'anything')).toBeNull();
    expect(checkReply('app', 'APP_REQUEST', 1)).toBeNull();
  });
});

/** A value of `kind` that fits it. */
function fitting(f: FieldShape): fc.Arbitrary<unknown> {
  switch (f.kind) {
    case 'int':
      return fc.oneof(fc.nat(), fc.constantFrom(0, Number.MAX_SAFE_INTEGER));
    case 'string':
      return fc.string({ unit: 'grapheme', maxLength: 20 });
    case 'payload':
      return fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 4 });
  }
}

/** A value that does not fit `kind`. */
function misfit(f: FieldShape): fc.Arbitrary<unknown> {
  const common = [fc.constant(null), fc.boolean(), fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }), fc.bigInt()];
  switch (f.kind) {
    case 'int':
      return fc.oneof(
        ...common,
        fc.integer({ max: -1 }),
        fc.double().filter((d) => !Number.isSafeInteger(d) || d < 0),
        fc.constantFrom(2 ** 53, -0.5, NaN, Infinity),
        fc.string(),
        fc.array(fc.nat(), { maxLength: 2 }),
      );
    case 'string':
      return fc.oneof(...common, fc.integer(), fc.array(fc.string(), { maxLength: 2 }), fc.uint8Array());
    case 'payload':
      return fc.oneof(
        ...common,
        fc.string(),
        fc.uint8Array(),
        fc.array(fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.int16Array()), { minLength: 1, maxLength: 3 }),
        fc.tuple(fc.uint8Array(), fc.string()),
      );
  }
}

/** A valid message of `type` (of `server`; `side` picks a call or a reply's value), with optional fields there or not. */
function validOf(server: ServerName, type: string, side: 'req' | 'rep'): fc.Arbitrary<Record<string, unknown>> {
  const fields = fieldsOf(server, type, side);
  const rec: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, f] of fields) rec[name] = fitting(f);
  const requiredKeys = fields.filter(([, f]) => !f.optional).map(([n]) => n);
  return fc.record(rec, { requiredKeys }).map((v) => (side === 'req' ? { type, ...v } : { ...v }));
}

describe('never throws, and refuses every mutation of a valid message', () => {
  const anything = fc.anything({ withBigInt: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true, withMap: true, withSet: true, withDate: true, withBoxedValues: true });

  it('checkCall on anything, for each server', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SERVER_NAMES), anything, (s, m) => {
        const p = checkCall(s, m, LIMITS);
        expect(p === null || p.errno === 'EINVAL' || p.errno === 'E2BIG').toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('checkCall on anything that names a message type, as its type or with its fields', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ALL_TYPES),
        fc.dictionary(fc.constantFrom('type', 'ino', 'path', 'data', 'body', 'reqId', 'request', 'status', 'x'), anything),
        ([s, t], fields) => {
          const p = checkCall(s, { type: t, ...fields }, LIMITS);
          if (p) expect(p.detail.startsWith('message') || p.detail.startsWith(t)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('checkReply on anything, for each message type', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ALL_TYPES), anything, ([s, t], v) => {
        const p = checkReply(s, t, v);
        expect(p === null || p.errno === 'EINVAL').toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('valid calls and replies of every type fit', () => {
    const arb = fc.constantFrom(...ALL_TYPES).chain(([s, t]) => fc.tuple(fc.constant([s, t] as const), validOf(s, t, 'req'), validOf(s, t, 'rep')));
    fc.assert(
      fc.property(arb, ([[s, t], msg, rep]) => {
        if (!DEVICE_MESSAGES.has(t)) expect(checkCall(s, msg, { maxPayloadBytes: Infinity })).toBeNull();
        expect(checkReply(s, t, rep)).toBeNull();
      }),
      { numRuns: 1000 },
    );
  });

  /** A valid message with one field dropped, given a misfit value, or one unknown field added; and the field named. */
  function mutated(side: 'req' | 'rep') {
    return fc.constantFrom(...(side === 'req' ? CALL_TYPES : ALL_TYPES)).chain(([s, t]) => {
      const fields = fieldsOf(s, t, side);
      const mutations: fc.Arbitrary<{ how: string; field: string; apply: (m: Record<string, unknown>) => void }>[] = [
        fc
          .string({ minLength: 1, maxLength: 12 })
          .filter((k) => k !== 'type' && !fields.some(([n]) => n === k))
          .chain((k) => anything.map((v) => ({ how: 'unknown', field: k, apply: (m: Record<string, unknown>) => void Object.defineProperty(m, k, { value: v, enumerable: true, writable: true, configurable: true }) }))),
      ];
      const required = fields.filter(([, f]) => !f.optional);
      if (required.length > 0) {
        mutations.push(fc.constantFrom(...required).map(([n]) => ({ how: 'missing', field: n, apply: (m) => void delete m[n] })));
      }
      if (fields.length > 0) {
        mutations.push(
          fc.constantFrom(...fields).chain(([n, f]) => misfit(f).map((v) => ({ how: 'misfit', field: n, apply: (m: Record<string, unknown>) => void (m[n] = v) }))),
        );
      }
      return fc.tuple(fc.constant([s, t] as const), validOf(s, t, side), fc.oneof(...mutations));
    });
  }

  it('a mutated call is EINVAL, naming its type and the field', () => {
    fc.assert(
      fc.property(mutated('req'), ([[s, t], msg, mut]) => {
        mut.apply(msg);
        const p = checkCall(s, msg, { maxPayloadBytes: Infinity });
        expect(p?.errno).toBe('EINVAL');
        expect(p!.detail.startsWith(`${t}: `)).toBe(true);
        expect(p!.detail).toContain(mut.how === 'unknown' ? `unknown field '${mut.field.slice(0, 64)}` : `'${mut.field}'`);
      }),
      { numRuns: 2000 },
    );
  });

  it('a mutated reply is EINVAL, naming the type and the field', () => {
    fc.assert(
      fc.property(mutated('rep'), ([[s, t], value, mut]) => {
        mut.apply(value);
        const p = checkReply(s, t, value);
        expect(p?.errno).toBe('EINVAL');
        expect(p!.detail.startsWith(`${t} reply: `)).toBe(true);
        expect(p!.detail).toContain(`'${mut.field}'`);
      }),
      { numRuns: 2000 },
    );
  });

  it('a valid call over the payload limit is E2BIG exactly when its payload bytes pass it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CALL_TYPES).chain(([s, t]) => fc.tuple(fc.constant(s), validOf(s, t, 'req'))),
        fc.nat(200),
        ([s, msg], max) => {
          const total = Object.values(msg).reduce<number>((n, v) => n + (Array.isArray(v) ? v.reduce((k: number, u: Uint8Array) => k + u.length, 0) : 0), 0);
          const p = checkCall(s, msg, { maxPayloadBytes: max });
          expect(p).toEqual(total > max ? { errno: 'E2BIG', detail: expect.stringContaining(`payload of ${total} bytes`) } : null);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

const openPorts = new OpenPorts();

afterEach(() => openPorts.closeAll());

/** The app (caller, port1) and a server (port2): both check shapes; the app calls `server`. */
function appAnd(server: 'disk' | 'net', serverSide: Side, appSide: Side = {}, maxPayloadBytes = 1000) {
  const { port1, port2 } = openPorts.channel();
  return endpointPair(
    port1,
    port2,
    { label: 'app', shapes: { server: 'app', peer: server, maxPayloadBytes }, ...appSide },
    { label: server, shapes: { server, peer: 'app', maxPayloadBytes }, ...serverSide },
  );
}

const stat = (ino: number) => ({ ino, size: 5000, blocks: 2 });

describe('Endpoint with shapes: refused calls', () => {
  it('a malformed call is answered EINVAL and counted; the handler never sees it and keeps answering', async () => {
    const onCall = vi.fn((m: { type: string }) => okv(stat((m as unknown as { ino: number }).ino)));
    const { A, ca, cb, crashB } = appAnd('disk', { onCall });
    const bad = [
      { type: 'DISK_STAT', ino: 'x' },
      { type: 'DISK_STAT' },
      { type: 'DISK_STAT', ino: 1, mode: 'rw' },
      { type: 'DISK_STAT', ino: -1 },
    ];
    for (const m of bad) {
      const r = await A.call(m);
      expect(r).toMatchObject({ ok: false, errno: 'EINVAL' });
      expect((r as { detail: string }).detail).toMatch(/^disk: DISK_STAT: /);
    }
    expect((await A.call({ type: 'DISK_STAT', ino: 'x' } as { type: string })).ok && 'ok').toBe(false);
    expect(cb.get('messagesRefused')).toBe(5);
    expect(ca.get('messagesRefused')).toBe(0);
    expect(onCall).not.toHaveBeenCalled();
    expect(await A.call({ type: 'DISK_STAT', ino: 4 } as { type: string })).toEqual(okv(stat(4)));
    expect(onCall).toHaveBeenCalledTimes(1);
    expect(onCall.mock.calls[0][0]).toEqual({ type: 'DISK_STAT', ino: 4 });
    expect(crashB).not.toHaveBeenCalled();
    expect(cb.get('messagesRefused')).toBe(5);
  });

  it('an oversized call is answered E2BIG and counted; the handler never sees it', async () => {
    const onCall = vi.fn(() => okv({ length: 10 }));
    const { A, cb } = appAnd('disk', { onCall });
    const write = (n: number) => ({ type: 'DISK_WRITE', ino: 1, offset: 0, data: [bytes(n)] });
    expect(await A.call(write(1001))).toEqual({ ok: false, errno: 'E2BIG', detail: 'disk: DISK_WRITE: payload of 1001 bytes, more than 1000' });
    expect(await A.call({ type: 'DISK_LOOKUP', path: '/'.repeat(5000) } as { type: string })).toMatchObject({ ok: false, errno: 'E2BIG' });
    expect(cb.get('messagesRefused')).toBe(2);
    expect(onCall).not.toHaveBeenCalled();
    expect(await A.call(write(1000))).toEqual(okv({ length: 10 }));
    expect(onCall).toHaveBeenCalledTimes(1);
  });

  it("a device's message over IPC is refused; a type the server does not know reaches it (for ENOSYS)", async () => {
    const onCall = vi.fn((m: { type: string }) => ({ ok: false as const, errno: 'ENOSYS' as const, detail: m.type }));
    const { A, cb } = appAnd('net', { onCall });
    expect(await A.call({ type: 'NET_RECV', reqId: 1, request: 'GET /' } as { type: string })).toEqual({
      ok: false,
      errno: 'EINVAL',
      detail: 'net: NET_RECV: only the device sends NET_RECV',
    });
    expect(await A.call({ type: 'NET_CLOSE' })).toMatchObject({ ok: false, errno: 'EINVAL' });
    expect(onCall).not.toHaveBeenCalled();
    expect(await A.call({ type: 'NET_FLUSH' })).toEqual({ ok: false, errno: 'ENOSYS', detail: 'NET_FLUSH' });
    expect(onCall).toHaveBeenCalledTimes(1);
    expect(cb.get('messagesRefused')).toBe(2);
  });

  it('a malformed send is dropped and counted; the handler never sees it', async () => {
    const onCall = vi.fn(() => okv({ frames: 1, wireBytes: 41 }));
    const { A, cb, crashB } = appAnd('net', { onCall });
    A.send({ type: 'NET_SEND', reqId: 1, status: 200, body: 'not bytes' } as { type: string });
    A.send({ type: 'NET_SEND', reqId: 1, status: 200, body: [bytes(2000)] } as { type: string });
    // the port keeps order: once this call's reply is back, both sends were received
    expect(await A.call({ type: 'NET_SEND', reqId: 2, status: 200, body: [bytes(1)] } as { type: string })).toEqual(okv({ frames: 1, wireBytes: 41 }));
    expect(cb.get('messagesRefused')).toBe(2);
    expect(onCall).toHaveBeenCalledTimes(1);
    expect(crashB).not.toHaveBeenCalled();
  });

  it('without shapes nothing is checked: the malformed call reaches the handler', async () => {
    const onCall = vi.fn(() => okv('garbage'));
    const { A, ca, cb } = appAnd('disk', { onCall, shapes: undefined }, { shapes: undefined });
    expect(await A.call({ type: 'DISK_STAT', ino: 'x' } as { type: string })).toEqual(okv('garbage'));
    expect(onCall).toHaveBeenCalledTimes(1);
    expect(ca.get('messagesRefused') + cb.get('messagesRefused')).toBe(0);
  });
});

describe('Endpoint with shapes: refused replies', () => {
  it('a malformed reply reaches the caller as EINVAL, counted by the caller; a good one passes', async () => {
    let answer: unknown = 'garbage';
    const { A, ca, cb } = appAnd('disk', { onCall: () => okv(answer) });
    const r = await A.call({ type: 'DISK_STAT', ino: 1 } as { type: string });
    expect(r).toEqual({ ok: false, errno: 'EINVAL', detail: 'app: DISK_STAT reply is a string, not a plain object' });
    answer = { ino: 1, size: 5000 }; // a lookup's reply to a stat
    expect(await A.call({ type: 'DISK_STAT', ino: 1 } as { type: string })).toEqual({
      ok: false,
      errno: 'EINVAL',
      detail: "app: DISK_STAT reply: missing field 'blocks'",
    });
    expect(await A.call({ type: 'DISK_LOOKUP', path: '/a' } as { type: string })).toEqual(okv({ ino: 1, size: 5000 }));
    answer = { ino: 1, size: 5000, blocks: 2, secret: 'x' };
    expect(await A.call({ type: 'DISK_STAT', ino: 1 } as { type: string })).toMatchObject({ ok: false, errno: 'EINVAL', detail: "app: DISK_STAT reply: unknown field 'secret'" });
    expect(ca.get('messagesRefused')).toBe(3);
    expect(cb.get('messagesRefused')).toBe(0);
  });

  it('an error reply is not checked', async () => {
    const { A, ca } = appAnd('disk', { onCall: () => ({ ok: false, errno: 'ENOENT', detail: '/a' }) });
    expect(await A.call({ type: 'DISK_LOOKUP', path: '/a' } as { type: string })).toEqual({ ok: false, errno: 'ENOENT', detail: '/a' });
    expect(ca.get('messagesRefused')).toBe(0);
  });
});

describe('Endpoint with shapes over the shared pool: a refused message drops the pins it took', () => {
  const SLOT = 4096;
  function sharedPool() {
    const mem = newPoolMemory(0, 8, SLOT);
    const app = new PoolMapping(mem);
    const disk = new PoolMapping(mem);
    return { mem, app, disk, appCodec: sharedCodec([app]), diskCodec: sharedCodec([disk]) };
  }
  const allRefs = (p: PoolMapping) => Array.from({ length: p.mem.slots }, (_, s) => p.refs(s));

  it('a refused reply: the pins its decode took are dropped, the ones the caller held before are kept', async () => {
    const pool = sharedPool();
    const block = new PoolBlocks(pool.disk).alloc(SLOT);
    const slot = pool.disk.slotOf(block);
    const { A, ca } = appAnd('disk', { codec: pool.diskCodec, onCall: () => okv({ data: [block.subarray(0, 100)], length: -1 }) }, { codec: pool.appCodec });
    const other = (slot + 3) % 8;
    pool.app.pin(other);
    const held: Held = [{ pool: pool.app, slot: other }];
    const r = await A.call({ type: 'DISK_READ', ino: 1, offset: 0, length: 100 } as { type: string }, held);
    expect(r).toMatchObject({ ok: false, errno: 'EINVAL' });
    expect((r as { detail: string }).detail).toContain("DISK_READ reply: field 'length'");
    expect(ca.get('messagesRefused')).toBe(1);
    expect(held).toEqual([{ pool: pool.app, slot: other }]);
    expect(pool.app.refs(slot)).toBe(0);
    expect(pool.app.refs(other)).toBe(1);
    release(held);
    expect(allRefs(pool.app)).toEqual(new Array(8).fill(0));
  });

  it('a refused call: the pins its decode took are dropped before the answer', async () => {
    const pool = sharedPool();
    const block = new PoolBlocks(pool.app).alloc(SLOT);
    const onCall = vi.fn(() => okv({ length: 0 }));
    const { A, cb } = appAnd('disk', { codec: pool.diskCodec, onCall }, { codec: pool.appCodec }, 1000);
    const r = await A.call({ type: 'DISK_WRITE', ino: 1, offset: 0, data: [block.subarray(0, 2000)] } as { type: string });
    expect(r).toMatchObject({ ok: false, errno: 'E2BIG' });
    expect(cb.get('messagesRefused')).toBe(1);
    expect(cb.get('descriptorsRefused')).toBe(0);
    expect(onCall).not.toHaveBeenCalled();
    expect(allRefs(pool.app)).toEqual(new Array(8).fill(0));
  });
});
