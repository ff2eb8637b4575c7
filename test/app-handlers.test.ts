/**
 * The app server in-process: one request served by `serveRequest` on an app
 * booted with `bootServer(app, ...)`, with a fake context whose `call` plays the
 * disk and net servers, and `parseRequestLine`. What HTTP answers: the
 * request's version, Content-Type by extension, Content-Length; errors carry a
 * one-line text body in the head's buffer; HEAD is the head alone, with no read.
 */
import { describe, expect, it } from 'vitest';
import { Counters } from '../src/metrics/counters.js';
import type { Errno, Reply } from '../src/protocol.js';
import { app, DEFAULT_RETRY, parseRequestLine, serveRequest } from '../src/servers/app.js';
import { bootServer, fail, ok, type Handle } from '../src/servers/server.js';
import { serverContext } from './support/contexts.js';

interface Sent {
  reqId: number;
  status: number;
  body: Uint8Array[];
}

/** A fake world: a disk holding `files` (path -> slices) and a net that records what it is asked to send. */
function world(
  files: Record<string, Uint8Array[]>,
  faults: { lookup?: Errno; read?: Errno; send?: Errno } = {},
) {
  const paths = Object.keys(files);
  const calls: { to: string; msg: any; via?: Handle }[] = [];
  const sent: Sent[] = [];
  const call = async (to: string, msg: any, via?: Handle): Promise<Reply<unknown>> => {
    calls.push({ to, msg, via });
    if (to === 'disk' && msg.type === 'DISK_LOOKUP') {
      if (faults.lookup) return fail(faults.lookup, 'fake disk');
      const ino = paths.indexOf(msg.path);
      if (ino < 0) return fail('ENOENT', msg.path);
      return ok({ ino, size: files[msg.path].reduce((n, s) => n + s.length, 0) });
    }
    if (to === 'disk' && msg.type === 'DISK_READ') {
      if (faults.read) return fail(faults.read, 'fake disk');
      const data = files[paths[msg.ino]];
      return ok({ data, length: data.reduce((n, s) => n + s.length, 0) });
    }
    if (to === 'net' && msg.type === 'NET_SEND') {
      if (faults.send) return fail(faults.send, 'fake net');
      sent.push({ reqId: msg.reqId, status: msg.status, body: msg.body });
      return ok({ frames: 1, wireBytes: 0 });
    }
    throw new Error(`unexpected call to ${to}: ${msg.type}`);
  };
  const counters = new Counters();
  const ctx = serverContext('app', counters, call);
  const srv = bootServer(app, {}, ctx);
  const get = (reqId: number, request: unknown) => serveRequest(srv.state, { reqId, request } as never, ctx) as Promise<Reply<any>>;
  /** How many calls of `type` the app made. */
  const count = (type: string) => calls.filter((c) => c.msg.type === type).length;
  return { calls, sent, counters, get, count };
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const slice = (n: number, v: number) => new Uint8Array(n).fill(v);

// the error responses in full, written out by hand: head, then the one-line body in the same buffer
const BAD_REQUEST_10 = 'HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 16\r\n\r\n400 Bad Request\n';
const NOT_FOUND_10 = 'HTTP/1.0 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 14\r\n\r\n404 Not Found\n';
const NOT_ALLOWED_10 =
  'HTTP/1.0 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 23\r\nAllow: GET, HEAD\r\n\r\n405 Method Not Allowed\n';
const UNAVAILABLE_10 = 'HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 24\r\n\r\n503 Service Unavailable\n';

describe('app: 200 with the file', () => {
  it('sends the header then the data slices, passed by reference', async () => {
    const data = [slice(4096, 1), slice(4096, 2), slice(100, 3)];
    const w = world({ '/other': [slice(5, 9)], '/index.html': data });
    const r = await w.get(42, 'GET /index.html HTTP/1.0');
    expect(r).toEqual({ ok: true, value: { status: 200, bodyBytes: 8292 } });
    expect(w.sent).toHaveLength(1);
    const { reqId, status, body } = w.sent[0];
    expect([reqId, status]).toEqual([42, 200]);
    expect(body).toHaveLength(4);
    expect(text(body[0])).toBe('HTTP/1.0 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 8292\r\n\r\n');
    expect(body[1]).toBe(data[0]);
    expect(body[2]).toBe(data[1]);
    expect(body[3]).toBe(data[2]);
  });

  it('looks the path up, then reads the whole file (offset 0, length = size) from that inode', async () => {
    const w = world({ '/a': [slice(3, 0)], '/b': [slice(700, 1)] });
    await w.get(1, 'GET /b HTTP/1.1');
    expect(w.calls.map((c) => [c.to, c.msg.type])).toEqual([
      ['disk', 'DISK_LOOKUP'],
      ['disk', 'DISK_READ'],
      ['net', 'NET_SEND'],
    ]);
    expect(w.calls[0].msg).toEqual({ type: 'DISK_LOOKUP', path: '/b' });
    expect(w.calls[1].msg).toEqual({ type: 'DISK_READ', ino: 1, offset: 0, length: 700 });
    // the response goes out through the incarnation of net that holds the request
    expect(w.calls[2].via).toEqual({ server: 'net', gen: 1, state: 'up' });
  });

  it('an empty file is 200 with Content-Length: 0 and no data slices', async () => {
    const w = world({ '/empty': [] });
    expect(await w.get(3, 'GET /empty HTTP/1.0')).toEqual({ ok: true, value: { status: 200, bodyBytes: 0 } });
    expect(w.sent[0].body.map(text)).toEqual(['HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 0\r\n\r\n']);
  });

  it('counts one appRequests per request served, whatever the outcome', async () => {
    const w = world({ '/a': [slice(1, 1)] });
    await w.get(1, 'GET /a HTTP/1.0');
    await w.get(2, 'GET /missing HTTP/1.0');
    await w.get(3, 'nonsense');
    expect(w.counters.get('appRequests')).toBe(3);
  });
});

describe('app: error statuses', () => {
  it('404 when the disk says ENOENT, with a one-line text body in the head buffer and no read', async () => {
    const w = world({ '/a': [slice(1, 1)] });
    expect(await w.get(5, 'GET /nope HTTP/1.0')).toEqual({ ok: true, value: { status: 404, bodyBytes: 0 } });
    expect(w.sent).toHaveLength(1);
    expect(w.sent[0].reqId).toBe(5);
    expect(w.sent[0].status).toBe(404);
    expect(w.sent[0].body.map(text)).toEqual([NOT_FOUND_10]);
    expect(w.calls.some((c) => c.msg.type === 'DISK_READ')).toBe(false);
  });

  const malformed: unknown[] = [
    '',
    'GET',
    'GET /',
    'GET / HTTP/2.0',
    'GET / HTTP/1.2',
    'GET / http/1.0',
    'get / HTTP/1.0',
    'GET  / HTTP/1.0',
    ' GET / HTTP/1.0',
    'GET / HTTP/1.0 ',
    'GET / HTTP/1.0\r\n',
    'GET / HTTP/1.0\n',
    'GET /a b HTTP/1.0',
    'GET\t/ HTTP/1.0',
    'GET index.html HTTP/1.0',
    42,
    undefined,
    null,
  ];
  for (const line of malformed) {
    it(`400 for the request line ${JSON.stringify(line) ?? String(line)}, without asking the disk`, async () => {
      const w = world({ '/': [slice(1, 1)], '/index.html': [slice(1, 1)] });
      expect(await w.get(6, line)).toEqual({ ok: true, value: { status: 400, bodyBytes: 0 } });
      expect(w.calls.map((c) => c.to)).toEqual(['net']);
      expect(w.sent[0].body.map(text)).toEqual([BAD_REQUEST_10]);
    });
  }

  for (const line of ['POST /a HTTP/1.0', 'DELETE /a HTTP/1.0', 'PUT / HTTP/1.0', 'OPTIONS /a HTTP/1.0']) {
    it(`405 with Allow: GET, HEAD for ${line}, without asking the disk`, async () => {
      const w = world({ '/a': [slice(1, 1)] });
      expect(await w.get(7, line)).toEqual({ ok: true, value: { status: 405, bodyBytes: 0 } });
      expect(w.calls.map((c) => c.to)).toEqual(['net']);
      expect(w.sent[0].body.map(text)).toEqual([NOT_ALLOWED_10]);
    });
  }

  it('HEAD is not 405: it is served (200, the head alone, no DISK_READ)', async () => {
    const w = world({ '/a': [slice(1, 1)] });
    expect(await w.get(7, 'HEAD /a HTTP/1.1')).toEqual({ ok: true, value: { status: 200, bodyBytes: 0 } });
    expect(w.sent[0].body.map(text)).toEqual(['HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1\r\n\r\n']);
    expect(w.count('DISK_READ')).toBe(0);
  });

  it('503 when the disk lookup answers EPEERDIED on every repeat', async () => {
    const w = world({ '/a': [slice(1, 1)] }, { lookup: 'EPEERDIED' });
    expect(await w.get(8, 'GET /a HTTP/1.0')).toEqual({ ok: true, value: { status: 503, bodyBytes: 0 } });
    expect(w.sent).toHaveLength(1);
    expect(w.sent[0].status).toBe(503);
    expect(w.sent[0].body.map(text)).toEqual([UNAVAILABLE_10]);
    // the lookup is safe to repeat: it went again, up to the policy's attempts, before the app gave up
    expect(w.count('DISK_LOOKUP')).toBe(1 + DEFAULT_RETRY.attempts);
    expect(w.counters.get('retries')).toBe(DEFAULT_RETRY.attempts);
    expect(w.count('DISK_READ')).toBe(0);
  });

  it('503 when the disk dies between lookup and read (the read repeated, then given up)', async () => {
    const w = world({ '/a': [slice(1, 1)] }, { read: 'EPEERDIED' });
    expect(await w.get(9, 'GET /a HTTP/1.0')).toEqual({ ok: true, value: { status: 503, bodyBytes: 0 } });
    expect(w.sent[0].body.map(text)).toEqual([UNAVAILABLE_10]);
    expect(w.count('DISK_LOOKUP')).toBe(1);
    expect(w.count('DISK_READ')).toBe(1 + DEFAULT_RETRY.attempts);
  });

  it('503 for other disk failures (ETIMEDOUT, ECALLDENIED), which are not repeated', async () => {
    for (const errno of ['ETIMEDOUT', 'ECALLDENIED'] as const) {
      const w = world({ '/a': [slice(1, 1)] }, { lookup: errno });
      expect(await w.get(10, 'GET /a HTTP/1.0')).toMatchObject({ ok: true, value: { status: 503 } });
      expect(w.count('DISK_LOOKUP')).toBe(1);
      expect(w.counters.get('retries')).toBe(0);
    }
  });

  it('when net cannot send, serving the request fails with the net error, and the send is not repeated', async () => {
    const w = world({ '/a': [slice(1, 1)] }, { send: 'EPEERDIED' });
    expect(await w.get(11, 'GET /a HTTP/1.0')).toEqual({ ok: false, errno: 'EPEERDIED', detail: 'fake net' });
    expect(w.count('NET_SEND')).toBe(1);
  });
});

describe('app: HTTP heads (version, Content-Type, HEAD, the index, Allow)', () => {
  const PAGE = [slice(4096, 1), slice(4096, 2), slice(100, 3)]; // 8292 bytes

  it('HEAD: the head a GET would get, alone; Content-Length is the file size; looked up, never read', async () => {
    const w = world({ '/other': [slice(5, 9)], '/page.html': PAGE });
    expect(await w.get(12, 'HEAD /page.html HTTP/1.0')).toEqual({ ok: true, value: { status: 200, bodyBytes: 0 } });
    expect(w.calls.map((c) => [c.to, c.msg.type])).toEqual([
      ['disk', 'DISK_LOOKUP'],
      ['net', 'NET_SEND'],
    ]);
    expect(w.calls[0].msg).toEqual({ type: 'DISK_LOOKUP', path: '/page.html' });
    expect(w.sent[0].status).toBe(200);
    expect(w.sent[0].body.map(text)).toEqual(['HTTP/1.0 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 8292\r\n\r\n']);
    // and it is exactly the head of the GET of the same file
    await w.get(13, 'GET /page.html HTTP/1.0');
    expect(text(w.sent[1].body[0])).toBe(text(w.sent[0].body[0]));
    expect(w.sent[1].body).toHaveLength(1 + PAGE.length);
  });

  it('HEAD of a missing file: the 404 head alone (Content-Length of the body a GET would get, no body)', async () => {
    const w = world({ '/a': [slice(1, 1)] });
    expect(await w.get(14, 'HEAD /nope HTTP/1.1')).toEqual({ ok: true, value: { status: 404, bodyBytes: 0 } });
    expect(w.sent[0].body.map(text)).toEqual(['HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 14\r\n\r\n']);
    expect(w.count('DISK_READ')).toBe(0);
  });

  it('HEAD refused at parsing (a bad target) or when the disk fails: the head alone too', async () => {
    const w = world({ '/a': [slice(1, 1)] });
    expect(await w.get(15, 'HEAD /../a HTTP/1.1')).toEqual({ ok: true, value: { status: 400, bodyBytes: 0 } });
    expect(w.sent[0].body.map(text)).toEqual(['HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 16\r\n\r\n']);
    expect(w.calls.map((c) => c.to)).toEqual(['net']);
    const down = world({ '/a': [slice(1, 1)] }, { lookup: 'ETIMEDOUT' });
    expect(await down.get(16, 'HEAD /a HTTP/1.0')).toEqual({ ok: true, value: { status: 503, bodyBytes: 0 } });
    expect(down.sent[0].body.map(text)).toEqual(['HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 24\r\n\r\n']);
  });

  it('GET / looks up /index.html and serves it as text/html; charset=utf-8 (a query changes nothing)', async () => {
    for (const target of ['/', '/?lang=en']) {
      const w = world({ '/': [slice(9, 9)], '/index.html': PAGE });
      expect(await w.get(17, `GET ${target} HTTP/1.0`)).toEqual({ ok: true, value: { status: 200, bodyBytes: 8292 } });
      expect(w.calls[0].msg).toEqual({ type: 'DISK_LOOKUP', path: '/index.html' });
      expect(w.calls[1].msg).toEqual({ type: 'DISK_READ', ino: 1, offset: 0, length: 8292 });
      expect(text(w.sent[0].body[0])).toBe('HTTP/1.0 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 8292\r\n\r\n');
      expect(w.sent[0].body.slice(1)).toEqual(PAGE);
    }
  });

  it('GET / without an index on the image is 404 (it does not look up "/")', async () => {
    const w = world({ '/': [slice(9, 9)] });
    expect(await w.get(18, 'GET / HTTP/1.1')).toEqual({ ok: true, value: { status: 404, bodyBytes: 0 } });
    expect(w.calls[0].msg).toEqual({ type: 'DISK_LOOKUP', path: '/index.html' });
  });

  it('405 carries Allow: GET, HEAD; no other status does', async () => {
    const w = world({ '/a': [slice(1, 1)] });
    await w.get(19, 'POST /a HTTP/1.1');
    await w.get(20, 'GET /a HTTP/1.1');
    await w.get(21, 'GET /b HTTP/1.1');
    await w.get(22, 'GET /%zz HTTP/1.1');
    const heads = w.sent.map((x) => text(x.body[0]));
    expect(heads[0]).toBe(
      'HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 23\r\nAllow: GET, HEAD\r\n\r\n405 Method Not Allowed\n',
    );
    expect(heads.map((h) => h.includes('\r\nAllow: '))).toEqual([true, false, false, false]);
    expect(w.sent.map((x) => x.status)).toEqual([405, 200, 404, 400]);
  });

  it('an HTTP/1.1 request is answered in HTTP/1.1, an HTTP/1.0 one in HTTP/1.0, whatever the status', async () => {
    const w = world({ '/notes.txt': [slice(3, 65)] });
    const lines = ['GET /notes.txt', 'HEAD /notes.txt', 'GET /missing', 'GET /a//b', 'PUT /notes.txt'];
    for (const version of ['1.1', '1.0']) for (const line of lines) await w.get(23, `${line} HTTP/${version}`);
    const statusLines = w.sent.map((x) => text(x.body[0]).split('\r\n')[0]);
    const want = ['200 OK', '200 OK', '404 Not Found', '400 Bad Request', '405 Method Not Allowed'];
    expect(statusLines).toEqual([...want.map((s) => `HTTP/1.1 ${s}`), ...want.map((s) => `HTTP/1.0 ${s}`)]);
    expect(w.sent[0].body.map(text)).toEqual(['HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n\r\n', 'AAA']);
  });

  const hostile = ['/../etc/passwd', '/dir/../x', '/%2e%2e/x', '/%2E%2E%2Fx', '/a%2fb', '/a%00b', '/a\\b', '//etc/passwd', 'http://host/x', '/%c0%ae%c0%ae/x', '/%e0%80%ae', '/%zz', '/a/./b'];
  for (const target of hostile) {
    it(`GET ${target}: 400 without asking the disk`, async () => {
      const w = world({ '/etc/passwd': [slice(1, 1)], '/x': [slice(1, 1)], '/a/b': [slice(1, 1)] });
      expect(await w.get(24, `GET ${target} HTTP/1.1`)).toEqual({ ok: true, value: { status: 400, bodyBytes: 0 } });
      expect(w.calls.map((c) => c.to)).toEqual(['net']);
      expect(w.sent[0].body.map(text)).toEqual(['HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 16\r\n\r\n400 Bad Request\n']);
    });
  }
});

describe('parseRequestLine', () => {
  it('GET or HEAD with an origin-form target and HTTP/1.0 or 1.1 gives the method, the file path and the version', () => {
    expect(parseRequestLine('GET / HTTP/1.0')).toEqual({ method: 'GET', path: '/index.html', version: '1.0' });
    expect(parseRequestLine('GET /dir000/class1_3 HTTP/1.1')).toEqual({ method: 'GET', path: '/dir000/class1_3', version: '1.1' });
    expect(parseRequestLine('GET /a?b=c&d HTTP/1.0')).toEqual({ method: 'GET', path: '/a', version: '1.0' });
    expect(parseRequestLine('HEAD /a HTTP/1.1')).toEqual({ method: 'HEAD', path: '/a', version: '1.1' });
  });

  it('a target that names no file is 400, in the request\'s version', () => {
    expect(parseRequestLine('GET //x/../y HTTP/1.0')).toEqual({ status: 400, version: '1.0' });
    expect(parseRequestLine('GET /../etc/passwd HTTP/1.1')).toEqual({ status: 400, version: '1.1' });
    expect(parseRequestLine('HEAD http://host/x HTTP/1.1')).toEqual({ status: 400, version: '1.1' });
  });

  it('another upper-case method is 405, whatever the path, in the request\'s version', () => {
    expect(parseRequestLine('POST /x HTTP/1.0')).toEqual({ status: 405, version: '1.0' });
    expect(parseRequestLine('OPTIONS / HTTP/1.1')).toEqual({ status: 405, version: '1.1' });
    expect(parseRequestLine('DELETE /../x HTTP/1.1')).toEqual({ status: 405, version: '1.1' });
  });

  it('anything else is 400, in HTTP/1.0 unless the line ends in HTTP/1.1', () => {
    for (const line of ['', 'GET /', 'GET x HTTP/1.0', 'Get / HTTP/1.0', 'GET / HTTP/1.0\n', 'GET / HTTP/1.10', 'GET /\u00a0 HTTP/1.0', 'GET / HTTP/2.0', 7, {}, null]) {
      expect(parseRequestLine(line), JSON.stringify(line)).toEqual({ status: 400, version: '1.0' });
    }
    expect(parseRequestLine('get / HTTP/1.1')).toEqual({ status: 400, version: '1.1' });
    expect(parseRequestLine('GET  / HTTP/1.1')).toEqual({ status: 400, version: '1.1' });
  });
});
