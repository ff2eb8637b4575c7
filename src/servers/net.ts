/**
 * net — the network interface and protocol stack server.
 *
 * Requests come in from the wire (NET_RECV, sent by the wire device in this
 * server's own domain) and wait in a queue until a client takes one with a
 * receive (NET_ACCEPT), as a process reads a socket; net calls no one.
 * Responses come back from the client (NET_SEND) and are cut into MTU-sized
 * frames, each carrying the RFC 1071 checksum of its payload, computed in
 * software unless the NIC offloads it. The frames reference the payload's
 * slices (scatter-gather): no copy here. A request a client took is its
 * connection: if the client dies, the connection is reset.
 *
 * The wire itself is a device (NetDevice) handed over at boot; this server never
 * touches sockets or threads.
 */
import type { Payload, Rep, Reply } from '../protocol.js';
import { InetChecksum } from './inet-checksum.js';
import { fail, ok, type CallTable, type Caller, type ServerContext, type ServerModule } from './server.js';

const encoder = new TextEncoder();

/** IPv4 + TCP headers without options: what each frame carries besides payload. */
export const FRAME_HEADER_BYTES = 40;

export interface Frame {
  /** RFC 1071 checksum of the payload, or null when the NIC computes it. */
  checksum: number | null;
  /** Payload bytes of this frame, as slices of the response. */
  readonly segments: Uint8Array[];
  length: number;
}

/** Visits one run of a frame's payload: `bytes[from, to)`. */
export type RunVisitor = (bytes: Uint8Array, from: number, to: number) => void;

/**
 * A frame cut from a response's body: `length` bytes from byte `at` of slice
 * `first` on. Its payload is walked as runs of the body's own slices (what the
 * checksum and the NIC read), and made into views only when `segments` is read
 * (a socket writing it): a view per frame was a tenth of net's time on whole
 * 1 MiB files, whose 718 frames are runs of one or a few slices.
 */
class BodyFrame implements Frame {
  checksum: number | null = null;

  constructor(
    private readonly body: Payload,
    private readonly first: number,
    private readonly at: number,
    readonly length: number,
  ) {}

  /** Visit the frame's payload, run by run, in order. */
  eachRun(visit: RunVisitor): void {
    let left = this.length;
    for (let i = this.first, at = this.at; left > 0; i++, at = 0) {
      const s = this.body[i];
      const n = Math.min(left, s.length - at);
      if (n > 0) visit(s, at, at + n);
      left -= n;
    }
  }

  get segments(): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.eachRun((s, from, to) => out.push(from === 0 && to === s.length ? s : s.subarray(from, to)));
    return out;
  }
}

/** Visit `f`'s payload run by run: a frame cut by cutFrames without making views, any other by its segments. */
export function eachRun(f: Frame, visit: RunVisitor): void {
  if (f instanceof BodyFrame) return f.eachRun(visit);
  for (const s of f.segments) visit(s, 0, s.length);
}

/** The wire: where frames go. Implemented outside src/servers (simulated clients, sockets). */
export interface NetDevice {
  transmit(reqId: number, status: number, frames: Frame[]): void;
}

export interface NetBoot {
  mtu: number;
  checksumOffload: boolean;
  device: NetDevice;
}

type Accepted = Rep<'net', 'NET_ACCEPT'>;

/** A request off the wire, until its response is sent (or its connection goes). */
interface Connection {
  reqId: number;
  request: string;
  body?: Payload;
  settle: (r: Reply<{ status: number }>) => void;
}

interface NetState {
  mss: number; // payload bytes per frame
  checksumOffload: boolean;
  device: NetDevice;
  /** Requests that arrived and no client has taken yet, oldest first (the listen queue). */
  queue: Connection[];
  /** Receives waiting for a request, oldest first. */
  receivers: { client: Caller; take: (r: Reply<Accepted>) => void }[];
  /** Requests a client took and has not answered yet, and who holds them. */
  open: Map<number, { conn: Connection; client: Caller }>;
  /** The wire closed: no more requests. */
  closed: boolean;
  /** No client will ever take requests again (the supervisor gave up on it): refuse them. */
  refusing: boolean;
}

