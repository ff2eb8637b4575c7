/**
 * A graceful stop of `serve`: the responses in flight finish with their whole
 * bodies, idle keep-alive connections are closed, new connections are refused,
 * and the report counts what the clients got; in the library and as the CLI's
 * process (SIGTERM or Ctrl-C once: the report; Ctrl-C twice: exit 130 at once).
 * Loopback only; every wait has a deadline.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { ServeReport } from '../src/serve.js';
import { CLI, ROOT, spawnCli } from './support/cli.js';
import { Conn, get, within, type Parsed } from './support/http-clients.js';
import { rawExchange, startServe } from './support/serving.js';

/** The largest file of specweb96. */
const BIG = '/dir009/class3_8';
const BIG_BYTES = 921_600;
const getLine = (path: string) => `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`;

describe.each(['monolithic', 'microkernel'] as const)('serve %s: a stop', (mode) => {
  it('lets the responses in flight finish in full, closes idle connections, refuses new ones; the report counts what the clients got', async () => {
    // a drain long enough that a cut response would be the stop's doing, not the drain's deadline
    const s = await startServe({ mode, drainTimeoutMs: 20_000 });
    const idle = new Conn(s.port);
    idle.send(getLine('/'));
    await idle.until((c) => c.responses[0]?.complete === true, 10_000, 'the idle connection\'s first response');
    const indexBytes = idle.responses[0].bodyBytes;

    // slow readers, each reading its first bytes and then nothing: two with 8 requests of the large
    // file pipelined (more than a loopback connection buffers), three with one each
    const piped = [new Conn(s.port), new Conn(s.port)];
    const plain = [new Conn(s.port), new Conn(s.port), new Conn(s.port)];
    for (const c of piped) c.send(getLine(BIG).repeat(8));
    for (const c of plain) c.send(getLine(BIG));
    const readers = [...piped, ...plain];
    for (const c of readers) c.sock.once('data', () => c.sock.pause());
    await within(Promise.all(readers.map((c) => c.until((x) => x.bytes.length > 0, 10_000, 'the first bytes'))), 15_000, 'every reader\'s first bytes');
    for (const c of readers) expect(c.responses[0]?.status).toBe(200);

    const reported = s.stop();
    // the idle keep-alive connection is closed by the server, with nothing more sent on it
    const idleEnd = await idle.closedWithin(5000);
    expect(idleEnd).toEqual({ byServer: true });
    expect(idle.responses).toHaveLength(1);
    // the listening socket closes with it: a new connection is refused, or (if it got in just before)
    // closed without a response
    const late = await rawExchange(s.port, [getLine('/')], { waitMs: 2000 });
    expect(late.text, JSON.stringify(late)).toBe('');
    expect(late.error === 'ECONNREFUSED' || late.error === 'ECONNRESET' || late.closedByServer, JSON.stringify(late)).toBe(true);
    const lateGet = await get(s.port, '/', { timeoutMs: 2000 });
    expect(['ECONNREFUSED', 'ECONNRESET']).toContain('error' in lateGet ? lateGet.error : lateGet.status);

    for (const c of readers) c.sock.resume();
    const ends = await within(Promise.all(readers.map((c) => c.closedWithin(20_000))), 25_000, 'the readers\' connections closing');
    // every response started completes in full; then the server closes the connection
    for (const e of ends) expect(e).toEqual({ byServer: true });
    const whole = (rs: Parsed[]) => rs.map((r) => [r.status, r.bodyBytes, r.complete]);
    for (const c of piped) expect(whole(c.responses)).toEqual(Array.from({ length: 8 }, () => [200, BIG_BYTES, true]));
    for (const c of plain) expect(whole(c.responses)).toEqual([[200, BIG_BYTES, true]]);
    for (const c of readers) expect(c.bytes.length).toBe(c.responses.reduce((n, r) => n + r.bodyBytes, 0) + headBytes(c.bytes));

    const r = await within(reported, 10_000, 'the report');
    const served = 1 + 2 * 8 + 3;
    expect(r.status, r.problems.join('; ')).toBe('ok');
    expect(r.endedBy).toBe('stop');
    expect(r.outcomes).toEqual({ ok: served, fail: 0, info: 0, pending: 0, notIssued: 0 });
    expect(r.http.statuses).toEqual({ 200: served });
    expect(r.http.bodyBytes).toBe(indexBytes + (served - 1) * BIG_BYTES);
    expect(r.http.events).toMatchObject({ aborted: 0, reset: 0, dropped: 0 });
    // (and the two late ones, if they got in before the listening socket closed)
    expect(r.http.events.connections).toBeGreaterThanOrEqual(1 + readers.length);
    expect(r.http.events.connections).toBeLessThanOrEqual(3 + readers.length);
    expect(r.http.listens).toBe(1);
    expect(r.resets).toBe(0);
  });

  it('a client that goes away with pipelined requests in flight: they end with an unknown outcome, none left unsettled', async () => {
    const s = await startServe({ mode });
    const c = new Conn(s.port);
    // more than a loopback connection buffers: some responses are still in the server when it goes
    c.send(getLine(BIG).repeat(16));
    c.sock.once('data', () => c.sock.pause());
    await c.until((x) => x.bytes.length > 0, 10_000, 'the first bytes');
    c.destroy();
    await c.closedWithin(5000);
    // the server sees the connection go: every request on it settles (ok if its response was on the wire)
    const r = await within(s.stop(), 15_000, 'the report');
    expect(r.outcomes.pending, r.problems.join('; ')).toBe(0);
    expect(r.outcomes.ok + r.outcomes.info).toBe(16);
    expect(r.outcomes.info).toBeGreaterThanOrEqual(1);
    expect(r.http.events.aborted).toBe(r.outcomes.info);
    expect(r.status).toBe('incomplete');
  });
});

