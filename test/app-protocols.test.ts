/**
 * The app server's four protocols in-process: one request served by
 * `serveRequest` on an app booted with `bootServer(app, ...)`, with a fake
 * context whose `call` plays the disk and net servers (as in app-handlers.test.ts), for http's siblings RETR (ftp),
 * READ/WRITE (nfs) and QUERY (dns); `parseRequest` on tricky lines; the DNS
 * Zone; and a few requests against the real disk server, to hold the app to the
 * disk's errno contract (EFBIG -> 413).
 */
import { describe, expect, it } from 'vitest';
import { Counters } from '../src/metrics/counters.js';
import type { Errno, Reply } from '../src/protocol.js';
import { app, DEFAULT_RETRY, parseRequest, serveRequest, type AppBoot } from '../src/servers/app.js';
import { disk } from '../src/servers/disk.js';
import { hostName, missingName, TTL_SECONDS, Zone } from '../src/servers/dns-zone.js';
import { BLOCK_SIZE, mkfs, mount } from '../src/servers/fs.js';
import { bootServer, fail, ok } from '../src/servers/server.js';
import { RESTART_ERRNOS } from '../src/servers/retry.js';
import { bytes, concat } from './support/bytes.js';
import { serverContext } from './support/contexts.js';

interface Sent {
  reqId: number;
  status: number;
  body: Uint8Array[];
}

interface Faults {
  lookup?: Errno;
  read?: Errno;
  write?: Errno;
  send?: Errno;
}

/**
 * A fake world: a disk holding `files` (path -> contents) that reads like the
 * real one (clamped at the end, slices cut at block boundaries) and records the
 * writes it is asked for, and a net that records what it is asked to send.
 */
