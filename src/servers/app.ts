/**
 * app — the application server: an HTTP-like static file server.
 *
 * APP_GET parses a request line ("GET /path HTTP/1.0"), finds the file on the
 * disk server, reads it, and sends header + file out through the net server. It
 * reaches disk and net only by `call`.
 *
 * A file is read with one DISK_READ: the disk then sees reads in the order their
 * lookups were answered, which is request order in every kernel, so the buffer
 * cache's hits and misses do not depend on thread timing.
 */
import type { Errno, Payload } from '../protocol.js';
import { fail, ok, type CallTable, type ServerContext, type ServerModule } from './server.js';

export type AppBoot = Record<string, never>;
type AppState = Record<string, never>;
const encoder = new TextEncoder();

const REASON: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  503: 'Service Unavailable',
};

function init(): AppState {
  return {};
}

/** Parse "METHOD /path HTTP/x.y"; the path, or the status to answer with. */
export function parseRequestLine(line: unknown): { path: string } | { status: number } {
  if (typeof line !== 'string') return { status: 400 };
  const m = /^([A-Z]+) (\/[^\s]*) HTTP\/1\.[01]$/.exec(line);
  if (!m) return { status: 400 };
  if (m[1] !== 'GET') return { status: 405 };
  return { path: m[2] };
}

async function doGet(st: AppState, msg: { reqId: number; request: string }, ctx: ServerContext) {
  ctx.counters.add('appRequests');
  const req = parseRequestLine(msg.request);
  if ('status' in req) return respond(st, ctx, msg.reqId, req.status, []);

  const found = await ctx.call('disk', { type: 'DISK_LOOKUP', path: req.path });
  if (!found.ok) return respond(st, ctx, msg.reqId, found.errno === 'ENOENT' ? 404 : 503, []);
  const { ino, size } = found.value;
  const read = await ctx.call('disk', { type: 'DISK_READ', ino, offset: 0, length: size });
  if (!read.ok) return respond(st, ctx, msg.reqId, 503, []);
  return respond(st, ctx, msg.reqId, 200, read.value.data);
}

/** Send status + body out through net; the reply to APP_GET. */
async function respond(_st: AppState, ctx: ServerContext, reqId: number, status: number, body: Payload) {
  const length = body.reduce((n, s) => n + s.length, 0);
  const head = `HTTP/1.0 ${status} ${REASON[status] ?? ''}\r\nContent-Length: ${length}\r\n\r\n`;
  const sent = await ctx.call('net', { type: 'NET_SEND', reqId, status, body: [encoder.encode(head), ...body] });
  if (!sent.ok) return fail(sent.errno as Errno, sent.detail);
  return ok({ status, bodyBytes: length });
}

const calls = {
  APP_GET: doGet,
} satisfies CallTable<'app', AppState>;

export const app: ServerModule<'app', AppState, AppBoot> = { name: 'app', init, calls };
