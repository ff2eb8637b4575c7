/**
 * The socket: a wire device that serves real HTTP/1.1 clients on a TCP port.
 *
 * Like the NIC (link.ts) it is handed to the net server in net's own domain
 * (in the microkernel, the net worker's thread), and it talks to net only
 * through the device messages NET_RECV and NET_CLOSE; net and the app do not
 * know whether their requests came from a socket or from simulated clients.
 *
 * Parsing happens here, in Node's HTTP parser (llhttp, through node:http),
 * before anything enters the kernel: request framing is where request
 * smuggling and slowloris live, and llhttp is fuzzed and strict (it refuses
 * Content-Length with Transfer-Encoding, duplicate Content-Lengths, bad
 * methods and bad header bytes). What crosses into the kernel is the request
 * line, exactly as the simulated clients send one; the app decides what it
 * means (which file, 404, 405). node:http also keeps keep-alive and
 * pipelining in order, adds Date and Connection, and leaves out the body of a
 * response to HEAD. A request llhttp refuses (400, 414, 431, 408) is answered
 * here, after the responses to the requests ahead of it on its connection have
 * been written in full, and the connection is then closed.
 *
 * A response leaves as net hands its frames to `transmit`: the app's own
 * status line and headers become the response head, and the bytes after them
 * are the body, copied once into a host buffer as they leave (the NIC's DMA in
 * the model, which counts no copy; the pool blocks they come from may be
 * reused as soon as net replies).
 *
 * The harness's end of the link (serve-link.ts) tells the device when to
 * listen, to stop (finish what is in flight, take nothing new) and to close
 * the wire; the device tells it what it served. The outcome of every request
 * is written to the wire's registers as it ends, so the tally survives this
 * domain's death.
 */
import type http from 'node:http';
import type { Socket } from 'node:net';
import { dynamicImport } from '../dynamic-import.js';
import type { Msg, Reply } from '../protocol.js';
import type { Frame, NetDevice } from '../servers/net.js';
import { BatchingPort } from '../microkernel/batch.js';
import type { PortLike } from '../microkernel/ipc.js';
import { EVENT_CELLS, REG, ServedTally, type Registers } from './registers.js';
import type { DeviceDeliver } from './link.js';

/** Where and how the socket listens, and the limits it holds clients to. */
export interface ServeSpec {
  host: string;
  /** 0: any free port (the harness then keeps the one bound, for later incarnations). */
  port: number;
  /** Connections open at once; more are closed as they arrive. */
  maxConnections: number;
  /** A request's headers must arrive within this long of its connection opening or its previous response (slowloris), ms. */
  headersTimeoutMs: number;
  /** A keep-alive connection idle this long between requests is closed, ms. */
  idleTimeoutMs: number;
  /** A whole request must arrive, and a connection may sit silent, at most this long, ms. */
  requestTimeoutMs: number;
  /** Bytes of request line and headers together (more: 431, or 414 if the request line alone is longer). */
  maxHeaderBytes: number;
  /** Bytes of the request target (more: 414). */
  maxUriBytes: number;
  /** On stop, responses in flight get this long to finish before their connections are cut, ms. */
  drainTimeoutMs: number;
  /** The Server header. */
  serverName: string;
}

/** What the device and the harness's end say to each other. */
export type SocketFrame =
  /** `again`: an earlier incarnation of net held the port (its socket may take a moment to go) */
  | { k: 'listen'; again: boolean }
  | { k: 'stop' }
  | { k: 'close' }
  | { k: 'listening'; host: string; port: number }
  | { k: 'error'; message: string }
  /** A response went out: its latency, µs (its status and body bytes are in the served tally, registers.ts) */
  | { k: 'served'; us: number }
  | { k: 'drained' }
  | { k: 'closed' };

/** Things that happen to connections and requests outside the kernel's counting. */
export const HTTP_EVENTS = [
  'connections',
  /** refused at the connection limit */
  'dropped',
  /** cut off waiting for headers (slowloris) or a whole request: 408 */
  'timedOut',
  /** a keep-alive or silent connection closed for idleness */
  'idleClosed',
  /** refused by the parser before reaching the kernel: 400, 414, 431 */
  'rejected400',
  /** CONNECT, which would make the connection a tunnel and so never reaches the kernel: 405 with Allow */
  'rejected405',
  'rejected414',
  'rejected431',
  /** the client went away before its response was sent */
  'aborted',
  /** the connection was reset because the server holding the request died */
  'reset',
  /** 503 because the kernel could not answer (the wire closed, no server takes requests) */
  'unavailable',
  /** 502 because the app's response could not be framed as HTTP */
  'badResponse',
] as const;
/** The name of one connection or parser event the socket counts (one of HTTP_EVENTS). */
export type HttpEvent = (typeof HTTP_EVENTS)[number];
// each event has a cell of the served tally (registers.ts), in this order
if (HTTP_EVENTS.length > EVENT_CELLS) throw new Error(`${HTTP_EVENTS.length} HTTP events, but the registers have cells for ${EVENT_CELLS}`);

