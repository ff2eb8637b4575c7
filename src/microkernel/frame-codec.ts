/**
 * Binary frames for the rings: what a RingChannel writes into shared memory in
 * place of JSON. A frame is plain data (numbers, strings, booleans, null,
 * arrays, plain objects and byte views), so a small tagged encoding written by
 * hand does it in one pass each way, straight into the ring and out of it,
 * with no intermediate string and no second copy of the payload bytes. Per
 * frame it costs about what JSON.stringify, Buffer.write, toString and
 * JSON.parse did (about 1–2 µs a frame, both ways, on the frames the servers
 * exchange): field names still cost a lookup each, as every object is walked
 * with for-in. A schema per message type would take that away. A ring writes a
 * frame straight into the room it has, the writer checking its room as it goes
 * (FRAME_OVERFLOW when it runs out), and sizes it first only when it does not
 * fit there: that took the size walk off most frames (0.5–0.9 µs a frame to
 * write, from 1.1–1.5 with it, here).
 *
 *   value   := tag payload
 *   tag     := UNDEF | NULL | FALSE | TRUE | INT i32 | NUM f64 | ASCII n bytes
 *            | UTF8 n bytes | UTF16 n code units (a string with lone surrogates)
 *            | ARRAY n value* | OBJECT n (key value)* | BYTES n bytes
 *   key     := id (u8, a name from KEYS) | 255 n(u16) utf8 bytes
 *   n       := u32, little-endian (all multi-byte fields are)
 *
 * Unlike JSON it keeps NaN, ±Infinity and −0, `undefined` in arrays, and byte
 * views anywhere (as Uint8Array). Like JSON it drops functions and symbols in
 * objects and refuses a BigInt or a cycle (TypeError: the message is not sent).
 * Byte views are copied into the ring and out of it; the channel counts those
 * copies for the views at the places a payload lives (`payloadSlice`).
 */

const UNDEF = 0;
const NULL = 1;
const FALSE = 2;
const TRUE = 3;
const INT = 4;
const NUM = 5;
const ASCII = 6;
const UTF8 = 7;
const ARRAY = 8;
const OBJECT = 9;
const BYTES = 10;
const UTF16 = 11;
const LONG_KEY = 255;

/** Field names that cross often, one byte each: the frame's own, then the protocol's. */
const KEYS = [
  'k', 'i', 'm', 'r', 't', 'e', 'b',
  'type', 'ok', 'value', 'errno', 'detail',
  'reqId', 'request', 'path', 'ino', 'offset', 'length', 'size', 'blocks', 'data', 'body', 'status',
  'pool', 'slot', 'slots', 'gen', 'bytes', 'count', 'keepAlive', 'version', 'method', 'target', 'conn',
] as const;
const KEY_ID = new Map<string, number>(KEYS.map((k, i) => [k, i]));

/** Deepest nesting a frame may have (a cycle, or a hostile message, stops here). */
const MAX_DEPTH = 64;

const isInt32 = (v: number) => (v | 0) === v && !(v === 0 && 1 / v < 0);

/** Bytes of `s` as this codec writes it: its length if all ASCII, else its UTF-8 (or, with lone surrogates, UTF-16) length, negative to say so. */
function stringBytes(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return s.isWellFormed() ? -Buffer.byteLength(s, 'utf8') : -2 * s.length;
  return s.length;
}

function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Bytes a field name takes: one for a known name, else 3 and its UTF-8 bytes (at most 65535). */
function keySize(k: string): number {
  if (KEY_ID.has(k)) return 1;
  const n = Buffer.byteLength(k, 'utf8');
  if (n > 0xffff) throw new TypeError(`a field name of ${n} bytes cannot be sent in a frame`);
  return 3 + n;
}

/**
 * At least the bytes `v` takes encoded, found without reading its strings (a
 * UTF-16 unit is at most three bytes written): what a ring reserves before
 * writing. Throws as encodedSize does.
 */
export function encodedSizeBound(v: unknown, depth = 0): number {
  switch (typeof v) {
    case 'string':
      return 5 + 3 * v.length;
    case 'object': {
      if (v === null) return 1;
      if (depth > MAX_DEPTH) throw new TypeError(`frame nests deeper than ${MAX_DEPTH} levels (a cycle?)`);
      if (v instanceof Uint8Array) return 5 + v.byteLength;
      let n = 5;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) n += encodedSizeBound(v[i], depth + 1);
        return n;
      }
      const o = v as Record<string, unknown>;
      for (const k in o) {
        if (!Object.hasOwn(o, k)) continue;
        const x = o[k];
        if (typeof x === 'function' || typeof x === 'symbol') continue;
        n += (KEY_ID.has(k) ? 1 : 3 + 3 * k.length) + encodedSizeBound(x, depth + 1);
      }
      return n;
    }
    default:
      return encodedSize(v, depth);
  }
}

