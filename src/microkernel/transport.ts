/**
 * Payload transports: how the bytes of a message cross from one domain to
 * another. A payload is a top-level array field of byte views (`data`, `body`);
 * everything else in a message is small and is always structured-cloned.
 *
 *   copy      structured clone (Mach-style copy): every ArrayBuffer behind a
 *             payload view is copied whole.
 *   transfer  the ArrayBuffer moves (page remapping): no copy in flight, but a
 *             view the sender must keep (a cache block, or part of a larger
 *             buffer) is first copied out to a buffer of its own — counted.
 *   shared    IO-Lite-style: a view into the shared pool crosses as a pinned
 *             descriptor, and views that follow each other in the pool (a
 *             file's blocks in consecutive slots) as one extent descriptor,
 *             which the receiver maps as one view; only a view outside the
 *             pool is copied (counted).
 *
 * A codec counts the copies it makes itself (transfer's copy-out); the channel
 * counts what its own mechanism copies (a structured clone of the views left in
 * the message).
 */
import type { Counters } from '../metrics/counters.js';
import type { Transport } from '../config.js';
import { DescriptorError, PoolMapping, type Descriptor } from './pool.js';

/** Slots a domain holds pinned until it is done with a message's payload: `slots` (default 1) from `slot`. */
export type Held = Array<{ pool: PoolMapping; slot: number; slots?: number }>;

export interface Codec {
  /** The transport's name (a module transport's own name). */
  readonly name: Transport | (string & {});
  /**
   * Prepare `value` (a message, or a reply's value) for posting: a shallow copy
   * whose payload arrays may hold moved copies or descriptors instead of views,
   * and the buffers to transfer. Counts the copies the codec itself makes.
   */
  encode(value: Record<string, unknown>, counters: Counters): { value: Record<string, unknown>; transfer: ArrayBuffer[] };
  /**
   * Map a received value's descriptors to views in place, pinning them into
   * `held`. Every valid descriptor is mapped (so its pin is dropped when `held`
   * is released); then the first bad one, if any, is thrown as DescriptorError.
   */
  decode(value: Record<string, unknown>, held: Held): void;
  /** Drop the pins an encoded value took (it was never sent). */
  abandon(encoded: Record<string, unknown>): void;
}

/** Buffers a domain keeps (cache blocks): `transfer` must copy them out, never move them. */
export const keptBuffers = new WeakSet<ArrayBufferLike>();

const isView = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

/** Is `v` a payload field: an array whose elements are byte views or descriptors? */
function isPayload(v: unknown): v is unknown[] {
  return Array.isArray(v) && v.length > 0 && typeof v[0] === 'object' && v[0] !== null;
}

/** A shallow copy of `value` with each payload array replaced by `f` of it (only plain objects carry payloads). */
export function mapPayloads(value: Record<string, unknown>, f: (arr: unknown[]) => unknown[]): Record<string, unknown> {
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const k in value) {
    const v = value[k];
    out[k] = isPayload(v) ? f(v) : v;
  }
  return out;
}

/** Structured clone: the channel copies every view; nothing to do here. */
export const copyCodec: Codec = {
  name: 'copy',
  encode: (value) => ({ value, transfer: [] }),
  decode() {},
  abandon() {},
};

export const transferCodec: Codec = {
  name: 'transfer',
  encode(value, counters) {
    const moved = new Set<ArrayBuffer>();
    const out = mapPayloads(value, (arr) => arr.map((v) => {
      if (!isView(v) || v.buffer instanceof SharedArrayBuffer) return v;
      const whole = v.byteOffset === 0 && v.byteLength === v.buffer.byteLength;
      if (whole && !keptBuffers.has(v.buffer) && !moved.has(v.buffer as ArrayBuffer)) {
        moved.add(v.buffer as ArrayBuffer);
        return v;
      }
      const own = v.slice(); // copy out what the sender must keep (or shares with other bytes)
      counters.add('bytesCopied', own.length);
      moved.add(own.buffer);
      return own;
    }));
    return { value: out, transfer: [...moved] };
  },
  decode() {},
  abandon() {},
};

function isDescriptor(v: unknown): v is Descriptor {
  return typeof v === 'object' && v !== null && !isView(v) && 'pool' in v;
}

/**
 * The shared-pool transport over the pools this domain maps; views outside them are cloned.
 * Encoding folds each run of views that follow each other in one pool into one
 * descriptor (an extent when the run crosses slots), so a payload of
 * consecutive blocks is one descriptor whatever its length.
 */
export function sharedCodec(pools: PoolMapping[]): Codec {
  const byBuffer = new Map<ArrayBufferLike, PoolMapping>(pools.map((p) => [p.mem.data, p]));
  const byId = new Map<number, PoolMapping>(pools.map((p) => [p.mem.id, p]));

  /** `arr` with each run of contiguous pool views replaced by its pinned descriptor. */
  function describeRuns(arr: unknown[]): unknown[] {
    const out: unknown[] = [];
    for (let i = 0; i < arr.length; ) {
      const v = arr[i];
      if (!isView(v) || !byBuffer.has(v.buffer)) {
        out.push(arr[i++]);
        continue;
      }
      const pool = byBuffer.get(v.buffer)!;
      const at = v.byteOffset;
      let end = at + v.length;
      let j = i + 1;
      for (; j < arr.length; j++) {
        const w = arr[j];
        if (!isView(w) || w.buffer !== pool.mem.data || w.byteOffset !== end) break;
        end += w.length;
      }
      const d = pool.describeRange(at, end - at);
      if (d) {
        pool.pin(d.slot, d.slots);
        out.push(d);
      } else {
        for (let k = i; k < j; k++) out.push(arr[k]); // empty views at the very end of the pool
      }
      i = j;
    }
    return out;
  }

  return {
    name: 'shared',
    encode(value) {
      return { value: mapPayloads(value, describeRuns), transfer: [] };
    },
    decode(value, held) {
      let bad: DescriptorError | null = null;
      for (const k in value) {
        const arr = value[k];
        if (!isPayload(arr)) continue;
        for (let i = 0; i < arr.length; i++) {
          const d = arr[i];
          if (!isDescriptor(d)) continue;
          const pool = byId.get(d.pool);
          try {
            if (!pool) throw new DescriptorError(`descriptor names unknown pool ${String(d.pool)}`);
            arr[i] = pool.resolve(d);
            held.push(d.slots === undefined ? { pool, slot: d.slot } : { pool, slot: d.slot, slots: d.slots });
          } catch (e) {
            if (!(e instanceof DescriptorError)) throw e;
            bad ??= e;
          }
        }
      }
      if (bad) throw bad;
    },
    abandon(encoded) {
      for (const k in encoded) {
        const arr = encoded[k];
        if (!isPayload(arr)) continue;
        for (const d of arr) if (isDescriptor(d)) byId.get(d.pool)?.unpin(d.slot, d.slots);
      }
    },
  };
}

/** Unpin everything in `held`: the domain is done with those payloads. */
export function release(held: Held): void {
  for (const h of held) h.pool.unpin(h.slot, h.slots);
  held.length = 0;
}

/** The codec for `transport` over the pools a domain maps. */
export function codecFor(transport: Transport, pools: PoolMapping[]): Codec {
  switch (transport) {
    case 'copy':
      return copyCodec;
    case 'transfer':
      return transferCodec;
    case 'shared':
      return sharedCodec(pools);
  }
}
