/**
 * A transport of one's own: a module file (`transportModule`, microkernel
 * only) that decides how payload bytes cross domains, written against grant
 * tables in the style of MINIX 3's memory grants and `sys_safecopy`.
 *
 * The kernel gives every domain (server) two pieces of shared memory that every
 * domain maps, and that outlive an incarnation:
 *
 *   memory       the domain's grantable memory: 4 KiB slots with a reference
 *                count each (a pool, pool.ts). The disk's buffer cache lives
 *                in it, and a received payload is copied into it (`alloc`),
 *                so a domain can grant onward what it received.
 *   grant table  GRANT_LAYOUT.entries entries of GRANT_LAYOUT.words Int32
 *                words each: state, generation, grantee, offset, length. The
 *                owner writes its own table; a grantee reads the owner's.
 *
 * The module (a `TransportModule`) makes and ends grants and copies through
 * them; the kernel's side (`grantCodec`, the adapter to a Codec) walks each
 * message's payload arrays and calls it:
 *
 *   sender    for each payload view, `grant(ctx, to, view)`: a grant id (the
 *             view then crosses as a small token `{ pool, grant, length }`),
 *             or null (the view crosses inline: the channel's structured clone
 *             copies it, and counts it).
 *   receiver  for each token, a buffer in its own memory (`alloc`), then
 *             `safecopy(ctx, from, grant, 0, length, into)` and
 *             `release(ctx, from, grant)`. A safecopy that throws refuses the
 *             message: EFAULT, counted in descriptorsRefused.
 *   never sent  `revoke(ctx, grant)` for each grant the encoding made.
 *
 * Grants here are one-shot: the grantee ends a grant once it has copied it
 * (`release`); the owner ends one that was never used (`revoke`). Either way
 * the entry is no longer live, and the memory it pinned is unpinned. After a
 * run no entry of any table is live (`liveGrants`).
 *
 * Every byte the module copies it counts with `ctx.copied(n)` (bytesCopied).
 */
import { importModuleFile, ModuleError } from '../module-file.js';
import { resolve } from 'node:path';
import type { Counters } from '../metrics/counters.js';
import { SERVER_NAMES, type ServerName } from '../protocol.js';
import { BLOCK_SIZE } from '../servers/fs.js';
import type { BlockAllocator } from '../servers/server.js';
import type { KernelConfig } from '../config.js';
import { DescriptorError, newPoolMemory, PoolBlocks, PoolMapping, type PoolMemory } from './pool.js';
import { mapPayloads, type Codec, type Held } from './transport.js';

/**
 * The layout of a grant table: `entries` entries of `words` Int32 words; entry
 * `i` starts at word `i * words`. Word `STATE` is FREE, LIVE or ENDED (read
 * and written with Atomics: owner and grantee race on it); `GEN` counts the
 * entry's uses (a grant id names the generation it was made in, so an id from
 * an earlier use is stale); `GRANTEE` is the index in `ctx.servers` of the
 * domain allowed to copy; `OFFSET` and `LENGTH` the granted bytes of the
 * owner's memory.
 */
export const GRANT_LAYOUT = {
  entries: 8192,
  words: 5,
  STATE: 0,
  GEN: 1,
  GRANTEE: 2,
  OFFSET: 3,
  LENGTH: 4,
  FREE: 0,
  LIVE: 1,
  ENDED: 2,
} as const;

/** The layout of a grant table (see GRANT_LAYOUT). */
export type GrantLayout = typeof GRANT_LAYOUT;

/** Generations a grant id can tell apart (they wrap round after this many uses of one entry). */
const GENS = 1 << 17;

/** The grant id of entry `index` in generation `gen`: what crosses in a message. */
export function grantId(index: number, gen: number): number {
  return (gen % GENS) * GRANT_LAYOUT.entries + index;
}

/** The entry a grant id names. */
export function grantIndex(id: number): number {
  return id % GRANT_LAYOUT.entries;
}

/** The generation a grant id was made in. */
export function grantGen(id: number): number {
  return Math.floor(id / GRANT_LAYOUT.entries) % GENS;
}

/** A grant refused: forged, stale, for another domain, revoked or out of bounds. The message is refused with EFAULT. */
export class GrantError extends DescriptorError {}

/**
 * What a transport module's operations work with: one domain's view of the
 * grant tables and memories of every domain. Everything a module needs is
 * here, so a module file needs no imports but types.
 */