/** Bytes `v` takes encoded (tag included); throws TypeError for what cannot be sent. */
export function encodedSize(v: unknown, depth = 0): number {
  switch (typeof v) {
    case 'undefined':
    case 'boolean':
      return 1;
    case 'number':
      return isInt32(v) ? 5 : 9;
    case 'string': {
      const n = stringBytes(v);
      return 5 + (n < 0 ? -n : n);
    }
    case 'object': {
      if (v === null) return 1;
      if (depth > MAX_DEPTH) throw new TypeError(`frame nests deeper than ${MAX_DEPTH} levels (a cycle?)`);
      if (v instanceof Uint8Array) return 5 + v.byteLength;
      if (Array.isArray(v)) {
        let n = 5;
        for (let i = 0; i < v.length; i++) n += encodedSize(v[i], depth + 1);
        return n;
      }
      let n = 5;
      const o = v as Record<string, unknown>;
      for (const k in o) {
        if (!Object.hasOwn(o, k)) continue;
        const x = o[k];
        if (typeof x === 'function' || typeof x === 'symbol') continue;
        n += keySize(k) + encodedSize(x, depth + 1);
      }
      return n;
    }
    case 'bigint':
      throw new TypeError('a BigInt cannot be sent in a frame');
    default:
      throw new TypeError(`a ${typeof v} cannot be sent in a frame`);
  }
}

/** The body of a frame, where payloads live: a call's message, or an ok reply's value. */
const isBody = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

/**
 * Thrown by FrameWriter.write when the frame would pass the end it was given:
 * nothing was published, and the caller sizes the frame and tries again.
 */
export const FRAME_OVERFLOW: unique symbol = Symbol('frame overflow');