function init(boot: NetBoot): NetState {
  if (!Number.isInteger(boot.mtu) || boot.mtu <= FRAME_HEADER_BYTES || boot.mtu > 65535) {
    throw new RangeError(`net: mtu must be an integer in ${FRAME_HEADER_BYTES + 1}..65535, got ${boot.mtu}`);
  }
  return {
    mss: boot.mtu - FRAME_HEADER_BYTES,
    checksumOffload: boot.checksumOffload,
    device: boot.device,
    queue: [],
    receivers: [],
    open: new Map(),
    closed: false,
    refusing: false,
  };
}

const DEVICE: Caller = { server: 'device', gen: 0 };

/** Who is calling: the sender of this invocation (a lone server in a test: the app). */
function callerOf(ctx: ServerContext): Caller {
  return ctx.caller ?? { server: 'app', gen: 1 };
}

/** Give request `conn` to a waiting receive. */
function hand(st: NetState, conn: Connection, rx: NetState['receivers'][number]): void {
  st.open.set(conn.reqId, { conn, client: rx.client });
  rx.take(ok(conn.body ? { reqId: conn.reqId, request: conn.request, body: conn.body } : { reqId: conn.reqId, request: conn.request }));
}

/**
 * A request arrived from the wire (the device, in this domain). It came in as
 * frames (the request line, then any data), and the receiver computes each
 * frame's checksum to check it, unless the NIC does. It waits in the queue for
 * a client's receive; the reply comes when its response is on the wire.
 */
function doRecv(st: NetState, msg: { reqId: number; request: string; body?: Payload }, ctx: ServerContext) {
  const { reqId, request, body } = msg;
  if (ctx.caller !== undefined && ctx.caller.server !== 'device') return fail('EINVAL', 'NET_RECV comes from the wire device only');
  if (typeof request !== 'string') return fail('EINVAL', 'NET_RECV request must be a string');
  if (body !== undefined && !isPayload(body)) return fail('EINVAL', 'NET_RECV body must be an array of Uint8Array');
  if (!Number.isSafeInteger(reqId) || st.open.has(reqId)) return fail('EINVAL', 'NET_RECV reqId must be a new integer');
  const frames = cutFrames([encoder.encode(request), ...(body ?? [])], st.mss);
  const c = ctx.counters;
  const bytes = checksumFrames(frames, st.checksumOffload);
  c.add('framesReceived', frames.length);
  c.add('bytesReceived', bytes);
  if (!st.checksumOffload) c.add('rxBytesChecksummed', bytes);
  if (st.refusing) return fail('ECONNREFUSED', 'no server takes requests');
  if (st.closed) return fail('ESHUTDOWN', 'the wire is closed');
  return new Promise<Reply<{ status: number }>>((settle) => {
    const conn: Connection = body?.length ? { reqId, request, body, settle } : { reqId, request, settle };
    const rx = st.receivers.shift();
    if (rx) hand(st, conn, rx);
    else st.queue.push(conn);
  });
}

/** A client takes the next request, waiting for one if none is queued. */
function doAccept(st: NetState, _msg: unknown, ctx: ServerContext): Reply<Accepted> | Promise<Reply<Accepted>> {
  if (st.closed) return fail('ESHUTDOWN', 'the wire is closed');
  const client = callerOf(ctx);
  return new Promise((take) => {
    const rx = { client, take };
    const conn = st.queue.shift();
    if (conn) hand(st, conn, rx);
    else st.receivers.push(rx);
  });
}

/** The wire closed: every waiting receive ends. */
function doClose(st: NetState) {
  st.closed = true;
  const waiting = st.receivers;
  st.receivers = [];
  for (const rx of waiting) rx.take(fail('ESHUTDOWN', 'the wire is closed'));
  for (const conn of st.queue.splice(0)) conn.settle(fail('ESHUTDOWN', 'the wire closed before the request was taken'));
  return ok({ accepts: waiting.length });
}

