/**
 * `serve` end to end with a real HTTP client (node:http, and raw bytes over a
 * socket for pipelining), in both kernels and every microkernel transport:
 * the bytes that arrive are the file's bytes as the disk image holds them
 * (made again here from the workload's seed, as mkfs makes them), the headers
 * are HTTP's, keep-alive and pipelining answer every request in order, and the
 * report after the stop counts what the client saw.
 *
 * Each configuration is booted once per describe; every request and every
 * wait is bounded.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ServeOptions, ServeReport } from '../src/serve.js';
import { fileSet } from '../src/workload/generate.js';
import { loadWorkload } from '../src/workload/load.js';
import { fileContents, parseResponses } from './support/served.js';
import { rawExchange, startServe, type Serving } from './support/serving.js';

const W = loadWorkload('specweb96');
const FILES = fileSet(W);
const SIZE = new Map(FILES.map((f) => [f.path, f.size]));

/** A small file, one of exactly one block, multi-block ones, and the largest of the set. */
const SAMPLE = ['/dir000/class0_0', '/dir001/class1_3', '/dir004/class2_4', '/dir007/class3_1', '/dir009/class3_8'];
const LARGEST = '/dir009/class3_8';

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  localPort: number;
}

/** One request with node:http, the whole response read; at most 10 s. */
function request(base: string, path: string, opts: { method?: string; agent?: http.Agent | false; body?: string } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, base), { method: opts.method ?? 'GET', agent: opts.agent ?? false, signal: AbortSignal.timeout(10_000) }, (res) => {
      const chunks: Buffer[] = [];
      const localPort = res.socket.localPort!;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), localPort }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** What the client saw of one serve: every response's status and body bytes, to hold the report to. */
class Client {
  readonly statuses: Record<string, number> = {};
  bodyBytes = 0;
  sent = 0;
  constructor(readonly base: string) {}
  async get(path: string, opts: { method?: string; agent?: http.Agent | false; body?: string } = {}): Promise<Got> {
    this.sent++;
    const r = await request(this.base, path, opts);
    this.note(r.status, r.body.length);
    return r;
  }
  note(status: number, bodyBytes: number): void {
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
    this.bodyBytes += bodyBytes;
  }
}

function expectFileHeaders(h: http.IncomingHttpHeaders, size: number): void {
  expect(h['content-length']).toBe(String(size));
  expect(h['content-type']).toBe('application/octet-stream');
  expect(h.date).toBeDefined();
  const date = Date.parse(h.date!);
  expect(Number.isNaN(date)).toBe(false);
  expect(Math.abs(date - Date.now())).toBeLessThan(60_000);
}

