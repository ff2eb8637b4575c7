/**
 * Message shapes checked at the receiving endpoint: a call or send whose fields
 * do not fit its message type's request shape (protocol.ts SHAPES) is refused
 * with EINVAL, one that carries more than the receiver accepts with E2BIG, and
 * an ok reply whose value does not fit the reply shape is refused with EINVAL.
 * The server behind the endpoint never sees a refused message.
 *
 * This runs once per message on the data path: the table is compiled once into
 * arrays of fields, and a valid message is checked by one loop over its shape's
 * fields and one over its own keys, allocating nothing. Neither check throws,
 * whatever it is given.
 */
import { Buffer } from 'node:buffer';
import { DEVICE_MESSAGES, SHAPES, type FieldKind, type FieldShape, type ServerName } from '../protocol.js';

/** Why a message was refused. */
export interface ShapeProblem {
  errno: 'EINVAL' | 'E2BIG';
  detail: string;
}

/** What the receiver accepts beyond the shapes themselves. */
export interface ShapeLimits {
  /** Most bytes the payload fields of one message may carry together. */
  maxPayloadBytes: number;
}

interface Field {
  name: string;
  kind: FieldKind;
  optional: boolean;
  /** A string's limit in UTF-8 bytes (Infinity for the other kinds). */
  maxBytes: number;
}

interface Fields {
  list: readonly Field[];
  /** The shape as the table states it: a field name is known when it is an own key here. */
  known: Readonly<Record<string, unknown>>;
}

interface Compiled {
  req: Fields;
  rep: Fields;
}

/** `shape` compiled; a request also has its `type`, which is checked before. */
function compileFields(shape: Readonly<Record<string, FieldShape>>, request: boolean): Fields {
  const list = Object.entries(shape).map(([name, f]) => ({
    name,
    kind: f.kind,
    optional: f.optional === true,
    maxBytes: f.kind === 'string' ? f.maxBytes : Infinity,
  }));
  return { list, known: request ? { ...shape, type: true } : shape };
}

type Table = Readonly<Record<string, Readonly<Record<string, { req: Record<string, FieldShape>; rep: Record<string, FieldShape> }>>>>;

/** Server name -> message type -> its compiled shapes. */
const COMPILED: ReadonlyMap<string, ReadonlyMap<string, Compiled>> = new Map(
  Object.entries(SHAPES as Table).map(([server, calls]) => [
    server,
    new Map(Object.entries(calls).map(([type, s]) => [type, { req: compileFields(s.req, true), rep: compileFields(s.rep, false) }])),
  ]),
);

const KIND_TEXT: Record<FieldKind, string> = {
  string: 'a string',
  int: 'a non-negative safe integer',
  payload: 'an array of Uint8Array',
};

/** A short description of a value that does not fit, without calling anything on it. */
function what(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'object') return ArrayBuffer.isView(v) ? 'a byte view' : 'an object';
  return typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`;
}

/** A field name as it may appear in a detail (names from outside may be long). */
function quote(name: string): string {
  return `'${name.length > 64 ? `${name.slice(0, 64)}...` : name}'`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const isInt = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** UTF-8 bytes of `s`, or any number above `max` once it is sure to be above: no encoding for short strings. */
function utf8BytesOver(s: string, max: number): number {
  if (s.length > max) return s.length; // every UTF-16 unit is at least one byte
  if (s.length * 3 <= max) return 0; // and at most three
  const n = Buffer.byteLength(s, 'utf8');
  return n > max ? n : 0;
}

/**
 * How `value` fails `fields`, or null; `label` names it in details. Without
 * `limits` (a reply) nothing is too big, but a string past its limit is still
 * malformed.
 */
function check(fields: Fields, value: unknown, label: string, limits: ShapeLimits | null): ShapeProblem | null {
  if (!isPlainObject(value)) return { errno: 'EINVAL', detail: `${label} is ${what(value)}, not a plain object` };
  let payload = 0;
  let longField: Field | null = null;
  let longBytes = 0;
  const list = fields.list;
  for (let i = 0; i < list.length; i++) {
    const f = list[i];
    const v = value[f.name];
    if (v === undefined) {
      if (f.optional) continue;
      if (Object.hasOwn(value, f.name)) return badKind(label, f, v);
      return { errno: 'EINVAL', detail: `${label}: missing field ${quote(f.name)}` };
    }
    switch (f.kind) {
      case 'int':
        if (!isInt(v)) return badKind(label, f, v);
        break;
      case 'string': {
        if (typeof v !== 'string') return badKind(label, f, v);
        const n = longField ? 0 : utf8BytesOver(v, f.maxBytes);
        if (n > 0) {
          longField = f;
          longBytes = n;
        }
        break;
      }
      case 'payload': {
        if (!Array.isArray(v)) return badKind(label, f, v);
        for (let j = 0; j < v.length; j++) {
          const s: unknown = v[j];
          if (!(s instanceof Uint8Array)) {
            return { errno: 'EINVAL', detail: `${label}: field ${quote(f.name)} must be ${KIND_TEXT.payload}, element ${j} is ${what(s)}` };
          }
          payload += s.byteLength;
        }
        break;
      }
    }
  }
  const known = fields.known;
  for (const k in value) {
    if (!Object.hasOwn(known, k) && Object.hasOwn(value, k)) {
      return { errno: 'EINVAL', detail: `${label}: unknown field ${quote(k)}` };
    }
  }
  if (longField) {
    return {
      errno: limits ? 'E2BIG' : 'EINVAL',
      detail: `${label}: field ${quote(longField.name)} is ${longBytes} bytes, more than ${longField.maxBytes}`,
    };
  }
  if (limits && payload > limits.maxPayloadBytes) {
    return { errno: 'E2BIG', detail: `${label}: payload of ${payload} bytes, more than ${limits.maxPayloadBytes}` };
  }
  return null;
}

function badKind(label: string, f: Field, v: unknown): ShapeProblem {
  return { errno: 'EINVAL', detail: `${label}: field ${quote(f.name)} must be ${KIND_TEXT[f.kind]}, got ${what(v)}` };
}

/**
 * How a call or send to `server` fails its shape, or null when it fits. A
 * message type the server does not know is null too: the server answers ENOSYS
 * itself. A message only the server's own device sends is refused.
 */
export function checkCall(server: ServerName, msg: unknown, limits: ShapeLimits): ShapeProblem | null {
  try {
    if (!isPlainObject(msg)) return { errno: 'EINVAL', detail: `message is ${what(msg)}, not a plain object` };
    const type = msg.type;
    if (typeof type !== 'string') return { errno: 'EINVAL', detail: `message type is ${what(type)}, not a string` };
    const shape = COMPILED.get(server)?.get(type);
    if (shape === undefined) return null;
    if (DEVICE_MESSAGES.has(type)) return { errno: 'EINVAL', detail: `${type}: only the device sends ${type}` };
    return check(shape.req, msg, type, limits);
  } catch {
    return { errno: 'EINVAL', detail: 'message cannot be read' }; // a getter or proxy threw: nothing from it is trusted
  }
}

/**
 * How the value of an ok reply from `server` to a `type` call fails its shape,
 * or null when it fits (or `type` is not one of the server's).
 */
export function checkReply(server: ServerName, type: string, value: unknown): { errno: 'EINVAL'; detail: string } | null {
  try {
    const shape = COMPILED.get(server)?.get(type);
    if (shape === undefined) return null;
    const p = check(shape.rep, value, `${type} reply`, null);
    return p && { errno: 'EINVAL', detail: p.detail };
  } catch {
    return { errno: 'EINVAL', detail: `${type} reply cannot be read` };
  }
}
