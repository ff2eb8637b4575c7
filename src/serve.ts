/**
 * `serve()`: the simulated system as a dedicated web server for real clients.
 *
 * The same kernels and servers as `run()`, booted the same way; only net's
 * device differs: a socket on a loopback port (wire/socket.ts), in net's own
 * domain, instead of the simulated clients' NIC. Requests flow through the
 * kernel as simulated ones do, with the same counters and pricing. The report
 * is run()'s, over the requests served until the stop, with what the socket
 * saw (`http`).
 */
import { z } from 'zod';
import { PACKAGE } from './paths.js';
import { ConfigError } from './config.js';
import { RANGES, zRange } from './limits.js';
import { defined, type RunOptions } from './options.js';
import { execute, resolveRun, type RunReport } from './run.js';
import { INDEX_PATH } from './servers/app.js';
import { mkfs, type FileSpec } from './servers/fs.js';
import { fileSet } from './workload/generate.js';
import type { Workload } from './workload/schema.js';
import type { Machine } from './boot.js';
import { newRegisters } from './wire/registers.js';
import { ServeLink, urlOf, type HttpReport } from './wire/serve-link.js';
import type { ServeSpec } from './wire/socket.js';

/** What `serve()` accepts: run()'s options but the simulated clients' (real clients decide what they send), and the socket's. */
export interface ServeOptions extends Omit<RunOptions, 'requests' | 'clients' | 'arrival' | 'durationMs' | 'abortSignal'> {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** TCP port (default 8080; 0 picks a free one, reported to onListening and in the report). */
  port?: number;
  /** Connections open at once (default 256); more are closed as they arrive. */
  maxConnections?: number;
  /** A request's headers must be in within this long (default 10000 ms): slow clients are cut off with 408. */
  headersTimeoutMs?: number;
  /** A keep-alive connection idle this long between requests is closed (default 5000 ms). */
  idleTimeoutMs?: number;
  /** A whole request, and any silence on a connection, at most this long (default 30000 ms). */
  requestTimeoutMs?: number;
  /** Bytes of request line and headers (default 16384): more is 431 (414 if the request line alone is longer). */
  maxHeaderBytes?: number;
  /** Bytes of the request target (default 4096): more is 414. */
  maxUriBytes?: number;
  /** On stop, how long responses in flight get to finish (default 10000 ms). */
  drainTimeoutMs?: number;
  /** Stop when this aborts: no new connections, responses in flight finish, then the report. */
  abortSignal?: AbortSignal;
  /** Called once the socket is bound, with its URL (http://HOST:PORT/). */
  onListening?: (url: string) => void;
}

/** The socket options' defaults (ms for timeouts, bytes for sizes): what `serve()` uses for an option not given. */
export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  maxConnections: 256,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 5_000,
  requestTimeoutMs: 30_000,
  maxHeaderBytes: 16 * 1024,
  maxUriBytes: 4096,
  drainTimeoutMs: 10_000,
} as const;

const SOCKET_FIELDS = ['host', 'port', 'maxConnections', 'headersTimeoutMs', 'idleTimeoutMs', 'requestTimeoutMs', 'maxHeaderBytes', 'maxUriBytes', 'drainTimeoutMs', 'onListening'] as const;
const CLIENT_FIELDS = ['requests', 'clients', 'arrival', 'durationMs'] as const;

const SocketSchema = z.strictObject({
  host: z.string({ error: 'must be an address or host name' }).min(1, { error: 'must be an address or host name' }).default(SERVE_DEFAULTS.host),
  port: zRange(RANGES.port).default(SERVE_DEFAULTS.port),
  maxConnections: zRange(RANGES.maxConnections).default(SERVE_DEFAULTS.maxConnections),
  headersTimeoutMs: zRange(RANGES.headersTimeoutMs).default(SERVE_DEFAULTS.headersTimeoutMs),
  idleTimeoutMs: zRange(RANGES.idleTimeoutMs).default(SERVE_DEFAULTS.idleTimeoutMs),
  requestTimeoutMs: zRange(RANGES.requestTimeoutMs).default(SERVE_DEFAULTS.requestTimeoutMs),
  maxHeaderBytes: zRange(RANGES.maxHeaderBytes).default(SERVE_DEFAULTS.maxHeaderBytes),
  maxUriBytes: zRange(RANGES.maxUriBytes).default(SERVE_DEFAULTS.maxUriBytes),
  drainTimeoutMs: zRange(RANGES.drainTimeoutMs).default(SERVE_DEFAULTS.drainTimeoutMs),
  onListening: z.custom<(url: string) => void>((v) => typeof v === 'function', { error: 'must be a function' }).optional(),
});

/** The report of a `serve`: run()'s, and what the socket saw. */
export interface ServeReport extends RunReport {
  http: HttpReport;
}

/** The socket could not listen (the address in use, no permission): nothing was served. */
export class ListenError extends Error {
  override name = 'ListenError';
}

