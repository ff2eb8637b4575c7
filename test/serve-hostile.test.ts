/**
 * `serve` against hostile clients, over raw sockets, in both kernels: targets
 * that try to leave the file set, requests past the size limits, framing that
 * request smuggling lives on, slowloris and idle connections, and more
 * connections than allowed. Each is answered with a refusal (or the
 * connection is closed), never with something outside the file set, and
 * nothing a client sends crashes a server.
 *
 * One serve per kernel with the default limits; the timeouts and the
 * connection limit get a serve each with small values. Every wait is bounded.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ServeOptions, ServeReport } from '../src/serve.js';
import { SERVE_DEFAULTS } from '../src/serve.js';
import { fileContents, parseResponses } from './support/served.js';
import { rawExchange, startServe, statusesOf, type Serving } from './support/serving.js';

/** A request with Host, asking the server to close after its response. */
const req = (target: string, method = 'GET') => `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;

/** Targets that try to name something outside the file set, or a file of it by another name. */
const TRAVERSALS = [
  '/../etc/passwd',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/dir000/%2e%2e/dir000/class0_0',
  '/dir000%2fclass0_0',
  '/dir000/class0_0%00',
  '/dir000\\class0_0',
  '//etc/passwd',
  'http://127.0.0.1/dir000/class0_0',
  '/%c0%ae%c0%ae/etc/passwd',
  '/%e0%80%ae%e0%80%ae/x',
  '/./dir000/class0_0',
  '/dir000/./class0_0',
  '/dir000/class0_0/..',
  '/%2E%2E/etc/passwd',
];

/** A keep-alive request with Host. */
const keep = (target: string, method = 'GET') => `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;

/** The responses in the bytes read off one connection, in order (`heads[i]`: the i-th answers a HEAD); throws unless they are whole responses back to back. */
const responses = (text: string, heads: boolean[] = []) => parseResponses(Buffer.from(text, 'latin1'), heads);

/** Report checks for any serve here: no server crashed, no fault, nothing failed or left pending. */
function expectNoCrash(r: ServeReport): void {
  expect(r.faults).toEqual([]);
  for (const [name, s] of Object.entries(r.servers)) {
    expect(s.crashed, name).toBe(false);
    expect(s.restarts, name).toBe(0);
  }
  expect(r.outcomes.fail).toBe(0);
  expect(r.outcomes.pending).toBe(0);
  expect(r.http.events.reset + r.http.events.unavailable + r.http.events.badResponse).toBe(0);
  // 'incomplete' only if some client went away before its response
  if (r.status !== 'ok') {
    expect(r.status).toBe('incomplete');
    expect(r.http.events.aborted).toBeGreaterThan(0);
  }
}

/** A connection that sends `partial` (never a whole request) and holds on; `closed` resolves when the server closes it (at most `maxMs`). */
function hold(port: number, partial: string, maxMs: number): { connected: Promise<void>; closed: Promise<{ text: string; byServer: boolean; ms: number }> } {
  const t0 = performance.now();
  const s = net.connect(port, '127.0.0.1');
  const got: Buffer[] = [];
  let byClient = false;
  const timer = setTimeout(() => {
    byClient = true;
    s.destroy();
  }, maxMs);
  s.on('data', (d) => got.push(d));
  s.on('error', () => {});
  const connected = new Promise<void>((res, rej) => {
    s.once('connect', () => {
      s.write(partial);
      res();
    });
    s.once('close', () => rej(new Error('closed before it connected')));
  });
  void connected.catch(() => {});
  const closed = new Promise<{ text: string; byServer: boolean; ms: number }>((res) =>
    s.once('close', () => {
      clearTimeout(timer);
      res({ text: Buffer.concat(got).toString('latin1'), byServer: !byClient, ms: performance.now() - t0 });
    }),
  );
  return { connected, closed };
}

const MODES: { name: string; opts: ServeOptions }[] = [
  { name: 'monolithic', opts: { mode: 'monolithic' } },
  { name: 'microkernel', opts: { mode: 'microkernel' } },
];