function world(files: Record<string, Uint8Array>, faults: Faults = {}, boot: AppBoot = {}) {
  const paths = Object.keys(files);
  const calls: { to: string; msg: any }[] = [];
  const sent: Sent[] = [];
  /** The slices each DISK_READ handed out, in order. */
  const handedOut: Uint8Array[][] = [];
  const call = async (to: string, msg: any): Promise<Reply<unknown>> => {
    calls.push({ to, msg });
    if (to === 'disk' && msg.type === 'DISK_LOOKUP') {
      if (faults.lookup) return fail(faults.lookup, 'fake disk');
      const ino = paths.indexOf(msg.path);
      if (ino < 0) return fail('ENOENT', msg.path);
      return ok({ ino, size: files[msg.path].length });
    }
    if (to === 'disk' && msg.type === 'DISK_READ') {
      if (faults.read) return fail(faults.read, 'fake disk');
      const file = files[paths[msg.ino]];
      const end = Math.min(file.length, msg.offset + msg.length);
      const data: Uint8Array[] = [];
      for (let pos = msg.offset; pos < end; ) {
        const n = Math.min(BLOCK_SIZE - (pos % BLOCK_SIZE), end - pos);
        data.push(file.subarray(pos, pos + n));
        pos += n;
      }
      handedOut.push(data);
      return ok({ data, length: Math.max(0, end - msg.offset) });
    }
    if (to === 'disk' && msg.type === 'DISK_WRITE') {
      if (faults.write) return fail(faults.write, 'fake disk');
      return ok({ length: msg.data.reduce((n: number, s: Uint8Array) => n + s.length, 0) });
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
  const srv = bootServer(app, boot, ctx);
  const request = (reqId: number, line: unknown, body?: unknown) =>
    serveRequest(srv.state, { reqId, request: line, ...(body === undefined ? {} : { body }) } as never, ctx) as Promise<Reply<any>>;
  /** [to, type] of every call, in order. */
  const trace = () => calls.map((c) => [c.to, c.msg.type]);
  return { calls, sent, counters, request, trace, handedOut };
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

// /small: 10 bytes; /big: 2 blocks and 100 bytes; /empty: nothing
const BIG = 2 * BLOCK_SIZE + 100;
const FILES = () => ({ '/small': bytes(10, 200), '/big': bytes(BIG, 3), '/empty': new Uint8Array(0) });
const SMALL = 0;
const BIG_INO = 1;

describe('ftp: RETR', () => {
  it('sends 150 with the path and size, the file slices as the disk gave them, then 226', async () => {
    const w = world(FILES());
    const r = await w.request(21, 'RETR /big');
    expect(r).toEqual({ ok: true, value: { status: 200, bodyBytes: BIG } });
    expect(w.sent).toHaveLength(1);
    const { reqId, status, body } = w.sent[0];
    expect([reqId, status]).toEqual([21, 200]);
    const slices = w.handedOut[0];
    expect(slices.map((s) => s.length)).toEqual([4096, 4096, 100]);
    expect(body).toHaveLength(1 + slices.length + 1);
    expect(text(body[0])).toBe(`150 Opening BINARY mode data connection for /big (${BIG} bytes)\r\n`);
    slices.forEach((s, i) => expect(body[1 + i]).toBe(s)); // passed on, not copied
    expect(text(body[body.length - 1])).toBe('226 Transfer complete\r\n');
  });

  it('looks the path up, then reads the whole file from that inode, once', async () => {
    const w = world(FILES());
    await w.request(1, 'RETR /small');
    expect(w.trace()).toEqual([
      ['disk', 'DISK_LOOKUP'],
      ['disk', 'DISK_READ'],
      ['net', 'NET_SEND'],
    ]);
    expect(w.calls[0].msg).toEqual({ type: 'DISK_LOOKUP', path: '/small' });
    expect(w.calls[1].msg).toEqual({ type: 'DISK_READ', ino: SMALL, offset: 0, length: 10 });
    expect(w.sent[0].body.map((b) => b.length)).toEqual([expect.any(Number), 10, expect.any(Number)]);
  });

  it('an empty file: 150 with 0 bytes, then 226, no data slice', async () => {
    const w = world(FILES());
    expect(await w.request(2, 'RETR /empty')).toEqual({ ok: true, value: { status: 200, bodyBytes: 0 } });
    expect(w.sent[0].body.map(text)).toEqual(['150 Opening BINARY mode data connection for /empty (0 bytes)\r\n', '226 Transfer complete\r\n']);
  });

  it('an unknown file is 404 with 550 naming the path, and no read', async () => {
    const w = world(FILES());
    expect(await w.request(3, 'RETR /nope')).toEqual({ ok: true, value: { status: 404, bodyBytes: 0 } });
    expect(w.trace()).toEqual([
      ['disk', 'DISK_LOOKUP'],
      ['net', 'NET_SEND'],
    ]);
    expect(w.sent[0].status).toBe(404);
    expect(w.sent[0].body.map(text)).toEqual(['550 /nope: No such file or directory\r\n']);
  });

  for (const line of ['RETR', 'RETR ', 'RETR big', 'RETR  /big', 'RETR /big ', 'RETR /a b', 'RETR\t/big', 'RETR /big\r\n']) {
    it(`bad syntax ${JSON.stringify(line)} is 400 with 500, without asking the disk`, async () => {
      const w = world(FILES());
      expect(await w.request(4, line)).toEqual({ ok: true, value: { status: 400, bodyBytes: 0 } });
      expect(w.trace()).toEqual([['net', 'NET_SEND']]);
      expect(w.sent[0].body.map(text)).toEqual(['500 Syntax error, command unrecognized\r\n']);
    });
  }

  it('a failed lookup or read is 503 with 451', async () => {
    for (const faults of [{ lookup: 'EPEERDIED' }, { read: 'ETIMEDOUT' }] as Faults[]) {
      const w = world(FILES(), faults);
      expect(await w.request(5, 'RETR /big')).toEqual({ ok: true, value: { status: 503, bodyBytes: 0 } });
      expect(w.sent[0].status).toBe(503);
      expect(w.sent[0].body.map(text)).toEqual(['451 Requested action aborted: local error in processing\r\n']);
    }
  });
});

describe('nfs: READ', () => {
  it('reads COUNT bytes at OFFSET: NFS3_OK READ n MORE, then the slices', async () => {
    const w = world(FILES());
    const r = await w.request(30, 'READ /big 4000 200');
    expect(r).toEqual({ ok: true, value: { status: 200, bodyBytes: 200 } });
    expect(w.trace()).toEqual([
      ['disk', 'DISK_LOOKUP'],
      ['disk', 'DISK_READ'],
      ['net', 'NET_SEND'],
    ]);
    expect(w.calls[1].msg).toEqual({ type: 'DISK_READ', ino: BIG_INO, offset: 4000, length: 200 });
    const body = w.sent[0].body;
    expect(text(body[0])).toBe('NFS3_OK READ 200 MORE\r\n');
    expect(body.slice(1)).toHaveLength(2); // 96 + 104 across the block boundary
    w.handedOut[0].forEach((s, i) => expect(body[1 + i]).toBe(s));
    expect(concat(body.slice(1))).toEqual(bytes(BIG, 3).subarray(4000, 4200));
  });

  // [line, bytes the reply carries, EOF or MORE]
  const cases: [string, number, 'EOF' | 'MORE'][] = [
    ['READ /big 0 4096', 4096, 'MORE'],
    ['READ /big 8192 100', 100, 'EOF'], // ends exactly at the end of the file
    ['READ /big 8192 4096', 100, 'EOF'], // clamped by the disk
    ['READ /big 8191 100', 100, 'MORE'], // one byte short of the end
    ['READ /big 8292 10', 0, 'EOF'], // at the end
    ['READ /big 10000 10', 0, 'EOF'], // past the end
    ['READ /big 0 0', 0, 'MORE'],
    ['READ /small 0 10', 10, 'EOF'],
    ['READ /empty 0 4096', 0, 'EOF'],
  ];
  for (const [line, n, eof] of cases) {
    it(`${line}: NFS3_OK READ ${n} ${eof}`, async () => {
      const w = world(FILES());
      expect(await w.request(31, line)).toEqual({ ok: true, value: { status: 200, bodyBytes: n } });
      const [, , offset, count] = line.split(' ');
      expect(w.calls[1].msg).toMatchObject({ type: 'DISK_READ', offset: Number(offset), length: Number(count) });
      expect(w.calls.filter((c) => c.to === 'disk')).toHaveLength(2);
      expect(text(w.sent[0].body[0])).toBe(`NFS3_OK READ ${n} ${eof}\r\n`);
      expect(concat(w.sent[0].body.slice(1)).length).toBe(n);
    });
  }

  it('an unknown file is 404 NFS3ERR_NOENT, no read', async () => {
    const w = world(FILES());
    expect(await w.request(32, 'READ /nope 0 10')).toEqual({ ok: true, value: { status: 404, bodyBytes: 0 } });
    expect(w.trace()).toEqual([
      ['disk', 'DISK_LOOKUP'],
      ['net', 'NET_SEND'],
    ]);
    expect(w.sent[0].body.map(text)).toEqual(['NFS3ERR_NOENT\r\n']);
  });

  it('a failed lookup or read is 503 NFS3ERR_IO', async () => {
    for (const faults of [{ lookup: 'EDEADDST' }, { read: 'EPEERDIED' }] as Faults[]) {
      const w = world(FILES(), faults);
      expect(await w.request(33, 'READ /big 0 10')).toEqual({ ok: true, value: { status: 503, bodyBytes: 0 } });
      expect(w.sent[0].body.map(text)).toEqual(['NFS3ERR_IO\r\n']);
    }
  });

  for (const line of ['READ /big 01 10', 'READ /big 0 010', 'READ /big -1 10', 'READ /big 0', 'READ big 0 10', 'READ /big 0 10 ', 'READ /big 0 4294967296']) {
    it(`bad syntax ${JSON.stringify(line)} is 400 NFS3ERR_INVAL, without asking the disk`, async () => {
      const w = world(FILES());
      expect(await w.request(34, line)).toEqual({ ok: true, value: { status: 400, bodyBytes: 0 } });
      expect(w.trace()).toEqual([['net', 'NET_SEND']]);
      expect(w.sent[0].body.map(text)).toEqual(['NFS3ERR_INVAL\r\n']);
    });
  }
});

describe('nfs: WRITE', () => {
  it('writes the body at OFFSET with one DISK_WRITE, then NFS3_OK WRITE n FILE_SYNC', async () => {
    const w = world(FILES());
    const body = [bytes(96, 1), bytes(104, 2)];
    const r = await w.request(40, 'WRITE /big 4000 200', body);
    expect(r).toEqual({ ok: true, value: { status: 200, bodyBytes: 0 } });
    expect(w.trace()).toEqual([
      ['disk', 'DISK_LOOKUP'],
      ['disk', 'DISK_WRITE'],
      ['net', 'NET_SEND'],
    ]);
    expect(w.calls[0].msg).toEqual({ type: 'DISK_LOOKUP', path: '/big' });
    expect(w.calls[1].msg).toEqual({ type: 'DISK_WRITE', ino: BIG_INO, offset: 4000, data: [bytes(96, 1), bytes(104, 2)] });
    expect(w.sent[0]).toMatchObject({ reqId: 40, status: 200 });
    expect(w.sent[0].body.map(text)).toEqual(['NFS3_OK WRITE 200 FILE_SYNC\r\n']);
  });

  it('the count in the reply is what the disk says it wrote', async () => {
    const w = world(FILES());
    await w.request(41, 'WRITE /small 3 5', [bytes(5)]);
    expect(w.calls[1].msg).toEqual({ type: 'DISK_WRITE', ino: SMALL, offset: 3, data: [bytes(5)] });
    expect(w.sent[0].body.map(text)).toEqual(['NFS3_OK WRITE 5 FILE_SYNC\r\n']);
  });

  it('a zero-byte WRITE with no body is a write of nothing', async () => {
    const w = world(FILES());
    expect(await w.request(42, 'WRITE /big 100 0')).toEqual({ ok: true, value: { status: 200, bodyBytes: 0 } });
    expect(w.calls[1].msg).toEqual({ type: 'DISK_WRITE', ino: BIG_INO, offset: 100, data: [] });
    expect(w.sent[0].body.map(text)).toEqual(['NFS3_OK WRITE 0 FILE_SYNC\r\n']);
  });

  // [what, COUNT, body]
  const mismatched: [string, number, unknown][] = [
    ['a shorter body', 200, [bytes(199)]],
    ['a longer body', 200, [bytes(100), bytes(101)]],
    ['no body', 10, undefined],
    ['an empty body', 10, []],
    ['a body that is one Uint8Array, not a payload', 10, bytes(10)],
    ['a body for COUNT 0', 0, [bytes(1)]],
  ];
  for (const [what, count, body] of mismatched) {
    it(`${what} (COUNT ${count}) is 400 NFS3ERR_INVAL, and nothing is written`, async () => {
      const w = world(FILES());
      expect(await w.request(43, `WRITE /big 0 ${count}`, body)).toEqual({ ok: true, value: { status: 400, bodyBytes: 0 } });
      expect(w.calls.some((c) => c.msg.type === 'DISK_WRITE')).toBe(false);
      expect(w.sent).toHaveLength(1);
      expect(w.sent[0].status).toBe(400);
      expect(w.sent[0].body.map(text)).toEqual(['NFS3ERR_INVAL\r\n']);
    });
  }

  it('EFBIG from the disk (past the end of the file) is 413 NFS3ERR_FBIG', async () => {
    const w = world(FILES(), { write: 'EFBIG' });
    expect(await w.request(44, 'WRITE /small 8 4', [bytes(4)])).toEqual({ ok: true, value: { status: 413, bodyBytes: 0 } });
    expect(w.trace()).toEqual([
      ['disk', 'DISK_LOOKUP'],
      ['disk', 'DISK_WRITE'],
      ['net', 'NET_SEND'],
    ]);
    expect(w.sent[0].status).toBe(413);
    expect(w.sent[0].body.map(text)).toEqual(['NFS3ERR_FBIG\r\n']);
  });

  for (const errno of ['EPEERDIED', 'EDEADDST', 'ETIMEDOUT', 'EINVAL', 'ENOENT', 'EFAULT'] as const) {
    it(`${errno} from DISK_WRITE is 503 NFS3ERR_IO`, async () => {
      const w = world(FILES(), { write: errno });
      expect(await w.request(45, 'WRITE /big 0 4', [bytes(4)])).toEqual({ ok: true, value: { status: 503, bodyBytes: 0 } });
      expect(w.sent[0].status).toBe(503);
      expect(w.sent[0].body.map(text)).toEqual(['NFS3ERR_IO\r\n']);
      // a write of given bytes at an explicit offset is repeated only if the disk died or restarted under it
      const writes = w.calls.filter((c) => c.msg.type === 'DISK_WRITE').length;
      expect(writes).toBe(RESTART_ERRNOS.has(errno) ? 1 + DEFAULT_RETRY.attempts : 1);
    });
  }

  it('WRITE to an unknown file is 404 NFS3ERR_NOENT, and nothing is written', async () => {
    const w = world(FILES());
    expect(await w.request(46, 'WRITE /nope 0 4', [bytes(4)])).toEqual({ ok: true, value: { status: 404, bodyBytes: 0 } });
    expect(w.trace()).toEqual([
      ['disk', 'DISK_LOOKUP'],
      ['net', 'NET_SEND'],
    ]);
    expect(w.sent[0].body.map(text)).toEqual(['NFS3ERR_NOENT\r\n']);
  });

  it('when net cannot send the acknowledgement, serving the request fails with the net error', async () => {
    const w = world(FILES(), { send: 'EPEERDIED' });
    expect(await w.request(47, 'WRITE /big 0 4', [bytes(4)])).toEqual({ ok: false, errno: 'EPEERDIED', detail: 'fake net' });
  });
});

describe('dns: QUERY', () => {
  const ZONE = { origin: 'example.com.', names: 50, seed: 7 };
  const zone = new Zone(ZONE, ZONE.seed);
  const dnsWorld = (faults: Faults = {}) => world(FILES(), faults, { zone: ZONE });
  const RECORD = /^(\S+)\t(\d+)\tIN\tA\t10\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

  it('a name in the zone: NOERROR with its k records in one buffer, and no disk call', async () => {
    for (const k of [0, 1, 17, 49]) {
      const w = dnsWorld();
      const name = hostName(ZONE.origin, k);
      const r = await w.request(53, `QUERY ${name} A`);
      expect(r).toMatchObject({ ok: true, value: { status: 200 } });
      expect(w.trace()).toEqual([['net', 'NET_SEND']]);
      expect(w.sent[0]).toMatchObject({ reqId: 53, status: 200 });
      expect(w.sent[0].body).toHaveLength(1);
      const found = zone.lookup(name)!;
      expect(found).not.toBeNull();
      const reply = text(w.sent[0].body[0]);
      expect(reply).toBe(`;; QUERY ${name} A: NOERROR, ${found.records} answers\r\n${found.answer}`);
      // and the records themselves, read off the wire
      const lines = reply.split('\r\n');
      expect(lines.pop()).toBe('');
      expect(lines.shift()).toBe(`;; QUERY ${name} A: NOERROR, ${found.records} answers`);
      expect(lines).toHaveLength(found.records);
      for (const line of lines) {
        const m = RECORD.exec(line);
        expect(m, line).not.toBeNull();
        expect(m![1]).toBe(name);
        expect(Number(m![2])).toBe(300);
        for (const octet of m!.slice(3)) expect(Number(octet)).toBeLessThanOrEqual(255);
      }
    }
  });

  it('a name the zone does not hold is 404 NXDOMAIN naming it, with 0 answers', async () => {
    for (const name of [missingName(ZONE.origin, 3), hostName(ZONE.origin, 50), 'host1.example.org.', 'example.com.']) {
      const w = dnsWorld();
      expect(await w.request(54, `QUERY ${name} A`)).toEqual({ ok: true, value: { status: 404, bodyBytes: 0 } });
      expect(w.trace()).toEqual([['net', 'NET_SEND']]);
      expect(w.sent[0].status).toBe(404);
      expect(w.sent[0].body.map(text)).toEqual([`;; QUERY ${name} A: NXDOMAIN, 0 answers\r\n`]);
    }
  });

  it('an app without a zone answers every query NXDOMAIN', async () => {
    const w = world(FILES());
    const name = hostName(ZONE.origin, 0);
    expect(await w.request(55, `QUERY ${name} A`)).toEqual({ ok: true, value: { status: 404, bodyBytes: 0 } });
    expect(w.sent[0].body.map(text)).toEqual([`;; QUERY ${name} A: NXDOMAIN, 0 answers\r\n`]);
  });

  for (const type of ['AAAA', 'MX', 'TXT', 'NS', 'ANY']) {
    it(`a ${type} query is 405 NOTIMP with 0 answers, no disk call`, async () => {
      const w = dnsWorld();
      expect(await w.request(56, `QUERY ${hostName(ZONE.origin, 1)} ${type}`)).toEqual({ ok: true, value: { status: 405, bodyBytes: 0 } });
      expect(w.trace()).toEqual([['net', 'NET_SEND']]);
      expect(w.sent[0].status).toBe(405);
      const reply = w.sent[0].body.map(text);
      expect(reply).toHaveLength(1);
      expect(reply[0]).toBe(`;; QUERY ${hostName(ZONE.origin, 1)} ${type}: NOTIMP, 0 answers\r\n`);
    });
  }

  for (const line of ['QUERY', 'QUERY host1.example.com.', 'QUERY HOST1.EXAMPLE.COM. A', 'QUERY host1.example.com. a', 'QUERY  host1.example.com. A', 'QUERY host1.example.com. A ', 'QUERY host_1.example.com. A']) {
    it(`bad syntax ${JSON.stringify(line)} is 400 FORMERR`, async () => {
      const w = dnsWorld();
      expect(await w.request(57, line)).toEqual({ ok: true, value: { status: 400, bodyBytes: 0 } });
      expect(w.trace()).toEqual([['net', 'NET_SEND']]);
      expect(w.sent[0].body.map(text)[0]).toMatch(/^;; QUERY .*: FORMERR, 0 answers\r\n$/);
    });
  }

  it('each reply is a buffer of its own: answering twice gives two buffers with equal bytes', async () => {
    const w = dnsWorld();
    const line = `QUERY ${hostName(ZONE.origin, 2)} A`;
    await w.request(58, line);
    await w.request(59, line);
    expect(w.sent[1].body[0]).not.toBe(w.sent[0].body[0]);
    expect(w.sent[1].body[0].buffer).not.toBe(w.sent[0].body[0].buffer);
    expect(w.sent[1].body[0]).toEqual(w.sent[0].body[0]);
  });

  it('counts one appRequests per query, answered or not', async () => {
    const w = dnsWorld();
    await w.request(1, `QUERY ${hostName(ZONE.origin, 1)} A`);
    await w.request(2, `QUERY ${missingName(ZONE.origin, 1)} A`);
    await w.request(3, `QUERY ${hostName(ZONE.origin, 1)} MX`);
    expect(w.counters.get('appRequests')).toBe(3);
  });
});

describe('parseRequest', () => {
  it('each verb picks its protocol', () => {
    expect(parseRequest('GET /a HTTP/1.0')).toEqual({ protocol: 'http', method: 'GET', path: '/a', version: '1.0' });
    expect(parseRequest('HEAD /a HTTP/1.1')).toEqual({ protocol: 'http', method: 'HEAD', path: '/a', version: '1.1' });
    expect(parseRequest('RETR /dir000/pub_2')).toEqual({ protocol: 'ftp', path: '/dir000/pub_2' });
    expect(parseRequest('READ /f 8192 4096')).toEqual({ protocol: 'nfs', op: 'READ', path: '/f', offset: 8192, count: 4096 });
    expect(parseRequest('WRITE /f 0 1')).toEqual({ protocol: 'nfs', op: 'WRITE', path: '/f', offset: 0, count: 1 });
    expect(parseRequest('QUERY host0.example.com. A')).toEqual({ protocol: 'dns', name: 'host0.example.com.' });
  });

  it('0 is a number; a leading zero is not', () => {
    expect(parseRequest('READ /f 0 0')).toMatchObject({ offset: 0, count: 0 });
    for (const line of ['READ /f 00 1', 'READ /f 01 1', 'READ /f 1 00', 'READ /f 1 007', 'WRITE /f 0010 4', 'READ /f 0000000000 1']) {
      expect(parseRequest(line), line).toEqual({ protocol: 'nfs', refused: 400 });
    }
  });

  it('offsets and counts below 2^32 are taken; 2^32 and beyond, or anything not a plain decimal, refused', () => {
    expect(parseRequest('READ /f 4294967295 4294967295')).toMatchObject({ offset: 4294967295, count: 4294967295 });
    expect(parseRequest('READ /f 999999999 1')).toMatchObject({ offset: 999999999, count: 1 });
    for (const line of [
      'READ /f 4294967296 1',
      'READ /f 1 4294967296',
      'WRITE /f 9999999999 1',
      'READ /f 10000000000 1', // 11 digits
      'READ /f 1 123456789012345678901234567890',
      'READ /f 1e3 1',
      'READ /f 0x10 1',
      'READ /f +1 1',
      'READ /f -1 1',
      'READ /f 1.5 1',
      'READ /f 1 Infinity',
      'READ /f 1 NaN',
      'READ /f  1',
      'READ /f 1',
      'READ /f 1 2 3',
    ]) {
      expect(parseRequest(line), line).toEqual({ protocol: 'nfs', refused: 400 });
    }
  });

  it('a lower-case or mixed-case verb is not that protocol: it falls to http and is refused 400', () => {
    for (const line of ['retr /a', 'read /a 0 1', 'write /a 0 1', 'query host0.example.com. A', 'Retr /a', 'REtr /a', 'get /a HTTP/1.0', 'Query x. A']) {
      expect(parseRequest(line), line).toEqual({ protocol: 'http', refused: 400, version: '1.0' });
    }
  });

  it('a verb that only starts like one of the four is http', () => {
    expect(parseRequest('RETRIEVE /a')).toEqual({ protocol: 'http', refused: 400, version: '1.0' });
    expect(parseRequest('READY /a 0 1')).toEqual({ protocol: 'http', refused: 400, version: '1.0' });
    expect(parseRequest('QUERYING x. A')).toEqual({ protocol: 'http', refused: 400, version: '1.0' });
    // the verb is the leading upper-case letters: READ0 is READ, and a malformed one
    expect(parseRequest('READ0 /a 0 1')).toEqual({ protocol: 'nfs', refused: 400 });
    expect(parseRequest('RETR2 /a')).toEqual({ protocol: 'ftp', refused: 400 });
    // an unknown upper-case method with a proper HTTP line is http's 405
    expect(parseRequest('WRITES /a HTTP/1.0')).toEqual({ protocol: 'http', refused: 405, version: '1.0' });
    expect(parseRequest('CONSTRUCTOR /a HTTP/1.0')).toEqual({ protocol: 'http', refused: 405, version: '1.0' });
    expect(parseRequest('TOSTRING /a HTTP/1.1')).toEqual({ protocol: 'http', refused: 405, version: '1.1' });
  });

  it('a line ending in " HTTP/d.d" is http whatever its verb, even one of the other three', () => {
    expect(parseRequest('RETR /a HTTP/1.0')).toEqual({ protocol: 'http', refused: 405, version: '1.0' });
    expect(parseRequest('READ /a HTTP/1.1')).toEqual({ protocol: 'http', refused: 405, version: '1.1' });
    expect(parseRequest('QUERY x. HTTP/1.1')).toEqual({ protocol: 'http', refused: 405, version: '1.1' });
    // a version the app does not speak is still http's, refused 400 and answered in HTTP/1.0
    expect(parseRequest('WRITE /a HTTP/2.0')).toEqual({ protocol: 'http', refused: 400, version: '1.0' });
    expect(parseRequest('READ /a 0 1 HTTP/1.0')).toEqual({ protocol: 'http', refused: 400, version: '1.0' });
  });

  it('http: the target is the file path (a query stripped, / the index), or refused 400', () => {
    expect(parseRequest('GET /?x=1 HTTP/1.1')).toEqual({ protocol: 'http', method: 'GET', path: '/index.html', version: '1.1' });
    expect(parseRequest('GET /dir%20x HTTP/1.0')).toEqual({ protocol: 'http', method: 'GET', path: '/dir x', version: '1.0' });
    expect(parseRequest('GET /../etc/passwd HTTP/1.1')).toEqual({ protocol: 'http', refused: 400, version: '1.1' });
    expect(parseRequest('HEAD /a%2fb HTTP/1.0')).toEqual({ protocol: 'http', refused: 400, version: '1.0' });
  });

  it('extra, missing or odd whitespace is refused, in the protocol of the verb', () => {
    const refused: [string, string][] = [
      ['RETR  /a', 'ftp'],
      ['RETR /a ', 'ftp'],
      ['RETR\t/a', 'ftp'],
      ['RETR /a\r\n', 'ftp'],
      ['RETR /a\n', 'ftp'],
      ['RETR /a\u00a0b', 'ftp'],
      ['READ  /a 0 1', 'nfs'],
      ['READ /a  0 1', 'nfs'],
      ['READ /a 0  1', 'nfs'],
      ['READ /a 0 1 ', 'nfs'],
      ['READ /a 0 1\r\n', 'nfs'],
      ['WRITE\t/a 0 1', 'nfs'],
      ['QUERY  x.example. A', 'dns'],
      ['QUERY x.example.  A', 'dns'],
      ['QUERY x.example. A\r\n', 'dns'],
      [' RETR /a', 'http'],
      [' QUERY x. A', 'http'],
      ['', 'http'],
    ];
    for (const [line, protocol] of refused) {
      // http's refusals carry the version to answer in: HTTP/1.0 for a line that names none
      const want = protocol === 'http' ? { protocol, refused: 400, version: '1.0' } : { protocol, refused: 400 };
      expect(parseRequest(line), JSON.stringify(line)).toEqual(want);
    }
  });

  it('paths must be absolute; anything not whitespace may follow the slash', () => {
    expect(parseRequest('RETR /')).toEqual({ protocol: 'ftp', path: '/' });
    expect(parseRequest('RETR /café/naïve')).toEqual({ protocol: 'ftp', path: '/café/naïve' });
    expect(parseRequest('READ /a?b=c 1 2')).toMatchObject({ path: '/a?b=c' });
    expect(parseRequest('RETR a')).toEqual({ protocol: 'ftp', refused: 400 });
    expect(parseRequest('READ a 0 1')).toEqual({ protocol: 'nfs', refused: 400 });
    expect(parseRequest('WRITE 0 1')).toEqual({ protocol: 'nfs', refused: 400 });
  });

  it('dns: names of 1 to 253 lower-case characters; any other upper-case type is 405, not 400', () => {
    const long = `${'a'.repeat(63)}.`.repeat(4).slice(0, 253);
    expect(long).toHaveLength(253);
    expect(parseRequest(`QUERY ${long} A`)).toEqual({ protocol: 'dns', name: long });
    expect(parseRequest(`QUERY ${long}b A`)).toEqual({ protocol: 'dns', refused: 400 });
    expect(parseRequest('QUERY a A')).toEqual({ protocol: 'dns', name: 'a' });
    expect(parseRequest('QUERY host0.example.com. AAAA')).toEqual({ protocol: 'dns', refused: 405, what: 'host0.example.com. AAAA' });
    expect(parseRequest('QUERY host0.example.com. ABCDEFGHIJ')).toEqual({ protocol: 'dns', refused: 405, what: 'host0.example.com. ABCDEFGHIJ' });
    expect(parseRequest('QUERY host0.example.com. ABCDEFGHIJK')).toEqual({ protocol: 'dns', refused: 400 });
    expect(parseRequest('QUERY host0.example.com. a')).toEqual({ protocol: 'dns', refused: 400 });
    expect(parseRequest('QUERY Host0.example.com. A')).toEqual({ protocol: 'dns', refused: 400 });
    expect(parseRequest('QUERY host0.example.com.')).toEqual({ protocol: 'dns', refused: 400 });
  });

  it('anything that is not a string is refused 400 as http', () => {
    for (const line of [undefined, null, 42, {}, ['RETR /a'], new TextEncoder().encode('RETR /a')]) {
      expect(parseRequest(line)).toEqual({ protocol: 'http', refused: 400, version: '1.0' });
    }
  });
});

describe('Zone', () => {
  const SPEC = { origin: 'example.com.', names: 300 };
  const answers = (z: Zone, n: number) => Array.from({ length: n }, (_, k) => z.lookup(hostName(SPEC.origin, k)));

  it('holds exactly host0 ... host<N-1> under its origin', () => {
    const z = new Zone(SPEC, 1);
    expect(z.size).toBe(300);
    for (let k = 0; k < 300; k++) expect(z.lookup(hostName(SPEC.origin, k)), `host${k}`).not.toBeNull();
    expect(z.lookup(hostName(SPEC.origin, 300))).toBeNull();
    expect(z.lookup(hostName('example.org.', 0))).toBeNull();
    expect(z.lookup('host0.example.com')).toBeNull(); // not fully qualified
    expect(z.lookup('')).toBeNull();
  });

  it('the same seed gives the same answers', () => {
    expect(answers(new Zone(SPEC, 'abc'), 300)).toEqual(answers(new Zone(SPEC, 'abc'), 300));
    expect(answers(new Zone(SPEC, 99), 300)).toEqual(answers(new Zone(SPEC, 99), 300));
  });

  it('another seed gives other answers', () => {
    const one = answers(new Zone(SPEC, 'abc'), 300);
    const two = answers(new Zone(SPEC, 'abd'), 300);
    const differ = one.filter((a, k) => a!.answer !== two[k]!.answer).length;
    expect(differ).toBeGreaterThan(250);
  });

  it('every name has 1 to 4 well-formed A records in 10.0.0.0/8, and each count occurs', () => {
    for (const seed of [1, 'lab', 1035]) {
      const z = new Zone(SPEC, seed);
      const counts = new Set<number>();
      for (let k = 0; k < SPEC.names; k++) {
        const name = hostName(SPEC.origin, k);
        const { answer, records } = z.lookup(name)!;
        expect(records).toBeGreaterThanOrEqual(1);
        expect(records).toBeLessThanOrEqual(4);
        counts.add(records);
        const lines = answer.split('\r\n');
        expect(lines.pop()).toBe('');
        expect(lines).toHaveLength(records);
        for (const line of lines) {
          const f = line.split('\t');
          expect(f.slice(0, 4)).toEqual([name, String(TTL_SECONDS), 'IN', 'A']);
          const octets = f[4].split('.').map(Number);
          expect(octets).toHaveLength(4);
          expect(octets[0]).toBe(10);
          for (const o of octets) expect(Number.isInteger(o) && o >= 0 && o <= 255).toBe(true);
        }
      }
      expect([...counts].sort()).toEqual([1, 2, 3, 4]);
    }
  });

  it('a missing name is never in the zone', () => {
    for (const origin of ['example.com.', 'dept.example.edu.', 'a.']) {
      const z = new Zone({ origin, names: 1000 }, 5);
      for (let k = 0; k < 2000; k++) {
        const name = missingName(origin, k);
        expect(name.endsWith(`.${origin}`)).toBe(true);
        expect(z.lookup(name), name).toBeNull();
      }
    }
  });

  it('an empty zone holds nothing', () => {
    const z = new Zone({ origin: 'example.com.', names: 0 }, 1);
    expect(z.size).toBe(0);
    expect(z.lookup(hostName('example.com.', 0))).toBeNull();
  });
});

describe('app over the real disk server', () => {
  /** The app, with `call` routed to a real disk server on a fresh image and to a recording net. */
  function machine() {
    const image = mkfs(
      [
        { path: '/home/f', size: 3 * BLOCK_SIZE },
        { path: '/pub/g', size: 5000 },
      ],
      'app-disk',
    );
    const diskSrv = bootServer(disk, { image, cacheBlocks: 16 }, serverContext('disk', new Counters(), (() => {
      throw new Error('the disk calls no one');
    }) as never));
    const sent: Sent[] = [];
    const diskCalls: string[] = [];
    const call = async (to: string, msg: any): Promise<Reply<unknown>> => {
      if (to === 'disk') {
        diskCalls.push(msg.type);
        return diskSrv.dispatch(msg);
      }
      sent.push({ reqId: msg.reqId, status: msg.status, body: msg.body });
      return ok({ frames: 1, wireBytes: 0 });
    };
    const ctx = serverContext('app', new Counters(), call);
    const srv = bootServer(app, {}, ctx);
    const request = (reqId: number, line: string, body?: Uint8Array[]) =>
      serveRequest(srv.state, { reqId, request: line, ...(body ? { body } : {}) }, ctx) as Promise<Reply<any>>;
    const start = mount(image).inodes[0].startBlock * BLOCK_SIZE;
    return { image, sent, diskCalls, request, start };
  }

  it('a WRITE is on the image when it is acknowledged, and a READ then sees it', async () => {
    const m = machine();
    const data = bytes(300, 77);
    expect(await m.request(1, 'WRITE /home/f 4000 300', [data.subarray(0, 100), data.subarray(100)])).toEqual({
      ok: true,
      value: { status: 200, bodyBytes: 0 },
    });
    expect(new Uint8Array(m.image, m.start + 4000, 300)).toEqual(data);
    expect(await m.request(2, 'READ /home/f 4000 300')).toEqual({ ok: true, value: { status: 200, bodyBytes: 300 } });
    expect(text(m.sent[1].body[0])).toBe('NFS3_OK READ 300 MORE\r\n');
    expect(concat(m.sent[1].body.slice(1))).toEqual(data);
    expect(m.diskCalls).toEqual(['DISK_LOOKUP', 'DISK_WRITE', 'DISK_LOOKUP', 'DISK_READ']);
  });

  it("a WRITE past the end of the file: the disk's EFBIG becomes 413 NFS3ERR_FBIG, the image untouched", async () => {
    const m = machine();
    const before = new Uint8Array(m.image).slice();
    expect(await m.request(3, 'WRITE /pub/g 4999 2', [bytes(2)])).toEqual({ ok: true, value: { status: 413, bodyBytes: 0 } });
    expect(m.sent[0].body.map(text)).toEqual(['NFS3ERR_FBIG\r\n']);
    expect(new Uint8Array(m.image)).toEqual(before);
    // one byte less fits
    expect(await m.request(4, 'WRITE /pub/g 4999 1', [bytes(1)])).toMatchObject({ ok: true, value: { status: 200 } });
  });

  it('RETR of the file sends its image bytes between 150 and 226', async () => {
    const m = machine();
    await m.request(5, 'RETR /pub/g');
    const body = m.sent[0].body;
    expect(text(body[0])).toBe('150 Opening BINARY mode data connection for /pub/g (5000 bytes)\r\n');
    expect(text(body[body.length - 1])).toBe('226 Transfer complete\r\n');
    const g = mount(m.image).inodes[1];
    expect(concat(body.slice(1, -1))).toEqual(new Uint8Array(m.image, g.startBlock * BLOCK_SIZE, 5000));
  });
});
