/**
 * What the first requests of specweb96 ask for, computed from the request
 * stream and the file set (never from a counter), for the end-to-end tests'
 * hand-computed expectations; and the bytes a file of the set holds.
 */
import { blocksFor, fillSeeded } from '../../src/servers/fs.js';
import { fileSet, RequestStream } from '../../src/workload/generate.js';
import { loadWorkload } from '../../src/workload/load.js';

/**
 * For the first `requests` requests of specweb96 with `seed`: the file bytes
 * served, the bytes of the HTTP headers the app puts in front of them, the
 * cache blocks the reads cover (files start on a block boundary), and the
 * largest file in blocks.
 */
export function served(seed: number | string, requests: number) {
  const w = { ...loadWorkload('specweb96'), seed };
  const sizes = new Map(fileSet(w).map((f) => [f.path, f.size]));
  const stream = new RequestStream(w);
  let fileBytes = 0;
  let headerBytes = 0;
  let blocks = 0;
  let maxBlocks = 0;
  for (let i = 0; i < requests; i++) {
    const path = /^GET (\S+) HTTP\/1\.0$/.exec(stream.next().line)?.[1];
    const size = path === undefined ? undefined : sizes.get(path);
    if (size === undefined) throw new Error(`request ${i} names no file of the file set`);
    // the file set's names have no extension, so every head carries application/octet-stream
    if (/\.[^/]*$/.test(path!)) throw new Error(`request ${i}: ${path} has an extension; its Content-Type is not counted here`);
    fileBytes += size;
    // the head httpHead composes: status line in the request's version, Content-Type,
    // Content-Length, blank line; ASCII, one byte per char
    headerBytes += `HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${size}\r\n\r\n`.length;
    blocks += blocksFor(size);
    maxBlocks = Math.max(maxBlocks, blocksFor(size));
  }
  return { fileBytes, headerBytes, blocks, maxBlocks };
}

/** Bytes of file content the first `requests` requests ask for. */
export function fileBytesRequested(seed: number | string, requests: number): number {
  return served(seed, requests).fileBytes;
}

const fileBytesCache = new Map<string, Buffer>();

/** The bytes specweb96's disk image holds for `path` (mkfs fills each file as fillSeeded does, from `${seed}:${path}`). */
export function fileContents(path: string): Buffer {
  let b = fileBytesCache.get(path);
  if (!b) {
    const w = loadWorkload('specweb96');
    const size = fileSet(w).find((f) => f.path === path)?.size;
    if (size === undefined) throw new Error(`${path} is not in the file set`);
    const bytes = new Uint8Array(size);
    fillSeeded(bytes, `${w.seed}:${path}`);
    b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    fileBytesCache.set(path, b);
  }
  return b;
}

/** The responses in raw bytes read off one connection: status, headers and body each (HEAD's without a body). */
export function parseResponses(raw: Buffer, heads: boolean[] = []): { status: number; headers: Record<string, string>; body: Buffer }[] {
  const out: { status: number; headers: Record<string, string>; body: Buffer }[] = [];
  let at = 0;
  while (at < raw.length) {
    const end = raw.indexOf('\r\n\r\n', at);
    if (end < 0) throw new Error(`an incomplete head at byte ${at}`);
    const lines = raw.subarray(at, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0]);
    if (!m) throw new Error(`not a status line at byte ${at}: ${JSON.stringify(lines[0])}`);
    const headers = Object.fromEntries(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const length = heads[out.length] ? 0 : Number(headers['content-length']);
    if (!Number.isInteger(length)) throw new Error(`no Content-Length in response ${out.length}`);
    const body = raw.subarray(end + 4, end + 4 + length);
    if (body.length !== length) throw new Error(`response ${out.length}: ${body.length} of ${length} body bytes`);
    out.push({ status: Number(m[1]), headers, body });
    at = end + 4 + length;
  }
  return out;
}