/** A writer over a ring's data bytes. */
export class FrameWriter {
  private pos = 0;
  /** Where the bytes it may write end (write's `end`). */
  private end = Infinity;
  /** Objects and arrays open now (a cycle, or a hostile message, stops at MAX_DEPTH). */
  private depth = 0;
  /** Bytes of the byte views at payload places in the last frame written (their copies are counted by the channel). */
  payloadBytes = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly view: DataView,
    private readonly buf: Buffer,
  ) {}

  /**
   * Write `frame` at `at`; returns the bytes written (encodedSize(frame), at
   * most encodedSizeBound(frame)). Payload places: the byte views in the array
   * fields of the frame's body (`m`, or `r.value`). With `end`, no byte at or past
   * it is written: a frame that would need them throws FRAME_OVERFLOW instead
   * (the bytes before `end` are then garbage), so a ring can write a frame into
   * the room it has without sizing it first. Throws TypeError, as encodedSize does,
   * for what cannot be sent.
   */
  write(frame: unknown, at: number, end = Infinity): number {
    this.pos = at;
    this.end = end;
    this.depth = 0;
    this.payloadBytes = 0;
    if (!isBody(frame)) {
      this.value(frame);
      return this.pos - at;
    }
    // as `m ?? r.value`: a reply's value is the body only in a frame without a message
    const noM = frame.m === undefined || frame.m === null;
    const countAt = this.open();
    let n = 0;
    for (const k in frame) {
      if (!Object.hasOwn(frame, k)) continue;
      const x = frame[k];
      if (typeof x === 'function' || typeof x === 'symbol') continue;
      n++;
      this.key(k);
      if (k === 'm' && isBody(x)) this.object(x, true);
      else if (k === 'r' && noM && isBody(x)) this.reply(x);
      else this.value(x);
    }
    this.close(countAt, n);
    return this.pos - at;
  }

  /** A reply: its `value`, if an object, is the body. */
  private reply(r: Record<string, unknown>): void {
    const countAt = this.open();
    let n = 0;
    for (const k in r) {
      if (!Object.hasOwn(r, k)) continue;
      const x = r[k];
      if (typeof x === 'function' || typeof x === 'symbol') continue;
      n++;
      this.key(k);
      if (k === 'value' && isBody(x)) this.object(x, true);
      else this.value(x);
    }
    this.close(countAt, n);
  }

  /** Throw FRAME_OVERFLOW unless `n` more bytes fit before the end. */
  private room(n: number): void {
    if (this.pos + n > this.end) throw FRAME_OVERFLOW;
  }

  /** An object or array opens: one level deeper. */
  private deeper(): void {
    if (++this.depth > MAX_DEPTH + 1) throw new TypeError(`frame nests deeper than ${MAX_DEPTH} levels (a cycle?)`);
  }

  /** End an object opened at `countAt`: its field count, and one level up. */
  private close(countAt: number, n: number): void {
    this.view.setUint32(countAt, n, true);
    this.depth--;
  }

  /** Start an object: its tag, and room for its field count (returned: where it goes). */
  private open(): number {
    this.room(5);
    this.deeper();
    this.bytes[this.pos] = OBJECT;
    const at = this.pos + 1;
    this.pos += 5;
    return at;
  }

  /** An object; in a body (`body`), an array field holding byte views is a payload. */
  private object(o: Record<string, unknown>, body: boolean): void {
    const countAt = this.open();
    let n = 0;
    for (const k in o) {
      if (!Object.hasOwn(o, k)) continue;
      const x = o[k];
      if (typeof x === 'function' || typeof x === 'symbol') continue;
      n++;
      this.key(k);
      if (body && Array.isArray(x) && x.some((s) => s instanceof Uint8Array)) {
        for (let i = 0; i < x.length; i++) {
          const s: unknown = x[i];
          if (s instanceof Uint8Array) this.payloadBytes += s.byteLength;
        }
      }
      this.value(x);
    }
    this.close(countAt, n);
  }

  private value(v: unknown): void {
    const b = this.bytes;
    switch (typeof v) {
      case 'undefined':
        this.room(1);
        b[this.pos++] = UNDEF;
        return;
      case 'boolean':
        this.room(1);
        b[this.pos++] = v ? TRUE : FALSE;
        return;
      case 'number':
        if (isInt32(v)) {
          this.room(5);
          b[this.pos] = INT;
          this.view.setInt32(this.pos + 1, v, true);
          this.pos += 5;
        } else {
          this.room(9);
          b[this.pos] = NUM;
          this.view.setFloat64(this.pos + 1, v, true);
          this.pos += 9;
        }
        return;
      case 'string':
        return this.string(v);
      case 'object': {
        if (v === null) {
          this.room(1);
          b[this.pos++] = NULL;
          return;
        }
        if (v instanceof Uint8Array) {
          this.room(5 + v.byteLength);
          b[this.pos] = BYTES;
          this.view.setUint32(this.pos + 1, v.byteLength, true);
          b.set(v, this.pos + 5);
          this.pos += 5 + v.byteLength;
          return;
        }
        if (Array.isArray(v)) {
          this.room(5);
          this.deeper();
          b[this.pos] = ARRAY;
          this.view.setUint32(this.pos + 1, v.length, true);
          this.pos += 5;
          for (let i = 0; i < v.length; i++) this.value(v[i]);
          this.depth--;
          return;
        }
        return this.object(v as Record<string, unknown>, false);
      }
      default:
        throw new TypeError(`a ${typeof v} cannot be sent in a frame`); // encodedSize refuses it first
    }
  }

  private key(k: string): void {
    const id = KEY_ID.get(k);
    if (id !== undefined) {
      this.room(1);
      this.bytes[this.pos++] = id;
      return;
    }
    this.room(3 + 3 * k.length); // at most three UTF-8 bytes per UTF-16 unit
    this.bytes[this.pos] = LONG_KEY;
    const n = this.buf.write(k, this.pos + 3, 'utf8');
    this.view.setUint16(this.pos + 1, n, true);
    this.pos += 3 + n;
  }

  private string(s: string): void {
    this.room(5 + 3 * s.length); // the most it can take: three UTF-8 bytes per UTF-16 unit
    const b = this.bytes;
    const start = this.pos + 5;
    let i = 0;
    if (s.length > 16) {
      // long: let Buffer write it, and see from the count whether it was all ASCII
      const n = this.buf.write(s, start, 'utf8');
      if (n !== s.length || !s.isWellFormed()) i = -1;
      else i = s.length;
    } else {
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        b[start + i] = c;
      }
    }
    if (i === s.length) {
      b[this.pos] = ASCII;
      this.view.setUint32(this.pos + 1, s.length, true);
      this.pos = start + s.length;
      return;
    }
    if (!s.isWellFormed()) {
      // UTF-8 cannot hold a lone surrogate: the code units as they are
      for (let j = 0; j < s.length; j++) this.view.setUint16(start + 2 * j, s.charCodeAt(j), true);
      b[this.pos] = UTF16;
      this.view.setUint32(this.pos + 1, s.length, true);
      this.pos = start + 2 * s.length;
      return;
    }
    const n = this.buf.write(s, start, 'utf8');
    b[this.pos] = UTF8;
    this.view.setUint32(this.pos + 1, n, true);
    this.pos = start + n;
  }
}