/** The options split: the socket's checked and completed, the rest as run() takes them. */
export function parseServeOptions(options: ServeOptions = {}): { socket: z.output<typeof SocketSchema>; run: RunOptions; abortSignal?: AbortSignal } {
  if (typeof options !== 'object' || options === null) throw new ConfigError('options', { reason: 'must be an object' });
  const given = options as Record<string, unknown>;
  for (const f of CLIENT_FIELDS) {
    if (given[f] !== undefined) throw new ConfigError(f, { reason: 'does not apply to serve: real clients decide what they send' });
  }
  const socketPart = Object.fromEntries(SOCKET_FIELDS.filter((f) => given[f] !== undefined).map((f) => [f, given[f]]));
  const r = SocketSchema.safeParse(socketPart);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue.path.map(String).join('.');
    throw new ConfigError(field, { reason: issue.message, given: given[field] });
  }
  const s = r.data;
  if (s.headersTimeoutMs > s.requestTimeoutMs) throw new ConfigError('headersTimeoutMs', { reason: 'must be at most {requestTimeoutMs}', given: s.headersTimeoutMs });
  const rest = Object.fromEntries(Object.entries(given).filter(([k]) => !(SOCKET_FIELDS as readonly string[]).includes(k) && k !== 'abortSignal')) as RunOptions;
  if (given.abortSignal !== undefined && !(given.abortSignal instanceof AbortSignal)) throw new ConfigError('abortSignal', { reason: 'must be an AbortSignal' });
  return { socket: s, run: rest, ...defined({ abortSignal: given.abortSignal as AbortSignal | undefined }) };
}

/**
 * The index page `GET /` serves: every file of the workload, linked, with its
 * size. Self-contained HTML (no scripts, styles or fetches).
 */
export function indexPage(w: Workload, files: readonly FileSpec[]): string {
  const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const rows = files.map((f) => `<li><a href="${esc(encodeURI(f.path))}">${esc(f.path)}</a> ${f.size.toLocaleString('en-US')} bytes</li>`);
  return [
    '<!doctype html>',
    '<html lang="en">',
    `<head><meta charset="utf-8"><title>microlith: ${esc(w.name)}</title></head>`,
    '<body>',
    `<h1>${esc(w.name)}</h1>`,
    `<p>${files.length} files of the workload's file set (seed ${esc(String(w.seed))}), served by microlith's app server through its kernel.</p>`,
    '<ul>',
    ...rows,
    '</ul>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** The machine `serve` boots: the workload's files and the index page on one image. */
function serveMachine(w: Workload): Machine {
  const files = fileSet(w);
  const index = new TextEncoder().encode(indexPage(w, files));
  const image = mkfs([...files, { path: INDEX_PATH, size: index.length, data: index }], w.seed);
  return { image, seed: w.seed, zone: null };
}

const aborted = (signal: AbortSignal | undefined) =>
  new Promise<void>((res) => {
    if (!signal) return;
    if (signal.aborted) return res();
    signal.addEventListener('abort', () => res(), { once: true });
  });

/**
 * Serve the workload's files over HTTP until `abortSignal` aborts (or the
 * system goes down: a monolith's panic, or net given up), then report.
 * Rejects with a ConfigError before anything starts, or a ListenError if the
 * socket cannot be bound.
 */
export async function serve(options: ServeOptions = {}): Promise<ServeReport> {
  const { socket, run: runOptions, abortSignal } = parseServeOptions(options);
  // the app serves at most this many requests at once (more wait in net's queue): what sizes the pool
  const resolved = resolveRun({ ...runOptions, clients: Math.min(socket.maxConnections, RANGES.clients.max) });
  const w = resolved.workload;
  if (!w.fileSet) throw new ConfigError('workload', { reason: 'has no file set to serve over HTTP', given: w.name });
  const cfg = resolved.cfg;
  const spec: ServeSpec = {
    host: socket.host,
    port: socket.port,
    maxConnections: socket.maxConnections,
    headersTimeoutMs: socket.headersTimeoutMs,
    idleTimeoutMs: socket.idleTimeoutMs,
    requestTimeoutMs: socket.requestTimeoutMs,
    maxHeaderBytes: socket.maxHeaderBytes,
    maxUriBytes: socket.maxUriBytes,
    drainTimeoutMs: socket.drainTimeoutMs,
    serverName: `microlith/${PACKAGE.version} (${cfg.mode === 'monolithic' ? 'monolithic' : `microkernel; ${cfg.transport}; ${cfg.signal}`})`,
  };
  cfg.serve = spec;
  const regs = newRegisters(0);
  const link = new ServeLink(spec, regs);
  let listenError: Error | null = null;
  const report = await execute(resolved, { machine: serveMachine(w), regs, link, writes: false, countIssued: true }, async () => {
    let bound;
    try {
      bound = await Promise.race([link.listening, link.down.then(() => null)]);
    } catch (e) {
      listenError = e as Error;
      await link.close();
      return { elapsedMs: 0, latencyUs: link.latencySummary(), endedBy: 'stop', pacing: null, resent: 0, secondHalfOkPerSec: null };
    }
    const t0 = performance.now();
    if (bound) socket.onListening?.(urlOf(bound.host, bound.port));
    await Promise.race([aborted(abortSignal), link.down]);
    // no new connections; what is in flight finishes; then the wire closes and the servers' loops end
    await link.stop();
    await link.close();
    return { elapsedMs: performance.now() - t0, latencyUs: link.latencySummary(), endedBy: 'stop', pacing: null, resent: 0, secondHalfOkPerSec: null };
  });
  if (listenError) throw new ListenError((listenError as Error).message);
  return { ...report, config: { ...report.config, requests: report.workload.requests, clients: spec.maxConnections }, http: link.report() };
}