function doSend(st: NetState, msg: { reqId: number; status: number; body: Payload }, ctx: ServerContext) {
  if (!isPayload(msg.body)) {
    return fail('EINVAL', 'NET_SEND body must be an array of Uint8Array');
  }
  const held = st.open.get(msg.reqId);
  const client = callerOf(ctx);
  if (!held || held.client.server !== client.server || held.client.gen !== client.gen) {
    return fail('ECONNRESET', `no open request ${String(msg.reqId)} held by this client`);
  }
  st.open.delete(msg.reqId);
  const frames = cutFrames(msg.body, st.mss);
  const payload = checksumFrames(frames, st.checksumOffload);
  const wireBytes = payload + frames.length * FRAME_HEADER_BYTES;
  const c = ctx.counters;
  c.add('framesSent', frames.length);
  c.add('payloadBytes', payload);
  c.add('wireBytes', wireBytes);
  if (!st.checksumOffload) c.add('bytesChecksummed', payload);
  st.device.transmit(msg.reqId, msg.status, frames);
  held.conn.settle(ok({ status: msg.status }));
  return ok({ frames: frames.length, wireBytes });
}

/**
 * A client died: its receives go, and the requests it held are reset (their
 * clients see the connection drop), as a process's sockets close when it dies.
 * `forGood`: no incarnation of it will come back, so requests are refused.
 */
function clientDied(st: NetState, client: Caller, ctx: ServerContext, forGood = false) {
  const same = (c: Caller) => c.server === client.server && c.gen === client.gen;
  st.receivers = st.receivers.filter((rx) => !same(rx.client));
  for (const [reqId, held] of st.open) {
    if (!same(held.client)) continue;
    st.open.delete(reqId);
    ctx.counters.add('connectionsReset');
    held.conn.settle(fail('ECONNRESET', `${client.server} died holding the request`));
  }
  if (forGood) {
    st.refusing = true;
    for (const conn of st.queue.splice(0)) conn.settle(fail('ECONNREFUSED', 'no server takes requests'));
  }
}

/** Compute each frame's RFC 1071 checksum into it, unless the NIC does; the frames' payload bytes. */
export function checksumFrames(frames: Frame[], offload: boolean): number {
  let bytes = 0;
  const sum = new InetChecksum();
  const add: RunVisitor = (s, from, to) => void sum.updateRange(s, from, to);
  for (const f of frames) {
    bytes += f.length;
    if (offload) continue;
    sum.reset();
    eachRun(f, add);
    f.checksum = sum.digest();
  }
  return bytes;
}

function isPayload(v: unknown): v is Payload {
  return Array.isArray(v) && v.every((s) => s instanceof Uint8Array);
}

/** Cut `body` into frames of at most `mss` payload bytes (at least one frame). */
export function cutFrames(body: Payload, mss: number): Frame[] {
  const frames: Frame[] = [];
  let first = 0; // where the frame being cut starts: slice `first`, byte `at`
  let at = 0;
  let length = 0;
  for (let i = 0; i < body.length; i++) {
    const n = body[i].length;
    for (let pos = 0; pos < n; ) {
      if (length === 0) {
        first = i;
        at = pos;
      }
      const take = Math.min(mss - length, n - pos);
      length += take;
      pos += take;
      if (length === mss) {
        frames.push(new BodyFrame(body, first, at, length));
        length = 0;
      }
    }
  }
  if (length > 0 || frames.length === 0) frames.push(new BodyFrame(body, first, at, length));
  return frames;
}

const calls = {
  NET_RECV: doRecv,
  NET_CLOSE: doClose,
  NET_ACCEPT: doAccept,
  NET_SEND: doSend,
} satisfies CallTable<'net', NetState>;

/** The net server: the network stack between the wire device and the app (NET_RECV, NET_CLOSE, NET_ACCEPT, NET_SEND). */
export const net: ServerModule<'net', NetState, NetBoot> = { name: 'net', init, calls, clientDied };

export { DEVICE as DEVICE_CALLER };
