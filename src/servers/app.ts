/**
 * app — the application server: one process answering four protocols, as one
 * machine serving several services.
 *
 *   GET /path HTTP/1.x          http: the whole file, after an HTTP header (HEAD:
 *                               the header alone; / is /index.html)
 *   RETR /path                  ftp: the whole file, between FTP replies 150 and 226
 *   READ /path OFFSET COUNT     nfs: COUNT bytes at OFFSET
 *   WRITE /path OFFSET COUNT    nfs: the request's body written at OFFSET; the
 *                               reply (FILE_SYNC) goes out only after the disk
 *                               has the bytes on its image
 *   QUERY NAME A                dns: the A records of NAME from the in-memory zone
 *
 * The app is a client of net and disk and answers no calls itself: its main
 * loop keeps `receives` receives (NET_ACCEPT) posted at net, as a server
 * process keeps reading its socket. For each request it takes, it finds the
 * file on the disk server, does ONE data operation on it (DISK_READ or
 * DISK_WRITE), and sends the reply out through net (NET_SEND). Net hands
 * requests out in arrival order, so one data operation per request, right
 * after its lookup, means the disk sees data operations in request order in
 * every kernel: the buffer cache's hits and misses, and what a read sees of
 * earlier writes, do not depend on thread timing.
 *
 * If disk or net die under it, the app repeats what is safe to repeat on their
 * next incarnation (servers/retry.ts). If the app itself dies, it is booted
 * again from the same boot information: it keeps no state a request needs
 * beyond the request itself.
 *
 * The reply's status is the outcome in HTTP's terms whatever the protocol (200
 * done, 4xx refused, 5xx failed); the bytes on the wire are the protocol's own.
 */
import type { Errno, Payload } from '../protocol.js';
import { Zone, type ZoneSpec } from './dns-zone.js';
import { fail, ok, runTask, type CallTable, type Handle, type ServerContext, type ServerModule } from './server.js';
import { RetryingClient, type RetryPolicy } from './retry.js';

export interface AppBoot {
  /** The DNS zone to serve, if the workload has a dns service. */
  zone?: (ZoneSpec & { seed: string | number }) | null;
  /** Receives kept posted at net: requests the app can serve at once (default 1). */
  receives?: number;
  /** How a call is repeated if its callee restarts under it (default: 5 attempts, waiting up to 10 s). */
  retry?: RetryPolicy;
}
interface AppState {
  zone: Zone | null;
  receives: number;
  disk: RetryingClient<'disk'>;
  net: RetryingClient<'net'>;
}
const encoder = new TextEncoder();

const REASON: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  503: 'Service Unavailable',
};

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, waitMs: 10_000 };

function init(boot: AppBoot, ctx: ServerContext): AppState {
  const z = boot.zone;
  const receives = boot.receives ?? 1;
  if (!Number.isInteger(receives) || receives < 1) throw new RangeError(`app: receives must be a positive integer, got ${receives}`);
  const retry = boot.retry ?? DEFAULT_RETRY;
  return {
    zone: z ? new Zone(z, z.seed) : null,
    receives,
    disk: new RetryingClient('disk', ctx, retry),
    net: new RetryingClient('net', ctx, retry),
  };
}

/** Errors after which a receive loop stops: the wire closed, or net is gone for good or not granted. */
const FINAL: ReadonlySet<Errno> = new Set<Errno>(['ESHUTDOWN', 'ESERVERFAILED', 'ECALLDENIED']);

/** The main loop: `receives` receive loops, until the wire closes. */
async function start(st: AppState, ctx: ServerContext): Promise<void> {
  await Promise.all(Array.from({ length: st.receives }, () => receiveLoop(st, ctx)));
}