/** Bytes of the response heads in `buf` (everything but the bodies). */
function headBytes(buf: Buffer): number {
  let n = 0;
  let at = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end < 0) return n;
    n += end + 4 - at;
    const length = Number(/content-length: (\d+)/i.exec(buf.toString('latin1', at, end))?.[1] ?? 0);
    at = end + 4 + length;
  }
}

// ------------------------------------------------------------------ the CLI as a process

interface Cli {
  child: ChildProcessWithoutNullStreams;
  /** The port, once stderr names the URL. */
  port: Promise<number>;
  stdout(): string;
  stderr(): string;
  /** Send `sig` (the time is kept: `exited.ms` counts from the last one). */
  signal(sig: NodeJS.Signals): void;
  /** Its exit code, and ms from the last signal sent to its exit; SIGKILLed after `guardMs`. */
  exited: Promise<{ code: number | null; ms: number }>;
  /** Resolves when stderr matches `re`; rejects after `ms`, or if it exits first. */
  stderrMatches(re: RegExp, ms: number): Promise<void>;
}

/** `node dist/cli.js serve ARGS` from the repo root, started as test/cli-stop.test.ts starts the CLI. */
function startCli(args: string[], guardMs = 40_000): Cli {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { cwd: ROOT, env });
  let out = '';
  let err = '';
  let signalledAt = performance.now();
  const watchers: (() => void)[] = [];
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => {
    err += d;
    for (const w of watchers.splice(0)) w();
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), guardMs);
  const exited = new Promise<{ code: number | null; ms: number }>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, ms: performance.now() - signalledAt });
    }),
  );
  const stderrMatches = (re: RegExp, ms: number) =>
    within(
      new Promise<void>((resolve, reject) => {
        const check = () => (re.test(err) ? resolve() : void watchers.push(check));
        check();
        void exited.then(() => (re.test(err) ? resolve() : reject(new Error(`exited before stderr matched ${re}: ${err}`))));
      }),
      ms,
      `stderr matching ${re}`,
    );
  const port = stderrMatches(/serving \S+ under .* at http:\/\/127\.0\.0\.1:\d+\//, 30_000).then(() => Number(/at http:\/\/127\.0\.0\.1:(\d+)\//.exec(err)![1]));
  // (a CLI that never listens, as with a port in use, need not be awaited for it)
  void port.catch(() => {});
  const signal = (sig: NodeJS.Signals) => {
    signalledAt = performance.now();
    child.kill(sig);
  };
  return { child, port, stdout: () => out, stderr: () => err, signal, exited, stderrMatches };
}

