/**
 * The app server in-process: one request served by `serveRequest` on an app
 * booted with `bootServer(app, ...)`, with a fake context whose `call` plays the
 * disk and net servers, and `parseRequestLine`.
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
    expect(text(body[0])).toBe('HTTP/1.0 200 OK\r\nContent-Length: 8292\r\n\r\n');
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
    expect(w.sent[0].body.map(text)).toEqual(['HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n']);
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
  it('404 when the disk says ENOENT, with an empty body and no read', async () => {
    const w = world({ '/a': [slice(1, 1)] });
    expect(await w.get(5, 'GET /nope HTTP/1.0')).toEqual({ ok: true, value: { status: 404, bodyBytes: 0 } });
    expect(w.sent).toHaveLength(1);
    expect(w.sent[0].reqId).toBe(5);
    expect(w.sent[0].status).toBe(404);
    expect(w.sent[0].body.map(text)).toEqual(['HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n']);
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
      expect(text(w.sent[0].body[0])).toBe('HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    });
  }

  for (const line of ['POST /a HTTP/1.0', 'HEAD /a HTTP/1.1', 'DELETE /a HTTP/1.0', 'PUT / HTTP/1.0']) {
    it(`405 for ${line}`, async () => {
      const w = world({ '/a': [slice(1, 1)] });
      expect(await w.get(7, line)).toEqual({ ok: true, value: { status: 405, bodyBytes: 0 } });
      expect(w.calls.map((c) => c.to)).toEqual(['net']);
      expect(text(w.sent[0].body[0])).toBe('HTTP/1.0 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n');
    });
  }

  it('503 when the disk lookup answers EPEERDIED on every repeat', async () => {
    const w = world({ '/a': [slice(1, 1)] }, { lookup: 'EPEERDIED' });
    expect(await w.get(8, 'GET /a HTTP/1.0')).toEqual({ ok: true, value: { status: 503, bodyBytes: 0 } });
    expect(w.sent).toHaveLength(1);
    expect(w.sent[0].status).toBe(503);
    expect(text(w.sent[0].body[0])).toBe('HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
    // the lookup is safe to repeat: it went again, up to the policy's attempts, before the app gave up
    expect(w.count('DISK_LOOKUP')).toBe(1 + DEFAULT_RETRY.attempts);
    expect(w.counters.get('retries')).toBe(DEFAULT_RETRY.attempts);
    expect(w.count('DISK_READ')).toBe(0);
  });

  it('503 when the disk dies between lookup and read (the read repeated, then given up)', async () => {
    const w = world({ '/a': [slice(1, 1)] }, { read: 'EPEERDIED' });
    expect(await w.get(9, 'GET /a HTTP/1.0')).toEqual({ ok: true, value: { status: 503, bodyBytes: 0 } });
    expect(w.sent[0].body).toHaveLength(1);
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

describe('parseRequestLine', () => {
  it('GET with an absolute path and HTTP/1.0 or 1.1 gives the path', () => {
    expect(parseRequestLine('GET / HTTP/1.0')).toEqual({ path: '/' });
    expect(parseRequestLine('GET /dir000/class1_3 HTTP/1.1')).toEqual({ path: '/dir000/class1_3' });
    expect(parseRequestLine('GET /a?b=c&d HTTP/1.0')).toEqual({ path: '/a?b=c&d' });
    expect(parseRequestLine('GET //x/../y HTTP/1.0')).toEqual({ path: '//x/../y' });
  });

  it('another upper-case method is 405, whatever the path', () => {
    expect(parseRequestLine('POST /x HTTP/1.0')).toEqual({ status: 405 });
    expect(parseRequestLine('OPTIONS / HTTP/1.1')).toEqual({ status: 405 });
  });

  it('anything else is 400', () => {
    for (const line of ['', 'GET /', 'GET x HTTP/1.0', 'Get / HTTP/1.0', 'GET / HTTP/1.0\n', 'GET / HTTP/1.10', 'GET /\u00a0 HTTP/1.0', 7, {}, null]) {
      expect(parseRequestLine(line)).toEqual({ status: 400 });
    }
  });
});