export interface GrantContext {
  /** The domain this context belongs to. */
  readonly self: ServerName;
  /** Every domain, in the order `GRANTEE` words index them. */
  readonly servers: readonly ServerName[];
  /** The grant table layout (the same as GRANT_LAYOUT). */
  readonly layout: GrantLayout;
  /** The grant id of entry `index` in generation `gen` (grantId). */
  id(index: number, gen: number): number;
  /** The entry a grant id names (grantIndex). */
  index(id: number): number;
  /** The generation a grant id was made in (grantGen). */
  gen(id: number): number;
  /** The grant table of `server` (shared memory): write your own only; a grantee reads the owner's and may end a grant made to it. */
  table(server: ServerName): Int32Array;
  /** The bytes of `server`'s memory (shared): a grant's OFFSET and LENGTH name a range of its owner's. */
  memory(server: ServerName): Uint8Array;
  /** Where `view` starts in this domain's memory, or -1 if it does not lie wholly in it (then it cannot be granted). */
  offsetOf(view: Uint8Array): number;
  /** Keep bytes [offset, offset + length) of this domain's memory from reuse: a live grant must pin what it names. */
  pin(offset: number, length: number): void;
  /** Undo one `pin` of the same range of `server`'s memory (the owner's, when a grantee ends a grant). */
  unpin(server: ServerName, offset: number, length: number): void;
  /** Count `bytes` copied (bytesCopied): every byte the module copies, wherever it copies it. */
  copied(bytes: number): void;
}

/**
 * A transport module: what the default or named export `transport` of a
 * `transportModule` file must be. Each operation is called in one domain,
 * with that domain's context.
 */
export interface TransportModule {
  /** Names the design (shown nowhere that counts; for messages). */
  readonly name: string;
  /**
   * Sender: `view` is a payload view about to cross to `to`. Make a grant
   * letting `to` copy it and return its id (a non-negative integer), or return
   * null to let the view cross inline (the channel copies it, counted).
   */
  grant(ctx: GrantContext, to: ServerName, view: Uint8Array): number | null;
  /** Owner: end grant `id` of this domain (the message carrying it was never sent). */
  revoke(ctx: GrantContext, id: number): void;
  /**
   * Receiver: copy `length` bytes from byte `offset` of the range grant `id`
   * of `from` names into `into` (at its start), counting them. Throw (a
   * GrantError or any Error) without copying anything if `from` made no such
   * grant, if it is not live or is of an earlier generation (stale), if it was
   * made for another domain, or if the bytes lie outside it.
   */
  safecopy(ctx: GrantContext, from: ServerName, id: number, offset: number, length: number, into: Uint8Array): void;
  /** Receiver: done with grant `id` of `from` (made to this domain): end it. */
  release(ctx: GrantContext, from: ServerName, id: number): void;
}

/** The memory the kernel owns for module transports: one grant table and one memory per domain, in SERVER_NAMES order. */
export interface GrantMemory {
  tables: SharedArrayBuffer[];
  pools: PoolMemory[];
}

/** Slots of app's and net's memory at least (room for what they receive while handling it). */
const MIN_MEMORY_BLOCKS = 256;

/** The kernel's grant memory for `cfg`: the disk's memory holds its cache and what is in flight; the others', what is in flight. */
export function newGrantMemory(cfg: Pick<KernelConfig, 'poolBlocks' | 'cacheBlocks'>): GrantMemory {
  const bytes = GRANT_LAYOUT.entries * GRANT_LAYOUT.words * Int32Array.BYTES_PER_ELEMENT;
  return {
    tables: SERVER_NAMES.map(() => new SharedArrayBuffer(bytes)),
    pools: SERVER_NAMES.map((name, i) =>
      newPoolMemory(i, name === 'disk' ? cfg.poolBlocks : Math.max(MIN_MEMORY_BLOCKS, cfg.poolBlocks - cfg.cacheBlocks), BLOCK_SIZE),
    ),
  };
}

/** Entries of the tables in `mem` that are live (made and not yet ended), by domain. */
export function liveGrants(mem: GrantMemory): Record<ServerName, number> {
  const out = {} as Record<ServerName, number>;
  SERVER_NAMES.forEach((name, i) => {
    const t = new Int32Array(mem.tables[i]);
    let n = 0;
    for (let e = 0; e < GRANT_LAYOUT.entries; e++) if (Atomics.load(t, e * GRANT_LAYOUT.words + GRANT_LAYOUT.STATE) === GRANT_LAYOUT.LIVE) n++;
    out[name] = n;
  });
  return out;
}