async function receiveLoop(st: AppState, ctx: ServerContext): Promise<void> {
  let refused = 0;
  for (;;) {
    const r = await st.net.call(ctx, { type: 'NET_ACCEPT' });
    if (!r.ok) {
      // a refusal that is not final (a malformed reply, a restart that took
      // too long) costs this receive one more try, up to a bound
      if (FINAL.has(r.errno) || ++refused > 100) return;
      continue;
    }
    refused = 0;
    // the response goes out through the incarnation of net that holds the connection;
    // what the request's calls mapped in is released when it is served
    const req = r.value;
    const via = st.net.handle;
    await runTask(ctx, (c) => doRequest(st, req, c, via), req.reqId);
  }
}

/** The file `GET /` serves (the directory index), if the image has one. */
export const INDEX_PATH = '/index.html';

/** Content-Type by file extension; any other file is application/octet-stream. */
const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  json: 'application/json',
  svg: 'image/svg+xml',
  png: 'image/png',
  gif: 'image/gif',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  pdf: 'application/pdf',
};

/** The Content-Type of the file at `path`, by its extension. */
export function contentType(path: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(path.slice(path.lastIndexOf('/') + 1))?.[1].toLowerCase();
  return (ext !== undefined && Object.hasOwn(CONTENT_TYPES, ext) ? CONTENT_TYPES[ext] : undefined) ?? 'application/octet-stream';
}

/**
 * The file a request target names, or null if it names none the server will
 * look up. Only origin-form targets (`/a/b`, a query after `?` ignored) are
 * taken; percent-escapes are decoded as UTF-8, strictly (an overlong or
 * invalid sequence is refused). Refused before any lookup: an escaped `/`,
 * `\` or NUL, any control character, a backslash, an empty segment (`//`),
 * and `.` or `..` segments. So a target can name only a path as the file
 * system stores it, and nothing outside the file set.
 */
export function targetPath(target: string): string | null {
  if (!target.startsWith('/')) return null;
  const raw = target.split('?')[0];
  if (raw.includes('\\') || raw.includes('#')) return null;
  if (/%(?![0-9A-Fa-f]{2})/.test(raw) || /%(2f|5c|00)/i.test(raw)) return null;
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return null; // not UTF-8 (an overlong encoding among them)
  }
  if (/[\u0000-\u001f\u007f-\u009f\\]/.test(path)) return null; // C0, DEL and C1 controls
  const segments = path.split('/').slice(1);
  if (segments.slice(0, -1).some((x) => x === '') || segments.some((x) => x === '.' || x === '..')) return null;
  return path === '/' ? INDEX_PATH : path;
}

/** An HTTP request line: GET or HEAD of a file, or the status to answer with (and the version to answer in). */
export type HttpRequest = { method: 'GET' | 'HEAD'; path: string; version: HttpVersion } | { status: number; version: HttpVersion };
type HttpVersion = '1.0' | '1.1';

/** Parse "METHOD target HTTP/1.x" (the simulated clients send GET in HTTP/1.0; real ones anything). */
export function parseRequestLine(line: unknown): HttpRequest {
  if (typeof line !== 'string') return { status: 400, version: '1.0' };
  const m = /^([A-Z]+) (\S+) HTTP\/(1\.[01])$/.exec(line);
  if (!m) return { status: 400, version: line.endsWith(' HTTP/1.1') ? '1.1' : '1.0' };
  const version = m[3] as HttpVersion;
  if (m[1] !== 'GET' && m[1] !== 'HEAD') return { status: 405, version };
  const path = targetPath(m[2]);
  return path === null ? { status: 400, version } : { method: m[1], path, version };
}

/** A parsed request, or the protocol it was meant for and why it is refused. */
export type AppRequest =
  | { protocol: 'http'; method: 'GET' | 'HEAD'; path: string; version: HttpVersion }
  | { protocol: 'ftp'; path: string }
  | { protocol: 'nfs'; op: 'READ' | 'WRITE'; path: string; offset: number; count: number }
  | { protocol: 'dns'; name: string }
  | { protocol: 'http' | 'ftp' | 'nfs' | 'dns'; refused: number; what?: string; version?: HttpVersion };

const PROTOCOL_OF: Record<string, 'ftp' | 'nfs' | 'dns'> = { RETR: 'ftp', READ: 'nfs', WRITE: 'nfs', QUERY: 'dns' };
const MAX_OFFSET = 2 ** 32;

