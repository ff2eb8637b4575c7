/**
 * The wire types of every server, written down once as data (seL4 style): each
 * server's calls map a message type to its request and reply shapes. Everything
 * else — typed `call`, the handler tables, the IPC framing — is derived from these
 * interfaces. Types only: no behaviour lives here.
 */

/** Errors cross every boundary as values, never as thrown exceptions. */
export type Errno =
  | 'ENOENT' // no such file
  | 'EINVAL' // malformed request
  | 'ENOSYS' // no handler for this message type
  | 'ECALLDENIED' // the caller holds no channel to that server
  | 'ETIMEDOUT' // the call passed its deadline
  | 'EPEERDIED' // the callee's domain died before replying: the outcome is unknown
  | 'EDEADDST' // the callee's domain is known dead: the call was not delivered
  | 'EFAULT' // a payload descriptor was stale or forged: refused, never read
  | 'EFBIG' // a write past the end of a file (files do not grow)
  | 'ESHUTDOWN' // the kernel is stopping, or the wire closed
  | 'ESTALE' // the handle names an earlier incarnation of the server: not delivered
  | 'ESERVERFAILED' // the supervisor gave up on the server: not delivered
  | 'ECONNRESET' // the connection went down with the server that held it: the outcome is unknown
  | 'ECONNREFUSED' // nothing serves requests any more: not done
  | 'E2BIG'; // a message or payload larger than the receiver accepts

/**
 * A payload is an aggregate of byte slices (IO-Lite's buffer aggregate, or an
 * iovec): a file read hands out one slice per cached block, and nobody has to
 * make the bytes contiguous.
 */
export type Payload = Uint8Array[];

/** The disk server's calls: look up, stat, read and write a file of the disk image. */
export interface DiskCalls {
  /** Find a file by path. */
  DISK_LOOKUP: { req: { path: string }; rep: { ino: number; size: number } };
  /** Size and extent of a file. */
  DISK_STAT: { req: { ino: number }; rep: { ino: number; size: number; blocks: number } };
  /** Bytes [offset, offset+length) of a file, clamped to its size. */
  DISK_READ: {
    req: { ino: number; offset: number; length: number };
    rep: { data: Payload; length: number };
  };
  /**
   * Write `data` at `offset` of a file, inside its size. Replies only once the
   * bytes are on the image (write-through): the reply is the durability promise.
   */
  DISK_WRITE: {
    req: { ino: number; offset: number; data: Payload };
    rep: { length: number };
  };
}

/** The net server's calls: requests from the wire in (NET_RECV, NET_ACCEPT), responses out (NET_SEND), and the wire's close. */
export interface NetCalls {
  /**
   * A request arrived from the wire, with its data if it carries any. Sent by
   * the wire device in net's own domain, never by a server. Net holds it until
   * a client takes it (NET_ACCEPT); the reply is the status of its response,
   * once NET_SEND put that on the wire, or ECONNRESET if the client holding it
   * died first.
   */
  NET_RECV: { req: { reqId: number; request: string; body?: Payload }; rep: { status: number } };
  /** The wire closed (sent by the wire device): every waiting and later NET_ACCEPT gets ESHUTDOWN. */
  NET_CLOSE: { req: Record<never, never>; rep: { accepts: number } };
  /**
   * Take the next request off the wire, waiting for one if none is queued (a
   * receive, as a process reads a socket): the reply carries it. It has no
   * deadline, because it waits for the outside world, not for work; it ends
   * when a request comes, the wire closes (ESHUTDOWN), or net dies.
   */
  NET_ACCEPT: { req: Record<never, never>; rep: { reqId: number; request: string; body?: Payload } };
  /** Send a response for request `reqId` out on the wire. */
  NET_SEND: {
    req: { reqId: number; status: number; body: Payload };
    rep: { frames: number; wireBytes: number };
  };
}

/** The app answers no calls: it is a client of net and disk, with a main loop of its own. */
export type AppCalls = Record<never, never>;

/** Every server's calls, by server name: the one source of the wire types. */
export interface Protocols {
  disk: DiskCalls;
  net: NetCalls;
  app: AppCalls;
}

/** The name of a server: disk, net or app. */
export type ServerName = keyof Protocols;
/** Every server's name: disk, net, app. */
export const SERVER_NAMES: readonly ServerName[] = ['disk', 'net', 'app'];

/** The message types server S answers. */
export type MsgType<S extends ServerName> = keyof Protocols[S] & string;

type Call<S extends ServerName, K extends MsgType<S>> = Protocols[S][K] extends {
  req: infer Q;
  rep: infer P;
}
  ? { req: Q; rep: P }
  : never;

/** The message that asks server S to do K. */
export type Msg<S extends ServerName, K extends MsgType<S>> = { type: K } & Call<S, K>['req'];
/** The value of a successful reply to K. */
export type Rep<S extends ServerName, K extends MsgType<S>> = Call<S, K>['rep'];
/** Any message server S understands. */
export type AnyMsg<S extends ServerName> = { [K in MsgType<S>]: Msg<S, K> }[MsgType<S>];