/** A request line for raw bytes. */
const line = (method: string, path: string, close = false) => `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;

/** Report checks every configuration passes: it served all it was sent, as the client saw it, and nothing failed. */
function expectCleanReport(r: ServeReport, c: Client): void {
  expect(r.problems).toEqual([]);
  expect(r.status).toBe('ok');
  expect(r.endedBy).toBe('stop');
  expect(r.faults).toEqual([]);
  for (const s of Object.values(r.servers)) expect(s.crashed).toBe(false);
  expect(r.outcomes).toEqual({ ok: c.sent, fail: 0, info: 0, pending: 0, notIssued: 0 });
  expect(r.http.statuses).toEqual(c.statuses);
  expect(r.http.bodyBytes).toBe(c.bodyBytes);
  expect(r.http.listens).toBe(1);
  expect(r.http.events.reset + r.http.events.unavailable + r.http.events.badResponse + r.http.events.aborted).toBe(0);
  expect(r.counters.appRequests).toBe(c.sent);
  expect(r.counters.diskLookups).toBeGreaterThan(0);
  expect(r.counters.diskReads).toBeGreaterThan(0);
}

const MODES: { name: string; opts: ServeOptions }[] = [
  { name: 'monolithic', opts: { mode: 'monolithic' } },
  { name: 'microkernel', opts: { mode: 'microkernel' } },
];

describe.each(MODES)('serve over HTTP, $name', ({ name, opts }) => {
  let s: Serving;
  let c: Client;
  let report: ServeReport | undefined;
  beforeAll(async () => {
    s = await startServe(opts);
    c = new Client(s.url);
  });
  afterAll(async () => {
    await s?.stop();
  });

  test('GET of small, one-block, multi-block and the largest file: 200, the file bytes exactly, its headers', async () => {
    expect(SIZE.get(LARGEST)).toBe(921_600);
    expect(SIZE.get('/dir001/class1_3')).toBe(4096);
    for (const path of SAMPLE) {
      const r = await c.get(path);
      expect(r.status, path).toBe(200);
      expectFileHeaders(r.headers, SIZE.get(path)!);
      expect(r.body.length, path).toBe(SIZE.get(path));
      expect(r.body.equals(fileContents(path)), `${path}: the body is the file's bytes`).toBe(true);
    }
  });

  test('HEAD: the headers a GET gets, and no body', async () => {
    for (const path of [SAMPLE[0], LARGEST]) {
      const r = await c.get(path, { method: 'HEAD' });
      expect(r.status).toBe(200);
      expectFileHeaders(r.headers, SIZE.get(path)!);
      expect(r.body.length).toBe(0);
    }
    // on the wire: a HEAD then a GET on one connection; had the HEAD carried a body, the GET's response would not parse
    const raw = await rawExchange(s.port, [line('HEAD', LARGEST) + line('GET', SAMPLE[0], true)], { waitMs: 5000 });
    expect(raw.closedByServer).toBe(true);
    const rs = parseResponses(Buffer.from(raw.text, 'latin1'), [true, false]);
    expect(rs.map((x) => x.status)).toEqual([200, 200]);
    expect(rs[0].headers['content-length']).toBe('921600');
    expect(rs[1].body.equals(fileContents(SAMPLE[0]))).toBe(true);
    c.sent += 2;
    c.note(200, 0);
    c.note(200, rs[1].body.length);
  });

  test('GET /: an HTML index linking every file of the set, and the links work', async () => {
    const r = await c.get('/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['content-length']).toBe(String(r.body.length));
    const html = r.body.toString('utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
    expect(hrefs.length).toBe(FILES.length);
    expect(new Set(hrefs)).toEqual(new Set(FILES.map((f) => f.path)));
    for (const href of [hrefs[0], hrefs[Math.floor(hrefs.length / 2)], hrefs[hrefs.length - 1]]) {
      const f = await c.get(new URL(href, s.url).pathname);
      expect(f.status, href).toBe(200);
      expect(f.body.equals(fileContents(href)), href).toBe(true);
    }
  });

  test('a file that is not there: 404', async () => {
    for (const path of ['/dir000/class0_9', '/dir010/class0_0', '/nothing', '/dir000/']) {
      const r = await c.get(path);
      expect(r.status, path).toBe(404);
    }
  });

  test('POST, PUT, DELETE: 405 with Allow: GET, HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await c.get(SAMPLE[0], { method, body: method === 'DELETE' ? undefined : 'a=1' });
      expect(r.status, method).toBe(405);
      expect(r.headers.allow, method).toBe('GET, HEAD');
    }
  });

  test('keep-alive: several requests over one connection, all answered', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const paths = ['/dir002/class0_3', '/dir002/class1_5', '/dir002/class2_1', '/dir002/missing', '/dir002/class3_0', '/dir002/class0_8'];
      const got = await Promise.all(paths.map((p) => c.get(p, { agent })));
      expect(got.map((g) => g.status)).toEqual([200, 200, 200, 404, 200, 200]);
      for (const [i, p] of paths.entries()) if (got[i].status === 200) expect(got[i].body.equals(fileContents(p)), p).toBe(true);
      expect(new Set(got.map((g) => g.localPort)).size).toBe(1);
      expect(got.every((g) => g.headers.connection === 'keep-alive')).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  test('pipelining: five requests in one write, five responses in request order', async () => {
    const paths = ['/dir005/class1_0', '/dir005/class0_4', '/dir005/class9_9', '/dir005/class3_2', '/dir005/class2_7'];
    const raw = await rawExchange(s.port, [paths.map((p, i) => line('GET', p, i === paths.length - 1)).join('')], { waitMs: 5000 });
    expect(raw.closedByServer).toBe(true);
    const rs = parseResponses(Buffer.from(raw.text, 'latin1'));
    expect(rs.map((r) => r.status)).toEqual([200, 200, 404, 200, 200]);
    for (const [i, p] of paths.entries()) {
      c.sent++;
      c.note(rs[i].status, rs[i].body.length);
      if (rs[i].status !== 200) continue;
      expect(rs[i].headers['content-length'], p).toBe(String(SIZE.get(p)));
      expect(rs[i].body.equals(fileContents(p)), p).toBe(true);
    }
    expect(rs[4].headers.connection).toBe('close');
  });

  test('the report after stop counts what the client saw', async () => {
    report = await s.stop();
    expectCleanReport(report, c);
    expect(report.mode).toBe(name);
    expect(report.http.statuses).toMatchObject({ 200: expect.any(Number), 404: 6, 405: 3 });
    expect(report.counters.framesSent).toBeGreaterThanOrEqual(c.sent);
    expect(report.counters.payloadBytes).toBeGreaterThanOrEqual(c.bodyBytes);
    if (name === 'microkernel') {
      expect(report.counters.ipcMessages).toBeGreaterThan(0);
      expect(report.counters.crossings).toBeGreaterThan(0);
      expect(report.counters.directCalls).toBe(0);
    } else {
      expect(report.counters.directCalls).toBeGreaterThan(0);
      expect(report.counters.ipcMessages).toBe(0);
    }
  });
});

