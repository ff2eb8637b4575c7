/**
 * Test support for `serve`: start one in this process on a free loopback
 * port, stop it for its report, and talk to it with raw bytes over a socket.
 * Every wait here is bounded, so a test that goes wrong fails instead of
 * hanging.
 */
import net from 'node:net';
import { serve, type ServeOptions, type ServeReport } from '../../src/serve.js';

export interface Serving {
  url: string;
  port: number;
  /** Stop (as Ctrl-C does) and resolve with the report. */
  stop(): Promise<ServeReport>;
  /** The report once serving ended (after stop, or the system went down). */
  ended: Promise<ServeReport>;
}

/** Serve on 127.0.0.1, a free port, with `opts`; resolves once it listens. */
export async function startServe(opts: ServeOptions = {}): Promise<Serving> {
  const ac = new AbortController();
  let listening!: (url: string) => void;
  const bound = new Promise<string>((res) => (listening = res));
  const ended = serve({ host: '127.0.0.1', port: 0, ...opts, abortSignal: ac.signal, onListening: (url) => listening(url) });
  const url = await Promise.race([bound, ended.then((r) => Promise.reject(new Error(`serve ended before it listened: ${r.problems.join('; ')}`)))]);
  return {
    url,
    port: Number(new URL(url).port),
    ended,
    stop: () => {
      ac.abort();
      return ended;
    },
  };
}

export interface RawAnswer {
  /** Everything the server sent, as latin1 text. */
  text: string;
  /** The server closed the connection (else the client gave up after `waitMs`). */
  closedByServer: boolean;
  /** The connection was reset or refused (the error code), if it was. */
  error?: string;
  ms: number;
}

/**
 * Connect to `port`, send `chunks` (each after `gapMs`), and collect what comes
 * back until the server closes the connection or `waitMs` passes after the last
 * chunk (then the client closes it).
 */
export function rawExchange(port: number, chunks: (string | Buffer)[], opts: { waitMs?: number; gapMs?: number } = {}): Promise<RawAnswer> {
  const waitMs = opts.waitMs ?? 1000;
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    let error: string | undefined;
    let byClient = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    s.on('data', (d) => got.push(d));
    s.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(got).toString('latin1'), closedByServer: !byClient && !error, ...(error ? { error } : {}), ms: performance.now() - t0 });
    });
    s.on('connect', async () => {
      for (const [i, c] of chunks.entries()) {
        if (i > 0 && opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
        if (s.destroyed) return;
        s.write(c);
      }
      timer = setTimeout(() => {
        byClient = true;
        s.destroy();
      }, waitMs);
    });
  });
}

/** The status codes of every response in `text`, in order. */
export function statusesOf(text: string): number[] {
  return [...text.matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
}