/** A reply to a call: ok with its value, or an Errno (with an optional detail) as a value, never a thrown exception. */
export type Reply<T> = { ok: true; value: T } | { ok: false; errno: Errno; detail?: string };

/**
 * Who may call whom: the boot-time manifest of granted channels. The grants form
 * a DAG: the app is the client of net and disk, as a web server process is the
 * client of its kernel's socket layer and file system; disk and net answer
 * calls and call no one.
 */
export const DEFAULT_GRANTS: ReadonlyArray<readonly [ServerName, ServerName]> = [
  ['app', 'disk'],
  ['app', 'net'],
];

/** Messages only a device in the server's own domain sends: refused over IPC. */
export const DEVICE_MESSAGES: ReadonlySet<string> = new Set(['NET_RECV', 'NET_CLOSE']);

/** Calls that wait for an event from outside rather than for work: they carry no deadline. */
export const RECEIVE_CALLS: ReadonlySet<string> = new Set(['NET_ACCEPT']);

/**
 * The kinds a message field may hold, each with the TypeScript type it checks:
 * a string (with a byte limit), a whole number (a safe integer, at least 0), or
 * a payload (an array of Uint8Array).
 */
export interface FieldKinds {
  string: string;
  int: number;
  payload: Payload;
}
/** The kind of a message field: string, int or payload. */
export type FieldKind = keyof FieldKinds;

/** How a field of each kind is checked: a string carries its limit in UTF-8 bytes. */
interface KindShapes {
  string: { readonly kind: 'string'; readonly maxBytes: number };
  int: { readonly kind: 'int' };
  payload: { readonly kind: 'payload' };
}
/** How one field is checked: its kind, its limit if any, and whether it may be absent. */
export type FieldShape = KindShapes[FieldKind] & { readonly optional?: boolean };

/** The kind whose TypeScript type is exactly `V`. */
type KindOf<V> = { [K in FieldKind]: [V] extends [FieldKinds[K]] ? ([FieldKinds[K]] extends [V] ? K : never) : never }[FieldKind];
type ShapeOf<V, Optional extends boolean> = KindShapes[KindOf<V>] &
  (Optional extends true ? { readonly optional: true } : { readonly optional?: false });

/** The shape of a type without fields (a request of none, or a server that answers no calls): nothing fits in it. */
type Nothing = Readonly<Record<string, never>>;

/** The shape of an object type: one entry per field, of the field's kind, optional exactly when the field is. */
export type FieldsShape<T> = string extends keyof T
  ? Nothing
  : [keyof T] extends [never]
    ? Nothing
    : { readonly [F in keyof T]-?: ShapeOf<Exclude<T[F], undefined>, {} extends Pick<T, F> ? true : false> };

/** Every message type of every server, with the fields of its request and of its reply's value. */
export type ShapeTable = {
  readonly [S in ServerName]: [MsgType<S>] extends [never]
    ? Nothing
    : { readonly [K in MsgType<S>]: { readonly req: FieldsShape<Call<S, K>['req']>; readonly rep: FieldsShape<Rep<S, K>> } };
};

/** The largest payload a message may carry, bytes (larger is E2BIG). */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

/** Limits of the strings messages carry, in UTF-8 bytes. */
export const MAX_STRING_BYTES = {
  /** A request line as it came off the wire. */
  requestLine: 8 * 1024,
  /** A file path. */
  path: 4 * 1024,
} as const;

const int = { kind: 'int' } as const;
const payload = { kind: 'payload' } as const;

/**
 * The shapes of the wire types above, as data for the receiving endpoint to
 * check messages against (microkernel/shapes.ts). The compiler holds it to the
 * interfaces: a message type missing or extra, a field missing or extra, or a
 * kind that does not match the field's type is a compile error.
 */
export const SHAPES: ShapeTable = {
  disk: {
    DISK_LOOKUP: { req: { path: { kind: 'string', maxBytes: MAX_STRING_BYTES.path } }, rep: { ino: int, size: int } },
    DISK_STAT: { req: { ino: int }, rep: { ino: int, size: int, blocks: int } },
    DISK_READ: { req: { ino: int, offset: int, length: int }, rep: { data: payload, length: int } },
    DISK_WRITE: { req: { ino: int, offset: int, data: payload }, rep: { length: int } },
  },
  net: {
    NET_RECV: {
      req: { reqId: int, request: { kind: 'string', maxBytes: MAX_STRING_BYTES.requestLine }, body: { kind: 'payload', optional: true } },
      rep: { status: int },
    },
    NET_CLOSE: { req: {}, rep: { accepts: int } },
    NET_ACCEPT: {
      req: {},
      rep: { reqId: int, request: { kind: 'string', maxBytes: MAX_STRING_BYTES.requestLine }, body: { kind: 'payload', optional: true } },
    },
    NET_SEND: { req: { reqId: int, status: int, body: payload }, rep: { frames: int, wireBytes: int } },
  },
  app: {},
};