/** Slots of the memories in `mem` still pinned, by domain. */
export function pinnedSlots(mem: GrantMemory): Record<ServerName, number> {
  const out = {} as Record<ServerName, number>;
  SERVER_NAMES.forEach((name, i) => {
    const p = new PoolMapping(mem.pools[i]);
    let n = 0;
    for (let s = 0; s < p.mem.slots; s++) if (p.refs(s) !== 0) n++;
    out[name] = n;
  });
  return out;
}

/** One domain's side of the grant memory: its context for the module, its memory's allocator, and the codecs per peer. */
export class GrantDomain {
  readonly ctx: GrantContext;
  /** This domain's memory as an allocator (the disk's cache uses it). */
  readonly blocks: BlockAllocator & { alloc(bytes: number): Uint8Array };
  private readonly pools: PoolMapping[];
  private readonly own: PoolMapping;
  private readonly ownBlocks: PoolBlocks;

  /** `recovered`: an earlier incarnation of this domain used its memory (slots others still pin are not reused). */
  constructor(
    readonly self: ServerName,
    mem: GrantMemory,
    private readonly counters: Counters,
    recovered = false,
  ) {
    const tables = mem.tables.map((t) => new Int32Array(t));
    this.pools = mem.pools.map((p) => new PoolMapping(p));
    const bytes = this.pools.map((p) => new Uint8Array(p.mem.data));
    this.own = this.pools[SERVER_NAMES.indexOf(self)];
    this.ownBlocks = new PoolBlocks(this.own, recovered);
    this.blocks = this.ownBlocks;
    const at = (server: ServerName) => {
      const i = SERVER_NAMES.indexOf(server);
      if (i < 0) throw new GrantError(`no domain named ${String(server)}`);
      return i;
    };
    const own = this.own;
    const slotsOf = (offset: number, length: number): [number, number] => {
      const first = Math.floor(offset / own.mem.slotBytes);
      const last = Math.floor((offset + Math.max(1, length) - 1) / own.mem.slotBytes);
      return [first, last - first + 1];
    };
    this.ctx = {
      self,
      servers: SERVER_NAMES,
      layout: GRANT_LAYOUT,
      id: grantId,
      index: grantIndex,
      gen: grantGen,
      table: (server) => tables[at(server)],
      memory: (server) => bytes[at(server)],
      offsetOf: (view) => (view.buffer === own.mem.data ? view.byteOffset : -1),
      pin: (offset, length) => {
        if (!(offset >= 0 && length >= 0 && offset + length <= own.mem.data.byteLength)) throw new GrantError(`pin ${offset}+${length} lies outside ${self}'s memory`);
        const [s, n] = slotsOf(offset, length);
        own.pin(s, n);
      },
      unpin: (server, offset, length) => {
        const p = this.pools[at(server)];
        if (!(offset >= 0 && length >= 0 && offset + length <= p.mem.data.byteLength)) throw new GrantError(`unpin ${offset}+${length} lies outside ${server}'s memory`);
        const [s, n] = slotsOf(offset, length);
        p.unpin(s, n);
      },
      copied: (n) => this.counters.add('bytesCopied', n),
    };
  }

  /**
   * A buffer of `length` bytes for a received payload: in this domain's memory
   * (so it can be granted onward), pinned into `held` until the handler is
   * done; from the heap if it is larger than a slot or the memory is full.
   */
  alloc(length: number, held: Held): Uint8Array {
    const slotBytes = this.own.mem.slotBytes;
    if (length > slotBytes || length === 0) return new Uint8Array(length);
    const block = this.ownBlocks.alloc(slotBytes);
    if (block.buffer !== this.own.mem.data) return block.subarray(0, length);
    const slot = this.own.slotOf(block);
    this.own.pin(slot);
    held.push({ pool: this.own, slot });
    this.ownBlocks.free(block); // reused only once nobody pins it
    return block.subarray(0, length);
  }
}

/** A grant token as it crosses in a message's payload array (`pool` names the owner's memory, as a descriptor does). */
interface GrantToken {
  pool: number;
  grant: number;
  length: number;
}

function isToken(v: unknown): v is GrantToken {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && 'grant' in v && 'pool' in v;
}