/**
 * Set field `k` of a decoded object: an own property, as JSON.parse and the
 * structured clone make it, also for a field named `__proto__` (which an assignment
 * would take for the object's prototype, and lose).
 */
function put(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

/** A reader over a ring's data bytes. */
export class FrameReader {
  private pos = 0;
  /** Bytes of the byte views at payload places in the last frame read (the channel counts their copies). */
  payloadBytes = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly view: DataView,
    private readonly buf: Buffer,
  ) {}

  /** The frame written at `at` by FrameWriter. */
  read(at: number): unknown {
    this.pos = at;
    this.payloadBytes = 0;
    if (this.bytes[at] !== OBJECT) return this.value();
    const n = this.count();
    const f: Record<string, unknown> = {};
    for (let j = 0; j < n; j++) {
      const k = this.key();
      if (this.bytes[this.pos] !== OBJECT) put(f, k, this.value());
      else if (k === 'm') f[k] = this.object(true);
      else if (k === 'r' && (f.m === undefined || f.m === null)) f[k] = this.reply();
      else put(f, k, this.value());
    }
    return f;
  }

  /** An object's field count (after its tag). */
  private count(): number {
    const n = this.view.getUint32(this.pos + 1, true);
    this.pos += 5;
    return n;
  }

  private reply(): Record<string, unknown> {
    const n = this.count();
    const r: Record<string, unknown> = {};
    for (let j = 0; j < n; j++) {
      const k = this.key();
      put(r, k, k === 'value' && this.bytes[this.pos] === OBJECT ? this.object(true) : this.value());
    }
    return r;
  }

  /** An object; in a body (`body`), the byte views of an array field are payload. */
  private object(body: boolean): Record<string, unknown> {
    const n = this.count();
    const o: Record<string, unknown> = {};
    for (let j = 0; j < n; j++) {
      const k = this.key();
      if (body && this.bytes[this.pos] === ARRAY) {
        const len = this.count();
        const arr = new Array<unknown>(len);
        for (let i = 0; i < len; i++) {
          if (this.bytes[this.pos] === BYTES) this.payloadBytes += this.view.getUint32(this.pos + 1, true);
          arr[i] = this.value();
        }
        put(o, k, arr);
      } else {
        put(o, k, this.value());
      }
    }
    return o;
  }

  private value(): unknown {
    const b = this.bytes;
    const tag = b[this.pos];
    switch (tag) {
      case UNDEF:
        this.pos++;
        return undefined;
      case NULL:
        this.pos++;
        return null;
      case FALSE:
        this.pos++;
        return false;
      case TRUE:
        this.pos++;
        return true;
      case INT: {
        const v = this.view.getInt32(this.pos + 1, true);
        this.pos += 5;
        return v;
      }
      case NUM: {
        const v = this.view.getFloat64(this.pos + 1, true);
        this.pos += 9;
        return v;
      }
      case ASCII:
      case UTF8: {
        const n = this.view.getUint32(this.pos + 1, true);
        const start = this.pos + 5;
        this.pos = start + n;
        if (tag === UTF8) return this.buf.toString('utf8', start, start + n);
        if (n > 10) return this.buf.toString('latin1', start, start + n);
        let s = '';
        for (let i = start; i < start + n; i++) s += String.fromCharCode(b[i]);
        return s;
      }
      case UTF16: {
        const n = this.view.getUint32(this.pos + 1, true);
        const start = this.pos + 5;
        this.pos = start + 2 * n;
        let s = '';
        for (let j = 0; j < n; j++) s += String.fromCharCode(this.view.getUint16(start + 2 * j, true));
        return s;
      }
      case BYTES: {
        const n = this.view.getUint32(this.pos + 1, true);
        const start = this.pos + 5;
        this.pos = start + n;
        return b.slice(start, start + n); // copied out: the ring space is reused
      }
      case ARRAY: {
        const n = this.count();
        const out = new Array<unknown>(n);
        for (let i = 0; i < n; i++) out[i] = this.value();
        return out;
      }
      case OBJECT:
        return this.object(false);
      default:
        throw new TypeError(`frame byte ${this.pos} holds unknown tag ${tag}`);
    }
  }

  private key(): string {
    const id = this.bytes[this.pos];
    if (id !== LONG_KEY) {
      this.pos++;
      const k = KEYS[id];
      if (k === undefined) throw new TypeError(`frame names unknown key ${id}`);
      return k;
    }
    const n = this.view.getUint16(this.pos + 1, true);
    const k = this.buf.toString('utf8', this.pos + 3, this.pos + 3 + n);
    this.pos += 3 + n;
    return k;
  }
}