/** Which protocol a request line speaks (HTTP if it ends in its version, else by its first word), and what it asks. */
export function parseRequest(line: unknown): AppRequest {
  if (typeof line !== 'string') return { protocol: 'http', refused: 400, version: '1.0' };
  const verb = /^[A-Z]+/.exec(line)?.[0] ?? '';
  const protocol = / HTTP\/\d\.\d$/.test(line) || !Object.hasOwn(PROTOCOL_OF, verb) ? 'http' : PROTOCOL_OF[verb];
  switch (protocol) {
    case 'http': {
      const r = parseRequestLine(line);
      return 'path' in r ? { protocol, ...r } : { protocol, refused: r.status, version: r.version };
    }
    case 'ftp': {
      const m = /^RETR (\/\S*)$/.exec(line);
      return m ? { protocol, path: m[1] } : { protocol, refused: 400 };
    }
    case 'nfs': {
      const m = /^(READ|WRITE) (\/\S*) (0|[1-9][0-9]{0,9}) (0|[1-9][0-9]{0,9})$/.exec(line);
      const offset = Number(m?.[3]);
      const count = Number(m?.[4]);
      if (!m || offset >= MAX_OFFSET || count >= MAX_OFFSET) return { protocol, refused: 400 };
      return { protocol, op: m[1] as 'READ' | 'WRITE', path: m[2], offset, count };
    }
    case 'dns': {
      const m = /^QUERY ([a-z0-9.-]{1,253}) ([A-Z]{1,10})$/.exec(line);
      if (!m) return { protocol, refused: 400 };
      return m[2] === 'A' ? { protocol, name: m[1] } : { protocol, refused: 405, what: `${m[1]} ${m[2]}` };
    }
  }
}

/** An HTTP response head: status line, Content-Type, Content-Length, any more headers, and the blank line. */
export function httpHead(version: string, status: number, type: string, length: number, more = ''): string {
  return `HTTP/${version} ${status} ${REASON[status] ?? ''}\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\n${more}\r\n`;
}

/**
 * Status -> the protocol's own refusal or failure: for HTTP a head and a
 * one-line text body (none to HEAD, even one refused before its target is
 * known: `headOnly` says the request line's method is HEAD).
 */
function errorHead(req: AppRequest, status: number, what: string, headOnly: boolean): string {
  switch (req.protocol) {
    case 'http': {
      const body = `${status} ${REASON[status] ?? ''}\n`;
      const allow = status === 405 ? 'Allow: GET, HEAD\r\n' : '';
      const head = httpHead(req.version ?? '1.0', status, 'text/plain; charset=utf-8', body.length, allow);
      return headOnly ? head : head + body;
    }
    case 'ftp':
      return status === 404
        ? `550 ${what}: No such file or directory\r\n`
        : status < 500
          ? '500 Syntax error, command unrecognized\r\n'
          : '451 Requested action aborted: local error in processing\r\n';
    case 'nfs':
      return `${status === 404 ? 'NFS3ERR_NOENT' : status === 413 ? 'NFS3ERR_FBIG' : status < 500 ? 'NFS3ERR_INVAL' : 'NFS3ERR_IO'}\r\n`;
    case 'dns':
      return `;; QUERY ${what}: ${status === 404 ? 'NXDOMAIN' : status === 405 ? 'NOTIMP' : status < 500 ? 'FORMERR' : 'SERVFAIL'}, 0 answers\r\n`;
  }
}