const REASON: Record<number, string> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** A request inside the kernel, until its response is sent or its connection goes. */
interface InFlight {
  res: http.ServerResponse;
  /** A HEAD request: its response has no body. */
  head: boolean;
  /** Body bytes sent. */
  bytes: number;
  t0: number;
  transmitted: boolean;
  settled: boolean;
  /** Its connection (a pipelined request's response may not be assigned to it yet). */
  socket: Socket;
}

/**
 * One connection's responses not yet written in full, in the order node sends
 * them, and the refusal of a request llhttp could not parse behind them: it
 * waits for them (an HTTP/1.1 client takes the next response on the wire for
 * its oldest request's), at most `requestTimeoutMs`.
 */
interface Connection {
  ahead: Set<http.ServerResponse>;
  /** The refusal's bytes (status line to body), once there is one: nothing else is sent after it. */
  refusal: string | null;
  timer: ReturnType<typeof setTimeout> | null;
}

/** A restarted net's tries at the port its last incarnation held (2 s in all). */
const LISTEN_RETRIES = 40;

/** The most bytes of a response's status line and headers the device reads. */
const MAX_RESPONSE_HEAD = 16 * 1024;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The app's response split into head and body, or why it cannot be sent as HTTP. */
export function frameResponse(bytes: Buffer): { status: number; reason: string; headers: [string, string][]; length: number; body: Buffer } | string {
  const end = bytes.subarray(0, MAX_RESPONSE_HEAD + 4).indexOf('\r\n\r\n');
  if (end < 0) return 'no end of headers';
  const lines = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] ([1-5][0-9]{2}) ([\t -~]*)$/.exec(lines[0]);
  if (!m) return `bad status line ${JSON.stringify(lines[0].slice(0, 80))}`;
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const at = line.indexOf(':');
    const name = line.slice(0, at);
    const value = line.slice(at + 1).trim();
    if (at <= 0 || !TOKEN.test(name) || /[^\t -~]/.test(value)) return `bad header line ${JSON.stringify(line.slice(0, 80))}`;
    headers.push([name, value]);
  }
  const body = bytes.subarray(end + 4);
  const length = headers.find(([n]) => n.toLowerCase() === 'content-length');
  if (!length || !/^(0|[1-9][0-9]{0,15})$/.test(length[1])) return 'no Content-Length';
  return { status: Number(m[1]), reason: m[2], headers, length: Number(length[1]), body };
}

/** What node:http says of a request it could not parse: the read it was parsing, and where in it the parser stopped. */
type ParseError = NodeJS.ErrnoException & { rawPacket?: Buffer; bytesParsed?: number };

const REQUEST_LINE_START = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ /;

/**
 * The status for a request head over maxHeaderBytes: 414 if the line llhttp
 * was reading when it went over is the request line (its target alone is too
 * long), 431 if it is a header's. `raw` is the read being parsed and `at`
 * where in it the limit was crossed (the end of the target, a header's name or
 * value, or of the read); the head may have begun in earlier reads, which are
 * gone: `fromStart` says `raw` is all the connection sent. A line that began
 * in an earlier read is the request line only if its target ends here (a space
 * and the version follow).
 */
function overflowStatus(raw: Buffer | undefined, at: number | undefined, fromStart: boolean): 414 | 431 {
  if (!raw) return 431;
  const p = Math.min(Math.max(at ?? raw.length, 0), raw.length);
  const nl = p > 0 ? raw.lastIndexOf(0x0a, p - 1) : -1;
  if (nl >= 0 || fromStart) {
    // the line's start is in this read: a request line is a method and a space, a header line a name and a colon
    const start = nl + 1;
    return REQUEST_LINE_START.test(raw.toString('latin1', start, Math.min(p, start + 64))) ? 414 : 431;
  }
  return raw.toString('latin1', p, p + 6) === ' HTTP/' ? 414 : 431;
}