describe('serve as a process', () => {
  it('SIGTERM: a graceful stop, exit 0, one JSON report on stdout counting the requests made', async () => {
    const cli = startCli(['--port', '0', '--json']);
    const port = await cli.port;
    const got = [await get(port, '/'), await get(port, '/dir000/class1_1'), await get(port, '/no/such/file'), await get(port, '/dir000/class0_0')];
    expect(got.map((g) => ('status' in g ? g.status : g.error))).toEqual([200, 200, 404, 200]);
    cli.signal('SIGTERM');
    const e = await cli.exited;
    expect(e.code, cli.stderr()).toBe(0);
    const report = JSON.parse(cli.stdout()) as ServeReport;
    expect(report.status).toBe('ok');
    expect(report.endedBy).toBe('stop');
    expect(report.http.statuses).toEqual({ 200: 3, 404: 1 });
    expect(report.outcomes).toEqual({ ok: 4, fail: 0, info: 0, pending: 0, notIssued: 0 });
    expect(report.http.url).toBe(`http://127.0.0.1:${port}/`);
    expect(cli.stderr()).toMatch(/microlith: stopping/);
    expect(cli.stderr()).not.toMatch(/\n\s+at /);
  });

  it('Ctrl-C: the text report on stdout, exit 0', async () => {
    const cli = startCli(['--port', '0']);
    const port = await cli.port;
    expect(await get(port, '/dir000/class0_1')).toMatchObject({ status: 200, bytes: 204 });
    cli.signal('SIGINT');
    const e = await cli.exited;
    expect(e.code, cli.stderr()).toBe(0);
    expect(cli.stdout()).toMatch(/^microlith serve:/);
    expect(() => JSON.parse(cli.stdout())).toThrow();
  });

  it('Ctrl-C twice while a connection holds the drain: exit 130 at once, no report', async () => {
    // a drain that would last 20 s: a request whose headers are half in holds server.close
    const cli = startCli(['--port', '0', '--drain-timeout-ms', '20000', '--headers-timeout-ms', '20000', '--request-timeout-ms', '30000']);
    const port = await cli.port;
    const c = new Conn(port);
    // one write: a whole request, then half of the next one's headers; the first's answer means the server
    // read the whole write, so its parser is in the middle of the second
    c.send(`${getLine('/dir000/class0_0')}GET /dir000/class0_1 HTTP/1.1\r\nHost: t\r\n`);
    await c.until((x) => x.responses[0]?.complete === true, 10_000, 'the first response');
    cli.signal('SIGINT');
    await cli.stderrMatches(/microlith: stopping/, 10_000);
    // still serving the drain: the half request holds it
    expect(cli.child.exitCode).toBeNull();
    cli.signal('SIGINT');
    const e = await cli.exited;
    expect(e.code, cli.stderr()).toBe(130);
    expect(e.ms).toBeLessThan(5000);
    expect(cli.stdout()).toBe('');
    await c.closedWithin(5000);
  });

  it('--port 70000 is a usage error naming --port; --requests is not a flag of serve', () => {
    const port = spawnCli(['serve', '--port', '70000'], { timeout: 30_000 });
    expect(port.status).toBe(2);
    expect(port.stderr).toMatch(/--port/);
    expect(port.stdout).toBe('');
    const requests = spawnCli(['serve', '--requests', '5'], { timeout: 30_000 });
    expect(requests.status).toBe(2);
    expect(requests.stderr).toMatch(/--requests/);
    expect(requests.stdout).toBe('');
  });

  it('a port in use: exit 1 with one line saying so, no stack trace', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const cli = startCli(['--port', String(port)]);
      const e = await cli.exited;
      expect(e.code).toBe(1);
      expect(cli.stderr()).toBe(`microlith: cannot listen on 127.0.0.1:${port}: the address is in use\n`);
      expect(cli.stdout()).toBe('');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