describe.each(MODES)('hostile clients, $name', ({ opts }) => {
  let s: Serving;
  /** Responses the kernel gave (the app's statuses), as the clients saw them. */
  const served: Record<string, number> = {};
  const note = (text: string) => {
    for (const st of statusesOf(text)) served[st] = (served[st] ?? 0) + 1;
  };
  beforeAll(async () => {
    s = await startServe(opts);
  });
  afterAll(async () => {
    await s?.stop();
  });

  describe('a target outside the file set is never served', () => {
    test.each(TRAVERSALS)('GET %s: 400 or 404, nothing of /etc/passwd', async (target) => {
      const a = await rawExchange(s.port, [req(target)], { waitMs: 3000 });
      expect(a.closedByServer).toBe(true);
      const st = statusesOf(a.text);
      expect(st.length).toBe(1);
      expect([400, 404]).toContain(st[0]);
      expect(a.text).not.toContain('root:');
      // the refusal's body is the app's one line, not a file's bytes
      expect(a.text.endsWith(`\r\n\r\n${st[0]} ${st[0] === 400 ? 'Bad Request' : 'Not Found'}\n`)).toBe(true);
      note(a.text);
    });

    test('HEAD of a traversal: refused too, with no body', async () => {
      const a = await rawExchange(s.port, [req('/../etc/passwd', 'HEAD')], { waitMs: 3000 });
      expect(statusesOf(a.text)).toEqual([400]);
      expect(a.text.endsWith('\r\n\r\n')).toBe(true);
      note(a.text);
    });
  });

  describe('size limits', () => {
    test(`a request target over maxUriBytes (${SERVE_DEFAULTS.maxUriBytes}): 414`, async () => {
      const a = await rawExchange(s.port, [req('/' + 'a'.repeat(SERVE_DEFAULTS.maxUriBytes + 10))], { waitMs: 3000 });
      expect(statusesOf(a.text)).toEqual([414]);
      expect(a.closedByServer).toBe(true);
    });

    test(`a request line over maxHeaderBytes (${SERVE_DEFAULTS.maxHeaderBytes}), whole in one write: 414`, async () => {
      const a = await rawExchange(s.port, [req('/' + 'a'.repeat(SERVE_DEFAULTS.maxHeaderBytes + 4000))], { waitMs: 3000 });
      expect(statusesOf(a.text)).toEqual([414]);
      expect(a.closedByServer).toBe(true);
    });

    test('a request line over maxHeaderBytes with no line end yet: 414', async () => {
      const a = await rawExchange(s.port, ['GET /' + 'a'.repeat(SERVE_DEFAULTS.maxHeaderBytes + 4000)], { waitMs: 3000 });
      expect(statusesOf(a.text)).toEqual([414]);
      expect(a.closedByServer).toBe(true);
    });

    test('headers over maxHeaderBytes: 431', async () => {
      const pad = Array.from({ length: 200 }, (_, i) => `X-Pad-${i}: ${'a'.repeat(100)}\r\n`).join('');
      const a = await rawExchange(s.port, [`GET /dir000/class0_0 HTTP/1.1\r\nHost: 127.0.0.1\r\n${pad}\r\n`], { waitMs: 3000 });
      expect(statusesOf(a.text)).toEqual([431]);
      expect(a.closedByServer).toBe(true);
    });

    // the head in more than one read: the status is the overflowing line's, not the last read's first line end
    const big = 'a'.repeat(SERVE_DEFAULTS.maxHeaderBytes + 4000);
    const half = 'a'.repeat(SERVE_DEFAULTS.maxHeaderBytes / 2 + 1000);
    test.each([
      ['one header over maxHeaderBytes, written after the request line, its line end not sent yet', 431, ['GET /dir000/class0_0 HTTP/1.1\r\nHost: 127.0.0.1\r\n', `X-Big: ${big}`]],
      ['one header over maxHeaderBytes, written after the request line, with its line end', 431, ['GET /dir000/class0_0 HTTP/1.1\r\nHost: 127.0.0.1\r\n', `X-Big: ${big}\r\n\r\n`]],
      ['a request line over maxHeaderBytes in two writes', 414, [`GET /${half}`, `${half} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`]],
    ])('%s: %i', async (_what, status, chunks) => {
      const a = await rawExchange(s.port, chunks, { gapMs: 200, waitMs: 3000 });
      expect(statusesOf(a.text)).toEqual([status]);
      expect(a.closedByServer).toBe(true);
    });
  });

  describe('framing', () => {
    test('Content-Length with Transfer-Encoding: chunked: 400, and what was smuggled behind it is not served', async () => {
      const smuggled = 'GET /dir000/class0_0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
      const a = await rawExchange(s.port, [`POST /dir000/class0_1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`], { waitMs: 3000 });
      expect(statusesOf(a.text)).toEqual([400]);
      expect(a.closedByServer).toBe(true);
    });

    test('two different Content-Lengths: 400', async () => {
      const a = await rawExchange(s.port, ['POST /dir000/class0_0 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef'], { waitMs: 3000 });
      expect(statusesOf(a.text)).toEqual([400]);
      expect(a.closedByServer).toBe(true);
    });

    test.each([
      ['an invalid method', 'FOO / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'],
      ['binary garbage', Buffer.from([0x00, 0x01, 0xff])],
      ['a garbage request line', 'hello there\r\n\r\n'],
    ])('%s: 400', async (_what, bytes) => {
      const a = await rawExchange(s.port, [bytes], { waitMs: 3000 });
      expect(statusesOf(a.text)).toEqual([400]);
      expect(a.closedByServer).toBe(true);
    });

    test('CONNECT: 405 with Allow, and the connection closed (no tunnel is opened)', async () => {
      const a = await rawExchange(s.port, ['CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\nSSH-2.0-x\r\n'], { waitMs: 3000 });
      const rs = responses(a.text);
      expect(rs.map((r) => r.status)).toEqual([405]);
      expect(rs[0].headers.allow).toBe('GET, HEAD');
      expect(rs[0].headers.connection).toBe('close');
      expect(a.closedByServer).toBe(true);
    });

    test('HTTP/1.1 without Host: 400 (HTTP/1.0 without one is served)', async () => {
      const a = await rawExchange(s.port, ['GET /dir000/class0_0 HTTP/1.1\r\nConnection: close\r\n\r\n'], { waitMs: 3000 });
      expect(statusesOf(a.text)).toEqual([400]);
      expect(a.text).toContain('\r\nServer: microlith/');
      expect(a.closedByServer).toBe(true);
      const b = await rawExchange(s.port, ['GET /dir000/class0_0 HTTP/1.0\r\n\r\n'], { waitMs: 3000 });
      expect(statusesOf(b.text)).toEqual([200]);
      note(b.text);
    });
  });

  describe('slow and idle connections', () => {
    let slow: Serving;
    const t = { headersTimeoutMs: 300, requestTimeoutMs: 2000, idleTimeoutMs: 300 };
    beforeAll(async () => {
      slow = await startServe({ ...opts, ...t });
    });
    afterAll(async () => {
      await slow?.stop();
    });

    test('slowloris: headers trickling in that never end are cut off with 408, long before the client is done', async () => {
      const lines = ['GET /dir000/class0_0 HTTP/1.1\r\n', 'Host: 127.0.0.1\r\n', ...Array.from({ length: 30 }, (_, i) => `X-Slow-${i}: a\r\n`)];
      // the client would send for 3.1 s and then wait 1 s more
      const a = await rawExchange(slow.port, lines, { gapMs: 100, waitMs: 1000 });
      expect(a.closedByServer).toBe(true);
      expect(a.ms).toBeLessThan(1500);
      expect(statusesOf(a.text).every((x) => x === 408)).toBe(true);
    });

    test('a keep-alive connection idle past idleTimeoutMs is closed by the server', async () => {
      const a = await rawExchange(slow.port, ['GET /dir000/class0_0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'], { waitMs: 5000 });
      expect(statusesOf(a.text)).toEqual([200]);
      expect(a.closedByServer).toBe(true);
      expect(a.ms).toBeGreaterThanOrEqual(t.idleTimeoutMs);
      // node keeps the socket up to a second past the timeout it advertises
      expect(a.ms).toBeLessThan(t.idleTimeoutMs + 2500);
    });

    test('the report counts the time-outs and the idle close', async () => {
      const r = await slow.stop();
      expectNoCrash(r);
      expect(r.status).toBe('ok');
      expect(r.http.events.timedOut).toBeGreaterThanOrEqual(1);
      expect(r.http.events.idleClosed).toBeGreaterThanOrEqual(1);
      expect(r.outcomes.ok).toBe(1);
      expect(r.http.statuses).toEqual({ 200: 1 });
    });
  });

  describe('the connection limit', () => {
    let lim: Serving;
    const t = { maxConnections: 4, headersTimeoutMs: 1500, requestTimeoutMs: 3000, idleTimeoutMs: 1000 };
    beforeAll(async () => {
      lim = await startServe({ ...opts, ...t });
    });
    afterAll(async () => {
      await lim?.stop();
    });

    test('a connection past maxConnections is closed at once; once the held ones go, a request is served', async () => {
      const held = Array.from({ length: t.maxConnections }, () => hold(lim.port, 'GET /dir000/class0_0 HTTP/1.1\r\nHost: 127.0.0.1\r\n', 5000));
      await Promise.all(held.map((h) => h.connected));
      // the four are ahead of it in the accept queue: the fifth is dropped, unanswered
      const fifth = await rawExchange(lim.port, [req('/dir000/class0_0')], { waitMs: 3000 });
      expect(fifth.text).toBe('');
      expect(fifth.closedByServer || fifth.error !== undefined).toBe(true);
      expect(fifth.ms).toBeLessThan(1000);
      // the server cuts the held ones off when their headers are late (408)
      const closed = await Promise.all(held.map((h) => h.closed));
      for (const c of closed) {
        expect(c.byServer).toBe(true);
        expect(statusesOf(c.text).every((x) => x === 408)).toBe(true);
      }
      const after = await rawExchange(lim.port, [req('/dir000/class0_0')], { waitMs: 3000 });
      expect(statusesOf(after.text)).toEqual([200]);
    });

    test('the report counts the dropped connection', async () => {
      const r = await lim.stop();
      expectNoCrash(r);
      expect(r.status).toBe('ok');
      expect(r.http.events.dropped).toBeGreaterThanOrEqual(1);
      expect(r.http.events.timedOut).toBe(t.maxConnections);
      expect(r.outcomes.ok).toBe(1);
    });
  });

  describe('a refusal pipelined behind good requests comes after their responses, whole and in order', () => {
    /** The refusal at the end of `rs`: its status, one line of body, and the connection closed after it. */
    const expectRefusal = (r: { status: number; headers: Record<string, string>; body: Buffer }, status: number) => {
      expect(r.status).toBe(status);
      expect(r.headers.connection).toBe('close');
      expect(r.body.toString('latin1')).toMatch(new RegExp(`^${status} `));
    };

    test.each([
      ['a malformed request line', 400, 'FOO BAR\r\n\r\n'],
      ['a request line over maxHeaderBytes', 414, keep('/' + 'a'.repeat(SERVE_DEFAULTS.maxHeaderBytes + 4000))],
      ['Content-Length with Transfer-Encoding', 400, 'POST /dir000/class0_1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
      ['a CONNECT', 405, 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n'],
    ])('a GET then %s, in one write: the 200 with the file bytes, then %i, then the close', async (_what, status, bad) => {
      const path = '/dir000/class0_0';
      const a = await rawExchange(s.port, [keep(path) + bad], { waitMs: 5000 });
      expect(a.closedByServer).toBe(true);
      const rs = responses(a.text);
      expect(rs.map((r) => r.status)).toEqual([200, status]);
      expect(rs[0].headers.connection).not.toBe('close');
      expect(rs[0].body.equals(fileContents(path))).toBe(true);
      expectRefusal(rs[1], status);
      if (status === 405) expect(rs[1].headers.allow).toBe('GET, HEAD');
      for (const r of rs.slice(0, -1)) served[r.status] = (served[r.status] ?? 0) + 1;
    });

    test('two GETs then a malformed line, in one write: both 200s whole and in order, then 400, then the close', async () => {
      const paths = ['/dir001/class1_3', '/dir009/class3_8'];
      const a = await rawExchange(s.port, [keep(paths[0]) + keep(paths[1]) + 'hello there\r\n\r\n'], { waitMs: 5000 });
      expect(a.closedByServer).toBe(true);
      const rs = responses(a.text);
      expect(rs.map((r) => r.status)).toEqual([200, 200, 400]);
      for (const [i, path] of paths.entries()) expect(rs[i].body.equals(fileContents(path)), path).toBe(true);
      expectRefusal(rs[2], 400);
      for (const r of rs.slice(0, -1)) served[r.status] = (served[r.status] ?? 0) + 1;
    });

    test('a HEAD then a header over maxHeaderBytes, in one write: the HEAD\'s 200 with no body, then 431, then the close', async () => {
      const big = `GET /dir000/class0_0 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(SERVE_DEFAULTS.maxHeaderBytes + 4000)}\r\n\r\n`;
      const a = await rawExchange(s.port, [keep('/dir009/class3_8', 'HEAD') + big], { waitMs: 5000 });
      expect(a.closedByServer).toBe(true);
      const rs = responses(a.text, [true]);
      expect(rs.map((r) => r.status)).toEqual([200, 431]);
      expect(rs[0].headers['content-length']).toBe('921600');
      expect(rs[0].body.length).toBe(0);
      expectRefusal(rs[1], 431);
      for (const r of rs.slice(0, -1)) served[r.status] = (served[r.status] ?? 0) + 1;
    });
  });

  test('after all that, a normal GET is served, and no server crashed', async () => {
    const a = await rawExchange(s.port, [req('/dir009/class3_8')], { waitMs: 5000 });
    expect(statusesOf(a.text)).toEqual([200]);
    expect(a.text).toContain('\r\nContent-Length: 921600\r\n');
    expect(a.text.length - (a.text.indexOf('\r\n\r\n') + 4)).toBe(921_600);
    note(a.text);
    const r = await s.stop();
    expectNoCrash(r);
    expect(r.status).toBe('ok');
    expect(r.problems).toEqual([]);
    // what reached the kernel was answered by the app as the clients saw it
    expect(r.http.statuses).toEqual(served);
    expect(r.outcomes.ok).toBe(Object.values(served).reduce((n, x) => n + x, 0));
    const ev = r.http.events;
    // 400: CL with TE, two CLs, a bad method, binary, a garbage line, no Host, and three behind good requests
    expect(ev.rejected400).toBe(9);
    expect(ev.rejected414).toBe(5);
    // CONNECT, alone and behind a GET
    expect(ev.rejected405).toBe(2);
    expect(ev.rejected431).toBe(4);
    expect(ev.dropped).toBe(0);
    expect(ev.timedOut).toBe(0);
  });
});