/** Serve one request taken off the wire; its response goes out through `via`. */
async function doRequest(st: AppState, msg: { reqId: number; request: string; body?: Payload }, ctx: ServerContext, via: Handle<'net'>) {
  ctx.counters.add('appRequests');
  const req = parseRequest(msg.request);
  const respond = (status: number, head: string, data?: Payload, tail?: string) => send(ctx, via, msg.reqId, status, head, data, tail);
  // a HEAD gets no body even when it is refused at parsing (a bad target), where req has no method
  const headOnly = req.protocol === 'http' && typeof msg.request === 'string' && msg.request.startsWith('HEAD ');
  const refuse = (status: number, what = '') => respond(status, errorHead(req, status, what, headOnly));
  if ('refused' in req) return refuse(req.refused, req.what ?? (req.protocol === 'dns' ? '?' : ''));

  if (req.protocol === 'dns') {
    const found = st.zone?.lookup(req.name) ?? null;
    if (!found) return refuse(404, `${req.name} A`);
    // the reply packet: header and answer records composed into one new buffer
    return respond(200, `;; QUERY ${req.name} A: NOERROR, ${found.records} answers\r\n${found.answer}`);
  }

  const write = req.protocol === 'nfs' && req.op === 'WRITE' ? req : null;
  const body = Array.isArray(msg.body) ? msg.body : [];
  // a WRITE whose data do not match its COUNT is refused before anything is looked up
  if (write && body.reduce((n, s) => n + (s instanceof Uint8Array ? s.length : NaN), 0) !== write.count) return refuse(400);

  const found = await st.disk.call(ctx, { type: 'DISK_LOOKUP', path: req.path });
  if (!found.ok) return refuse(found.errno === 'ENOENT' ? 404 : 503, req.path);
  const { ino, size } = found.value;
  // HEAD: the headers a GET would get, without reading the file
  if (req.protocol === 'http' && req.method === 'HEAD') return respond(200, httpHead(req.version, 200, contentType(req.path), size));

  if (write) {
    const wrote = await st.disk.call(ctx, { type: 'DISK_WRITE', ino, offset: write.offset, data: body });
    // past the end of the file is the client's mistake; anything else is the server's
    if (!wrote.ok) return refuse(wrote.errno === 'EFBIG' ? 413 : 503, req.path);
    return respond(200, `NFS3_OK WRITE ${wrote.value.length} FILE_SYNC\r\n`);
  }

  const [offset, length] = req.protocol === 'nfs' ? [req.offset, req.count] : [0, size];
  const read = await st.disk.call(ctx, { type: 'DISK_READ', ino, offset, length });
  if (!read.ok) return refuse(503, req.path);
  const data = read.value.data;
  const n = read.value.length;
  switch (req.protocol) {
    case 'http':
      return respond(200, httpHead(req.version, 200, contentType(req.path), n), data);
    case 'ftp':
      return respond(200, `150 Opening BINARY mode data connection for ${req.path} (${n} bytes)\r\n`, data, '226 Transfer complete\r\n');
    case 'nfs':
      return respond(200, `NFS3_OK READ ${n} ${offset + n >= size ? 'EOF' : 'MORE'}\r\n`, data);
  }
}

/**
 * Send `head`, the data and `tail` out through net. The head and tail are new
 * buffers each time (a transport may move them); the data are views of cached
 * blocks, passed on as they are. A send that fails (net died, and the
 * connection with it) is not repeated: the client saw its connection reset.
 * Resolves with the status sent and the data bytes, or the send's error.
 */
async function send(ctx: ServerContext, via: Handle<'net'>, reqId: number, status: number, head: string, data: Payload = [], tail?: string) {
  const body = [encoder.encode(head), ...data];
  if (tail !== undefined) body.push(encoder.encode(tail));
  const length = data.reduce((n, s) => n + s.length, 0);
  const sent = await ctx.call(via, { type: 'NET_SEND', reqId, status, body });
  if (!sent.ok) return fail(sent.errno, sent.detail);
  return ok({ status, bodyBytes: length });
}

/** Serve one request outside the main loop (tests drive the handlers this way). */
export function serveRequest(state: unknown, msg: { reqId: number; request: string; body?: Payload }, ctx: ServerContext) {
  const st = state as AppState;
  return doRequest(st, msg, ctx, st.net.handle);
}

const calls = {} satisfies CallTable<'app', AppState>;

/** The app server: the web, ftp, nfs and dns service, a client of disk and net with a loop of its own. */
export const app: ServerModule<'app', AppState, AppBoot> = { name: 'app', init, calls, start };