const why = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * The Codec of `mod` in domain `dom` for the channel to `peer`: payload views
 * cross as the grants `mod.grant` makes for `peer` (or inline), and tokens
 * from `peer` are copied in by `mod.safecopy` and ended by `mod.release`.
 */
export function grantCodec(mod: TransportModule, dom: GrantDomain, peer: ServerName): Codec {
  const { ctx } = dom;
  const selfNo = SERVER_NAMES.indexOf(dom.self);
  const peerNo = SERVER_NAMES.indexOf(peer);
  return {
    name: mod.name,
    encode(value) {
      const made: number[] = [];
      try {
        const out = mapPayloads(value, (arr) =>
          arr.map((v) => {
            if (!(v instanceof Uint8Array)) return v;
            const id = mod.grant(ctx, peer, v);
            if (id === null || id === undefined) return v;
            if (!Number.isSafeInteger(id) || id < 0) throw new Error(`transport ${mod.name}: grant returned ${String(id)}, not a grant id (a non-negative integer) or null`);
            made.push(id);
            return { pool: selfNo, grant: id, length: v.length } satisfies GrantToken;
          }),
        );
        return { value: out, transfer: [] };
      } catch (e) {
        for (const id of made) mod.revoke(ctx, id); // nothing goes: end what this encoding made
        throw e;
      }
    },
    decode(value, held) {
      let bad: GrantError | null = null;
      for (const k in value) {
        const arr = value[k];
        if (!Array.isArray(arr)) continue;
        for (let i = 0; i < arr.length; i++) {
          const t = arr[i];
          if (!isToken(t)) continue;
          try {
            if (t.pool !== peerNo) throw new GrantError(`a grant token from ${peer} names the memory of ${SERVER_NAMES[t.pool] ?? String(t.pool)}`);
            if (!Number.isSafeInteger(t.grant) || !Number.isSafeInteger(t.length) || t.length < 0) throw new GrantError(`a forged grant token from ${peer}`);
            const into = dom.alloc(t.length, held);
            try {
              mod.safecopy(ctx, peer, t.grant, 0, t.length, into);
            } catch (e) {
              throw e instanceof GrantError ? e : new GrantError(`grant ${t.grant} from ${peer} refused: ${why(e)}`);
            }
            mod.release(ctx, peer, t.grant);
            arr[i] = into;
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
        if (!Array.isArray(arr)) continue;
        for (const t of arr) if (isToken(t) && t.pool === selfNo) mod.revoke(ctx, t.grant);
      }
    },
  };
}

/** What is wrong with `value` as a transport module; empty if nothing. */
function moduleProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) {
    return [value === undefined ? 'no export `transport` (a default or named export `transport` is needed)' : `its export \`transport\` is ${value === null ? 'null' : `a ${typeof value}`}, not an object`];
  }
  const m = value as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof m.name !== 'string' || m.name.length === 0) problems.push(`\`transport.name\` must be a non-empty string, got ${JSON.stringify(m.name) ?? String(m.name)}`);
  for (const op of ['grant', 'revoke', 'safecopy', 'release'] as const) {
    if (typeof m[op] !== 'function') problems.push(`\`transport.${op}\` must be a function`);
  }
  return problems;
}

/**
 * Import the module file `file` (a path, absolute or relative to the working
 * directory; `.ts` loads through tsx) and check what it exports: a default or
 * named export `transport` that is an object with a non-empty `name` and
 * functions `grant`, `revoke`, `safecopy` and `release` (a TransportModule).
 * Rejects with an Error naming the file and everything missing or wrong.
 * `instance` names a fresh instance of the module (one per simulated domain
 * when several run in one thread, as a lab's checks drive them).
 */
export async function loadTransportModule(file: string, instance?: string): Promise<TransportModule> {
  const path = resolve(file);
  let ns: Record<string, unknown>;
  try {
    // `instance`: a fresh copy of the module (its own module-level state), as each domain's thread has
    ns = await importModuleFile(path, instance === undefined ? '' : `?instance=${encodeURIComponent(instance)}`);
  } catch (e) {
    throw new ModuleError(`transport module ${path} could not be loaded: ${why(e)}`, { cause: e });
  }
  const value = 'transport' in ns ? ns.transport : ns.default;
  const problems = moduleProblems(value);
  if (problems.length) throw new ModuleError(`transport module ${path}: ${problems.join('; ')}`);
  return value as TransportModule;
}