/** A socket device over `port`, with node:http loaded now. */
export async function openSocketDevice(port: PortLike, spec: ServeSpec, regs: Registers): Promise<SocketDevice> {
  const { createServer } = (await dynamicImport('node:http')) as typeof import('node:http');
  return new SocketDevice(port, spec, regs, createServer);
}

export class SocketDevice implements NetDevice {
  private readonly port: PortLike;
  /** What it served, in the registers (so it outlives this domain). */
  private readonly tally: ServedTally;
  private deliver: DeviceDeliver | null = null;
  private server: http.Server | null = null;
  private readonly inFlight = new Map<number, InFlight>();
  /** Connections that have had a request or a refusal; their close settles their requests in flight. */
  private readonly connections = new WeakMap<Socket, Connection>();
  private nextId = 0;
  private stopping = false;
  private drainTimer: ReturnType<typeof setTimeout> | null = null;

  /**
   * `createServer`: node:http's, which openSocketDevice loads only when a socket is
   * opened (a domain that never serves HTTP does not load Node's HTTP stack).
   */
  constructor(
    port: PortLike,
    private readonly spec: ServeSpec,
    private readonly regs: Registers,
    private readonly createServer: typeof http.createServer,
  ) {
    this.port = new BatchingPort(port);
    this.tally = new ServedTally(regs);
  }

  /** Start taking commands off the link; requests go into `deliver`. */
  attach(deliver: DeviceDeliver): void {
    this.deliver = deliver;
    this.port.on('message', (v) => this.command(v as SocketFrame));
  }

  private post(f: SocketFrame): void {
    this.port.postMessage(f);
  }

  private event(e: HttpEvent): void {
    this.tally.event(HTTP_EVENTS.indexOf(e));
  }

  private command(f: SocketFrame): void {
    if (f.k === 'listen') this.listen(f.again ? LISTEN_RETRIES : 0);
    else if (f.k === 'stop') this.stop();
    else if (f.k === 'close') void Promise.resolve(this.deliver!({ type: 'NET_CLOSE' })).then(() => this.post({ k: 'closed' }));
  }

