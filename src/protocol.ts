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
  | 'ESHUTDOWN'; // the kernel is stopping

/**
 * A payload is an aggregate of byte slices (IO-Lite's buffer aggregate, or an
 * iovec): a file read hands out one slice per cached block, and nobody has to
 * make the bytes contiguous.
 */
export type Payload = Uint8Array[];

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

export interface NetCalls {
  /** A request arrived from the wire (sent by the wire device, never by a server), with its data if it carries any. */
  NET_RECV: { req: { reqId: number; request: string; body?: Payload }; rep: { status: number } };
  /** Send a response for request `reqId` out on the wire. */
  NET_SEND: {
    req: { reqId: number; status: number; body: Payload };
    rep: { frames: number; wireBytes: number };
  };
}

export interface AppCalls {
  /**
   * Serve request `reqId`: its request line (GET, RETR, READ, WRITE or QUERY;
   * see servers/app.ts) and the data a WRITE carries. `bodyBytes`: the data
   * bytes of the reply, without the protocol's header.
   */
  APP_REQUEST: {
    req: { reqId: number; request: string; body?: Payload };
    rep: { status: number; bodyBytes: number };
  };
}

export interface Protocols {
  disk: DiskCalls;
  net: NetCalls;
  app: AppCalls;
}

export type ServerName = keyof Protocols;
export const SERVER_NAMES: readonly ServerName[] = ['disk', 'net', 'app'];

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

export type Reply<T> = { ok: true; value: T } | { ok: false; errno: Errno; detail?: string };

/** Who may call whom: the boot-time manifest of granted channels. */
export const DEFAULT_GRANTS: ReadonlyArray<readonly [ServerName, ServerName]> = [
  ['app', 'disk'],
  ['app', 'net'],
  ['net', 'app'],
];