/** Each microkernel transport (and ring signalling) serves the same requests; their reports are compared at the end. */
const TRANSPORTS: { name: string; opts: ServeOptions }[] = [
  { name: 'copy', opts: { mode: 'microkernel', transport: 'copy' } },
  { name: 'transfer', opts: { mode: 'microkernel', transport: 'transfer' } },
  { name: 'shared', opts: { mode: 'microkernel', transport: 'shared' } },
  { name: 'shared, ring', opts: { mode: 'microkernel', transport: 'shared', signal: 'ring' } },
];
const byTransport = new Map<string, { report: ServeReport; client: Client }>();

describe.each(TRANSPORTS)('body bytes exact, microkernel $name', ({ name, opts }) => {
  let s: Serving;
  beforeAll(async () => {
    s = await startServe(opts);
  });
  afterAll(async () => {
    await s?.stop();
  });

  test('GET and a pipelined batch return every file byte for byte; the report counts them', async () => {
    const c = new Client(s.url);
    for (const path of SAMPLE) {
      const r = await c.get(path);
      expect(r.status, path).toBe(200);
      expect(r.headers['content-length']).toBe(String(SIZE.get(path)));
      expect(r.body.equals(fileContents(path)), `${path}: the body is the file's bytes`).toBe(true);
    }
    // the same files again (from the cache this time), pipelined on one connection
    const raw = await rawExchange(s.port, [SAMPLE.map((p, i) => line('GET', p, i === SAMPLE.length - 1)).join('')], { waitMs: 5000 });
    const rs = parseResponses(Buffer.from(raw.text, 'latin1'));
    expect(rs.map((r) => r.status)).toEqual(SAMPLE.map(() => 200));
    for (const [i, p] of SAMPLE.entries()) {
      expect(rs[i].body.equals(fileContents(p)), p).toBe(true);
      c.sent++;
      c.note(200, rs[i].body.length);
    }
    const report = await s.stop();
    expectCleanReport(report, c);
    expect(report.transport).toBe(opts.transport);
    expect(report.signal).toBe(opts.signal ?? 'message');
    expect(report.counters.ipcMessages).toBeGreaterThan(0);
    byTransport.set(name, { report, client: c });
  });
});

describe('what the transports copy', () => {
  test("copy copies more bytes than the files' own; shared copies far fewer", () => {
    const copy = byTransport.get('copy');
    const shared = byTransport.get('shared');
    const ring = byTransport.get('shared, ring');
    if (!copy || !shared || !ring) throw new Error('a transport describe above failed');
    const fileBytes = copy.client.bodyBytes;
    expect(shared.client.bodyBytes).toBe(fileBytes);
    expect(fileBytes).toBe(2 * SAMPLE.reduce((n, p) => n + SIZE.get(p)!, 0));
    // copy: the file bytes are copied at least twice, from disk to app and from app to net
    expect(copy.report.counters.bytesCopied).toBeGreaterThan(2 * fileBytes);
    // shared: the bytes stay in the pool; only heads and requests are copied
    expect(shared.report.counters.bytesCopied).toBeLessThan(fileBytes / 10);
    expect(ring.report.counters.bytesCopied).toBeLessThan(fileBytes / 10);
    expect(shared.report.counters.bytesCopied * 10).toBeLessThan(copy.report.counters.bytesCopied);
  });
});