  /** Bind the socket; `retries`: how often to try again, 50 ms apart, while the address is in use. */
  private listen(retries: number): void {
    if (this.server || this.stopping) return;
    const s = this.spec;
    const server = this.createServer({
      maxHeaderSize: s.maxHeaderBytes,
      headersTimeout: s.headersTimeoutMs,
      requestTimeout: s.requestTimeoutMs,
      keepAliveTimeout: s.idleTimeoutMs,
      // how often node checks the two timeouts above
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(s.headersTimeoutMs / 4))),
      // checked in request(), so the refusal is counted and carries the Server header
      requireHostHeader: false,
    });
    server.maxConnections = s.maxConnections;
    server.setTimeout(s.requestTimeoutMs, (socket: Socket) => {
      this.event('idleClosed');
      socket.destroy();
    });
    server.on('connection', () => this.event('connections'));
    server.on('drop', () => this.event('dropped'));
    server.on('request', (req, res) => this.request(req, res));
    server.on('clientError', (e: ParseError, socket: Socket) => this.clientError(e, socket));
    // llhttp hands a CONNECT over as a tunnel's start, not a request: refused here, as the app refuses other methods
    server.on('connect', (_req: http.IncomingMessage, socket: Socket) => this.refuseInTurn(socket, 405));
    server.once('error', (e: NodeJS.ErrnoException) => {
      // a restarted net binds the port its last incarnation held: the old socket may take a moment to go
      if (e.code === 'EADDRINUSE' && retries > 0) {
        setTimeout(() => this.listen(retries - 1), 50);
        return;
      }
      this.post({ k: 'error', message: `cannot listen on ${s.host}:${s.port}: ${e.code === 'EADDRINUSE' ? 'the address is in use' : e.code === 'EACCES' ? 'permission denied' : e.message}` });
    });
    this.server = null;
    server.listen(s.port, s.host, () => {
      this.server = server;
      const a = server.address();
      const port = typeof a === 'object' && a ? a.port : s.port;
      if (this.stopping) return void server.close();
      this.post({ k: 'listening', host: s.host, port });
    });
  }

  /** A request llhttp parsed: into the kernel as its request line. */
  private request(req: http.IncomingMessage, res: http.ServerResponse): void {
    // a body is never read: GET and HEAD carry none, and other methods are refused
    req.resume();
    this.queue(req.socket, res);
    res.setHeader('Server', this.spec.serverName);
    const target = req.url ?? '';
    if (req.httpVersion === '1.1' && req.headers.host === undefined) {
      // RFC 9112 3.2: an HTTP/1.1 request without Host is refused
      this.event('rejected400');
      return this.answer(res, 400, true);
    }
    if (Buffer.byteLength(target) > this.spec.maxUriBytes) {
      this.event('rejected414');
      return this.answer(res, 414, true);
    }
    const id = this.nextId++;
    const f: InFlight = { res, head: req.method === 'HEAD', bytes: 0, t0: performance.now(), transmitted: false, settled: false, socket: req.socket };
    this.inFlight.set(id, f);
    Atomics.add(this.regs, REG.issued, 1);
    res.on('finish', () => this.settle(id, res.statusCode < 500 ? REG.ok : REG.fail));
    res.on('close', () => {
      if (f.settled) return;
      this.event('aborted');
      this.settle(id, REG.info);
    });
    const msg: Msg<'net', 'NET_RECV'> = { type: 'NET_RECV', reqId: id, request: `${req.method} ${target} HTTP/${req.httpVersion}` };
    void Promise.resolve(this.deliver!(msg)).then((r) => this.replied(id, r));
  }

  /** Another request on the connection of request `id` came after it and is in flight (pipelined). */
  private followed(id: number, f: InFlight): boolean {
    for (const [later, g] of this.inFlight) if (later > id && g.socket === f.socket) return true;
    return false;
  }

  /** The state of `socket`, made on first use; its close is watched from then on. */
  private connection(socket: Socket): Connection {
    let c = this.connections.get(socket);
    if (!c) {
      c = { ahead: new Set(), refusal: null, timer: null };
      this.connections.set(socket, c);
      // a pipelined request's response waits its turn unassigned, and gets no 'close' of its own if the connection goes first
      socket.once('close', () => this.connectionGone(socket));
    }
    return c;
  }

  /** `res` is the connection's next response: a refusal parsed after it waits until it is written in full (or goes). */
  private queue(socket: Socket, res: http.ServerResponse): void {
    const c = this.connection(socket);
    c.ahead.add(res);
    // after node's own 'finish' listener, which hands the connection to the next response or closes it
    const done = () => {
      if (c.ahead.delete(res) && c.ahead.size === 0 && c.refusal !== null) this.refuse(socket, c);
    };
    res.once('finish', done);
    res.once('close', done);
  }

  /** A connection closed: the requests on it not settled yet went with it. */
  private connectionGone(socket: Socket): void {
    const c = this.connections.get(socket);
    if (c?.timer) clearTimeout(c.timer);
    for (const [id, f] of this.inFlight) {
      if (f.socket !== socket || f.settled) continue;
      this.event('aborted');
      this.settle(id, REG.info);
    }
  }

  /** The request's outcome, once: into the registers, and what was served to the harness. */
  private settle(id: number, outcome: number): void {
    const f = this.inFlight.get(id);
    if (!f || f.settled) return;
    f.settled = true;
    this.inFlight.delete(id);
    // the tally before the outcome: a report never counts more requests ok than responses served
    if (outcome !== REG.info) this.tally.served(f.res.statusCode, f.bytes);
    Atomics.add(this.regs, outcome, 1);
    if (outcome !== REG.info) this.post({ k: 'served', us: Math.round((performance.now() - f.t0) * 1000) });
    if (this.stopping) this.server?.closeIdleConnections();
  }

  /** NetDevice: net puts a response's frames on the wire. */
  transmit(reqId: number, _status: number, frames: Frame[]): void {
    const f = this.inFlight.get(reqId);
    if (!f || f.transmitted || f.res.headersSent) return;
    f.transmitted = true;
    const bytes = Buffer.concat(frames.flatMap((fr) => fr.segments));
    const r = frameResponse(bytes);
    if (typeof r === 'string' || (!f.head && r.body.length !== r.length)) {
      this.event('badResponse');
      return this.answer(f.res, 502, false);
    }
    // stopping: the connection closes after its last response in flight (not before a pipelined one behind it)
    if (this.stopping && !this.followed(reqId, f)) f.res.shouldKeepAlive = false;
    f.bytes = f.head ? 0 : r.body.length;
    f.res.writeHead(r.status, r.reason, r.headers.flat());
    if (f.head || r.body.length === 0) return void f.res.end();
    // ended only once the body is on the connection: node's closeIdleConnections (on stop, and inside
    // server.close) takes an ended response for done, and would cut one a slow reader has not taken in yet
    f.res.write(r.body, (e) => {
      if (!e) f.res.end();
    });
  }

  /** Net's reply to NET_RECV: nothing more to do if the response went out, else say why there is none. */
  private replied(id: number, r: Reply<unknown>): void {
    const f = this.inFlight.get(id);
    if (!f || f.transmitted) return;
    f.transmitted = true;
    if (!r.ok && r.errno === 'ECONNRESET') {
      // the server holding the request died with it: so does the connection
      this.event('reset');
      f.settled = true;
      this.inFlight.delete(id);
      Atomics.add(this.regs, REG.info, 1);
      f.res.socket?.resetAndDestroy();
      return;
    }
    this.event(r.ok ? 'badResponse' : 'unavailable');
    this.answer(f.res, r.ok ? 502 : 503, false);
  }

  /** A response of the device's own (no file, no kernel): status, a one-line body. */
  private answer(res: http.ServerResponse, status: number, close: boolean): void {
    if (res.headersSent) return void res.destroy();
    const body = `${status} ${REASON[status]}\n`;
    if (close || this.stopping) res.shouldKeepAlive = false;
    res.writeHead(status, REASON[status], {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      ...(status === 503 ? { 'Retry-After': '1' } : {}),
    });
    res.end(body);
  }

  /**
   * What llhttp refused, or a connection that timed out, before the request reached the kernel:
   * refused with a status of the device's own, once the responses ahead of it are written, and closed.
   */
  private clientError(e: ParseError, socket: Socket): void {
    let status: number;
    if (e.code === 'HPE_HEADER_OVERFLOW' || e.code === 'HPE_URI_OVERFLOW') {
      // 414 if the request line alone did not fit, else 431; the packet is the last read's, from the stream's start if all was read at once
      status = overflowStatus(e.rawPacket, e.bytesParsed, e.rawPacket !== undefined && socket.bytesRead === e.rawPacket.length);
    } else if (e.code === 'ERR_HTTP_REQUEST_TIMEOUT') status = 408;
    else if (e.code?.startsWith('HPE_')) status = 400;
    else return void socket.destroy(); // the client went (ECONNRESET and the like)
    this.refuseInTurn(socket, status);
  }

  /** Refuse what came on `socket` with `status`, once the responses ahead of it are written, and close it. */
  private refuseInTurn(socket: Socket, status: number): void {
    const c = this.connection(socket);
    // one refusal a connection: what llhttp says after it (its headers' time-out, say) is of requests never answered
    if (c.refusal !== null) return;
    this.event(status === 408 ? 'timedOut' : (`rejected${status}` as HttpEvent));
    const body = `${status} ${REASON[status]}\n`;
    const allow = status === 405 ? 'Allow: GET, HEAD\r\n' : '';
    c.refusal = `HTTP/1.1 ${status} ${REASON[status]}\r\nServer: ${this.spec.serverName}\r\n${allow}Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    if (c.ahead.size === 0) return this.refuse(socket, c);
    // responses to requests ahead of it are still to be written: it goes after them, or the connection goes when they take too long
    c.timer = setTimeout(() => socket.destroy(), this.spec.requestTimeoutMs);
    c.timer.unref?.();
  }

  /** Write the connection's refusal, if it is still open for writing, and close it. */
  private refuse(socket: Socket, c: Connection): void {
    if (c.timer) clearTimeout(c.timer);
    c.timer = null;
    const busy = (socket as Socket & { _httpMessage?: http.ServerResponse })._httpMessage;
    if (c.refusal !== null && socket.writable && !busy?.headersSent) socket.end(c.refusal);
    socket.destroySoon();
  }

  /** Take nothing new; finish what is in flight (at most drainTimeoutMs), then say so. */
  private stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    const server = this.server;
    if (!server) return this.post({ k: 'drained' });
    server.close(() => {
      if (this.drainTimer) clearTimeout(this.drainTimer);
      this.post({ k: 'drained' });
    });
    server.closeIdleConnections();
    this.drainTimer = setTimeout(() => server.closeAllConnections(), this.spec.drainTimeoutMs);
    this.drainTimer.unref?.();
  }
}
