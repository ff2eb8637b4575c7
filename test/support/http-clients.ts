/**
 * HTTP clients for the `serve` tests, on 127.0.0.1: one GET whose every step
 * is bounded; a load of keep-alive clients each sending its requests one
 * after another on a connection of its own; and a raw connection whose reads
 * can be held back (a slow reader) and whose responses are parsed from its
 * bytes. Nothing here waits unbounded: a request that gets no answer in time
 * ends as 'timeout', and every wait on a connection has a deadline.
 */
import http from 'node:http';
import net from 'node:net';

/** What one request got: a status and its body's length, or the error that ended it. */
export type Got = { status: number; bytes: number; connection: string | undefined } | { error: string };

/** GET `path` from `port` (with `agent`, or a connection of its own), at most `timeoutMs`. */
export function get(port: number, path: string, opts: { agent?: http.Agent; timeoutMs?: number } = {}): Promise<Got> {
  return new Promise((resolve) => {
    let done = false;
    const end = (g: Got) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(g);
    };
    const req = http.get({ host: '127.0.0.1', port, path, agent: opts.agent ?? false }, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => end({ status: res.statusCode!, bytes, connection: res.headers.connection }));
      res.on('error', (e: NodeJS.ErrnoException) => end({ error: e.code ?? e.message }));
      res.on('aborted', () => end({ error: 'aborted' }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => end({ error: e.code ?? e.message }));
    const timer = setTimeout(() => {
      end({ error: 'timeout' });
      req.destroy();
    }, opts.timeoutMs ?? 5000);
  });
}

/** GET `path` until it answers with a status, retrying a refused or reset connection every `gapMs`, at most `tries` times. */
export async function getUntilAnswered(port: number, path: string, opts: { tries?: number; gapMs?: number } = {}): Promise<{ got: Got; tries: number }> {
  const tries = opts.tries ?? 100;
  let got: Got = { error: 'never tried' };
  for (let i = 1; i <= tries; i++) {
    got = await get(port, path);
    if ('status' in got) return { got, tries: i };
    await new Promise((r) => setTimeout(r, opts.gapMs ?? 20));
  }
  return { got, tries };
}

export interface Load {
  /** Each request's outcome, in the order they ended (refused connects retried are not requests). */
  got: Got[];
  /** Connects refused (and retried): none reached the server. */
  refused: number;
}

/**
 * `clients` keep-alive clients, each sending `perClient` GETs of `paths` (in
 * turn) one after another on a connection of its own; a connection that is
 * reset is replaced by a new one for the next request. A request refused at
 * connect never reached the server: it is tried again after `gapMs` (at most
 * `maxRefused` times in all, then it counts as refused).
 */
export async function load(port: number, opts: { clients: number; perClient: number; paths: readonly string[]; gapMs?: number; maxRefused?: number; timeoutMs?: number }): Promise<Load> {
  const got: Got[] = [];
  let refused = 0;
  const maxRefused = opts.maxRefused ?? 2000;
  const client = async (c: number) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < opts.perClient; i++) {
        const path = opts.paths[(c * opts.perClient + i) % opts.paths.length];
        for (;;) {
          const g = await get(port, path, { agent, timeoutMs: opts.timeoutMs ?? 10_000 });
          if ('error' in g && g.error === 'ECONNREFUSED' && refused < maxRefused) {
            refused++;
            await new Promise((r) => setTimeout(r, opts.gapMs ?? 10));
            continue;
          }
          got.push(g);
          break;
        }
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all(Array.from({ length: opts.clients }, (_, c) => client(c)));
  return { got, refused };
}

/** How many of `got` ended with each status or error. */
export function tally(got: readonly Got[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const g of got) {
    const k = 'status' in g ? String(g.status) : g.error;
    t[k] = (t[k] ?? 0) + 1;
  }
  return t;
}

/** One response parsed off a connection's bytes. */
export interface Parsed {
  status: number;
  headers: Record<string, string>;
  /** Body bytes received (all of Content-Length if `complete`). */
  bodyBytes: number;
  complete: boolean;
}

/** The responses in `buf`, in order (bodies framed by Content-Length; the last may be incomplete). */
export function parseResponses(buf: Buffer): Parsed[] {
  const out: Parsed[] = [];
  let at = 0;
  while (at < buf.length) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const [statusLine, ...lines] = buf.toString('latin1', at, end).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3}) /.exec(statusLine)?.[1] ?? NaN);
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const length = Number(headers['content-length'] ?? 0);
    const bodyBytes = Math.min(length, buf.length - (end + 4));
    out.push({ status, headers, bodyBytes, complete: bodyBytes === length });
    at = end + 4 + bodyBytes;
    if (bodyBytes < length) break;
  }
  return out;
}

/** A raw connection to 127.0.0.1: what it received, whether (and how) it closed, and bounded waits on both. */
export class Conn {
  readonly sock: net.Socket;
  private chunks: Buffer[] = [];
  private waiters: (() => void)[] = [];
  /** The error that ended it (ECONNREFUSED, ECONNRESET), if one did. */
  error: string | undefined;
  /** The client closed it (`destroy`). */
  private byClient = false;
  /** Resolves when it closed: by the server (no error), by a reset or refusal (`error`), or by `destroy`. */
  readonly closed: Promise<{ byServer: boolean; error?: string }>;
  private isClosed = false;

  constructor(port: number) {
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.wake();
    });
    this.sock.on('error', (e: NodeJS.ErrnoException) => (this.error = e.code ?? e.message));
    this.closed = new Promise((resolve) =>
      this.sock.on('close', () => {
        this.isClosed = true;
        this.wake();
        resolve({ byServer: !this.byClient && !this.error, ...(this.error ? { error: this.error } : {}) });
      }),
    );
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(text: string): void {
    this.sock.write(text);
  }

  get bytes(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  get responses(): Parsed[] {
    return parseResponses(this.bytes);
  }

  /** Resolves once `ready(this)` holds; rejects after `ms` (or if it closed without `ready`). */
  until(ready: (c: Conn) => boolean, ms: number, what = 'the condition'): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms (${this.bytes.length} bytes received)`)), ms);
      const check = () => {
        if (ready(this)) {
          clearTimeout(timer);
          resolve();
        } else if (this.isClosed) {
          clearTimeout(timer);
          reject(new Error(`${what}: the connection closed first (${this.error ?? 'no error'}; ${this.bytes.length} bytes received)`));
        } else this.waiters.push(check);
      };
      check();
    });
  }

  /** Resolves when it has closed; rejects after `ms`. */
  closedWithin(ms: number): Promise<{ byServer: boolean; error?: string }> {
    return within(this.closed, ms, 'the connection closing');
  }

  destroy(): void {
    this.byClient = true;
    this.sock.destroy();
  }
}

/** `p`, or a rejection naming `what` after `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}
